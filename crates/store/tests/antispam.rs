//! The anti-spam repositories (`hm_dnsbl`, `hm_surblservers`, greylisting) on every engine.

use std::net::IpAddr;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use altimail_store::repo::dnsbl::{self, Dnsbl};
use altimail_store::repo::greylisting::{self, Triplet};
use altimail_store::repo::surbl::{self, Surbl};
use altimail_store::{Store, StoreError};
use altimail_testkit::{ScratchDb, backends};

async fn open(db: &ScratchDb, data: &std::path::Path) -> Store {
    Store::open(&db.config, data, true).await.unwrap_or_else(|e| panic!("{}: open: {e}", db.engine))
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(h, m, 0).unwrap()
}

#[tokio::test]
async fn dnsbl_rows_round_trip() {
    for db in backends("dnsbl_rows").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        // hMailServer's two default rows, both inactive.
        let defaults = dnsbl::list(s).await.unwrap();
        let zones: Vec<&str> = defaults.iter().map(|d| d.zone.as_str()).collect();
        assert_eq!(zones, ["bl.spamcop.net", "zen.spamhaus.org"], "{e}");
        assert!(defaults.iter().all(|d| !d.active), "{e}");
        assert!(dnsbl::active(s).await.unwrap().is_empty(), "{e}");
        let zen = dnsbl::require(s, "ZEN.spamhaus.org").await.unwrap();
        assert_eq!((zen.expected.as_str(), zen.score), ("127.0.0.2-8|127.0.0.10-11", 3), "{e}");

        let added = dnsbl::create(s, &Dnsbl::new("bl.example", "127.0.0.2", "Listed.", 4)).await.unwrap();
        assert!(matches!(dnsbl::create(s, &Dnsbl::new("BL.example", "", "x", 1)).await, Err(StoreError::Conflict(_))));
        assert!(matches!(dnsbl::create(s, &Dnsbl::new("bad zone", "", "x", 1)).await, Err(StoreError::Invalid(_))));
        let mut changed = added.clone();
        changed.score = 7;
        changed.active = false;
        dnsbl::update(s, &changed).await.unwrap();
        assert_eq!(dnsbl::find(s, "bl.example").await.unwrap(), Some(changed.clone()), "{e}");
        dnsbl::delete(s, changed.id).await.unwrap();
        assert_eq!(dnsbl::find(s, "bl.example").await.unwrap(), None, "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn surbl_rows_round_trip() {
    for db in backends("surbl_rows").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let defaults = surbl::list(s).await.unwrap();
        assert_eq!(defaults.len(), 1, "{e}");
        assert_eq!((defaults[0].zone.as_str(), defaults[0].active, defaults[0].score), ("multi.surbl.org", false, 3));
        let added = surbl::create(s, &Surbl::new("uribl.example", "URI listed.", 5)).await.unwrap();
        assert!(matches!(surbl::create(s, &Surbl::new("URIBL.example", "x", 1)).await, Err(StoreError::Conflict(_))));
        assert_eq!(surbl::active(s).await.unwrap(), vec![added.clone()], "{e}");
        let mut changed = added.clone();
        changed.reject_message = "Other.".into();
        surbl::update(s, &changed).await.unwrap();
        assert_eq!(surbl::require(s, "uribl.example").await.unwrap(), changed, "{e}");
        surbl::delete(s, changed.id).await.unwrap();
        assert!(surbl::find(s, "uribl.example").await.unwrap().is_none(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn greylisting_triplets_and_white_list() {
    for db in backends("greylisting_rows").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        for (i, ip) in [v4, v6].into_iter().enumerate() {
            let t = Triplet {
                id: 0,
                created: at(10, i as u32),
                block_end: at(10, 30),
                delete_time: at(10, 0) + Duration::hours(24),
                ip,
                sender: "Sender@Example.org".into(),
                recipient: "rcpt@example.com".into(),
                blocked_count: 1,
                passed_count: 0,
            };
            let stored = greylisting::insert(s, &t).await.unwrap();
            let mut found = greylisting::find(s, ip, "sender@example.ORG", "RCPT@example.com").await.unwrap().unwrap();
            assert_eq!(found, stored, "{e}");
            assert_eq!(found.ip, ip, "{e}");
            found.passed_count = 2;
            found.delete_time = at(12, 0);
            greylisting::update(s, &found).await.unwrap();
            assert_eq!(greylisting::find(s, ip, "sender@example.org", "rcpt@example.com").await.unwrap(), Some(found));
        }
        assert!(greylisting::find(s, v4, "other@example.org", "rcpt@example.com").await.unwrap().is_none(), "{e}");
        assert!(
            greylisting::find(s, "192.0.2.8".parse().unwrap(), "sender@example.org", "rcpt@example.com")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(greylisting::count(s).await.unwrap(), 2, "{e}");
        assert_eq!(greylisting::recent(s, 1).await.unwrap()[0].ip, v6, "{e}: newest first");
        assert_eq!(greylisting::purge_expired(s, at(11, 0)).await.unwrap(), 0, "{e}");
        assert_eq!(greylisting::purge_expired(s, at(12, 1)).await.unwrap(), 2, "{e}");
        assert_eq!(greylisting::count(s).await.unwrap(), 0, "{e}");

        let w = greylisting::white_add(s, "192.168.*", "office").await.unwrap();
        assert_eq!(w.like_pattern, "192.168.%", "{e}");
        greylisting::white_add(s, "10.0.0.?", "").await.unwrap();
        assert!(matches!(greylisting::white_add(s, "192.168.*", "").await, Err(StoreError::Conflict(_))));
        assert!(matches!(greylisting::white_add(s, "drop table", "").await, Err(StoreError::Invalid(_))));
        let listed: Vec<String> = greylisting::white_list(s).await.unwrap().into_iter().map(|w| w.address).collect();
        assert_eq!(listed, ["10.0.0.?", "192.168.*"], "{e}");
        assert!(greylisting::white_matches(s, "192.168.4.5".parse().unwrap()).await.unwrap(), "{e}");
        assert!(greylisting::white_matches(s, "10.0.0.9".parse().unwrap()).await.unwrap(), "{e}");
        assert!(!greylisting::white_matches(s, "10.0.0.19".parse().unwrap()).await.unwrap(), "{e}");
        assert!(!greylisting::white_matches(s, "192.169.0.1".parse().unwrap()).await.unwrap(), "{e}");
        greylisting::white_remove(s, "192.168.*").await.unwrap();
        assert!(!greylisting::white_matches(s, "192.168.4.5".parse().unwrap()).await.unwrap(), "{e}");
        assert!(matches!(greylisting::white_remove(s, "192.168.*").await, Err(StoreError::NotFound(_))));
        store.db.close().await;
        db.cleanup().await;
    }
}
