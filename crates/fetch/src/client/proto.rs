//! The POP3 client's wire protocol without I/O: commands as bytes (and as log text, with the
//! password hidden), status lines, multi-line bodies (dot-unstuffed) and UIDL/CAPA listings.

use base64::Engine;

/// Longest status line accepted (RFC 2449 allows 512 octets; servers send more in practice).
pub const MAX_LINE: usize = 64 * 1024;

/// A command the client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(String),
    /// `AUTH PLAIN <initial response>` (RFC 5034) for user and password.
    AuthPlain {
        user: String,
        password: String,
    },
    Uidl,
    Retr(u32),
    Dele(u32),
    Quit,
}

impl Command {
    /// The command line, CRLF included.
    pub fn encode(&self) -> Vec<u8> {
        let line = match self {
            Command::Capa => "CAPA".to_owned(),
            Command::Stls => "STLS".to_owned(),
            Command::User(u) => format!("USER {u}"),
            Command::Pass(p) => format!("PASS {p}"),
            Command::AuthPlain { user, password } => {
                let raw = format!("\0{user}\0{password}");
                format!("AUTH PLAIN {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            Command::Uidl => "UIDL".to_owned(),
            Command::Retr(n) => format!("RETR {n}"),
            Command::Dele(n) => format!("DELE {n}"),
            Command::Quit => "QUIT".to_owned(),
        };
        let mut bytes = line.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    }

    /// The line as written to the log: secrets become `***` (hMailServer hides POP3 PASS).
    pub fn log_text(&self) -> String {
        match self {
            Command::Pass(_) => "PASS ***".to_owned(),
            Command::AuthPlain { .. } => "AUTH PLAIN ***".to_owned(),
            other => String::from_utf8_lossy(&other.encode()).trim_end().to_owned(),
        }
    }

    /// Whether the reply to this command is followed by a multi-line body when positive.
    pub fn is_multiline(&self) -> bool {
        matches!(self, Command::Capa | Command::Uidl | Command::Retr(_))
    }
}

/// A server's status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// `+OK text`
    Ok(String),
    /// `-ERR text`
    Err(String),
}

impl Status {
    /// Parses one line (without its line end). Anything but `+OK`/`-ERR` is a protocol error.
    pub fn parse(line: &[u8]) -> Result<Status, ProtoError> {
        let text = String::from_utf8_lossy(line);
        let (word, rest) = match text.split_once(' ') {
            Some((w, r)) => (w, r.to_owned()),
            None => (text.as_ref(), String::new()),
        };
        if word.eq_ignore_ascii_case("+OK") {
            Ok(Status::Ok(rest))
        } else if word.eq_ignore_ascii_case("-ERR") {
            Ok(Status::Err(rest))
        } else {
            Err(ProtoError::BadStatus(text.chars().take(200).collect()))
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok(_))
    }

    /// The whole line for the log.
    pub fn log_text(&self) -> String {
        match self {
            Status::Ok(t) if t.is_empty() => "+OK".to_owned(),
            Status::Ok(t) => format!("+OK {t}"),
            Status::Err(t) if t.is_empty() => "-ERR".to_owned(),
            Status::Err(t) => format!("-ERR {t}"),
        }
    }
}

/// What the server sent that the client cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the server sent an invalid status line: {0:?}")]
    BadStatus(String),
    #[error("the server sent a line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("the server sent a body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("the server sent an invalid UIDL line: {0:?}")]
    BadUidl(String),
}

/// Splits a POP3 byte stream into status lines and multi-line bodies.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Where the next unread byte is in `buf`.
    pos: usize,
    /// The body being collected.
    body: Vec<u8>,
    max_body: usize,
}

impl Decoder {
    /// A decoder accepting bodies of up to `max_body` bytes.
    pub fn new(max_body: usize) -> Decoder {
        Decoder { buf: Vec::new(), pos: 0, body: Vec::new(), max_body }
    }

    /// Adds bytes received from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// True when received bytes are waiting to be decoded (a server talking out of turn).
    pub fn has_pending(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// The next complete line without its line end, or `None` until more bytes arrive.
    fn line(&mut self, limit: usize) -> Result<Option<std::ops::Range<usize>>, ProtoError> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let start = self.pos;
                self.pos += i + 1;
                let mut end = start + i;
                if end > start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                Ok(Some(start..end))
            }
            None if rest.len() > limit => Err(ProtoError::LineTooLong),
            None => Ok(None),
        }
    }

    /// The next status line, or `None` until it is complete.
    pub fn status(&mut self) -> Result<Option<Status>, ProtoError> {
        match self.line(MAX_LINE)? {
            Some(range) => Status::parse(&self.buf[range]).map(Some),
            None => Ok(None),
        }
    }

    /// The multi-line body after a positive status, dot-unstuffed with CRLF line ends and
    /// without the terminating `.` line; `None` until the terminator has arrived.
    pub fn body(&mut self) -> Result<Option<Vec<u8>>, ProtoError> {
        loop {
            let Some(range) = self.line(self.max_body.max(MAX_LINE))? else {
                return Ok(None);
            };
            let line = &self.buf[range];
            if line == b"." {
                return Ok(Some(std::mem::take(&mut self.body)));
            }
            let line = line.strip_prefix(b".").unwrap_or(line);
            if self.body.len() + line.len() + 2 > self.max_body {
                return Err(ProtoError::BodyTooLarge(self.max_body));
            }
            self.body.extend_from_slice(line);
            self.body.extend_from_slice(b"\r\n");
        }
    }
}

/// One line of a UIDL listing: message number and unique id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidlEntry {
    pub number: u32,
    pub uid: String,
}

/// Parses a UIDL body (`<n> <uid>` lines).
pub fn parse_uidl(body: &[u8]) -> Result<Vec<UidlEntry>, ProtoError> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split_whitespace();
        let number = parts.next().and_then(|n| n.parse::<u32>().ok());
        let uid = parts.next();
        match (number, uid) {
            (Some(number), Some(uid)) if number > 0 && uid.len() <= 255 => {
                out.push(UidlEntry { number, uid: uid.to_owned() })
            }
            _ => return Err(ProtoError::BadUidl(line.chars().take(200).collect())),
        }
    }
    Ok(out)
}

/// The capability names of a CAPA body, upper-cased, with their arguments.
pub fn parse_capa(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body).lines().map(|l| l.trim().to_ascii_uppercase()).filter(|l| !l.is_empty()).collect()
}

/// Whether a CAPA listing offers `name` (e.g. `STLS`), or `SASL` with `mechanism`.
pub fn capa_has(capa: &[String], name: &str) -> bool {
    capa.iter().any(|c| c.split_whitespace().next() == Some(name))
}

/// Whether CAPA lists `SASL` with the `PLAIN` mechanism.
pub fn capa_sasl_plain(capa: &[String]) -> bool {
    capa.iter().any(|c| {
        let mut words = c.split_whitespace();
        words.next() == Some("SASL") && words.any(|m| m == "PLAIN")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(Status::parse(b"+OK hello").unwrap(), Status::Ok("hello".into()));
        assert_eq!(Status::parse(b"+OK").unwrap(), Status::Ok(String::new()));
        assert_eq!(Status::parse(b"-ERR [AUTH] no").unwrap(), Status::Err("[AUTH] no".into()));
        assert!(Status::parse(b"* OK imap").is_err());
    }

    #[test]
    fn bodies_in_pieces_are_unstuffed() {
        let mut d = Decoder::new(1000);
        d.feed(b"+OK 2 octets\r\nSubject: x\r\n\r\n..dot");
        assert_eq!(d.status().unwrap(), Some(Status::Ok("2 octets".into())));
        assert_eq!(d.body().unwrap(), None);
        d.feed(b"\nlast\r\n.");
        assert_eq!(d.body().unwrap(), None);
        d.feed(b"\r\n+OK bye\r\n");
        assert_eq!(d.body().unwrap().unwrap(), b"Subject: x\r\n\r\n.dot\r\nlast\r\n");
        assert_eq!(d.status().unwrap(), Some(Status::Ok("bye".into())));
        assert!(!d.has_pending());
    }

    #[test]
    fn any_split_of_the_stream_decodes_the_same() {
        let wire: &[u8] = b"+OK\r\n1 a\r\n2 b\r\n.\r\n+OK 9 octets\r\n..x\r\n\r\nbody\n.\r\n-ERR no\r\n";
        for cut in 0..=wire.len() {
            let mut d = Decoder::new(1000);
            d.feed(&wire[..cut]);
            let mut got = Vec::new();
            let mut fed_rest = false;
            let mut step = 0;
            while got.len() < 5 {
                let item = match step {
                    0 | 2 | 4 => d.status().unwrap().map(|s| s.log_text().into_bytes()),
                    _ => d.body().unwrap(),
                };
                match item {
                    Some(v) => {
                        got.push(v);
                        step += 1;
                    }
                    None if !fed_rest => {
                        d.feed(&wire[cut..]);
                        fed_rest = true;
                    }
                    None => panic!("stuck at step {step} with cut {cut}"),
                }
            }
            assert_eq!(got[1], b"1 a\r\n2 b\r\n", "cut {cut}");
            assert_eq!(got[3], b".x\r\n\r\nbody\r\n", "cut {cut}");
            assert_eq!(got[4], b"-ERR no", "cut {cut}");
        }
    }

    #[test]
    fn limits_are_errors() {
        let mut d = Decoder::new(10);
        d.feed(b"0123456789abcdef\r\n.\r\n");
        assert_eq!(d.body(), Err(ProtoError::BodyTooLarge(10)));
        let mut d = Decoder::new(10);
        d.feed(&vec![b'+'; MAX_LINE + 1]);
        assert_eq!(d.status(), Err(ProtoError::LineTooLong));
    }

    #[test]
    fn uidl_and_capa() {
        let u = parse_uidl(b"1 abc\r\n2 def\r\n").unwrap();
        assert_eq!(u, vec![UidlEntry { number: 1, uid: "abc".into() }, UidlEntry { number: 2, uid: "def".into() }]);
        assert!(parse_uidl(b"x abc\r\n").is_err());
        assert!(parse_uidl(b"1\r\n").is_err());
        let c = parse_capa(b"TOP\r\nstls\r\nSASL PLAIN LOGIN\r\n");
        assert!(capa_has(&c, "STLS"));
        assert!(!capa_has(&c, "UIDL"));
        assert!(capa_sasl_plain(&c));
    }

    #[test]
    fn commands_hide_secrets_in_logs() {
        assert_eq!(Command::Pass("pw".into()).encode(), b"PASS pw\r\n");
        assert_eq!(Command::Pass("pw".into()).log_text(), "PASS ***");
        let auth = Command::AuthPlain { user: "u".into(), password: "p".into() };
        assert_eq!(auth.encode(), b"AUTH PLAIN AHUAcA==\r\n");
        assert_eq!(auth.log_text(), "AUTH PLAIN ***");
        assert_eq!(Command::Retr(3).log_text(), "RETR 3");
    }

    /// What a session would decode from `chunks` (a status, then a body after each +OK), and
    /// whether an error ended it.
    fn session_items(chunks: &[&[u8]], max_body: usize) -> (Vec<Result<Status, Vec<u8>>>, bool) {
        let mut d = Decoder::new(max_body);
        let (mut items, mut want_body) = (Vec::new(), false);
        for chunk in chunks {
            d.feed(chunk);
            loop {
                let next = if want_body { d.body().map(|b| b.map(Err)) } else { d.status().map(|s| s.map(Ok)) };
                match next {
                    Ok(Some(item)) => {
                        want_body = matches!(&item, Ok(s) if s.is_ok());
                        items.push(item);
                    }
                    Ok(None) => break,
                    Err(_) => return (items, true),
                }
            }
        }
        (items, false)
    }

    proptest::proptest! {
        /// Any server output, cut anywhere: no panic, the cut makes no difference, bodies stay
        /// within their limit, and listings parse without panicking. (Stable stand-in for the
        /// `pop3_decoder` fuzz target.)
        #[test]
        fn arbitrary_streams_never_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            text in "((\\+OK|-ERR|\\.|\\.\\.|[0-9]{1,3})?[ a-z\u{e4}]{0,6}(\r\n|\n)?){0,16}",
            cut in 0usize..600,
        ) {
            for data in [raw.as_slice(), text.as_bytes()] {
                let (whole, failed) = session_items(&[data], 256);
                let cut = cut.min(data.len());
                let (split, split_failed) = session_items(&[&data[..cut], &data[cut..]], 256);
                if !failed && !split_failed {
                    proptest::prop_assert_eq!(&whole, &split);
                }
                for item in &whole {
                    if let Err(body) = item {
                        proptest::prop_assert!(body.len() <= 256);
                        let _ = (parse_uidl(body), parse_capa(body));
                    }
                }
                let _ = (parse_uidl(data), parse_capa(data));
            }
        }
    }
}
