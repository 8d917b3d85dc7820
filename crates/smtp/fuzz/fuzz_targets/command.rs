//! Every proto entry point on raw input and on input mapped into the SMTP alphabet: nothing
//! panics, parsed commands render back to themselves, the DATA receiver ends exactly at the
//! first `<CRLF>.<CRLF>`.
#![no_main]

use altimail_smtp::proto::{
    BdatReceiver, DataReceiver, DataStatus, Reply, decode_plain, decode_response, decode_xtext, encode_xtext,
    log_safe_command, parse_command,
};
use altimail_smtp_fuzz::{assert_well_formed_replies, into_alphabet};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
    if let Ok(command) = parse_command(data) {
        let rendered = command.to_string();
        assert_eq!(parse_command(rendered.as_bytes()), Ok(command), "render/parse round trip");
    }
    let logged = log_safe_command(data);
    assert!(!logged.contains('\r') && !logged.contains('\n'));

    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(decoded) = decode_xtext(text) {
            assert_eq!(decode_xtext(&encode_xtext(&decoded)).as_deref(), Some(decoded.as_str()));
        }
        if let Ok(message) = decode_response(text) {
            let _ = decode_plain(&message);
        }
        let end = text.char_indices().map(|(i, c)| i + c.len_utf8()).take_while(|&end| end <= 400).last().unwrap_or(0);
        let reply = Reply::new(250, Some((2, 0, 0)), &text[..end]);
        assert_well_formed_replies(&reply.to_bytes());
    }

    let mut body = Vec::new();
    let mut receiver = DataReceiver::new(1000, 100);
    let end = match receiver.ingest(data, &mut body) {
        DataStatus::End { consumed } => Some(consumed),
        DataStatus::NeedMore => None,
    };
    let mut framed = b"\r\n".to_vec();
    framed.extend_from_slice(data);
    let expected = framed.windows(5).position(|w| w == b"\r\n.\r\n").map(|start| start + 3);
    assert_eq!(end, expected, "DATA ends exactly at the first CRLF.CRLF");
    assert!(body.len() <= 1000);

    let size = data.first().map_or(0, |&b| u64::from(b));
    let mut chunk = Vec::new();
    let _ = BdatReceiver::new(size, 10).ingest(data, &mut chunk);
    assert!(chunk.len() <= 10);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&into_alphabet(data));
});
