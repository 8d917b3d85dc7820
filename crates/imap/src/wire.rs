//! Encoding of IMAP response data: atoms, quoted strings, literals, `NIL` (RFC 9051 §4).
//!
//! Every function appends to a caller-owned buffer, so a response is built without
//! intermediate strings. A string is sent quoted when it can be (short, 7-bit, no CR/LF/NUL)
//! and as a literal otherwise, which is always valid.

/// Longest string sent quoted; longer ones go as literals, which clients parse faster.
const MAX_QUOTED: usize = 1024;

/// Appends `s` as a quoted string, or a literal when quoting is not possible.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= MAX_QUOTED && s.iter().all(|&b| quotable(b)) {
        quoted(out, s);
    } else {
        literal(out, s);
    }
}

/// Appends `Some(s)` as a string and `None` as `NIL`.
pub fn nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Appends `s` as an atom when it is one (and not `NIL`), else as a string.
pub fn astring(out: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty() && s.iter().all(|&b| is_astring_char(b)) && !s.eq_ignore_ascii_case(b"NIL") {
        out.extend_from_slice(s);
    } else {
        string(out, s);
    }
}

/// Appends a synchronising-style literal `{n}\r\n` followed by the bytes.
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    literal_header(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends only the `{n}\r\n` of a literal whose `n` bytes the caller sends next (streamed).
pub fn literal_header(out: &mut Vec<u8>, len: u64) {
    out.push(b'{');
    number(out, len);
    out.extend_from_slice(b"}\r\n");
}

/// Appends `~{n}\r\n`, the header of a binary literal (RFC 3516), whose bytes follow.
pub fn binary_literal_header(out: &mut Vec<u8>, len: u64) {
    out.extend_from_slice(b"~{");
    number(out, len);
    out.extend_from_slice(b"}\r\n");
}

/// Appends `"s"` with `\` and `"` escaped. A valid IMAP quoted string only when every byte is
/// [`quotable`], which the caller checks.
pub fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends a decimal number.
pub fn number(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Whether a byte may appear in a quoted string (7-bit text without CR, LF and NUL).
pub fn quotable(b: u8) -> bool {
    matches!(b, 0x01..=0x7f) && b != b'\r' && b != b'\n'
}

/// ASTRING-CHAR: ATOM-CHAR or `]`.
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// ATOM-CHAR: printable ASCII except atom-specials `(){ %*"\]` and controls.
pub fn is_atom_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: fn(&mut Vec<u8>, &[u8]), s: &[u8]) -> String {
        let mut out = Vec::new();
        f(&mut out, s);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(enc(string, b"hello"), "\"hello\"");
        assert_eq!(enc(string, b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(enc(string, b"two\r\nlines"), "{10}\r\ntwo\r\nlines");
        assert_eq!(enc(string, "caf\u{e9}".as_bytes()), "{5}\r\ncaf\u{e9}");
        assert_eq!(enc(string, b""), "\"\"");
    }

    #[test]
    fn astrings_prefer_atoms() {
        assert_eq!(enc(astring, b"INBOX"), "INBOX");
        assert_eq!(enc(astring, b"a b"), "\"a b\"");
        assert_eq!(enc(astring, b"nil"), "\"nil\"");
        assert_eq!(enc(astring, b""), "\"\"");
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        number(&mut out, 0);
        out.push(b' ');
        number(&mut out, u64::MAX);
        assert_eq!(out, b"0 18446744073709551615");
    }
}
