//! POP3 responses (RFC 1939 §3): a status line `+OK text` or `-ERR text`, optionally followed by
//! a multi-line body ended by `.`; the SASL continuation `+ challenge` (RFC 5034 §4); and the
//! extended response codes of RFC 2449 §8 and RFC 3206 (`-ERR [IN-USE] ...`).
//!
//! A [`Response`] is a value; which one answers which situation is decided in
//! `session::replies`, not here. The writer guarantees well-formed output whatever the text
//! holds: CR and LF become spaces (a response can never smuggle an extra line), body lines
//! starting with `.` are dot-stuffed, and every line is cut to [`MAX_RESPONSE_LINE`] octets.
//! Message bodies are not `Response`s: they go through [`BodyEncoder`](super::BodyEncoder).

use std::fmt;

/// Longest response line in octets, CRLF included (RFC 2449 §4).
pub const MAX_RESPONSE_LINE: usize = 512;

/// The status indicator of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `+OK`
    Ok,
    /// `-ERR`
    Err,
    /// `+ `: a SASL continuation (RFC 5034 §4); its text is the base64 challenge.
    Continue,
}

/// An extended response code in brackets after `-ERR` (RFC 2449 §8, RFC 3206), telling the
/// client why without it having to parse the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RespCode {
    /// `[IN-USE]`: the mailbox is locked by another session (RFC 2449 §8.1.1).
    InUse,
    /// `[SYS/TEMP]`: a temporary problem on the server (RFC 3206 §4).
    SysTemp,
    /// `[SYS/PERM]`: a permanent problem on the server (RFC 3206 §4).
    SysPerm,
    /// `[AUTH]`: the credentials were wrong (RFC 3206 §5).
    Auth,
}

impl RespCode {
    /// The code as written between the brackets.
    pub fn as_str(self) -> &'static str {
        match self {
            RespCode::InUse => "IN-USE",
            RespCode::SysTemp => "SYS/TEMP",
            RespCode::SysPerm => "SYS/PERM",
            RespCode::Auth => "AUTH",
        }
    }
}

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `+OK`, `-ERR` or `+ `.
    pub status: Status,
    /// The response code, for `-ERR` responses.
    pub code: Option<RespCode>,
    /// The text after the status indicator (and code); may be empty.
    pub text: String,
    /// The lines of a multi-line response (CAPA, LIST, UIDL), without dot-stuffing; `None` for a
    /// single-line response.
    pub lines: Option<Vec<String>>,
}

impl Response {
    /// A single-line `+OK text`.
    pub fn ok(text: impl Into<String>) -> Self {
        Response { status: Status::Ok, code: None, text: text.into(), lines: None }
    }

    /// A single-line `-ERR [code] text`.
    pub fn err(code: Option<RespCode>, text: impl Into<String>) -> Self {
        Response { status: Status::Err, code, text: text.into(), lines: None }
    }

    /// A multi-line `+OK text`, the lines, then `.`.
    pub fn multiline(text: impl Into<String>, lines: Vec<String>) -> Self {
        Response { status: Status::Ok, code: None, text: text.into(), lines: Some(lines) }
    }

    /// A SASL continuation `+ challenge` (the challenge already base64-encoded).
    pub fn continuation(challenge: impl Into<String>) -> Self {
        Response { status: Status::Continue, code: None, text: challenge.into(), lines: None }
    }

    /// `true` for `+OK` and `+ `.
    pub fn is_positive(&self) -> bool {
        self.status != Status::Err
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut status = String::from(match self.status {
            Status::Ok => "+OK",
            Status::Err => "-ERR",
            Status::Continue => "+",
        });
        if let Some(code) = self.code.filter(|_| self.status == Status::Err) {
            status.push_str(" [");
            status.push_str(code.as_str());
            status.push(']');
        }
        if !self.text.is_empty() || self.status == Status::Continue {
            status.push(' ');
            status.push_str(&self.text);
        }
        write_line(out, &status, false);
        if let Some(lines) = &self.lines {
            for line in lines {
                write_line(out, line, true);
            }
            out.extend_from_slice(b".\r\n");
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

/// Writes one line: CR and LF become spaces, a leading `.` is doubled when `stuff`, and the line
/// is cut (at a character boundary) so that it fits [`MAX_RESPONSE_LINE`] with its CRLF.
fn write_line(out: &mut Vec<u8>, line: &str, stuff: bool) {
    let mut budget = MAX_RESPONSE_LINE - 2;
    if stuff && line.starts_with('.') {
        out.push(b'.');
        budget -= 1;
    }
    let mut end = line.len().min(budget);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    out.extend(line.as_bytes().iter().take(end).map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

impl fmt::Display for Response {
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
    fn writes_responses() {
        let cases: &[(Response, &str)] = &[
            (Response::ok("2 320"), "+OK 2 320\r\n"),
            (Response::ok(""), "+OK\r\n"),
            (Response::err(None, "No such message"), "-ERR No such message\r\n"),
            (Response::err(Some(RespCode::InUse), "locked"), "-ERR [IN-USE] locked\r\n"),
            (Response::err(Some(RespCode::SysTemp), ""), "-ERR [SYS/TEMP]\r\n"),
            (Response::continuation(""), "+ \r\n"),
            (Response::continuation("abc="), "+ abc=\r\n"),
            (
                Response::multiline("2 messages", vec!["1 120".into(), "2 200".into()]),
                "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n",
            ),
            (Response::multiline("", vec![".dot".into(), "".into()]), "+OK\r\n..dot\r\n\r\n.\r\n"),
            (Response::multiline("none", vec![]), "+OK none\r\n.\r\n"),
            (Response::err(None, "evil\r\n+OK"), "-ERR evil  +OK\r\n"),
        ];
        for (response, wire) in cases {
            assert_eq!(String::from_utf8(response.to_bytes()).unwrap(), *wire, "{response:?}");
        }
        assert_eq!(Response::multiline("x", vec!["a".into()]).to_string(), "+OK x\r\na\r\n.");
    }

    #[test]
    fn cuts_long_lines_at_character_boundaries() {
        let long = "ä".repeat(600);
        for response in [Response::ok(long.clone()), Response::multiline("x", vec![format!(".{long}")])] {
            let bytes = response.to_bytes();
            let text = String::from_utf8(bytes).expect("still UTF-8");
            for line in text.split_terminator("\r\n") {
                assert!(line.len() + 2 <= MAX_RESPONSE_LINE, "{}", line.len());
            }
        }
    }
}
