//! SMTP AUTH CRAM-MD5 (RFC 2195) end to end with Python's smtplib: offered only while every
//! account's password is stored recoverably (plain or Blowfish), since clients that prefer it
//! (mutt, curl) do not fall back after a 535; then it works, fails with 535 for a wrong
//! password, and a failure counts towards the auto-ban.

mod common;

use std::time::Duration;

use altimail_core::blowfish::hm_encrypt;
use altimail_core::password::PasswordScheme;
use altimail_store::Store;
use altimail_store::repo::accounts;
use altimail_testkit::ScratchDb;
use common::{Install, python};

/// `PORT MODE USER PASSWORD`: EHLO, then AUTH with CRAM-MD5 only (`cram`) or smtplib's own choice
/// (`login`: CRAM-MD5 first when offered, then PLAIN or LOGIN). On success, submits a message to
/// `plain@example.com`. Prints the AUTH line of EHLO and the outcome.
const CLIENT: &str = r#"
import smtplib, sys
port, mode, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("client.test")
print("offered:", s.esmtp_features.get("auth", "").strip())
try:
    if mode == "cram":
        s.user, s.password = user, pw
        code, _ = s.auth("CRAM-MD5", s.auth_cram_md5)
    else:
        code, _ = s.login(user, pw)
    print("result:", code)
    msg = "From: <sender@example.com>\r\nTo: <plain@example.com>\r\nSubject: via %s\r\n\r\nHello.\r\n" % mode
    s.sendmail("sender@example.com", ["plain@example.com"], msg)
    s.quit()
except smtplib.SMTPAuthenticationError as e:
    print("result:", e.smtp_code, e.smtp_error.decode())
"#;

/// Runs [`CLIENT`]; checks that EHLO offered `offered`; returns the outcome.
fn client(port: u16, offered: &str, mode: &str, user: &str, password: &str) -> String {
    let (code, out, err) = python(CLIENT, &[&port.to_string(), mode, user, password]);
    assert_eq!(code, 0, "{mode} {user}: {out}{err}");
    assert!(out.contains(&format!("offered: {offered}\n")), "{out}");
    out.lines().find_map(|l| l.strip_prefix("result: ")).unwrap_or_default().to_owned()
}

const WITH_CRAM: &str = "LOGIN CRAM-MD5";

#[tokio::test(flavor = "multi_thread")]
async fn cram_md5_where_the_stored_passwords_allow_it() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    i.ok(&["setting", "set", "hostname", "mx.example.com"]);
    i.ok(&["setting", "set", "defaultdomain", "example.com"]);
    // Auto-ban spares loopback unless told otherwise; here it spares only ::1, so the failed
    // logons from 127.0.0.1 count.
    i.ok(&["setting", "set", "altimailtrustedranges", "::1"]);
    i.ok(&["domain", "add", "example.com"]);
    for a in ["plain", "blowfish"] {
        i.ok(&["account", "add", &format!("{a}@example.com"), "--password", "secret-pw"]);
    }
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    // Legacy hMailServer password types, as an imported database has them.
    let mut plain = accounts::find(&store.db, "plain@example.com").await.unwrap().unwrap();
    plain.password = "tanstaaf".into();
    plain.password_scheme = PasswordScheme::Plain.code();
    accounts::update(&store.db, &plain).await.unwrap();
    let mut blowfish = accounts::find(&store.db, "blowfish@example.com").await.unwrap().unwrap();
    blowfish.password = hm_encrypt("fish-pw");
    blowfish.password_scheme = PasswordScheme::Blowfish.code();
    accounts::update(&store.db, &blowfish).await.unwrap();

    let (server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0];

    // Plain and Blowfish passwords only: CRAM-MD5 is offered and succeeds (the only mechanism
    // used for them, since a PLAIN or LOGIN logon re-hashes the password), with the default
    // domain too.
    assert_eq!(client(port, WITH_CRAM, "cram", "plain@example.com", "tanstaaf"), "235");
    assert_eq!(client(port, WITH_CRAM, "cram", "blowfish", "fish-pw"), "235");
    let after = accounts::find(&store.db, "plain@example.com").await.unwrap().unwrap();
    assert_eq!((after.password.as_str(), after.password_scheme), ("tanstaaf", 0), "no re-hash after CRAM-MD5");
    assert!(after.last_logon > plain.last_logon, "logon time recorded");
    let inbox = wait_for_mail(&store, 2).await;
    assert!(inbox.iter().all(|m| m.contains("with ESMTPA\r\n")), "authenticated submissions: {inbox:?}");

    // An account with an Argon2id password: CRAM-MD5 could never succeed for it, so it is no
    // longer offered (the answer is kept for a while; a restart asks again) and smtplib's
    // default choice logs on with LOGIN every time, without an auto-ban (3 failures ban).
    i.ok(&["account", "add", "hashed@example.com", "--password", "secret-pw"]);
    let server = restart(&i, server, port);
    for _ in 0..3 {
        assert_eq!(client(port, "LOGIN", "login", "hashed@example.com", "secret-pw"), "235");
    }
    let refused = client(port, "LOGIN", "cram", "plain@example.com", "tanstaaf");
    assert!(refused.starts_with("504 "), "CRAM-MD5 is not offered: {refused}");

    // A wrong password is a failed logon like any other: the third within 30 minutes bans.
    i.ok(&["account", "remove", "hashed@example.com"]);
    let mut server = restart(&i, server, port);
    let failed = client(port, WITH_CRAM, "cram", "plain@example.com", "wrong");
    assert_eq!(failed, "535 5.7.8 Authentication failed. Restarting authentication process");
    assert!(client(port, WITH_CRAM, "cram", "nobody@example.com", "tanstaaf").starts_with("535 5.7.8"));
    assert_eq!(
        client(port, WITH_CRAM, "cram", "plain@example.com", "TANSTAAF"),
        "535 5.7.8 Authentication failed. Too many invalid logon attempts",
        "the digest is keyed with the password exactly as stored"
    );

    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap();
    assert!(log.contains("RECEIVED: AUTH CRAM-MD5") && log.contains("SENT: 334 PD"), "challenge sent");
    assert!(log.contains("Authentication failed for plain@example.com"));
    assert!(!log.contains("tanstaaf") && !log.contains("fish-pw"), "no secrets logged");
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}

/// Stops the server and starts it again on the same ports.
fn restart(i: &Install, mut server: common::Server, port: u16) -> common::Server {
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
    let server = common::Server::start(i);
    common::wait_listening(port);
    server
}

/// The messages in plain@example.com's INBOX, once there are `n`.
async fn wait_for_mail(store: &Store, n: usize) -> Vec<String> {
    use altimail_store::Location;
    use altimail_store::repo::{folders, messages};
    let account = accounts::find(&store.db, "plain@example.com").await.unwrap().unwrap();
    let inbox = folders::ensure_inbox(&store.db, account.id).await.unwrap();
    for _ in 0..100 {
        let rows = messages::in_folder(&store.db, account.id, inbox.id).await.unwrap();
        if rows.len() >= n {
            return rows
                .iter()
                .map(|m| {
                    let path = store.files.resolve(Location::Account(&account.address), &m.file_name);
                    std::fs::read_to_string(path).unwrap()
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} messages after 10 s");
}
