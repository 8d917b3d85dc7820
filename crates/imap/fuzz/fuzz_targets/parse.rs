//! Arbitrary bytes, raw and mapped into the IMAP alphabet, straight into the parser: it never
//! panics, and whatever parses has a tag.
#![no_main]

use altimail_imap::parse::{parse_command, parse_idle_done, tag_of};
use altimail_imap_fuzz::into_alphabet;
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
    if parse_command(data).is_ok() {
        assert!(tag_of(data).is_some(), "a parsed command has a tag");
    }
    let _ = parse_idle_done(data);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&into_alphabet(data));
});
