//! POP3 end to end: Python's poplib, curl and fetchmail against `altimail serve` over plain
//! sockets, STLS and implicit TLS, with mail put in the mailboxes over SMTP and checked where
//! hMailServer keeps it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::{ScratchDb, backends};
use common::{Install, inbox, wait_inbox};
use serde_json::Value;

/// A domain with two accounts.
fn populate(i: &Install) {
    common::example_com(i, &[]);
    i.ok(&["account", "add", "mary@example.com", "--password", "secret-pw"]);
}

/// Sends `count` messages to `rcpt` over SMTP; message k has subject `<tag> k` and a body
/// line starting with a dot.
fn send(smtp_port: u16, rcpt: &str, tag: &str, count: usize) {
    let template = "From: <sender@remote.test>\r\nTo: <%(rcpt)s>\r\nSubject: %(tag)s %(k)d\r\n\r\n\
                    Body of %(tag)s %(k)d.\r\n.leading dot line\r\nline 3\r\nline 4\r\n";
    common::send_numbered(smtp_port, rcpt, tag, count, template);
}

/// poplib clients from a chosen source address, TLS or not, and helpers.
const PRELUDE: &str = r#"
import poplib

class Plain(poplib.POP3):
    def __init__(self, port, src="127.0.0.1"):
        self._src = src
        super().__init__("127.0.0.1", port, timeout=20)
    def _create_socket(self, timeout):
        return connect_from(self, timeout)

class Tls(poplib.POP3_SSL):
    def __init__(self, port, src="127.0.0.1"):
        self._src = src
        super().__init__("127.0.0.1", port, timeout=20, context=CTX)
    def _create_socket(self, timeout):
        return connect_from(self, timeout, self.context)

def err(f):
    try:
        f()
        return None
    except poplib.error_proto as e:
        return e.args[0].decode()

def login(p, user="john@example.com", pw="secret-pw"):
    p.user(user)
    p.pass_(pw)
    return p

def login_when_free(make):
    """Logs on, waiting while the server still holds the lock of a dropped session."""
    for _ in range(50):
        p = make()
        try:
            return login(p)
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0]:
                raise
            p.close()
            time.sleep(0.1)
    raise Exception("the mailbox stayed locked")

def lines(response):
    return [l.decode() for l in response[1]]
"#;

/// Runs `PRELUDE` + `script` with `args`; returns the JSON it printed.
fn poplib(script: &str, args: &[&str]) -> Value {
    common::client_script("poplib", PRELUDE, script, args)
}

const CLIENTS: &str = r#"
starttls, tls = int(sys.argv[1]), int(sys.argv[2])

p = Plain(starttls)
out["welcome"] = p.getwelcome().decode()
out["capa"] = sorted(p.capa().keys())
login(p)
out["stat"] = list(p.stat())
out["list"] = lines(p.list())
out["uidl"] = lines(p.uidl())
out["uidl_2"] = p.uidl(2).decode()
out["top_0"] = lines(p.top(1, 0))
out["top_2"] = lines(p.top(1, 2))
response, body, octets = p.retr(1)
out["retr_status"] = response.decode()
out["retr"] = "\r\n".join(l.decode() for l in body) + "\r\n"
out["quit"] = p.quit().decode()

# From the Internet range logons need TLS: refused in plain text, fine after STLS.
p = Plain(starttls, "127.0.0.2")
out["internet_capa"] = sorted(p.capa().keys())
out["internet_user"] = err(lambda: p.user("john@example.com"))
p.stls(CTX)
out["stls_capa"] = sorted(p.capa().keys())
login(p)
out["stls_stat"] = list(p.stat())
p.quit()

# Implicit TLS; a second session on the mailbox is refused while the first holds it.
p = login(Tls(tls, "127.0.0.2"))
out["tls_uidl"] = lines(p.uidl())
q = Tls(tls)
q.user("john@example.com")
out["in_use"] = err(lambda: q.pass_("secret-pw"))
p.quit()
login(q)
out["after_release"] = list(q.stat())

# DELE, then the connection drops: nothing is deleted, and the lock goes with the connection.
q.dele(1)
q.close()
r = login_when_free(lambda: Plain(starttls))
out["after_drop"] = list(r.stat())

# DELE and QUIT: message 1 is deleted.
out["dele"] = r.dele(1).decode()
out["dele_quit"] = r.quit().decode()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn poplib_curl_and_fetchmail_on_every_database() {
    for db in backends("pop3_clients").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "starttls"), ("pop3", "tls")]);
        let (smtp, starttls, tls) = (ports[0], ports[1], ports[2]);
        send(smtp, "john@example.com", "john", 3);
        send(smtp, "mary@example.com", "mary", 2);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 3).await;
        wait_inbox(&store, "mary@example.com", 2).await;
        let stored: Vec<String> = john.iter().map(|(_, path)| std::fs::read_to_string(path).unwrap()).collect();

        let out = poplib(CLIENTS, &[&starttls.to_string(), &tls.to_string()]);
        assert_eq!(out["welcome"], "+OK POP3", "{e}");
        for capability in ["TOP", "UIDL", "USER", "SASL", "STLS", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"] {
            assert!(
                out["capa"].as_array().unwrap().iter().any(|c| c == capability),
                "{e}: {capability} in {}",
                out["capa"]
            );
        }
        let total: i64 = john.iter().map(|(m, _)| m.size).sum();
        assert_eq!(out["stat"], serde_json::json!([3, total]), "{e}");
        // Sizes are messagesize, UIDL is the IMAP UID, as hMailServer reports them.
        let listed: Vec<String> = john.iter().enumerate().map(|(n, (m, _))| format!("{} {}", n + 1, m.size)).collect();
        assert_eq!(out["list"], serde_json::json!(listed), "{e}");
        let uids: Vec<String> = john.iter().enumerate().map(|(n, (m, _))| format!("{} {}", n + 1, m.uid)).collect();
        assert_eq!(out["uidl"], serde_json::json!(uids), "{e}");
        assert_eq!(out["tls_uidl"], out["uidl"], "{e}");
        assert_eq!(out["uidl_2"], format!("+OK 2 {}", john[1].0.uid), "{e}");
        let first = &stored[0];
        assert_eq!(out["retr"], *first, "{e}: RETR gives the file as stored");
        assert_eq!(out["retr_status"], format!("+OK {} octets", john[0].0.size), "{e}");
        let header: Vec<&str> = first.split("\r\n\r\n").next().unwrap().split("\r\n").collect();
        let mut top_0: Vec<Value> = header.iter().map(|l| Value::from(*l)).collect();
        top_0.push("".into());
        assert_eq!(out["top_0"], Value::Array(top_0.clone()), "{e}");
        top_0.extend(["Body of john 1.".into(), ".leading dot line".into()]);
        assert_eq!(out["top_2"], Value::Array(top_0), "{e}: TOP unstuffs to the stored lines");
        assert_eq!(out["quit"], "+OK POP3 server saying goodbye...", "{e}");

        let internet_capa = out["internet_capa"].as_array().unwrap();
        assert!(!internet_capa.iter().any(|c| c == "USER") && internet_capa.iter().any(|c| c == "STLS"), "{e}");
        assert_eq!(out["internet_user"], "-ERR A SSL/TLS-connection is required for authentication.", "{e}");
        assert!(out["stls_capa"].as_array().unwrap().iter().any(|c| c == "USER"), "{e}");
        assert_eq!(out["stls_stat"][0], 3, "{e}");
        assert_eq!(out["in_use"], "-ERR [IN-USE] Your mailbox is already locked", "{e}");
        assert_eq!(out["after_release"][0], 3, "{e}");
        assert_eq!(out["after_drop"][0], 3, "{e}: a dropped connection deletes nothing");
        assert_eq!(out["dele"], "+OK msg deleted", "{e}");
        assert_eq!(out["dele_quit"], "+OK POP3 server saying goodbye...", "{e}");

        // QUIT deleted message 1: its row and its file; the others stay.
        let after = inbox(&store, "john@example.com").await;
        assert_eq!(after.iter().map(|(m, _)| m.id).collect::<Vec<_>>(), [john[1].0.id, john[2].0.id], "{e}");
        assert!(!john[0].1.exists(), "{e}: the file of the deleted message is gone");
        assert!(john[1].1.exists() && john[2].1.exists(), "{e}");

        // curl: RETR over plain text, STLS and implicit TLS, and LIST.
        let curl = |url: &str, extra: &[&str]| String::from_utf8(common::curl(e, url, extra)).unwrap();
        assert_eq!(curl(&format!("pop3://127.0.0.1:{starttls}/1"), &[]), stored[1], "{e}: curl RETR");
        assert_eq!(curl(&format!("pop3://127.0.0.1:{starttls}/2"), &["--ssl-reqd", "-k"]), stored[2], "{e}: curl STLS");
        assert_eq!(curl(&format!("pop3s://127.0.0.1:{tls}/1"), &["-k"]), stored[1], "{e}: curl pop3s");
        assert_eq!(
            curl(&format!("pop3://127.0.0.1:{starttls}/"), &[]),
            format!("1 {}\r\n2 {}\r\n", john[1].0.size, john[2].0.size),
            "{e}: curl LIST"
        );

        fetchmail_collects(&i, &store, tls, e).await;

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

/// fetchmail, the classic POP3 client, downloads mary's two messages over implicit TLS into an
/// MDA and deletes them from the server.
async fn fetchmail_collects(i: &Install, store: &Store, tls: u16, e: &str) {
    if !altimail_testkit::have_tool("fetchmail", &["--version"], "fetchmail") {
        return;
    }
    let home = i.path("fetchmail");
    std::fs::create_dir_all(&home).unwrap();
    let mbox = home.join("delivered.mbox");
    let rc = home.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "poll 127.0.0.1 with proto POP3 port {tls}\n  \
             user \"mary@example.com\" there with password \"secret-pw\"\n  \
             ssl no sslcertck\n  \
             mda \"cat >> {}\"\n",
            mbox.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new("fetchmail")
        .args(["-f"])
        .arg(&rc)
        .args(["--nodetach", "--nosyslog"])
        .env("FETCHMAILHOME", &home)
        .env("HOME", &home)
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{e}: fetchmail: {log}");
    let delivered = std::fs::read_to_string(&mbox).unwrap_or_default();
    assert!(delivered.contains("Subject: mary 1") && delivered.contains("Subject: mary 2"), "{e}: {delivered}\n{log}");
    assert!(delivered.contains("\n.leading dot line"), "{e}: dot-stuffing undone");
    assert!(inbox(store, "mary@example.com").await.is_empty(), "{e}: fetchmail deleted what it fetched");
}

const BAN: &str = r#"
tls = int(sys.argv[1])
p = Tls(tls, "127.0.0.3")
out["failures"] = [err(lambda: login(p, pw="wrong-pw")) for _ in range(3)]
try:
    Tls(tls, "127.0.0.3").quit()
    out["banned"] = False
except Exception:
    out["banned"] = True
p = login(Tls(tls))
out["retr"] = p.retr(1)[0].decode()
p.quit()
"#;

/// Failed logons count towards auto-ban (`MaxInvalidLogonAttempts`, 3 by default); the log has
/// POP3D lines with the password masked and no message bodies.
#[tokio::test(flavor = "multi_thread")]
async fn failed_logons_ban_the_client_and_the_log_keeps_secrets() {
    let i = Install::new(ScratchDb::sqlite());
    populate(&i);
    // Auto-ban spares loopback unless told otherwise: here only 127.0.0.1, so 127.0.0.3 is banned.
    i.ok(&["setting", "set", "altimailtrustedranges", "127.0.0.1"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "tls")]);
    send(ports[0], "john@example.com", "zebra-marker", 1);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    wait_inbox(&store, "john@example.com", 1).await;

    let out = poplib(BAN, &[&ports[1].to_string()]);
    assert_eq!(
        out["failures"],
        serde_json::json!([
            "-ERR [AUTH] Invalid user name or password.",
            "-ERR [AUTH] Invalid user name or password.",
            "-ERR [AUTH] Invalid user name or password. Too many invalid logon attempts."
        ])
    );
    assert_eq!(out["banned"], true, "the banned address cannot connect again");
    assert!(out["retr"].as_str().unwrap().ends_with(" octets"), "other addresses still can");
    let ranges = i.ok(&["range", "list"]);
    assert!(ranges.contains("Auto-ban: john@example.com"), "{ranges}");

    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap();
    let pop3: Vec<&str> = log.lines().filter(|l| l.starts_with("\"POP3D\"\t")).collect();
    assert!(pop3.iter().any(|l| l.ends_with("\"SENT: +OK POP3\"")), "{log}");
    assert!(pop3.iter().any(|l| l.ends_with("\"RECEIVED: USER john@example.com\"")), "{log}");
    assert!(pop3.iter().any(|l| l.ends_with("\"RECEIVED: PASS ***\"")), "{log}");
    assert!(pop3.iter().any(|l| l.contains("\"SENT: +OK ") && l.ends_with(" octets\"")), "{log}");
    assert!(!log.contains("wrong-pw") && !log.contains("secret-pw"), "passwords never logged");
    assert!(!log.contains("Body of zebra-marker"), "message bodies are not logged");
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}

const APOP: &str = r#"
port = int(sys.argv[1])
p = Plain(port)
out["welcome"] = p.getwelcome().decode()
p.apop("john@example.com", "plain-pw")
out["stat"] = list(p.stat())
out["missing"] = err(lambda: p.retr(2))
out["after"] = p.retr(1)[0].decode()
p.quit()
q = Plain(port)
out["wrong"] = err(lambda: q.apop("mary@example.com", "secret-pw"))
q.quit()
"#;

/// APOP (when the setting offers it, and only while every password has a clear text); a
/// message whose file is missing fails alone; pipelined commands over a raw socket.
#[tokio::test(flavor = "multi_thread")]
async fn apop_missing_files_and_pipelining() {
    let i = Install::new(ScratchDb::sqlite());
    populate(&i);
    i.ok(&["setting", "set", "altimailpop3apop", "1", "--create"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "none")]);
    let (smtp, pop3) = (ports[0], ports[1]);
    send(smtp, "john@example.com", "john", 3);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let john = wait_inbox(&store, "john@example.com", 3).await;
    let set_plain = async |address: &str, password: &str| {
        store
            .db
            .execute(
                "UPDATE hm_accounts SET accountpassword = ?, accountpwencryption = 0 WHERE accountaddress = ?",
                &[password.into(), address.into()],
            )
            .await
            .unwrap();
    };
    set_plain("john@example.com", "plain-pw").await;
    std::fs::remove_file(&john[1].1).unwrap();

    // Mary's password is hashed: no digest could be checked for her, so APOP is not offered.
    let socket = TcpStream::connect(("127.0.0.1", pop3)).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut greeting = String::new();
    BufReader::new(socket).read_line(&mut greeting).unwrap();
    assert_eq!(greeting, "+OK POP3\r\n", "no APOP timestamp while a password is hashed");

    // Every password recoverable (the answer is kept for a while: a restart asks again).
    set_plain("mary@example.com", "mary-pw").await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
    let mut server = common::Server::start(&i);
    common::wait_listening(pop3);
    let out = poplib(APOP, &[&pop3.to_string()]);
    let welcome = out["welcome"].as_str().unwrap();
    assert!(welcome.starts_with("+OK POP3 <") && welcome.ends_with("@mx.example.com>"), "{welcome}");
    assert_eq!(out["stat"][0], 3);
    assert_eq!(out["missing"], "-ERR [SYS/PERM] Message file is missing.");
    assert!(out["after"].as_str().unwrap().starts_with("+OK "), "the session goes on");
    assert_eq!(out["wrong"], "-ERR [AUTH] Invalid user name or password.", "a wrong password fails");
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let errors = std::fs::read_to_string(i.path(&format!("logs/ERROR_hmailserver_{today}.log"))).unwrap();
    assert!(errors.contains("Code: HM5063"), "{errors}");

    // Everything in one write: the answers come in order.
    let mut socket = TcpStream::connect(("127.0.0.1", pop3)).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    socket
        .write_all(
            b"USER john@example.com\r\nPASS plain-pw\r\nSTAT\r\nLIST 3\r\nUIDL 1\r\nDELE 2\r\nRETR 2\r\nQUIT\r\n",
        )
        .unwrap();
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    assert_eq!(
        rest,
        format!(
            "+OK Send your password\r\n+OK Mailbox locked and ready\r\n+OK 3 {}\r\n+OK 3 {}\r\n+OK 1 {}\r\n\
             +OK msg deleted\r\n-ERR Message 2 already deleted\r\n+OK POP3 server saying goodbye...\r\n",
            john.iter().map(|(m, _)| m.size).sum::<i64>(),
            john[2].0.size,
            john[0].0.uid
        )
    );
    let after = inbox(&store, "john@example.com").await;
    assert_eq!(after.len(), 2, "the message with the missing file is deleted at QUIT");
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}

/// `\0john@example.com\0secret-pw` and `\0john@example.com\0wrong-pw` in base64.
const PLAIN_GOOD: &str = "AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0LXB3";
const PLAIN_WRONG: &str = "AGpvaG5AZXhhbXBsZS5jb20Ad3JvbmctcHc=";

/// AUTH PLAIN (RFC 5034) over a real socket: with an initial response, after the empty `+ `
/// challenge, and refused with a wrong password either way; curl logs on with it too.
#[tokio::test(flavor = "multi_thread")]
async fn auth_plain_on_every_database() {
    for db in backends("pop3_auth_plain").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "none")]);
        let (smtp, pop3) = (ports[0], ports[1]);
        send(smtp, "john@example.com", "john", 2);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 2).await;
        let stat = format!("+OK 2 {}\r\n", john.iter().map(|(m, _)| m.size).sum::<i64>());

        // The mechanism is offered.
        let (mut c, greeting) = common::LineClient::connect(pop3);
        assert_eq!(greeting, "+OK POP3\r\n", "{e}");
        assert_eq!(c.ask("AUTH"), "+OK List of supported mechanisms follows\r\n", "{e}");
        assert_eq!(c.until("."), ["PLAIN\r\n", ".\r\n"], "{e}");

        // A wrong password, with an initial response: back to AUTHORIZATION.
        assert_eq!(
            c.ask(&format!("AUTH PLAIN {PLAIN_WRONG}")),
            "-ERR [AUTH] Invalid user name or password.\r\n",
            "{e}"
        );
        assert_eq!(c.ask("STAT"), "-ERR Invalid command in current state.\r\n", "{e}");
        // With an initial response: logged on at once.
        assert_eq!(c.ask(&format!("AUTH PLAIN {PLAIN_GOOD}")), "+OK Mailbox locked and ready\r\n", "{e}");
        assert_eq!(c.ask("STAT"), stat, "{e}");
        assert_eq!(c.ask("QUIT"), "+OK POP3 server saying goodbye...\r\n", "{e}");

        // Without one: the empty challenge, then the response. Wrong first, then right.
        let (mut c, _) = common::LineClient::connect(pop3);
        assert_eq!(c.ask("AUTH PLAIN"), "+ \r\n", "{e}");
        assert_eq!(c.ask(PLAIN_WRONG), "-ERR [AUTH] Invalid user name or password.\r\n", "{e}");
        assert_eq!(c.ask("auth plain"), "+ \r\n", "{e}");
        assert_eq!(c.ask(PLAIN_GOOD), "+OK Mailbox locked and ready\r\n", "{e}");
        assert_eq!(c.ask("STAT"), stat, "{e}");
        assert_eq!(c.ask("QUIT"), "+OK POP3 server saying goodbye...\r\n", "{e}");

        // curl with AUTH=PLAIN, without and with an initial response (--sasl-ir).
        let url = format!("pop3://127.0.0.1:{pop3}/");
        let listing = format!("1 {}\r\n2 {}\r\n", john[0].0.size, john[1].0.size);
        for extra in [&["--login-options", "AUTH=PLAIN"][..], &["--login-options", "AUTH=PLAIN", "--sasl-ir"]] {
            assert_eq!(String::from_utf8(common::curl(e, &url, extra)).unwrap(), listing, "{e}: curl {extra:?}");
        }
        let wrong = Command::new("curl")
            .args(["-s", "--max-time", "20", "--user", "john@example.com:wrong-pw", "--login-options", "AUTH=PLAIN"])
            .arg(&url)
            .output()
            .unwrap();
        assert!(!wrong.status.success(), "{e}: curl logged on with a wrong password");

        // The log has the exchanges, the secrets masked.
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap_or_default();
        assert!(!log.contains(PLAIN_GOOD) && !log.contains(PLAIN_WRONG), "{e}: AUTH secrets never logged");

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

/// IMAP sessions watching the INBOX see what POP3 deletes: an IDLE session gets the EXPUNGE
/// when the POP3 session QUITs; a POP3 connection dropped after DELE deletes nothing, so the
/// IMAP session hears nothing.
#[tokio::test(flavor = "multi_thread")]
async fn imap_sees_pop3_deletions_on_every_database() {
    for db in backends("pop3_imap_expunge").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "none"), ("imap", "none")]);
        let (smtp, pop3, imap) = (ports[0], ports[1], ports[2]);
        send(smtp, "john@example.com", "john", 3);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 3).await;

        let (mut m, greeting) = common::LineClient::connect(imap);
        assert!(greeting.starts_with("* OK"), "{e}: {greeting}");
        m.send("a1 LOGIN john@example.com secret-pw\r\n");
        assert!(m.until("a1 ").last().unwrap().starts_with("a1 OK"), "{e}");
        m.send("a2 SELECT INBOX\r\n");
        let selected = m.until("a2 ");
        assert!(selected.iter().any(|l| l == "* 3 EXISTS\r\n"), "{e}: {selected:?}");
        assert!(m.ask("a3 IDLE").starts_with("+ "), "{e}");

        // POP3 deletes message 1 and QUITs: the IDLE session hears of it within seconds.
        let pop3_delete = |quit: bool| {
            let (mut p, _) = common::LineClient::connect(pop3);
            for _ in 0..50 {
                // Wait while the server still holds the lock of a dropped session.
                assert_eq!(p.ask("USER john@example.com"), "+OK Send your password\r\n", "{e}");
                let answer = p.ask("PASS secret-pw");
                if answer == "+OK Mailbox locked and ready\r\n" {
                    break;
                }
                assert!(answer.starts_with("-ERR [IN-USE]"), "{e}: {answer}");
                std::thread::sleep(Duration::from_millis(100));
            }
            assert_eq!(p.ask("DELE 1"), "+OK msg deleted\r\n", "{e}");
            if quit {
                assert_eq!(p.ask("QUIT"), "+OK POP3 server saying goodbye...\r\n", "{e}");
                assert_eq!(p.line(), "", "{e}: closed after QUIT");
            } else {
                p.writer.shutdown(std::net::Shutdown::Both).unwrap();
            }
        };
        pop3_delete(true);
        m.writer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let lines = m.until("* ");
        assert_eq!(lines, ["* 1 EXPUNGE\r\n"], "{e}");
        m.writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        m.send("DONE\r\n");
        let done = m.until("a3 ");
        assert!(done.last().unwrap().starts_with("a3 OK"), "{e}: {done:?}");
        let after = inbox(&store, "john@example.com").await;
        assert_eq!(after.iter().map(|(m, _)| m.id).collect::<Vec<_>>(), [john[1].0.id, john[2].0.id], "{e}");

        // DELE, then the POP3 connection drops: nothing deleted, nothing told.
        assert!(m.ask("a4 IDLE").starts_with("+ "), "{e}");
        pop3_delete(false);
        m.silent_for(Duration::from_secs(2)).unwrap_or_else(|why| panic!("{e}: {why}"));
        m.send("DONE\r\n");
        let done = m.until("a4 ");
        assert_eq!(done.len(), 1, "{e}: {done:?}");
        let noop = m.ask("a5 NOOP");
        assert!(noop.starts_with("a5 OK"), "{e}: nothing to report: {noop}");
        // A later POP3 session (once the dropped one's lock is gone) still sees both messages.
        let (mut p, _) = common::LineClient::connect(pop3);
        let mut stat = String::new();
        for _ in 0..50 {
            p.ask("USER john@example.com");
            if p.ask("PASS secret-pw") == "+OK Mailbox locked and ready\r\n" {
                stat = p.ask("STAT");
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(stat.starts_with("+OK 2 "), "{e}: {stat}");
        p.ask("QUIT");
        assert_eq!(inbox(&store, "john@example.com").await.len(), 2, "{e}");

        // Once more, then NOOP outside IDLE: the EXPUNGE comes with it.
        pop3_delete(true);
        let noop = m.ask_all("a6 NOOP");
        assert_eq!(noop[..noop.len() - 1], ["* 1 EXPUNGE\r\n"], "{e}: {noop:?}");
        assert!(noop.last().unwrap().starts_with("a6 OK"), "{e}: {noop:?}");
        m.send("a7 LOGOUT\r\n");
        assert!(m.until("a7 ").last().unwrap().starts_with("a7 OK"), "{e}");
        assert_eq!(inbox(&store, "john@example.com").await.len(), 1, "{e}");

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}
