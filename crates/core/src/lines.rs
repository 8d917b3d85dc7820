//! The input buffer of a line-based protocol session: bytes the driver handed in that are not
//! processed yet, and the framing of command lines.
//!
//! Lines end at LF, with an optional CR before it (the RFCs say CRLF; clients that send a bare
//! LF after a command are common and harmless to accept). A line that grows past the caller's
//! cap without an LF is dropped as it arrives, and reported once as [`Line::TooLong`] when its LF
//! finally comes, so one response still answers one line and memory stays bounded.
//!
//! Bytes that are not lines (an SMTP DATA body, an IMAP literal) are read with
//! [`LineBuffer::pending`] and [`LineBuffer::consume`].
//!
//! ```
//! use altimail_core::lines::{Line, LineBuffer};
//!
//! let mut input = LineBuffer::default();
//! input.push(b"NOOP\r\nQU");
//! assert_eq!(input.next_line(512), Some(Line::Complete(b"NOOP".to_vec())));
//! assert_eq!(input.next_line(512), None);
//! assert_eq!(input.pending(), b"QU");
//! ```

/// Processed octets after which [`LineBuffer::compact`] moves the rest even though input remains.
const COMPACT_AFTER: usize = 4096;

/// One framed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its line ending.
    Complete(Vec<u8>),
    /// A line over the cap, now fully discarded.
    TooLong,
}

/// Unprocessed input and the state of a line being discarded.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buffer: Vec<u8>,
    start: usize,
    discarding: bool,
}

impl LineBuffer {
    /// Appends bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Unprocessed bytes.
    pub fn pending(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or(&[])
    }

    /// Marks `count` pending bytes as processed.
    pub fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.buffer.len());
    }

    /// Drops everything pending, including a line being discarded.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.start = 0;
        self.discarding = false;
    }

    /// Moves pending bytes to the front of the buffer, once all of it or a fair share of it is
    /// processed (a session that takes pipelined commands one at a time would otherwise move the
    /// rest after each, which is quadratic). Only the memory layout changes, never
    /// [`LineBuffer::pending`].
    pub fn compact(&mut self) {
        if self.start > 0 && (self.start == self.buffer.len() || self.start >= COMPACT_AFTER) {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
    }

    /// The next line, if complete; lines (ending included) over `cap` octets come out as
    /// [`Line::TooLong`].
    pub fn next_line(&mut self, cap: usize) -> Option<Line> {
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
        for first in [&b"EHLO a"[..], b"USER a"] {
            let mut input = LineBuffer::default();
            input.push(&[first, b"\r\nNOOP\nQU"].concat());
            assert_eq!(input.next_line(512), Some(Line::Complete(first.to_vec())));
            assert_eq!(input.next_line(512), Some(Line::Complete(b"NOOP".to_vec())));
            assert_eq!(input.next_line(512), None);
            input.push(b"IT\r\n");
            assert_eq!(input.next_line(512), Some(Line::Complete(b"QUIT".to_vec())));
            assert_eq!(input.pending(), b"");
        }
    }

    #[test]
    fn discards_long_lines_and_reports_them_once() {
        let mut input = LineBuffer::default();
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

    #[test]
    fn compacting_keeps_pending_bytes() {
        let mut input = LineBuffer::default();
        for _ in 0..1000 {
            input.push(b"NOOP\r\n");
        }
        input.push(b"QU");
        while input.next_line(512).is_some() {
            input.compact();
            assert!(input.start < COMPACT_AFTER);
        }
        assert_eq!(input.pending(), b"QU");
        input.consume(1);
        input.compact();
        assert_eq!(input.pending(), b"U");
        input.consume(5);
        input.compact();
        assert_eq!((input.pending(), input.start, input.buffer.len()), (&b""[..], 0, 0));
    }
}
