//! Subscriptions to mailboxes that do not exist, on every engine.

use altimail_store::Store;
use altimail_store::repo::{accounts, domains, subscriptions};
use altimail_testkit::backends;

#[tokio::test]
async fn subscriptions_outlive_their_mailboxes() {
    for db in backends("subscriptions").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let d = domains::create(&store.db, &domains::Domain::new("example.com")).await.unwrap();
        let a = accounts::create(&store.db, &accounts::Account::new(d.id, "john@example.com")).await.unwrap();
        let b = accounts::create(&store.db, &accounts::Account::new(d.id, "mary@example.com")).await.unwrap();

        subscriptions::add(&store.db, a.id, "Lists.r&AOk-sum&AOk-").await.unwrap();
        subscriptions::add(&store.db, a.id, "Archive.2024").await.unwrap();
        subscriptions::add(&store.db, a.id, "Archive.2024").await.unwrap();
        subscriptions::add(&store.db, b.id, "Other").await.unwrap();
        assert_eq!(
            subscriptions::list(&store.db, a.id).await.unwrap(),
            ["Archive.2024", "Lists.r&AOk-sum&AOk-"],
            "{e}"
        );
        assert!(subscriptions::add(&store.db, a.id, "").await.is_err(), "{e}");

        assert!(subscriptions::remove(&store.db, a.id, "Archive.2024").await.unwrap(), "{e}");
        assert!(!subscriptions::remove(&store.db, a.id, "Archive.2024").await.unwrap(), "{e}");
        assert_eq!(subscriptions::list(&store.db, a.id).await.unwrap(), ["Lists.r&AOk-sum&AOk-"], "{e}");

        // They go with their account.
        store.delete_account(&a).await.unwrap();
        assert!(subscriptions::list(&store.db, a.id).await.unwrap().is_empty(), "{e}");
        assert_eq!(subscriptions::list(&store.db, b.id).await.unwrap(), ["Other"], "{e}");
    }
}
