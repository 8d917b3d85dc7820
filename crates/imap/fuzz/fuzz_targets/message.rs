//! Arbitrary bytes as a stored message: the MIME scanner (in chunks of a size the first byte
//! picks), ENVELOPE, BODY, BODYSTRUCTURE, every section and BINARY decoding, the binary-part
//! conversion, and SEARCH/SORT/THREAD on it. See `tests/exercise/mod.rs`.
#![no_main]

use altimail_imap_fuzz::exercise;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (chunk, message) = data.split_first().map_or((1, data), |(c, m)| (usize::from(*c) + 1, m));
    exercise::message(message, chunk);
});
