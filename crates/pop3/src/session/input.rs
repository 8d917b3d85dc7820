//! The session's input buffer: bytes the driver handed in that are not processed yet, and the
//! framing of command lines.
//!
//! Command lines end at LF, with an optional CR before it (RFC 1939 says CRLF; clients that send
//! a bare LF are harmless to accept). A line that grows past the hard cap without an LF is
//! dropped as it arrives, and reported once when its LF finally comes, so one response still
//! answers one line and memory stays bounded.

/// Processed octets after which the buffer is compacted even though input remains.
const COMPACT_AFTER: usize = 4096;

/// One framed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// A complete line, without its line ending.
    Complete(Vec<u8>),
    /// A line over the cap, now fully discarded.
    TooLong,
}

#[derive(Debug, Default)]
pub(crate) struct Input {
    buffer: Vec<u8>,
    start: usize,
    discarding: bool,
}

impl Input {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Unprocessed bytes.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or(&[])
    }

    /// Marks `count` pending bytes as processed.
    pub(crate) fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.buffer.len());
    }

    /// Drops everything pending, including a line being discarded.
    pub(crate) fn clear(&mut self) {
        self.buffer.clear();
        self.start = 0;
        self.discarding = false;
    }

    /// Moves pending bytes to the front of the buffer, once a fair share of it is processed
    /// (pipelined commands are taken one at a time; moving the rest after each would be
    /// quadratic).
    pub(crate) fn compact(&mut self) {
        if self.start > 0 && (self.start == self.buffer.len() || self.start >= COMPACT_AFTER) {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
    }

    /// The next line, if complete; lines (ending included) over `cap` octets come out as
    /// [`Line::TooLong`].
    pub(crate) fn next_line(&mut self, cap: usize) -> Option<Line> {
        let pending = self.buffer.get(self.start..).unwrap_or(&[]);
        let Some(end) = pending.iter().position(|&b| b == b'\n') else {
            if self.discarding || pending.len() >= cap {
                self.discarding = true;
                self.start = self.buffer.len();
            }
            return None;
        };
        let line = pending.get(..end).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if self.discarding || end + 1 > cap { Line::TooLong } else { Line::Complete(line.to_vec()) };
        self.discarding = false;
        self.consume(end + 1);
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lines() {
        let mut input = Input::default();
        input.push(b"USER a\r\nNOOP\nQU");
        assert_eq!(input.next_line(512), Some(Line::Complete(b"USER a".to_vec())));
        assert_eq!(input.next_line(512), Some(Line::Complete(b"NOOP".to_vec())));
        assert_eq!(input.next_line(512), None);
        input.push(b"IT\r\n");
        assert_eq!(input.next_line(512), Some(Line::Complete(b"QUIT".to_vec())));
        assert_eq!(input.pending(), b"");
    }

    #[test]
    fn discards_long_lines_and_reports_them_once() {
        let mut input = Input::default();
        input.push(&[b'x'; 20]);
        assert_eq!(input.next_line(10), None);
        assert_eq!(input.pending(), b"");
        input.push(&[b'x'; 20]);
        assert_eq!(input.next_line(10), None);
        input.push(b"xx\r\nNOOP\r\n");
        assert_eq!(input.next_line(10), Some(Line::TooLong));
        assert_eq!(input.next_line(10), Some(Line::Complete(b"NOOP".to_vec())));
        input.push(b"0123456789\r\n");
        assert_eq!(input.next_line(10), Some(Line::TooLong));
        input.push(b"01234567\r\n");
        assert_eq!(input.next_line(10), Some(Line::Complete(b"01234567".to_vec())));
    }
}
