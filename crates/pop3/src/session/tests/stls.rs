//! STLS (RFC 2595) and the rules that keep passwords off plain connections.

use super::*;

fn port(security: PortSecurity) -> SessionConfig {
    let mut config = config();
    config.security = security;
    config
}

#[test]
fn stls_upgrades_and_starts_again() {
    let mut h = Harness::new(port(PortSecurity::StartTlsOptional));
    assert!(h.send("CAPA\r\n").contains("\r\nSTLS\r\n"));
    assert_eq!(h.send("USER john@example.com\r\nSTLS\r\n"), "+OK Send your password\r\n+OK Begin TLS negotiation\r\n");
    assert_eq!(h.events, ["starttls"]);
    assert!(h.session.is_tls());
    assert_eq!(h.send("PASS secret\r\n"), "-ERR Send USER first.\r\n", "USER before STLS is forgotten");
    let capa = h.send("CAPA\r\n");
    assert!(!capa.contains("STLS") && capa.contains("\r\nUSER\r\n"), "{capa}");
    assert_eq!(h.send("STLS\r\n"), "-ERR Command not permitted when TLS active\r\n");
    assert_eq!(
        h.send("USER john@example.com\r\nPASS secret\r\n"),
        "+OK Send your password\r\n+OK Mailbox locked and ready\r\n"
    );
}

#[test]
fn input_pipelined_after_stls_is_dropped() {
    let mut h = Harness::new(port(PortSecurity::StartTlsOptional));
    let out = h.send("STLS\r\nUSER john@example.com\r\nPASS secret\r\n");
    assert_eq!(out, "+OK Begin TLS negotiation\r\n");
    assert!(h.credentials.is_empty(), "no command from before the handshake runs inside TLS");
    assert_eq!(h.send("STAT\r\n"), "-ERR Invalid command in current state.\r\n");
}

#[test]
fn input_between_stls_and_the_handshake_is_dropped() {
    let mut session = Session::new(port(PortSecurity::StartTlsOptional));
    session.handle_input(b"STLS\r\n");
    while session.poll_action().is_some() {}
    assert!(!session.wants_input());
    session.handle_input(b"USER john@example.com\r\nPASS secret\r\n");
    assert_eq!(session.poll_action(), None);
    session.tls_started().unwrap();
    session.handle_input(b"NOOP\r\n");
    assert!(matches!(session.poll_action(), Some(Action::Reply(r)) if r.to_string() == "+OK"));
    assert_eq!(session.poll_action(), None);
}

#[test]
fn stls_is_refused_where_it_does_not_apply() {
    let mut plain = Harness::new(config());
    assert!(!plain.send("CAPA\r\n").contains("STLS"));
    assert_eq!(plain.send("STLS\r\n"), "-ERR STLS is not available on this port.\r\n");
    let mut implicit = Harness::new(port(PortSecurity::Implicit));
    assert!(implicit.session.is_tls());
    assert!(!implicit.send("CAPA\r\n").contains("STLS"));
    assert_eq!(implicit.send("STLS\r\n"), "-ERR Command not permitted when TLS active\r\n");
    assert!(implicit.events.is_empty());
}

#[test]
fn a_starttls_required_port_refuses_logons_before_tls() {
    let mut h = Harness::new(port(PortSecurity::StartTlsRequired));
    let capa = h.send("CAPA\r\n");
    assert!(!capa.contains("USER") && !capa.contains("SASL") && capa.contains("STLS"), "{capa}");
    for command in ["USER john@example.com", "PASS secret", "AUTH PLAIN AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0", "AUTH"] {
        assert_eq!(h.send(format!("{command}\r\n")), "-ERR STLS is required.\r\n", "{command}");
    }
    assert!(h.credentials.is_empty());
    h.send("STLS\r\n");
    assert!(h.send("CAPA\r\n").contains("\r\nUSER\r\nSASL PLAIN\r\n"));
    assert_eq!(statuses(&h.send("USER john@example.com\r\nPASS secret\r\n")), ["+OK", "+OK"]);
}

#[test]
fn an_ip_range_that_requires_tls_refuses_logons_before_tls() {
    let mut config = port(PortSecurity::StartTlsOptional);
    config.auth_requires_tls = true;
    config.apop_timestamp = Some(TIMESTAMP.into());
    let mut h = Harness::new(config.clone());
    let refusal = "-ERR A SSL/TLS-connection is required for authentication.\r\n";
    for command in ["USER john@example.com", "PASS secret", "AUTH PLAIN", &format!("APOP mrose {DIGEST}")] {
        assert_eq!(h.send(format!("{command}\r\n")), refusal, "{command}");
    }
    assert!(!h.send("CAPA\r\n").contains("USER"));
    h.send("STLS\r\n");
    assert_eq!(statuses(&h.send("USER john@example.com\r\nPASS secret\r\n")), ["+OK", "+OK"]);

    config.security = PortSecurity::Implicit;
    let mut h = Harness::new(config);
    assert_eq!(statuses(&h.send("USER john@example.com\r\nPASS secret\r\n")), ["+OK", "+OK"]);
}
