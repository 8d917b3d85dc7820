//! Greylisting's whole cycle on every engine, with a test clock and a test DNS server.

use std::net::IpAddr;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use altimail_antispam::greylist::{self, Decision, Policy, Request, Skip};
use altimail_dns::HickoryDns;
use altimail_dns::testdns::{TestDns, Zone};
use altimail_store::Store;
use altimail_store::repo::{domain_aliases, domains, greylisting};
use altimail_testkit::backends;

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 5, 1).unwrap().and_hms_opt(8, 0, 0).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn greylisting_full_cycle_bypasses_and_purge() {
    let server = TestDns::start(
        Zone::new()
            .mx("sender.test", 10, "mx.sender.test")
            .ip("mx.sender.test", "192.0.2.50")
            .ip("sender.test", "192.0.2.51"),
    )
    .await
    .unwrap();
    let dns = HickoryDns::with_servers(&[server.addr]).unwrap();
    for db in backends("greylist_cycle").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let (s, e) = (&store.db, db.engine);
        let mut d = domains::create(s, &domains::Domain::new("example.com")).await.unwrap();
        domain_aliases::create(s, d.id, "example.net").await.unwrap();
        domains::create(s, &domains::Domain::new("plain.test")).await.unwrap();
        let mut policy = Policy { enabled: true, ..Policy::default() };
        let client = ip("192.0.2.9");
        let req = Request { client, sender: "a@sender.test", recipient: "b@example.com", spf_pass: false };
        let t0 = start();

        // The domain's bit is off: nothing happens.
        assert_eq!(greylist::decide(s, &dns, &policy, &req, t0).await.unwrap(), Decision::Skipped(Skip::DomainOff));
        d.antispam_options |= 1;
        domains::update(s, &d).await.unwrap();
        let off = Policy { enabled: false, ..policy };
        assert_eq!(greylist::decide(s, &dns, &off, &req, t0).await.unwrap(), Decision::Skipped(Skip::Disabled));
        let other = Request { recipient: "b@plain.test", ..req };
        assert_eq!(greylist::decide(s, &dns, &policy, &other, t0).await.unwrap(), Decision::Skipped(Skip::DomainOff));

        // First attempt: 451; still blocked: 451 and counted; after the delay: passed.
        assert_eq!(greylist::decide(s, &dns, &policy, &req, t0).await.unwrap(), Decision::Defer, "{e}");
        assert_eq!(greylist::reply(false), (451, "Please try again later."));
        let t = t0 + Duration::minutes(29);
        assert_eq!(greylist::decide(s, &dns, &policy, &req, t).await.unwrap(), Decision::Defer, "{e}");
        let row = greylisting::find(s, client, "a@sender.test", "b@example.com").await.unwrap().unwrap();
        assert_eq!((row.blocked_count, row.passed_count), (2, 0), "{e}");
        assert_eq!(row.delete_time, t0 + Duration::hours(24), "{e}");
        // The domain alias is the same recipient.
        let via_alias = Request { recipient: "B@example.net", ..req };
        let t = t0 + Duration::minutes(31);
        assert_eq!(greylist::decide(s, &dns, &policy, &via_alias, t).await.unwrap(), Decision::Pass, "{e}");
        let row = greylisting::find(s, client, "a@sender.test", "b@example.com").await.unwrap().unwrap();
        assert_eq!((row.blocked_count, row.passed_count), (2, 1), "{e}");
        assert_eq!(row.delete_time, t + Duration::hours(864), "{e}");
        assert_eq!(greylisting::count(s).await.unwrap(), 1, "{e}");

        // The null sender is greylisted too (answered 450 after DATA).
        let null = Request { sender: "", ..req };
        assert_eq!(greylist::decide(s, &dns, &policy, &null, t0).await.unwrap(), Decision::Defer, "{e}");
        assert_eq!(greylist::reply(true), (450, "Please try again later."));

        // Bypasses.
        let spf = Request { client: ip("192.0.2.60"), spf_pass: true, ..req };
        assert_eq!(greylist::decide(s, &dns, &policy, &spf, t0).await.unwrap(), Decision::Skipped(Skip::SpfPass));
        policy.bypass_on_spf_pass = false;
        assert_eq!(greylist::decide(s, &dns, &policy, &spf, t0).await.unwrap(), Decision::Defer, "{e}");
        greylisting::white_add(s, "198.51.100.*", "partner").await.unwrap();
        let white = Request { client: ip("198.51.100.7"), ..req };
        assert_eq!(greylist::decide(s, &dns, &policy, &white, t0).await.unwrap(), Decision::Skipped(Skip::WhiteListed));
        let from_mx = Request { client: ip("192.0.2.50"), ..req };
        let from_a = Request { client: ip("192.0.2.51"), ..req };
        assert_eq!(greylist::decide(s, &dns, &policy, &from_mx, t0).await.unwrap(), Decision::Defer, "{e}: bypass off");
        policy.bypass_on_mail_from_mx = true;
        let t = t0 + Duration::minutes(1);
        assert_eq!(greylist::decide(s, &dns, &policy, &from_a, t).await.unwrap(), Decision::Skipped(Skip::SenderHost));
        assert_eq!(greylist::decide(s, &dns, &policy, &from_mx, t).await.unwrap(), Decision::Skipped(Skip::SenderHost));

        // Purge: the unconfirmed triplets go after 24 hours, the passed one after 864.
        assert_eq!(greylisting::count(s).await.unwrap(), 4, "{e}");
        assert_eq!(greylist::purge(s, t0 + Duration::hours(25)).await.unwrap(), 3, "{e}");
        assert_eq!(greylisting::count(s).await.unwrap(), 1, "{e}");
        assert_eq!(greylist::purge(s, t0 + Duration::hours(900)).await.unwrap(), 1, "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn purge_task_runs_on_its_interval() {
    for db in backends("greylist_purge_task").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let old = start() - Duration::days(1000);
        let t = greylisting::Triplet {
            id: 0,
            created: old,
            block_end: old,
            delete_time: old,
            ip: ip("192.0.2.1"),
            sender: "a@b.test".into(),
            recipient: "c@d.test".into(),
            blocked_count: 1,
            passed_count: 0,
        };
        greylisting::insert(&store.db, &t).await.unwrap();
        let task = greylist::spawn_purge(store.db.clone(), std::time::Duration::from_millis(200));
        let mut left = 1;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            left = greylisting::count(&store.db).await.unwrap();
            if left == 0 {
                break;
            }
        }
        task.abort();
        assert_eq!(left, 0, "{}", db.engine);
        store.db.close().await;
        db.cleanup().await;
    }
}
