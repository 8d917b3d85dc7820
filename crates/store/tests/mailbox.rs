//! IMAP storage (mailbox views, mod-sequences, keywords, vanished UIDs, folders, special-use,
//! ACLs, change notification) against every engine: SQLite always, PostgreSQL and MySQL/MariaDB
//! when their servers are reachable (required in CI; see altimail-testkit).

use std::collections::HashSet;
use std::time::Duration;

use altimail_core::codes::flags;
use altimail_core::time::now_local;
use altimail_store::db::never;
use altimail_store::repo::acl::{self, Rights};
use altimail_store::repo::mailbox::{self, FlagUpdate};
use altimail_store::repo::{accounts, domains, folders, groups, special_use};
use altimail_store::{Location, Store, StoreError};
use altimail_testkit::{ScratchDb, backends};
use chrono::NaiveDateTime;

async fn open(db: &ScratchDb, data: &std::path::Path) -> Store {
    Store::open(&db.config, data, true).await.unwrap_or_else(|e| panic!("{}: open: {e}", db.engine))
}

async fn account(store: &Store, address: &str) -> accounts::Account {
    let domain = address.split('@').nth(1).unwrap();
    let d = match domains::find(&store.db, domain).await.unwrap() {
        Some(d) => d,
        None => domains::create(&store.db, &domains::Domain::new(domain)).await.unwrap(),
    };
    accounts::create(&store.db, &accounts::Account::new(d.id, address)).await.unwrap()
}

fn date() -> NaiveDateTime {
    NaiveDateTime::parse_from_str("2024-05-06 07:08:09", "%Y-%m-%d %H:%M:%S").unwrap()
}

fn kw(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

async fn append(store: &Store, folder: &folders::Folder, location: Location<'_>, body: &str) -> u32 {
    mailbox::append(store, folder, location, folder.account_id, body.as_bytes(), 0, &[], date()).await.unwrap()
}

#[tokio::test]
async fn append_copy_move_expunge_and_vanished() {
    for db in backends("mailbox_ops").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let e = db.engine;
        let ann = account(&store, "ann@mail.test").await;
        let bob = account(&store, "bob@mail.test").await;
        let at_ann = Location::Account(&ann.address);
        let at_bob = Location::Account(&bob.address);
        let inbox = folders::ensure_inbox(&store.db, ann.id).await.unwrap();
        let work = folders::create(&store.db, ann.id, folders::TOP_LEVEL, "Work", now_local()).await.unwrap();
        let bob_inbox = folders::ensure_inbox(&store.db, bob.id).await.unwrap();

        let st = mailbox::status(&store.db, &inbox).await.unwrap();
        assert_eq!((st.messages, st.uid_next, st.highest_modseq), (0, 1, 1), "{e}");
        assert_eq!(st.uid_validity, inbox.uid_validity(), "{e}");

        let mut changes = store.changes.subscribe(inbox.id);
        let uid1 = mailbox::append(
            &store,
            &inbox,
            at_ann,
            ann.id,
            b"Subject: one\r\n\r\nbody\r\n",
            flags::SEEN | flags::VIRUS_SCAN,
            &kw(&["$Work", "$work", "Later"]),
            date(),
        )
        .await
        .unwrap();
        tokio::time::timeout(Duration::from_secs(5), changes.changed()).await.unwrap().unwrap();
        let uid2 = append(&store, &inbox, at_ann, "Subject: two\r\n\r\n").await;
        let uid3 = append(&store, &inbox, at_ann, "Subject: three\r\n\r\n").await;
        assert_eq!((uid1, uid2, uid3), (1, 2, 3), "{e}");

        let msgs = mailbox::messages(&store.db, inbox.id).await.unwrap();
        assert_eq!(msgs.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![1, 2, 3], "{e}");
        let m1 = &msgs[0];
        assert_eq!(m1.flags, flags::SEEN | flags::RECENT, "{e}: server bits are the server's");
        assert_eq!(m1.keywords, kw(&["$Work", "Later"]), "{e}");
        assert_eq!(m1.internal_date, date(), "{e}");
        assert_eq!(m1.size, 22, "{e}");
        let path = store.files.resolve(at_ann, &m1.file_name);
        assert_eq!(std::fs::read(&path).unwrap(), b"Subject: one\r\n\r\nbody\r\n", "{e}");
        assert!(msgs[0].modseq < msgs[1].modseq && msgs[1].modseq < msgs[2].modseq, "{e}: {msgs:?}");

        let st = mailbox::status(&store.db, &inbox).await.unwrap();
        assert_eq!((st.messages, st.recent, st.unseen, st.deleted, st.uid_next), (3, 3, 2, 0, 4), "{e}");
        assert_eq!(st.size, msgs.iter().map(|m| m.size).sum::<u64>(), "{e}");
        assert_eq!(st.highest_modseq, msgs[2].modseq, "{e}");
        assert_eq!(mailbox::keywords_in_use(&store.db, inbox.id).await.unwrap(), kw(&["$Work", "Later"]), "{e}");

        // Flags: one new mod-sequence for the whole update; Recent survives, keywords replaced.
        let before = st.highest_modseq;
        let modseq = mailbox::update_flags(
            &store,
            inbox.id,
            &[
                FlagUpdate { id: msgs[0].id, flags: flags::DELETED, keywords: kw(&["later"]) },
                FlagUpdate { id: msgs[1].id, flags: flags::FLAGGED | flags::SEEN, keywords: vec![] },
                FlagUpdate { id: 999_999, flags: 0, keywords: vec![] },
            ],
        )
        .await
        .unwrap();
        assert_eq!(modseq, before + 1, "{e}");
        let msgs = mailbox::messages(&store.db, inbox.id).await.unwrap();
        assert_eq!(msgs[0].flags, flags::DELETED | flags::RECENT, "{e}");
        assert_eq!(msgs[0].keywords, kw(&["later"]), "{e}");
        assert_eq!(msgs[1].flags, flags::FLAGGED | flags::SEEN | flags::RECENT, "{e}");
        assert!(msgs[1].keywords.is_empty(), "{e}");
        assert_eq!((msgs[0].modseq, msgs[1].modseq), (modseq, modseq), "{e}");
        assert!(msgs[2].modseq < modseq, "{e}");
        assert_eq!(mailbox::status(&store.db, &inbox).await.unwrap().highest_modseq, modseq, "{e}");
        assert!(
            matches!(
                mailbox::update_flags(
                    &store,
                    inbox.id,
                    &[FlagUpdate { id: msgs[0].id, flags: 0, keywords: kw(&["a b"]) }]
                )
                .await,
                Err(StoreError::Invalid(_))
            ),
            "{e}"
        );

        // Copy within the account: new file, flags plus Recent, keywords kept, increasing UIDs.
        let copied = mailbox::copy(&store, at_ann, &[msgs[2].id, msgs[0].id], &work, at_ann).await.unwrap();
        assert_eq!(copied, vec![1, 2], "{e}");
        let in_work = mailbox::messages(&store.db, work.id).await.unwrap();
        assert_eq!(in_work[1].keywords, kw(&["later"]), "{e}");
        assert_eq!(in_work[1].flags, flags::DELETED | flags::RECENT, "{e}");
        assert_eq!(in_work[1].internal_date, date(), "{e}");
        assert_ne!(in_work[1].file_name, msgs[0].file_name, "{e}");
        assert_eq!(
            std::fs::read(store.files.resolve(at_ann, &in_work[1].file_name)).unwrap(),
            b"Subject: one\r\n\r\nbody\r\n",
            "{e}"
        );
        assert!(matches!(mailbox::copy(&store, at_ann, &[424_242], &work, at_ann).await, Err(StoreError::NotFound(_))));

        // Expunge: rows, keywords and files go; UIDs are recorded as vanished.
        let before = mailbox::status(&store.db, &inbox).await.unwrap().highest_modseq;
        let expunged = mailbox::expunge(&store, &inbox, at_ann, &[msgs[0].id]).await.unwrap();
        assert!(expunged > before, "{e}");
        assert!(!path.exists(), "{e}: file removed");
        assert_eq!(mailbox::vanished_since(&store.db, inbox.id, before).await.unwrap(), vec![1], "{e}");
        assert!(mailbox::vanished_since(&store.db, inbox.id, expunged).await.unwrap().is_empty(), "{e}");
        let left: Vec<u32> = mailbox::messages(&store.db, inbox.id).await.unwrap().iter().map(|m| m.uid).collect();
        assert_eq!(left, vec![2, 3], "{e}");
        // The copy still has its content (a hard link or a copy of its own).
        assert!(store.files.resolve(at_ann, &in_work[1].file_name).exists(), "{e}");
        // A file already gone is fine.
        std::fs::remove_file(store.files.resolve(at_ann, &msgs[1].file_name)).unwrap();
        mailbox::expunge(&store, &inbox, at_ann, &[msgs[1].id]).await.unwrap();

        // UIDs are never reused.
        assert_eq!(append(&store, &inbox, at_ann, "Subject: four\r\n\r\n").await, 4, "{e}");

        // Move within the account: the row is re-pointed, the file stays.
        let before = mailbox::status(&store.db, &inbox).await.unwrap().highest_modseq;
        let moved = mailbox::move_messages(&store, &inbox, at_ann, &[msgs[2].id], &work, at_ann).await.unwrap();
        assert_eq!(moved, vec![3], "{e}");
        let in_work = mailbox::messages(&store.db, work.id).await.unwrap();
        let m = in_work.iter().find(|m| m.id == msgs[2].id).unwrap();
        assert_eq!((m.uid, m.file_name.as_str()), (3, msgs[2].file_name.as_str()), "{e}");
        assert!(m.modseq > in_work[0].modseq, "{e}");
        assert_eq!(mailbox::vanished_since(&store.db, inbox.id, before).await.unwrap(), vec![3], "{e}");
        assert!(
            matches!(
                mailbox::move_messages(&store, &inbox, at_ann, &[msgs[2].id], &work, at_ann).await,
                Err(StoreError::NotFound(_))
            ),
            "{e}: no longer in the source"
        );

        // Move to another account: copy into its mailbox directory, then expunge.
        let bob_changes = store.changes.subscribe(bob_inbox.id);
        let moved = mailbox::move_messages(&store, &work, at_ann, &[msgs[2].id], &bob_inbox, at_bob).await.unwrap();
        assert_eq!(moved, vec![1], "{e}");
        assert!(bob_changes.has_changed().unwrap(), "{e}");
        let bobs = mailbox::messages(&store.db, bob_inbox.id).await.unwrap();
        assert_eq!(std::fs::read(store.files.resolve(at_bob, &bobs[0].file_name)).unwrap(), b"Subject: three\r\n\r\n");
        assert!(!store.files.resolve(at_ann, &msgs[2].file_name).exists(), "{e}");
        assert_eq!(
            mailbox::messages(&store.db, work.id).await.unwrap().iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![1, 2],
            "{e}"
        );

        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_claim_recent_and_appends() {
    for db in backends("mailbox_concurrent").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let e = db.engine;
        let ann = account(&store, "ann@race.test").await;
        let inbox = folders::ensure_inbox(&store.db, ann.id).await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..4 {
            let (store, inbox, address) = (store.clone(), inbox.clone(), ann.address.clone());
            tasks.push(tokio::spawn(async move {
                let mut uids = Vec::new();
                for i in 0..5 {
                    let body = format!("Subject: {t}-{i}\r\n\r\n");
                    uids.push(append(&store, &inbox, Location::Account(&address), &body).await);
                }
                uids
            }));
        }
        let mut all = HashSet::new();
        for t in tasks {
            for uid in t.await.unwrap() {
                assert!(all.insert(uid), "{e}: UID {uid} given twice");
            }
        }
        assert_eq!(all, (1..=20).collect(), "{e}");
        let modseqs: HashSet<u64> =
            mailbox::messages(&store.db, inbox.id).await.unwrap().iter().map(|m| m.modseq).collect();
        assert_eq!(modseqs.len(), 20, "{e}: every append has its own mod-sequence");

        let mut claims = Vec::new();
        for _ in 0..6 {
            let (db, id) = (store.db.clone(), inbox.id);
            claims.push(tokio::spawn(async move { mailbox::claim_recent(&db, id).await.unwrap() }));
        }
        let mut claimed = Vec::new();
        for c in claims {
            claimed.extend(c.await.unwrap());
        }
        claimed.sort_unstable();
        assert_eq!(claimed, (1..=20).collect::<Vec<u32>>(), "{e}: each UID claimed exactly once");
        assert_eq!(mailbox::status(&store.db, &inbox).await.unwrap().recent, 0, "{e}");
        assert!(mailbox::claim_recent(&store.db, inbox.id).await.unwrap().is_empty(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn folders_rename_subscribe_delete_and_special_use() {
    for db in backends("mailbox_folders").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let ann = account(&store, "ann@folders.test").await;
        let at_ann = Location::Account(&ann.address);
        let a = folders::create(s, ann.id, folders::TOP_LEVEL, "A", now_local()).await.unwrap();
        let b = folders::create(s, ann.id, folders::TOP_LEVEL, "B", now_local()).await.unwrap();
        let child = folders::create(s, ann.id, a.id, "Child", now_local()).await.unwrap();

        assert!(matches!(folders::rename(s, a.id, folders::TOP_LEVEL, "B").await, Err(StoreError::Conflict(_))), "{e}");
        assert!(matches!(folders::rename(s, a.id, child.id, "X").await, Err(StoreError::Invalid(_))), "{e}");
        folders::rename(s, child.id, b.id, "Moved").await.unwrap();
        let moved = folders::get(s, child.id).await.unwrap().unwrap();
        assert_eq!((moved.parent_id, moved.name.as_str()), (b.id, "Moved"), "{e}");
        folders::rename(s, a.id, folders::TOP_LEVEL, "a").await.unwrap();

        folders::set_subscribed(s, b.id, false).await.unwrap();
        assert!(!folders::get(s, b.id).await.unwrap().unwrap().subscribed, "{e}");
        assert!(matches!(folders::set_subscribed(s, 987_654, true).await, Err(StoreError::NotFound(_))), "{e}");

        special_use::set(s, b.id, &kw(&["\\Sent", "\\sent", "\\Archive"])).await.unwrap();
        special_use::set(s, a.id, &kw(&["\\Trash"])).await.unwrap();
        let mut su = special_use::list(s, ann.id).await.unwrap();
        su.sort();
        let mut want = vec![(a.id, "\\Trash".to_owned()), (b.id, "\\Archive".to_owned()), (b.id, "\\Sent".to_owned())];
        want.sort();
        assert_eq!(su, want, "{e}");
        assert!(matches!(special_use::set(s, a.id, &kw(&["Trash"])).await, Err(StoreError::Invalid(_))), "{e}");
        special_use::set(s, a.id, &[]).await.unwrap();
        assert_eq!(special_use::list(s, ann.id).await.unwrap().len(), 2, "{e}");

        let uid = mailbox::append(&store, &b, at_ann, ann.id, b"x", 0, &kw(&["k"]), date()).await.unwrap();
        let file = mailbox::messages(s, b.id).await.unwrap()[0].file_name.clone();
        let path = store.files.resolve(at_ann, &file);
        assert!(path.exists() && uid == 1, "{e}");
        folders::delete(&store, &b, at_ann).await.unwrap();
        assert!(folders::get(s, b.id).await.unwrap().is_none(), "{e}");
        assert!(!path.exists(), "{e}");
        assert!(special_use::list(s, ann.id).await.unwrap().is_empty(), "{e}");
        let keywords = s.fetch_all("SELECT keyword FROM altimail_keywords", &[]).await.unwrap();
        assert!(keywords.is_empty(), "{e}");
        assert!(folders::get(s, child.id).await.unwrap().is_some(), "{e}: children are the caller's business");

        // Deleting the account removes its IMAP side rows too.
        let inbox = folders::ensure_inbox(s, ann.id).await.unwrap();
        mailbox::append(&store, &inbox, at_ann, ann.id, b"y", 0, &kw(&["k"]), date()).await.unwrap();
        special_use::set(s, inbox.id, &kw(&["\\Junk"])).await.unwrap();
        store.delete_account(&ann).await.unwrap();
        assert!(s.fetch_all("SELECT keyword FROM altimail_keywords", &[]).await.unwrap().is_empty(), "{e}");
        assert!(s.fetch_all("SELECT folderid FROM altimail_special_use", &[]).await.unwrap().is_empty(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

async fn group(store: &Store, name: &str, members: &[i64]) -> i64 {
    groups::create(&store.db, name, members).await.unwrap()
}

#[tokio::test]
async fn acl_inheritance_user_over_group_over_anyone() {
    for db in backends("mailbox_acl").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let ann = account(&store, "ann@acl.test").await;
        let bob = account(&store, "bob@acl.test").await;
        let cat = account(&store, "cat@acl.test").await;
        let dan = account(&store, "dan@acl.test").await;
        group(&store, "Staff", &[bob.id, cat.id]).await;
        group(&store, "Admins", &[cat.id]).await;

        let root = folders::create(s, 0, folders::TOP_LEVEL, "Shared", now_local()).await.unwrap();
        let mid = folders::create(s, 0, root.id, "Team", now_local()).await.unwrap();
        let leaf = folders::create(s, 0, mid.id, "Leaf", now_local()).await.unwrap();
        let tree = folders::list(s, 0).await.unwrap();
        let lr = Rights::from_letters("lr").unwrap();
        let lrs = Rights::from_letters("lrs").unwrap();

        assert_eq!(acl::rights(s, ann.id, &leaf, &tree).await.unwrap(), Rights(0), "{e}: no rows anywhere");
        acl::set(s, root.id, "anyone", lr).await.unwrap();
        acl::set(s, root.id, "staff", lrs).await.unwrap();
        acl::set(s, root.id, "Admins", Rights::from_letters("lrxa").unwrap()).await.unwrap();
        acl::set(s, root.id, "ANN@acl.test", Rights::from_letters("l").unwrap()).await.unwrap();
        assert!(matches!(acl::set(s, root.id, "nobody@acl.test", lr).await, Err(StoreError::NotFound(_))), "{e}");

        // Inherited from the root: user beats groups, groups add up, anyone for the rest.
        assert_eq!(acl::rights(s, ann.id, &leaf, &tree).await.unwrap(), Rights::LOOKUP, "{e}");
        assert_eq!(acl::rights(s, bob.id, &leaf, &tree).await.unwrap(), lrs, "{e}");
        assert_eq!(acl::rights(s, cat.id, &leaf, &tree).await.unwrap().letters(), "lrsxa", "{e}");
        assert_eq!(acl::rights(s, dan.id, &leaf, &tree).await.unwrap(), lr, "{e}");

        // The nearest folder with rows decides, even for those it does not name.
        acl::set(s, mid.id, "bob@acl.test", Rights::ALL).await.unwrap();
        assert_eq!(acl::rights(s, bob.id, &leaf, &tree).await.unwrap(), Rights::ALL, "{e}");
        assert_eq!(acl::rights(s, dan.id, &leaf, &tree).await.unwrap(), Rights(0), "{e}");
        assert_eq!(acl::rights(s, dan.id, &root, &tree).await.unwrap(), lr, "{e}");

        // Replacing and deleting grants.
        acl::set(s, mid.id, "bob@acl.test", lr).await.unwrap();
        let entries = acl::list(s, mid.id).await.unwrap();
        assert_eq!(entries, vec![acl::AclEntry { identifier: "bob@acl.test".into(), rights: lr }], "{e}");
        let listed: Vec<(String, String)> =
            acl::list(s, root.id).await.unwrap().into_iter().map(|a| (a.identifier, a.rights.letters())).collect();
        assert_eq!(
            listed,
            vec![
                ("ann@acl.test".to_owned(), "l".to_owned()),
                ("Staff".to_owned(), "lrs".to_owned()),
                ("Admins".to_owned(), "lrxa".to_owned()),
                ("anyone".to_owned(), "lr".to_owned()),
            ],
            "{e}"
        );
        acl::delete(s, mid.id, "BOB@acl.test").await.unwrap();
        acl::delete(s, mid.id, "bob@acl.test").await.unwrap();
        assert_eq!(acl::rights(s, dan.id, &leaf, &tree).await.unwrap(), lr, "{e}: back to the root's rows");

        // Owners have every right on their own folders.
        let own = folders::ensure_inbox(s, dan.id).await.unwrap();
        assert_eq!(acl::rights(s, dan.id, &own, &[]).await.unwrap(), Rights::ALL, "{e}");
        assert_eq!(acl::rights(s, bob.id, &own, &[]).await.unwrap(), Rights(0), "{e}");

        // Public folders keep their files in #Public.
        let uid = append(&store, &leaf, Location::Public, "Subject: public\r\n\r\n").await;
        let m = &mailbox::messages(s, leaf.id).await.unwrap()[0];
        assert_eq!(uid, 1, "{e}");
        assert!(store.files.resolve(Location::Public, &m.file_name).starts_with(data.path().join("#Public")), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

/// A database at Altimail schema 2 (before mod-sequences and keywords), with messages written
/// by hMailServer (every column named, no mod-sequence), is upgraded through every later step
/// and keeps working.
#[tokio::test]
async fn schema_2_database_upgrades_to_the_current_schema() {
    for db in backends("mailbox_upgrade").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let (inbox_id, address) = {
            let fresh = open(&db, data.path()).await;
            let s = &fresh.db;
            for t in ["altimail_keywords", "altimail_vanished", "altimail_special_use", "altimail_subscriptions"] {
                s.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
            }
            s.execute("ALTER TABLE hm_messages DROP COLUMN messagemodseq", &[]).await.unwrap();
            s.execute("ALTER TABLE hm_imapfolders DROP COLUMN folderhighestmodseq", &[]).await.unwrap();
            s.execute("UPDATE altimail_schema SET version = 2", &[]).await.unwrap();
            s.execute("UPDATE hm_dbversion SET value = 5601", &[]).await.unwrap();
            let ann = account(&fresh, "ann@old.test").await;
            let inbox = folders::ensure_inbox(s, ann.id).await.unwrap();
            for uid in 1..=2 {
                let uid = i64::from(uid);
                folders::allocate_uid(s, inbox.id).await.unwrap();
                s.execute(
                    "INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, \
                     messagefrom, messagesize, messagecurnooftries, messagenexttrytime, messageflags, \
                     messagecreatetime, messagelocked, messageuid) VALUES (?, ?, ?, 2, '', 10, 0, ?, ?, ?, 0, ?)",
                    &[
                        ann.id.into(),
                        inbox.id.into(),
                        format!("{{OLD-{uid}}}.eml").into(),
                        never().into(),
                        (flags::SEEN | flags::RECENT).into(),
                        date().into(),
                        uid.into(),
                    ],
                )
                .await
                .unwrap();
            }
            s.close().await;
            (inbox.id, ann.address)
        };
        let store = Store::open(&db.config, data.path(), false).await.unwrap_or_else(|err| panic!("{e}: {err}"));
        let s = &store.db;
        let v = s.fetch_optional("SELECT version FROM altimail_schema", &[]).await.unwrap().unwrap();
        assert_eq!(v.int("version").unwrap(), altimail_store::schema::ALTIMAIL_SCHEMA_VERSION, "{e}");
        let hm = s.fetch_optional("SELECT value FROM hm_dbversion", &[]).await.unwrap().unwrap();
        assert_eq!(hm.int("value").unwrap(), 5601, "{e}: hMailServer's version is left alone");
        let inbox = folders::get(s, inbox_id).await.unwrap().unwrap();
        let msgs = mailbox::messages(s, inbox.id).await.unwrap();
        assert_eq!(msgs.iter().map(|m| (m.uid, m.modseq)).collect::<Vec<_>>(), vec![(1, 1), (2, 1)], "{e}");
        let st = mailbox::status(s, &inbox).await.unwrap();
        assert_eq!((st.messages, st.recent, st.unseen, st.uid_next, st.highest_modseq), (2, 2, 0, 3, 1), "{e}");
        let uid = append(&store, &inbox, Location::Account(&address), "Subject: new\r\n\r\n").await;
        assert_eq!(uid, 3, "{e}");
        let msgs = mailbox::messages(s, inbox.id).await.unwrap();
        assert_eq!(msgs[2].modseq, 2, "{e}: the first mod-sequence handed out follows the implicit 1");
        let m = mailbox::update_flags(&store, inbox.id, &[FlagUpdate { id: msgs[0].id, flags: 0, keywords: vec![] }])
            .await
            .unwrap();
        assert_eq!(m, 3, "{e}");
        assert_eq!(mailbox::claim_recent(s, inbox.id).await.unwrap(), vec![1, 2, 3], "{e}");
        // Expunging a row whose file never existed is fine.
        mailbox::expunge(&store, &inbox, Location::Account(&address), &[msgs[1].id]).await.unwrap();
        assert_eq!(mailbox::vanished_since(s, inbox.id, 3).await.unwrap(), vec![2], "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

/// `changed_since` returns exactly the rows whose modseq grew: new messages and changed flags.
#[tokio::test]
async fn changed_since_lists_new_and_changed_messages() {
    for db in backends("mailbox_changed").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let ann = account(&store, "ann@changed.test").await;
        let inbox = folders::ensure_inbox(&store.db, ann.id).await.unwrap();
        let loc = Location::Account(&ann.address);
        let first = append(&store, &inbox, loc, "Subject: 1\r\n\r\none\r\n").await;
        let second = append(&store, &inbox, loc, "Subject: 2\r\n\r\ntwo\r\n").await;
        let since = folders::highest_modseq(&store.db, inbox.id).await.unwrap();
        assert!(mailbox::changed_since(&store.db, &inbox, since).await.unwrap().is_empty(), "{e}");

        let rows = mailbox::messages(&store.db, inbox.id).await.unwrap();
        let id = rows.iter().find(|m| m.uid == first).unwrap().id;
        mailbox::update_flags(&store, inbox.id, &[FlagUpdate { id, flags: flags::FLAGGED, keywords: kw(&["$Junk"]) }])
            .await
            .unwrap();
        let third = append(&store, &inbox, loc, "Subject: 3\r\n\r\nthree\r\n").await;
        let changed = mailbox::changed_since(&store.db, &inbox, since).await.unwrap();
        let uids: Vec<u32> = changed.iter().map(|m| m.uid).collect();
        assert_eq!(uids, [first, third], "{e}: {second} did not change");
        assert_eq!(changed[0].keywords, kw(&["$Junk"]), "{e}");
        assert!(changed.iter().all(|m| m.modseq > since), "{e}");
    }
}
