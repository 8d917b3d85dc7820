//! Arbitrary bytes, in arbitrary chunks, through a session with a scripted driver: nothing
//! panics, responses are well-formed, nothing happens after Close, answers are never refused,
//! no logon is checked where TLS is required first, and deletions happen at most once, only
//! for messages the client marked, and only after a QUIT.
#![no_main]

use altimail_pop3::proto::Method;
use altimail_pop3::session::{
    Action, AuthFailure, CommitFailed, MailboxEntry, MailboxFailure, MessageFailure, PortSecurity, Session,
    SessionConfig,
};
use altimail_pop3_fuzz::{assert_well_formed_lines, into_alphabet};
use libfuzzer_sys::fuzz_target;

const MESSAGES: [&[u8]; 3] = [b"Subject: a\r\n\r\n.x\r\nbody\r\n", b"A: b\n\nline\n.\n", b"no header end"];

fn run(control: &[u8], input: &[u8]) {
    let flag = |index: usize| control.get(index).is_some_and(|b| b & 1 == 1);
    let mut config = SessionConfig::new();
    config.security = match control.first().copied().unwrap_or(0) % 4 {
        0 => PortSecurity::Plain,
        1 => PortSecurity::Implicit,
        2 => PortSecurity::StartTlsOptional,
        _ => PortSecurity::StartTlsRequired,
    };
    config.auth_requires_tls = flag(1);
    config.apop_timestamp = flag(2).then(|| "<1.2@x>".to_owned());
    config.log_received = flag(3);
    let chunk_size = usize::from(control.get(4).copied().unwrap_or(7)).max(1);
    let logon_needs_tls = config.auth_requires_tls || config.security == PortSecurity::StartTlsRequired;

    let mut session = Session::new(config);
    let mut tls = session.is_tls();
    let mut answers = control.iter().cycle().skip(5).copied();
    let mut yes = move || answers.next().is_none_or(|b| b & 1 == 0);
    let mut wire = Vec::new();
    let mut closed = false;
    let mut commits = 0usize;
    let mut opened = None;
    let quits = input.windows(4).filter(|w| w.eq_ignore_ascii_case(b"QUIT")).count();
    let mut drive = |session: &mut Session, wire: &mut Vec<u8>| {
        while let Some(action) = session.poll_action() {
            assert!(!closed, "nothing after Close");
            match action {
                Action::Reply(response) => response.write_to(wire),
                Action::StartTls => {
                    tls = true;
                    session.tls_started().expect("awaited");
                }
                Action::Authenticate(credentials) => {
                    assert!(tls || !logon_needs_tls, "a logon checked before TLS");
                    assert!(credentials.method != Method::Apop || credentials.timestamp.is_some());
                    let result = if yes() { Ok(credentials.username) } else { Err(AuthFailure::Bad) };
                    session.auth_result(result).expect("awaited");
                }
                Action::OpenMailbox(_) => {
                    let result = if yes() {
                        Ok((0..3).map(|id| MailboxEntry { id, size: 100, uid: format!("{id}") }).collect())
                    } else {
                        Err(MailboxFailure::InUse)
                    };
                    session.mailbox_opened(result).expect("awaited");
                }
                Action::OpenMessage(entry) => {
                    let result = if yes() { Ok(()) } else { Err(MessageFailure::Missing) };
                    opened = result.is_ok().then_some(entry.id);
                    session.message_opened(result).expect("awaited");
                }
                Action::SendMessage(mut encoder) => {
                    let id = opened.take().expect("SendMessage follows a successful OpenMessage");
                    let content = MESSAGES[usize::try_from(id).unwrap_or(0) % MESSAGES.len()];
                    for piece in content.chunks(chunk_size) {
                        if !encoder.is_done() {
                            encoder.encode(piece, wire);
                        }
                    }
                    encoder.finish(wire);
                }
                Action::Commit(ids) => {
                    commits += 1;
                    assert!(!ids.is_empty() && ids.iter().all(|id| (0..3).contains(id)), "{ids:?}");
                    assert!(ids.windows(2).all(|w| w[0] < w[1]), "each message once, in order");
                    session.committed(if yes() { Ok(()) } else { Err(CommitFailed) }).expect("awaited");
                }
                Action::Close => closed = true,
                Action::Received(line) => assert!(!line.contains('\r') && !line.contains('\n')),
                _ => {}
            }
        }
    };
    drive(&mut session, &mut wire);
    for chunk in input.chunks(chunk_size) {
        session.handle_input(chunk);
        drive(&mut session, &mut wire);
    }
    assert_well_formed_lines(&wire);
    assert!(commits <= 1 && commits <= quits, "{commits} commits for {quits} QUITs");
}

fuzz_target!(|data: &[u8]| {
    let (control, input) = data.split_at(data.len().min(8));
    run(control, input);
    run(control, &into_alphabet(input));
});
