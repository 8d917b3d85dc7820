use super::*;

fn config() -> ClientConfig {
    ClientConfig { helo: "mx.us.test".into(), starttls: StartTls::Opportunistic, tls_from_start: false, auth: None }
}

fn envelope(rcpts: &[&str], data: &[u8]) -> Envelope {
    Envelope {
        sender: "a@us.test".into(),
        recipients: rcpts.iter().map(|s| s.to_string()).collect(),
        data: data.to_vec(),
        smtputf8: false,
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
    assert_eq!(sent(&c.handle(reply("235 ok\r\n"))), "MAIL FROM:<a@us.test> SIZE=17\r\n");
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
    assert_eq!(sent(&a), "MAIL FROM:<a@us.test> SIZE=4 BODY=8BITMIME\r\n");
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
    assert!(matches!(&o.recipients[0], Status::Permanent(f) if f.reply.contains("SMTPUTF8")));
    let mut c = Client::new(config(), e);
    c.handle(reply("220 hi\r\n"));
    assert_eq!(sent(&c.handle(reply("250-them\r\n250 SMTPUTF8\r\n"))), "MAIL FROM:<a@us.test> SMTPUTF8\r\n");
}
