//! ETRN (RFC 1985) end to end: a message for an ETRN route is held; a client of the SMTP server
//! sends `ETRN <domain>`, the message is released and reaches the route's host. Also the RFC's
//! replies for unknown nodes and empty queues, the `@domain` form and held messages in the queue
//! listing.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use altimail_core::codes::{Protocol, Security, message_type};
use altimail_delivery::queue::{self, EtrnRelease};
use altimail_dns::testdns::Zone;
use altimail_net::{HmLog, Listeners, Policy};
use altimail_smtp::server::SmtpServer;
use altimail_store::repo::{messages, ports};
use altimail_testkit::{ScratchDb, backends};
use support::{Peer, Script, add_route, fixture};

async fn etrn_route(store: &altimail_store::Store, domain: &str, host: &str) {
    add_route(store, domain, host, 25, 4, 0, None).await;
    store
        .db
        .execute("UPDATE hm_routes SET routedescription = 'ETRN site' WHERE routedomainname = ?", &[domain.into()])
        .await
        .unwrap();
}

/// Sends `line` and returns the reply (single-line replies only, or the last line).
async fn command(io: &mut BufReader<TcpStream>, line: &str) -> String {
    io.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    read_reply(io).await
}

async fn read_reply(io: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut l = String::new();
        tokio::time::timeout(Duration::from_secs(10), io.read_line(&mut l)).await.unwrap().unwrap();
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return l.trim_end().to_owned();
        }
    }
}

#[tokio::test]
async fn etrn_from_an_smtp_client_releases_the_held_message_to_the_route_host() {
    let db = ScratchDb::sqlite();
    let f = fixture(&db, Zone::new()).await;
    etrn_route(&f.store, "etrn.test", "127.0.1.21").await;
    etrn_route(&f.store, "sub.other.test", "127.0.1.21").await;
    let peer = Peer::start("127.0.1.21", Script::default()).await;
    let id = f.submit("alice@us.test", &["x@etrn.test"], "held for you\r\n").await;
    let sub = f.submit("alice@us.test", &["y@sub.other.test"], "held too\r\n").await;
    f.worker.run_once().await.unwrap();
    assert!(peer.transactions().is_empty(), "held before ETRN");
    let m = f.message(id).await.unwrap();
    assert_eq!(m.kind, message_type::ETRN_HELD);
    assert!(m.account_id > 0, "the route id is kept in messageaccountid, as hMailServer does");
    let listed: Vec<i64> = messages::queue_and_held(&f.store.db).await.unwrap().iter().map(|m| m.id).collect();
    assert!(listed.contains(&id) && listed.contains(&sub), "held messages are listed: {listed:?}");

    // The SMTP server on a free port of 127.0.0.1.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for p in ports::list(&f.store.db).await.unwrap() {
        ports::delete(&f.store.db, p.id).await.unwrap();
    }
    let row = ports::Port {
        id: 0,
        protocol: Protocol::Smtp,
        port,
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        security: Security::None,
        certificate_id: 0,
    };
    ports::create(&f.store.db, &row).await.unwrap();
    let log = HmLog::new(f.dirs.path().join("smtpd-logs"), 0);
    let listeners = Listeners::builder(Policy::new(f.store.db.clone()), log, f.dirs.path().join("data"))
        .with_handler(Protocol::Smtp, SmtpServer::new(f.store.clone(), f.spool.clone()))
        .start()
        .await;
    let mut bound = false;
    for _ in 0..100 {
        if !listeners.bound().await.is_empty() {
            bound = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bound, "the SMTP port is bound");

    let mut io = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    assert!(read_reply(&mut io).await.starts_with("220"));
    assert!(command(&mut io, "EHLO client.test").await.starts_with("250"));
    let r = command(&mut io, "ETRN nowhere.test").await;
    assert!(r.starts_with("459"), "not an ETRN route: {r}");
    let r = command(&mut io, "ETRN etrn.test").await;
    assert_eq!(r, "250 2.0.0 OK, message queuing started for etrn.test");
    let r = command(&mut io, "ETRN etrn.test").await;
    assert!(r.starts_with("251"), "nothing left to release: {r}");
    // `@domain` takes the routes of subdomains too (RFC 1985 §3).
    let r = command(&mut io, "ETRN @other.test").await;
    assert!(r.starts_with("250"), "{r}");
    let _ = command(&mut io, "QUIT").await;

    let m = f.message(id).await.unwrap();
    assert_eq!(m.kind, message_type::QUEUED, "released");
    assert_eq!(m.next_try, queue::etrn_hold_time(), "due now, marked as released");
    f.worker.run_once().await.unwrap();
    let mut got = peer.delivered_to();
    got.sort();
    assert_eq!(got, ["x@etrn.test", "y@sub.other.test"]);
    assert!(f.message(id).await.is_none() && f.message(sub).await.is_none(), "delivered and gone");
    listeners.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_released_message_deferred_again_is_held_again() {
    for db in backends("outbound_etrn_release").await {
        let e = db.engine;
        let f = fixture(&db, Zone::new()).await;
        etrn_route(&f.store, "again.test", "127.0.1.22").await;
        let script = Script { rcpt: std::sync::Arc::new(|_: &str| "451 4.3.0 not now".into()), ..Script::default() };
        let peer = Peer::start("127.0.1.22", script).await;
        let id = f.submit("alice@us.test", &["x@again.test"], "hi\r\n").await;
        f.worker.run_once().await.unwrap();
        let held = messages::queue_and_held(&f.store.db).await.unwrap();
        assert!(held.iter().any(|m| m.id == id && m.kind == message_type::ETRN_HELD), "{e}");
        assert_eq!(queue::release_held(&f.store.db, "AGAIN.test").await.unwrap(), EtrnRelease::Released(1), "{e}");
        assert_eq!(queue::release_held(&f.store.db, "#again.test").await.unwrap(), EtrnRelease::Released(0), "{e}");
        assert_eq!(queue::release_held(&f.store.db, "us.test").await.unwrap(), EtrnRelease::NoRoute, "{e}");
        f.worker.run_once().await.unwrap();
        assert_eq!(peer.connection_count(), 1, "{e}: the released message was tried");
        let m = f.message(id).await.unwrap();
        assert_eq!((m.kind, m.tries), (message_type::QUEUED, 1), "{e}: deferred as usual");
        f.make_due(id).await;
        f.worker.run_once().await.unwrap();
        assert_eq!(peer.connection_count(), 1, "{e}: not tried without a new ETRN");
        assert_eq!(f.message(id).await.unwrap().kind, message_type::ETRN_HELD, "{e}");
        drop(peer);
        db.cleanup().await;
    }
}
