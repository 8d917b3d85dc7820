//! The remote-delivery worker against a real DNS server and SMTP peers on 127.0.1.x:25:
//! MX fallback, per-recipient results, retries with a test clock, bounces and restarts.

mod support;

use std::sync::Arc;
use std::time::Duration;

use altimail_dns::testdns::Zone;
use altimail_store::repo::settings;
use altimail_testkit::{ScratchDb, backends};
use support::{Peer, Script, fixture};

#[tokio::test]
async fn first_mx_refuses_connections_so_the_second_gets_the_mail() {
    let zone = Zone::new()
        .mx("fallback.test", 10, "mx1.fallback.test")
        .mx("fallback.test", 20, "mx2.fallback.test")
        .ip("mx1.fallback.test", "127.0.1.2")
        .ip("mx2.fallback.test", "127.0.1.3");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let peer = Peer::start("127.0.1.3", Script::default()).await;
    let id = f.submit("alice@us.test", &["bob@fallback.test"], "line\n.dot\r\nbare\rcr\r\n").await;
    assert_eq!(f.worker.run_once().await.unwrap(), 1);
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].rcpts, ["bob@fallback.test"]);
    assert!(seen[0].mail.starts_with("<alice@us.test> SIZE="), "{}", seen[0].mail);
    assert_eq!(seen[0].helo, "mx.us.test");
    let body = String::from_utf8(seen[0].data.clone()).unwrap();
    assert!(body.ends_with("\r\nline\r\n..dot\r\nbare\r\ncr\r\n"), "{body:?}");
    assert!(!body.replace("\r\n", "").contains(['\r', '\n']), "bare CR or LF on the wire: {body:?}");
    assert!(f.message(id).await.is_none(), "delivered message leaves the queue");
    let log = f.smtpc_log();
    assert!(log.contains("\"SMTPC\"") && log.contains("SENT: RCPT TO:<bob@fallback.test>"), "{log}");
    assert!(log.contains("RECEIVED: 250 Queued"), "{log}");
}

#[tokio::test]
async fn partial_failures_are_recorded_per_recipient_and_never_resent() {
    for db in backends("outbound_partial").await {
        let e = db.engine;
        let zone = Zone::new().mx("partial.test", 10, "mx.partial.test").ip("mx.partial.test", "127.0.1.4");
        let f = fixture(&db, zone).await;
        let later_ok = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = later_ok.clone();
        let script = Script {
            rcpt: Arc::new(move |a: &str| match a {
                "no@partial.test" => "550 5.1.1 No such user".into(),
                "later@partial.test" if !flag.load(std::sync::atomic::Ordering::SeqCst) => {
                    "451 4.2.0 Try again later".into()
                }
                _ => "250 OK".into(),
            }),
            ..Script::default()
        };
        let peer = Peer::start("127.0.1.4", script).await;
        let id =
            f.submit("alice@us.test", &["ok@partial.test", "no@partial.test", "later@partial.test"], "hi\r\n").await;
        f.worker.run_once().await.unwrap();
        assert_eq!(peer.delivered_to(), ["ok@partial.test"], "{e}");
        assert_eq!(f.queued(id).await, ["later@partial.test"], "{e}");
        let m = f.message(id).await.unwrap();
        assert_eq!(m.tries, 1, "{e}");
        assert!(m.next_try > altimail_core::time::now_local() + chrono::Duration::minutes(50), "{e}");
        assert!(!m.locked, "{e}");
        // Not due yet: nothing happens to it (the bounce, to a remote sender, is tried).
        f.worker.run_once().await.unwrap();
        assert_eq!(f.message(id).await.unwrap().tries, 1, "{e}");
        // The bounce for the 550 went to the sender through the spool.
        let bounces = f.others(id).await;
        assert_eq!(bounces.len(), 1, "{e}");
        let (b, text) = &bounces[0];
        assert_eq!(b.from, "", "{e}: bounces have the null sender");
        assert!(text.contains("multipart/report; report-type=delivery-status"), "{e}: {text}");
        assert!(text.contains("Remote server (127.0.1.4) issued an error."), "{e}: {text}");
        assert!(text.contains("hMailServer sent: RCPT TO:<no@partial.test>"), "{e}: {text}");
        assert!(text.contains("Remote server replied: 550 5.1.1 No such user"), "{e}: {text}");
        assert!(text.contains("Final-Recipient: rfc822; no@partial.test\r\nAction: failed\r\nStatus: 5.1.1"), "{e}");
        assert!(!text.contains("later@partial.test") && !text.contains("Final-Recipient: rfc822; ok@"), "{e}");
        // The test clock moves on; the deferred recipient is accepted now.
        later_ok.store(true, std::sync::atomic::Ordering::SeqCst);
        f.make_due(id).await;
        f.worker.run_once().await.unwrap();
        assert_eq!(peer.delivered_to(), ["ok@partial.test", "later@partial.test"], "{e}");
        assert!(f.message(id).await.is_none(), "{e}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn temporary_failures_until_the_retries_run_out_then_a_bounce() {
    let zone = Zone::new().mx("busy.test", 10, "mx.busy.test").ip("mx.busy.test", "127.0.1.5");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    settings::set_integer(&f.store.db, "smtpnoofretries", 1).await.unwrap();
    let script = Script { rcpt: Arc::new(|_: &str| "452 4.2.2 Mailbox full".into()), ..Script::default() };
    let _peer = Peer::start("127.0.1.5", script).await;
    let id = f.submit("alice@us.test", &["full@busy.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    assert_eq!(f.message(id).await.unwrap().tries, 1);
    assert!(f.others(id).await.is_empty(), "no bounce before the last try");
    f.make_due(id).await;
    f.worker.run_once().await.unwrap();
    assert!(f.message(id).await.is_none(), "given up after 1 retry");
    let bounces = f.others(id).await;
    assert_eq!(bounces.len(), 1);
    let text = &bounces[0].1;
    assert!(text.contains("Tried 2 time(s)"), "{text}");
    assert!(text.contains("Remote server replied: 452 4.2.2 Mailbox full"), "{text}");
    assert!(text.contains("Status: 5.2.2"), "{text}");
    assert!(text.contains("Subject: Message undeliverable: test"), "{text}");
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_queue_run_resends_to_no_accepted_recipient() {
    let zone = Zone::new()
        .mx("fast.test", 10, "mx.fast.test")
        .ip("mx.fast.test", "127.0.1.6")
        .mx("slow.test", 10, "mx.slow.test")
        .ip("mx.slow.test", "127.0.1.7");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let fast = Peer::start("127.0.1.6", Script::default()).await;
    let slow = Peer::start("127.0.1.7", Script { hang_after_data: true, ..Script::default() }).await;
    let id = f.submit("alice@us.test", &["a@fast.test", "b@slow.test"], "hi\r\n").await;
    // The run is cut off (the process dies) while the slow host holds the DATA reply.
    let run = tokio::time::timeout(Duration::from_secs(3), f.worker.run_once()).await;
    assert!(run.is_err(), "the slow peer never answers");
    assert_eq!(fast.delivered_to(), ["a@fast.test"]);
    assert_eq!(f.queued(id).await, ["b@slow.test"], "the accepted recipient was recorded at once");
    drop(slow);
    let slow = Peer::start("127.0.1.7", Script::default()).await;
    // Restart: the queue is unlocked and the run resumes.
    altimail_delivery::queue::unlock_all(&f.store.db).await.unwrap();
    f.worker.run_once().await.unwrap();
    assert_eq!(fast.delivered_to(), ["a@fast.test"], "no second copy for a@fast.test");
    assert_eq!(slow.delivered_to(), ["b@slow.test"]);
    assert!(f.message(id).await.is_none());
}

#[tokio::test]
async fn bdat_when_the_peer_offers_chunking() {
    let zone = Zone::new().mx("chunk.test", 10, "mx.chunk.test").ip("mx.chunk.test", "127.0.1.20");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let peer = Peer::start("127.0.1.20", Script { caps: vec!["CHUNKING".into()], ..Script::default() }).await;
    let id = f.submit("alice@us.test", &["x@chunk.test"], ".dot\nbare lf\r\n").await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1);
    let body = String::from_utf8(seen[0].data.clone()).unwrap();
    assert!(body.ends_with("\r\n\r\n.dot\r\nbare lf\r\n"), "BDAT carries the message unstuffed, CRLF only: {body:?}");
    assert!(f.message(id).await.is_none());
    assert!(f.smtpc_log().contains("SENT: BDAT"), "{}", f.smtpc_log());
}
