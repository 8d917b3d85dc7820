//! SMTP AUTH CRAM-MD5 (RFC 2195) end to end with Python's smtplib: it works for accounts whose
//! password is stored recoverably (plain or Blowfish), fails with 535 for hashed ones and for a
//! wrong password, and a failure counts towards the auto-ban only when the password could have
//! been checked.

mod common;

use std::time::Duration;

use altimail_core::blowfish::hm_encrypt;
use altimail_core::password::PasswordScheme;
use altimail_store::Store;
use altimail_store::repo::accounts;
use altimail_testkit::ScratchDb;
use common::{Install, python};

/// `PORT MODE USER PASSWORD`: EHLO, then AUTH with CRAM-MD5 only (`cram`) or smtplib's own choice
/// (`login`: CRAM-MD5 first, then PLAIN or LOGIN if that fails). On success, submits a message to
/// `hashed@example.com`. Prints the AUTH line of EHLO and the outcome.
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
    msg = "From: <sender@example.com>\r\nTo: <hashed@example.com>\r\nSubject: via %s\r\n\r\nHello.\r\n" % mode
    s.sendmail("sender@example.com", ["hashed@example.com"], msg)
    s.quit()
except smtplib.SMTPAuthenticationError as e:
    print("result:", e.smtp_code, e.smtp_error.decode())
"#;

fn client(port: u16, mode: &str, user: &str, password: &str) -> String {
    let (code, out, err) = python(CLIENT, &[&port.to_string(), mode, user, password]);
    assert_eq!(code, 0, "{mode} {user}: {out}{err}");
    assert!(out.contains("offered: LOGIN CRAM-MD5\n"), "{out}");
    out.lines().find_map(|l| l.strip_prefix("result: ")).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn cram_md5_where_the_stored_password_allows_it() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    i.ok(&["setting", "set", "hostname", "mx.example.com"]);
    i.ok(&["setting", "set", "defaultdomain", "example.com"]);
    i.ok(&["domain", "add", "example.com"]);
    for a in ["plain", "blowfish", "hashed"] {
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

    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0];

    // Plain and Blowfish passwords: CRAM-MD5 succeeds (first and only mechanism used for them,
    // since a PLAIN or LOGIN logon re-hashes the password), with the default domain too.
    assert_eq!(client(port, "cram", "plain@example.com", "tanstaaf"), "235");
    assert_eq!(client(port, "cram", "blowfish", "fish-pw"), "235");
    let after = accounts::find(&store.db, "plain@example.com").await.unwrap().unwrap();
    assert_eq!((after.password.as_str(), after.password_scheme), ("tanstaaf", 0), "no re-hash after CRAM-MD5");
    assert!(after.last_logon > plain.last_logon, "logon time recorded");
    let inbox = wait_for_mail(&store, 2).await;
    assert!(inbox.iter().all(|m| m.contains("with ESMTPA\r\n")), "authenticated submissions: {inbox:?}");

    // An Argon2id password cannot answer a challenge: 535, not counted as a failed logon, so
    // smtplib's default order (CRAM-MD5, then LOGIN) works every time without an auto-ban (the
    // default bans after 3 failures).
    assert!(client(port, "cram", "hashed@example.com", "secret-pw").starts_with("535 5.7.8"));
    for _ in 0..3 {
        assert_eq!(client(port, "login", "hashed@example.com", "secret-pw"), "235");
    }

    // A wrong password is a failed logon like any other: the third within 30 minutes bans.
    let failed = client(port, "cram", "plain@example.com", "wrong");
    assert_eq!(failed, "535 5.7.8 Authentication failed. Restarting authentication process");
    assert!(client(port, "cram", "nobody@example.com", "tanstaaf").starts_with("535 5.7.8"));
    assert_eq!(
        client(port, "cram", "plain@example.com", "TANSTAAF"),
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

/// The messages in hashed@example.com's INBOX, once there are `n`.
async fn wait_for_mail(store: &Store, n: usize) -> Vec<String> {
    use altimail_store::Location;
    use altimail_store::repo::{folders, messages};
    let account = accounts::find(&store.db, "hashed@example.com").await.unwrap().unwrap();
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
