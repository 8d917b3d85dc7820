//! Arbitrary bytes through the command assembler in arbitrary chunks, every frame through the
//! parser: nothing panics, every command frame ends with LF and fits the command cap, and when
//! no command is refused the frames do not depend on how the input was chunked.
#![no_main]

use altimail_imap::Frame;
use altimail_imap::parse::{parse_command, parse_idle_done};
use altimail_imap_fuzz::{fragments, into_alphabet, limits};
use libfuzzer_sys::fuzz_target;

fn check(control: &[u8], data: &[u8]) {
    let limits = limits(control.first().copied().unwrap_or(0));
    let chunk = usize::from(control.get(1).copied().unwrap_or(1)).max(1);
    let chunked = fragments(data, chunk, limits);
    for frame in &chunked {
        if let Ok(Frame::Command(command)) = frame {
            assert!(command.ends_with(b"\n"), "a command frame ends with LF");
            assert!(command.len() <= limits.max_command, "a command frame fits the cap");
            let _ = parse_command(command);
            let _ = parse_idle_done(command);
        }
    }
    let whole = fragments(data, usize::MAX, limits);
    if chunked.iter().chain(&whole).all(Result::is_ok) {
        assert_eq!(chunked, whole, "chunking does not change the frames");
    }
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(2));
    check(control, input);
    check(control, &into_alphabet(input));
});
