//! Reading and changing header fields of a raw message without parsing it whole: what
//! `oMessage.HeaderValue(name)` and `oMessage.HeaderValue(name) = value` do.
//!
//! The message is bytes that need not be UTF-8; fields are found by byte positions returned
//! by searches, never by offsets into text.

/// Where the header block ends: the index just past the empty line, or the message's length
/// when it has no body.
pub fn header_end(raw: &[u8]) -> usize {
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    if raw.starts_with(b"\n") {
        return 1;
    }
    let mut i = 0;
    while let Some(nl) = raw.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
        let next = i + nl + 1;
        match raw.get(next..) {
            Some(rest) if rest.starts_with(b"\r\n") => return next + 2,
            Some(rest) if rest.starts_with(b"\n") => return next + 1,
            _ => {}
        }
        i = next;
    }
    raw.len()
}

/// The fields of the header block as (start, end) byte ranges, continuation lines included.
fn fields(raw: &[u8]) -> Vec<(usize, usize)> {
    let end = header_end(raw);
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < end {
        let line_end =
            raw.get(i..end).and_then(|rest| rest.iter().position(|&b| b == b'\n')).map(|p| i + p + 1).unwrap_or(end);
        let first = raw.get(i).copied().unwrap_or(b'\n');
        let blank = matches!(first, b'\r' | b'\n');
        if blank {
            break;
        }
        if matches!(first, b' ' | b'\t') {
            if let Some(last) = out.last_mut() {
                last.1 = line_end;
            }
        } else {
            out.push((i, line_end));
        }
        i = line_end;
    }
    out
}

fn name_of(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    let name = field.get(..colon).unwrap_or_default();
    name.trim_ascii()
}

fn value_of(field: &[u8]) -> String {
    let colon = field.iter().position(|&b| b == b':').map(|p| p + 1).unwrap_or(field.len());
    let value = field.get(colon..).unwrap_or_default();
    let unfolded: Vec<u8> = value.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    String::from_utf8_lossy(unfolded.trim_ascii()).into_owned()
}

/// The unfolded value of the first field called `name` (case-insensitive), if any.
pub fn get(raw: &[u8], name: &str) -> Option<String> {
    fields(raw).into_iter().find_map(|(s, e)| {
        let field = raw.get(s..e)?;
        name_of(field).eq_ignore_ascii_case(name.as_bytes()).then(|| value_of(field))
    })
}

/// Sets the first field called `name` to `value`, or adds the field at the end of the header
/// block. Line breaks in `value` are removed (a script cannot add fields this way); text that
/// is not ASCII is written as an RFC 2047 encoded word.
pub fn set(raw: &mut Vec<u8>, name: &str, value: &str) {
    let clean_name: String = name.chars().filter(|c| c.is_ascii_graphic() && *c != ':').collect();
    if clean_name.is_empty() {
        return;
    }
    let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let line = format!("{clean_name}: {}\r\n", encode_word(&value)).into_bytes();
    let found = fields(raw)
        .into_iter()
        .find(|&(s, e)| raw.get(s..e).is_some_and(|field| name_of(field).eq_ignore_ascii_case(clean_name.as_bytes())));
    match found {
        Some((s, e)) => {
            raw.splice(s..e, line);
        }
        None => {
            let end = header_end(raw);
            // Insert before the empty line (or at the end of a message without one).
            let at = if end == raw.len() && !ends_with_blank(raw) {
                if !raw.is_empty() && !raw.ends_with(b"\n") {
                    raw.extend_from_slice(b"\r\n");
                }
                raw.len()
            } else if raw.get(..end).is_some_and(|h| h.ends_with(b"\r\n")) {
                end - 2
            } else {
                end.saturating_sub(1)
            };
            raw.splice(at..at, line);
        }
    }
}

fn ends_with_blank(raw: &[u8]) -> bool {
    raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\n")
}

/// `text` as it can stand in a header: itself when ASCII, else one UTF-8 base64 encoded word.
pub fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    format!("=?UTF-8?B?{}?=", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@example.com\r\nSubject: hello\r\n  world\r\nX-A: 1\r\n\r\nbody\r\n";

    #[test]
    fn reads_unfolded_values_case_insensitively() {
        assert_eq!(get(MSG, "subject").as_deref(), Some("hello  world"));
        assert_eq!(get(MSG, "X-a").as_deref(), Some("1"));
        assert_eq!(get(MSG, "body"), None);
    }

    #[test]
    fn replaces_a_field_and_adds_a_missing_one_before_the_body() {
        let mut raw = MSG.to_vec();
        set(&mut raw, "Subject", "new");
        set(&mut raw, "X-Spam", "YES");
        assert_eq!(raw, b"From: a@example.com\r\nSubject: new\r\nX-A: 1\r\nX-Spam: YES\r\n\r\nbody\r\n".to_vec());
    }

    #[test]
    fn a_value_cannot_add_fields_and_non_ascii_is_encoded() {
        let mut raw = MSG.to_vec();
        set(&mut raw, "X-B", "a\r\nBcc: evil@example.com");
        assert_eq!(get(&raw, "x-b").as_deref(), Some("aBcc: evil@example.com"));
        set(&mut raw, "X-C", "é");
        assert_eq!(get(&raw, "x-c").as_deref(), Some("=?UTF-8?B?w6k=?="));
    }

    #[test]
    fn messages_without_body_or_with_lf_only() {
        let mut raw = b"Subject: x".to_vec();
        set(&mut raw, "X-A", "1");
        assert_eq!(raw, b"Subject: x\r\nX-A: 1\r\n".to_vec());
        let mut raw = b"Subject: x\n\nbody".to_vec();
        set(&mut raw, "X-A", "1");
        assert_eq!(get(&raw, "x-a").as_deref(), Some("1"));
        assert!(raw.ends_with(b"\n\nbody"));
    }
}
