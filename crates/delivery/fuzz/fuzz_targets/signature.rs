//! The signature walker on arbitrary messages, on messages in MIME's alphabet and on them nested
//! up to 6,000 multipart levels deep: nothing panics or overflows the stack, the top-level header
//! block is kept, an empty signature changes nothing, and a message nested past the depth limit
//! comes back unchanged.
#![no_main]

use altimail_delivery::signature::{MAX_DEPTH, add};
use altimail_delivery_fuzz::{into_alphabet, nested};
use libfuzzer_sys::fuzz_target;

fn head_of(m: &[u8]) -> &[u8] {
    if m.starts_with(b"\r\n") {
        return &m[..0];
    }
    match m.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => &m[..i + 2],
        None => m,
    }
}

fn check(message: &[u8]) {
    let out = add(message, "-- \r\nJ\u{f6}hn", "<b>J\u{f6}hn</b>");
    assert!(out.starts_with(head_of(message)), "the top-level header block is kept");
    assert_eq!(add(message, "", ""), message, "no signature, no change");
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mime = into_alphabet(data);
    check(&mime);
    if let Some((&[hi, lo], rest)) = data.split_first_chunk::<2>() {
        let levels = usize::from(u16::from_be_bytes([hi, lo])) % 6_000;
        let deep = nested(levels, &into_alphabet(rest));
        check(&deep);
        if levels > MAX_DEPTH {
            // Too deep to look into: nothing is signed.
            assert_eq!(add(&deep, "S", "H"), deep);
        }
    }
});
