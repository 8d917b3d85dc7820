//! SMTP replies (RFC 5321 §4.2) with optional enhanced status codes (RFC 2034, RFC 3463).
//!
//! A [`Reply`] is a value; which code answers which situation is decided in
//! `session::replies`, not here. The writer guarantees a well-formed reply whatever the text holds:
//! CR and LF inside a line become spaces, so a reply can never smuggle an extra line onto the wire.

use std::fmt;

/// An enhanced status code `class.subject.detail` (RFC 3463), e.g. `(5, 5, 1)` for `5.5.1`.
pub type EnhancedCode = (u8, u16, u16);

/// One SMTP reply: a three-digit code, an optional enhanced status code and one or more text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The basic reply code (RFC 5321 §4.2.1), 200–599.
    pub code: u16,
    /// The enhanced status code, written at the start of every line when present.
    pub enhanced: Option<EnhancedCode>,
    /// The text lines; an empty list is written as one empty line (`250 \r\n`).
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, enhanced: Option<EnhancedCode>, text: impl Into<String>) -> Self {
        Reply { code, enhanced, lines: vec![text.into()] }
    }

    /// A multi-line reply.
    pub fn multiline(code: u16, enhanced: Option<EnhancedCode>, lines: Vec<String>) -> Self {
        Reply { code, enhanced, lines }
    }

    /// `true` for 2xx and 3xx replies.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// `true` for 4xx replies.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// `true` for 5xx replies.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// Appends the wire form (`250-a\r\n250 b\r\n`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let count = self.lines.len().max(1);
        for index in 0..count {
            let text = self.lines.get(index).map(String::as_str).unwrap_or("");
            let separator = if index + 1 == count { ' ' } else { '-' };
            out.extend_from_slice(self.code.to_string().as_bytes());
            let mut rest = String::new();
            if let Some((class, subject, detail)) = self.enhanced {
                rest.push_str(&format!("{class}.{subject}.{detail}"));
                if !text.is_empty() {
                    rest.push(' ');
                }
            }
            rest.push_str(text);
            out.push(separator as u8);
            out.extend(rest.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    /// The wire form without the final CRLF, lines joined by CRLF (for logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        f.write_str(text.trim_end_matches("\r\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_single_and_multi_line_replies() {
        let cases: &[(Reply, &str)] = &[
            (Reply::new(250, None, "OK"), "250 OK\r\n"),
            (Reply::new(250, Some((2, 1, 0)), "Sender OK"), "250 2.1.0 Sender OK\r\n"),
            (
                Reply::multiline(250, None, vec!["mx.example.com".into(), "PIPELINING".into(), "HELP".into()]),
                "250-mx.example.com\r\n250-PIPELINING\r\n250 HELP\r\n",
            ),
            (Reply::multiline(550, Some((5, 7, 1)), vec!["a".into(), "b".into()]), "550-5.7.1 a\r\n550 5.7.1 b\r\n"),
            (Reply::new(334, None, ""), "334 \r\n"),
            (Reply::multiline(250, None, vec![]), "250 \r\n"),
            (Reply::multiline(250, Some((2, 0, 0)), vec![]), "250 2.0.0\r\n"),
            (Reply::new(554, None, "evil\r\n250 OK"), "554 evil  250 OK\r\n"),
        ];
        for (reply, wire) in cases {
            assert_eq!(String::from_utf8(reply.to_bytes()).unwrap(), *wire, "{reply:?}");
        }
    }

    #[test]
    fn classifies_codes() {
        assert!(Reply::new(354, None, "").is_positive());
        assert!(Reply::new(451, None, "").is_transient());
        assert!(Reply::new(550, None, "").is_permanent());
    }
}
