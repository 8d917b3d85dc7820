//! Command assembler: turns client bytes into complete commands, literals included.
//!
//! Feed bytes with [`Fragmenter::push`], then call [`Fragmenter::poll`] until it returns `Ok(None)`
//! ("need more bytes"). A synchronising literal `{n}` yields [`Frame::Continue`]: the caller sends
//! `+ ` and the literal bytes follow. Non-synchronising `{n+}` (LITERAL+/LITERAL-) and binary
//! `~{n}` literals are read straight on. A command over a cap yields a [`FragmentError`] with the
//! tag to answer (`BAD`, or `NO [TOOBIG]` for a literal too large); the fragmenter then discards
//! the rest of that command as the client sends it, so the next command parses.

use crate::parse::tag_of;

/// Which non-synchronising literals the server advertised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonSyncLiterals {
    /// Neither LITERAL+ nor LITERAL-: `{n+}` is refused.
    Off,
    /// LITERAL- (RFC 7888): `{n+}` only up to 4096 bytes.
    Minus,
    /// LITERAL+: `{n+}` of any size up to the literal cap.
    Plus,
}

/// Caps set by the caller (small before authentication, APPENDLIMIT after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest literal accepted, in bytes.
    pub max_literal: u64,
    /// Most literals in one command.
    pub max_literals: usize,
    /// Largest command, lines and literals together, in bytes.
    pub max_command: usize,
    /// Longest line of a command (the text before, between and after its literals), in bytes:
    /// the size of a command's literals may be large after logon, its text need not be.
    pub max_line: usize,
    /// Non-synchronising literal support.
    pub non_sync: NonSyncLiterals,
}

impl Default for Limits {
    /// Conservative pre-authentication limits.
    fn default() -> Self {
        Limits {
            max_literal: 64 * 1024,
            max_literals: 16,
            max_command: 128 * 1024,
            max_line: 64 * 1024,
            non_sync: NonSyncLiterals::Plus,
        }
    }
}

/// LITERAL- limit on non-synchronising literals.
pub const LITERAL_MINUS_MAX: u64 = 4096;

/// What the fragmenter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete command (or continuation line such as `DONE` or a SASL response), CRLF included.
    Command(Vec<u8>),
    /// The client sent a synchronising literal: send a `+ ` continuation now.
    Continue,
}

/// Which cap a command broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooBig {
    /// A literal is larger than `max_literal` (answer `NO [TOOBIG]`).
    Literal {
        /// Announced size.
        size: u64,
    },
    /// A non-synchronising literal over 4096 bytes under LITERAL- (answer `BAD`).
    NonSyncLiteral {
        /// Announced size.
        size: u64,
    },
    /// `{n+}` was sent but non-synchronising literals are not enabled.
    NonSyncNotAllowed,
    /// More than `max_literals` literals.
    TooManyLiterals,
    /// The command is longer than `max_command`.
    CommandTooLong,
}

/// A refused command: the cap it broke and the tag to answer with, if one was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("command refused: {kind:?}")]
pub struct FragmentError {
    /// The client's tag (None if the line had none).
    pub tag: Option<String>,
    /// What was too big.
    pub kind: TooBig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Line,
    Literal(u64),
    DiscardLiteral(u64),
    DiscardLine,
}

/// Assembles commands from a byte stream; see the module docs.
#[derive(Debug, Clone)]
pub struct Fragmenter {
    limits: Limits,
    input: Vec<u8>,
    cmd: Vec<u8>,
    literals: usize,
    state: State,
    /// Bytes of `input` already known to hold no LF (so slow clients cost no rescans).
    scanned: usize,
    /// Size of the last literal accepted, until [`Fragmenter::take_announced_literal`].
    announced: Option<u64>,
}

/// Length of the longest literal marker kept while discarding a long line.
const MARKER_TAIL: usize = 32;

/// If `line` ends with a literal marker (`{n}`, `{n+}`, `~{n}`) before its LF, return (n, non-sync).
fn literal_marker(line: &[u8]) -> Option<(u64, bool)> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b"}")?;
    let (line, non_sync) = match line.strip_suffix(b"+") {
        Some(l) => (l, true),
        None => (line, false),
    };
    let digits = line.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 {
        return None;
    }
    let (head, num) = line.split_at(line.len() - digits);
    head.strip_suffix(b"{")?;
    let n = std::str::from_utf8(num).ok()?.parse().ok()?;
    Some((n, non_sync))
}

impl Fragmenter {
    /// A fragmenter with these caps.
    pub fn new(limits: Limits) -> Self {
        Fragmenter {
            limits,
            input: Vec::new(),
            cmd: Vec::new(),
            literals: 0,
            state: State::Line,
            scanned: 0,
            announced: None,
        }
    }

    /// Change the caps (e.g. after authentication); applies to literals announced from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Current caps.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Add bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned (partial command and unread input).
    pub fn buffered(&self) -> usize {
        self.input.len() + self.cmd.len()
    }

    /// Part of a command has arrived but not all of it (a line without its end, a literal
    /// still expected, or a refused command still being discarded).
    pub fn in_command(&self) -> bool {
        !self.input.is_empty() || !self.cmd.is_empty() || self.state != State::Line
    }

    /// The size of a literal accepted since the last call, so the caller can give its arrival
    /// time in proportion (a large APPEND takes longer than a command line).
    pub fn take_announced_literal(&mut self) -> Option<u64> {
        self.announced.take()
    }

    /// After a refusal: the octets of a refused non-synchronising literal the client is still
    /// sending and that would be read only to be thrown away. A server that would rather not
    /// read them ends the connection.
    pub fn discarding_literal(&self) -> Option<u64> {
        match self.state {
            State::DiscardLiteral(n) => Some(n),
            _ => None,
        }
    }

    fn refuse(&mut self, kind: TooBig, after: State) -> FragmentError {
        let tag = tag_of(&self.cmd);
        self.cmd = Vec::new();
        self.literals = 0;
        self.state = after;
        FragmentError { tag, kind }
    }

    /// The next frame, `Ok(None)` when more bytes are needed, or a refused command.
    pub fn poll(&mut self) -> Result<Option<Frame>, FragmentError> {
        loop {
            match self.state {
                State::Line => {
                    let from = self.scanned.min(self.input.len());
                    let Some(i) = self.input[from..].iter().position(|&b| b == b'\n').map(|i| i + from) else {
                        self.scanned = self.input.len();
                        if self.cmd.len() + self.input.len() > self.limits.max_command
                            || self.input.len() > self.limits.max_line
                        {
                            let take = self.input.len().saturating_sub(MARKER_TAIL);
                            self.cmd.extend(self.input.drain(..take));
                            self.scanned = 0;
                            return Err(self.refuse(TooBig::CommandTooLong, State::DiscardLine));
                        }
                        return Ok(None);
                    };
                    let line: Vec<u8> = self.input.drain(..=i).collect();
                    self.scanned = 0;
                    let marker = literal_marker(&line);
                    self.cmd.extend_from_slice(&line);
                    if self.cmd.len() > self.limits.max_command || line.len() > self.limits.max_line {
                        let after = match marker {
                            Some((n, true)) => State::DiscardLiteral(n),
                            _ => State::Line,
                        };
                        return Err(self.refuse(TooBig::CommandTooLong, after));
                    }
                    let Some((n, non_sync)) = marker else {
                        self.literals = 0;
                        return Ok(Some(Frame::Command(std::mem::take(&mut self.cmd))));
                    };
                    self.literals += 1;
                    let l = self.limits;
                    let refusal = if self.literals > l.max_literals {
                        Some(TooBig::TooManyLiterals)
                    } else if non_sync && l.non_sync == NonSyncLiterals::Off {
                        Some(TooBig::NonSyncNotAllowed)
                    } else if non_sync && l.non_sync == NonSyncLiterals::Minus && n > LITERAL_MINUS_MAX {
                        Some(TooBig::NonSyncLiteral { size: n })
                    } else if n > l.max_literal {
                        Some(TooBig::Literal { size: n })
                    } else if (self.cmd.len() as u64).saturating_add(n) > l.max_command as u64 {
                        Some(TooBig::CommandTooLong)
                    } else {
                        None
                    };
                    if let Some(kind) = refusal {
                        // A refused synchronising literal is never sent; a non-synchronising one is.
                        let after = if non_sync { State::DiscardLiteral(n) } else { State::Line };
                        return Err(self.refuse(kind, after));
                    }
                    self.state = State::Literal(n);
                    self.announced = Some(n);
                    if !non_sync {
                        return Ok(Some(Frame::Continue));
                    }
                }
                State::Literal(0) => self.state = State::Line,
                State::DiscardLiteral(0) => self.state = State::DiscardLine,
                State::Literal(rem) | State::DiscardLiteral(rem) => {
                    if self.input.is_empty() {
                        return Ok(None);
                    }
                    let k = usize::try_from(rem).unwrap_or(usize::MAX).min(self.input.len());
                    if matches!(self.state, State::Literal(_)) {
                        self.cmd.extend(self.input.drain(..k));
                        self.state = State::Literal(rem - k as u64);
                    } else {
                        self.input.drain(..k);
                        self.state = State::DiscardLiteral(rem - k as u64);
                    }
                }
                State::DiscardLine => {
                    let Some(i) = self.input.iter().position(|&b| b == b'\n') else {
                        let drop = self.input.len().saturating_sub(MARKER_TAIL);
                        self.input.drain(..drop);
                        return Ok(None);
                    };
                    let line: Vec<u8> = self.input.drain(..=i).collect();
                    self.state = match literal_marker(&line) {
                        Some((n, true)) => State::DiscardLiteral(n),
                        _ => State::Line,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: &mut Fragmenter) -> Vec<Result<Frame, FragmentError>> {
        let mut out = Vec::new();
        loop {
            match f.poll() {
                Ok(None) => return out,
                Ok(Some(x)) => out.push(Ok(x)),
                Err(e) => out.push(Err(e)),
            }
        }
    }

    #[test]
    fn marker() {
        assert_eq!(literal_marker(b"a LOGIN {5}\r\n"), Some((5, false)));
        assert_eq!(literal_marker(b"a LOGIN {5+}\r\n"), Some((5, true)));
        assert_eq!(literal_marker(b"a APPEND x ~{5}\n"), Some((5, false)));
        assert_eq!(literal_marker(b"a LOGIN {}\r\n"), None);
        assert_eq!(literal_marker(b"a LOGIN 5}\r\n"), None);
        assert_eq!(literal_marker(b"a {99999999999999999999999}\r\n"), None);
    }

    #[test]
    fn sync_literal_asks_for_continuation() {
        let mut f = Fragmenter::new(Limits::default());
        f.push(b"a LOGIN {3}\r\n");
        assert_eq!(all(&mut f), vec![Ok(Frame::Continue)]);
        f.push(b"bob {2+}\r\npw\r\nb NOOP\r\n");
        assert_eq!(
            all(&mut f),
            vec![
                Ok(Frame::Command(b"a LOGIN {3}\r\nbob {2+}\r\npw\r\n".to_vec())),
                Ok(Frame::Command(b"b NOOP\r\n".to_vec()))
            ]
        );
    }

    #[test]
    fn literal_too_big_sync_is_not_read() {
        let mut f = Fragmenter::new(Limits { max_literal: 10, ..Limits::default() });
        f.push(b"t1 APPEND INBOX {11}\r\nt2 NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r[0], Err(FragmentError { tag: Some("t1".into()), kind: TooBig::Literal { size: 11 } }));
        assert_eq!(r[1], Ok(Frame::Command(b"t2 NOOP\r\n".to_vec())));
    }

    #[test]
    fn literal_too_big_non_sync_is_discarded_in_step() {
        let mut f = Fragmenter::new(Limits { max_literal: 4, ..Limits::default() });
        f.push(b"t1 APPEND INBOX {5+}\r\nhello {3+}\r\nabc\r\nt2 NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].as_ref().unwrap_err().kind, TooBig::Literal { size: 5 });
        assert_eq!(r[1], Ok(Frame::Command(b"t2 NOOP\r\n".to_vec())));
    }

    #[test]
    fn literal_minus() {
        let mut f = Fragmenter::new(Limits { non_sync: NonSyncLiterals::Minus, ..Limits::default() });
        f.push(b"a X {4097+}\r\n");
        f.push(&[b'x'; 4097]);
        f.push(b"\r\nb NOOP\r\nc X {4096+}\r\n");
        f.push(&[b'y'; 4096]);
        f.push(b"\r\n");
        let r = all(&mut f);
        assert_eq!(r[0].as_ref().unwrap_err().kind, TooBig::NonSyncLiteral { size: 4097 });
        assert_eq!(r[1], Ok(Frame::Command(b"b NOOP\r\n".to_vec())));
        assert!(matches!(&r[2], Ok(Frame::Command(c)) if c.len() == 13 + 4096 + 2));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn non_sync_off() {
        let mut f = Fragmenter::new(Limits { non_sync: NonSyncLiterals::Off, ..Limits::default() });
        f.push(b"a X {2+}\r\nab\r\nb NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r[0].as_ref().unwrap_err().kind, TooBig::NonSyncNotAllowed);
        assert_eq!(r[1], Ok(Frame::Command(b"b NOOP\r\n".to_vec())));
    }

    #[test]
    fn too_many_literals() {
        let mut f = Fragmenter::new(Limits { max_literals: 2, ..Limits::default() });
        f.push(b"a X {1+}\r\n1 {1+}\r\n2 {1+}\r\n3 {1+}\r\n4\r\nb NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r[0].as_ref().unwrap_err().kind, TooBig::TooManyLiterals);
        assert_eq!(r[1], Ok(Frame::Command(b"b NOOP\r\n".to_vec())));
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn long_line_discarded_in_step() {
        let mut f = Fragmenter::new(Limits { max_command: 100, ..Limits::default() });
        f.push(b"a SEARCH ");
        for _ in 0..50 {
            f.push(b"TEXT xxxxxxxxxxxxx ");
            let _ = all(&mut f);
        }
        f.push(b"TEXT {3+}\r\nabc\r\nb NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r, vec![Ok(Frame::Command(b"b NOOP\r\n".to_vec()))]);
        let mut f = Fragmenter::new(Limits { max_command: 20, ..Limits::default() });
        f.push(b"a SEARCH TEXT xxxxxxxxxxxxxxxx\r\nb NOOP\r\n");
        let r = all(&mut f);
        assert_eq!(r[0].as_ref().unwrap_err().tag.as_deref(), Some("a"));
        assert_eq!(r[0].as_ref().unwrap_err().kind, TooBig::CommandTooLong);
        assert_eq!(r[1], Ok(Frame::Command(b"b NOOP\r\n".to_vec())));
    }

    #[test]
    fn limits_can_grow_after_login() {
        let mut f = Fragmenter::new(Limits { max_literal: 2, ..Limits::default() });
        f.push(b"a APPEND x {3}\r\n");
        assert_eq!(all(&mut f)[0].as_ref().unwrap_err().kind, TooBig::Literal { size: 3 });
        f.set_limits(Limits { max_literal: 10, ..f.limits() });
        f.push(b"b APPEND x {3}\r\n");
        assert_eq!(all(&mut f), vec![Ok(Frame::Continue)]);
        f.push(b"abc\r\n");
        assert_eq!(all(&mut f), vec![Ok(Frame::Command(b"b APPEND x {3}\r\nabc\r\n".to_vec()))]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn literal_past_command_cap() {
        let mut f = Fragmenter::new(Limits { max_literal: 100, max_command: 30, ..Limits::default() });
        f.push(b"a APPEND x {25}\r\n");
        assert_eq!(all(&mut f)[0].as_ref().unwrap_err().kind, TooBig::CommandTooLong);
    }

    #[test]
    fn long_line_under_a_large_command_cap() {
        let mut f = Fragmenter::new(Limits { max_line: 16, ..Limits::default() });
        f.push(b"a SEARCH TEXT xxxxxxxxxxxx");
        assert_eq!(all(&mut f)[0].as_ref().unwrap_err().kind, TooBig::CommandTooLong);
        f.push(b"xxxx\r\nb NOOP\r\nc X {3+}\r\nabc ");
        f.push(b"0123456789abcdef\r\n");
        let r = all(&mut f);
        assert_eq!(r[0], Ok(Frame::Command(b"b NOOP\r\n".to_vec())));
        assert_eq!(r[1].as_ref().unwrap_err().tag.as_deref(), Some("c"));
    }

    #[test]
    fn refused_non_sync_literal_is_reported_as_pending() {
        let mut f = Fragmenter::new(Limits { max_literal: 4, ..Limits::default() });
        f.push(b"a APPEND x {4000000000+}\r\nab");
        assert_eq!(all(&mut f)[0].as_ref().unwrap_err().kind, TooBig::Literal { size: 4_000_000_000 });
        assert_eq!(f.discarding_literal(), Some(4_000_000_000 - 2));
        assert!(f.in_command());
        let mut f = Fragmenter::new(Limits { max_literal: 4, ..Limits::default() });
        f.push(b"a APPEND x {5}\r\n");
        assert_eq!(all(&mut f)[0].as_ref().unwrap_err().kind, TooBig::Literal { size: 5 });
        assert_eq!(f.discarding_literal(), None);
        assert!(!f.in_command());
    }

    #[test]
    fn error_without_tag() {
        let mut f = Fragmenter::new(Limits { max_literal: 1, ..Limits::default() });
        f.push(b"{5}\r\n");
        assert_eq!(all(&mut f), vec![Err(FragmentError { tag: None, kind: TooBig::Literal { size: 5 } })]);
    }
}
