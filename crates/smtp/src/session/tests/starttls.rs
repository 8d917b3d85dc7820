//! STARTTLS: injection before the handshake, state reset, required ports.

use super::*;

fn starttls_config() -> SessionConfig {
    let mut optional = config();
    optional.security = PortSecurity::StartTlsOptional;
    optional
}

#[test]
fn input_pipelined_after_starttls_is_dropped() {
    let mut harness = Harness::new(starttls_config());
    let out = harness.send("EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\n");
    assert_eq!(codes(&out), [250, 220], "{out}");
    assert!(out.ends_with("220 2.0.0 Ready to start TLS\r\n"));
    assert_eq!(harness.events, ["starttls"]);
    assert_eq!(harness.session.tls(), Some(&tls_info()));
    assert_eq!(harness.session.helo(), None, "the state is reset");
    assert_eq!(codes(&harness.send("MAIL FROM:<a@b.example>\r\n")), [503], "EHLO again first");
    let out = harness.send("EHLO x\r\n");
    assert!(!out.contains("STARTTLS") && out.contains("AUTH PLAIN LOGIN"), "{out}");
    assert_eq!(codes(&harness.send("STARTTLS\r\n")), [503], "already active");
}

#[test]
fn input_arriving_during_the_handshake_is_dropped() {
    let mut session = Session::new(starttls_config());
    session.handle_input(b"EHLO x\r\nSTARTTLS\r\n");
    let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(matches!(actions.last(), Some(Action::StartTls)));
    assert!(!session.wants_input());
    session.handle_input(b"MAIL FROM:<evil@example.net>\r\n");
    session.tls_started(tls_info()).unwrap();
    assert!(session.poll_action().is_none());
    session.handle_input(b"NOOP\r\n");
    assert!(matches!(session.poll_action(), Some(Action::Reply(reply)) if reply.code == 250));
}

#[test]
fn transaction_and_auth_are_forgotten() {
    let mut harness = Harness::new(starttls_config());
    harness.open_transaction();
    harness.send("STARTTLS\r\n");
    assert!(harness.session.transaction().is_none());
}

#[test]
fn required_port_refuses_mail_before_tls() {
    let mut required = config();
    required.security = PortSecurity::StartTlsRequired;
    let mut harness = Harness::new(required);
    harness.send("EHLO x\r\n");
    for line in ["MAIL FROM:<a@b.example>", "RCPT TO:<a@b.example>", "DATA", "VRFY a", "ETRN x"] {
        assert_eq!(harness.send(format!("{line}\r\n")), "530 5.7.0 Must issue a STARTTLS command first\r\n", "{line}");
    }
    assert_eq!(codes(&harness.send("NOOP\r\nRSET\r\nHELP\r\n")), [250, 250, 214]);
    assert_eq!(codes(&harness.send("STARTTLS\r\nEHLO x\r\nMAIL FROM:<a@b.example>\r\n")), [220]);
    assert_eq!(codes(&harness.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\n")), [250, 250]);
}

#[test]
fn starttls_where_not_offered() {
    let mut harness = Harness::new(config());
    assert_eq!(codes(&harness.send("STARTTLS\r\n")), [503], "before EHLO");
    harness.send("EHLO x\r\n");
    assert_eq!(harness.send("STARTTLS\r\n"), "502 5.5.1 STARTTLS is not available\r\n");
    let mut harness = Harness::new(starttls_config());
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("STARTTLS now\r\n")), [501]);
}
