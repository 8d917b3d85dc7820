//! USER/PASS, APOP and AUTH PLAIN, their failures, and opening the maildrop.

use super::*;

#[test]
fn a_wrong_password_needs_user_again() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.send("USER john@example.com\r\nPASS wrong\r\n"),
        "+OK Send your password\r\n-ERR [AUTH] Invalid user name or password.\r\n"
    );
    assert_eq!(h.send("PASS secret\r\n"), "-ERR Send USER first.\r\n");
    assert_eq!(h.credentials.len(), 1);
    assert_eq!(
        h.send("USER john@example.com\r\nPASS secret\r\n"),
        "+OK Send your password\r\n+OK Mailbox locked and ready\r\n"
    );
    assert_eq!(h.credentials[1].method, Method::User);
    assert_eq!(h.credentials[1].username, "john@example.com");
}

#[test]
fn failures_are_told_apart_only_by_their_codes() {
    let cases = [
        ("john", "-ERR [AUTH] Invalid user name or password. Please use full email address as user name.\r\n", false),
        ("john@example.com", "-ERR [AUTH] Invalid user name or password.\r\n", false),
        ("banned@x", "-ERR [AUTH] Invalid user name or password. Too many invalid logon attempts.\r\n", true),
        ("tempfail@x", "-ERR [SYS/TEMP] Unable to check credentials now. Please try again later.\r\n", false),
        ("locked@x", "-ERR [IN-USE] Your mailbox is already locked\r\n", false),
        ("broken@x", "-ERR [SYS/TEMP] Unable to access mailbox.\r\n", false),
    ];
    for (user, response, closes) in cases {
        let mut h = Harness::new(config());
        h.send(format!("USER {user}\r\n"));
        let password = if user.starts_with("john") { "wrong" } else { "secret" };
        assert_eq!(h.send(format!("PASS {password}\r\n")), response, "{user}");
        assert_eq!(h.closed(), closes, "{user}");
        if !closes {
            assert_eq!(h.send("STAT\r\n"), "-ERR Invalid command in current state.\r\n", "{user}: still AUTHORIZATION");
            assert_eq!(
                h.send("USER john@example.com\r\nPASS secret\r\n"),
                "+OK Send your password\r\n+OK Mailbox locked and ready\r\n",
                "{user}: may try again"
            );
        }
    }
}

#[test]
fn user_names_and_passwords_are_taken_whole() {
    let mut h = Harness::new(config());
    h.send("USER  John.Smith@Example.com \r\nPASS my pass phrase \r\n");
    assert_eq!(h.credentials[0].username, "John.Smith@Example.com");
    assert_eq!(h.credentials[0].password.expose(), "my pass phrase ");
}

#[test]
fn auth_plain_with_and_without_initial_response() {
    // "\0john@example.com\0secret"
    let token = "AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0";
    let mut h = Harness::new(config());
    assert_eq!(h.send(format!("AUTH PLAIN {token}\r\n")), "+OK Mailbox locked and ready\r\n");
    assert_eq!(h.credentials[0].method, Method::Plain);
    assert_eq!(h.credentials[0].username, "john@example.com");

    let mut h = Harness::new(config());
    assert_eq!(h.send("auth plain\r\n"), "+ \r\n");
    assert_eq!(h.send(format!("{token}\r\n")), "+OK Mailbox locked and ready\r\n");

    // authzid "admin": handed to the driver, which refuses it.
    let mut h = Harness::new(config());
    assert_eq!(
        h.send("AUTH PLAIN YWRtaW4Aam9obkBleGFtcGxlLmNvbQBzZWNyZXQ=\r\n"),
        "-ERR [AUTH] Invalid user name or password.\r\n"
    );
    assert_eq!(h.credentials[0].authzid.as_deref(), Some("admin"));
}

#[test]
fn auth_exchanges_that_go_wrong() {
    let cases: [(&[u8], &str); 7] = [
        (b"AUTH PLAIN\r\n*\r\n", "+ \r\n-ERR Authentication cancelled.\r\n"),
        (b"AUTH PLAIN\r\n!!!\r\n", "+ \r\n-ERR Invalid base64 data.\r\n"),
        (b"AUTH PLAIN\r\n\xff\r\n", "+ \r\n-ERR Invalid base64 data.\r\n"),
        (b"AUTH PLAIN =\r\n", "-ERR Invalid authentication data.\r\n"),
        (b"AUTH PLAIN am9obg==\r\n", "-ERR Invalid authentication data.\r\n"),
        (b"AUTH CRAM-MD5\r\n", "-ERR Unsupported authentication mechanism.\r\n"),
        (b"AUTH\r\n", "+OK List of supported mechanisms follows\r\nPLAIN\r\n.\r\n"),
    ];
    for (input, response) in cases {
        let mut h = Harness::new(config());
        assert_eq!(h.send(input), response, "{}", String::from_utf8_lossy(input));
        assert!(h.credentials.is_empty());
        assert_eq!(h.send("NOOP\r\n"), "+OK\r\n", "back to commands");
    }
}

#[test]
fn apop_only_with_a_timestamp() {
    let mut h = Harness::new(config());
    assert_eq!(h.send(format!("APOP mrose {DIGEST}\r\n")), "-ERR APOP is not enabled on this server.\r\n");
    assert!(h.credentials.is_empty());

    let mut with_apop = config();
    with_apop.apop_timestamp = Some(TIMESTAMP.into());
    let mut h = Harness::new(with_apop.clone());
    assert_eq!(h.greeting, format!("+OK POP3 {TIMESTAMP}\r\n"));
    assert_eq!(h.send(format!("APOP mrose {DIGEST}\r\n")), "+OK Mailbox locked and ready\r\n");
    assert_eq!(h.credentials[0].method, Method::Apop);
    assert_eq!(h.credentials[0].timestamp.as_deref(), Some(TIMESTAMP));

    let mut h = Harness::new(with_apop);
    assert_eq!(
        h.send("APOP mrose 00000000000000000000000000000000\r\n"),
        "-ERR [AUTH] Invalid user name or password. Please use full email address as user name.\r\n"
    );
    assert_eq!(h.send("APOP mrose xyz\r\n"), "-ERR Syntax: APOP name digest\r\n");
}

#[test]
fn a_second_logon_waits_for_the_lock() {
    // The driver refuses with IN-USE; the client may come back with another account.
    let mut h = Harness::new(config());
    assert_eq!(statuses(&h.send("USER locked@x\r\nPASS secret\r\n")), ["+OK", "-ERR [IN-USE]"]);
    assert_eq!(h.events, ["open locked@x"]);
    assert_eq!(h.session.authenticated_user(), None);
}
