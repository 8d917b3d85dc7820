//! xtext (RFC 3461 §4), the encoding of the DSN parameters `ENVID` and `ORCPT` and of the
//! `AUTH=` parameter of MAIL FROM (RFC 4954 §5).
//!
//! `+XX` (two hexadecimal digits) stands for one octet; any other printable ASCII character except
//! `+` and `=` stands for itself. Lower-case hex digits are accepted although RFC 3461 asks for
//! upper case, and raw UTF-8 characters are let through (RFC 6533 allows them in the `utf-8`
//! address type); the decoded octets must form UTF-8.

/// Decodes `input`; `None` when it is not valid xtext or does not decode to UTF-8.
pub fn decode_xtext(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => {
                let high = hex_value(*bytes.get(index + 1)?)?;
                let low = hex_value(*bytes.get(index + 2)?)?;
                out.push(high << 4 | low);
                index += 3;
            }
            b'=' => return None,
            b'!'..=b'~' | 0x80.. => {
                out.push(byte);
                index += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes `input` as xtext: octets outside `!`..`~`, and `+` and `=`, become `+XX`.
pub fn encode_xtext(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'+' | b'=' => out.push_str(&format!("+{byte:02X}")),
            b'!'..=b'~' => out.push(char::from(byte)),
            _ => out.push_str(&format!("+{byte:02X}")),
        }
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("abc", Some("abc")),
            ("", Some("")),
            ("a+2Bb", Some("a+b")),
            ("a+3db", Some("a=b")),
            ("rfc822;a+40b", Some("rfc822;a@b")),
            ("+C3+A9", Some("é")),
            ("é", Some("é")),
            ("a+2", None),
            ("a+", None),
            ("a+ZZ", None),
            ("a=b", None),
            ("a b", None),
            ("a\u{1}", None),
            ("+FF", None),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_xtext(input).as_deref(), *expected, "{input:?}");
        }
    }

    #[test]
    fn round_trips() {
        for text in ["", "plain", "a+b=c d", "ünïcode", "<>", "\u{7f}\t"] {
            let encoded = encode_xtext(text);
            assert!(encoded.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b'='), "{encoded}");
            assert_eq!(decode_xtext(&encoded).as_deref(), Some(text));
        }
    }
}
