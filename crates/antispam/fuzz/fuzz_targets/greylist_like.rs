//! The greylisting white-list matcher on arbitrary patterns and texts (split at the first NUL
//! byte): never a panic or a hang; a wildcard without `*`/`?` matches itself, `*` matches all,
//! and the wildcard/LIKE conversion round-trips.
#![no_main]

use altimail_store::repo::greylisting::{like_matches, like_to_wildcard, wildcard_to_like};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let pattern = String::from_utf8_lossy(&data[..split]);
    let text = String::from_utf8_lossy(data.get(split + 1..).unwrap_or_default());
    let _ = like_matches(&pattern, &text);
    let like = wildcard_to_like(&pattern);
    let _ = like_matches(&like, &text);
    assert_eq!(like_to_wildcard(&like), pattern);
    assert!(like_matches("%", &text));
    let literal: String = text.chars().filter(|c| !matches!(c, '*' | '?')).collect();
    assert!(like_matches(&wildcard_to_like(&literal), &literal), "{literal:?}");
});
