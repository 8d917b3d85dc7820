//! Routes and the smart host: fixed targets with AUTH (Blowfish-stored passwords), STARTTLS
//! offered, required and broken, per-route retries.

mod support;

use altimail_dns::testdns::Zone;
use altimail_store::repo::settings;
use altimail_testkit::ScratchDb;
use support::{Peer, Script, add_route, fixture, self_signed_acceptor};

fn tls_auth_script() -> Script {
    Script { tls: Some(self_signed_acceptor()), auth: Some(("relayuser".into(), "s3cret".into())), ..Script::default() }
}

#[tokio::test]
async fn wildcard_route_with_auth_over_required_starttls() {
    let db = ScratchDb::sqlite();
    let f = fixture(&db, Zone::new()).await;
    settings::set_integer(&f.store.db, "VerifyRemoteSslCertificate", 0).await.unwrap();
    add_route(&f.store, "*.routed.test", "127.0.1.8", 25, 4, 3, Some(("relayuser", "s3cret"))).await;
    let peer = Peer::start("127.0.1.8", tls_auth_script()).await;
    let id = f.submit("alice@us.test", &["x@a.routed.test", "y@b.routed.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1, "one connection carries both recipients");
    assert!(seen[0].tls, "STARTTLS was used");
    assert_eq!(seen[0].auth.as_deref(), Some("relayuser"));
    assert_eq!(seen[0].rcpts, ["x@a.routed.test", "y@b.routed.test"]);
    assert!(f.message(id).await.is_none());
    assert!(!f.smtpc_log().contains("s3cret"), "no password in the log");
}

#[tokio::test]
async fn broken_starttls_falls_back_to_clear_text_unless_required() {
    let db = ScratchDb::sqlite();
    let f = fixture(&db, Zone::new()).await;
    // Verification on: the self-signed certificate fails the handshake.
    add_route(&f.store, "optional.test", "127.0.1.11", 25, 4, 2, None).await;
    add_route(&f.store, "required.test", "127.0.1.12", 25, 0, 3, None).await;
    let opt = Peer::start("127.0.1.11", Script { tls: Some(self_signed_acceptor()), ..Script::default() }).await;
    let req = Peer::start("127.0.1.12", Script { tls: Some(self_signed_acceptor()), ..Script::default() }).await;
    let a = f.submit("alice@us.test", &["x@optional.test"], "hi\r\n").await;
    let b = f.submit("alice@us.test", &["x@required.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    let seen = opt.transactions();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].tls, "retried in clear text after the failed handshake");
    assert!(f.message(a).await.is_none());
    assert!(req.transactions().is_empty(), "required TLS never sends in clear text");
    // The route allows no retries: the first temporary failure bounces.
    assert!(f.message(b).await.is_none());
    let bounces = f.others(b).await;
    let text = bounces.iter().map(|(_, t)| t.as_str()).find(|t| t.contains("x@required.test")).unwrap_or_default();
    assert!(text.contains("TLS handshake failed"), "{text}");
    assert!(text.contains("Tried 1 time(s)"), "{text}");
}

#[tokio::test]
async fn smart_host_alternatives_with_auth() {
    let zone = Zone::new().ip("relay.test", "127.0.1.13");
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let s = &f.store.db;
    settings::set_string(s, "smtprelayer", "127.0.1.14|relay.test").await.unwrap();
    settings::set_integer(s, "smtprelayerport", 25).await.unwrap();
    settings::set_integer(s, "usesmtprelayerauthentication", 1).await.unwrap();
    settings::set_string(s, "smtprelayerusername", "relayuser").await.unwrap();
    settings::set_string(s, "smtprelayerpassword", &altimail_core::blowfish::hm_encrypt("s3cret")).await.unwrap();
    settings::set_integer(s, "smtprelayerconnectionsecurity", 2).await.unwrap();
    settings::set_integer(s, "VerifyRemoteSslCertificate", 0).await.unwrap();
    let peer = Peer::start("127.0.1.13", tls_auth_script()).await;
    let id = f.submit("alice@us.test", &["a@one.test", "b@two.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].tls && seen[0].auth.as_deref() == Some("relayuser"));
    assert_eq!(seen[0].rcpts, ["a@one.test", "b@two.test"]);
    assert!(f.message(id).await.is_none());
}

#[tokio::test]
async fn etrn_routes_hold_their_messages() {
    let db = ScratchDb::sqlite();
    let f = fixture(&db, Zone::new()).await;
    add_route(&f.store, "etrn.test", "127.0.1.19", 25, 4, 0, None).await;
    f.store.db.execute("UPDATE hm_routes SET routedescription = 'ETRN customer'", &[]).await.unwrap();
    let peer = Peer::start("127.0.1.19", Script::default()).await;
    let id = f.submit("alice@us.test", &["x@etrn.test"], "hi\r\n").await;
    f.worker.run_once().await.unwrap();
    assert!(peer.transactions().is_empty(), "nothing sent before ETRN");
    let m = f.message(id).await.unwrap();
    assert_eq!(m.kind, altimail_core::codes::message_type::ETRN_HELD);
    assert!(!m.locked);
    assert_eq!(f.worker.run_once().await.unwrap(), 0, "held messages are not claimed");
}
