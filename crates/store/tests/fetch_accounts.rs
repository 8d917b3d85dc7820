//! `hm_fetchaccounts` / `hm_fetchaccounts_uids` on every engine: round trip with the Blowfish
//! password, scheduling, locking and UID rows.

use chrono::Duration;

use altimail_core::blowfish::hm_encrypt;
use altimail_core::time::now_local;
use altimail_store::Store;
use altimail_store::repo::fetch_accounts::{self, FetchAccount, Security};
use altimail_store::repo::{accounts, domains};
use altimail_testkit::backends;

#[tokio::test]
async fn fetch_accounts_round_trip_lock_and_uids() {
    for db in backends("fetch_accounts").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let (s, e) = (&store.db, db.engine);
        let d = domains::create(s, &domains::Domain::new("example.com")).await.unwrap();
        let a = accounts::create(s, &accounts::Account::new(d.id, "john@example.com")).await.unwrap();

        let mut fa = FetchAccount::new(a.id, "Remote box", "pop.remote.test", "jr", "s3cr\u{e9}t");
        fa.security = Security::StartTlsRequired;
        fa.days_to_keep = 7;
        let fa = fetch_accounts::create(s, &fa).await.unwrap();
        assert!(fa.id > 0, "{e}");
        let raw = s.fetch_optional("SELECT fapassword FROM hm_fetchaccounts WHERE faid = ?", &[fa.id.into()]).await;
        let raw = raw.unwrap().unwrap().text("fapassword").unwrap();
        assert_eq!(raw, hm_encrypt("s3cr\u{e9}t"), "{e}: password stored as Blowfish hex");
        let back = fetch_accounts::require(s, fa.id).await.unwrap();
        assert_eq!(back, fa, "{e}");
        assert_eq!(back.mime_recipient_headers, "To,CC,X-RCPT-TO,X-Envelope-To", "{e}");
        assert_eq!(fetch_accounts::list(s, Some(a.id)).await.unwrap().len(), 1, "{e}");
        assert!(fetch_accounts::list(s, Some(a.id + 100)).await.unwrap().is_empty(), "{e}");
        assert!(fetch_accounts::create(s, &FetchAccount::new(a.id + 100, "x", "h", "u", "p")).await.is_err(), "{e}");

        // Due, locked once, finished with a new time.
        let now = now_local();
        assert_eq!(fetch_accounts::due(s, now).await.unwrap().len(), 1, "{e}");
        assert!(fetch_accounts::try_lock(s, fa.id).await.unwrap(), "{e}");
        assert!(!fetch_accounts::try_lock(s, fa.id).await.unwrap(), "{e}: second lock");
        assert!(fetch_accounts::due(s, now).await.unwrap().is_empty(), "{e}: locked is not due");
        let next = now + Duration::minutes(30);
        fetch_accounts::finish(s, fa.id, next).await.unwrap();
        assert!(fetch_accounts::due(s, now).await.unwrap().is_empty(), "{e}: not yet due");
        assert_eq!(fetch_accounts::due(s, next).await.unwrap().len(), 1, "{e}");
        assert!(fetch_accounts::try_lock(s, fa.id).await.unwrap(), "{e}");
        assert_eq!(fetch_accounts::unlock_all(s).await.unwrap(), 1, "{e}");
        let mut inactive = fetch_accounts::require(s, fa.id).await.unwrap();
        assert!(!inactive.locked, "{e}");
        inactive.active = false;
        fetch_accounts::update(s, &inactive).await.unwrap();
        assert!(fetch_accounts::due(s, next).await.unwrap().is_empty(), "{e}: inactive");

        // UID rows.
        let u1 = fetch_accounts::add_uid(s, fa.id, "uid-1", now).await.unwrap();
        fetch_accounts::add_uid(s, fa.id, "uid-2", now).await.unwrap();
        let got: Vec<String> = fetch_accounts::uids(s, fa.id).await.unwrap().into_iter().map(|u| u.value).collect();
        assert_eq!(got, ["uid-1", "uid-2"], "{e}");
        fetch_accounts::delete_uid(s, u1.id).await.unwrap();
        assert_eq!(fetch_accounts::uids(s, fa.id).await.unwrap().len(), 1, "{e}");
        fetch_accounts::delete(s, fa.id).await.unwrap();
        assert!(fetch_accounts::get(s, fa.id).await.unwrap().is_none(), "{e}");
        assert!(fetch_accounts::uids(s, fa.id).await.unwrap().is_empty(), "{e}: uids deleted too");

        store.db.close().await;
        db.cleanup().await;
    }
}
