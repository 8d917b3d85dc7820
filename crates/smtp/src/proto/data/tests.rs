use proptest::prelude::*;

use super::*;

/// Feeds `chunks` in order; returns the body, the total consumed count at the end (if any) and
/// the flaws.
fn feed(receiver: &mut DataReceiver, chunks: &[&[u8]]) -> (Vec<u8>, Option<usize>, DataFlaws) {
    let mut body = Vec::new();
    let mut offset = 0;
    for chunk in chunks {
        match receiver.ingest(chunk, &mut body) {
            DataStatus::End { consumed } => return (body, Some(offset + consumed), receiver.flaws()),
            DataStatus::NeedMore => offset += chunk.len(),
        }
    }
    (body, None, receiver.flaws())
}

fn receiver() -> DataReceiver {
    DataReceiver::new(u64::MAX, 100_000)
}

/// Runs `input` whole, one octet at a time and split at every offset; all must agree.
fn run(input: &[u8]) -> (Vec<u8>, Option<usize>, DataFlaws) {
    let whole = feed(&mut receiver(), &[input]);
    let octets: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(feed(&mut receiver(), &octets), whole, "octet by octet: {input:?}");
    for split in 0..=input.len() {
        let (a, b) = input.split_at(split);
        assert_eq!(feed(&mut receiver(), &[a, b]), whole, "split at {split}: {input:?}");
    }
    whole
}

const CLEAN: DataFlaws = DataFlaws { bare_cr: false, bare_lf: false, too_big: false, line_too_long: false };
const BARE_LF: DataFlaws = DataFlaws { bare_lf: true, ..CLEAN };
const BARE_CR: DataFlaws = DataFlaws { bare_cr: true, ..CLEAN };

#[test]
fn end_and_unstuffing_table() {
    /// Input, stored body, octets consumed at the end, flaws.
    type Case = (&'static [u8], &'static [u8], Option<usize>, DataFlaws);
    let cases: &[Case] = &[
        (b".\r\n", b"", Some(3), CLEAN),
        (b".\r\nQUIT\r\n", b"", Some(3), CLEAN),
        (b"a\r\n.\r\n", b"a\r\n", Some(6), CLEAN),
        (b"\r\n.\r\n", b"\r\n", Some(5), CLEAN),
        (b"a\r\n..b\r\n.\r\nMAIL FROM:<>\r\n", b"a\r\n.b\r\n", Some(11), CLEAN),
        (b"..\r\n.\r\n", b".\r\n", Some(7), CLEAN),
        (b"...\r\n.\r\n", b"..\r\n", Some(8), CLEAN),
        (b".x\r\n.\r\n", b"x\r\n", Some(7), CLEAN),
        (b"a.\r\n.\r\n", b"a.\r\n", Some(7), CLEAN),
        (b"a\r\n. \r\n.\r\n", b"a\r\n \r\n", Some(10), CLEAN),
        (b"a\r\n.\r\n", b"a\r\n", Some(6), CLEAN),
        (b"a\r\n", b"a\r\n", None, CLEAN),
        (b"a\r\n.", b"a\r\n", None, CLEAN),
        (b"a\r\n.\r", b"a\r\n", None, CLEAN),
        // Smuggling variants: never the end, reported and normalised.
        (b"a\n.\nb\r\n.\r\n", b"a\r\n.\r\nb\r\n", Some(10), BARE_LF),
        (b"a\r.\rb\r\n.\r\n", b"a\r\n.\r\nb\r\n", Some(10), BARE_CR),
        (b"a\n.\r\nb\r\n.\r\n", b"a\r\n.\r\nb\r\n", Some(11), BARE_LF),
        (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\r\nb\r\n", Some(11), BARE_LF),
        (b"a\r\n.\rb\r\n.\r\n", b"a\r\n\r\nb\r\n", Some(11), BARE_CR),
        (b"a\r\n.\r\r\n.\r\n", b"a\r\n\r\n\r\n", Some(10), BARE_CR),
        (b"a\r\r\n.\r\n", b"a\r\n\r\n", Some(7), BARE_CR),
        (b"a\n\r\n.\r\n", b"a\r\n\r\n", Some(7), BARE_LF),
        (b"\n.\n", b"\r\n.\r\n", None, BARE_LF),
        (b"\r.\r", b"\r\n.", None, BARE_CR),
    ];
    for (input, body, consumed, flaws) in cases {
        let got = run(input);
        assert_eq!(got, (body.to_vec(), *consumed, *flaws), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn size_cap_keeps_scanning_to_the_end() {
    let mut receiver = DataReceiver::new(5, 100_000);
    let (body, consumed, flaws) = feed(&mut receiver, &[b"0123456789\r\n", b"abc\r\n.\r\nQUIT\r\n"]);
    assert_eq!(body, b"01234", "stored up to the cap, then nothing");
    assert_eq!(consumed, Some(20));
    assert!(flaws.too_big);
    assert_eq!(receiver.size(), 17);

    let mut receiver = DataReceiver::new(5, 100_000);
    let (body, _, flaws) = feed(&mut receiver, &[b"abc\r\n", b"d\r\n.\r\n"]);
    assert_eq!(body, b"abc\r\n");
    assert!(flaws.too_big);

    let mut receiver = DataReceiver::new(5, 100_000);
    let (body, _, flaws) = feed(&mut receiver, &[b"abc\r\n.\r\n"]);
    assert_eq!(body, b"abc\r\n");
    assert!(!flaws.too_big);
}

#[test]
fn long_lines_are_flagged() {
    let mut receiver = DataReceiver::new(u64::MAX, 4);
    let (_, consumed, flaws) = feed(&mut receiver, &[b"abcd\r\n.\r\n"]);
    assert_eq!((consumed, flaws.line_too_long), (Some(9), false));
    let mut receiver = DataReceiver::new(u64::MAX, 4);
    let (_, consumed, flaws) = feed(&mut receiver, &[b"ab", b"cde\r\n.\r\n"]);
    assert_eq!((consumed, flaws.line_too_long), (Some(10), true));
}

/// Position just after the first `<CRLF>.<CRLF>`, counting a virtual CRLF before the input.
fn reference_end(input: &[u8]) -> Option<usize> {
    let mut framed = b"\r\n".to_vec();
    framed.extend_from_slice(input);
    framed.windows(5).position(|w| w == b"\r\n.\r\n").map(|start| start + 5 - 2)
}

proptest! {
    #[test]
    fn ends_exactly_at_the_first_crlf_dot_crlf(input in proptest::collection::vec(
        prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'.'), Just(b'a')], 0..40)
    ) {
        let (_, consumed, _) = run(&input);
        prop_assert_eq!(consumed, reference_end(&input));
    }

    #[test]
    fn body_never_holds_a_bare_line_ending(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (body, _, _) = feed(&mut receiver(), &[&input]);
        let mut previous = 0u8;
        for (index, &byte) in body.iter().enumerate() {
            prop_assert!(byte != b'\n' || previous == b'\r', "bare LF at {}", index);
            prop_assert!(previous != b'\r' || byte == b'\n', "bare CR at {}", index);
            previous = byte;
        }
    }
}
