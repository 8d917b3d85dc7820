//! A message as criteria see it (decoded header values, body text, size), and the header edits
//! actions make on the raw message.

use std::cell::OnceCell;

use mail_parser::{MessageParser, PartType};

/// The header that counts how often generated mail (forwards, replies, copies) went round.
pub const LOOP_COUNT_HEADER: &str = "X-hMailServer-LoopCount";

/// One header field of a raw message: its name and where its line(s) lie.
struct Field<'a> {
    name: &'a [u8],
    /// The value after the colon, folding included, without the final line end.
    value: &'a [u8],
    /// The whole field, from its name to after its last line end.
    start: usize,
    end: usize,
}

/// The header fields of `raw` in order, and where the header block ends (the start of the empty
/// line, or the end of `raw`).
fn fields(raw: &[u8]) -> (Vec<Field<'_>>, usize) {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let line_end = raw[pos..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..line_end];
        let content = trim_line_end(line);
        if content.is_empty() {
            return (out, pos);
        }
        if matches!(content[0], b' ' | b'\t') {
            // A continuation line belongs to the field before it.
            if let Some(last) = out.last_mut() {
                last.end = line_end;
                last.value = trim_line_end(&raw[last.start + last.name.len() + 1..line_end]);
            }
        } else if let Some(colon) = content.iter().position(|&b| b == b':') {
            out.push(Field { name: &content[..colon], value: &content[colon + 1..], start: pos, end: line_end });
        }
        pos = line_end;
    }
    (out, raw.len())
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

fn name_is(field: &Field<'_>, name: &str) -> bool {
    let n = trim_ascii(field.name);
    n.eq_ignore_ascii_case(name.as_bytes())
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &b[start..end]
}

/// The raw value of the first `name` header: unfolded, trimmed, not decoded; `""` when missing
/// (hMailServer's `GetRawFieldValue`).
pub fn raw_header(raw: &[u8], name: &str) -> String {
    let (list, _) = fields(raw);
    list.iter().find(|f| name_is(f, name)).map(|f| unfold(f.value)).unwrap_or_default()
}

fn unfold(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let joined: String = text.split(['\r', '\n']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("");
    joined.trim().to_owned()
}

/// `X-hMailServer-LoopCount` of `raw` (its leading number; 0 when missing or not a number).
pub fn loop_count(raw: &[u8]) -> i64 {
    let value = raw_header(raw, LOOP_COUNT_HEADER);
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// `raw` with header `name` set to `value` (hMailServer's `SetFieldValue`): the first field of
/// that name is replaced, or the field is added at the end of the header block. A value that is
/// not ASCII is RFC 2047-encoded; line breaks in it are removed.
pub fn set_header(raw: &[u8], name: &str, value: &str) -> Vec<u8> {
    let name: String = name.chars().filter(|c| c.is_ascii_graphic() && *c != ':').collect();
    if name.is_empty() {
        return raw.to_vec();
    }
    let line_end: &[u8] = if raw.windows(2).any(|w| w == b"\r\n") || raw.is_empty() { b"\r\n" } else { b"\n" };
    let mut line = format!("{name}: {}", encode_value(value)).into_bytes();
    line.extend_from_slice(line_end);
    let (list, header_end) = fields(raw);
    let mut out = Vec::with_capacity(raw.len() + line.len());
    match list.iter().find(|f| name_is(f, &name)) {
        Some(f) => {
            out.extend_from_slice(&raw[..f.start]);
            out.extend_from_slice(&line);
            out.extend_from_slice(&raw[f.end..]);
        }
        None => {
            out.extend_from_slice(&raw[..header_end]);
            // A header block that ends without a line end (no body at all) gets one first.
            if header_end > 0 && raw[header_end - 1] != b'\n' {
                out.extend_from_slice(line_end);
            }
            out.extend_from_slice(&line);
            if header_end == raw.len() {
                out.extend_from_slice(line_end);
            }
            out.extend_from_slice(&raw[header_end..]);
        }
    }
    out
}

/// A header value as written: line breaks removed, RFC 2047 (UTF-8, base64) when not ASCII.
fn encode_value(value: &str) -> String {
    let clean: String = value.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
    if clean.is_ascii() {
        return clean;
    }
    // Encoded words of at most 45 bytes of text each (60 characters of base64), on whole
    // characters.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join(" ")
}

fn base64(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A message as the criteria see it. Header values are decoded (RFC 2047) like hMailServer's
/// `GetFieldValue`; the body is parsed only when a criterion asks for it.
pub struct MessageView<'a> {
    raw: &'a [u8],
    headers: OnceCell<Vec<(String, String)>>,
    body: OnceCell<String>,
}

impl<'a> MessageView<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        MessageView { raw, headers: OnceCell::new(), body: OnceCell::new() }
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The decoded value of the first `name` header; `""` when missing.
    pub fn header(&self, name: &str) -> String {
        let headers = self.headers.get_or_init(|| decode_headers(self.raw));
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The plain-text body followed by the HTML body (hMailServer's `GetBody() + GetHTMLBody()`).
    pub fn body(&self) -> &str {
        self.body.get_or_init(|| body_text(self.raw))
    }

    pub fn size(&self) -> usize {
        self.raw.len()
    }
}

/// Every header's decoded value, in order: encoded words decoded, the rest as written (an
/// address header reads `"Name" <a@b>`), as hMailServer's `GetUnicodeFieldValue` does. Each
/// value is decoded as the unstructured text of a `Subject` field, so no header gets a
/// structured parser.
fn decode_headers(raw: &[u8]) -> Vec<(String, String)> {
    let (list, _) = fields(raw);
    let parser = MessageParser::new();
    list.iter()
        .map(|f| {
            let name = String::from_utf8_lossy(trim_ascii(f.name)).into_owned();
            let mut block = b"Subject:".to_vec();
            block.extend_from_slice(f.value);
            block.extend_from_slice(b"\r\n\r\n");
            let value = parser
                .parse_headers(&block[..])
                .and_then(|m| m.headers().first().and_then(|h| h.value().as_text().map(|t| t.trim().to_owned())))
                .unwrap_or_else(|| unfold(f.value));
            (name, value)
        })
        .collect()
}

/// The first text/plain part's text followed by the first text/html part's source.
fn body_text(raw: &[u8]) -> String {
    let Some(message) = MessageParser::default().parse(raw) else { return String::new() };
    let mut out = String::new();
    let text_part = message.text_body.first().and_then(|&i| message.parts.get(i as usize));
    if let Some(part) = text_part
        && let PartType::Text(text) = &part.body
    {
        out.push_str(text);
    }
    let html_part = message.html_body.first().and_then(|&i| message.parts.get(i as usize));
    if let Some(part) = html_part
        && let PartType::Html(html) = &part.body
    {
        out.push_str(html);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_headers_unfold_and_loop_count_reads_a_leading_number() {
        let raw = b"Subject: one\r\n two\r\nX-hMailServer-LoopCount: 3x\r\n\r\nSubject: body\r\n";
        assert_eq!(raw_header(raw, "subject"), "one two");
        assert_eq!(loop_count(raw), 3);
        assert_eq!(loop_count(b"\r\n"), 0);
        assert_eq!(raw_header(b"Subject: x", "Subject"), "x");
    }

    #[test]
    fn set_header_replaces_the_first_or_appends() {
        let raw = b"A: 1\r\nB: 2\r\n  more\r\nB: 3\r\n\r\nbody B: 4\r\n";
        assert_eq!(set_header(raw, "b", "new"), b"A: 1\r\nb: new\r\nB: 3\r\n\r\nbody B: 4\r\n");
        assert_eq!(set_header(raw, "C", "c"), b"A: 1\r\nB: 2\r\n  more\r\nB: 3\r\nC: c\r\n\r\nbody B: 4\r\n");
        assert_eq!(set_header(b"A: 1", "C", "c"), b"A: 1\nC: c\n\n");
        assert_eq!(set_header(b"A: 1\n\nbody\n", "C", "x\r\ny"), b"A: 1\nC: x  y\n\nbody\n");
        assert_eq!(set_header(b"", "C", "c"), b"C: c\r\n\r\n");
        assert_eq!(set_header(b"A: 1\r\n\r\n", ":", "c"), b"A: 1\r\n\r\n");
        let encoded = set_header(b"A: 1\r\n\r\n", "S", "Grüße");
        assert_eq!(MessageView::new(&encoded).header("s"), "Grüße");
    }

    #[test]
    fn view_decodes_headers_and_reads_both_bodies() {
        let raw = b"From: =?UTF-8?B?SsO2cmc=?= <j@example.com>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain words\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--b--\r\n";
        let v = MessageView::new(raw);
        assert_eq!(v.header("from"), "Jörg <j@example.com>");
        assert_eq!(v.header("SUBJECT"), "café");
        assert_eq!(v.header("X-Missing"), "");
        assert!(v.body().contains("plain words") && v.body().contains("<p>html words</p>"), "{}", v.body());
        assert_eq!(v.size(), raw.len());
    }
}
