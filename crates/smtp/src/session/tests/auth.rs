//! AUTH PLAIN, LOGIN and CRAM-MD5 with the driver's answers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;
use crate::proto::Mechanism;

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

fn tls_harness() -> Harness {
    let mut implicit = config();
    implicit.security = PortSecurity::Implicit(tls_info());
    let mut harness = Harness::new(implicit);
    harness.send("EHLO x\r\n");
    harness
}

#[test]
fn plain_with_initial_response() {
    let mut harness = tls_harness();
    let out = harness.send(format!("AUTH PLAIN {}\r\n", b64("\0user@example.com\0secret")));
    assert_eq!(out, "235 2.7.0 Authentication successful\r\n");
    assert_eq!(harness.session.authenticated_user(), Some("user@example.com"));
    let creds = &harness.credentials[0];
    assert_eq!(
        (creds.mechanism, creds.username.as_str(), creds.authzid.as_deref()),
        (Mechanism::Plain, "user@example.com", None)
    );
    assert_eq!(codes(&harness.send(format!("AUTH PLAIN {}\r\n", b64("\0u\0secret")))), [503], "second AUTH");
    let out = harness.send("MAIL FROM:<user@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\n");
    assert_eq!(codes(&out), [250, 250, 354, 250]);
    let envelope = &harness.messages[0].envelope;
    assert_eq!(envelope.authenticated.as_deref(), Some("user@example.com"));
    assert_eq!(envelope.tls, Some(tls_info()));
}

#[test]
fn plain_with_challenge_and_authzid() {
    let mut harness = tls_harness();
    assert_eq!(harness.send("AUTH PLAIN\r\n"), "334 \r\n");
    let out = harness.send(format!("{}\r\n", b64("admin\0user\0secret")));
    assert_eq!(codes(&out), [535], "the scripted driver refuses a foreign authzid");
    assert_eq!(harness.credentials[0].authzid.as_deref(), Some("admin"));
    assert_eq!(harness.send("AUTH PLAIN =\r\n"), "501 5.5.2 Malformed authentication data\r\n");
    assert_eq!(codes(&harness.send(format!("AUTH PLAIN {}\r\n", b64("user\0user\0secret")))), [235]);
}

#[test]
fn login_flows() {
    let mut harness = tls_harness();
    assert_eq!(harness.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(harness.send(format!("{}\r\n", b64("user"))), "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(codes(&harness.send(format!("{}\r\n", b64("wrong")))), [535]);
    assert_eq!(harness.send(format!("AUTH LOGIN {}\r\n", b64("user"))), "334 UGFzc3dvcmQ6\r\n");
    assert_eq!(codes(&harness.send(format!("{}\r\n", b64("secret")))), [235]);
    let creds = &harness.credentials[1];
    assert_eq!(
        (creds.mechanism, creds.username.as_str(), creds.password.expose()),
        (Mechanism::Login, "user", "secret")
    );
}

#[test]
fn cancel_and_bad_base64() {
    let mut harness = tls_harness();
    harness.send("AUTH LOGIN\r\n");
    assert_eq!(harness.send("*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(codes(&harness.send("NOOP\r\n")), [250], "back to commands");
    harness.send("AUTH PLAIN\r\n");
    assert_eq!(harness.send("not base64!\r\n"), "501 5.5.2 Invalid base64 data\r\n");
    assert_eq!(codes(&harness.send("AUTH PLAIN %%%\r\n")), [501]);
    assert!(harness.credentials.is_empty());
}

#[test]
fn driver_failures() {
    let mut harness = tls_harness();
    assert_eq!(
        harness.send(format!("AUTH PLAIN {}\r\n", b64("\0tempfail\0x"))),
        "454 4.7.0 Temporary authentication failure\r\n"
    );
    let out = harness.send(format!("AUTH PLAIN {}\r\nNOOP\r\n", b64("\0banned\0x")));
    assert_eq!(out, "535 5.7.8 Authentication failed. Too many invalid logon attempts\r\n");
    assert!(harness.closed());
}

#[test]
fn refusals_before_any_exchange() {
    let mut harness = Harness::new(config());
    harness.send("EHLO x\r\n");
    assert_eq!(
        harness.send("AUTH PLAIN\r\n"),
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n",
        "PLAIN without TLS when plain text is not allowed"
    );
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [504]);
    assert_eq!(codes(&harness.send("AUTH LOGIN\r\n")), [334], "LOGIN is always offered");
    harness.send("*\r\n");
    harness.send("MAIL FROM:<a@b.example>\r\n");
    assert_eq!(codes(&harness.send("AUTH LOGIN\r\n")), [503], "not inside a transaction");

    let mut range = config();
    range.auth_requires_tls = true;
    let mut harness = Harness::new(range);
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("AUTH LOGIN\r\n")), [538]);

    let mut required = config();
    required.security = PortSecurity::StartTlsRequired;
    let mut harness = Harness::new(required);
    harness.send("EHLO x\r\n");
    assert_eq!(harness.send("AUTH LOGIN\r\n"), "530 5.7.0 Must issue a STARTTLS command first\r\n");

    let mut disabled = config();
    disabled.auth_enabled = false;
    let mut harness = Harness::new(disabled);
    harness.send("EHLO x\r\n");
    assert_eq!(codes(&harness.send("AUTH LOGIN\r\n")), [502]);
}

#[test]
fn auth_lines_are_masked_in_the_log() {
    let mut logged = config();
    logged.log_received = true;
    logged.security = PortSecurity::Implicit(tls_info());
    let mut harness = Harness::new(logged);
    harness.send(format!("EHLO x\r\nAUTH PLAIN {}\r\n", b64("\0user\0hunter2")));
    harness.send("AUTH LOGIN\r\n");
    harness.send(format!("{}\r\n{}\r\n", b64("user"), b64("hunter2")));
    let log = harness.events.join("\n");
    assert!(
        !log.contains(&b64("\0user\0hunter2")) && !log.contains(&b64("hunter2")) && !log.contains("hunter2"),
        "{log}"
    );
    assert!(log.contains("recv AUTH PLAIN ***"), "{log}");
    assert!(log.contains("recv ***"), "{log}");
    assert!(!format!("{:?}", harness.credentials).contains("hunter2"));
}

#[test]
fn long_auth_lines_are_allowed() {
    let mut harness = tls_harness();
    let long_user = "u".repeat(600);
    let out = harness.send(format!("AUTH PLAIN {}\r\n", b64(&format!("\0{long_user}\0secret"))));
    assert_eq!(codes(&out), [235]);
}

// --- CRAM-MD5 --------------------------------------------------------------------------------

/// RFC 2195 §2's example challenge.
const CHALLENGE: &str = "<1896.697170952@postoffice.reston.mci.net>";

fn cram_config() -> SessionConfig {
    let mut config = config();
    config.cram_md5_challenge = Some(CHALLENGE.to_owned());
    config
}

fn cram_harness() -> Harness {
    let mut harness = Harness::new(cram_config());
    harness.send("EHLO x\r\n");
    harness
}

/// The client's CRAM-MD5 response line for `user` with `password`.
fn cram_response(user: &str, password: &str) -> String {
    b64(&format!("{user} {}", altimail_core::password::cram_md5_digest(password, CHALLENGE)))
}

fn auth_line(ehlo: &str) -> Option<&str> {
    ehlo.split("\r\n").find_map(|line| line.get(4..).filter(|rest| rest.starts_with("AUTH")))
}

#[test]
fn cram_md5_is_offered_only_with_a_challenge() {
    let mut harness = Harness::new(config());
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), Some("AUTH LOGIN"));
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [504]);

    let mut harness = Harness::new(cram_config());
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), Some("AUTH LOGIN CRAM-MD5"), "no TLS needed");

    let mut tls = cram_config();
    tls.security = PortSecurity::Implicit(tls_info());
    let mut harness = Harness::new(tls);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), Some("AUTH PLAIN LOGIN CRAM-MD5"));

    let mut plain_text = cram_config();
    plain_text.allow_plain_without_tls = true;
    let mut harness = Harness::new(plain_text);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), Some("AUTH PLAIN LOGIN CRAM-MD5"));

    // Wherever AUTH is not offered, neither is CRAM-MD5.
    let mut range = cram_config();
    range.auth_requires_tls = true;
    let mut harness = Harness::new(range);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), None);
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [538]);

    let mut disabled = cram_config();
    disabled.auth_enabled = false;
    let mut harness = Harness::new(disabled);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), None);
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [502]);

    let mut required = cram_config();
    required.security = PortSecurity::StartTlsRequired;
    let mut harness = Harness::new(required);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), None);
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [530]);
    let out = harness.send("STARTTLS\r\n");
    assert_eq!(codes(&out), [220]);
    assert_eq!(auth_line(&harness.send("EHLO x\r\n")), Some("AUTH PLAIN LOGIN CRAM-MD5"));
}

#[test]
fn cram_md5_success() {
    let mut harness = cram_harness();
    let challenge = harness.send("auth cram-md5\r\n");
    assert_eq!(challenge, format!("334 {}\r\n", b64(CHALLENGE)));
    assert_eq!(challenge, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n", "RFC 2195 §2");
    let out = harness.send(format!("{}\r\n", cram_response("user@example.com", "secret")));
    assert_eq!(out, "235 2.7.0 Authentication successful\r\n");
    assert_eq!(harness.session.authenticated_user(), Some("user@example.com"));
    let creds = &harness.credentials[0];
    assert_eq!(
        (creds.mechanism, creds.username.as_str(), creds.authzid.as_deref(), creds.challenge.as_deref()),
        (Mechanism::CramMd5, "user@example.com", None, Some(CHALLENGE))
    );
    assert_eq!(creds.password.expose(), altimail_core::password::cram_md5_digest("secret", CHALLENGE));
    assert_eq!(codes(&harness.send("AUTH CRAM-MD5\r\n")), [503], "second AUTH");
    let out = harness.send("MAIL FROM:<user@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\n");
    assert_eq!(codes(&out), [250, 250, 354, 250]);
    assert_eq!(harness.messages[0].envelope.authenticated.as_deref(), Some("user@example.com"));
}

#[test]
fn cram_md5_uppercase_digest_and_rfc_example() {
    let mut harness = cram_harness();
    harness.send("AUTH CRAM-MD5\r\n");
    let digest = altimail_core::password::cram_md5_digest("secret", CHALLENGE).to_ascii_uppercase();
    assert_eq!(codes(&harness.send(format!("{}\r\n", b64(&format!("user {digest}"))))), [235]);

    // RFC 2195 §2's response: tim's password is not `secret`, so the scripted driver refuses it.
    let mut harness = cram_harness();
    harness.send("AUTH CRAM-MD5\r\n");
    let out = harness.send("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n");
    assert_eq!(codes(&out), [535]);
    let creds = &harness.credentials[0];
    assert_eq!((creds.username.as_str(), creds.password.expose()), ("tim", "b913a602c7eda7a495b4e6e7334d3890"));
}

#[test]
fn cram_md5_failures() {
    let mut harness = cram_harness();
    harness.send("AUTH CRAM-MD5\r\n");
    let out = harness.send(format!("{}\r\n", cram_response("user", "wrong")));
    assert_eq!(out, "535 5.7.8 Authentication failed. Restarting authentication process\r\n");
    assert_eq!(harness.session.authenticated_user(), None);
    assert_eq!(codes(&harness.send("NOOP\r\n")), [250], "back to commands");

    harness.send("AUTH CRAM-MD5\r\n");
    let out = harness.send(format!("{}\r\n", cram_response("tempfail", "secret")));
    assert_eq!(out, "454 4.7.0 Temporary authentication failure\r\n");

    // Retrying after a failure works, with the same challenge (one per connection).
    assert_eq!(harness.send("AUTH CRAM-MD5\r\n"), format!("334 {}\r\n", b64(CHALLENGE)));
    assert_eq!(codes(&harness.send(format!("{}\r\n", cram_response("user", "secret")))), [235]);

    let mut harness = cram_harness();
    harness.send("AUTH CRAM-MD5\r\n");
    let out = harness.send(format!("{}\r\nNOOP\r\n", cram_response("banned", "secret")));
    assert_eq!(out, "535 5.7.8 Authentication failed. Too many invalid logon attempts\r\n");
    assert!(harness.closed());
}

#[test]
fn cram_md5_cancel_and_bad_responses() {
    let mut harness = cram_harness();
    harness.send("AUTH CRAM-MD5\r\n");
    assert_eq!(harness.send("*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(codes(&harness.send("NOOP\r\n")), [250], "back to commands");

    harness.send("AUTH CRAM-MD5\r\n");
    assert_eq!(harness.send("not base64!\r\n"), "501 5.5.2 Invalid base64 data\r\n");

    let digest = altimail_core::password::cram_md5_digest("secret", CHALLENGE);
    for bad in ["user".to_owned(), format!("user{digest}"), format!("user {}", &digest[..30]), format!(" {digest}")] {
        harness.send("AUTH CRAM-MD5\r\n");
        assert_eq!(harness.send(format!("{}\r\n", b64(&bad))), "501 5.5.2 Malformed authentication data\r\n", "{bad}");
    }
    harness.send("AUTH CRAM-MD5\r\n");
    assert_eq!(harness.send("=\r\n"), "501 5.5.2 Malformed authentication data\r\n", "empty response");

    // CRAM-MD5 has no initial response (RFC 4954 §4).
    for initial in [cram_response("user", "secret"), "=".to_owned()] {
        assert_eq!(
            harness.send(format!("AUTH CRAM-MD5 {initial}\r\n")),
            "501 5.5.2 Initial response not allowed for this mechanism\r\n"
        );
    }
    assert!(harness.credentials.is_empty());
    assert_eq!(harness.session.authenticated_user(), None);
}

#[test]
fn cram_md5_lines_are_masked_in_the_log() {
    let mut logged = cram_config();
    logged.log_received = true;
    let mut harness = Harness::new(logged);
    let response = cram_response("user", "secret");
    harness.send(format!("EHLO x\r\nAUTH CRAM-MD5 {response}\r\nAUTH CRAM-MD5\r\n"));
    harness.send(format!("{response}\r\n"));
    let log = harness.events.join("\n");
    let digest = altimail_core::password::cram_md5_digest("secret", CHALLENGE);
    assert!(!log.contains(&response) && !log.contains(&digest), "{log}");
    assert!(log.contains("recv AUTH CRAM-MD5 ***"), "{log}");
    assert!(log.contains("recv AUTH CRAM-MD5\nrecv ***"), "{log}");
    assert_eq!(harness.session.authenticated_user(), Some("user"));
    assert!(!format!("{:?}", harness.credentials).contains(&digest));
}
