//! The reply decoder on arbitrary server output, whole and cut into reads at arbitrary points:
//! nothing panics, the cut makes no difference, every reply stays within its limits, and a reply
//! rendered back to the wire decodes to itself.
#![no_main]

use altimail_outbound::reply::{Reply, ReplyReader};
use libfuzzer_sys::fuzz_target;

/// Pieces of SMTP replies that reach multi-line and error states quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n", b"\n", b"\r", b" ", b"-", b"250", b"250-", b"250 ", b"220 ", b"354 ", b"421-", b"451 ", b"550 ",
    b"199 ", b"600 ", b"25", b"5.1.1", b"PIPELINING", b"SIZE 100", b"STARTTLS", b"DSN", b"\xc3\xa4", b"\xff", b"\0",
];

fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&b| ALPHABET[usize::from(b) % ALPHABET.len()].iter().copied()).collect()
}

/// Every reply decoded from `chunks` fed in turn, up to the first error.
fn decode<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Reply>, bool) {
    let mut reader = ReplyReader::new();
    let mut replies = Vec::new();
    for chunk in chunks {
        reader.feed(chunk);
        loop {
            match reader.next_reply() {
                Ok(Some(r)) => replies.push(r),
                Ok(None) => break,
                Err(_) => return (replies, true),
            }
        }
    }
    (replies, false)
}

fn render(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in reply.lines.iter().enumerate() {
        let sep = if i + 1 == reply.lines.len() { ' ' } else { '-' };
        out.extend_from_slice(format!("{}{sep}{line}\r\n", reply.code).as_bytes());
    }
    out
}

fn check(data: &[u8], cut: usize) {
    let (whole, failed) = decode(std::iter::once(data));
    let cut = cut.min(data.len());
    let (split, split_failed) = decode([&data[..cut], &data[cut..]].into_iter());
    if !failed && !split_failed {
        assert_eq!(whole, split, "reads cut anywhere decode the same");
    }
    for reply in &whole {
        assert!((200..600).contains(&reply.code));
        assert!(!reply.lines.is_empty() && reply.lines.len() <= 256);
        let (again, again_failed) = decode(std::iter::once(render(reply).as_slice()));
        assert!(!again_failed);
        assert_eq!(again.as_slice(), std::slice::from_ref(reply), "render/decode round trip");
        let _ = reply.one_line();
    }
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| usize::from(b));
    check(data, cut);
    check(&into_alphabet(data), cut * 3);
});
