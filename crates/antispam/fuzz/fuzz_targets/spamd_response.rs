//! spamd's response on arbitrary bytes: never a panic; an accepted response keeps exactly the
//! announced body, and the result drawn from it keeps only `X-Spam-*` headers.
#![no_main]

use altimail_antispam::spamassassin::{parse_response, result_of, spam_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = spam_status(&String::from_utf8_lossy(data));
    if let Ok(response) = parse_response(data) {
        assert!(response.body.len() <= data.len());
        assert!(data.ends_with(&response.body));
        let result = result_of(response);
        assert!(result.headers.iter().all(|(n, _)| n.to_ascii_lowercase().starts_with("x-spam-")));
    }
});
