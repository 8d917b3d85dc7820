//! DATA and BDAT: size limits, line endings, smuggling, chunking.

use super::*;

#[test]
fn size_declared_at_mail_is_refused_at_once() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(
        harness.send("MAIL FROM:<a@b.example> SIZE=10001\r\n"),
        "552 5.3.4 Message size exceeds fixed maximum message size. Size: 10 KB, Max size: 9 KB\r\n"
    );
    assert_eq!(codes(&harness.send("MAIL FROM:<a@b.example> SIZE=10000\r\n")), [250]);
}

#[test]
fn oversized_body_is_read_to_its_end_then_refused() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\n")), [354]);
    let line = format!("{}\r\n", "x".repeat(998));
    let mut out = String::new();
    for _ in 0..11 {
        out += &harness.send(&line);
    }
    assert_eq!(out, "", "no reply before the end");
    let out = harness.send(".\r\nMAIL FROM:<a@b.example>\r\n");
    assert_eq!(codes(&out), [552, 250], "{out}");
    assert!(out.starts_with("552 5.3.4 Message size exceeds fixed maximum message size. Size: 11 KB"));
    assert!(harness.messages.is_empty());
}

#[test]
fn driver_can_lower_the_size_limit_per_sender() {
    let mut session = Session::new(config());
    session.handle_input(b"EHLO x\r\nMAIL FROM:<a@b.example> SIZE=600\r\n");
    while let Some(action) = session.poll_action() {
        if let Action::CheckSender { .. } = action {
            session.limit_message_size(500);
            session.sender_checked(Ok(())).unwrap();
        }
    }
    assert!(session.transaction().is_none(), "SIZE=600 is over the sender's 500");
    session.handle_input(b"MAIL FROM:<a@b.example>\r\n");
    while let Some(action) = session.poll_action() {
        if let Action::CheckSender { .. } = action {
            session.limit_message_size(500);
            session.sender_checked(Ok(())).unwrap();
        }
    }
    assert_eq!(session.transaction().map(Transaction::size_limit), Some(500));
}

#[test]
fn bare_line_endings_are_refused_when_not_allowed() {
    let mut strict = config();
    strict.allow_bare_line_endings = false;
    let mut harness = Harness::new(strict);
    harness.open_transaction();
    let out = harness.send("DATA\r\nline one\nline two\r\n.\r\nNOOP\r\n");
    assert_eq!(codes(&out), [354, 554, 250], "{out}");
    assert!(out.contains("554 5.6.0 Rejected - Message containing bare CR or LF"));
    assert!(harness.messages.is_empty());
    assert!(harness.session.transaction().is_none(), "the transaction is over");

    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\nline one\nline two\r\n.\r\n")), [354, 250]);
    assert_eq!(harness.messages[0].body, b"line one\r\nline two\r\n", "normalised to CRLF");
}

#[test]
fn long_data_lines_are_refused() {
    let mut short = config();
    short.max_data_line = 10;
    let mut harness = Harness::new(short);
    harness.open_transaction();
    let out = harness.send("DATA\r\n0123456789A\r\n.\r\n");
    assert_eq!(
        out,
        "354 End data with <CR><LF>.<CR><LF>\r\n554 5.6.0 Too long line was received. Transmission aborted\r\n"
    );
}

/// The smuggling variants of SMTP smuggling research (Longin 2023): a fake end, then a
/// second transaction inside the first body.
const SMUGGLING: [&str; 5] = ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r"];

fn smuggling_dialogue(fake_end: &str) -> String {
    format!(
        "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n\
         Subject: hello\r\n\r\nhello{fake_end}MAIL FROM:<admin@example.com>\r\nRCPT TO:<victim@example.com>\r\n\
         DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n"
    )
}

#[test]
fn smuggling_never_makes_two_messages() {
    for fake_end in SMUGGLING {
        let mut harness = Harness::new(config());
        let out = harness.send(smuggling_dialogue(fake_end));
        assert_eq!(codes(&out), [250, 250, 250, 354, 250, 221], "{fake_end:?}: {out}");
        assert_eq!(harness.messages.len(), 1, "{fake_end:?}");
        assert!(!harness.events.iter().any(|e| e.contains("victim")), "{fake_end:?}: {:?}", harness.events);
        let body = &harness.messages[0].body;
        assert!(body.windows(9).any(|w| w == b"MAIL FROM"), "the fake commands stay in the body");
    }
}

#[test]
fn smuggling_is_refused_with_bare_line_endings_off() {
    for fake_end in SMUGGLING {
        let mut strict = config();
        strict.allow_bare_line_endings = false;
        let mut harness = Harness::new(strict);
        let out = harness.send(smuggling_dialogue(fake_end));
        assert_eq!(codes(&out), [250, 250, 250, 354, 554, 221], "{fake_end:?}: {out}");
        assert!(harness.messages.is_empty(), "{fake_end:?}");
        assert!(!harness.events.iter().any(|e| e.contains("victim")), "{fake_end:?}");
    }
}

#[test]
fn empty_body_right_after_354() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\n.\r\n")), [354, 250]);
    assert_eq!(harness.messages[0].body, b"");
}

#[test]
fn bdat_with_several_chunks() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    let out = harness.send("BDAT 5\r\nhelloBDAT 8\r\n world\r\n");
    assert_eq!(out, "250 2.0.0 5 octets received\r\n250 2.0.0 8 octets received\r\n");
    let out = harness.send_chunks(&[b"BDAT 7 LAST\r\n.\r\n", b"\n.\r\nNOOP\r\n"]);
    assert_eq!(out, "250 2.0.0 Queued as Q1\r\n250 2.0.0 OK\r\n");
    let message = &harness.messages[0];
    assert_eq!(message.body, b"hello world\r\n.\r\n\n.\r\n", "BDAT content is verbatim");
    assert!(message.envelope.chunked);
}

#[test]
fn bdat_zero_last_and_data_after_bdat() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("BDAT 3\r\nabcDATA\r\n")), [250, 503]);
    assert_eq!(codes(&harness.send("BDAT 0 LAST\r\n")), [250]);
    assert_eq!(harness.messages[0].body, b"abc");
}

#[test]
fn refused_bdat_chunks_are_read_and_dropped() {
    let mut harness = Harness::new(config());
    assert_eq!(codes(&harness.send("BDAT 6\r\nNOOP\r\nNOOP\r\n")), [503, 250], "before EHLO");
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n")), [503, 250], "without MAIL");
    harness.send("MAIL FROM:<a@b.example>\r\n");
    assert_eq!(codes(&harness.send("BDAT 4\r\nRSETNOOP\r\n")), [554, 250], "without recipients");
    assert!(harness.messages.is_empty());
}

#[test]
fn oversized_bdat_is_refused_after_the_chunk() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send(format!("BDAT 6000\r\n{}", "x".repeat(6000)))), [250]);
    let out = harness.send(format!("BDAT 6000 LAST\r\n{}NOOP\r\n", "y".repeat(6000)));
    assert_eq!(codes(&out), [552, 250], "{out}");
    assert!(out.contains("Size: 12 KB, Max size: 9 KB"), "{out}");
    assert!(harness.messages.is_empty());
    assert!(harness.session.transaction().is_none());
    assert_eq!(codes(&harness.send("BDAT 1 LAST\r\nz")), [503], "the transaction is gone");
}

#[test]
fn bdat_on_a_starttls_required_port_before_tls() {
    let mut required = config();
    required.security = PortSecurity::StartTlsRequired;
    let mut harness = Harness::new(required);
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("BDAT 4\r\nQUITNOOP\r\n")), [530, 250]);
}
