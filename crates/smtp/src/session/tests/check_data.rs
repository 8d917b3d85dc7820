//! The decision before the body ([`Action::CheckData`]): the pre-transmission anti-spam tests.

use super::*;

fn checking() -> SessionConfig {
    let mut c = config();
    c.check_before_data = true;
    c
}

#[test]
fn data_waits_for_the_decision_then_354() {
    let mut harness = Harness::new(checking());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\n")), [354]);
    assert!(harness.events.contains(&"check data".to_owned()));
    let out = harness.send("Subject: x\r\n\r\nhi\r\n.\r\n");
    assert_eq!(codes(&out), [250], "{out}");
    assert_eq!(harness.messages.len(), 1);
}

#[test]
fn refused_before_the_body_with_550_and_the_transaction_ends() {
    let mut harness = Harness::new(checking());
    harness.send("EHLO x\r\nMAIL FROM:<spammer@example.org>\r\nRCPT TO:<b@example.com>\r\n");
    let out = harness.send("DATA\r\n");
    assert_eq!(out, "550 5.7.1 Blocked by SPF. (test)\r\n");
    // No transaction any more: a second DATA needs MAIL first.
    assert_eq!(codes(&harness.send("DATA\r\n")), [503]);
    assert!(harness.messages.is_empty());
}

#[test]
fn off_by_default() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\n")), [354]);
    assert!(!harness.events.contains(&"check data".to_owned()));
}

#[test]
fn pipelined_commands_wait_for_the_decision() {
    // With PIPELINING, DATA may come in one packet with MAIL and RCPT (RFC 2920 §3.1).
    let mut session = Session::new(checking());
    session.handle_input(b"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    let mut wire = Vec::new();
    let mut asked = false;
    while let Some(action) = session.poll_action() {
        match action {
            Action::Reply(r) => r.write_to(&mut wire),
            Action::CheckSender { .. } => session.sender_checked(Ok(())).unwrap(),
            Action::CheckRecipient { .. } => session.recipient_checked(Ok(())).unwrap(),
            Action::CheckData => {
                asked = true;
                let before = String::from_utf8(wire.clone()).unwrap();
                assert_eq!(codes(&before), [220, 250, 250, 250], "no 354 before the decision: {before}");
                assert!(!session.wants_input(), "input is held while the driver decides");
                session.data_checked(Ok(())).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(asked);
    assert_eq!(codes(&String::from_utf8(wire).unwrap()), [220, 250, 250, 250, 354]);
}

#[test]
fn first_bdat_chunk_is_checked_once() {
    let mut harness = Harness::new(checking());
    harness.open_transaction();
    let out = harness.send("BDAT 5\r\nhello");
    assert_eq!(codes(&out), [250], "{out}");
    let out = harness.send("BDAT 3 LAST\r\nabc");
    assert_eq!(codes(&out), [250]);
    assert_eq!(harness.events.iter().filter(|e| *e == "check data").count(), 1);
    assert_eq!(harness.messages[0].body, b"helloabc");
}

#[test]
fn bdat_refused_after_its_first_chunk() {
    let mut harness = Harness::new(checking());
    harness.send("EHLO x\r\nMAIL FROM:<spammer@example.org>\r\nRCPT TO:<b@example.com>\r\n");
    let out = harness.send("BDAT 5 LAST\r\nhello");
    assert_eq!(out, "550 5.7.1 Blocked by SPF. (test)\r\n");
    assert!(harness.messages.is_empty());
}

#[test]
fn the_answer_is_refused_when_not_asked() {
    let mut session = Session::new(checking());
    assert_eq!(session.data_checked(Ok(())), Err(UnexpectedAnswer("data_checked")));
}

fn checking_helo() -> SessionConfig {
    let mut c = config();
    c.check_helo = true;
    c
}

#[test]
fn helo_waits_for_the_decision_and_a_refusal_leaves_the_session_open() {
    let mut harness = Harness::new(checking_helo());
    assert_eq!(harness.send("EHLO refused.test\r\n"), "453 4.7.1 Try later\r\n");
    assert!(harness.events.contains(&"helo refused.test".to_owned()));
    // No HELO yet: MAIL needs one first.
    assert_eq!(codes(&harness.send("MAIL FROM:<a@example.org>\r\n")), [503]);
    assert_eq!(codes(&harness.send("HELO fine.test\r\n")), [250]);
    assert_eq!(codes(&harness.send("MAIL FROM:<a@example.org>\r\n")), [250]);
}

#[test]
fn helo_is_not_asked_about_by_default() {
    let mut harness = Harness::new(config());
    assert_eq!(codes(&harness.send("EHLO refused.test\r\n")), [250]);
    assert!(!harness.events.iter().any(|e| e.starts_with("helo ")));
}
