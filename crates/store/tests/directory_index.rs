//! The in-memory directory index on every engine: changes made through this process show at
//! once, changes made by another process (simulated by statements the SQL layer does not
//! recognise as directory writes) within `REFRESH`, and logons never trust a stale entry.

use std::time::{Duration, Instant};

use altimail_core::password::PasswordScheme;
use altimail_store::directory_index::{DirectoryIndex, REFRESH};
use altimail_store::repo::{accounts, aliases, domain_aliases, domains, lists};
use altimail_store::{Db, LogonRefused, Store};
use altimail_testkit::backends;

/// Runs `sql` as another process would: the leading comment hides it from the SQL layer's
/// notice of directory writes, so only the index's fingerprint check can find the change.
async fn external(db: &Db, sql: &str, args: &[altimail_store::Value]) {
    db.execute(&format!("/* another process */ {sql}"), args).await.unwrap();
}

/// Polls `seen` until it holds, failing after `REFRESH` plus a second of slack.
async fn within_refresh(what: &str, mut seen: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !seen().await {
        assert!(start.elapsed() < REFRESH + Duration::from_secs(1), "{what}: not seen after {:?}", start.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn index_follows_changes_of_this_process_at_once() {
    for scratch in backends("dirindex_local").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let index = DirectoryIndex::of(db);
        assert!(index.snapshot(db).await.unwrap().domain("example.com").is_none(), "{e}");

        let d = domains::create(db, &domains::Domain::new("Example.com")).await.unwrap();
        let a = accounts::create(db, &accounts::Account::new(d.id, "User@Example.com")).await.unwrap();
        domain_aliases::create(db, d.id, "alias.test").await.unwrap();
        let snap = index.snapshot(db).await.unwrap();
        assert_eq!(snap.domain("EXAMPLE.COM").map(|d| d.id), Some(d.id), "{e}");
        assert_eq!(snap.domain_of_alias("Alias.Test").map(|d| d.id), Some(d.id), "{e}");
        assert_eq!(snap.account("user@example.com").map(|k| (k.id, k.active)), Some((a.id, true)), "{e}");
        assert!(snap.account("other@example.com").is_none(), "{e}");

        let mut inactive = a.clone();
        inactive.active = false;
        accounts::update(db, &inactive).await.unwrap();
        assert_eq!(index.snapshot(db).await.unwrap().account("user@example.com").map(|k| k.active), Some(false), "{e}");

        accounts::delete(db, a.id).await.unwrap();
        assert!(index.snapshot(db).await.unwrap().account("user@example.com").is_none(), "{e}: deleted account");
        domains::delete(db, d.id).await.unwrap();
        let snap = index.snapshot(db).await.unwrap();
        assert!(snap.domain("example.com").is_none(), "{e}: deleted domain");
        assert!(snap.domain_of_alias("alias.test").is_none(), "{e}: its alias");

        // Clones of the Db share one index; another pool has its own.
        assert!(std::sync::Arc::ptr_eq(&index, &DirectoryIndex::of(&db.clone())), "{e}");
        store.db.close().await;
        scratch.cleanup().await;
    }
}

#[tokio::test]
async fn index_sees_changes_of_another_process_within_refresh() {
    for scratch in backends("dirindex_external").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let d = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
        let a = accounts::create(db, &accounts::Account::new(d.id, "a@example.com")).await.unwrap();
        let b = accounts::create(db, &accounts::Account::new(d.id, "b@example.com")).await.unwrap();
        let index = DirectoryIndex::of(db);
        assert!(index.snapshot(db).await.unwrap().account("a@example.com").is_some(), "{e}");

        external(db, "DELETE FROM hm_accounts WHERE accountid = ?", &[a.id.into()]).await;
        let took =
            within_refresh(e, async || index.snapshot(db).await.unwrap().account("a@example.com").is_none()).await;
        eprintln!("{e}: removed account gone from the index after {took:?}");

        external(db, "UPDATE hm_accounts SET accountactive = 0 WHERE accountid = ?", &[b.id.into()]).await;
        within_refresh(e, async || {
            index.snapshot(db).await.unwrap().account("b@example.com").is_some_and(|k| !k.active)
        })
        .await;

        external(db, "UPDATE hm_domains SET domainactive = 0 WHERE domainid = ?", &[d.id.into()]).await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().domain("example.com").is_some_and(|d| !d.active))
            .await;

        external(
            db,
            "INSERT INTO hm_domain_aliases (dadomainid, daalias) VALUES (?, ?)",
            &[d.id.into(), "other.test".into()],
        )
        .await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().domain_of_alias("other.test").is_some()).await;

        external(db, "DELETE FROM hm_domain_aliases WHERE dadomainid = ?", &[d.id.into()]).await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().domain_of_alias("other.test").is_none()).await;
        store.db.close().await;
        scratch.cleanup().await;
    }
}

#[tokio::test]
async fn index_follows_aliases_and_lists_of_this_process_at_once() {
    for scratch in backends("dirindex_groups_local").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let index = DirectoryIndex::of(db);
        let d = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
        assert!(index.snapshot(db).await.unwrap().alias("info@example.com").is_none(), "{e}");

        let alias = aliases::Alias {
            id: 0,
            domain_id: d.id,
            name: "Info@Example.com".into(),
            value: "x@example.com".into(),
            active: true,
        };
        let mut alias = aliases::create(db, &alias).await.unwrap();
        let list = lists::create(db, &lists::List::new(d.id, "Team@Example.com")).await.unwrap();
        lists::add_member(db, list.id, "b@example.com").await.unwrap();
        lists::add_member(db, list.id, "a@example.com").await.unwrap();
        let snap = index.snapshot(db).await.unwrap();
        assert_eq!(
            snap.alias("info@EXAMPLE.com").map(|a| (a.id, a.value.as_str(), a.active)),
            Some((alias.id, "x@example.com", true)),
            "{e}"
        );
        assert_eq!(snap.list("team@example.com").map(|l| (l.id, l.enabled)), Some((list.id, true)), "{e}");
        assert_eq!(snap.members(list.id), ["b@example.com", "a@example.com"], "{e}: members in the order added");
        assert!(snap.list("nobody@example.com").is_none() && snap.alias("nobody@example.com").is_none(), "{e}");

        alias.active = false;
        alias.value = "y@example.com".into();
        aliases::update(db, &alias).await.unwrap();
        let snap = index.snapshot(db).await.unwrap();
        assert_eq!(
            snap.alias("info@example.com").map(|a| (a.value.as_str(), a.active)),
            Some(("y@example.com", false)),
            "{e}"
        );

        lists::remove_member(db, list.id, "b@example.com").await.unwrap();
        lists::add_member(db, list.id, "c@example.com").await.unwrap();
        assert_eq!(index.snapshot(db).await.unwrap().members(list.id), ["a@example.com", "c@example.com"], "{e}");
        let mut disabled = list.clone();
        disabled.enabled = false;
        lists::update(db, &disabled).await.unwrap();
        assert_eq!(index.snapshot(db).await.unwrap().list("team@example.com").map(|l| l.enabled), Some(false), "{e}");

        aliases::delete(db, alias.id).await.unwrap();
        lists::delete(db, list.id).await.unwrap();
        let snap = index.snapshot(db).await.unwrap();
        assert!(snap.alias("info@example.com").is_none(), "{e}: deleted alias");
        assert!(snap.list("team@example.com").is_none() && snap.members(list.id).is_empty(), "{e}: deleted list");
        store.db.close().await;
        scratch.cleanup().await;
    }
}

#[tokio::test]
async fn index_sees_aliases_and_lists_of_another_process_within_refresh() {
    for scratch in backends("dirindex_groups_external").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let d = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
        let alias = aliases::Alias {
            id: 0,
            domain_id: d.id,
            name: "info@example.com".into(),
            value: "x@example.com".into(),
            active: true,
        };
        let alias = aliases::create(db, &alias).await.unwrap();
        let list = lists::create(db, &lists::List::new(d.id, "team@example.com")).await.unwrap();
        lists::add_member(db, list.id, "a@example.com").await.unwrap();
        let index = DirectoryIndex::of(db);
        assert!(index.snapshot(db).await.unwrap().alias("info@example.com").is_some(), "{e}");

        external(db, "UPDATE hm_aliases SET aliasactive = 0 WHERE aliasid = ?", &[alias.id.into()]).await;
        within_refresh(e, async || {
            index.snapshot(db).await.unwrap().alias("info@example.com").is_some_and(|a| !a.active)
        })
        .await;
        external(db, "DELETE FROM hm_aliases WHERE aliasid = ?", &[alias.id.into()]).await;
        let took =
            within_refresh(e, async || index.snapshot(db).await.unwrap().alias("info@example.com").is_none()).await;
        eprintln!("{e}: removed alias gone from the index after {took:?}");
        external(
            db,
            "INSERT INTO hm_aliases (aliasdomainid, aliasname, aliasvalue, aliasactive) VALUES (?, ?, ?, 1)",
            &[d.id.into(), "new@example.com".into(), "a@example.com".into()],
        )
        .await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().alias("new@example.com").is_some()).await;

        external(
            db,
            "INSERT INTO hm_distributionlistsrecipients (distributionlistrecipientlistid, distributionlistrecipientaddress) \
             VALUES (?, ?)",
            &[list.id.into(), "b@example.com".into()],
        )
        .await;
        let took = within_refresh(e, async || index.snapshot(db).await.unwrap().members(list.id).len() == 2).await;
        eprintln!("{e}: added list member in the index after {took:?}");
        external(
            db,
            "DELETE FROM hm_distributionlistsrecipients WHERE distributionlistrecipientlistid = ? \
             AND distributionlistrecipientaddress = ?",
            &[list.id.into(), "a@example.com".into()],
        )
        .await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().members(list.id) == ["b@example.com"]).await;

        external(
            db,
            "UPDATE hm_distributionlists SET distributionlistenabled = 0 WHERE distributionlistid = ?",
            &[list.id.into()],
        )
        .await;
        within_refresh(e, async || {
            index.snapshot(db).await.unwrap().list("team@example.com").is_some_and(|l| !l.enabled)
        })
        .await;
        external(db, "DELETE FROM hm_distributionlists WHERE distributionlistid = ?", &[list.id.into()]).await;
        within_refresh(e, async || index.snapshot(db).await.unwrap().list("team@example.com").is_none()).await;
        store.db.close().await;
        scratch.cleanup().await;
    }
}

#[tokio::test]
async fn logons_read_the_account_itself_not_the_index() {
    for scratch in backends("dirindex_logon").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&scratch.config, data.path(), true).await.unwrap();
        let (db, e) = (&store.db, scratch.engine);
        let d = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
        let mut a = accounts::Account::new(d.id, "a@example.com");
        a.set_password(PasswordScheme::Sha256, "secret");
        let a = accounts::create(db, &a).await.unwrap();
        assert!(store.authenticate("a@example.com", "secret").await.unwrap().is_ok(), "{e}");

        // Removed by another process: refused at once, though the index has not looked yet.
        external(db, "DELETE FROM hm_accounts WHERE accountid = ?", &[a.id.into()]).await;
        assert!(DirectoryIndex::of(db).snapshot(db).await.unwrap().account("a@example.com").is_some(), "{e}");
        assert_eq!(
            store.authenticate("a@example.com", "secret").await.unwrap(),
            Err(LogonRefused::NoSuchAccount),
            "{e}"
        );

        // Added by another process (a copy of a new account's row): can log on at once.
        let mut c = accounts::Account::new(d.id, "c@example.com");
        c.set_password(PasswordScheme::Sha256, "other");
        let c = accounts::create(db, &c).await.unwrap();
        external(
            db,
            "UPDATE hm_accounts SET accountaddress = ? WHERE accountid = ?",
            &["z@example.com".into(), c.id.into()],
        )
        .await;
        let z = store.authenticate("z@example.com", "other").await.unwrap();
        assert_eq!(z.map(|a| a.id), Ok(c.id), "{e}: renamed account under its new name");
        assert_eq!(
            store.authenticate("c@example.com", "other").await.unwrap(),
            Err(LogonRefused::NoSuchAccount),
            "{e}"
        );
        store.db.close().await;
        scratch.cleanup().await;
    }
}
