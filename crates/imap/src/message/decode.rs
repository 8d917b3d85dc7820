//! Streaming decoders for the transfer encodings that `BINARY[…]` undoes (RFC 3516, RFC 2045 §6).
//!
//! Sans-IO: the server reads the part's range in chunks, passes each to [`Decoder::decode`] and
//! sends or counts what comes out; [`Decoder::finish`] flushes the tail. Counting the output
//! gives `BINARY.SIZE` without holding the part. Malformed input never fails: base64 skips
//! bytes outside its alphabet, and quoted-printable passes a bad `=` sequence through as is,
//! which is what most clients and servers do.

/// A Content-Transfer-Encoding as far as decoding is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// `7bit`, `8bit`, `binary`, or absent: the bytes are the content.
    Identity,
    /// `base64`.
    Base64,
    /// `quoted-printable`.
    QuotedPrintable,
    /// Anything else: BINARY is answered with `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
    Unknown,
}

impl TransferEncoding {
    /// Classifies a Content-Transfer-Encoding token (case-insensitive); `None` is the default.
    pub fn from_token(token: Option<&[u8]>) -> TransferEncoding {
        let Some(t) = token else { return TransferEncoding::Identity };
        let is = |s: &str| t.eq_ignore_ascii_case(s.as_bytes());
        if is("7bit") || is("8bit") || is("binary") {
            TransferEncoding::Identity
        } else if is("base64") {
            TransferEncoding::Base64
        } else if is("quoted-printable") {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Unknown
        }
    }
}

/// Longest run of whitespace held back to see whether it ends a line (RFC 5322 line limit).
const MAX_HELD_WHITESPACE: usize = 998;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qp {
    Normal,
    /// A CR, waiting to see whether LF follows (then held whitespace is dropped).
    Cr,
    /// `=`
    Eq,
    /// `=` and one hex digit.
    EqHex(u8),
    /// `=` then whitespace (held): a soft line break if the line ends here (RFC 2045 §6.7 (3)).
    EqWs,
    /// `=`, maybe whitespace (held), then CR.
    EqCr,
}

/// Sans-IO decoder for one part body.
///
/// ```
/// use altimail_imap::message::{Decoder, TransferEncoding};
/// let mut d = Decoder::new(TransferEncoding::Base64);
/// let mut out = Vec::new();
/// d.decode(b"aGVsb", &mut out);
/// d.decode(b"G8=\r\n", &mut out);
/// d.finish(&mut out);
/// assert_eq!(out, b"hello");
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    encoding: TransferEncoding,
    /// Base64: bits not yet output, and how many sextets they hold.
    acc: u32,
    sextets: u8,
    /// Quoted-printable state and the whitespace held back.
    qp: Qp,
    held: Vec<u8>,
}

impl Decoder {
    /// A decoder for `encoding`; [`TransferEncoding::Identity`] and
    /// [`TransferEncoding::Unknown`] copy bytes unchanged.
    pub fn new(encoding: TransferEncoding) -> Decoder {
        Decoder { encoding, acc: 0, sextets: 0, qp: Qp::Normal, held: Vec::new() }
    }

    /// Decodes the next chunk, appending to `out`. Chunks may split anywhere.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self.encoding {
            TransferEncoding::Identity | TransferEncoding::Unknown => out.extend_from_slice(input),
            TransferEncoding::Base64 => {
                out.reserve(input.len() / 4 * 3 + 3);
                for &b in input {
                    self.base64(b, out);
                }
            }
            TransferEncoding::QuotedPrintable => {
                out.reserve(input.len());
                for &b in input {
                    self.qp(b, out);
                }
            }
        }
    }

    /// Flushes what the end of the input completes. The decoder is then back at its start.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.encoding {
            TransferEncoding::Base64 => self.base64_flush(out),
            TransferEncoding::QuotedPrintable => self.qp_release(out),
            TransferEncoding::Identity | TransferEncoding::Unknown => {}
        }
    }

    fn base64(&mut self, b: u8, out: &mut Vec<u8>) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            // Padding ends a group; data after it starts a new one (concatenated encodings).
            b'=' => return self.base64_flush(out),
            _ => return,
        };
        self.acc = (self.acc << 6) | u32::from(v);
        self.sextets += 1;
        if self.sextets == 4 {
            out.extend_from_slice(&[(self.acc >> 16) as u8, (self.acc >> 8) as u8, self.acc as u8]);
            self.acc = 0;
            self.sextets = 0;
        }
    }

    fn base64_flush(&mut self, out: &mut Vec<u8>) {
        match self.sextets {
            2 => out.push((self.acc >> 4) as u8),
            3 => out.extend_from_slice(&[(self.acc >> 10) as u8, (self.acc >> 2) as u8]),
            _ => {}
        }
        self.acc = 0;
        self.sextets = 0;
    }

    fn qp(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.qp {
            Qp::Normal => match b {
                b' ' | b'\t' => {
                    if self.held.len() >= MAX_HELD_WHITESPACE {
                        out.append(&mut self.held);
                    }
                    self.held.push(b);
                }
                b'\r' => self.qp = Qp::Cr,
                b'\n' => {
                    // RFC 2045 §6.7 (3): whitespace at the end of a line is transport padding.
                    self.held.clear();
                    out.push(b'\n');
                }
                b'=' => {
                    out.append(&mut self.held);
                    self.qp = Qp::Eq;
                }
                _ => {
                    out.append(&mut self.held);
                    out.push(b);
                }
            },
            Qp::Cr => {
                if b == b'\n' {
                    self.qp = Qp::Normal;
                    self.held.clear();
                    out.extend_from_slice(b"\r\n");
                } else {
                    self.qp_release(out);
                    self.qp(b, out);
                }
            }
            Qp::Eq => match b {
                b'\r' => self.qp = Qp::EqCr,
                b'\n' => self.qp = Qp::Normal,
                b' ' | b'\t' => {
                    self.held.push(b);
                    self.qp = Qp::EqWs;
                }
                _ if b.is_ascii_hexdigit() => self.qp = Qp::EqHex(b),
                _ => {
                    self.qp_release(out);
                    self.qp(b, out);
                }
            },
            Qp::EqHex(h) => {
                if b.is_ascii_hexdigit() {
                    self.qp = Qp::Normal;
                    out.push(hex(h) << 4 | hex(b));
                } else {
                    self.qp_release(out);
                    self.qp(b, out);
                }
            }
            Qp::EqWs => match b {
                b' ' | b'\t' if self.held.len() < MAX_HELD_WHITESPACE => self.held.push(b),
                b'\r' => self.qp = Qp::EqCr,
                b'\n' => {
                    self.held.clear();
                    self.qp = Qp::Normal;
                }
                _ => {
                    // Not a soft line break after all: the `=` and the whitespace are data.
                    self.qp_release(out);
                    self.qp(b, out);
                }
            },
            Qp::EqCr => {
                if b == b'\n' {
                    self.qp = Qp::Normal;
                    self.held.clear();
                } else {
                    self.qp_release(out);
                    self.qp(b, out);
                }
            }
        }
    }

    /// Passes what the current state holds back through as data and returns to `Normal`: at the
    /// end of the input, or when the next byte shows it was not a line end, escape or soft break.
    fn qp_release(&mut self, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.qp, Qp::Normal) {
            Qp::Normal => out.append(&mut self.held),
            Qp::Cr => {
                out.append(&mut self.held);
                out.push(b'\r');
            }
            Qp::Eq => out.push(b'='),
            Qp::EqHex(h) => out.extend_from_slice(&[b'=', h]),
            Qp::EqWs => {
                out.push(b'=');
                out.append(&mut self.held);
            }
            Qp::EqCr => {
                out.push(b'=');
                out.append(&mut self.held);
                out.push(b'\r');
            }
        }
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b.wrapping_sub(b'A').wrapping_add(10) & 0x0f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(enc: TransferEncoding, input: &[u8]) -> Vec<u8> {
        let whole = {
            let mut d = Decoder::new(enc);
            let mut out = Vec::new();
            d.decode(input, &mut out);
            d.finish(&mut out);
            out
        };
        let mut d = Decoder::new(enc);
        let mut bytewise = Vec::new();
        for b in input {
            d.decode(std::slice::from_ref(b), &mut bytewise);
        }
        d.finish(&mut bytewise);
        assert_eq!(whole, bytewise, "chunking changed the output for {:?}", String::from_utf8_lossy(input));
        whole
    }

    #[test]
    fn base64_table() {
        use TransferEncoding::Base64;
        assert_eq!(run(Base64, b"aGVsbG8gd29ybGQ=\r\n"), b"hello world");
        assert_eq!(run(Base64, b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(run(Base64, b"aGk"), b"hi");
        assert_eq!(run(Base64, b"aGk=aGk="), b"hihi");
        assert_eq!(run(Base64, b"a G*V\tz"), b"hes");
        assert_eq!(run(Base64, b""), b"");
    }

    #[test]
    fn quoted_printable_table() {
        use TransferEncoding::QuotedPrintable as Qp;
        assert_eq!(run(Qp, b"caf=C3=A9 =\r\nau lait  \r\nend"), "café au lait\r\nend".as_bytes());
        assert_eq!(run(Qp, b"a=\nb \t\nc"), b"ab\nc");
        assert_eq!(run(Qp, b"=3d=3D=zz=4"), b"===zz=4");
        assert_eq!(run(Qp, b"x=\ry"), b"x=\ry");
        assert_eq!(run(Qp, b"tail  "), b"tail  ");
        assert_eq!(run(Qp, b"cr\ronly"), b"cr\ronly");
    }

    #[test]
    fn quoted_printable_whitespace_after_soft_break() {
        use TransferEncoding::QuotedPrintable as Qp;
        // RFC 2045 §6.7 (3): `=` then transport padding then the line end is a soft line break.
        assert_eq!(run(Qp, b"a= \r\nb"), b"ab");
        assert_eq!(run(Qp, b"a=\t \nb"), b"ab");
        assert_eq!(run(Qp, b"a = \t\r\nb"), b"a b");
        // Whitespace after `=` that does not end the line is data, as is a bare CR.
        assert_eq!(run(Qp, b"a= b"), b"a= b");
        assert_eq!(run(Qp, b"a= \rb"), b"a= \rb");
        assert_eq!(run(Qp, b"a= "), b"a= ");
        assert_eq!(run(Qp, b"a=\t=41"), b"a=\tA");
    }

    #[test]
    fn quoted_printable_imaptest_body() {
        // The body of imaptest's fetch-binary-mime-qp message (BINARY.SIZE 65).
        let body = b"hello  \r\nbar=\r\n\r\nfoo\t=\r\nbar\r\nfoo\t \t= \r\n=62\r\nfoo = \t\r\nbar\r\n\
                     foo =\r\n=62\r\nfoo  \r\nbar=\r\n\r\nfoo_bar\r\n";
        let out = run(TransferEncoding::QuotedPrintable, body);
        let want: &[u8] = b"hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n";
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
        assert_eq!(out.len(), 65);
    }

    #[test]
    fn tokens() {
        assert_eq!(TransferEncoding::from_token(None), TransferEncoding::Identity);
        assert_eq!(TransferEncoding::from_token(Some(b"BASE64")), TransferEncoding::Base64);
        assert_eq!(TransferEncoding::from_token(Some(b"Quoted-Printable")), TransferEncoding::QuotedPrintable);
        assert_eq!(TransferEncoding::from_token(Some(b"x-uuencode")), TransferEncoding::Unknown);
    }
}
