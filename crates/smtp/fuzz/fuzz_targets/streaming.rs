//! Arbitrary dialogue, in arbitrary chunks, through two sessions that differ only in their
//! stream threshold: one keeps every body in memory, the other streams bodies past a few octets
//! to its "file" as `StreamBody`/`BodyPart` and ends them with a message or `DropBody`. The
//! replies and the messages (the streamed ones put back together) must be the same, and no
//! stream is left open after the transaction that started it.
#![no_main]

use altimail_smtp::session::{Action, Message, Session, SessionConfig};
use altimail_smtp_fuzz::into_alphabet;
use libfuzzer_sys::fuzz_target;

/// Replies and messages (with whole bodies) of `input` fed in `chunk`-octet pieces.
fn run(config: SessionConfig, input: &[u8], chunk: usize) -> (Vec<u8>, Vec<Message>) {
    let mut session = Session::new(config);
    let mut wire = Vec::new();
    let mut messages = Vec::new();
    let mut stream: Option<Vec<u8>> = None;
    let mut drive = |session: &mut Session| {
        while let Some(action) = session.poll_action() {
            match action {
                Action::Reply(reply) => reply.write_to(&mut wire),
                Action::StartTls => session.tls_started(Default::default()).expect("awaited"),
                Action::Authenticate(_) => session.auth_result(Ok("user".to_owned())).expect("awaited"),
                Action::CheckSender { .. } => session.sender_checked(Ok(())).expect("awaited"),
                Action::CheckRecipient { .. } => session.recipient_checked(Ok(())).expect("awaited"),
                Action::StreamBody { head, .. } => {
                    assert!(stream.is_none(), "one stream at a time");
                    stream = Some(head);
                }
                Action::BodyPart(part) => stream.as_mut().expect("a part follows StreamBody").extend(part),
                Action::DropBody => assert!(stream.take().is_some(), "DropBody ends a stream"),
                Action::Message(message) => {
                    let mut message = *message;
                    if message.streamed {
                        let mut whole = stream.take().expect("a streamed message follows StreamBody");
                        whole.extend_from_slice(&message.body);
                        message.body = whole;
                        message.streamed = false;
                    }
                    messages.push(message);
                    session.message_accepted(Ok("Q".to_owned())).expect("awaited");
                }
                Action::Etrn(node) => session.etrn_result(altimail_smtp::session::replies::etrn_started(&node)).expect("awaited"),
                _ => {}
            }
        }
    };
    drive(&mut session);
    for piece in input.chunks(chunk) {
        session.handle_input(piece);
        drive(&mut session);
    }
    if stream.is_some() {
        assert!(session.transaction().is_some(), "an open stream belongs to a transaction");
    }
    (wire, messages)
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(3));
    let byte = |i: usize| usize::from(control.get(i).copied().unwrap_or(1));
    let threshold = byte(0).max(1);
    let chunk = byte(1).max(1);
    let mut config = SessionConfig::new("mx.example.com");
    config.max_message_size = if byte(2) & 1 == 1 { 200 } else { 0 };
    config.allow_bare_line_endings = byte(2) & 2 == 0;
    config.max_data_line = 100;
    let with_threshold = |stream_threshold: usize| {
        let mut config = config.clone();
        config.stream_threshold = stream_threshold;
        config
    };
    for input in [input.to_vec(), into_alphabet(input)] {
        let in_memory = run(with_threshold(usize::MAX), &input, chunk);
        let streamed = run(with_threshold(threshold), &input, chunk);
        assert_eq!(streamed, in_memory);
    }
});
