//! SMTP end to end: real clients (Python's smtplib, swaks, raw sockets) against `altimail serve`,
//! mail checked where hMailServer keeps it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use altimail_store::repo::{accounts, folders, messages};
use altimail_store::{Location, Store};
use altimail_testkit::{ScratchDb, backends};
use common::{Install, eventually, python};

/// A domain with accounts, an alias, a list, plus addressing and a catch-all.
fn populate(i: &Install) {
    common::example_com(i, &[]);
    i.ok(&["domain", "add", "other.test"]);
    for a in ["mary", "catch"] {
        i.ok(&["account", "add", &format!("{a}@example.com"), "--password", "secret-pw"]);
    }
    i.ok(&["account", "add", "olga@other.test", "--password", "secret-pw"]);
    i.ok(&["domain", "set", "example.com", "--catch-all", "catch@example.com", "--plus-addressing", "yes"]);
    i.ok(&["alias", "add", "info@example.com", "john@example.com"]);
    i.ok(&["list", "add", "team@example.com"]);
    i.ok(&["list", "member", "add", "team@example.com", "john@example.com"]);
    i.ok(&["list", "member", "add", "team@example.com", "mary@example.com"]);
}

/// The messages in an account's INBOX with their file contents.
async fn inbox(store: &Store, address: &str) -> Vec<String> {
    let a = accounts::find(&store.db, address).await.unwrap().unwrap();
    let inbox = folders::ensure_inbox(&store.db, a.id).await.unwrap();
    let mut out = Vec::new();
    for m in messages::in_folder(&store.db, a.id, inbox.id).await.unwrap() {
        let path = store.files.resolve(Location::Account(&a.address), &m.file_name);
        assert!(
            path.starts_with(store.files.data_dir().join("example.com").join(a.address.split('@').next().unwrap()))
                || path.starts_with(store.files.data_dir().join("other.test"))
        );
        out.push(std::fs::read_to_string(&path).unwrap());
    }
    out
}

async fn wait_inbox(store: &Store, address: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let got = inbox(store, address).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{address}: fewer than {n} messages after 10 s: {:?}", inbox(store, address).await.len());
}

const SEND: &str = r#"
import smtplib, sys
port, src, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rcpts = sys.argv[4].split(",")
subject = sys.argv[5]
s = smtplib.SMTP("127.0.0.1", port, source_address=(src, 0), timeout=20)
s.ehlo("client.remote.test")
msg = "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nHello.\r\n.leading dot line\r\n" % (sender, rcpts[0], subject)
try:
    refused = s.sendmail(sender, rcpts, msg)
    print("refused:", sorted(refused))
except smtplib.SMTPRecipientsRefused as e:
    print("all refused:", sorted((k, v[0]) for k, v in e.recipients.items()))
s.quit()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn mail_reaches_accounts_aliases_lists_catch_all_and_plus_addresses() {
    if !altimail_testkit::have_tool("swaks", &["--version"], "swaks") {
        return;
    }
    for db in backends("smtp_local").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, ports) = i.serve_on(&[("smtp", "starttls"), ("smtp", "tls")]);
        let port = ports[0].to_string();
        let (code, out, err) = python(
            SEND,
            &[
                &port,
                "127.0.0.2",
                "sender@remote.test",
                "john@example.com,info@example.com,team@example.com,nobody@example.com,mary+news@example.com,ghost@other.test",
                "first",
            ],
        );
        assert_eq!(code, 0, "{e}: {err}");
        assert!(
            out.contains("refused: [('ghost@other.test', 550)]") || out.contains("'ghost@other.test'"),
            "{e}: unknown user refused at RCPT: {out}"
        );

        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        // john: direct, via the alias and via the list — collapsed to one copy per message.
        let john = wait_inbox(&store, "john@example.com", 1).await;
        assert_eq!(john.len(), 1, "{e}: duplicates collapse");
        let text = &john[0];
        assert!(text.starts_with("Return-Path: <sender@remote.test>\r\nReceived: from client.remote.test ([127.0.0.2])\r\n\tby mx.example.com with ESMTP"), "{e}: {text}");
        assert!(text.contains("\r\n.leading dot line\r\n"), "{e}: dot-unstuffed");
        assert_eq!(
            wait_inbox(&store, "mary@example.com", 1).await.len(),
            1,
            "{e}: list member and plus address collapse"
        );
        assert_eq!(wait_inbox(&store, "catch@example.com", 1).await.len(), 1, "{e}: catch-all");

        // swaks over STARTTLS and over implicit TLS.
        let swaks = |args: &[&str]| {
            let out = Command::new("swaks").args(args).output().expect("swaks (Debian package) is installed");
            (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let (code, out) = swaks(&[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "--from",
            "a@remote.test",
            "--to",
            "mary@example.com",
            "--header",
            "Subject: via swaks",
        ]);
        assert_eq!(code, 0, "{e}: {out}");
        let tls_port = ports[1].to_string();
        let (code, out) = swaks(&[
            "--server",
            &format!("127.0.0.1:{tls_port}"),
            "--tlsc",
            "--from",
            "a@remote.test",
            "--to",
            "mary@example.com",
            "--header",
            "Subject: via smtps",
        ]);
        assert_eq!(code, 0, "{e}: {out}");
        let mary = wait_inbox(&store, "mary@example.com", 3).await;
        assert!(
            mary.iter().any(|m| m.contains("Subject: via swaks") && m.contains("with ESMTPS\r\n\t(version=TLSv1.")),
            "{e}: {mary:?}"
        );

        // Relaying needs authentication; with it, remote recipients are queued.
        let (code, out) = swaks(&[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--local-interface",
            "127.0.0.2",
            "--from",
            "john@example.com",
            "--to",
            "someone@remote.test",
            "--quit-after",
            "RCPT",
        ]);
        assert_ne!(code, 0, "{e}: unauthenticated relay must fail");
        assert!(out.contains("530 5.7.0"), "{e}: {out}");
        let (code, out) = swaks(&[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--local-interface",
            "127.0.0.2",
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "john@example.com",
            "--auth-password",
            "secret-pw",
            "--from",
            "john@example.com",
            "--to",
            "someone@remote.test",
        ]);
        assert_eq!(code, 0, "{e}: {out}");
        assert!(out.contains("235 "), "{e}: {out}");
        eventually("remote recipient queued", || {
            let q = futures_block(messages::queue(&store.db));
            q.iter().any(|m| m.from == "john@example.com")
        });
        let (code, out) = swaks(&[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            "john@example.com",
            "--auth-password",
            "wrong",
            "--from",
            "john@example.com",
            "--to",
            "mary@example.com",
        ]);
        assert_ne!(code, 0, "{e}");
        assert!(out.contains("535 "), "{e}: {out}");

        // A submission without Date and Message-ID gets both.
        let submit = r#"
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.starttls(context=ssl._create_unverified_context())
s.login("john@example.com", "secret-pw")
s.sendmail("john@example.com", ["mary@example.com"], "Subject: bare submission\r\n\r\nno date, no id\r\n")
s.quit()
"#;
        let (code, _, err) = python(submit, &[&port]);
        assert_eq!(code, 0, "{e}: {err}");
        let mary = wait_inbox(&store, "mary@example.com", 4).await;
        let bare = mary.iter().find(|m| m.contains("Subject: bare submission")).expect("submitted message");
        assert!(bare.contains("\r\nDate: ") && bare.contains("\r\nMessage-ID: <"), "{e}: {bare}");
        assert!(bare.contains("with ESMTPSA"), "{e}: {bare}");

        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap();
        assert!(log.contains("\"SMTPD\"\t") && log.contains("SENT: 250"), "{e}: SMTPD lines");
        // The password, its base64 (AUTH LOGIN) and the whole AUTH PLAIN blob smtplib sent.
        for secret in ["secret-pw", "c2VjcmV0LXB3", "AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0LXB3"] {
            assert!(!log.contains(secret), "{e}: AUTH payloads never logged");
        }
        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

fn futures_block<T>(f: impl std::future::Future<Output = Result<T, altimail_store::StoreError>>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).unwrap()
}

/// Talks SMTP over a raw socket from `source`: waits for the greeting, sends `script` in one
/// go (pipelined) and returns everything the server said until it closed.
fn raw_session(port: u16, source: &str, script: &[&[u8]]) -> String {
    let socket = socket2_connect(source, port);
    socket.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let mut writer = socket;
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    writer.write_all(&script.concat()).unwrap();
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    greeting + &rest
}

/// A TCP connection from a chosen loopback source address (127.0.0.2 is "the Internet").
fn socket2_connect(source: &str, port: u16) -> TcpStream {
    let src: SocketAddr = format!("{source}:0").parse().unwrap();
    let dst: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&src.into()).unwrap();
    sock.connect(&dst.into()).unwrap();
    sock.into()
}

#[tokio::test(flavor = "multi_thread")]
async fn relay_tricks_are_refused_from_the_internet() {
    let i = Install::new(ScratchDb::sqlite());
    populate(&i);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0];
    for rcpt in [
        "<user%remote.test@other.test>",
        "<remote.test!user@other.test>",
        "<\"user@remote.test\"@other.test>",
        "<@other.test:user@remote.test>",
        "<user@remote.test>",
        "<user@[192.0.2.1]>",
        "<user@[IPv6:2001:db8::1]>",
        "<user@REMOTE.TEST>",
        "<user@other.test.remote.test>",
        "<user@remote.test.>",
        "<user>",
        "<user@other.test@remote.test>",
        "user@remote.test",
    ] {
        let cmd = format!("RCPT TO:{rcpt}\r\n");
        let t = raw_session(
            port,
            "127.0.0.2",
            &[b"EHLO relay.test\r\n", b"MAIL FROM:<spammer@remote.test>\r\n", cmd.as_bytes(), b"QUIT\r\n"],
        );
        let rcpt_reply = t
            .lines()
            .nth(t.lines().position(|l| l.starts_with("250 ") && l.contains("2.1.0")).map_or(0, |p| p + 1))
            .unwrap_or("");
        assert!(rcpt_reply.starts_with('5'), "{rcpt}: {t}");
    }
    // Spoofing a local sender to a remote recipient needs authentication too.
    let t = raw_session(
        port,
        "127.0.0.2",
        &[
            b"EHLO relay.test\r\n",
            b"MAIL FROM:<john@example.com>\r\n",
            b"RCPT TO:<victim@remote.test>\r\n",
            b"QUIT\r\n",
        ],
    );
    assert!(t.contains("530 5.7.0"), "{t}");
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    assert!(messages::queue(&store.db).await.unwrap().is_empty(), "nothing was queued");
    assert!(server.stop(Duration::from_secs(25)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn smuggled_messages_never_become_two() {
    let i = Install::new(ScratchDb::sqlite());
    populate(&i);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0];
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    for (n, end) in [b"\n.\n".as_slice(), b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r"].iter().enumerate() {
        let mut body = b"Subject: smuggle\r\n\r\nfirst".to_vec();
        body.extend_from_slice(end);
        body.extend_from_slice(b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<mary@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n");
        let t = raw_session(
            port,
            "127.0.0.2",
            &[
                b"EHLO s.test\r\n",
                b"MAIL FROM:<a@remote.test>\r\n",
                b"RCPT TO:<john@example.com>\r\n",
                b"DATA\r\n",
                &body,
                b"QUIT\r\n",
            ],
        );
        assert!(t.matches("250 2.0.0").count() <= 1, "case {n}: {t}");
        assert!(!t.contains("354") || t.matches("354").count() == 1, "case {n}: a second DATA never starts: {t}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(inbox(&store, "mary@example.com").await.is_empty(), "no smuggled message delivered");
    for m in inbox(&store, "john@example.com").await {
        assert!(
            !m.contains("Subject: smuggled\r\n\r\nsecond") || m.contains("first"),
            "smuggled text stays inside the first message"
        );
    }
    // With bare line endings refused, such messages are rejected outright.
    i.ok(&["setting", "set", "smtpallowincorrectlineendings", "0"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = raw_session(
        port,
        "127.0.0.2",
        &[
            b"EHLO s.test\r\n",
            b"MAIL FROM:<a@remote.test>\r\n",
            b"RCPT TO:<john@example.com>\r\n",
            b"DATA\r\n",
            b"Subject: x\r\n\r\nbare\n.\nline\r\n.\r\n",
            b"QUIT\r\n",
        ],
    );
    assert!(t.contains("554 "), "{t}");
    assert!(server.stop(Duration::from_secs(25)).success());
}

const BURST: &str = r#"
import smtplib, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("burst.test")
for k in range(n):
    s.sendmail("load@remote.test", ["john@example.com"], "Subject: burst %d\r\n\r\nbody %d\r\n" % (k, k))
    print("acked", k, flush=True)
"#;

/// kill -9 right after a series of 250 replies: after a restart every acknowledged message is
/// delivered exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_messages_survive_a_crash() {
    let i = Install::new(ScratchDb::sqlite());
    populate(&i);
    // Keep delivery from running before the crash: john is over quota... instead, stop right after.
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let (code, out, err) = python(BURST, &[&ports[0].to_string(), "30"]);
    assert_eq!(code, 0, "{err}");
    let acked: Vec<String> = out.lines().filter(|l| l.starts_with("acked")).map(str::to_owned).collect();
    assert_eq!(acked.len(), 30);
    server.kill();
    let mut server = common::Server::start(&i);
    common::wait_listening(ports[0]);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let got = wait_inbox(&store, "john@example.com", 30).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_after = inbox(&store, "john@example.com").await;
    assert_eq!(got_after.len(), got.len(), "nothing delivered twice");
    for k in 0..30 {
        let subject = format!("Subject: burst {k}\r\n");
        assert_eq!(got_after.iter().filter(|m| m.contains(&subject)).count(), 1, "message {k} exactly once");
    }
    assert!(messages::queue(&store.db).await.unwrap().is_empty());
    assert!(server.stop(Duration::from_secs(25)).success());
}

/// Copies in INBOXes (delivered messages) per account id.
async fn copies_per_account(store: &Store) -> std::collections::HashMap<i64, i64> {
    let rows = store
        .db
        .fetch_all(
            "SELECT messageaccountid, COUNT(*) AS n FROM hm_messages WHERE messagetype = 2 GROUP BY messageaccountid",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.int("messageaccountid").unwrap(), r.int("n").unwrap())).collect()
}

/// Message files under `dir`, at any depth.
fn copy_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { copy_files(&path) } else { usize::from(path.extension().is_some_and(|x| x == "eml")) }
        })
        .sum()
}

/// kill -9 while local delivery is writing the copies of one message to a list of 150 accounts:
/// after a restart every member has exactly one copy and the queue ends empty.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_during_local_delivery_loses_and_duplicates_nothing() {
    const MEMBERS: usize = 150;
    let i = Install::new(ScratchDb::sqlite());
    common::example_com(&i, &[]);
    i.ok(&["list", "add", "crowd@example.com"]);
    let members: Vec<i64> = {
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let domain = altimail_store::repo::domains::require(&store.db, "example.com").await.unwrap();
        let list = altimail_store::repo::lists::require(&store.db, "crowd@example.com").await.unwrap();
        let mut ids = Vec::new();
        for k in 0..MEMBERS {
            let address = format!("m{k:03}@example.com");
            let a = accounts::create(&store.db, &accounts::Account::new(domain.id, &address)).await.unwrap();
            altimail_store::repo::lists::add_member(&store.db, list.id, &address).await.unwrap();
            ids.push(a.id);
        }
        store.db.close().await;
        ids
    };
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let said = raw_session(
        ports[0],
        "127.0.0.1",
        &[
            b"EHLO crash.test\r\nMAIL FROM:<sender@remote.test>\r\nRCPT TO:<crowd@example.com>\r\nDATA\r\n",
            b"Subject: crowd\r\n\r\nTo everybody.\r\n.\r\nQUIT\r\n",
        ],
    );
    assert!(said.contains("250 Queued") || said.matches("\r\n250").count() >= 3, "{said}");
    // The copies of a batch are written as files first, then recorded in one transaction:
    // kill once about a third of the files exist.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if copy_files(&i.path("data/example.com")) >= MEMBERS / 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no copy written within 20 s: {}", server.stderr());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    let files = copy_files(&i.path("data/example.com"));
    let before: i64 = copies_per_account(&store).await.values().sum();
    eprintln!("killed with {files} of {MEMBERS} copy files written, {before} recorded");
    assert!(before == 0 || before == MEMBERS as i64, "copies are recorded all together or not at all: {before}");
    let queued = messages::queue(&store.db).await.unwrap().len();
    assert_eq!(queued, usize::from(before == 0), "the message is queued until its copies are recorded");

    let mut server = common::Server::start(&i);
    common::wait_listening(ports[0]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let copies = copies_per_account(&store).await;
        if members.iter().all(|id| copies.contains_key(id)) && messages::queue(&store.db).await.unwrap().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered within 30 s after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let copies = copies_per_account(&store).await;
    for id in &members {
        assert_eq!(copies.get(id), Some(&1), "account {id}: exactly one copy");
    }
    assert_eq!(copies.len(), MEMBERS, "no copy anywhere else");
    assert!(messages::queue(&store.db).await.unwrap().is_empty(), "the queue ends empty");
    let queue_files = std::fs::read_dir(i.path("data"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "eml"));
    assert_eq!(queue_files.count(), 0, "the queue file is removed");
    assert!(server.stop(Duration::from_secs(25)).success());
}
