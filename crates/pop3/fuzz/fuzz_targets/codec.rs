//! The codec on arbitrary input: command parsing never panics and a parsed command's keyword
//! parses back to itself; the body encoder, fed in arbitrary chunks, always yields the same
//! bytes, every output line ends with CRLF, and unstuffing them gives back the stored lines.
#![no_main]

use altimail_pop3::proto::{BodyEncoder, Verb, log_safe_command, parse_command};
use altimail_pop3_fuzz::into_alphabet;
use libfuzzer_sys::fuzz_target;

fn encode(input: &[u8], chunk: usize, top: Option<u32>) -> Vec<u8> {
    let mut encoder = top.map_or_else(BodyEncoder::whole, BodyEncoder::top);
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        encoder.encode(piece, &mut out);
    }
    encoder.finish(&mut out);
    out
}

/// The lines a client gets back: split at CRLF, the final `.` checked and dropped, one leading
/// dot removed from each line.
fn unstuff(wire: &[u8]) -> Vec<Vec<u8>> {
    let text = wire.strip_suffix(b".\r\n").expect("ends with .CRLF");
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.windows(2).position(|w| w == b"\r\n").expect("every line ends with CRLF");
        let line = &rest[..end];
        assert!(!line.starts_with(b".") || line.starts_with(b".."), "unstuffed dot line");
        lines.push(line.strip_prefix(b".").unwrap_or(line).to_vec());
        rest = &rest[end + 2..];
    }
    lines
}

/// The stored lines: split at LF (a final LF ends the last line rather than starting an empty
/// one), with one CR before the LF, or at the very end, removed.
fn stored_lines(input: &[u8]) -> Vec<Vec<u8>> {
    let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if input.is_empty() || input.ends_with(b"\n") {
        pieces.pop();
    }
    pieces.into_iter().map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec()).collect()
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(2));
    let chunk = usize::from(control.first().copied().unwrap_or(1));
    let top = control.get(1).and_then(|&b| (b < 8).then_some(u32::from(b)));

    for line in [input.to_vec(), into_alphabet(input)] {
        let _ = log_safe_command(&line);
        if let Ok(command) = parse_command(&line) {
            assert_eq!(Verb::parse(command.verb().as_str()), Some(command.verb()));
        }
    }

    let whole = encode(input, 1, top);
    assert_eq!(encode(input, chunk, top), whole, "chunking changes nothing");
    let lines = unstuff(&whole);
    let stored = stored_lines(input);
    match top {
        None => assert_eq!(lines, stored),
        Some(_) => assert!(stored.starts_with(&lines), "TOP gives a prefix of the stored lines"),
    }
});
