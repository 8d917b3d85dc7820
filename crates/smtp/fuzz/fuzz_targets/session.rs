//! Arbitrary bytes, in arbitrary chunks, through a session with a scripted driver: nothing
//! panics, replies are well-formed, nothing happens after Close, and there are never more
//! messages than DATA terminators and LAST chunks in the input (no smuggling).
#![no_main]

use altimail_smtp::proto::Reply;
use altimail_smtp::session::{Action, AuthFailure, PortSecurity, Session, SessionConfig, TlsInfo};
use altimail_smtp_fuzz::{assert_well_formed_replies, into_alphabet};
use libfuzzer_sys::fuzz_target;

fn run(control: &[u8], input: &[u8]) {
    let flag = |index: usize| control.get(index).is_some_and(|b| b & 1 == 1);
    let mut config = SessionConfig::new("mx.example.com");
    config.security = if flag(0) { PortSecurity::StartTlsRequired } else { PortSecurity::StartTlsOptional };
    config.allow_bare_line_endings = flag(1);
    config.allow_plain_without_tls = flag(2);
    config.max_message_size = if flag(3) { 0 } else { 300 };
    config.max_invalid_commands = if flag(4) { 20 } else { 0 };
    config.max_recipients = 3;
    config.max_data_line = 200;
    config.log_received = flag(5);
    let chunk_size = usize::from(control.get(6).copied().unwrap_or(7)).max(1);

    let mut session = Session::new(config);
    let mut answers = control.iter().cycle().skip(7).copied();
    let mut yes = move || answers.next().is_none_or(|b| b & 1 == 0);
    let refusal = || Reply::new(550, Some((5, 7, 1)), "no");
    let mut wire = Vec::new();
    let mut messages = 0usize;
    let mut closed = false;
    let mut drive = |session: &mut Session, wire: &mut Vec<u8>, messages: &mut usize, closed: &mut bool| {
        while let Some(action) = session.poll_action() {
            assert!(!*closed, "nothing after Close");
            match action {
                Action::Reply(reply) => reply.write_to(wire),
                Action::StartTls => session.tls_started(TlsInfo::default()).expect("awaited"),
                Action::Authenticate(_) => {
                    let result = if yes() { Ok("user".to_owned()) } else { Err(AuthFailure::Bad) };
                    session.auth_result(result).expect("awaited");
                }
                Action::CheckSender { .. } => {
                    session.sender_checked(if yes() { Ok(()) } else { Err(refusal()) }).expect("awaited")
                }
                Action::CheckRecipient { .. } => {
                    session.recipient_checked(if yes() { Ok(()) } else { Err(refusal()) }).expect("awaited")
                }
                Action::Message(_) => {
                    *messages += 1;
                    session.message_accepted(if yes() { Ok("Q".to_owned()) } else { Err(refusal()) }).expect("awaited");
                }
                Action::Etrn(_) => session.etrn_result(refusal()).expect("awaited"),
                Action::Close => *closed = true,
                Action::Received(line) => assert!(!line.contains('\r') && !line.contains('\n')),
                _ => {}
            }
        }
    };
    drive(&mut session, &mut wire, &mut messages, &mut closed);
    for chunk in input.chunks(chunk_size) {
        session.handle_input(chunk);
        drive(&mut session, &mut wire, &mut messages, &mut closed);
    }
    assert_well_formed_replies(&wire);
    let terminators = input.windows(4).filter(|w| w == b"\n.\r\n").count();
    let lasts = input.windows(4).filter(|w| w.eq_ignore_ascii_case(b"LAST")).count();
    assert!(messages <= terminators + lasts, "{messages} messages from {terminators} terminators and {lasts} LAST");
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(8));
    run(control, input);
    run(control, &into_alphabet(input));
});
