//! Registered domains of arbitrary host names: never a panic; the answer is lower case, has at
//! least two non-empty labels and ends the (lower-cased) input.
#![no_main]

use altimail_antispam::checks::domain::registered;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let host = String::from_utf8_lossy(data);
    if let Some(domain) = registered(&host) {
        assert!(!domain.bytes().any(|b| b.is_ascii_uppercase()));
        assert!(domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty()));
        assert!(host.to_ascii_lowercase().trim().trim_end_matches('.').ends_with(&domain));
    }
});
