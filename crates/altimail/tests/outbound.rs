//! Outbound delivery end to end: `altimail serve` with `[dns]` pointing at an in-process DNS
//! server, relayed mail delivered to test SMTP peers on 127.0.2.x:25 (first MX refusing
//! connections), a deferred recipient managed with `altimail queue`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use altimail_dns::testdns::{TestDns, Zone};
use altimail_testkit::ScratchDb;
use common::{Install, eventually, python};

/// A peer answering every RCPT with `rcpt_reply`; records (recipient, data) per transaction.
async fn peer(ip: &str, rcpt_reply: &'static str) -> (Arc<Mutex<Vec<String>>>, Arc<Mutex<usize>>) {
    peer_holding(ip, rcpt_reply, Arc::new(AtomicBool::new(false))).await
}

/// [`peer`], but while `hold` is set the end of DATA is never answered.
async fn peer_holding(
    ip: &str,
    rcpt_reply: &'static str,
    hold: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<String>>>, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind(format!("{ip}:25")).await.expect("bind port 25 (root needed)");
    let got = Arc::new(Mutex::new(Vec::new()));
    let attempts = Arc::new(Mutex::new(0usize));
    let (g, a) = (got.clone(), attempts.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            *a.lock().unwrap() += 1;
            let g = g.clone();
            let hold = hold.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 peer\r\n").await;
                let mut rcpts = Vec::new();
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") {
                        "250-peer\r\n250 8BITMIME\r\n".to_owned()
                    } else if cmd.starts_with("RCPT TO:") {
                        if rcpt_reply.starts_with('2') {
                            rcpts.push(line.trim_end()[8..].trim_matches(['<', '>']).to_owned());
                        }
                        format!("{rcpt_reply}\r\n")
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go\r\n").await;
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).await.unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        if hold.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        for rc in rcpts.drain(..) {
                            g.lock().unwrap().push(format!("{rc}\n{data}"));
                        }
                        "250 queued\r\n".to_owned()
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        "250 OK\r\n".to_owned()
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                    line.clear();
                }
            });
        }
    });
    (got, attempts)
}

const SEND: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
s.login("alice@us.test", "secret-pw")
msg = "From: <alice@us.test>\r\nTo: <bob@e2e.test>\r\nSubject: out\r\n\r\nHello.\r\n.leading dot\r\n"
print(sorted(s.sendmail("alice@us.test", ["bob@e2e.test", "carol@hold.test"], msg)))
s.quit()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn relayed_mail_goes_out_by_mx_and_the_queue_is_managed_from_the_cli() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let zone = Zone::new()
        .mx("e2e.test", 10, "mx1.e2e.test")
        .mx("e2e.test", 20, "mx2.e2e.test")
        .ip("mx1.e2e.test", "127.0.2.2")
        .ip("mx2.e2e.test", "127.0.2.3")
        .mx("hold.test", 10, "mx.hold.test")
        .ip("mx.hold.test", "127.0.2.4");
    let dns = TestDns::start(zone).await.unwrap();
    let (delivered, _) = peer("127.0.2.3", "250 OK").await;
    let (_, hold_attempts) = peer("127.0.2.4", "451 4.3.0 try later").await;

    let i = Install::new(ScratchDb::sqlite());
    let mut config = std::fs::read_to_string(&i.config).unwrap();
    config.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr));
    std::fs::write(&i.config, config).unwrap();
    i.ok(&["init"]);
    i.ok(&["setting", "set", "hostname", "mx.us.test"]);
    i.ok(&["domain", "add", "us.test"]);
    i.ok(&["account", "add", "alice@us.test", "--password", "secret-pw"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0].to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || python(SEND, &[&port])).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");

    let got = delivered.clone();
    tokio::task::spawn_blocking(move || {
        eventually("bob@e2e.test receives the mail", || !got.lock().unwrap().is_empty())
    })
    .await
    .unwrap();
    let copy = delivered.lock().unwrap()[0].clone();
    assert!(copy.starts_with("bob@e2e.test\n"), "{copy}");
    assert!(copy.contains("\r\n..leading dot\r\n"), "dot-stuffed on the wire: {copy}");

    // carol@hold.test was deferred: the CLI shows it while the server runs.
    let attempts = hold_attempts.clone();
    tokio::task::spawn_blocking(move || eventually("hold.test was tried", || *attempts.lock().unwrap() >= 1))
        .await
        .unwrap();
    let mut list = serde_json::Value::Null;
    for _ in 0..50 {
        list = i.json(&["queue", "list"]);
        if list[0]["tries"] == 1 && list[0]["locked"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["recipients"], serde_json::json!(["carol@hold.test"]), "{list}");
    assert_eq!(list[0]["tries"], 1, "{list}");
    let id = list[0]["id"].to_string();
    let shown = i.json(&["queue", "show", &id]);
    assert_eq!(shown["from"], "alice@us.test");
    assert!(i.ok(&["queue", "list"]).contains("carol@hold.test"));

    // retry makes it due now: the worker tries again.
    i.ok(&["queue", "retry", &id]);
    let attempts = hold_attempts.clone();
    tokio::task::spawn_blocking(move || eventually("hold.test was tried again", || *attempts.lock().unwrap() >= 2))
        .await
        .unwrap();
    assert!(i.ok(&["queue", "flush"]).contains("will be delivered now"));
    let mut removed = false;
    for _ in 0..50 {
        let (code, _, _) = i.run(&["queue", "remove", &id]);
        if code == 0 {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(removed, "queue remove succeeds once the message is not being delivered");
    assert_eq!(i.json(&["queue", "list"]), serde_json::json!([]));
    assert!(i.fails(&["queue", "show", &id]).contains("no queued message"));

    server.stop(Duration::from_secs(30));
    let mut logs = String::new();
    for e in std::fs::read_dir(i.path("logs")).unwrap().flatten() {
        logs.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    assert!(logs.contains("\"SMTPC\"") && logs.contains("SENT: MAIL FROM:<alice@us.test>"), "{logs}");
}

const SEND_TWO: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.login("alice@us.test", "secret-pw")
msg = "From: <alice@us.test>\r\nSubject: crash\r\n\r\nHello.\r\n"
print(sorted(s.sendmail("alice@us.test", ["a@fast.test", "b@slow.test"], msg)))
s.quit()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_in_the_middle_of_a_delivery_loses_nothing_and_resends_nothing() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let zone = Zone::new()
        .mx("fast.test", 10, "mx.fast.test")
        .ip("mx.fast.test", "127.0.2.5")
        .mx("slow.test", 10, "mx.slow.test")
        .ip("mx.slow.test", "127.0.2.6");
    let dns = TestDns::start(zone).await.unwrap();
    let (fast, _) = peer("127.0.2.5", "250 OK").await;
    let hold = Arc::new(AtomicBool::new(true));
    let (slow, slow_attempts) = peer_holding("127.0.2.6", "250 OK", hold.clone()).await;

    let i = Install::new(ScratchDb::sqlite());
    let mut config = std::fs::read_to_string(&i.config).unwrap();
    config.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr));
    std::fs::write(&i.config, config).unwrap();
    i.ok(&["init"]);
    i.ok(&["domain", "add", "us.test"]);
    i.ok(&["account", "add", "alice@us.test", "--password", "secret-pw"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0].to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || python(SEND_TWO, &[&port])).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let (f, a) = (fast.clone(), slow_attempts.clone());
    tokio::task::spawn_blocking(move || {
        eventually("fast accepted, slow holds the DATA reply", || {
            !f.lock().unwrap().is_empty() && *a.lock().unwrap() >= 1
        })
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();

    // After the crash, the slow host answers again; the restarted server finishes the job.
    hold.store(false, Ordering::SeqCst);
    let mut server = common::Server::start(&i);
    let s = slow.clone();
    tokio::task::spawn_blocking(move || {
        eventually("b@slow.test delivered after the restart", || !s.lock().unwrap().is_empty())
    })
    .await
    .unwrap();
    for _ in 0..30 {
        if i.json(&["queue", "list"]) == serde_json::json!([]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(i.json(&["queue", "list"]), serde_json::json!([]));
    let fast_copies = fast.lock().unwrap().len();
    assert_eq!(fast_copies, 1, "a@fast.test accepted before the crash and got no second copy");
    assert_eq!(slow.lock().unwrap().len(), 1);
    server.stop(Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_commands_on_every_engine() {
    for db in altimail_testkit::backends("outbound_queue_cli").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let spool = altimail_delivery::Spool::start(store.clone());
        let message = altimail_delivery::NewMessage {
            sender: "alice@us.test".into(),
            recipients: vec![altimail_delivery::Recipient::remote("bob@far.test", "bob@far.test")],
            extras: Default::default(),
            data: b"Subject: q\r\n\r\nhi\r\n".to_vec(),
        };
        let id = spool.submit(message).await.unwrap().to_string();
        let list = i.json(&["queue", "list"]);
        assert_eq!(list[0]["id"].to_string(), id, "{e}: {list}");
        assert_eq!(list[0]["recipients"], serde_json::json!(["bob@far.test"]), "{e}");
        let file = list[0]["file"].as_str().unwrap().to_owned();
        assert!(std::path::Path::new(&file).is_file(), "{e}: {file}");
        assert!(i.ok(&["queue", "show", &id]).contains("bob@far.test"), "{e}");
        store
            .db
            .execute(
                "UPDATE hm_messages SET messagenexttrytime = ?",
                &[chrono::NaiveDate::from_ymd_opt(2999, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap().into()],
            )
            .await
            .unwrap();
        assert_eq!(i.json(&["queue", "show", &id])["next_try"], "2999-01-01 00:00:00", "{e}");
        i.ok(&["queue", "retry", &id]);
        assert_eq!(i.json(&["queue", "show", &id])["next_try"], "now", "{e}");
        assert_eq!(i.json(&["queue", "flush"])["messages"], 1, "{e}");
        assert!(i.fails(&["queue", "retry", "999999"]).contains("no queued message 999999"), "{e}");
        i.ok(&["queue", "remove", &id]);
        assert!(!std::path::Path::new(&file).exists(), "{e}: file removed");
        assert_eq!(i.json(&["queue", "list"]), serde_json::json!([]), "{e}");
        store.db.close().await;
        i.db.cleanup().await;
    }
}
