//! Reading SMTP replies from a server (RFC 5321 §4.2): `250-first\r\n250 last\r\n`.

use std::fmt;

/// Longest reply line accepted; a server sending more is broken.
const MAX_LINE: usize = 4096;
/// Most lines in one reply (an EHLO reply has a few dozen at most).
const MAX_LINES: usize = 256;

/// One reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The text of each line, without code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, text: &str) -> Self {
        Reply { code, lines: vec![text.to_owned()] }
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The reply on one line, as hMailServer's bounces and logs show it: `550 No such user`.
    pub fn one_line(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" ").trim())
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.one_line())
    }
}

/// Why bytes from the server are not a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("malformed reply line: {0:?}")]
    Malformed(String),
    #[error("reply line too long")]
    TooLong,
    #[error("too many reply lines")]
    TooManyLines,
}

/// Accumulates bytes and yields complete replies.
#[derive(Debug, Default)]
pub struct ReplyReader {
    buf: Vec<u8>,
    lines: Vec<String>,
    code: Option<u16>,
}

impl ReplyReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete reply, if the buffer holds one.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyError> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                return if self.buf.len() > MAX_LINE { Err(ReplyError::TooLong) } else { Ok(None) };
            };
            let raw: Vec<u8> = self.buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.len() > MAX_LINE {
                return Err(ReplyError::TooLong);
            }
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| ReplyError::Malformed(line.to_owned()))?;
            if self.code.is_some_and(|c| c != code) {
                return Err(ReplyError::Malformed(line.to_owned()));
            }
            self.code = Some(code);
            let (last, text) = match line.as_bytes().get(3) {
                None => (true, ""),
                Some(b' ') => (true, &line[4..]),
                Some(b'-') => (false, &line[4..]),
                Some(_) => return Err(ReplyError::Malformed(line.to_owned())),
            };
            self.lines.push(text.to_owned());
            if self.lines.len() > MAX_LINES {
                return Err(ReplyError::TooManyLines);
            }
            if last {
                self.code = None;
                return Ok(Some(Reply { code, lines: std::mem::take(&mut self.lines) }));
            }
        }
    }

    /// Bytes received after the last complete reply (must be none before STARTTLS).
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty() || !self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_replies_split_across_reads() {
        let mut r = ReplyReader::new();
        r.feed(b"250-mx.example\r\n250-SIZE 100\r");
        assert_eq!(r.next_reply().unwrap(), None);
        r.feed(b"\n250 CHUNKING\r\n220 go");
        let reply = r.next_reply().unwrap().unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.lines, ["mx.example", "SIZE 100", "CHUNKING"]);
        assert_eq!(r.next_reply().unwrap(), None);
        r.feed(b"\n");
        assert_eq!(r.next_reply().unwrap().unwrap().one_line(), "220 go");
        r.feed(b"354\r\n");
        assert_eq!(r.next_reply().unwrap().unwrap().code, 354);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut r = ReplyReader::new();
        r.feed(b"hello\r\n");
        assert!(matches!(r.next_reply(), Err(ReplyError::Malformed(_))));
        let mut r = ReplyReader::new();
        r.feed(b"250-a\r\n251 b\r\n");
        assert!(r.next_reply().is_err());
        let mut r = ReplyReader::new();
        r.feed(&vec![b'2'; MAX_LINE + 2]);
        assert_eq!(r.next_reply(), Err(ReplyError::TooLong));
    }

    /// Every reply decoded from `chunks` fed in turn, and whether an error ended it.
    fn decode(chunks: &[&[u8]]) -> (Vec<Reply>, bool) {
        let mut reader = ReplyReader::new();
        let mut replies = Vec::new();
        for chunk in chunks {
            reader.feed(chunk);
            loop {
                match reader.next_reply() {
                    Ok(Some(r)) => replies.push(r),
                    Ok(None) => break,
                    Err(_) => return (replies, true),
                }
            }
        }
        (replies, false)
    }

    proptest::proptest! {
        /// Any server output, cut anywhere: no panic, the cut makes no difference, limits hold,
        /// and a decoded reply rendered back decodes to itself. (Stable stand-in for the `reply`
        /// fuzz target.)
        #[test]
        fn arbitrary_replies_never_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            text in "((250|220|354|421|550|199|25)[- ]?[A-Za-z0-9 .\u{e4}]{0,12}(\r\n|\n|\r)?){0,12}",
            cut in 0usize..600,
        ) {
            for data in [raw.as_slice(), text.as_bytes()] {
                let (whole, failed) = decode(&[data]);
                let cut = cut.min(data.len());
                let (split, split_failed) = decode(&[&data[..cut], &data[cut..]]);
                if !failed && !split_failed {
                    proptest::prop_assert_eq!(&whole, &split);
                }
                for reply in &whole {
                    proptest::prop_assert!((200..600).contains(&reply.code));
                    proptest::prop_assert!(!reply.lines.is_empty() && reply.lines.len() <= MAX_LINES);
                    let mut wire = Vec::new();
                    for (i, line) in reply.lines.iter().enumerate() {
                        let sep = if i + 1 == reply.lines.len() { ' ' } else { '-' };
                        wire.extend_from_slice(format!("{}{sep}{line}\r\n", reply.code).as_bytes());
                    }
                    proptest::prop_assert_eq!(decode(&[&wire]), (vec![reply.clone()], false));
                }
            }
        }
    }
}
