//! DNSBL expected results on arbitrary text: never a panic or a hang; the first four bytes
//! are the answer, the rest the expected-result text.
#![no_main]

use std::net::Ipv4Addr;

use altimail_antispam::checks::dnsbl::expected_matches;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let answer = Ipv4Addr::new(data[0], data[1], data[2], data[3]);
    let expected = String::from_utf8_lossy(&data[4..]);
    let hit = expected_matches(&expected, answer);
    // The answer written out is always one of its own expected results.
    assert!(expected_matches(&answer.to_string(), answer));
    if expected.split('|').all(|e| e.trim().is_empty()) {
        assert!(!hit, "an empty expected result lists nobody");
    }
});
