//! How recipients are spread over connections and hosts: domains sharing their MX hosts share a
//! connection, `maxsmtprecipientsinbatch` splits transactions on it, a host deferring some
//! recipients (4xx at RCPT) or refusing us in its greeting (5xx) hands them to the next MX
//! within the same attempt; DSN parameters are passed to peers offering DSN and a "relayed" DSN
//! goes to the sender when the peer does not.

mod support;

use std::sync::Arc;

use altimail_delivery::{EnvelopeExtras, NewMessage, Recipient};
use altimail_dns::testdns::Zone;
use altimail_store::repo::settings;
use altimail_testkit::ScratchDb;
use support::{Peer, Script, fixture};

#[tokio::test]
async fn domains_sharing_an_mx_share_one_connection_split_into_batches() {
    let zone = Zone::new()
        .mx("one.test", 10, "mx.shared.test")
        .mx("two.test", 10, "mx.shared.test")
        .ip("mx.shared.test", "127.0.1.23");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    settings::set_integer(&f.store.db, "maxsmtprecipientsinbatch", 2).await.unwrap();
    let peer = Peer::start("127.0.1.23", Script::default()).await;
    let id = f.submit("alice@us.test", &["a@one.test", "b@two.test", "c@one.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    assert_eq!(peer.connection_count(), 1, "one connection for both domains");
    let seen = peer.transactions();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].rcpts, ["a@one.test", "c@one.test"], "at most 2 recipients per transaction");
    assert_eq!(seen[1].rcpts, ["b@two.test"]);
    assert!(f.message(id).await.is_none());
}

#[tokio::test]
async fn recipients_deferred_by_one_mx_go_to_the_next_in_the_same_attempt() {
    let zone = Zone::new()
        .mx("defer.test", 10, "mx1.defer.test")
        .mx("defer.test", 20, "mx2.defer.test")
        .ip("mx1.defer.test", "127.0.1.24")
        .ip("mx2.defer.test", "127.0.1.25");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let first = Script {
        rcpt: Arc::new(|a: &str| if a.starts_with("later") { "451 4.7.1 greylisted".into() } else { "250 OK".into() }),
        ..Script::default()
    };
    let mx1 = Peer::start("127.0.1.24", first).await;
    let mx2 = Peer::start("127.0.1.25", Script::default()).await;
    let id = f.submit("alice@us.test", &["now@defer.test", "later@defer.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    assert_eq!(mx1.delivered_to(), ["now@defer.test"]);
    assert_eq!(mx2.delivered_to(), ["later@defer.test"], "the 4xx recipient went to the next MX");
    assert!(f.message(id).await.is_none(), "nothing left for a retry");
}

#[tokio::test]
async fn a_5xx_greeting_moves_on_to_the_next_mx() {
    let zone = Zone::new()
        .mx("greet.test", 10, "mx1.greet.test")
        .mx("greet.test", 20, "mx2.greet.test")
        .ip("mx1.greet.test", "127.0.1.26")
        .ip("mx2.greet.test", "127.0.1.27");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let _mx1 =
        Peer::start("127.0.1.26", Script { greeting: "554 no service for you".into(), ..Script::default() }).await;
    let mx2 = Peer::start("127.0.1.27", Script::default()).await;
    let id = f.submit("alice@us.test", &["x@greet.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    assert_eq!(mx2.delivered_to(), ["x@greet.test"]);
    assert!(f.message(id).await.is_none());
    assert!(f.others(id).await.is_empty(), "no bounce");
}

async fn submit_with_dsn(f: &support::Fixture, domain: &str) -> i64 {
    let mut success = Recipient::remote(&format!("s@{domain}"), &format!("s@{domain}"));
    success.notify = "SUCCESS,FAILURE".into();
    success.orcpt = format!("rfc822;S+1@{domain}");
    let mut failure = Recipient::remote(&format!("f@{domain}"), &format!("f@{domain}"));
    failure.notify = "FAILURE".into();
    let plain = Recipient::remote(&format!("p@{domain}"), &format!("p@{domain}"));
    let extras = EnvelopeExtras { ret: "HDRS".into(), envid: "env 7".into(), ..Default::default() };
    let data = b"From: <alice@us.test>\r\nSubject: dsn\r\n\r\nsecret body\r\n".to_vec();
    f.spool
        .submit(NewMessage { sender: "alice@us.test".into(), recipients: vec![success, failure, plain], extras, data })
        .await
        .unwrap()
}

#[tokio::test]
async fn dsn_parameters_are_passed_to_a_peer_offering_dsn() {
    let zone = Zone::new().mx("dsn.test", 10, "mx.dsn.test").ip("mx.dsn.test", "127.0.1.28");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let peer = Peer::start("127.0.1.28", Script { caps: vec!["DSN".into()], ..Script::default() }).await;
    let id = submit_with_dsn(&f, "dsn.test").await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].mail.ends_with(" RET=HDRS ENVID=env+207"), "{}", seen[0].mail);
    assert_eq!(
        seen[0].rcpt_lines,
        [
            "RCPT TO:<s@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;S+2B1@dsn.test",
            "RCPT TO:<f@dsn.test> NOTIFY=FAILURE",
            "RCPT TO:<p@dsn.test>",
        ]
    );
    assert!(f.message(id).await.is_none());
    assert!(f.others(id).await.is_empty(), "the peer reports success itself");
}

#[tokio::test]
async fn notify_success_to_a_peer_without_dsn_gets_a_relayed_report() {
    let zone = Zone::new().mx("nodsn.test", 10, "mx.nodsn.test").ip("mx.nodsn.test", "127.0.1.29");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let peer = Peer::start("127.0.1.29", Script::default()).await;
    let id = submit_with_dsn(&f, "nodsn.test").await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].mail.contains("RET=") && !seen[0].mail.contains("ENVID="), "{}", seen[0].mail);
    assert!(seen[0].rcpt_lines.iter().all(|l| !l.contains("NOTIFY")), "{:?}", seen[0].rcpt_lines);
    assert!(f.message(id).await.is_none());
    let reports = f.others(id).await;
    assert_eq!(reports.len(), 1, "one relayed DSN");
    let (m, text) = &reports[0];
    assert_eq!(m.from, "", "null sender");
    assert!(text.contains("report-type=delivery-status"), "{text}");
    assert!(text.contains("Subject: Delivery Status Notification (Relayed): dsn"), "{text}");
    assert!(
        text.contains(
            "Original-Recipient: rfc822;S+1@nodsn.test\r\nFinal-Recipient: rfc822; s@nodsn.test\r\nAction: relayed\r\nStatus: 2.0.0\r\nRemote-MTA: dns; 127.0.1.29"
        ),
        "{text}"
    );
    assert!(text.contains("Original-Envelope-Id: env 7"), "{text}");
    assert!(!text.contains("f@nodsn.test") && !text.contains("p@nodsn.test"), "only NOTIFY=SUCCESS: {text}");
    assert!(text.contains("Content-Type: text/rfc822-headers") && !text.contains("secret body"), "{text}");
}
