//! Arbitrary LIST reference, pattern and mailbox name (NUL-separated, UTF-8 lossily): the
//! matcher never panics and, on small inputs, agrees with the plain recursive definition.
//! See `tests/exercise/mod.rs`.
#![no_main]

use altimail_imap_fuzz::exercise;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0');
    let reference = fields.next().unwrap_or_default();
    let pattern = fields.next().unwrap_or_default();
    let name = fields.next().unwrap_or_default();
    let delimiter = if fields.next().is_some() { '/' } else { '.' };
    exercise::list_pattern(reference, pattern, name, delimiter);
});
