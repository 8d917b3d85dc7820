//! External accounts end to end: Altimail downloads from a POP3 server over real sockets —
//! its own POP3 server (plain, implicit TLS, STLS with the self-signed certificate) or a small
//! POP3 server written here for failures — into local mailboxes through the spool.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use altimail_delivery::Spool;
use altimail_fetch::{FetchError, Fetcher, Report};
use altimail_net::HmLog;
use altimail_store::repo::fetch_accounts::{self, FetchAccount, Security};
use altimail_store::repo::{accounts, folders, messages};
use altimail_store::{Location, Store};
use altimail_testkit::{ScratchDb, backends};
use common::{Install, Server, python};

const SEND: &str = r#"
import smtplib, sys
port, rcpt, tag, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
extra = sys.argv[5] if len(sys.argv) > 5 else ""
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
for k in range(1, count + 1):
    body = "From: <sender@remote.test>\r\nTo: <%s>\r\n%sSubject: %s %d\r\n\r\n" % (rcpt, extra, tag, k)
    body += "Body of %s %d.\r\n.leading dot line\r\n" % (tag, k)
    s.sendmail("sender@remote.test", [rcpt], body)
s.quit()
"#;

fn send(smtp: u16, rcpt: &str, tag: &str, count: usize, extra_headers: &str) {
    let (code, _, err) = python(SEND, &[&smtp.to_string(), rcpt, tag, &count.to_string(), extra_headers]);
    assert_eq!(code, 0, "smtplib: {err}");
}

/// A server with john (target), mary (MIME recipient) and remote (the "remote" POP3 box).
struct World {
    i: Install,
    server: Server,
    ports: Vec<u16>,
    store: Store,
    fetcher: Fetcher,
    log: HmLog,
}

/// A [`World`] on SQLite.
async fn world(listeners: &[(&str, &str)]) -> World {
    world_on(ScratchDb::sqlite(), listeners).await
}

/// A [`World`] on the database `db`.
async fn world_on(db: ScratchDb, listeners: &[(&str, &str)]) -> World {
    let i = Install::new(db);
    i.ok(&["init"]);
    i.ok(&["setting", "set", "hostname", "mx.example.com"]);
    i.ok(&["setting", "set", "logging", "255"]);
    i.ok(&["domain", "add", "example.com"]);
    for a in ["john", "mary", "remote"] {
        i.ok(&["account", "add", &format!("{a}@example.com"), "--password", "secret-pw"]);
    }
    let (server, ports) = i.serve_on(listeners);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let spool = Spool::start(store.clone());
    let log = HmLog::new(i.path("logs"), 255);
    let fetcher = Fetcher::new(store.clone(), spool, log.clone());
    World { i, server, ports, store, fetcher, log }
}

impl World {
    /// The database engine, for failure messages.
    fn e(&self) -> &'static str {
        self.i.db.engine
    }

    /// Stops the server and drops a server database.
    async fn finish(mut self) {
        self.store.db.close().await;
        let e = self.e();
        assert!(self.server.stop(Duration::from_secs(25)).success(), "{e}: {}", self.server.stderr());
        self.i.db.cleanup().await;
    }

    async fn account_id(&self, address: &str) -> i64 {
        accounts::find(&self.store.db, address).await.unwrap().unwrap().id
    }

    async fn add(&self, port: u16, security: Security, days: i64, edit: impl FnOnce(&mut FetchAccount)) -> i64 {
        let john = self.account_id("john@example.com").await;
        let mut fa = FetchAccount::new(john, "Remote box", "127.0.0.1", "remote@example.com", "secret-pw");
        fa.server_port = port.into();
        fa.security = security;
        fa.days_to_keep = days;
        fa.next_try = chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        edit(&mut fa);
        fetch_accounts::create(&self.store.db, &fa).await.unwrap().id
    }

    async fn run(&self, id: i64) -> Result<Report, FetchError> {
        self.fetcher.run_now(id).await.unwrap().expect("the account was not locked")
    }

    async fn inbox(&self, address: &str) -> Vec<String> {
        inbox(&self.store, address).await
    }

    async fn wait_inbox(&self, address: &str, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let got = self.inbox(address).await;
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{}: {address}: fewer than {n} messages after 10 s", self.e());
    }

    async fn uids(&self, id: i64) -> Vec<String> {
        fetch_accounts::uids(&self.store.db, id).await.unwrap().into_iter().map(|u| u.value).collect()
    }

    fn log_text(&self) -> String {
        self.log.flush();
        let mut all = String::new();
        for e in std::fs::read_dir(self.i.path("logs")).unwrap().flatten() {
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
        all
    }
}

/// The stored messages of an account's INBOX, in UID order.
async fn inbox(store: &Store, address: &str) -> Vec<String> {
    let a = accounts::find(&store.db, address).await.unwrap().unwrap();
    let inbox = folders::ensure_inbox(&store.db, a.id).await.unwrap();
    let rows = messages::in_folder(&store.db, a.id, inbox.id).await.unwrap();
    rows.into_iter()
        .map(|m| {
            let path: PathBuf = store.files.resolve(Location::Account(&a.address), &m.file_name);
            std::fs::read_to_string(path).unwrap()
        })
        .collect()
}

fn subjects(messages: &[String]) -> Vec<String> {
    let mut s: Vec<String> = messages
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned)))
        .collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn uids_are_tracked_and_mail_is_kept_on_every_database() {
    for db in backends("fetch_uids").await {
        let w = world_on(db, &[("smtp", "none"), ("pop3", "none")]).await;
        uids_are_tracked_and_mail_is_kept(&w).await;
        w.finish().await;
    }
}

async fn uids_are_tracked_and_mail_is_kept(w: &World) {
    let e = w.e();
    let (smtp, pop3) = (w.ports[0], w.ports[1]);
    send(smtp, "remote@example.com", "kept", 3, "");
    w.wait_inbox("remote@example.com", 3).await;
    let id = w.add(pop3, Security::None, 0, |_| {}).await;

    let r = w.run(id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (3, 0), "{e}");
    let john = w.wait_inbox("john@example.com", 3).await;
    assert_eq!(subjects(&john), ["kept 1", "kept 2", "kept 3"], "{e}");
    let first = &john[0];
    let received = first.find("\r\nReceived: from 127.0.0.1 (127.0.0.1) by mx.example.com with POP3; ");
    let original = first.find("\r\nReceived: from [127.0.0.1]");
    assert!(received.is_some() && received < original, "{e}: ours comes first: {first}");
    assert!(first.contains("\r\nX-hMailServer-ExternalAccount: Remote box\r\n"), "{e}: {first}");
    assert!(first.contains("\r\n.leading dot line\r\n"), "{e}: dot-unstuffed once: {first}");
    assert_eq!(w.uids(id).await.len(), 3, "{e}");

    // A second run finds nothing new; the remote box still holds everything.
    let r = w.run(id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted, r.forgotten), (0, 0, 0), "{e}");
    send(smtp, "remote@example.com", "later", 1, "");
    w.wait_inbox("remote@example.com", 4).await;
    let r = w.run(id).await.unwrap();
    assert_eq!(r.downloaded, 1, "{e}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(w.inbox("john@example.com").await.len(), 4, "{e}: nothing fetched twice");
    assert_eq!(w.inbox("remote@example.com").await.len(), 4, "{e}: leave on server");

    let fa = fetch_accounts::require(&w.store.db, id).await.unwrap();
    assert!(!fa.locked, "{e}");
    assert!(fa.next_try > altimail_core::time::now_local() + chrono::Duration::minutes(29), "{e}: rescheduled");
    let log = w.log_text();
    assert!(log.contains("\"POP3C\"\t"), "{e}: {log}");
    assert!(log.contains("\"SENT: PASS ***\""), "{e}: {log}");
    assert!(log.contains("\"SENT: UIDL\""), "{e}: {log}");
    assert!(!log.contains("PASS secret-pw"), "{e}: {log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_policies_now_and_after_days_on_every_database() {
    for db in backends("fetch_delete").await {
        let w = world_on(db, &[("smtp", "none"), ("pop3", "none")]).await;
        delete_policies_now_and_after_days(&w).await;
        w.finish().await;
    }
}

async fn delete_policies_now_and_after_days(w: &World) {
    let e = w.e();
    let (smtp, pop3) = (w.ports[0], w.ports[1]);

    // -1: deleted right after download; the UID rows go with the messages.
    send(smtp, "remote@example.com", "now", 2, "");
    w.wait_inbox("remote@example.com", 2).await;
    let now_id = w.add(pop3, Security::None, -1, |_| {}).await;
    let r = w.run(now_id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (2, 2), "{e}");
    w.wait_inbox("john@example.com", 2).await;
    assert!(w.inbox("remote@example.com").await.is_empty(), "{e}");
    assert!(w.uids(now_id).await.is_empty(), "{e}");
    fetch_accounts::delete(&w.store.db, now_id).await.unwrap();

    // N = 3: kept until the recorded download is three days old.
    send(smtp, "remote@example.com", "aged", 2, "");
    w.wait_inbox("remote@example.com", 2).await;
    let days_id = w.add(pop3, Security::None, 3, |_| {}).await;
    let r = w.run(days_id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (2, 0), "{e}");
    let r = w.run(days_id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (0, 0), "{e}: not old enough yet");
    let old = altimail_core::time::now_local() - chrono::Duration::days(4);
    let first = fetch_accounts::uids(&w.store.db, days_id).await.unwrap()[0].clone();
    w.store
        .db
        .execute("UPDATE hm_fetchaccounts_uids SET uidtime = ? WHERE uidid = ?", &[old.into(), first.id.into()])
        .await
        .unwrap();
    let r = w.run(days_id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (0, 1), "{e}");
    assert_eq!(subjects(&w.inbox("remote@example.com").await), ["aged 2"], "{e}");
    assert_eq!(w.uids(days_id).await.len(), 1, "{e}");
    w.wait_inbox("john@example.com", 4).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subjects(&w.inbox("john@example.com").await), ["aged 1", "aged 2", "now 1", "now 2"], "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_and_starttls_with_a_self_signed_certificate() {
    let w = world(&[("smtp", "none"), ("pop3", "tls"), ("pop3", "starttls"), ("pop3", "none")]).await;
    let (smtp, tls, starttls, plain) = (w.ports[0], w.ports[1], w.ports[2], w.ports[3]);
    send(smtp, "remote@example.com", "tls", 1, "");
    w.wait_inbox("remote@example.com", 1).await;

    // VerifyRemoteSslCertificate = 1 (default): the self-signed certificate is refused.
    let implicit = w.add(tls, Security::Implicit, 0, |_| {}).await;
    assert!(matches!(w.run(implicit).await, Err(FetchError::Client(_))));
    assert!(w.uids(implicit).await.is_empty());

    w.i.ok(&["setting", "set", "VerifyRemoteSslCertificate", "0"]);
    assert_eq!(w.run(implicit).await.unwrap().downloaded, 1);
    let required = w.add(starttls, Security::StartTlsRequired, 0, |_| {}).await;
    assert_eq!(w.run(required).await.unwrap().downloaded, 1);
    let optional = w.add(starttls, Security::StartTlsOptional, 0, |_| {}).await;
    assert_eq!(w.run(optional).await.unwrap().downloaded, 1);
    // STARTTLS required against a server that does not offer STLS: no plain-text login.
    let no_stls = w.add(plain, Security::StartTlsRequired, 0, |_| {}).await;
    let err = w.run(no_stls).await.unwrap_err().to_string();
    assert!(err.contains("STLS"), "{err}");
    w.wait_inbox("john@example.com", 3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mime_recipients_are_routed_to_local_accounts() {
    let w = world(&[("smtp", "none"), ("pop3", "none")]).await;
    let (smtp, pop3) = (w.ports[0], w.ports[1]);
    // To: remote, Cc: mary -> mary (remote is local too); X-Envelope-To: nobody -> ignored.
    send(smtp, "remote@example.com", "cc", 1, "Cc: Mary <mary@example.com>, outside@elsewhere.test\r\n");
    w.wait_inbox("remote@example.com", 1).await;
    let id = w
        .add(pop3, Security::None, 0, |fa| {
            fa.process_mime_recipients = true;
            fa.mime_recipient_headers = "CC".into();
        })
        .await;
    assert_eq!(w.run(id).await.unwrap().downloaded, 1);
    w.wait_inbox("mary@example.com", 1).await;

    // No local recipient in the headers: the account's owner gets it.
    send(smtp, "remote@example.com", "none", 1, "Cc: outside@elsewhere.test\r\n");
    w.wait_inbox("remote@example.com", 2).await;
    assert_eq!(w.run(id).await.unwrap().downloaded, 1);
    w.wait_inbox("john@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subjects(&w.inbox("mary@example.com").await), ["cc 1"]);
    assert_eq!(subjects(&w.inbox("john@example.com").await), ["none 1"]);

    // A route recipient counts only with faenablerouterecipients (the route's target is a
    // closed port, so the message waits in the queue where it can be seen).
    let closed = common::free_port();
    w.store
        .db
        .execute(
            "INSERT INTO hm_routes (routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
             routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, \
             routeauthenticationusername, routeauthenticationpassword, routetreatsecurityaslocal, \
             routeconnectionsecurity, routetreatsenderaslocaldomain) \
             VALUES ('routed.test', 'test route', '127.0.0.1', ?, 5, 60, 1, 0, '', '', 0, 0, 0)",
            &[i64::from(closed).into()],
        )
        .await
        .unwrap();
    send(smtp, "remote@example.com", "routed", 1, "Cc: someone@routed.test\r\n");
    w.wait_inbox("remote@example.com", 3).await;
    assert_eq!(w.run(id).await.unwrap().downloaded, 1);
    w.wait_inbox("john@example.com", 2).await;
    let mut fa = fetch_accounts::require(&w.store.db, id).await.unwrap();
    fa.enable_route_recipients = true;
    fetch_accounts::update(&w.store.db, &fa).await.unwrap();
    send(smtp, "remote@example.com", "routed", 1, "Cc: someone@routed.test\r\n");
    w.wait_inbox("remote@example.com", 4).await;
    assert_eq!(w.run(id).await.unwrap().downloaded, 1);
    let queued = w
        .store
        .db
        .fetch_all("SELECT recipientid FROM hm_messagerecipients WHERE recipientaddress = 'someone@routed.test'", &[])
        .await
        .unwrap();
    assert_eq!(queued.len(), 1, "queued once, for the route");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(w.inbox("john@example.com").await.len(), 2, "not for the owner");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_managed_accounts_are_downloaded_by_the_server() {
    let w = world(&[("smtp", "none"), ("pop3", "none")]).await;
    let (smtp, pop3) = (w.ports[0], w.ports[1]);
    send(smtp, "remote@example.com", "served", 2, "");
    w.wait_inbox("remote@example.com", 2).await;
    let (port, i) = (pop3.to_string(), &w.i);
    let added = i.json(&[
        "fetch",
        "add",
        "john@example.com",
        "Remote box",
        "127.0.0.1",
        "--port",
        &port,
        "--username",
        "remote@example.com",
        "--password",
        "secret-pw",
        "--days-to-keep",
        "-1",
    ]);
    let id = added["id"].as_i64().unwrap();
    assert!(added.get("password").is_none(), "the password is never printed: {added}");
    let listed = i.json(&["fetch", "list", "--account", "john@example.com"]);
    assert_eq!(listed[0]["server_port"], pop3);
    assert_eq!(listed[0]["days_to_keep"], -1);

    // New accounts are due at once: the running server downloads them by itself.
    w.wait_inbox("john@example.com", 2).await;
    for _ in 0..50 {
        if w.inbox("remote@example.com").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(w.inbox("remote@example.com").await.is_empty(), "deleted after download");
    let fa = fetch_accounts::require(&w.store.db, id).await.unwrap();
    assert!(!fa.locked && fa.next_try > altimail_core::time::now_local());

    // `fetch run` makes it due now.
    send(smtp, "remote@example.com", "again", 1, "");
    w.wait_inbox("remote@example.com", 1).await;
    i.ok(&["fetch", "run", &id.to_string()]);
    w.wait_inbox("john@example.com", 3).await;

    i.ok(&["fetch", "set", &id.to_string(), "--active", "no", "--security", "tls"]);
    let shown = i.json(&["fetch", "show", &id.to_string()]);
    assert_eq!((shown["active"].as_bool(), shown["server_port"].as_i64()), (Some(false), Some(i64::from(pop3))));
    assert_eq!(shown["security"], "tls");
    i.ok(&["fetch", "remove", &id.to_string()]);
    assert_eq!(i.json(&["fetch", "list"]), serde_json::json!([]));
}

/// What the scripted POP3 server does in one session.
#[derive(Clone, Copy, PartialEq)]
enum Script {
    /// Serves everything; deletions happen at QUIT.
    Serve,
    /// Closes the connection in the middle of the RETR of this message number.
    DropInRetr(usize),
    /// Closes the connection instead of answering QUIT (so nothing is deleted).
    DropAtQuit,
    /// Refuses the password.
    RefuseLogin,
}

type Mailbox = std::sync::Arc<std::sync::Mutex<Vec<bool>>>;

/// A minimal POP3 server with three messages (UIDL `u-1`..`u-3`), one session per script, with
/// RFC 1939 deletion semantics. Returns its port and which messages are still there.
async fn scripted_server(scripts: Vec<Script>) -> (u16, Mailbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let present: Mailbox = std::sync::Arc::new(std::sync::Mutex::new(vec![true; 3]));
    let mailbox = present.clone();
    tokio::spawn(async move {
        let messages: Vec<String> =
            (1..=3).map(|k| format!("From: <x@remote.test>\r\nSubject: scripted {k}\r\n\r\nbody {k}\r\n")).collect();
        for script in scripts {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"+OK scripted\r\n").await;
            // Message number n (1-based) in this session -> index in `messages`.
            let visible: Vec<usize> = (0..3).filter(|&k| present.lock().unwrap()[k]).collect();
            let mut deleted = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let upper = line.to_ascii_uppercase();
                let arg = |p: &str| upper.strip_prefix(p).and_then(|n| n.trim().parse::<usize>().ok());
                let reply = if upper.starts_with("PASS") && script == Script::RefuseLogin {
                    "-ERR [AUTH] invalid password\r\n".to_owned()
                } else if upper.starts_with("UIDL") {
                    let list: String =
                        visible.iter().enumerate().map(|(n, k)| format!("{} u-{}\r\n", n + 1, k + 1)).collect();
                    format!("+OK\r\n{list}.\r\n")
                } else if let Some(n) = arg("RETR ") {
                    if script == Script::DropInRetr(n) {
                        let _ = write.write_all(b"+OK\r\nFrom: <x@remote.test>\r\nSubj").await;
                        break;
                    }
                    format!("+OK\r\n{}.\r\n", messages[visible[n - 1]])
                } else if let Some(n) = arg("DELE ") {
                    deleted.push(visible[n - 1]);
                    "+OK marked\r\n".to_owned()
                } else if upper.starts_with("QUIT") {
                    if script == Script::DropAtQuit {
                        break;
                    }
                    for k in &deleted {
                        present.lock().unwrap()[*k] = false;
                    }
                    let _ = write.write_all(b"+OK bye\r\n").await;
                    break;
                } else {
                    "+OK\r\n".to_owned()
                };
                let _ = write.write_all(reply.as_bytes()).await;
            }
        }
    });
    (port, mailbox)
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connections_and_refused_logins_lose_and_duplicate_nothing_on_every_database() {
    for db in backends("fetch_dropped").await {
        let w = world_on(db, &[("smtp", "none")]).await;
        eprintln!("engine: {}", w.e());
        dropped_connections_and_refused_logins_lose_and_duplicate_nothing(&w).await;
        w.finish().await;
    }
}

async fn dropped_connections_and_refused_logins_lose_and_duplicate_nothing(w: &World) {
    let (port, _) =
        scripted_server(vec![Script::RefuseLogin, Script::DropInRetr(2), Script::Serve, Script::Serve]).await;
    let id = w.add(port, Security::None, 0, |_| {}).await;

    let err = w.run(id).await.unwrap_err().to_string();
    assert!(err.contains("-ERR [AUTH] invalid password"), "{err}");
    assert!(w.uids(id).await.is_empty());
    let fa = fetch_accounts::require(&w.store.db, id).await.unwrap();
    assert!(!fa.locked, "unlocked after a failure");

    let err = w.run(id).await.unwrap_err().to_string();
    assert!(err.contains("closed the connection"), "{err}");
    assert_eq!(w.uids(id).await, ["u-1"], "the message queued before the drop is recorded");

    let r = w.run(id).await.unwrap();
    assert_eq!(r.downloaded, 2);
    let r = w.run(id).await.unwrap();
    assert_eq!(r.downloaded, 0);
    w.wait_inbox("john@example.com", 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(subjects(&w.inbox("john@example.com").await), ["scripted 1", "scripted 2", "scripted 3"]);
    assert!(w.log_text().contains("Error: the server closed the connection"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drop_before_quit_deletes_again_instead_of_downloading_again_on_every_database() {
    for db in backends("fetch_drop_quit").await {
        let w = world_on(db, &[("smtp", "none")]).await;
        eprintln!("engine: {}", w.e());
        a_drop_before_quit_deletes_again_instead_of_downloading_again(&w).await;
        w.finish().await;
    }
}

async fn a_drop_before_quit_deletes_again_instead_of_downloading_again(w: &World) {
    let (port, mailbox) = scripted_server(vec![Script::DropAtQuit, Script::Serve, Script::Serve]).await;
    let id = w.add(port, Security::None, -1, |_| {}).await;

    // Downloaded and marked deleted, but QUIT never answered: the server keeps the messages,
    // and the UIDs stay recorded.
    assert!(w.run(id).await.is_err());
    assert_eq!(*mailbox.lock().unwrap(), [true, true, true]);
    assert_eq!(w.uids(id).await, ["u-1", "u-2", "u-3"]);

    // Next time they are deleted without being downloaded again; then the UIDs are forgotten.
    let r = w.run(id).await.unwrap();
    assert_eq!((r.downloaded, r.deleted), (0, 3));
    assert_eq!(*mailbox.lock().unwrap(), [false, false, false]);
    assert!(w.uids(id).await.is_empty());
    assert_eq!(w.run(id).await.unwrap(), Report::default());
    w.wait_inbox("john@example.com", 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(w.inbox("john@example.com").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn locks_left_by_a_crash_are_cleared_at_start_up() {
    let w = world(&[("smtp", "none")]).await;
    let (port, _) = scripted_server(vec![Script::Serve, Script::Serve]).await;
    // Locked and due, as a crash in the middle of a download leaves it: nobody downloads it.
    let id = w
        .add(port, Security::None, 0, |fa| {
            fa.locked = true;
            fa.next_try = altimail_store::db::never();
        })
        .await;
    assert_eq!(w.fetcher.run_due(altimail_core::time::now_local()).await.unwrap(), 0);
    // A worker starting up clears the lock and downloads it.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(w.fetcher.clone().run(stopped));
    w.wait_inbox("john@example.com", 3).await;
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), worker).await.unwrap().unwrap();
    assert_eq!(w.uids(id).await.len(), 3);
    assert!(!fetch_accounts::require(&w.store.db, id).await.unwrap().locked);
}

/// A POP3 server that accepts one connection and says nothing until `release` is notified,
/// then closes it (the client then fails: "closed the connection").
async fn stalled_server(release: std::sync::Arc<tokio::sync::Notify>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else { return };
        release.notified().await;
        drop(socket);
    });
    port
}

/// Reads `fanexttry` directly (the row may be one [`fetch_accounts::get`] cannot read).
async fn next_try(w: &World, id: i64) -> chrono::NaiveDateTime {
    let row = w.store.db.fetch_optional("SELECT fanexttry FROM hm_fetchaccounts WHERE faid = ?", &[id.into()]).await;
    row.unwrap().unwrap().time("fanexttry").unwrap()
}

/// Asserts that `next` is `minutes` after a moment between `before` and `after` (give or take
/// the second the engines round to).
fn assert_scheduled(
    e: &str,
    what: &str,
    next: chrono::NaiveDateTime,
    minutes: i64,
    before: chrono::NaiveDateTime,
    after: chrono::NaiveDateTime,
) {
    let slack = chrono::Duration::seconds(2);
    let (low, high) =
        (before + chrono::Duration::minutes(minutes) - slack, after + chrono::Duration::minutes(minutes) + slack);
    assert!(low <= next && next <= high, "{e}: {what}: next try {next}, expected between {low} and {high}");
}

/// One bad row (an undecryptable `fapassword`), one server that never answers and one that
/// refuses the password do not stop the others: due accounts are downloaded side by side, the
/// bad row is skipped, logged and rescheduled, and failed accounts are tried again `faminutes`
/// later.
#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_and_slow_or_failing_servers_hold_up_nobody_on_every_database() {
    for db in backends("fetch_robust").await {
        let w = world_on(db, &[("smtp", "none"), ("pop3", "none")]).await;
        bad_rows_and_slow_or_failing_servers_hold_up_nobody(&w).await;
        w.finish().await;
    }
}

async fn bad_rows_and_slow_or_failing_servers_hold_up_nobody(w: &World) {
    let e = w.e();
    let (smtp, pop3) = (w.ports[0], w.ports[1]);
    send(smtp, "remote@example.com", "good", 2, "");
    w.wait_inbox("remote@example.com", 2).await;
    // Due at a time far ahead, so that the worker of the running server leaves them alone.
    let now = chrono::NaiveDate::from_ymd_opt(2990, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let due_since = |minutes: i64| move |fa: &mut FetchAccount| fa.next_try = now - chrono::Duration::minutes(minutes);

    // In the order they are due: the bad row, the silent server, the refusing one, the good one.
    let bad = w
        .add(pop3, Security::None, 0, |fa| {
            due_since(4)(fa);
            fa.minutes = 13;
        })
        .await;
    w.store
        .db
        .execute("UPDATE hm_fetchaccounts SET fapassword = 'not hex!' WHERE faid = ?", &[bad.into()])
        .await
        .unwrap();
    assert!(fetch_accounts::get(&w.store.db, bad).await.is_err(), "{e}: the row cannot be read");
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let silent_port = stalled_server(release.clone()).await;
    let silent = w
        .add(silent_port, Security::None, 0, |fa| {
            due_since(3)(fa);
            fa.minutes = 7;
        })
        .await;
    let (refusing_port, _) = scripted_server(vec![Script::RefuseLogin]).await;
    let refusing = w
        .add(refusing_port, Security::None, 0, |fa| {
            due_since(2)(fa);
            fa.minutes = 11;
        })
        .await;
    let good = w.add(pop3, Security::None, -1, due_since(1)).await;

    // The bad row is left out of the due list, not the cause of an error.
    let due = fetch_accounts::due(&w.store.db, now).await.unwrap();
    assert_eq!(due.iter().map(|fa| fa.id).collect::<Vec<_>>(), [silent, refusing, good], "{e}");

    // The good account is downloaded while the silent server still holds its connection.
    let before = altimail_core::time::now_local();
    let fetcher = w.fetcher.clone();
    let run = tokio::spawn(async move { fetcher.run_due(now).await });
    w.wait_inbox("john@example.com", 2).await;
    for _ in 0..100 {
        if w.inbox("remote@example.com").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(w.inbox("remote@example.com").await.is_empty(), "{e}: the good account finished");
    assert!(!run.is_finished(), "{e}: the silent server is still being waited for");
    assert!(fetch_accounts::require(&w.store.db, silent).await.unwrap().locked, "{e}");
    release.notify_one();
    let ran = tokio::time::timeout(Duration::from_secs(20), run).await.unwrap().unwrap().unwrap();
    let after = altimail_core::time::now_local();
    assert_eq!(ran, 3, "{e}: the three readable accounts ran");

    // Failures are tried again faminutes later; the good one too; the bad row is moved on.
    for (id, minutes, what) in [(silent, 7, "silent"), (refusing, 11, "refusing"), (good, 30, "good"), (bad, 13, "bad")]
    {
        assert_scheduled(e, what, next_try(w, id).await, minutes, before, after);
    }
    for id in [silent, refusing, good] {
        assert!(!fetch_accounts::require(&w.store.db, id).await.unwrap().locked, "{e}: {id} unlocked");
    }
    let log = w.log_text();
    assert!(log.contains(&format!("ExternalAccount - id {bad} skipped: ")), "{e}: {log}");
    assert!(log.contains("ExternalAccount - Remote box: download from 127.0.0.1:"), "{e}: {log}");
    let db = &w.store.db;
    assert!(!fetch_accounts::try_lock_due(db, good, altimail_core::time::now_local()).await.unwrap(), "{e}: not due");
    assert_eq!(w.fetcher.run_due(altimail_core::time::now_local()).await.unwrap(), 0, "{e}: nothing due now");
}

/// Sends `message` as is from sender@remote.test to `rcpt`.
fn send_raw(smtp: u16, rcpt: &str, message: &str) {
    const RAW: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.sendmail("sender@remote.test", [sys.argv[2]], sys.argv[3])
s.quit()
"#;
    let (code, _, err) = python(RAW, &[&smtp.to_string(), rcpt, message]);
    assert_eq!(code, 0, "smtplib: {err}");
}

/// `fauseantivirus`: an infected message is not delivered (its UIDL is recorded, so it is not
/// fetched again); with clamd unreachable nothing is delivered or recorded, the mail stays on
/// the server for the next run.
#[tokio::test(flavor = "multi_thread")]
async fn fetched_mail_is_scanned_on_every_database() {
    let Some(clamd) = altimail_testkit::peers::Clamd::start("8M") else { return };
    for db in backends("fetch_av").await {
        let w = world_on(db, &[("smtp", "none"), ("pop3", "none")]).await;
        let e = w.e();
        let (smtp, pop3) = (w.ports[0], w.ports[1]);
        send(smtp, "remote@example.com", "clean", 1, "");
        let eicar = std::str::from_utf8(altimail_testkit::peers::EICAR).unwrap();
        let infected =
            format!("From: <sender@remote.test>\r\nTo: <remote@example.com>\r\nSubject: infected\r\n\r\n{eicar}\r\n");
        send_raw(smtp, "remote@example.com", &infected);
        w.wait_inbox("remote@example.com", 2).await;
        // ClamAV on only now: the server's own SMTP took both messages unscanned.
        let closed = common::free_port().to_string();
        for (name, value) in [("ClamAVEnabled", "1"), ("ClamAVHost", "127.0.0.1"), ("ClamAVPort", &closed)] {
            w.i.ok(&["setting", "set", name, value]);
        }
        let id = w.add(pop3, Security::None, 0, |fa| fa.use_antivirus = true).await;

        let r = w.run(id).await;
        assert!(matches!(r, Err(FetchError::Scan(_))), "{e}: {r:?}");
        assert!(w.uids(id).await.is_empty(), "{e}");
        assert!(w.inbox("john@example.com").await.is_empty(), "{e}");

        w.i.ok(&["setting", "set", "ClamAVPort", &clamd.port.to_string()]);
        // hMailServer's notices of a deleted message: to the receiver and to the sender.
        w.i.ok(&["setting", "set", "avnotifyreceiver", "1"]);
        w.i.ok(&["setting", "set", "avnotifysender", "1"]);
        let r = w.run(id).await.unwrap();
        assert_eq!(r.downloaded, 2, "{e}");
        assert_eq!(w.uids(id).await.len(), 2, "{e}");
        let john = w.wait_inbox("john@example.com", 2).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let john_now = w.inbox("john@example.com").await;
        assert_eq!(subjects(&john_now), ["Virus found: infected", "clean 1"], "{e}: {john:?}");
        let notice = john_now.iter().find(|text| text.contains("Subject: Virus found: infected"));
        let notice = notice.expect("the receiver's notice");
        assert!(notice.contains("The message below contained a virus"), "{e}: {notice}");
        assert!(notice.contains("From: <sender@remote.test>"), "{e}: {notice}");
        // The sender's notice went to sender@remote.test (queued for remote delivery).
        let log = w.log_text();
        assert!(log.contains("POP3C - Remote box: virus notice to sender@remote.test"), "{e}: {log}");
        let log = w.log_text();
        assert!(
            log.contains("POP3C - Remote box: Virus found: Altimail.Test.EICAR.UNOFFICIAL - message deleted"),
            "{e}: {log}"
        );
        w.finish().await;
    }
}
