//! The first hour without a wrong turn: auto-ban spares the machine itself and trusted ranges
//! and tells banned clients why; `ban list|remove`; removals that hold mail need `--force` and
//! take the folders with them; an account needs a password or `--no-password`; one name per
//! value in tables and JSON; `| head` ends the CLI quietly.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::ScratchDb;
use common::{Install, Server, eventually, example_com, wait_inbox, wait_listening};

/// A line-oriented client connected from the loopback address `source`.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Connects from `source` to 127.0.0.1:`port`; returns the client and its first line ("" when
    /// the server closed without a word).
    fn connect(source: &str, port: u16) -> (Client, String) {
        let src: SocketAddr = format!("{source}:0").parse().unwrap();
        let dst: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(&src.into()).unwrap();
        sock.connect(&dst.into()).unwrap();
        let writer: TcpStream = sock.into();
        writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut client = Client { reader: BufReader::new(writer.try_clone().unwrap()), writer };
        let first = client.line();
        (client, first)
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        // A reset connection reads as closed.
        let _ = self.reader.read_line(&mut line);
        line
    }

    fn ask(&mut self, command: &str) -> String {
        let _ = self.writer.write_all(format!("{command}\r\n").as_bytes());
        self.line()
    }

    /// Sends `command`; returns the lines up to the first that starts with `prefix` (or the end).
    fn ask_until(&mut self, command: &str, prefix: &str) -> String {
        let _ = self.writer.write_all(format!("{command}\r\n").as_bytes());
        let mut all = String::new();
        loop {
            let line = self.line();
            all.push_str(&line);
            if line.is_empty() || line.starts_with(prefix) {
                return all;
            }
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SMTP AUTH LOGIN from `source`: the reply to the password (the greeting when refused).
fn smtp_logon(source: &str, port: u16, user: &str, password: &str) -> String {
    let (mut c, greeting) = Client::connect(source, port);
    if !greeting.starts_with("220") {
        return greeting;
    }
    let ehlo = c.ask_until("EHLO client.test", "250 ");
    let auth = c.ask("AUTH LOGIN");
    let name = c.ask(&base64(user.as_bytes()));
    let reply = c.ask(&base64(password.as_bytes()));
    c.ask("QUIT");
    if !reply.starts_with("235") && !reply.starts_with("535") {
        return format!("{reply} (after {ehlo}{auth}{name})");
    }
    reply
}

/// POP3 USER/PASS from `source`: the reply to PASS (the greeting when refused).
fn pop3_logon(source: &str, port: u16, user: &str, password: &str) -> String {
    let (mut c, greeting) = Client::connect(source, port);
    if !greeting.starts_with("+OK") {
        return greeting;
    }
    c.ask(&format!("USER {user}"));
    let reply = c.ask(&format!("PASS {password}"));
    c.ask("QUIT");
    reply
}

/// IMAP LOGIN from `source`: the lines answering LOGIN (the greeting when refused).
fn imap_logon(source: &str, port: u16, user: &str, password: &str) -> String {
    let (mut c, greeting) = Client::connect(source, port);
    if !greeting.starts_with("* OK") {
        return greeting;
    }
    let reply = c.ask_until(&format!("a LOGIN {user} \"{password}\""), "a ");
    c.ask_until("z LOGOUT", "z ");
    reply
}

/// Asserts that `reply` starts with `prefix`, showing it when not.
#[track_caller]
fn starts(reply: &str, prefix: &str) {
    assert!(reply.starts_with(prefix), "expected {prefix:?}, got {reply:?}");
}

fn restart(i: &Install, mut server: Server, ports: &[u16]) -> Server {
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
    let server = Server::start(i);
    for p in ports {
        wait_listening(*p);
    }
    server
}

/// Wrong passwords from the machine itself never ban it; from an address the trusted set
/// leaves out they do, and every protocol then says so; `ban list` shows the ban and `ban
/// remove` lifts it.
///
/// Every client here connects over loopback, which auto-ban spares by default (the
/// `altimailtrustedranges` setting: `127.0.0.0/8, ::1, My computer`). To have an address that
/// can be banned, the second half narrows the setting to `127.0.0.1, ::1, My computer`, as an
/// administrator may, so 127.0.0.5 counts as any other client: the same code path as a client
/// from the Internet, with no switch that exists only for tests.
#[tokio::test(flavor = "multi_thread")]
async fn auto_ban_spares_loopback_and_tells_banned_clients_why() {
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[("MaxInvalidLogonAttempts", "3")]);
    // The rest of loopback stands for outside clients that may log on without TLS (a new
    // installation's "Internet" range asks for TLS first), so plain sockets do here.
    i.ok(&[
        "range",
        "add",
        "Outside",
        "--lower",
        "127.0.0.2",
        "--upper",
        "127.255.255.255",
        "--allow",
        "smtp,pop3,imap",
    ]);
    let (server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "none"), ("imap", "none")]);
    let (smtp, pop3, imap) = (ports[0], ports[1], ports[2]);
    let user = "john@example.com";

    // The default: loopback (any of 127.0.0.0/8) is never banned, however often it fails.
    for source in ["127.0.0.1", "127.0.0.9"] {
        for _ in 0..5 {
            starts(&smtp_logon(source, smtp, user, "wrong"), "535 5.7.8 Authentication failed. Restarting");
            starts(&pop3_logon(source, pop3, user, "wrong"), "-ERR [AUTH] Invalid user name or password.\r");
            starts(&imap_logon(source, imap, user, "wrong"), "a NO ");
        }
    }
    assert_eq!(i.json(&["ban", "list"]), serde_json::json!([]));
    starts(&smtp_logon("127.0.0.1", smtp, user, "secret-pw"), "235");
    starts(&pop3_logon("127.0.0.9", pop3, user, "secret-pw"), "+OK");
    assert!(imap_logon("127.0.0.1", imap, user, "secret-pw").contains("a OK"));

    // Only 127.0.0.1 (and ::1 and "My computer") trusted from now on.
    i.ok(&["setting", "set", "altimailtrustedranges", "127.0.0.1, ::1, My computer"]);
    let mut server = restart(&i, server, &ports);
    let banned = "127.0.0.5";
    starts(&smtp_logon(banned, smtp, user, "wrong"), "535 5.7.8 Authentication failed. Restarting");
    starts(&pop3_logon(banned, pop3, user, "wrong"), "-ERR [AUTH] Invalid user name or password.\r");
    let third = imap_logon(banned, imap, user, "wrong");
    assert!(third.starts_with("* BYE Too many invalid logon attempts."), "{third}");

    // Every protocol tells the banned address why, instead of closing without a word.
    let smtp_reply = Client::connect(banned, smtp).1;
    assert!(smtp_reply.starts_with("421 4.7.0 Your address 127.0.0.5 is temporarily banned"), "{smtp_reply}");
    let pop3_reply = Client::connect(banned, pop3).1;
    assert!(pop3_reply.starts_with("-ERR [SYS/TEMP] Your address 127.0.0.5 is temporarily banned"), "{pop3_reply}");
    let imap_reply = Client::connect(banned, imap).1;
    assert!(imap_reply.starts_with("* BYE [UNAVAILABLE] Your address 127.0.0.5 is temporarily banned"), "{imap_reply}");
    assert!(smtp_logon("127.0.0.1", smtp, user, "secret-pw").starts_with("235"), "others still log on");

    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap();
    assert!(
        log.contains("TCP - Connection dropped - 127.0.0.5 is banned by IP range Auto-ban: john@example.com"),
        "{log}"
    );
    assert!(log.contains("SENT: 421 4.7.0 Your address 127.0.0.5 is temporarily banned"), "{log}");

    let bans = i.json(&["ban", "list"]);
    let bans = bans.as_array().unwrap();
    assert_eq!(bans.len(), 1, "{bans:?}");
    assert_eq!(bans[0]["ip"], banned);
    assert_eq!(bans[0]["active"], true);
    assert_eq!(bans[0]["reason"], "failed logons as john@example.com");
    assert_eq!(bans[0]["range"], "Auto-ban: john@example.com");
    assert!(bans[0]["until"].as_str().unwrap() > bans[0]["since"].as_str().unwrap());
    let table = i.ok(&["ban", "list"]);
    assert!(
        table.starts_with("IP ") && table.contains("127.0.0.5") && table.contains("failed logons as john"),
        "{table}"
    );

    assert!(i.fails(&["ban", "remove", "192.0.2.1"]).contains("no ban on 192.0.2.1"));
    assert!(i.fails(&["ban", "remove", "nonsense"]).contains("expected an IP address or \"all\""));
    let lifted = i.ok(&["ban", "remove", banned]);
    assert!(lifted.starts_with("lifted 1 ban(s) on 127.0.0.5"), "{lifted}");
    assert_eq!(i.json(&["ban", "list"]), serde_json::json!([]));
    eventually("127.0.0.5 admitted again", || Client::connect(banned, smtp).1.starts_with("220"));
    starts(&smtp_logon(banned, smtp, user, "secret-pw"), "235");
    starts(&pop3_logon(banned, pop3, user, "secret-pw"), "+OK");
    assert!(imap_logon(banned, imap, user, "secret-pw").contains("a OK"));
    assert!(i.ok(&["ban", "remove", "all"]).starts_with("no bans to lift"));

    // A trusted range: `range add --trusted` puts it into the setting.
    i.ok(&["range", "add", "Office", "--lower", "192.0.2.0", "--upper", "192.0.2.255", "--allow", "smtp", "--trusted"]);
    let setting = i.json(&["setting", "get", "altimailtrustedranges"]);
    assert_eq!(setting["string"], "127.0.0.1, ::1, My computer, Office");
    assert_eq!(i.json(&["range", "show", "Office"])["trusted"], true);
    i.ok(&["range", "set", "Office", "--trusted", "no"]);
    assert_eq!(i.json(&["range", "show", "Office"])["trusted"], false);
    assert_eq!(i.json(&["range", "show", "My computer"])["trusted"], true);
    assert!(i.fails(&["range", "set", "Internet,2", "--trusted", "yes"]).contains("no IP range"));
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}

/// Sends one message to `rcpt` over SMTP from 127.0.0.1.
fn deliver(port: u16, rcpt: &str, subject: &str) {
    let (mut c, greeting) = Client::connect("127.0.0.1", port);
    assert!(greeting.starts_with("220"), "{greeting}");
    c.ask_until("EHLO client.test", "250 ");
    assert!(c.ask("MAIL FROM:<sender@remote.test>").starts_with("250"));
    assert!(c.ask(&format!("RCPT TO:<{rcpt}>")).starts_with("250"));
    assert!(c.ask("DATA").starts_with("354"));
    let reply = c.ask(&format!("Subject: {subject}\r\n\r\nA body worth keeping.\r\n."));
    assert!(reply.starts_with("250"), "{reply}");
    c.ask("QUIT");
}

/// `account remove` and `domain remove` of something holding mail refuse without `--force`
/// and say what would go; with it, rows, files and folders go; `account add` needs a password
/// or `--no-password`.
#[tokio::test(flavor = "multi_thread")]
async fn removals_that_hold_mail_need_force_and_take_their_folders() {
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let refused = i.fails(&["account", "add", "mary@example.com"]);
    assert!(refused.contains("--no-password"), "{refused}");
    assert!(
        i.fails(&["account", "add", "mary@example.com", "--no-password", "--password", "x"]).contains("cannot be used")
    );
    i.ok(&["account", "add", "mary@example.com", "--password", "secret-pw"]);
    i.ok(&["account", "add", "empty@example.com", "--no-password"]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    deliver(ports[0], "john@example.com", "one");
    deliver(ports[0], "john@example.com", "two");
    deliver(ports[0], "mary@example.com", "three");
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let john = wait_inbox(&store, "john@example.com", 2).await;
    wait_inbox(&store, "mary@example.com", 1).await;
    let john_bytes: i64 = john.iter().map(|(m, _)| m.size).sum();
    let john_dir = i.path("data/example.com/john");
    assert!(john.iter().all(|(_, path)| path.starts_with(&john_dir) && path.exists()));

    // An account without mail goes without --force.
    assert!(i.ok(&["account", "remove", "empty@example.com"]).starts_with("account empty@example.com removed with 0"));

    let refused = i.fails(&["account", "remove", "john@example.com"]);
    assert!(refused.contains(&format!("holds 2 message(s), {john_bytes} bytes; nothing removed")), "{refused}");
    assert!(refused.contains("--force"), "{refused}");
    assert!(john_dir.exists(), "nothing removed");
    let removed = i.json(&["account", "remove", "john@example.com", "--force"]);
    assert_eq!((removed["messages"].as_i64(), removed["bytes"].as_i64()), (Some(2), Some(john_bytes)), "{removed}");
    assert_eq!(removed["removed"]["address"], "john@example.com");
    assert!(!john_dir.exists(), "the account's folder is gone");
    i.fails(&["account", "show", "john@example.com"]);

    let refused = i.fails(&["domain", "remove", "example.com"]);
    assert!(refused.contains("has 1 account(s) with 1 message(s)"), "{refused}");
    assert!(i.path("data/example.com/mary").exists());
    let removed = i.ok(&["domain", "remove", "example.com", "--force"]);
    assert!(removed.starts_with("domain example.com removed with 1 account(s) with 1 message(s)"), "{removed}");
    assert!(!i.path("data/example.com").exists(), "the domain's folder is gone");
    assert_eq!(i.json(&["domain", "list"]), serde_json::json!([]));

    // A domain without accounts goes without --force.
    i.ok(&["domain", "add", "example.org"]);
    i.ok(&["domain", "remove", "example.org"]);
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}

/// Every listing names its columns as its JSON names its fields, and the values agree where
/// both show them (port security was `starttls` in the table and `start-tls-optional` in JSON).
#[test]
fn tables_and_json_use_the_same_names() {
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    i.ok(&["domain", "alias", "add", "example.com", "example.net"]);
    i.ok(&["alias", "add", "info@example.com", "john@example.com"]);
    i.ok(&["list", "add", "team@example.com"]);
    i.ok(&["list", "member", "add", "team@example.com", "john@example.com"]);
    i.ok(&["port", "add", "--protocol", "imap", "--port", "1143", "--security", "starttls"]);
    for cmd in [
        vec!["domain", "list"],
        vec!["domain", "alias", "list", "example.com"],
        vec!["account", "list"],
        vec!["alias", "list"],
        vec!["list", "list"],
        vec!["port", "list"],
        vec!["range", "list"],
        vec!["setting", "list"],
    ] {
        let table = i.ok(&cmd);
        let headers: Vec<String> =
            table.lines().next().unwrap().split_whitespace().map(|h| h.to_lowercase().replace('-', "_")).collect();
        let json = i.json(&cmd);
        let first = &json.as_array().unwrap_or_else(|| panic!("{cmd:?}: {json}"))[0];
        for h in &headers {
            assert!(first.get(h).is_some(), "{cmd:?}: column {h} is not a JSON field of {first}");
        }
    }
    let ports = i.json(&["port", "list"]);
    let port = ports.as_array().unwrap().iter().find(|p| p["port"] == 1143).unwrap();
    assert_eq!(port["security"], "starttls");
    let table = i.ok(&["port", "list"]);
    let row = table.lines().find(|l| l.contains(" 1143 ")).unwrap();
    assert!(row.split_whitespace().any(|c| c == "starttls"), "{row}");
}

/// `altimail setting list | head`: a reader that goes away ends the program quietly, with
/// status 0 and no panic message, in table and JSON form.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    for json in [false, true] {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before the first write: every write meets EPIPE.
        drop(reader);
        let mut cmd = i.command();
        if json {
            cmd.arg("--json");
        }
        let out = cmd.args(["setting", "list"]).stdout(writer).stderr(Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(stderr, "", "quiet");
    }
}
