//! Greeting, EHLO keywords, sequencing and the simple verbs.

use super::*;
use crate::proto::{BodyType, MailAuth, Notify, Orcpt, Ret};

fn ehlo_lines(config: SessionConfig) -> Vec<String> {
    let mut harness = Harness::new(config);
    let out = harness.send("EHLO client.example\r\n");
    out.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.get(4..).unwrap_or("").to_owned()).collect()
}

const BASE: [&str; 8] =
    ["mx.example.com", "PIPELINING", "SIZE 10000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"];

fn expect(extra: &[&str]) -> Vec<String> {
    BASE.iter().chain(extra).map(|s| s.to_string()).collect()
}

#[test]
fn greeting_follows_welcomesmtp() {
    assert_eq!(Harness::new(config()).greeting, "220 mx.example.com ESMTP\r\n");
    let mut custom = config();
    custom.greeting = "Welcome to Example".into();
    assert_eq!(Harness::new(custom.clone()).greeting, "220 Welcome to Example ESMTP\r\n");
    custom.greeting = "Example ESMTP".into();
    assert_eq!(Harness::new(custom).greeting, "220 Example ESMTP\r\n");
}

#[test]
fn ehlo_keywords_on_each_kind_of_port() {
    assert_eq!(ehlo_lines(config()), expect(&["AUTH LOGIN", "HELP"]));

    let mut plain_allowed = config();
    plain_allowed.allow_plain_without_tls = true;
    assert_eq!(ehlo_lines(plain_allowed), expect(&["AUTH PLAIN LOGIN", "HELP"]));

    let mut optional = config();
    optional.security = PortSecurity::StartTlsOptional;
    assert_eq!(ehlo_lines(optional), expect(&["STARTTLS", "AUTH LOGIN", "HELP"]));

    let mut required = config();
    required.security = PortSecurity::StartTlsRequired;
    assert_eq!(ehlo_lines(required.clone()), expect(&["STARTTLS", "HELP"]));
    let mut harness = Harness::new(required);
    harness.send("EHLO a\r\nSTARTTLS\r\n");
    let after: Vec<String> =
        harness.send("EHLO a\r\n").split("\r\n").filter(|l| !l.is_empty()).map(|l| l[4..].to_owned()).collect();
    assert_eq!(after, expect(&["AUTH PLAIN LOGIN", "HELP"]));

    let mut implicit = config();
    implicit.security = PortSecurity::Implicit(tls_info());
    assert_eq!(ehlo_lines(implicit), expect(&["AUTH PLAIN LOGIN", "HELP"]));

    let mut range_requires_tls = config();
    range_requires_tls.auth_requires_tls = true;
    assert_eq!(ehlo_lines(range_requires_tls), expect(&["HELP"]));

    let mut disabled = config();
    disabled.auth_enabled = false;
    assert_eq!(ehlo_lines(disabled), expect(&["HELP"]));

    let mut unlimited = config();
    unlimited.max_message_size = 0;
    assert_eq!(ehlo_lines(unlimited).get(2).map(String::as_str), Some("SIZE"));
}

#[test]
fn ehlo_wire_format() {
    let mut harness = Harness::new(config());
    let out = harness.send("EHLO client.example\r\n");
    assert!(out.starts_with("250-mx.example.com\r\n250-PIPELINING\r\n"), "{out}");
    assert!(out.ends_with("250-AUTH LOGIN\r\n250 HELP\r\n"), "{out}");
    assert_eq!(harness.send("HELO client.example\r\n"), "250 mx.example.com\r\n");
    assert_eq!(harness.session.helo(), Some("client.example"));
    assert_eq!(codes(&harness.send("EHLO\r\n")), [501]);
}

#[test]
fn pipelined_transaction() {
    let mut harness = Harness::new(config());
    let out = harness.send(
        "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n\
         RCPT TO:<unknown@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n",
    );
    assert_eq!(codes(&out), [250, 250, 250, 550, 250, 354], "{out}");
    assert!(out.ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"));
    let out = harness.send("Subject: hi\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n");
    assert_eq!(out, "250 2.0.0 Queued as Q1\r\n221 2.0.0 Goodbye\r\n");
    assert!(harness.closed());
    let [message] = harness.messages.as_slice() else { panic!("one message expected") };
    assert_eq!(message.body, b"Subject: hi\r\n\r\n.leading dot\r\n");
    let envelope = &message.envelope;
    assert_eq!(envelope.helo, "client.example");
    assert!(envelope.esmtp && !envelope.chunked);
    assert_eq!(envelope.sender.to_string(), "a@example.org");
    let rcpts: Vec<String> = envelope.recipients.iter().map(|r| r.address.to_string()).collect();
    assert_eq!(rcpts, ["b@example.com", "c@example.com"]);
    assert_eq!((envelope.authenticated.as_deref(), &envelope.tls), (None, &None));
}

#[test]
fn reply_250_waits_for_the_driver() {
    let mut session = Session::new(config());
    session.handle_input(b"EHLO a\r\nMAIL FROM:<a@b.example>\r\n");
    let mut saw_check = false;
    while let Some(action) = session.poll_action() {
        if let Action::CheckSender { .. } = action {
            saw_check = true;
            assert!(!session.wants_input());
            assert!(session.poll_action().is_none(), "nothing may come out before the answer");
            session.sender_checked(Ok(())).unwrap();
        }
    }
    assert!(saw_check);
    session.handle_input(b"RCPT TO:<c@d.example>\r\n");
    assert!(matches!(session.poll_action(), Some(Action::CheckRecipient { .. })));
    session.recipient_checked(Ok(())).unwrap();
    session.handle_input(b"DATA\r\nx\r\n.\r\nNOOP\r\n");
    let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(matches!(actions.as_slice(), [Action::Reply(_), Action::Reply(_), Action::Message(_)]), "{actions:?}");
    session.message_accepted(Ok("Q9".into())).unwrap();
    let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
    let codes: Vec<u16> =
        actions.iter().filter_map(|a| if let Action::Reply(r) = a { Some(r.code) } else { None }).collect();
    assert_eq!(codes, [250, 250], "queued, then the pipelined NOOP");
}

#[test]
fn answers_out_of_turn_are_refused() {
    let mut session = Session::new(config());
    assert_eq!(session.sender_checked(Ok(())), Err(UnexpectedAnswer("sender_checked")));
    session.handle_input(b"EHLO a\r\nMAIL FROM:<a@b.example>\r\n");
    while session.poll_action().is_some() {}
    assert!(session.recipient_checked(Ok(())).is_err());
    assert!(session.message_accepted(Ok("x".into())).is_err());
    assert!(session.tls_started(tls_info()).is_err());
    assert!(session.sender_checked(Ok(())).is_ok(), "the right answer still works");
}

#[test]
fn sequencing_errors() {
    let mut harness = Harness::new(config());
    let cases: &[(&str, u16)] = &[
        ("MAIL FROM:<a@b.example>", 503),
        ("RCPT TO:<a@b.example>", 503),
        ("DATA", 503),
        ("VRFY x", 503),
        ("AUTH LOGIN", 503),
        ("NOOP", 250),
        ("RSET", 250),
        ("HELP", 214),
        ("EHLO x", 250),
        ("RCPT TO:<a@b.example>", 503),
        ("DATA", 503),
        ("MAIL FROM:<a@b.example>", 250),
        ("MAIL FROM:<a@b.example>", 503),
        ("DATA", 554),
        ("RCPT TO:<unknown@b.example>", 550),
        ("DATA", 554),
        ("RSET", 250),
        ("RCPT TO:<a@b.example>", 503),
        ("VRFY postmaster", 252),
        ("EXPN staff", 502),
        ("FOO", 500),
        ("MAIL FROM:<a@b.example> FOO=BAR", 555),
        ("MAIL FROM:<a@b.example> SIZE=x", 501),
        ("MAIL FROM:<a@b.>", 501),
        ("ETRN example.com", 250),
    ];
    for (line, code) in cases {
        let out = harness.send(format!("{line}\r\n"));
        assert_eq!(codes(&out), [*code], "{line}: {out}");
    }
    assert!(harness.events.contains(&"etrn example.com".to_owned()));
    assert_eq!(harness.send("QUIT\r\n"), "221 2.0.0 Goodbye\r\n");
    assert!(harness.closed());
    assert_eq!(harness.send("NOOP\r\n"), "", "nothing after QUIT");
}

#[test]
fn texts_of_common_replies() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(
        harness.send("VRFY a\r\n"),
        "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
    );
    assert_eq!(harness.send("NOOP\r\n"), "250 2.0.0 OK\r\n");
    assert_eq!(harness.send("DATA\r\n"), "503 5.5.1 Bad sequence of commands: need MAIL command first\r\n");
    assert_eq!(harness.send("MAIL FROM:<a@b.example>\r\n"), "250 2.1.0 Sender OK\r\n");
    assert_eq!(harness.send("RCPT TO:<c@d.example>\r\n"), "250 2.1.5 Recipient OK\r\n");
}

#[test]
fn null_and_unqualified_senders() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("MAIL FROM:<>\r\nRSET\r\n")), [250, 250]);
    assert_eq!(codes(&harness.send("MAIL FROM:<user>\r\n")), [501]);
    assert_eq!(codes(&harness.send("MAIL FROM:<blocked@x.example>\r\n")), [550]);

    let mut strict = config();
    strict.allow_null_sender = false;
    strict.default_domain = Some("example.com".into());
    let mut harness = Harness::new(strict);
    harness.send("EHLO x\r\n");
    assert_eq!(harness.send("MAIL FROM:<>\r\n"), "550 5.7.1 Sender address must be specified\r\n");
    assert_eq!(codes(&harness.send("MAIL FROM:user\r\nRCPT TO:<other>\r\nRCPT TO:<Postmaster>\r\n")), [250, 250, 250]);
    assert_eq!(harness.events, ["sender user@example.com", "rcpt other@example.com", "rcpt Postmaster@example.com"]);

    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\n");
    assert_eq!(codes(&harness.send("RCPT TO:<postmaster>\r\nRCPT TO:<someone>\r\n")), [250, 501]);
    assert!(harness.events.contains(&"rcpt postmaster@mx.example.com".to_owned()));
}

#[test]
fn quoted_and_routed_addresses() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    let out = harness.send("MAIL FROM:<\"john doe\"@example.org>\r\nRCPT TO:<@relay.example:c@example.com>\r\n");
    assert_eq!(codes(&out), [250, 250]);
    assert_eq!(harness.events, ["sender \"john doe\"@example.org", "rcpt c@example.com"]);
}

#[test]
fn smtputf8_and_dsn_parameters_reach_the_envelope() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(
        harness.send("MAIL FROM:<jöe@example.org>\r\n"),
        "553 5.6.7 Non-ASCII addresses require the SMTPUTF8 parameter\r\n"
    );
    assert_eq!(
        codes(&harness.send("MAIL FROM:<joe@example.org>\r\nRCPT TO:<zoë@example.com>\r\nRSET\r\n")),
        [250, 553, 250]
    );
    let out = harness.send(
        "MAIL FROM:<jöe@exämple.org> SMTPUTF8 BODY=8BITMIME RET=HDRS ENVID=abc+2B1 AUTH=<> SIZE=100\r\n\
         RCPT TO:<zoë@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;zo+C3+AB@example.com\r\n\
         RCPT TO:<b@example.com> NOTIFY=NEVER\r\nDATA\r\nhi\r\n.\r\n",
    );
    assert_eq!(codes(&out), [250, 250, 250, 354, 250], "{out}");
    let envelope = &harness.messages[0].envelope;
    assert_eq!(envelope.sender.to_string(), "jöe@exämple.org");
    let params = &envelope.params;
    assert!(params.smtputf8);
    assert_eq!(
        (params.body, params.ret, params.envid.as_deref(), &params.auth, params.size),
        (Some(BodyType::EightBitMime), Some(Ret::Headers), Some("abc+1"), &Some(MailAuth::Unknown), Some(100))
    );
    let first = &envelope.recipients[0];
    assert_eq!(first.address, mailbox("zoë@example.com"));
    assert_eq!(first.params.notify, Some(Notify::On { success: true, failure: true, delay: false }));
    assert_eq!(first.params.orcpt, Some(Orcpt { addr_type: "rfc822".into(), address: "zoë@example.com".into() }));
    assert_eq!(envelope.recipients[1].params.notify, Some(Notify::Never));
}

#[test]
fn binarymime_is_refused() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n")), [555]);
}

#[test]
fn recipient_limit() {
    let mut limited = config();
    limited.max_recipients = 2;
    let mut harness = Harness::new(limited);
    harness.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\n");
    let out = harness.send("RCPT TO:<c1@d.example>\r\nRCPT TO:<c2@d.example>\r\nRCPT TO:<c3@d.example>\r\n");
    assert_eq!(out, "250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n452 4.5.3 Too many recipients\r\n");
    assert_eq!(harness.session.transaction().map(|tx| tx.recipients().len()), Some(2));
}

#[test]
fn etrn_goes_to_the_driver() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(harness.send("ETRN example.com\r\n"), "250 2.0.0 OK, message queuing started for example.com\r\n");
    assert_eq!(codes(&harness.send("ETRN\r\n")), [501]);
}

#[test]
fn received_lines_are_logged_when_asked() {
    let mut logged = config();
    logged.log_received = true;
    let mut harness = Harness::new(logged);
    harness.send("EHLO x\r\nNOOP\r\n");
    assert_eq!(harness.events, ["recv EHLO x", "recv NOOP"]);
}

#[test]
fn close_with_reason() {
    let mut harness = Harness::new(config());
    harness.session.close_with(CloseReason::Timeout);
    assert_eq!(harness.drive(), "421 4.4.2 Connection timeout\r\n");
    assert!(harness.closed() && harness.session.is_closed() && !harness.session.wants_input());
    let mut harness = Harness::new(config());
    harness.session.close_with(CloseReason::Shutdown);
    assert_eq!(harness.drive(), "421 4.3.2 Service shutting down\r\n");
}

#[test]
fn shutdown_without_a_transaction_closes_at_once() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    harness.session.begin_shutdown();
    assert_eq!(harness.drive(), "421 4.3.2 Service shutting down\r\n");
    assert!(harness.closed());
}

#[test]
fn shutdown_lets_the_message_being_sent_finish() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\nSubject: x\r\n\r\nfirst half\r\n")), [354]);
    harness.session.begin_shutdown();
    assert_eq!(harness.drive(), "", "nothing said while the message arrives");
    assert_eq!(codes(&harness.send("second half\r\n.\r\n")), [250]);
    assert_eq!(harness.messages.len(), 1);
    assert!(!harness.closed());
    // No new transaction; QUIT is still answered as usual.
    assert_eq!(harness.send("MAIL FROM:<a@example.org>\r\n"), "421 4.3.2 Service shutting down\r\n");
    assert!(harness.closed());
}

#[test]
fn shutdown_between_mail_and_data_lets_the_transaction_finish() {
    let mut harness = Harness::new(config());
    harness.open_transaction();
    harness.session.begin_shutdown();
    assert_eq!(harness.drive(), "");
    assert_eq!(codes(&harness.send("DATA\r\n")), [354]);
    assert_eq!(codes(&harness.send("body\r\n.\r\n")), [250]);
    assert_eq!(codes(&harness.send("QUIT\r\n")), [221]);
    assert!(harness.closed());
}
