//! The header reader behind MIME-recipient routing on arbitrary messages: nothing panics, every
//! value is unfolded, and every address found is one address (an `@`, no white space, at most
//! 255 bytes) of the header it came from.
#![no_main]

use altimail_fetch::mime::{addresses, header_values, prepend, sender};
use libfuzzer_sys::fuzz_target;

/// Pieces of address headers that reach quoting, comments, groups and folding quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n", b"\r\n ", b"\n", b"\r\n\r\n", b" ", b"\t", b"To: ", b"Cc: ", b"From: ", b"Return-Path: ",
    b"X-Envelope-To: ", b":", b";", b",", b"\"", b"(", b")", b"<", b">", b"@", b"a", b"b@c.test", b"group:",
    b"\\", b"\xc3\xa4", b"\xff", b"\0",
];

fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&b| ALPHABET[usize::from(b) % ALPHABET.len()].iter().copied()).collect()
}

fn check(raw: &[u8]) {
    let values = header_values(raw, &["To", "Cc", "X-Envelope-To"]);
    for v in &values {
        assert!(!v.contains('\n'), "unfolded");
        for a in addresses(v) {
            assert!(a.contains('@') && !a.contains(char::is_whitespace) && a.len() <= 255, "{a:?}");
        }
    }
    let s = sender(raw);
    assert!(s.is_empty() || s.contains('@'));
    assert!(prepend("X-A: b\r\n", raw).ends_with(raw));
    if let Ok(text) = std::str::from_utf8(raw) {
        let _ = addresses(text);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&into_alphabet(data));
});
