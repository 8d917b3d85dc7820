//! Spool and local delivery against every engine: durable queueing, INBOX copies at
//! hMailServer's paths, forwarding, auto-reply, quota and bounces.

use altimail_core::password::PasswordScheme;
use altimail_delivery::{LocalDelivery, NewMessage, Recipient, Spool};
use altimail_net::HmLog;
use altimail_store::repo::{accounts, domains, folders, messages, settings};
use altimail_store::{Location, Store};
use altimail_testkit::backends;

struct Fixture {
    store: Store,
    spool: Spool,
    worker: LocalDelivery,
    _dirs: tempfile::TempDir,
}

async fn fixture(db: &altimail_testkit::ScratchDb) -> Fixture {
    let dirs = tempfile::tempdir().unwrap();
    let store = Store::open(&db.config, dirs.path().join("data"), true).await.unwrap();
    let d = domains::create(&store.db, &domains::Domain::new("example.com")).await.unwrap();
    for name in ["alice", "bob", "carol"] {
        let mut a = accounts::Account::new(d.id, &format!("{name}@example.com"));
        a.set_password(PasswordScheme::Sha256, "pw");
        accounts::create(&store.db, &a).await.unwrap();
    }
    settings::set_string(&store.db, "hostname", "mx.example.com").await.unwrap();
    let spool = Spool::start(store.clone());
    let log = HmLog::new(dirs.path().join("logs"), 0);
    let worker = LocalDelivery::new(store.clone(), spool.clone(), log);
    Fixture { store, spool, worker, _dirs: dirs }
}

fn mail(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!("From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@test>\r\n\r\nHello {to}\r\n")
        .into_bytes()
}

async fn account(store: &Store, address: &str) -> accounts::Account {
    accounts::find(&store.db, address).await.unwrap().unwrap()
}

async fn inbox(store: &Store, address: &str) -> Vec<(messages::Message, String)> {
    let a = account(store, address).await;
    let inbox = folders::ensure_inbox(&store.db, a.id).await.unwrap();
    let mut out = Vec::new();
    for m in messages::in_folder(&store.db, a.id, inbox.id).await.unwrap() {
        let path = store.files.resolve(Location::Account(&a.address), &m.file_name);
        out.push((m, std::fs::read_to_string(path).unwrap()));
    }
    out
}

async fn deliver_all(f: &Fixture) {
    for _ in 0..10 {
        if f.worker.run_once().await.unwrap() == 0 {
            return;
        }
    }
}

async fn queue_len(store: &Store) -> usize {
    messages::queue(&store.db).await.unwrap().len()
}

#[tokio::test]
async fn queued_mail_reaches_inboxes_at_hmailserver_paths() {
    for db in backends("local_delivery").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let alice = account(&f.store, "alice@example.com").await;
        let bob = account(&f.store, "bob@example.com").await;
        let id = f
            .spool
            .submit(NewMessage {
                sender: "sender@remote.test".into(),
                recipients: vec![
                    Recipient::local("alice@example.com", alice.id, "Alice@Example.com"),
                    Recipient::local("bob@example.com", bob.id, "bob+tag@example.com"),
                    Recipient::remote("someone@remote.test", "someone@remote.test"),
                ],
                extras: Default::default(),
                data: mail("sender@remote.test", "alice@example.com", "first"),
            })
            .await
            .unwrap();
        let queued = messages::get(&f.store.db, id).await.unwrap().unwrap();
        let queue_file = f.store.files.resolve(Location::Queue, &queued.file_name);
        assert!(queue_file.exists(), "{e}: queue file in the data folder root");
        assert_eq!(queue_file.parent(), Some(f.store.files.data_dir()), "{e}");

        settings::set_integer(&f.store.db, "adddeliveredtoheader", 1).await.unwrap();
        deliver_all(&f).await;
        let got = inbox(&f.store, "alice@example.com").await;
        assert_eq!(got.len(), 1, "{e}");
        let (m, text) = &got[0];
        assert!(
            text.starts_with("Return-Path: <sender@remote.test>\r\nDelivered-To: Alice@Example.com\r\n"),
            "{e}: {text}"
        );
        assert!(text.ends_with("Hello alice@example.com\r\n"), "{e}");
        assert_eq!((m.uid, m.flags, m.kind), (1, 32, 2), "{e}: UID 1, \\Recent, delivered");
        let path = f.store.files.resolve(Location::Account("alice@example.com"), &m.file_name);
        let expected_dir = f.store.files.data_dir().join("example.com").join("alice").join(&m.file_name[1..3]);
        assert_eq!(path.parent(), Some(expected_dir.as_path()), "{e}");
        assert_eq!(inbox(&f.store, "bob@example.com").await.len(), 1, "{e}");
        // The remote recipient stays queued for outbound delivery; the local ones are gone.
        let left = altimail_delivery::queue::recipients(&f.store.db, id).await.unwrap();
        assert_eq!(left.len(), 1, "{e}");
        assert_eq!(left[0].address, "someone@remote.test", "{e}");
        assert!(queue_file.exists(), "{e}");
        // Running again delivers nothing twice.
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "alice@example.com").await.len(), 1, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_submissions_are_all_committed() {
    for db in backends("group_commit").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let carol = account(&f.store, "carol@example.com").await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let spool = f.spool.clone();
            tasks.push(tokio::spawn(async move {
                spool
                    .submit(NewMessage {
                        sender: format!("s{i}@remote.test"),
                        recipients: vec![Recipient::local("carol@example.com", carol.id, "carol@example.com")],
                        extras: Default::default(),
                        data: mail("x@remote.test", "carol@example.com", &format!("m{i}")),
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 40, "{e}");
        assert_eq!(queue_len(&f.store).await, 40, "{e}");
        deliver_all(&f).await;
        let got = inbox(&f.store, "carol@example.com").await;
        assert_eq!(got.len(), 40, "{e}");
        let mut uids: Vec<i64> = got.iter().map(|(m, _)| m.uid).collect();
        uids.sort();
        assert_eq!(uids, (1..=40).collect::<Vec<_>>(), "{e}: UIDs handed out once each");
        assert_eq!(queue_len(&f.store).await, 0, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn forwarding_auto_reply_quota_and_bounce() {
    for db in backends("local_features").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        // alice forwards to bob and keeps a copy; bob forwards to carol without keeping one.
        let mut alice = account(&f.store, "alice@example.com").await;
        alice.forward_on = true;
        alice.forward_address = "bob@example.com".into();
        alice.forward_keep_original = true;
        accounts::update(s, &alice).await.unwrap();
        let mut bob = account(&f.store, "bob@example.com").await;
        bob.forward_on = true;
        bob.forward_address = "carol@example.com".into();
        accounts::update(s, &bob).await.unwrap();
        let submit = |to: accounts::Account, from: &str, subject: &str| {
            let spool = f.spool.clone();
            let data = mail(from, &to.address, subject);
            let from = from.to_owned();
            async move {
                spool
                    .submit(NewMessage {
                        sender: from,
                        recipients: vec![Recipient::local(&to.address, to.id, &to.address)],
                        extras: Default::default(),
                        data,
                    })
                    .await
                    .unwrap()
            }
        };
        submit(alice.clone(), "carol@example.com", "fwd").await;
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "alice@example.com").await.len(), 1, "{e}: copy kept");
        assert_eq!(inbox(&f.store, "bob@example.com").await.len(), 0, "{e}: bob keeps no copy");
        let carol_box = inbox(&f.store, "carol@example.com").await;
        assert_eq!(carol_box.len(), 1, "{e}: forwarded twice to carol");
        assert!(carol_box[0].1.contains("X-hMailServer-LoopCount: 2\r\n"), "{e}: {}", carol_box[0].1);
        assert!(carol_box[0].1.starts_with("Return-Path: <carol@example.com>"), "{e}: original envelope sender kept");

        // carol is on vacation: one reply per sender, none to automatic mail.
        let mut carol = account(&f.store, "carol@example.com").await;
        carol.forward_on = false;
        carol.vacation_on = true;
        carol.vacation_subject = "Away: %SUBJECT%".into();
        carol.vacation_message = "Back soon.".into();
        accounts::update(s, &carol).await.unwrap();
        let alice = account(&f.store, "alice@example.com").await;
        let mut alice_plain = alice.clone();
        alice_plain.forward_on = false;
        accounts::update(s, &alice_plain).await.unwrap();
        submit(carol.clone(), "alice@example.com", "one").await;
        submit(carol.clone(), "alice@example.com", "two").await;
        submit(carol.clone(), "", "bounce-like").await;
        deliver_all(&f).await;
        let replies: Vec<String> = inbox(&f.store, "alice@example.com")
            .await
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.contains("Auto-Submitted: auto-replied"))
            .collect();
        assert_eq!(replies.len(), 1, "{e}: one auto-reply");
        assert!(
            replies[0].contains("Subject: Away: one\r\n") && replies[0].contains("Back soon."),
            "{e}: {}",
            replies[0]
        );
        assert!(replies[0].starts_with("Return-Path: <>"), "{e}: auto-replies have the null sender");

        // bob's quota is tiny: the message is deferred, then bounced when retries run out.
        let mut bob = account(&f.store, "bob@example.com").await;
        bob.forward_on = false;
        bob.max_size_mb = 1;
        accounts::update(s, &bob).await.unwrap();
        let big = NewMessage {
            sender: "alice@example.com".into(),
            recipients: vec![Recipient::local("bob@example.com", bob.id, "bob@example.com")],
            extras: Default::default(),
            data: [mail("alice@example.com", "bob@example.com", "big"), vec![b'x'; 1_100_000], b"\r\n".to_vec()]
                .concat(),
        };
        let id = f.spool.submit(big).await.unwrap();
        deliver_all(&f).await;
        let m = messages::get(s, id).await.unwrap().unwrap();
        assert_eq!(m.tries, 1, "{e}: deferred, not dropped");
        assert!(m.next_try > altimail_core::time::now_local(), "{e}");
        assert_eq!(inbox(&f.store, "bob@example.com").await.len(), 0, "{e}");
        settings::set_integer(s, "smtpnoofretries", 1).await.unwrap();
        s.execute(
            "UPDATE hm_messages SET messagenexttrytime = ? WHERE messageid = ?",
            &[altimail_store::db::never().into(), id.into()],
        )
        .await
        .unwrap();
        deliver_all(&f).await;
        assert!(messages::get(s, id).await.unwrap().is_none(), "{e}: gone from the queue after the last try");
        let bounces: Vec<String> = inbox(&f.store, "alice@example.com")
            .await
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.contains("mailer-daemon@mx.example.com"))
            .collect();
        assert_eq!(bounces.len(), 1, "{e}");
        assert!(
            bounces[0].contains("Inbox is full") && bounces[0].contains("Subject: Message undeliverable: big"),
            "{e}: {}",
            bounces[0]
        );
        f.store.db.close().await;
        db.cleanup().await;
    }
}
