//! Authenticated submission over STARTTLS with real clients. mutt and curl take the strongest
//! mechanism offered and do not fall back, so a mechanism that cannot succeed for the stored
//! passwords (CRAM-MD5 on Argon2id hashes) must not be offered at all.

use std::process::Command;

use crate::common::python;
use crate::support::Target;

/// `PORT`: the AUTH mechanisms offered before and after STARTTLS.
const MECHANISMS: &str = r#"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.test")
print("plain:", s.esmtp_features.get("auth", "").strip())
s.starttls(context=ssl._create_unverified_context())
s.ehlo("client.test")
print("tls:", s.esmtp_features.get("auth", "").strip())
s.quit()
"#;

/// `POP3 SUBJECT…`: waits until mary's mailbox holds a message with each subject.
const ARRIVED: &str = r#"
import poplib, sys, time
port, subjects = int(sys.argv[1]), sys.argv[2:]
deadline = time.time() + 30
while True:
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user("mary@example.com")
    p.pass_("secret-pw")
    texts = [b"\n".join(p.retr(n)[1]).decode(errors="replace") for n in range(1, p.stat()[0] + 1)]
    p.quit()
    missing = [s for s in subjects if not any("Subject: " + s in t for t in texts)]
    if not missing:
        print("arrived")
        break
    if time.time() > deadline:
        sys.exit("not delivered within 30 s: %r" % missing)
    time.sleep(0.3)
"#;

/// Runs mutt without a terminal: it reads the body from stdin and sends it with `muttrc`.
fn mutt_send(t: &Target, subject: &str) -> Result<(), String> {
    let home = t.install.path("mutt");
    std::fs::create_dir_all(&home).unwrap();
    let rc = home.join("muttrc");
    let certificate = t.install.path("data/certificates/self-signed.crt");
    std::fs::write(
        &rc,
        format!(
            "set from=\"john@example.com\"\nset use_from=yes\nset realname=\"John\"\n\
             set smtp_url=\"smtp://john%40example.com@127.0.0.1:{}/\"\nset smtp_pass=\"secret-pw\"\n\
             set ssl_starttls=yes\nset ssl_force_tls=yes\nset ssl_verify_host=no\n\
             set certificate_file=\"{}\"\nset copy=no\nset record=\"\"\n",
            t.ports.submission,
            certificate.display()
        ),
    )
    .unwrap();
    let mut child = Command::new("timeout")
        .args(["60", "mutt", "-n", "-F"])
        .arg(&rc)
        .args(["-s", subject, "mary@example.com"])
        .env("HOME", &home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("mutt: {e}"))?;
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"Sent with mutt.\n").unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "mutt failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// curl's authenticated submission over STARTTLS.
fn curl_send(t: &Target, subject: &str) -> Result<(), String> {
    let message = t.install.path("curl-message.eml");
    std::fs::write(
        &message,
        format!("From: <john@example.com>\r\nTo: <mary@example.com>\r\nSubject: {subject}\r\n\r\nSent with curl.\r\n"),
    )
    .unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "60", "--ssl-reqd", "-k"])
        .args(["--user", "john@example.com:secret-pw", "--mail-from", "john@example.com"])
        .args(["--mail-rcpt", "mary@example.com", "--upload-file"])
        .arg(&message)
        .arg(format!("smtp://127.0.0.1:{}", t.ports.submission))
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("curl failed: {}", String::from_utf8_lossy(&out.stderr))) }
}

#[test]
fn submission_over_starttls_with_mutt_and_curl() {
    let have_mutt = altimail_testkit::have_tool("mutt", &["-v"], "mutt");
    let have_curl = altimail_testkit::have_tool("curl", &["--version"], "curl");
    let mut t = Target::start(|_| {});
    let (code, out, err) = python(MECHANISMS, &[&t.ports.submission.to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    let tls = out.lines().find_map(|l| l.strip_prefix("tls: ")).unwrap_or_default().to_owned();
    assert!(tls.split(' ').any(|m| m == "PLAIN" || m == "LOGIN"), "no usable mechanism after STARTTLS: {out}");
    assert!(!tls.contains("CRAM-MD5"), "CRAM-MD5 offered although every password is hashed: {out}");

    let mut subjects = Vec::new();
    if have_curl {
        curl_send(&t, "via curl").unwrap();
        subjects.push("via curl");
    }
    if have_mutt {
        mutt_send(&t, "via mutt").unwrap();
        subjects.push("via mutt");
    }
    let mut args = vec![t.ports.pop3.to_string()];
    args.extend(subjects.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = python(ARRIVED, &args);
    assert_eq!(code, 0, "{out}{err}");
    t.assert_healthy("after submissions");
}
