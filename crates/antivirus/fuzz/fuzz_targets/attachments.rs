//! The attachment walker and rewriter on arbitrary messages: never a panic, at most MAX_PARTS
//! attachments, and a rewrite that keeps every byte outside the replaced parts.
#![no_main]

use altimail_antivirus::attachments::{self, MAX_PARTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let found = attachments::list(data);
    assert!(found.len() <= MAX_PARTS);
    let wildcards = vec!["*".to_owned(), "*.exe".to_owned(), "?".to_owned()];
    let blocked = attachments::blocked(data, &wildcards);
    let rewritten = attachments::replace(data, &blocked, |n| format!("removed {n}"), None);
    if blocked.is_empty() {
        assert_eq!(rewritten, data);
    }
    let _ = attachments::replace(data, &found, |_| "virus".to_owned(), Some("Virus found"));
    let _ = mail_parser::MessageParser::default().parse(&rewritten);
});
