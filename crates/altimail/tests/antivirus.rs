//! Anti-virus end to end: `altimail serve` pointed at a real clamd of the test's own, mail sent
//! over real SMTP from 127.0.0.1 (the "My computer" range, which has the anti-virus bit), on
//! SQLite, PostgreSQL and MariaDB: infected mail refused or stripped, blocked attachments
//! replaced, large (streamed) bodies scanned, recipients notified, and clamd down = 451.

mod common;

use std::time::Duration;

use altimail_testkit::backends;
use altimail_testkit::peers::{self, EICAR, EICAR_SIGNATURE};
use common::{Install, LineClient, example_com, inbox, wait_inbox};

/// One SMTP transaction to john@example.com; returns the reply to the end of the body (or
/// to DATA when that was not 354).
fn send(port: u16, message: &str) -> String {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("220"), "{greeting}");
    c.send("EHLO client.test\r\n");
    c.until("250 ");
    let r = c.ask("MAIL FROM:<sender@remote.test>");
    assert!(r.starts_with("250"), "{r}");
    let r = c.ask("RCPT TO:<john@example.com>");
    assert!(r.starts_with("250"), "{r}");
    let data = c.ask("DATA");
    if !data.starts_with("354") {
        c.ask("QUIT");
        return data;
    }
    c.send(message);
    let end = c.ask(".");
    c.ask("QUIT");
    end
}

fn eicar() -> &'static str {
    std::str::from_utf8(EICAR).unwrap()
}

fn plain(subject: &str, body: &str) -> String {
    format!("From: sender@remote.test\r\nTo: john@example.com\r\nSubject: {subject}\r\n\r\n{body}\r\n")
}

fn with_attachment(subject: &str, name: &str, contents: &str) -> String {
    format!(
        "From: sender@remote.test\r\nTo: john@example.com\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
         See attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{contents}\r\n--b1--\r\n"
    )
}

/// A body over the 1 MiB stream threshold, EICAR near its end.
fn large_with_eicar() -> String {
    let line = "a".repeat(76);
    let mut body = String::new();
    while body.len() < 1536 * 1024 {
        body.push_str(&line);
        body.push_str("\r\n");
    }
    body.push_str(eicar());
    plain("large", &body)
}

fn set(i: &Install, name: &str, value: &str) {
    i.ok(&["setting", "set", name, value]);
}

/// The server reads settings at most a second old.
fn settle() {
    std::thread::sleep(Duration::from_millis(1300));
}

fn logs(i: &Install) -> String {
    let files = std::fs::read_dir(i.path("logs")).unwrap();
    files.filter_map(|f| std::fs::read_to_string(f.unwrap().path()).ok()).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn virus_scanning_over_smtp() {
    let Some(clamd) = peers::Clamd::start("8M") else { return };
    let mut clamd = Some(clamd);
    let dbs = backends("antivirus").await;
    let count = dbs.len();
    for (k, db) in dbs.into_iter().enumerate() {
        let e = db.engine;
        let Some(running) = clamd.as_ref() else { break };
        let i = Install::new(db);
        let port = running.port.to_string();
        example_com(&i, &[("ClamAVEnabled", "1"), ("ClamAVHost", "127.0.0.1"), ("ClamAVPort", &port)]);
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let smtp = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let mut n = 0;

        // 1. A clean message is delivered unchanged.
        let clean = plain("clean", "Nothing to see here.");
        assert!(send(smtp, &clean).starts_with("250"), "{e}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.ends_with(&clean), "{e}: {text}");

        // 2. EICAR with avaction 0 (delete): refused in the session, nothing stored.
        let end = send(smtp, &plain("infected", eicar()));
        assert!(end.starts_with("554 5.7.1") && end.contains(EICAR_SIGNATURE), "{e}: {end}");

        // 3. avaction 1: the infected attachment is replaced by hMailServer's text.
        set(&i, "avaction", "1");
        settle();
        let end = send(smtp, &with_attachment("stripped", "eicar.com", eicar()));
        assert!(end.starts_with("250"), "{e}: {end}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(
            text.contains(
                "The attachment(s) of this message was removed since a virus was detected in at least one of them."
            ),
            "{e}: {text}"
        );
        assert!(!text.contains("EICAR-STANDARD"), "{e}: {text}");
        assert!(text.contains("See attached."), "{e}: {text}");

        // 4. A blocked attachment (*.exe, a default wildcard) is replaced.
        set(&i, "enableattachmentblocking", "1");
        settle();
        let end = send(smtp, &with_attachment("blocked", "setup.exe", "MZ harmless bytes"));
        assert!(end.starts_with("250"), "{e}: {end}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(
            text.contains("The attachment setup.exe was blocked for delivery by the e-mail server."),
            "{e}: {text}"
        );
        assert!(text.contains("setup.exe.txt"), "{e}: {text}");
        assert!(!text.contains("MZ harmless bytes"), "{e}: {text}");

        // 5. A body over 1 MiB (streamed to its file as it arrives) is scanned too.
        set(&i, "avaction", "0");
        settle();
        let end = send(smtp, &large_with_eicar());
        assert!(end.starts_with("554 5.7.1") && end.contains(EICAR_SIGNATURE), "{e}: {end}");
        // ... and a large clean one with a blocked attachment is rewritten in its file.
        let filler = "b".repeat(76) + "\r\n";
        let big_exe = with_attachment("big blocked", "big.exe", &filler.repeat(1536 * 1024 / 78));
        let end = send(smtp, &big_exe);
        assert!(end.starts_with("250"), "{e}: {end}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("The attachment big.exe was blocked"), "{e}");
        assert!(text.len() < 64 * 1024, "{e}: {} bytes", text.len());

        // 6. avnotifyreceiver: the recipient is told of the refused message.
        set(&i, "avnotifyreceiver", "1");
        settle();
        let end = send(smtp, &plain("notify me", eicar()));
        assert!(end.starts_with("554 5.7.1"), "{e}: {end}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("Subject: Virus found: notify me"), "{e}: {text}");
        assert!(text.contains("The message below contained a virus"), "{e}: {text}");
        assert!(text.contains("From: <mailer-daemon@mx.example.com>"), "{e}: {text}");
        set(&i, "avnotifyreceiver", "0");

        // 7. A range without the anti-virus bit: not scanned (blocking still applies).
        i.ok(&["range", "set", "My computer", "--deny", "anti-virus"]);
        settle();
        let end = send(smtp, &plain("unscanned", eicar()));
        assert!(end.starts_with("250"), "{e}: {end}");
        n += 1;
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("EICAR-STANDARD"), "{e}: {text}");
        i.ok(&["range", "set", "My computer", "--allow", "anti-virus"]);

        // 8. clamd down (last, on the last engine): 451 and nothing stored. On the other
        // engines a closed port stands for it.
        if k + 1 == count {
            clamd = None;
        } else {
            set(&i, "ClamAVPort", &peers::free_port().to_string());
        }
        settle();
        let end = send(smtp, &plain("scanner down", "Nothing to see here."));
        assert!(end.starts_with("451 4.7.1"), "{e}: {end}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(inbox(&store, "john@example.com").await.len(), n, "{e}");

        let all = logs(&i);
        assert!(
            all.contains(&format!("Virus found: {EICAR_SIGNATURE} - message from sender@remote.test refused")),
            "{e}: {all}"
        );
        assert!(all.contains("virus scan failed"), "{e}: {all}");
        assert!(all.contains("Blocked attachments removed from the message from sender@remote.test: setup.exe"), "{e}");

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}

/// A clean body of about 1.5 MiB (streamed to its spool file).
fn large_clean(subject: &str) -> String {
    let line = "c".repeat(76) + "\r\n";
    plain(subject, &line.repeat(1536 * 1024 / 78))
}

/// clamd's own size limit (`StreamMaxLength` 1M here): a message within `avmaxmsgsize` that
/// clamd refuses gets `451` like any scanner failure; one over `avmaxmsgsize` is accepted
/// without a scan, as hMailServer does, and the application log says so.
#[tokio::test(flavor = "multi_thread")]
async fn clamd_size_limit_over_smtp() {
    let Some(clamd) = peers::Clamd::start("1M") else { return };
    for db in backends("antivirus_limit").await {
        let e = db.engine;
        let i = Install::new(db);
        let port = clamd.port.to_string();
        example_com(&i, &[("ClamAVEnabled", "1"), ("ClamAVHost", "127.0.0.1"), ("ClamAVPort", &port)]);
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let smtp = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();

        // avmaxmsgsize 0 (no limit of ours): clamd refusing the stream is a temporary failure.
        let end = send(smtp, &large_clean("refused by clamd"));
        assert!(end.starts_with("451 4.7.1"), "{e}: {end}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(inbox(&store, "john@example.com").await.is_empty(), "{e}");

        // Within both limits: scanned as usual.
        let end = send(smtp, &plain("small infected", eicar()));
        assert!(end.starts_with("554 5.7.1"), "{e}: {end}");

        // Over avmaxmsgsize (1024 KB): not scanned, accepted, said in the log.
        set(&i, "avmaxmsgsize", "1024");
        settle();
        let end = send(smtp, &large_clean("over our limit"));
        assert!(end.starts_with("250"), "{e}: {end}");
        wait_inbox(&store, "john@example.com", 1).await;

        let all = logs(&i);
        assert!(all.contains("INSTREAM size limit exceeded"), "{e}: {all}");
        assert!(all.contains("over the virus scanning limit (1024 KB, avmaxmsgsize): not scanned"), "{e}: {all}");

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}
