//! Bounces for remote failures: RFC 3464 reports with hMailServer's texts, DSN NOTIFY and RET
//! honoured, none for the null sender.

mod support;

use std::sync::Arc;

use altimail_delivery::{EnvelopeExtras, NewMessage, Recipient};
use altimail_dns::testdns::Zone;
use altimail_testkit::ScratchDb;
use support::{Peer, Script, fixture};

fn refusing() -> Script {
    Script { rcpt: Arc::new(|_: &str| "550 5.1.1 Unknown user".into()), ..Script::default() }
}

#[tokio::test]
async fn notify_never_and_ret_hdrs_and_the_null_sender() {
    let zone = Zone::new().mx("refuse.test", 10, "mx.refuse.test").ip("mx.refuse.test", "127.0.1.18");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let _peer = Peer::start("127.0.1.18", refusing()).await;
    let data = b"From: <alice@us.test>\r\nSubject: secret plans\r\n\r\nbody text here\r\n".to_vec();
    let mut never = Recipient::remote("a@refuse.test", "a@refuse.test");
    never.notify = "NEVER".into();
    let mut failure = Recipient::remote("b@refuse.test", "b@refuse.test");
    failure.notify = "FAILURE,DELAY".into();
    failure.orcpt = "rfc822;B@refuse.test".into();
    let extras = EnvelopeExtras { ret: "HDRS".into(), envid: "ENV-42".into(), ..Default::default() };
    let id = f
        .spool
        .submit(NewMessage {
            sender: "alice@us.test".into(),
            recipients: vec![never, failure],
            extras,
            data: data.clone(),
        })
        .await
        .unwrap();
    // And one from the null sender: failures are dropped silently.
    let null = f
        .spool
        .submit(NewMessage {
            sender: String::new(),
            recipients: vec![Recipient::remote("c@refuse.test", "c@refuse.test")],
            extras: Default::default(),
            data,
        })
        .await
        .unwrap();
    f.worker.run_once().await.unwrap();
    assert!(f.message(id).await.is_none() && f.message(null).await.is_none());
    let bounces = f.others(id).await;
    let bounces: Vec<_> = bounces.into_iter().filter(|(m, _)| m.id != null).collect();
    assert_eq!(bounces.len(), 1, "one report, for b@ only");
    let text = &bounces[0].1;
    assert!(text.contains("Subject: Message undeliverable: secret plans"), "{text}");
    assert!(text.contains("Your message did not reach some or all of the intended recipients."), "{text}");
    assert!(
        text.contains("Original-Recipient: rfc822;B@refuse.test\r\nFinal-Recipient: rfc822; b@refuse.test"),
        "{text}"
    );
    assert!(!text.contains("a@refuse.test"), "NOTIFY=NEVER: not reported: {text}");
    assert!(text.contains("Original-Envelope-Id: ENV-42"), "{text}");
    assert!(text.contains("Content-Type: text/rfc822-headers"), "{text}");
    assert!(!text.contains("body text here"), "RET=HDRS returns headers only: {text}");
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
}

/// A failed recipient leaves the queue only with its bounce: when the bounce cannot be made
/// (here its texts are unreadable), the recipient stays queued and the message is tried again;
/// once the bounce can be queued, the recipient goes in the same commit. Never neither.
#[tokio::test]
async fn failed_recipient_stays_queued_until_its_bounce_is() {
    for db in altimail_testkit::backends("outbound_bounce_settle").await {
        let zone = Zone::new().mx("refuse.test", 10, "mx.refuse.test").ip("mx.refuse.test", "127.0.1.19");
        let f = fixture(&db, zone).await;
        let peer = Peer::start("127.0.1.19", refusing()).await;
        let id = f.submit("alice@us.test", &["x@refuse.test", "y@refuse.test"], "body\r\n").await;
        let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
        f.store.db.execute(&rename("hm_servermessages", "hm_servermessages_away"), &[]).await.unwrap();

        f.worker.run_once().await.unwrap();
        assert_eq!(f.queued(id).await, ["x@refuse.test", "y@refuse.test"], "{}: kept for the bounce", db.engine);
        assert!(f.others(id).await.is_empty(), "{}: no bounce yet", db.engine);
        let m = f.message(id).await.unwrap();
        assert!(!m.locked && m.tries == 1, "{}: rescheduled: {m:?}", db.engine);

        f.store.db.execute(&rename("hm_servermessages_away", "hm_servermessages"), &[]).await.unwrap();
        f.make_due(id).await;
        f.worker.run_once().await.unwrap();
        assert!(f.message(id).await.is_none(), "{}: settled", db.engine);
        let bounces = f.others(id).await;
        assert_eq!(bounces.len(), 1, "{}: one bounce", db.engine);
        assert!(bounces[0].1.contains("x@refuse.test") && bounces[0].1.contains("y@refuse.test"));
        assert_eq!(peer.connection_count(), 2, "{}: the retry asked the server again", db.engine);
        drop(peer);
        db.cleanup().await;
    }
}
