//! Spool and local delivery against every engine: durable queueing, INBOX copies at
//! hMailServer's paths, forwarding, auto-reply, quota and bounces.

use altimail_core::password::PasswordScheme;
use altimail_delivery::{EnvelopeExtras, LocalDelivery, NewMessage, Recipient, Spool};
use altimail_net::HmLog;
use altimail_store::files::Flush;
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
    fixture_with(db, Flush::default()).await
}

async fn fixture_with(db: &altimail_testkit::ScratchDb, flush: Flush) -> Fixture {
    let dirs = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db.config, dirs.path().join("data"), true).await.unwrap();
    store.files = store.files.with_flush(flush);
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
    for (n, db) in backends("group_commit").await.into_iter().enumerate() {
        let e = db.engine;
        // Both ways of flushing a group of files; the engines take turns.
        let flush = if n % 2 == 0 { Flush::FileSystem } else { Flush::EachFile };
        let f = fixture_with(&db, flush).await;
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
        altimail_store::repo::queue::make_due(s, id).await.unwrap();
        deliver_all(&f).await;
        assert!(messages::get(s, id).await.unwrap().is_none(), "{e}: gone from the queue after the last try");
        let bounces: Vec<String> = inbox(&f.store, "alice@example.com")
            .await
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.contains("mailer-daemon@mx.example.com"))
            .collect();
        assert_eq!(bounces.len(), 1, "{e}");
        for part in [
            "Subject: Message undeliverable: big\r\n",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "bob@example.com\r\n   Error Type: Local delivery\r\n   Inbox is full\r\n",
            "Final-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n",
            "Diagnostic-Code: X-Altimail; Inbox is full\r\n",
            "Content-Type: message/rfc822\r\n",
        ] {
            assert!(bounces[0].contains(part), "{e}: {part:?} missing in {}", bounces[0]);
        }
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// A message from `from` to `to` (one local recipient) with DSN parameters and envelope extras.
async fn submit_dsn(f: &Fixture, from: &str, to: &str, subject: &str, notify: &str, extras: EnvelopeExtras) -> i64 {
    let a = account(&f.store, to).await;
    let mut r = Recipient::local(to, a.id, to);
    r.notify = notify.into();
    r.orcpt = format!("rfc822;{to}");
    f.spool
        .submit(NewMessage { sender: from.into(), recipients: vec![r], extras, data: mail(from, to, subject) })
        .await
        .unwrap()
}

async fn count(store: &Store, sql: &str) -> i64 {
    store.db.fetch_optional(sql, &[]).await.unwrap().unwrap().int("n").unwrap()
}

/// Messages in `address`'s INBOX whose text contains `needle`.
async fn inbox_with(store: &Store, address: &str, needle: &str) -> Vec<String> {
    inbox(store, address).await.into_iter().map(|(_, t)| t).filter(|t| t.contains(needle)).collect()
}

async fn make_due(store: &Store, id: i64) {
    altimail_store::repo::queue::make_due(&store.db, id).await.unwrap();
}

/// A failed recipient leaves the queue only in the transaction that queues its bounce: when the
/// bounce cannot be queued the recipient stays and the message is tried again later.
#[tokio::test]
async fn failed_recipient_leaves_the_queue_with_its_bounce() {
    for db in backends("local_bounce_tx").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        let mut bob = account(&f.store, "bob@example.com").await;
        bob.active = false;
        accounts::update(s, &bob).await.unwrap();
        // Break the spool's commit of anything that takes queue recipients along.
        s.execute("DROP TABLE altimail_forwarded", &[]).await.unwrap();
        let id = submit_dsn(&f, "alice@example.com", "bob@example.com", "lost", "", Default::default()).await;
        deliver_all(&f).await;
        let left = altimail_delivery::queue::recipients(s, id).await.unwrap();
        assert_eq!(left.len(), 1, "{e}: the recipient stays queued while its bounce is not");
        let m = messages::get(s, id).await.unwrap().unwrap();
        assert!(m.next_try > altimail_core::time::now_local() && !m.locked, "{e}: retried later");
        assert!(inbox_with(&f.store, "alice@example.com", "mailer-daemon@").await.is_empty(), "{e}");
        assert_eq!(queue_len(&f.store).await, 1, "{e}: no bounce queued");
        s.execute(
            "CREATE TABLE altimail_forwarded (recipientid BIGINT NOT NULL PRIMARY KEY, messageid BIGINT NOT NULL)",
            &[],
        )
        .await
        .unwrap();
        make_due(&f.store, id).await;
        deliver_all(&f).await;
        assert!(messages::get(s, id).await.unwrap().is_none(), "{e}: gone with its bounce");
        let bounces = inbox_with(&f.store, "alice@example.com", "mailer-daemon@").await;
        assert_eq!(bounces.len(), 1, "{e}");
        for part in [
            "   Error Type: Local delivery\r\n   Account is not active.\r\n",
            "Original-Recipient: rfc822;bob@example.com\r\nFinal-Recipient: rfc822; bob@example.com\r\n",
            "Action: failed\r\nStatus: 5.2.1\r\n",
        ] {
            assert!(bounces[0].contains(part), "{e}: {part:?} missing in {}", bounces[0]);
        }
        assert_eq!(queue_len(&f.store).await, 0, "{e}");
        assert_eq!(count(&f.store, "SELECT COUNT(*) AS n FROM altimail_recipient_dsn").await, 0, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// RFC 3461 NOTIFY: NEVER suppresses the bounce; SUCCESS gets a delivered report with ORCPT,
/// ENVID and, for RET=HDRS, the headers only.
#[tokio::test]
async fn dsn_notify_never_and_success() {
    for db in backends("local_dsn").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        let mut bob = account(&f.store, "bob@example.com").await;
        bob.active = false;
        accounts::update(s, &bob).await.unwrap();
        let never = submit_dsn(&f, "alice@example.com", "bob@example.com", "quiet", "NEVER", Default::default()).await;
        let delay = submit_dsn(&f, "alice@example.com", "bob@example.com", "later", "DELAY", Default::default()).await;
        deliver_all(&f).await;
        for id in [never, delay] {
            assert!(messages::get(s, id).await.unwrap().is_none(), "{e}: failed recipient removed");
        }
        assert!(inbox_with(&f.store, "alice@example.com", "mailer-daemon@").await.is_empty(), "{e}: no bounce");
        assert_eq!(queue_len(&f.store).await, 0, "{e}");

        let extras = EnvelopeExtras { envid: "ENV-7".into(), ret: "HDRS".into(), ..Default::default() };
        submit_dsn(&f, "alice@example.com", "carol@example.com", "hello", "SUCCESS,FAILURE", extras).await;
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "carol@example.com").await.len(), 1, "{e}");
        let reports = inbox_with(&f.store, "alice@example.com", "mailer-daemon@").await;
        assert_eq!(reports.len(), 1, "{e}");
        let r = &reports[0];
        for part in [
            "Return-Path: <>\r\n",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Content-Type: message/delivery-status\r\n",
            "Reporting-MTA: dns; mx.example.com\r\n",
            "Original-Envelope-Id: ENV-7\r\n",
            "Original-Recipient: rfc822;carol@example.com\r\n",
            "Final-Recipient: rfc822; carol@example.com\r\n",
            "Action: delivered\r\nStatus: 2.0.0\r\n",
            "Content-Type: text/rfc822-headers\r\n",
            "Subject: hello\r\n",
        ] {
            assert!(r.contains(part), "{e}: {part:?} missing in {r}");
        }
        assert!(!r.contains("Hello carol@example.com"), "{e}: RET=HDRS returns no body");
        // No NOTIFY: no success report.
        submit_dsn(&f, "alice@example.com", "carol@example.com", "plain", "", Default::default()).await;
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "carol@example.com").await.len(), 2, "{e}");
        assert_eq!(inbox_with(&f.store, "alice@example.com", "mailer-daemon@").await.len(), 1, "{e}");
        assert_eq!(queue_len(&f.store).await, 0, "{e}");
        // A local bounce is an RFC 3464 report too: ENVID, ORCPT and RET=HDRS honoured.
        let extras = EnvelopeExtras { envid: "ENV-8".into(), ret: "HDRS".into(), ..Default::default() };
        submit_dsn(&f, "alice@example.com", "bob@example.com", "refused", "FAILURE", extras).await;
        deliver_all(&f).await;
        let bounces = inbox_with(&f.store, "alice@example.com", "Message undeliverable: refused").await;
        assert_eq!(bounces.len(), 1, "{e}");
        let b = &bounces[0];
        for part in [
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Your message did not reach some or all of the intended recipients.",
            "Original-Envelope-Id: ENV-8\r\n",
            "Original-Recipient: rfc822;bob@example.com\r\nFinal-Recipient: rfc822; bob@example.com\r\n",
            "Action: failed\r\nStatus: 5.2.1\r\nDiagnostic-Code: X-Altimail; Account is not active.\r\n",
            "Content-Type: text/rfc822-headers\r\n",
        ] {
            assert!(b.contains(part), "{e}: {part:?} missing in {b}");
        }
        assert!(!b.contains("Hello bob@example.com"), "{e}: RET=HDRS returns no body: {b}");
        assert_eq!(queue_len(&f.store).await, 0, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// A forward with a kept copy leaves a marker in the forward's commit; delivery run again after a
/// crash before the copy's commit does not forward a second time.
#[tokio::test]
async fn forward_with_kept_copy_happens_once() {
    for db in backends("local_forward_once").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        let mut alice = account(&f.store, "alice@example.com").await;
        alice.forward_on = true;
        alice.forward_address = "bob@example.com".into();
        alice.forward_keep_original = true;
        accounts::update(s, &alice).await.unwrap();
        // The crash: the forward is committed (marker written), the copy is not.
        let id = submit_dsn(&f, "carol@example.com", "alice@example.com", "crash", "", Default::default()).await;
        let rid = altimail_delivery::queue::recipients(s, id).await.unwrap()[0].id;
        s.execute("INSERT INTO altimail_forwarded (recipientid, messageid) VALUES (?, ?)", &[rid.into(), id.into()])
            .await
            .unwrap();
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "alice@example.com").await.len(), 1, "{e}: copy stored");
        assert!(inbox(&f.store, "bob@example.com").await.is_empty(), "{e}: not forwarded again");
        assert_eq!(count(&f.store, "SELECT COUNT(*) AS n FROM altimail_forwarded").await, 0, "{e}: marker removed");
        // Without a crash: forwarded once, copy kept, marker gone.
        submit_dsn(&f, "carol@example.com", "alice@example.com", "normal", "", Default::default()).await;
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "alice@example.com").await.len(), 2, "{e}");
        let fwd = inbox(&f.store, "bob@example.com").await;
        assert_eq!(fwd.len(), 1, "{e}");
        assert!(fwd[0].1.contains("Subject: normal\r\n"), "{e}");
        assert_eq!(count(&f.store, "SELECT COUNT(*) AS n FROM altimail_forwarded").await, 0, "{e}");
        assert_eq!(queue_len(&f.store).await, 0, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// No auto-reply to list or bulk mail, none after the vacation expired (which also turns it off).
#[tokio::test]
async fn auto_reply_skips_list_mail_and_expires() {
    for db in backends("local_vacation").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        let mut carol = account(&f.store, "carol@example.com").await;
        carol.vacation_on = true;
        carol.vacation_subject = "Away".into();
        carol.vacation_message = "Back soon.".into();
        accounts::update(s, &carol).await.unwrap();
        for (from, extra) in
            [("alice@example.com", "List-Id: <team.example.com>\r\n"), ("bob@example.com", "Precedence: bulk\r\n")]
        {
            let data = [extra.as_bytes(), &mail(from, "carol@example.com", "list")].concat();
            f.spool
                .submit(NewMessage {
                    sender: from.into(),
                    recipients: vec![Recipient::local("carol@example.com", carol.id, "carol@example.com")],
                    extras: Default::default(),
                    data,
                })
                .await
                .unwrap();
        }
        deliver_all(&f).await;
        assert_eq!(inbox(&f.store, "carol@example.com").await.len(), 2, "{e}");
        for who in ["alice@example.com", "bob@example.com"] {
            assert!(inbox_with(&f.store, who, "Auto-Submitted: auto-replied").await.is_empty(), "{e}: {who}");
        }
        // Expired yesterday: no reply, and the vacation is switched off.
        carol.vacation_expires = true;
        carol.vacation_expire_date = altimail_core::time::now_local() - chrono::Duration::days(1);
        accounts::update(s, &carol).await.unwrap();
        submit_dsn(&f, "alice@example.com", "carol@example.com", "late", "", Default::default()).await;
        deliver_all(&f).await;
        assert!(inbox_with(&f.store, "alice@example.com", "Auto-Submitted: auto-replied").await.is_empty(), "{e}");
        assert!(!account(&f.store, "carol@example.com").await.vacation_on, "{e}: vacation turned off");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// The SMTP client's address and its range's exemptions are kept with the queued message.
#[tokio::test]
async fn client_address_is_kept_with_the_message() {
    for db in backends("local_envelope").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let extras =
            EnvelopeExtras { client_ip: Some("192.0.2.7".parse().unwrap()), skip_antispam: true, ..Default::default() };
        let id = submit_dsn(&f, "x@remote.test", "carol@example.com", "ip", "", extras).await;
        let env = altimail_delivery::queue::envelope(&f.store.db, id).await.unwrap();
        assert_eq!(env.client_ip, Some("192.0.2.7".parse().unwrap()), "{e}");
        assert!(env.skip_antispam && !env.skip_antivirus, "{e}");
        let plain = submit_dsn(&f, "x@remote.test", "carol@example.com", "ip2", "", Default::default()).await;
        assert_eq!(altimail_delivery::queue::envelope(&f.store.db, plain).await.unwrap(), Default::default(), "{e}");
        deliver_all(&f).await;
        assert_eq!(count(&f.store, "SELECT COUNT(*) AS n FROM altimail_envelopes").await, 0, "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}

/// The copies of one batch share a transaction: the quota counts the batch's earlier copies,
/// and a copy that cannot be written defers only its own recipient.
#[tokio::test]
async fn batched_copies_keep_quota_and_fail_alone() {
    for db in backends("local_batch").await {
        let e = db.engine;
        let f = fixture(&db).await;
        let s = &f.store.db;
        let mut bob = account(&f.store, "bob@example.com").await;
        bob.max_size_mb = 1;
        accounts::update(s, &bob).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..3 {
            let data =
                [mail("x@remote.test", "bob@example.com", &format!("q{i}")), vec![b'x'; 400_000], b"\r\n".to_vec()]
                    .concat();
            let msg = NewMessage {
                sender: "x@remote.test".into(),
                recipients: vec![Recipient::local("bob@example.com", bob.id, "bob@example.com")],
                extras: Default::default(),
                data,
            };
            ids.push(f.spool.submit(msg).await.unwrap());
        }
        assert_eq!(f.worker.run_once().await.unwrap(), 3, "{e}: one batch");
        assert_eq!(inbox(&f.store, "bob@example.com").await.len(), 2, "{e}: two fit in 1 MB");
        let third = messages::get(s, ids[2]).await.unwrap().expect("third message still queued");
        assert_eq!(third.tries, 1, "{e}: deferred, not dropped");

        // carol's folder cannot be made (a file is in the way); alice's copy still goes in.
        let carol = account(&f.store, "carol@example.com").await;
        let alice = account(&f.store, "alice@example.com").await;
        let blocked = f.store.files.path_for(Location::Account(&carol.address), "x.eml");
        let carol_dir = blocked.parent().unwrap().parent().unwrap().to_path_buf();
        std::fs::create_dir_all(carol_dir.parent().unwrap()).unwrap();
        std::fs::write(&carol_dir, b"in the way").unwrap();
        let id = f
            .spool
            .submit(NewMessage {
                sender: "x@remote.test".into(),
                recipients: vec![
                    Recipient::local("alice@example.com", alice.id, "alice@example.com"),
                    Recipient::local("carol@example.com", carol.id, "carol@example.com"),
                ],
                extras: Default::default(),
                data: mail("x@remote.test", "alice@example.com", "blocked"),
            })
            .await
            .unwrap();
        f.worker.run_once().await.unwrap();
        assert_eq!(inbox_with(&f.store, "alice@example.com", "Subject: blocked").await.len(), 1, "{e}");
        let left = altimail_delivery::queue::recipients(s, id).await.unwrap();
        assert_eq!(left.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["carol@example.com"], "{e}");
        assert_eq!(messages::get(s, id).await.unwrap().unwrap().tries, 1, "{e}: carol's copy deferred");
        std::fs::remove_file(&carol_dir).unwrap();
        make_due(&f.store, id).await;
        deliver_all(&f).await;
        assert_eq!(inbox_with(&f.store, "carol@example.com", "Subject: blocked").await.len(), 1, "{e}");
        assert_eq!(inbox_with(&f.store, "alice@example.com", "Subject: blocked").await.len(), 1, "{e}: once");
        assert!(messages::get(s, id).await.unwrap().is_none(), "{e}");
        f.store.db.close().await;
        db.cleanup().await;
    }
}
