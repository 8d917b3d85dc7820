use super::*;

fn config() -> ClientConfig {
    ClientConfig {
        helo: "mx.us.test".into(),
        starttls: StartTls::Opportunistic,
        tls_from_start: false,
        auth: None,
        batch: 0,
    }
}

fn envelope(rcpts: &[&str], data: &[u8]) -> Envelope {
    Envelope {
        sender: "a@us.test".into(),
        recipients: rcpts.iter().map(|s| s.to_string()).collect(),
        data: data.to_vec(),
        ..Envelope::default()
    }
}

fn reply(text: &str) -> Input {
    let mut r = crate::reply::ReplyReader::new();
    r.feed(text.as_bytes());
    Input::Reply(r.next_reply().unwrap().unwrap())
}

fn sent(a: &Action) -> String {
    match a {
        Action::Send { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("expected Send, got {other:?}"),
    }
}

fn outcome(a: Action) -> Outcome {
    match a {
        Action::Done(o) => o,
        other => panic!("expected Done, got {other:?}"),
    }
}

#[test]
fn full_dialogue_with_starttls_auth_and_partial_recipients() {
    let mut cfg = config();
    cfg.auth = Some(("u".into(), "p".into()));
    let mut c =
        Client::new(cfg, envelope(&["ok@them.test", "no@them.test", "later@them.test"], b"Subject: x\n\n.dot\n"));
    assert_eq!(sent(&c.handle(reply("220 hi\r\n"))), "EHLO mx.us.test\r\n");
    assert_eq!(sent(&c.handle(reply("250-them\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n"))), "STARTTLS\r\n");
    assert_eq!(c.handle(reply("220 go\r\n")), Action::StartTls);
    assert_eq!(sent(&c.handle(Input::TlsReady)), "EHLO mx.us.test\r\n");
    assert!(c.is_tls());
    assert_eq!(sent(&c.handle(reply("250-them\r\n250-SIZE 1000\r\n250 AUTH LOGIN\r\n"))), "AUTH LOGIN\r\n");
    let a = c.handle(reply("334 VXNlcm5hbWU6\r\n"));
    assert_eq!(sent(&a), "dQ==\r\n");
    assert!(matches!(a, Action::Send { ref log, .. } if log == "***"));
    assert_eq!(sent(&c.handle(reply("334 UGFzc3dvcmQ6\r\n"))), "cA==\r\n");
    assert_eq!(sent(&c.handle(reply("235 ok\r\n"))), "MAIL FROM:<a@us.test> SIZE=20\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<ok@them.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<no@them.test>\r\n");
    assert_eq!(sent(&c.handle(reply("550 5.1.1 no such user\r\n"))), "RCPT TO:<later@them.test>\r\n");
    assert_eq!(sent(&c.handle(reply("451 4.3.0 try later\r\n"))), "DATA\r\n");
    assert_eq!(sent(&c.handle(reply("354 go\r\n"))), "Subject: x\r\n\r\n..dot\r\n.\r\n");
    let o = outcome(c.handle(reply("250 queued\r\n")));
    assert!(!o.try_next_host && o.quit);
    assert_eq!(o.recipients[0], Status::Delivered);
    assert_eq!(
        o.recipients[1],
        Status::Permanent(Failure { command: "RCPT TO:<no@them.test>".into(), reply: "550 5.1.1 no such user".into() })
    );
    assert!(matches!(&o.recipients[2], Status::Temporary(f) if f.reply.starts_with("451")));
}

#[test]
fn helo_fallback_and_bdat() {
    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a\nb"));
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("502 no\r\n"))), "HELO mx.us.test\r\n");
    assert_eq!(sent(&c.handle(reply("250 hi\r\n"))), "MAIL FROM:<a@us.test>\r\n");

    let mut c = Client::new(config(), envelope(&["x@them.test"], "a\nü".as_bytes()));
    c.handle(reply("220 hi\r\n"));
    let a = c.handle(reply("250-them\r\n250-8BITMIME\r\n250-SIZE\r\n250 CHUNKING\r\n"));
    assert_eq!(sent(&a), "MAIL FROM:<a@us.test> SIZE=7 BODY=8BITMIME\r\n", "SIZE counts CRLF line ends");
    c.handle(reply("250 ok\r\n"));
    let a = c.handle(reply("250 ok\r\n"));
    assert_eq!(sent(&a), "BDAT 7 LAST\r\na\r\nü\r\n");
    assert_eq!(outcome(c.handle(reply("250 ok\r\n"))).recipients, [Status::Delivered]);
}

#[test]
fn required_tls_without_starttls_and_refusing_hosts_try_the_next_host() {
    let mut cfg = config();
    cfg.starttls = StartTls::Required;
    let mut c = Client::new(cfg, envelope(&["x@them.test"], b"a"));
    c.handle(reply("220 hi\r\n"));
    let o = outcome(c.handle(reply("250 them\r\n")));
    assert!(o.try_next_host);
    assert!(matches!(&o.recipients[0], Status::Temporary(f) if f.reply == "Server does not support STARTTLS."));

    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a"));
    let o = outcome(c.handle(reply("421 busy\r\n")));
    assert!(o.try_next_host);
    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a"));
    let o = outcome(c.handle(Input::Broken("connection refused".into())));
    assert!(o.try_next_host && !o.quit);
}

#[test]
fn data_refusal_and_broken_body_fail_the_accepted_recipients() {
    let mut c = Client::new(config(), envelope(&["x@them.test", "y@them.test"], b"a"));
    c.handle(reply("220 hi\r\n"));
    c.handle(reply("250 them\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("550 no\r\n"));
    c.handle(reply("250 ok\r\n"));
    let o = outcome(c.handle(reply("554 no data for you\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.contains("550")));
    assert!(matches!(&o.recipients[1], Status::Permanent(f) if f.command == "DATA"));

    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a"));
    c.handle(reply("220 hi\r\n"));
    c.handle(reply("250 them\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("354 go\r\n"));
    let o = outcome(c.handle(Input::Broken("reset".into())));
    assert!(!o.try_next_host && matches!(&o.recipients[0], Status::Temporary(_)));
}

#[test]
fn auth_plain_preferred_and_smtputf8_needs_the_extension() {
    let mut cfg = config();
    cfg.starttls = StartTls::Never;
    cfg.auth = Some(("u".into(), "p".into()));
    let mut c = Client::new(cfg, envelope(&["x@them.test"], b"a"));
    c.handle(reply("220 hi\r\n"));
    let a = c.handle(reply("250-them\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n"));
    assert_eq!(sent(&a), "AUTH PLAIN AHUAcA==\r\n");
    assert!(
        matches!(c.handle(reply("535 bad\r\n")), Action::Done(o) if matches!(o.recipients[0], Status::Permanent(_)))
    );

    let mut e = envelope(&["ü@them.test"], b"a");
    e.smtputf8 = true;
    let mut c = Client::new(config(), e.clone());
    c.handle(reply("220 hi\r\n"));
    let o = outcome(c.handle(reply("250 them\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.contains("SMTPUTF8") && f.command.is_empty()));
    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250-them\r\n250 SMTPUTF8\r\n"))), "MAIL FROM:<a@us.test> SMTPUTF8\r\n");
}

#[test]
fn dsn_parameters_go_onward_only_when_offered() {
    let mut e = envelope(&["x@them.test", "y@them.test"], b"a");
    e.envid = "id+1 x".into();
    e.ret = "hdrs".into();
    e.dsn = vec![RcptDsn { notify: "SUCCESS,FAILURE".into(), orcpt: "rfc822;X=1@them.test".into() }];
    let mut c = Client::new(config(), e.clone());
    c.handle(reply("220 hi\r\n"));
    assert_eq!(
        sent(&c.handle(reply("250-them\r\n250 DSN\r\n"))),
        "MAIL FROM:<a@us.test> RET=HDRS ENVID=id+2B1+20x\r\n"
    );
    assert_eq!(
        sent(&c.handle(reply("250 ok\r\n"))),
        "RCPT TO:<x@them.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;X+3D1@them.test\r\n"
    );
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<y@them.test>\r\n", "no DSN row: no parameters");
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("354 go\r\n"));
    assert!(outcome(c.handle(reply("250 ok\r\n"))).dsn);

    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250 them\r\n"))), "MAIL FROM:<a@us.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<x@them.test>\r\n");
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("354 go\r\n"));
    assert!(!outcome(c.handle(reply("250 ok\r\n"))).dsn, "the worker sends the relayed DSN");
}

#[test]
fn utf8_envelope_or_headers_are_never_sent_to_a_peer_without_smtputf8() {
    // A non-ASCII sender: nothing can go; 5.6.7 for everyone, no MAIL sent.
    let mut e = envelope(&["x@them.test"], b"a");
    e.sender = "jörg@us.test".into();
    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    let o = outcome(c.handle(reply("250-them\r\n250 8BITMIME\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.starts_with("5.6.7") && f.command.is_empty()));
    assert!(o.quit);

    // UTF-8 headers of a message submitted with SMTPUTF8: 5.6.9.
    let mut e = envelope(&["x@them.test"], "Subject: grüße\r\n\r\nbody".as_bytes());
    e.smtputf8 = true;
    let mut c = Client::new(config(), e.clone());
    c.handle(reply("220 hi\r\n"));
    let o = outcome(c.handle(reply("250 them\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.starts_with("5.6.9")));
    // The same message to a peer with SMTPUTF8 goes out with the parameter.
    let mut c = Client::new(config(), e.clone());
    c.handle(reply("220 hi\r\n"));
    let a = c.handle(reply("250-them\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"));
    assert_eq!(sent(&a), "MAIL FROM:<a@us.test> BODY=8BITMIME SMTPUTF8\r\n");
    // Without SMTPUTF8 at submission the 8-bit headers are legacy ones: sent as they are.
    e.smtputf8 = false;
    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250 them\r\n"))), "MAIL FROM:<a@us.test>\r\n");

    // Only one recipient is non-ASCII: it fails, the other is delivered.
    let mut c = Client::new(config(), envelope(&["ü@them.test", "x@them.test"], b"a"));
    c.handle(reply("220 hi\r\n"));
    c.handle(reply("250 them\r\n"));
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<x@them.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "DATA\r\n");
    c.handle(reply("354 go\r\n"));
    let o = outcome(c.handle(reply("250 ok\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.starts_with("5.6.7")));
    assert_eq!(o.recipients[1], Status::Delivered);
}

#[test]
fn eight_bit_bodies_without_8bitmime_are_sent_with_a_warning() {
    let mut c = Client::new(config(), envelope(&["x@them.test"], "caf\u{e9}\n".as_bytes()));
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250-them\r\n250 SIZE 100\r\n"))), "MAIL FROM:<a@us.test> SIZE=7\r\n");
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    assert!(!c.awaiting_data_end());
    assert_eq!(sent(&c.handle(reply("354 go\r\n"))), "caf\u{e9}\r\n.\r\n");
    assert!(c.awaiting_data_end(), "the end-of-data reply gets the longer timeout");
    let o = outcome(c.handle(reply("250 ok\r\n")));
    assert_eq!(o.recipients, [Status::Delivered]);
    assert_eq!(o.warnings.len(), 1);
    assert!(o.warnings[0].contains("8BITMIME"));

    // BODY=8BITMIME as submitted is passed on even for an ASCII body.
    let mut e = envelope(&["x@them.test"], b"a");
    e.body = "8BITMIME".into();
    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250-them\r\n250 8BITMIME\r\n"))), "MAIL FROM:<a@us.test> BODY=8BITMIME\r\n");

    // The size limit counts CRLF line ends too: 4 bytes become 6.
    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a\nb\n"));
    c.handle(reply("220 hi\r\n"));
    let o = outcome(c.handle(reply("250-them\r\n250 SIZE 5\r\n")));
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.contains("remote limit of 5")));
}

#[test]
fn batches_share_the_connection_with_rset_when_needed() {
    let mut cfg = config();
    cfg.batch = 2;
    let rcpts = ["a@x.test", "b@x.test", "c@y.test", "d@y.test", "e@z.test"];
    let mut c = Client::new(cfg.clone(), envelope(&rcpts, b"m"));
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250 them\r\n"))), "MAIL FROM:<a@us.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<a@x.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<b@x.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "DATA\r\n");
    c.handle(reply("354 go\r\n"));
    // The data was answered: the next MAIL follows at once.
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "MAIL FROM:<a@us.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<c@y.test>\r\n");
    assert_eq!(sent(&c.handle(reply("550 no\r\n"))), "RCPT TO:<d@y.test>\r\n");
    // No recipient accepted: the open transaction is reset first.
    assert_eq!(sent(&c.handle(reply("450 later\r\n"))), "RSET\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "MAIL FROM:<a@us.test>\r\n");
    assert_eq!(sent(&c.handle(reply("250 ok\r\n"))), "RCPT TO:<e@z.test>\r\n");
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("354 go\r\n"));
    let o = outcome(c.handle(reply("250 ok\r\n")));
    assert_eq!(o.recipients[..2], [Status::Delivered, Status::Delivered]);
    assert!(matches!(&o.recipients[2], Status::Permanent(_)));
    assert!(matches!(&o.recipients[3], Status::Temporary(_)));
    assert_eq!(o.recipients[4], Status::Delivered);

    // A refused RSET ends the connection: the rest are "not attempted" (a new connection's).
    let mut c = Client::new(cfg.clone(), envelope(&rcpts[..3], b"m"));
    c.handle(reply("220 hi\r\n"));
    c.handle(reply("250 them\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("550 no\r\n"));
    assert_eq!(sent(&c.handle(reply("550 no\r\n"))), "RSET\r\n");
    let o = outcome(c.handle(reply("500 what\r\n")));
    assert!(o.recipients[2].not_attempted() && !o.recipients[0].not_attempted());

    // A connection lost in the second batch keeps the first batch's deliveries.
    let mut c = Client::new(cfg, envelope(&rcpts[..3], b"m"));
    c.handle(reply("220 hi\r\n"));
    c.handle(reply("250 them\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("354 go\r\n"));
    c.handle(reply("250 ok\r\n"));
    c.handle(reply("250 ok\r\n"));
    let o = outcome(c.handle(Input::Broken("reset".into())));
    assert_eq!(o.recipients[..2], [Status::Delivered, Status::Delivered]);
    assert!(matches!(&o.recipients[2], Status::Temporary(f) if f.reply == "reset"));
}

#[test]
fn a_5xx_greeting_sends_us_to_the_next_host() {
    let mut c = Client::new(config(), envelope(&["x@them.test"], b"a"));
    let o = outcome(c.handle(reply("554 go away\r\n")));
    assert!(o.try_next_host && o.quit);
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply == "554 go away"));
}

#[test]
fn xtext_encoding() {
    assert_eq!(xtext("a+b=c d\u{e9}"), "a+2Bb+3Dc+20d+C3+A9");
}
