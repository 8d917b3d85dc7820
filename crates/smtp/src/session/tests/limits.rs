//! Invalid-command limit, line lengths, buffered input.

use super::*;

#[test]
fn invalid_command_limit_closes_with_421() {
    let mut limited = config();
    limited.max_invalid_commands = 3;
    let mut harness = Harness::new(limited);
    let out = harness.send("FOO\r\nBAR\r\nEHLO x\r\nBAZ\r\nQUX\r\nNOOP\r\n");
    assert_eq!(codes(&out), [500, 500, 250, 500, 500, 421], "{out}");
    assert!(out.ends_with("421 4.7.0 Too many invalid commands\r\n"));
    assert!(harness.closed());
    assert_eq!(harness.send("NOOP\r\n"), "");
}

#[test]
fn refusals_from_the_driver_count_too() {
    let mut limited = config();
    limited.max_invalid_commands = 1;
    let mut harness = Harness::new(limited);
    let out = harness
        .send("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<unknown1@b.example>\r\nRCPT TO:<unknown2@b.example>\r\n");
    assert_eq!(codes(&out), [250, 250, 550, 550, 421]);
}

#[test]
fn no_limit_by_default() {
    let mut harness = Harness::new(config());
    let out = harness.send("FOO\r\n".repeat(200));
    assert_eq!(codes(&out).len(), 200);
    assert!(!harness.closed());
}

#[test]
fn long_command_lines() {
    let mut harness = Harness::new(config());
    let line = format!("NOOP {}\r\n", "x".repeat(505));
    assert_eq!(line.len(), 512);
    assert_eq!(codes(&harness.send(&line)), [250]);
    let line = format!("NOOP {}\r\n", "x".repeat(506));
    assert_eq!(harness.send(&line), "500 5.5.2 Line too long\r\n");
    let line = format!("MAIL FROM:<{}@b.example>\r\n", "x".repeat(600));
    assert_eq!(harness.send(&line), "500 5.5.2 Line too long\r\n");
}

#[test]
fn endless_line_is_discarded_and_answered_once() {
    let mut harness = Harness::new(config());
    let mut out = String::new();
    for _ in 0..100 {
        out += &harness.send("x".repeat(1000));
    }
    assert_eq!(out, "");
    assert!(harness.session.input.pending().len() < MAX_AUTH_LINE, "memory stays bounded");
    assert_eq!(harness.send("yyy\r\nNOOP\r\n"), "500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n");
}

#[test]
fn bdat_refused_for_a_long_line_still_reads_its_chunk() {
    let mut harness = Harness::new(config());
    let line = format!("BDAT 4 LAST{}\r\nQUITNOOP\r\n", " ".repeat(600));
    assert_eq!(codes(&harness.send(line)), [500, 250]);
}

#[test]
fn flooding_while_waiting_closes() {
    let mut session = Session::new(config());
    session.handle_input(b"EHLO x\r\nMAIL FROM:<a@b.example>\r\n");
    while session.poll_action().is_some() {}
    let junk = vec![b'x'; 64 * 1024];
    for _ in 0..=(MAX_BUFFERED_INPUT / junk.len()) {
        session.handle_input(&junk);
    }
    let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(matches!(actions.as_slice(), [Action::Reply(reply), Action::Close] if reply.code == 421), "{actions:?}");
    assert!(session.sender_checked(Ok(())).is_err(), "closed sessions take no answers");
}

#[test]
fn pipelined_input_is_kept_while_waiting() {
    let mut session = Session::new(config());
    session.handle_input(b"EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nNOOP\r\n");
    let mut replies = Vec::new();
    while let Some(action) = session.poll_action() {
        match action {
            Action::Reply(reply) => replies.push(reply.code),
            Action::CheckSender { .. } => session.sender_checked(Ok(())).unwrap(),
            Action::CheckRecipient { .. } => session.recipient_checked(Ok(())).unwrap(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(replies, [220, 250, 250, 250, 250]);
}
