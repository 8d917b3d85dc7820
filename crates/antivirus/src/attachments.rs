//! Attachments: finding them by file name and rewriting a message with some of them replaced
//! by a short text part, everything else kept byte for byte.
//!
//! The MIME structure comes from mail-parser, which lists every part of the message flat (a
//! multipart inside a multipart is just more parts), so walking it needs no recursion. Parts of
//! an attached message (`message/rfc822`) are not looked into: the attached message is one
//! attachment. At most [`MAX_PARTS`] parts are looked at.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use altimail_core::wildcard;

/// Parts examined per message; a message with more is examined up to here.
pub const MAX_PARTS: usize = 2000;

/// One attachment of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Index in the flat part list.
    pub part: usize,
    /// The file name, decoded (RFC 2047 / RFC 2231); `None` for an unnamed attachment.
    pub name: Option<String>,
    /// Byte range of the whole part (headers and body) in the message.
    pub start: usize,
    pub end: usize,
    /// True when the part is the message itself (a single-part message that is an attachment).
    pub is_root: bool,
    /// The decoded contents (for scanning each attachment on its own).
    pub contents: Vec<u8>,
}

/// The attachments of `message`: parts with a file name, and parts mail-parser counts as
/// attachments (neither the text nor the HTML body).
pub fn list(message: &[u8]) -> Vec<Attachment> {
    let Some(parsed) = MessageParser::default().parse(message) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if parsed.parts.len() > MAX_PARTS {
        tracing::warn!("message has {} MIME parts; only the first {MAX_PARTS} are examined", parsed.parts.len());
    }
    for (i, part) in parsed.parts.iter().enumerate().take(MAX_PARTS) {
        if matches!(part.body, PartType::Multipart(_)) {
            continue;
        }
        let name = part.attachment_name().map(str::to_owned);
        let listed = parsed.attachments.iter().any(|&a| a as usize == i);
        if name.is_none() && !listed {
            continue;
        }
        let (start, end) = (part.offset_header as usize, part.offset_end as usize);
        if start > end || end > message.len() {
            continue;
        }
        let contents = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Message(m) => m.raw_message().to_vec(),
            PartType::Multipart(_) => Vec::new(),
        };
        found.push(Attachment { part: i, name, start, end, is_root: i == 0, contents });
    }
    found
}

/// The attachments whose file name matches one of `wildcards`.
pub fn blocked(message: &[u8], wildcards: &[String]) -> Vec<Attachment> {
    list(message)
        .into_iter()
        .filter(|a| a.name.as_deref().is_some_and(|n| wildcards.iter().any(|w| wildcard::matches(w, n))))
        .collect()
}

/// `text` with `%MACRO_FILE%` replaced by `name`.
pub fn removed_text(template: &str, name: &str) -> String {
    template.replace("%MACRO_FILE%", name)
}

/// `message` with each of `attachments` replaced by a `text/plain` part named `<name>.txt`
/// whose text is `text_for(name)`. When `subject_prefix` is given, it is put before the
/// subject. Everything else is kept as it was.
pub fn replace(
    message: &[u8],
    attachments: &[Attachment],
    text_for: impl Fn(&str) -> String,
    subject_prefix: Option<&str>,
) -> Vec<u8> {
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let root = attachments.iter().find(|a| a.is_root);
    if let Some(a) = root {
        let name = a.name.clone().unwrap_or_else(|| "attachment".to_owned());
        edits.extend(root_edits(message, &name, &text_for(&name)));
    } else {
        let mut sorted: Vec<&Attachment> = attachments.iter().collect();
        sorted.sort_by_key(|a| a.start);
        let mut last_end = 0;
        for a in sorted {
            if a.start < last_end {
                continue;
            }
            let name = a.name.clone().unwrap_or_else(|| "attachment".to_owned());
            edits.push((a.start, a.end, text_part(&name, &text_for(&name), true)));
            last_end = a.end;
        }
    }
    if let Some(prefix) = subject_prefix {
        edits.push(subject_edit(message, prefix));
    }
    apply(message, edits)
}

fn apply(message: &[u8], mut edits: Vec<(usize, usize, Vec<u8>)>) -> Vec<u8> {
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = Vec::with_capacity(message.len());
    let mut at = 0;
    for (start, end, bytes) in edits {
        if start < at || end > message.len() {
            continue;
        }
        out.extend_from_slice(&message[at..start]);
        out.extend_from_slice(&bytes);
        at = end;
    }
    out.extend_from_slice(&message[at..]);
    out
}

/// Inserts `prefix: ` before the subject's text, or adds a Subject line when there is none.
fn subject_edit(message: &[u8], prefix: &str) -> (usize, usize, Vec<u8>) {
    let header_end = header_end(message);
    if let Some(parsed) = MessageParser::default().parse_headers(message)
        && let Some(h) = parsed.root_part().headers.iter().find(|h| h.name.as_str().eq_ignore_ascii_case("subject"))
    {
        let mut at = h.offset_start as usize;
        while at < message.len() && (message[at] == b' ' || message[at] == b'\t') {
            at += 1;
        }
        if at <= header_end {
            return (at, at, format!("{prefix}: ").into_bytes());
        }
    }
    (0, 0, format!("Subject: {prefix}\r\n").into_bytes())
}

/// Where the header block ends (the blank line's start), or the message's end.
fn header_end(message: &[u8]) -> usize {
    let crlf = message.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2);
    let lf = message.windows(2).position(|w| w == b"\n\n").map(|p| p + 1);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(message.len()),
    }
}

/// A single-part message that is itself the attachment: its Content-* header lines give way
/// to the text part's, and its body to the text.
fn root_edits(message: &[u8], name: &str, text: &str) -> Vec<(usize, usize, Vec<u8>)> {
    let end = header_end(message);
    let mut edits = Vec::new();
    let mut line_start = 0;
    while line_start < end {
        let line_end = next_field_end(message, line_start, end);
        let line = &message[line_start..line_end];
        let is_content = line.len() >= 8 && line[..8].eq_ignore_ascii_case(b"content-");
        if is_content {
            edits.push((line_start, line_end, Vec::new()));
        }
        line_start = line_end;
    }
    // The new part's header lines, a blank line, its body, in place of the old body.
    let part = text_part(name, text, false);
    edits.push((end, message.len(), part));
    edits
}

/// The end of the header field starting at `start` (continuation lines included).
fn next_field_end(message: &[u8], start: usize, limit: usize) -> usize {
    let mut at = start;
    loop {
        match message[at..limit].iter().position(|&b| b == b'\n') {
            Some(p) => at += p + 1,
            None => return limit,
        }
        if at >= limit || !(message[at] == b' ' || message[at] == b'\t') {
            return at;
        }
    }
}

/// A `text/plain` part named `<name>.txt` (headers, blank line, body; no trailing line break
/// after the body when `inside_multipart`, since the boundary line's own CRLF follows).
pub fn text_part(name: &str, text: &str, inside_multipart: bool) -> Vec<u8> {
    let file = format!("{name}.txt");
    let (name_param, file_param) = if file.is_ascii() && !file.contains(['"', '\\', '\r', '\n']) {
        (format!("name=\"{file}\""), format!("filename=\"{file}\""))
    } else {
        let encoded = rfc2231(&file);
        (format!("name*=utf-8''{encoded}"), format!("filename*=utf-8''{encoded}"))
    };
    let mut out = format!("Content-Type: text/plain; charset=\"utf-8\"; {name_param}\r\n");
    let body = if text.is_ascii() {
        out.push_str("Content-Transfer-Encoding: 7bit\r\n");
        text.to_owned()
    } else {
        out.push_str("Content-Transfer-Encoding: base64\r\n");
        base64_lines(text.as_bytes())
    };
    out.push_str(&format!("Content-Disposition: attachment; {file_param}\r\n\r\n"));
    out.push_str(&body);
    if !inside_multipart && !out.ends_with('\n') {
        out.push_str("\r\n");
    }
    let mut bytes = out.into_bytes();
    if inside_multipart {
        while bytes.ends_with(b"\n") {
            bytes.pop();
            if bytes.ends_with(b"\r") {
                bytes.pop();
            }
        }
    }
    bytes
}

/// Percent-encoding for an RFC 2231 parameter value.
fn rfc2231(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64_lines(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push_str("\r\n");
    out
}
