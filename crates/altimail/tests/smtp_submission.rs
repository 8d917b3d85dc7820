//! Authenticated submission over STARTTLS with the clients people use: mutt, curl and swaks.
//! mutt and curl take the strongest mechanism offered and do not fall back, so the server must
//! offer only mechanisms that can succeed (no CRAM-MD5 while passwords are stored hashed).

mod common;

use std::process::Command;
use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::ScratchDb;
use common::{Install, python, wait_inbox};

/// Runs mutt in a pseudo-terminal-free batch mode: `mutt -n -F RC -s SUBJECT -- RCPT < BODY`.
fn mutt_sends(i: &Install, port: u16, certificate: &std::path::Path, subject: &str) -> (i32, String) {
    let home = i.path("mutt");
    std::fs::create_dir_all(&home).unwrap();
    let rc = home.join("muttrc");
    std::fs::write(
        &rc,
        format!(
            "set from=\"john@example.com\"\nset smtp_url=\"smtp://john%40example.com@127.0.0.1:{port}/\"\n\
             set smtp_pass=\"secret-pw\"\nset ssl_starttls=yes\nset ssl_force_tls=yes\n\
             set certificate_file=\"{}\"\nset ssl_verify_host=no\nset record=\"\"\nset copy=no\n\
             set timeout=10\n",
            certificate.display()
        ),
    )
    .unwrap();
    let body = home.join("body.txt");
    std::fs::write(&body, "Sent with mutt.\n").unwrap();
    let out = Command::new("timeout")
        .args(["30", "mutt", "-n", "-F"])
        .arg(&rc)
        .args(["-s", subject, "--", "mary@example.com"])
        .env("HOME", &home)
        .stdin(std::fs::File::open(&body).unwrap())
        .output()
        .expect("mutt runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The server's certificate as PEM, as a STARTTLS client sees it.
const FETCH_CERTIFICATE: &str = r#"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.starttls(context=ssl._create_unverified_context())
print(ssl.DER_cert_to_PEM_cert(s.sock.getpeercert(binary_form=True)))
s.quit()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn mutt_curl_and_swaks_submit_over_starttls() {
    let tools = [("mutt", "-v"), ("curl", "--version"), ("swaks", "--version")];
    if !tools.iter().all(|(tool, arg)| altimail_testkit::have_tool(tool, &[arg], tool)) {
        return;
    }
    let i = Install::new(ScratchDb::sqlite());
    common::example_com(&i, &[]);
    i.ok(&["account", "add", "mary@example.com", "--password", "other-pw"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "starttls")]);
    let port = ports[0];

    // EHLO after STARTTLS offers what can succeed on Argon2id passwords: PLAIN and LOGIN.
    let ehlo = python(
        r#"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.starttls(context=ssl._create_unverified_context())
s.ehlo("client.test")
print(s.esmtp_features.get("auth", "").strip())
s.quit()
"#,
        &[&port.to_string()],
    );
    assert_eq!(ehlo.1.trim(), "PLAIN LOGIN", "{ehlo:?}");

    let (code, pem, err) = python(FETCH_CERTIFICATE, &[&port.to_string()]);
    assert_eq!(code, 0, "{err}");
    let certificate = i.path("server.pem");
    std::fs::write(&certificate, pem).unwrap();
    let (code, out) = mutt_sends(&i, port, &certificate, "via mutt");
    assert_eq!(code, 0, "mutt failed: {out}");

    let mail = i.path("curl.eml");
    std::fs::write(&mail, "From: <john@example.com>\r\nTo: <mary@example.com>\r\nSubject: via curl\r\n\r\nHi.\r\n")
        .unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "--ssl-reqd", "-k", "--user", "john@example.com:secret-pw"])
        .args(["--mail-from", "john@example.com", "--mail-rcpt", "mary@example.com", "-T"])
        .arg(&mail)
        .arg(format!("smtp://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));

    let out = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}"), "--tls", "--auth", "--auth-user", "john@example.com"])
        .args(["--auth-password", "secret-pw", "--from", "john@example.com", "--to", "mary@example.com"])
        .args(["--header", "Subject: via swaks", "--timeout", "20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "swaks failed: {}", String::from_utf8_lossy(&out.stdout));

    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let mary: Vec<String> = wait_inbox(&store, "mary@example.com", 3)
        .await
        .iter()
        .map(|(_, path)| std::fs::read_to_string(path).unwrap())
        .collect();
    for subject in ["via mutt", "via curl", "via swaks"] {
        assert!(
            mary.iter().any(|m| m.contains(&format!("Subject: {subject}")) && m.contains("with ESMTPSA\r\n")),
            "{subject}: {mary:?}"
        );
    }
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}
