//! The POP3 client's decoder on arbitrary server output, read as a session does (a status line,
//! then a body after each positive one), whole and cut into reads at an arbitrary point: nothing
//! panics, the cut makes no difference, bodies stay within their limit and are dot-unstuffed
//! (no body line is a lone "."), and UIDL and CAPA listings parse without panicking.
#![no_main]

use altimail_fetch::client::proto::{Decoder, Status, parse_capa, parse_uidl};
use libfuzzer_sys::fuzz_target;

const MAX_BODY: usize = 4096;

/// Pieces of POP3 that reach multi-line bodies and dot-unstuffing quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n", b"\n", b"\r", b".", b"..", b"\r\n.\r\n", b" ", b"+OK", b"+OK ", b"-ERR ", b"[IN-USE]", b"1 ", b"2 ",
    b"uid", b"SASL PLAIN", b"STLS", b"UIDL", b"\xc3\xa4", b"\xff", b"\0",
];

fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&b| ALPHABET[usize::from(b) % ALPHABET.len()].iter().copied()).collect()
}

#[derive(Debug, PartialEq)]
enum Item {
    Status(Status),
    Body(Vec<u8>),
}

/// What a session would decode from `chunks`, up to the first error.
fn decode<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> (Vec<Item>, bool) {
    let mut decoder = Decoder::new(MAX_BODY);
    let mut items = Vec::new();
    let mut want_body = false;
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            let next = if want_body {
                decoder.body().map(|b| b.map(Item::Body))
            } else {
                decoder.status().map(|s| s.map(Item::Status))
            };
            match next {
                Ok(Some(item)) => {
                    want_body = matches!(&item, Item::Status(s) if s.is_ok());
                    items.push(item);
                }
                Ok(None) => break,
                Err(_) => return (items, true),
            }
        }
    }
    (items, false)
}

fn check(data: &[u8], cut: usize) {
    let (whole, failed) = decode(std::iter::once(data));
    let cut = cut.min(data.len());
    let (split, split_failed) = decode([&data[..cut], &data[cut..]].into_iter());
    if !failed && !split_failed {
        assert_eq!(whole, split, "reads cut anywhere decode the same");
    }
    for item in &whole {
        match item {
            Item::Status(s) => {
                let _ = s.log_text();
            }
            Item::Body(body) => {
                assert!(body.len() <= MAX_BODY);
                assert!(body.is_empty() || body.ends_with(b"\r\n"));
                let _ = parse_uidl(body);
                let _ = parse_capa(body);
            }
        }
    }
    let _ = parse_uidl(data);
    let _ = parse_capa(data);
}

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |&b| usize::from(b));
    check(data, cut);
    check(&into_alphabet(data), cut * 2);
});
