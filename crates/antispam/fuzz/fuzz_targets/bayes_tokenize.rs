//! The Bayesian tokenizer on arbitrary bytes as a message: never a panic, at most MAX_TOKENS
//! distinct tokens, none much longer than MAX_TOKEN_CHARS except link hosts and addresses.
#![no_main]

use std::collections::HashSet;

use altimail_antispam::bayes::{MAX_TOKENS, message_key, tokenize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tokens = tokenize(data);
    assert!(tokens.len() <= MAX_TOKENS);
    assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), tokens.len());
    assert!(tokens.iter().all(|t| t.chars().count() <= 300), "{tokens:?}");
    let _ = message_key(data);
});
