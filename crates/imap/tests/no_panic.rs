//! Arbitrary bytes never panic the fragmenter or the parser.

use altimail_imap::fragment::{Fragmenter, Limits, NonSyncLiterals};
use altimail_imap::parse::{parse_command, parse_idle_done};
use proptest::prelude::*;

fn imapish() -> impl Strategy<Value = Vec<u8>> {
    let tokens = prop::sample::select(vec![
        "a ",
        "UID ",
        "FETCH ",
        "SEARCH ",
        "STORE ",
        "APPEND ",
        "LIST ",
        "SELECT ",
        "SORT ",
        "ID ",
        "CREATE ",
        "(",
        ")",
        "[",
        "]",
        "<",
        ">",
        "{",
        "}",
        "{3}\r\n",
        "{2+}\r\n",
        "~{1}\r\n",
        "\"",
        "\\",
        "*",
        "$",
        ":",
        ",",
        ".",
        " ",
        "\r\n",
        "1",
        "0",
        "99999999999",
        "BODY",
        "PEEK",
        "HEADER.FIELDS",
        "NOT ",
        "OR ",
        "ALL",
        "RETURN ",
        "QRESYNC",
        "FLAGS",
        "+",
        "-",
        "7-Feb-1994",
        "\"01-Jan-2000 00:00:00 +0000\"",
        "\u{e9}",
        "\0",
        "\n",
    ]);
    prop::collection::vec(tokens, 0..40).prop_map(|v| v.concat().into_bytes())
}

fn drive(bytes: &[u8], split: usize, limits: Limits) {
    let mut f = Fragmenter::new(limits);
    let split = split.min(bytes.len());
    for chunk in [&bytes[..split], &bytes[split..]] {
        f.push(chunk);
        loop {
            match f.poll() {
                Ok(None) => break,
                Ok(Some(altimail_imap::Frame::Command(c))) => {
                    let _ = parse_command(&c);
                    let _ = parse_idle_done(&c);
                }
                Ok(Some(_)) | Err(_) => {}
            }
        }
    }
}

/// Everything the fragmenter yields for `bytes` pushed in `chunk`-byte pieces.
fn frames(
    bytes: &[u8],
    chunk: usize,
    limits: Limits,
) -> Vec<Result<altimail_imap::Frame, altimail_imap::fragment::FragmentError>> {
    let mut f = Fragmenter::new(limits);
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        f.push(piece);
        loop {
            match f.poll() {
                Ok(None) => break,
                Ok(Some(frame)) => out.push(Ok(frame)),
                Err(e) => out.push(Err(e)),
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Same property as the `fragment` fuzz target: without refusals, chunking changes nothing,
    /// and every command frame ends with LF within the command cap.
    #[test]
    fn chunking_does_not_change_frames(bytes in imapish(), chunk in 1usize..16) {
        for limits in [Limits::default(), Limits { max_literal: 4, max_literals: 2, max_command: 64, max_line: 48, non_sync: NonSyncLiterals::Minus }] {
            let chunked = frames(&bytes, chunk, limits);
            for frame in &chunked {
                if let Ok(altimail_imap::Frame::Command(c)) = frame {
                    prop_assert!(c.ends_with(b"\n") && c.len() <= limits.max_command);
                }
            }
            let whole = frames(&bytes, usize::MAX, limits);
            if chunked.iter().chain(&whole).all(Result::is_ok) {
                prop_assert_eq!(chunked, whole);
            }
        }
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
        let _ = parse_command(&bytes);
        drive(&bytes, split, Limits::default());
        drive(&bytes, split, Limits { max_literal: 4, max_literals: 2, max_command: 64, max_line: 48, non_sync: NonSyncLiterals::Minus });
    }

    #[test]
    fn imap_like_bytes(bytes in imapish(), split in 0usize..512) {
        let _ = parse_command(&bytes);
        drive(&bytes, split, Limits::default());
        drive(&bytes, split, Limits { max_literal: 4, max_literals: 2, max_command: 64, max_line: 48, non_sync: NonSyncLiterals::Off });
    }
}
