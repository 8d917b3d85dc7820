//! The anti-spam and anti-virus stages against hostile input and dead peers: every test on,
//! DNS that never answers, a spamd and a clamd that accept connections and never reply; then
//! a message with 20,000 header fields and one nested 3,000 multiparts deep with links and
//! attachments at the bottom (what the SURBL, attachment and DKIM walkers go through). Each
//! session must get a protocol answer (a scanner that never answers is a temporary failure,
//! `451`), and the server must stay up and serve normal clients afterwards.
//!
//! Waits for the scanners' and resolvers' own time limits (a minute and more): `#[ignore]`d
//! like the other slow abuse tests.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};

use crate::common::python;
use crate::support::Target;

/// A UDP "name server" on 127.0.0.1 that reads every query and never answers.
fn silent_dns() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while socket.recv_from(&mut buf).is_ok() {}
    });
    port
}

/// A TCP peer on 127.0.0.1 that accepts, reads whatever comes and never writes.
fn silent_peer() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// `SMTP KIND`: sends one hostile message of KIND to john, prints the reply to its end (or
/// how the session ended).
const SEND_HOSTILE: &str = r#"
import smtplib, sys
smtp, kind = int(sys.argv[1]), sys.argv[2]
head = "From: <a@remote.test>\r\nTo: <john@example.com>\r\nSubject: %s\r\nMIME-Version: 1.0\r\n" % kind
if kind == "headers":
    message = head + "".join("X-Filler-%d: value %d\r\n" % (k, k) for k in range(20000)) + "\r\nBody.\r\n"
else:
    depth = 3000
    opening = "".join('--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (k, k + 1) for k in range(depth))
    inner = ("--b%d\r\nContent-Type: text/html\r\n\r\n<a href=\"http://spam.example/x\">x</a> http://other.example/y\r\n"
             "--b%d\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"run.exe\"\r\n\r\nMZ\r\n"
             "--b%d--\r\n") % (depth, depth, depth)
    closing = "".join("--b%d--\r\n" % k for k in reversed(range(depth)))
    message = head + 'DKIM-Signature: v=1; a=rsa-sha256; d=remote.test; s=x; h=from; bh=AAAA; b=AAAA\r\n' \
        + 'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + opening + inner + closing
try:
    s = smtplib.SMTP("127.0.0.1", smtp, timeout=600)
    s.ehlo("client.remote.test")
    s.mail("a@remote.test")
    code, text = s.rcpt("john@example.com")
    if code != 250:
        print("rcpt", code)
        sys.exit(0)
    code, text = s.data(message)
    print("end", code)
    s.quit()
except smtplib.SMTPResponseException as e:
    print("end", e.smtp_code)
except (smtplib.SMTPServerDisconnected, ConnectionError, OSError) as e:
    print("dropped", e)
"#;

#[test]
#[ignore = "waits for the resolvers' and scanners' own time limits"]
fn antispam_and_antivirus_with_dead_peers_and_hostile_messages() {
    let dns = silent_dns();
    let spamd = silent_peer();
    let clamd = silent_peer();
    let mut t = Target::start(|i| {
        let mut config = std::fs::read_to_string(&i.config).unwrap();
        config.push_str(&format!("\n[dns]\nservers = [\"127.0.0.1:{dns}\"]\n"));
        std::fs::write(&i.config, config).unwrap();
        let (spamd, clamd) = (spamd.to_string(), clamd.to_string());
        for (name, value) in [
            ("usespf", "1"),
            ("usemxchecks", "1"),
            ("ascheckhostinhelo", "1"),
            ("ascheckptr", "1"),
            ("ASDKIMVerificationEnabled", "1"),
            ("altimaildmarcenabled", "1"),
            ("spamassassinenabled", "1"),
            ("spamassassinhost", "127.0.0.1"),
            ("spamassassinport", &spamd),
            ("ClamAVEnabled", "1"),
            ("ClamAVHost", "127.0.0.1"),
            ("ClamAVPort", &clamd),
            ("enableattachmentblocking", "1"),
            ("antispammaxsize", "10240"),
        ] {
            i.ok(&["setting", "set", name, value]);
        }
        i.ok(&["dnsbl", "add", "bl.remote.test", "--message", "Listed."]);
        i.ok(&["surbl", "add", "uri.remote.test", "--message", "Listed link."]);
    });

    for kind in ["headers", "deep"] {
        let (code, out, err) = python(SEND_HOSTILE, &[&t.ports.smtp.to_string(), kind]);
        t.assert_up(kind);
        assert_eq!(code, 0, "{kind}: {out}{err}");
        // spamd never answers (no score, logged); clamd never answers: the message cannot be
        // scanned, so it is refused for now. Never dropped without a reply.
        assert!(out.starts_with("end 451"), "{kind}: {out}\n{}", t.stderr_tail());
    }

    // Normal mail without the dead scanners and resolvers works again.
    for name in ["usespf", "usemxchecks", "ascheckhostinhelo", "ascheckptr", "ASDKIMVerificationEnabled"] {
        t.install.ok(&["setting", "set", name, "0"]);
    }
    for name in ["altimaildmarcenabled", "spamassassinenabled", "ClamAVEnabled"] {
        t.install.ok(&["setting", "set", name, "0"]);
    }
    t.install.ok(&["dnsbl", "set", "bl.remote.test", "--active", "no"]);
    t.install.ok(&["surbl", "set", "uri.remote.test", "--active", "no"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    t.assert_healthy("after the dead peers and hostile messages");
}
