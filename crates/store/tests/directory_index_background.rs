//! A busy server never waits for the directory index's fingerprint check. In a test binary of
//! its own: every write to a directory table anywhere in the process makes the next lookup
//! check before answering, so tests running alongside would disturb what this one observes.

use std::time::{Duration, Instant};

use altimail_store::directory_index::{DirectoryIndex, REFRESH};
use altimail_store::repo::{accounts, domains};
use altimail_store::{Db, Store};
use altimail_testkit::backends;

/// Runs `sql` as another process would (hidden from the SQL layer's notice of directory writes).
async fn external(db: &Db, sql: &str, args: &[altimail_store::Value]) {
    db.execute(&format!("/* another process */ {sql}"), args).await.unwrap();
}

/// A busy server never waits for the fingerprint: once the snapshot is older than `REFRESH`
/// (but younger than twice that) a lookup is answered from it at once while the check runs in
/// the background, and the next lookups see its result.
#[tokio::test]
async fn due_checks_run_in_the_background() {
    for scratch in backends("dirindex_background").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let d = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
        let a = accounts::create(db, &accounts::Account::new(d.id, "a@example.com")).await.unwrap();
        let index = DirectoryIndex::of(db);
        let first = index.snapshot(db).await.unwrap();
        external(db, "DELETE FROM hm_accounts WHERE accountid = ?", &[a.id.into()]).await;
        tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
        // Due: answered with the snapshot it had, the check started behind it.
        let due = index.snapshot(db).await.unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &due), "{e}: a due check made the lookup wait");
        let start = Instant::now();
        while index.snapshot(db).await.unwrap().account("a@example.com").is_some() {
            assert!(start.elapsed() < REFRESH, "{e}: the background check's result not seen");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        store.db.close().await;
        scratch.cleanup().await;
    }
}
