//! Arbitrary bytes as header values (one a line, given to From, To, Subject, Date,
//! Content-Type… in turn): address lists, RFC 2047 words, MIME parameters with RFC 2231
//! continuations, dates, message IDs and base subjects, through ENVELOPE, BODYSTRUCTURE,
//! SEARCH, SORT and THREAD. See `tests/exercise/mod.rs`.
#![no_main]

use altimail_imap_fuzz::exercise;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    exercise::headers(data);
});
