//! Message bodies of RETR and TOP as multi-line response data (RFC 1939 §3, §7).
//!
//! A [`BodyEncoder`] is fed the stored message in chunks of any size and writes the wire form:
//! every line ends in CRLF (a bare LF in the file becomes CRLF), a line starting with `.` gets
//! another `.` in front (byte-stuffing), and [`BodyEncoder::finish`] ends the data with
//! `.CRLF`, after a CRLF of its own when the file did not end with a line break. For TOP it
//! stops after the header, the empty line that ends it, and the requested number of body lines;
//! a message without an empty line is all header. The encoder is incremental so that the driver
//! can stream a large message without holding it in memory.

/// Turns a stored message into RETR or TOP response data; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyEncoder {
    /// Body lines to send after the header (TOP); `None` for the whole message.
    limit: Option<u32>,
    /// Nothing of the current line has been written yet.
    at_line_start: bool,
    /// Octets of the current line written so far (stuffing excluded).
    line_length: usize,
    /// The last octet written was a CR.
    last_cr: bool,
    /// The empty line after the header has been passed.
    in_body: bool,
    /// Body lines completed.
    body_lines: u32,
    /// TOP has sent all it should; further input is ignored.
    done: bool,
}

impl BodyEncoder {
    /// An encoder for RETR: the whole message.
    pub fn whole() -> Self {
        Self::new(None)
    }

    /// An encoder for `TOP msg lines`: the header, the empty line, and `lines` body lines.
    pub fn top(lines: u32) -> Self {
        Self::new(Some(lines))
    }

    fn new(limit: Option<u32>) -> Self {
        BodyEncoder {
            limit,
            at_line_start: true,
            line_length: 0,
            last_cr: false,
            in_body: false,
            body_lines: 0,
            done: false,
        }
    }

    /// `true` once TOP has everything it needs: the driver may stop reading the file.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Encodes the next chunk of the stored message into `out`.
    pub fn encode(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) {
        while !self.done && !chunk.is_empty() {
            if self.at_line_start && chunk.first() == Some(&b'.') {
                out.push(b'.');
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let content = chunk.get(..end).unwrap_or_default();
                    out.extend_from_slice(content);
                    let cr_before = match content.last() {
                        Some(&last) => last == b'\r',
                        None => self.last_cr,
                    };
                    out.extend_from_slice(if cr_before { b"\n" } else { b"\r\n" });
                    let length = self.line_length + content.len();
                    self.end_line(length == 0 || (length == 1 && cr_before));
                    chunk = chunk.get(end + 1..).unwrap_or_default();
                }
                None => {
                    out.extend_from_slice(chunk);
                    self.at_line_start = false;
                    self.line_length += chunk.len();
                    self.last_cr = chunk.last() == Some(&b'\r');
                    chunk = &[];
                }
            }
        }
    }

    /// Ends the data: completes an unfinished last line and writes the terminating `.CRLF`.
    pub fn finish(self, out: &mut Vec<u8>) {
        if !self.done && !self.at_line_start {
            out.extend_from_slice(if self.last_cr { b"\n" } else { b"\r\n" });
        }
        out.extend_from_slice(b".\r\n");
    }

    fn end_line(&mut self, empty: bool) {
        self.at_line_start = true;
        self.line_length = 0;
        self.last_cr = false;
        let Some(limit) = self.limit else { return };
        if !self.in_body {
            if empty {
                self.in_body = true;
                self.done = limit == 0;
            }
        } else {
            self.body_lines = self.body_lines.saturating_add(1);
            self.done = self.body_lines >= limit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(mut encoder: BodyEncoder, input: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            encoder.encode(piece, &mut out);
        }
        encoder.finish(&mut out);
        out
    }

    #[test]
    fn stuffs_and_normalises_whole_messages() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n.\r\n"),
            (b"a\r\nb", b"a\r\nb\r\n.\r\n"),
            (b"a\nb\n", b"a\r\nb\r\n.\r\n"),
            (b".\r\n..x\r\n.", b"..\r\n...x\r\n..\r\n.\r\n"),
            (b"x.\r\n .\r\n", b"x.\r\n .\r\n.\r\n"),
            (b"a\r", b"a\r\n.\r\n"),
            (b"a\rb\r\n", b"a\rb\r\n.\r\n"),
            (b"\r\n\r\n", b"\r\n\r\n.\r\n"),
        ];
        for (input, wire) in cases {
            for chunk in 1..=input.len().max(1) {
                assert_eq!(
                    encode(BodyEncoder::whole(), input, chunk),
                    *wire,
                    "{:?} in chunks of {chunk}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn top_cuts_after_the_header_and_n_lines() {
        let message = b"From: a\r\nSubject: b\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n";
        let cases: &[(u32, &[u8])] = &[
            (0, b"From: a\r\nSubject: b\r\n\r\n.\r\n"),
            (1, b"From: a\r\nSubject: b\r\n\r\nline 1\r\n.\r\n"),
            (2, b"From: a\r\nSubject: b\r\n\r\nline 1\r\n..line 2\r\n.\r\n"),
            (3, b"From: a\r\nSubject: b\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n.\r\n"),
            (100, b"From: a\r\nSubject: b\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n.\r\n"),
        ];
        for (lines, wire) in cases {
            for chunk in 1..=message.len() {
                assert_eq!(encode(BodyEncoder::top(*lines), message, chunk), *wire, "TOP {lines}, chunks of {chunk}");
            }
        }
        assert_eq!(encode(BodyEncoder::top(0), b"From: a\nSubject: b", 3), b"From: a\r\nSubject: b\r\n.\r\n");
        assert_eq!(encode(BodyEncoder::top(0), b"From: a\n\nbody", 3), b"From: a\r\n\r\n.\r\n");
        let mut encoder = BodyEncoder::top(0);
        encoder.encode(b"A: b\r\n\r\nrest", &mut Vec::new());
        assert!(encoder.is_done());
    }
}
