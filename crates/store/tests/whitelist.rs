//! The anti-spam white list (hm_whitelist) on every engine.

use altimail_store::Store;
use altimail_store::repo::whitelist::{self, WhiteListEntry};
use altimail_testkit::backends;

fn entry(lower: &str, upper: &str, address: &str) -> WhiteListEntry {
    WhiteListEntry {
        id: 0,
        lower: lower.parse().unwrap(),
        upper: upper.parse().unwrap(),
        address: address.into(),
        description: "partner".into(),
    }
}

#[tokio::test]
async fn add_list_match_remove() {
    for db in backends("whitelist").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let s = &store.db;
        let v4 = whitelist::add(s, &entry("192.0.2.0", "192.0.2.255", "*@partner.example")).await.unwrap();
        let v6 = whitelist::add(s, &entry("2001:db8::", "2001:db8::ffff", "")).await.unwrap();
        let all = whitelist::list(s).await.unwrap();
        assert_eq!(all, vec![v4.clone(), v6.clone()], "{e}");
        assert!(whitelist::matches(s, "192.0.2.9".parse().unwrap(), "bob@partner.example").await.unwrap(), "{e}");
        assert!(!whitelist::matches(s, "192.0.2.9".parse().unwrap(), "bob@else.example").await.unwrap(), "{e}");
        assert!(!whitelist::matches(s, "198.51.100.1".parse().unwrap(), "bob@partner.example").await.unwrap(), "{e}");
        assert!(whitelist::matches(s, "2001:db8::7".parse().unwrap(), "anyone@x").await.unwrap(), "{e}");
        assert!(whitelist::add(s, &entry("192.0.2.9", "192.0.2.1", "")).await.is_err(), "{e}: reversed range");
        assert!(whitelist::add(s, &entry("192.0.2.1", "2001:db8::1", "")).await.is_err(), "{e}: mixed families");
        whitelist::remove(s, v4.id).await.unwrap();
        assert!(whitelist::remove(s, v4.id).await.is_err(), "{e}: already removed");
        assert_eq!(whitelist::list(s).await.unwrap(), vec![v6], "{e}");
        store.db.close().await;
    }
}
