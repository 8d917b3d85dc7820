//! clamd's side of `INSTREAM`, without I/O: the chunk framing we send and the one reply line
//! it answers with.
//!
//! A scan is `zINSTREAM\0` (or `nINSTREAM\n`), then chunks of `<u32 big-endian length><bytes>`,
//! then a zero length. clamd answers one line ending in `\0` (z) or `\n` (n):
//! `stream: OK`, `stream: <name> FOUND`, `INSTREAM size limit exceeded. ERROR` or
//! `<text> ERROR`.

/// The longest reply line we keep; clamd's are far shorter, anything longer is malformed.
pub const MAX_REPLY: usize = 4096;

/// How a command and its reply are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `zINSTREAM\0`, replies end in NUL (clamd's recommended form).
    Nul,
    /// `nINSTREAM\n`, replies end in a line feed (what hMailServer sends).
    Newline,
}

impl Framing {
    /// The command that starts a scan.
    pub fn command(self) -> &'static [u8] {
        match self {
            Framing::Nul => b"zINSTREAM\0",
            Framing::Newline => b"nINSTREAM\n",
        }
    }

    fn terminator(self) -> u8 {
        match self {
            Framing::Nul => 0,
            Framing::Newline => b'\n',
        }
    }
}

/// The 4-byte header of one chunk of `len` bytes (0 ends the stream).
pub fn chunk_header(len: u32) -> [u8; 4] {
    len.to_be_bytes()
}

/// What clamd said about the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Clean,
    /// A signature matched; its name as clamd reports it (`Eicar-Signature`).
    Found(String),
    /// The stream exceeded clamd's `StreamMaxLength`.
    SizeLimit,
    /// Any other error clamd reported, with its text.
    Error(String),
}

/// A reply that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("clamd reply longer than {MAX_REPLY} bytes")]
    TooLong,
    #[error("unexpected clamd reply {0:?}")]
    Unexpected(String),
}

/// Collects reply bytes until the terminator, then parses the line. Bytes after the
/// terminator are ignored (clamd closes the connection after an `INSTREAM` reply).
#[derive(Debug)]
pub struct ReplyReader {
    framing: Framing,
    line: Vec<u8>,
}

impl ReplyReader {
    pub fn new(framing: Framing) -> ReplyReader {
        ReplyReader { framing, line: Vec::new() }
    }

    /// Feeds received bytes. `Ok(None)`: more bytes are needed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Reply>, ReplyError> {
        let end = bytes.iter().position(|&b| b == self.framing.terminator());
        let take = end.unwrap_or(bytes.len());
        if self.line.len() + take > MAX_REPLY {
            return Err(ReplyError::TooLong);
        }
        self.line.extend_from_slice(&bytes[..take]);
        match end {
            Some(_) => parse(&self.line).map(Some),
            None => Ok(None),
        }
    }

    /// The connection closed: a reply without its terminator is still taken if it is whole.
    pub fn finish(&self) -> Result<Reply, ReplyError> {
        if self.line.is_empty() {
            return Err(ReplyError::Unexpected(String::new()));
        }
        parse(&self.line)
    }
}

/// Parses one reply line (without its terminator).
pub fn parse(line: &[u8]) -> Result<Reply, ReplyError> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n', '\0']).trim();
    if text.contains("size limit exceeded") {
        return Ok(Reply::SizeLimit);
    }
    if let Some(rest) = text.strip_suffix(" ERROR").or_else(|| text.strip_suffix(" ERROR.")) {
        return Ok(Reply::Error(rest.trim().to_owned()));
    }
    // `stream: OK`; a session id may precede it (`1: stream: OK`), and the stream may be
    // named differently (`instream(127.0.0.1@4242): OK`): the verdict follows the first `: `
    // after those.
    let rest = match text.split_once(": ") {
        Some((id, rest)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => text,
    };
    let Some((_, verdict)) = rest.split_once(": ").or_else(|| rest.split_once(':')) else {
        return Err(ReplyError::Unexpected(text.to_owned()));
    };
    let verdict = verdict.trim();
    if verdict == "OK" {
        return Ok(Reply::Clean);
    }
    if let Some(name) = verdict.strip_suffix("FOUND") {
        let name = name.trim();
        return Ok(Reply::Found(if name.is_empty() { "Unknown".to_owned() } else { name.to_owned() }));
    }
    Err(ReplyError::Unexpected(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse() {
        assert_eq!(parse(b"stream: OK"), Ok(Reply::Clean));
        assert_eq!(parse(b"stream: Eicar-Signature FOUND"), Ok(Reply::Found("Eicar-Signature".into())));
        assert_eq!(parse(b"stream: Win.Test.EICAR_HDB-1 FOUND\n"), Ok(Reply::Found("Win.Test.EICAR_HDB-1".into())));
        assert_eq!(parse(b"1: stream: OK"), Ok(Reply::Clean));
        assert_eq!(parse(b"INSTREAM size limit exceeded. ERROR"), Ok(Reply::SizeLimit));
        assert_eq!(parse(b"Can't allocate memory ERROR"), Ok(Reply::Error("Can't allocate memory".into())));
        assert!(matches!(parse(b"PONG"), Err(ReplyError::Unexpected(_))));
        assert!(matches!(parse(b""), Err(ReplyError::Unexpected(_))));
        assert_eq!(parse(b"stream: FOUND"), Ok(Reply::Found("Unknown".into())));
        assert_eq!(parse(b"stream: Foo: Bar FOUND"), Ok(Reply::Found("Foo: Bar".into())));
    }

    #[test]
    fn reader_waits_for_the_terminator_in_any_split() {
        let reply = b"stream: Eicar-Signature FOUND\0";
        for cut in 0..reply.len() {
            let mut r = ReplyReader::new(Framing::Nul);
            let first = r.feed(&reply[..cut]).unwrap();
            assert_eq!(first, None, "cut {cut}");
            assert_eq!(r.feed(&reply[cut..]).unwrap(), Some(Reply::Found("Eicar-Signature".into())));
        }
        let mut r = ReplyReader::new(Framing::Newline);
        assert_eq!(r.feed(b"stream: OK\nextra").unwrap(), Some(Reply::Clean));
    }

    #[test]
    fn reader_bounds_memory() {
        let mut r = ReplyReader::new(Framing::Nul);
        assert_eq!(r.feed(&[b'x'; MAX_REPLY]).unwrap(), None);
        assert_eq!(r.feed(b"y"), Err(ReplyError::TooLong));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for a fuzzer: every short byte string parses or fails cleanly.
        let alphabet = [b's', b':', b' ', b'O', b'K', 0xff, 0, b'\n', 0xc3];
        let mut input = Vec::new();
        for n in 0u32..20_000 {
            input.clear();
            let mut k = n;
            while k > 0 {
                input.push(alphabet[(k % alphabet.len() as u32) as usize]);
                k /= alphabet.len() as u32;
            }
            let _ = parse(&input);
            let mut r = ReplyReader::new(Framing::Newline);
            let _ = r.feed(&input);
            let _ = r.finish();
        }
    }

    #[test]
    fn chunks_are_big_endian() {
        assert_eq!(chunk_header(0x0102_0304), [1, 2, 3, 4]);
        assert_eq!(chunk_header(0), [0, 0, 0, 0]);
    }
}
