//! The SURBL link scan on arbitrary text and messages: never a panic, at most the allowed
//! number of distinct domains, each a registered domain of its own.
#![no_main]

use altimail_antispam::checks::domain::registered;
use altimail_antispam::checks::surbl::{Limits, domains_in_message, domains_in_text};
use libfuzzer_sys::fuzz_target;

fn check(found: &[String], max: usize) {
    assert!(found.len() <= max);
    for (i, d) in found.iter().enumerate() {
        assert!(!found[..i].contains(d), "duplicate {d}");
        assert_eq!(registered(d).as_deref(), Some(d.as_str()), "not a registered domain: {d:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    domains_in_text(data, 8, &mut out);
    check(&out, 8);
    let limits = Limits { max_message_bytes: 64 * 1024, max_bytes: 16 * 1024, max_domains: 8 };
    check(&domains_in_message(data, limits), 8);
});
