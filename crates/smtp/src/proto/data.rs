//! The DATA body receiver: end detection and dot-unstuffing (RFC 5321 §4.1.1.4, §4.5.2).
//!
//! The body ends **only** at `<CRLF>.<CRLF>`; the CRLF before the dot may be the one that ended
//! the DATA command, so a body may be empty (`.` right after the 354). `<LF>.<LF>`,
//! `<CR>.<CR>`, `<LF>.<CRLF>`, `<CRLF>.<LF>` and every other mix are ordinary content: treating
//! any of them as the end is what "SMTP smuggling" (CVE-2023-51764/51765/51766) exploits, when
//! the next server in the chain disagrees about where a message stops.
//!
//! A line that starts with a dot loses that dot (transparency, §4.5.2). Bare CR and bare LF are
//! reported so the session can refuse the message (hMailServer's `smtpallowincorrectlineendings`);
//! in the stored body they are normalised to CRLF, so a message accepted with bare line endings
//! cannot carry a smuggling sequence to the next hop. After a bare line ending no dot is removed
//! and no end is recognised, since only CRLF starts a line.
//!
//! Two limits are enforced without stopping the scan, so the session stays in step with the
//! client and answers after the end (RFC 5321 §4.5.3.1.10, `552`): past `max_size` octets
//! nothing more is stored and the body is flagged too big; a line longer than `max_line` octets
//! flags the body (hMailServer allows 100 000 octets where RFC 5321 says 1000).
//!
//! Input may be split anywhere: the state carries over between calls.

/// What [`DataReceiver::ingest`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataStatus {
    /// All input was consumed and the end has not been seen.
    NeedMore,
    /// The end was seen; `consumed` octets of this input belong to the body and its terminator,
    /// the rest (pipelined commands) does not.
    End {
        /// Octets of the input consumed, terminator included.
        consumed: usize,
    },
}

/// What was wrong with a body, known once the end has been seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataFlaws {
    /// A CR not followed by LF was seen.
    pub bare_cr: bool,
    /// An LF not preceded by CR was seen.
    pub bare_lf: bool,
    /// More than `max_size` octets arrived; the stored body is truncated.
    pub too_big: bool,
    /// A line longer than `max_line` octets arrived.
    pub line_too_long: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// After CRLF (or at the very start): a dot here is stuffing or the end marker.
    LineStart,
    /// Inside a line.
    Text,
    /// A CR is pending inside a line.
    Cr,
    /// A dot at the start of a line is pending.
    Dot,
    /// A dot and a CR at the start of a line are pending: LF now means the end.
    DotCr,
}

/// Incremental DATA body receiver; see the module documentation.
#[derive(Debug, Clone)]
pub struct DataReceiver {
    state: State,
    max_size: u64,
    max_line: usize,
    size: u64,
    line_length: usize,
    flaws: DataFlaws,
}

impl DataReceiver {
    /// A receiver storing at most `max_size` octets and flagging lines over `max_line` octets.
    pub fn new(max_size: u64, max_line: usize) -> Self {
        DataReceiver {
            state: State::LineStart,
            max_size,
            max_line,
            size: 0,
            line_length: 0,
            flaws: DataFlaws::default(),
        }
    }

    /// Scans `input`, appending the unstuffed, CRLF-normalised body to `body` (up to `max_size`).
    ///
    /// # Returns
    ///
    /// [`DataStatus::End`] with the octets consumed once `<CRLF>.<CRLF>` is seen; the receiver must
    /// not be fed again after that. Otherwise [`DataStatus::NeedMore`]: everything was consumed.
    pub fn ingest(&mut self, input: &[u8], body: &mut Vec<u8>) -> DataStatus {
        for (index, &byte) in input.iter().enumerate() {
            if self.step(byte, body) {
                return DataStatus::End { consumed: index + 1 };
            }
        }
        DataStatus::NeedMore
    }

    /// Octets of body content seen so far (after unstuffing and normalisation), stored or not.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// What was wrong with the body so far.
    pub fn flaws(&self) -> DataFlaws {
        self.flaws
    }

    /// Handles one octet; `true` at the end of the body.
    fn step(&mut self, byte: u8, body: &mut Vec<u8>) -> bool {
        match (self.state, byte) {
            (State::LineStart, b'.') => self.state = State::Dot,
            (State::Dot, b'\r') => self.state = State::DotCr,
            (State::DotCr, b'\n') => return true,
            (State::Cr, b'\n') => {
                self.line_break(body);
                self.state = State::LineStart;
            }
            (State::Cr | State::DotCr, _) => {
                self.flaws.bare_cr = true;
                self.line_break(body);
                self.text(byte, body);
            }
            (State::LineStart | State::Text | State::Dot, _) => self.text(byte, body),
        }
        false
    }

    /// An octet inside a line (any pending start-of-line dot has been dropped as stuffing).
    fn text(&mut self, byte: u8, body: &mut Vec<u8>) {
        self.state = State::Text;
        match byte {
            b'\r' => self.state = State::Cr,
            b'\n' => {
                self.flaws.bare_lf = true;
                self.line_break(body);
            }
            _ => {
                self.line_length += 1;
                if self.line_length > self.max_line {
                    self.flaws.line_too_long = true;
                }
                self.store(&[byte], body);
            }
        }
    }

    fn line_break(&mut self, body: &mut Vec<u8>) {
        self.line_length = 0;
        self.store(b"\r\n", body);
    }

    fn store(&mut self, bytes: &[u8], body: &mut Vec<u8>) {
        let length = bytes.len() as u64;
        if !self.flaws.too_big && self.size.saturating_add(length) <= self.max_size {
            body.extend_from_slice(bytes);
        } else {
            self.flaws.too_big = true;
        }
        self.size = self.size.saturating_add(length);
    }
}

#[cfg(test)]
mod tests;
