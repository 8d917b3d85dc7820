//! clamd's reply on arbitrary input, fed in arbitrary pieces: never a panic, never more than
//! MAX_REPLY bytes kept, and the same verdict however the bytes are split.
#![no_main]

use altimail_antivirus::clamd_reply::{Framing, ReplyReader, parse};
use libfuzzer_sys::fuzz_target;

fn read(input: &[u8], chunk: usize) -> Option<Result<altimail_antivirus::clamd_reply::Reply, ()>> {
    let mut reader = ReplyReader::new(Framing::Nul);
    for piece in input.chunks(chunk.max(1)) {
        match reader.feed(piece) {
            Ok(Some(reply)) => return Some(Ok(reply)),
            Ok(None) => {}
            Err(_) => return Some(Err(())),
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(1));
    let chunk = usize::from(control.first().copied().unwrap_or(1));
    let _ = parse(input);
    assert_eq!(read(input, chunk), read(input, usize::MAX));
});
