//! Rules end to end on every engine: rules made with `altimail rule …`, messages sent with
//! Python's smtplib to `altimail serve`, results read from the mailboxes (the store and the
//! files, and one folder over IMAP) and from a test SMTP peer behind a route. Every action:
//! delete (global and account), set header with the original-header macro, move to an IMAP
//! folder (global, and an account's nested folder created on the way), forward, the loop limit,
//! reply, create copy, stop rule processing, run function without a script engine, send using
//! route, bind to address.

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use altimail_store::Store;
use altimail_testkit::{ScratchDb, backends};
use common::{Install, folder, python};

/// A peer accepting everything; records (client address, recipient, data) per recipient.
async fn peer() -> (u16, Arc<Mutex<Vec<(IpAddr, String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((stream, from)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 peer\r\n").await;
                let mut rcpts = Vec::new();
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") {
                        "250-peer\r\n250 8BITMIME\r\n".to_owned()
                    } else if cmd.starts_with("RCPT TO:") {
                        rcpts.push(line.trim_end()[8..].trim_matches(['<', '>', ' ']).to_owned());
                        "250 OK\r\n".to_owned()
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go\r\n").await;
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).await.unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        for rc in rcpts.drain(..) {
                            g.lock().unwrap().push((from.ip(), rc, data.clone()));
                        }
                        "250 queued\r\n".to_owned()
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        "250 OK\r\n".to_owned()
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                    line.clear();
                }
            });
        }
    });
    (port, got)
}

/// Sends one message: port, envelope sender, recipients (comma-separated), subject, extra
/// header lines (`\n`-separated), and "login" to authenticate as john@example.com.
const SEND: &str = r#"
import smtplib, sys
port, sender, rcpts, subject, extra, login = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4], sys.argv[5], sys.argv[6]
head = "".join(h + "\r\n" for h in extra.split("\n") if h)
if not any(h.lower().startswith("from:") for h in extra.split("\n")):
    head += "From: <%s>\r\n" % sender
msg = head + "To: <%s>\r\nSubject: %s\r\n\r\nHello from the rules test.\r\n" % (rcpts[0], subject)
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
if login == "login":
    s.login("john@example.com", "secret-pw")
s.sendmail(sender, rcpts, msg.encode())
s.quit()
"#;

fn send(port: u16, sender: &str, rcpts: &str, subject: &str, extra: &str, login: bool) {
    let port = port.to_string();
    let args = [port.as_str(), sender, rcpts, subject, extra, if login { "login" } else { "" }];
    let (code, out, err) = python(SEND, &args);
    assert_eq!(code, 0, "smtplib: {out}{err}");
}

/// Lists a folder, selects it and fetches its subjects over IMAP as john@example.com.
const IMAP_SUBJECTS: &str = r#"
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login("john@example.com", "secret-pw")
typ, listed = c.list()
typ, data = c.select('"%s"' % sys.argv[2], readonly=True)
assert typ == "OK", data
typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
subjects = [part[1].decode().strip() for part in data if isinstance(part, tuple)]
print("|".join(l.decode() for l in listed))
print("\n".join(subjects))
c.logout()
"#;

/// Adds a rule with `rule add ARGS` and returns its id.
fn add_rule(i: &Install, args: &[&str]) -> String {
    let mut all = vec!["rule", "add"];
    all.extend_from_slice(args);
    i.json(&all)["id"].to_string()
}

fn criterion(i: &Install, rule: &str, field: &str, how: &str, value: &str) {
    i.ok(&["rule", "criterion", "add", rule, field, how, value]);
}

fn action(i: &Install, rule: &str, args: &[&str]) {
    let mut all = vec!["rule", "action", "add", rule];
    all.extend_from_slice(args);
    i.ok(&all);
}

/// The subjects and the files' text of a folder of `address` (`""` when the folder is missing).
async fn contents(store: &Store, address: &str, name: &str) -> Vec<String> {
    let a = altimail_store::repo::accounts::find(&store.db, address).await.unwrap().unwrap();
    let exists = name == "INBOX"
        || altimail_store::repo::folders::find(&store.db, a.id, altimail_store::repo::folders::TOP_LEVEL, name)
            .await
            .unwrap()
            .is_some();
    if !exists {
        return Vec::new();
    }
    folder(store, address, name).await.iter().map(|(_, p)| std::fs::read_to_string(p).unwrap_or_default()).collect()
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 30 s");
}

fn count(texts: &[String], needle: &str) -> usize {
    texts.iter().filter(|t| t.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_on_every_engine() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    for db in backends("rules_e2e").await {
        scenario(db).await;
    }
}

async fn scenario(db: ScratchDb) {
    let e = db.engine;
    let i = Install::new(db);
    common::example_com(&i, &[]);
    for who in ["anna", "bob"] {
        i.ok(&["account", "add", &format!("{who}@example.com"), "--password", "secret-pw"]);
    }
    let (peer_port, peer_got) = peer().await;
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    // A route nothing else uses: only the rule sends mail through it.
    store
        .db
        .execute(
            "INSERT INTO hm_routes (routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
             routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, \
             routeauthenticationusername, routeauthenticationpassword, routetreatsecurityaslocal, \
             routeconnectionsecurity, routetreatsenderaslocaldomain) \
             VALUES ('unused.test', 'rule route', '127.0.0.1', ?, 0, 1, 1, 0, '', '', 0, 0, 0)",
            &[i64::from(peer_port).into()],
        )
        .await
        .unwrap();
    let route = store.db.fetch_optional("SELECT routeid FROM hm_routes", &[]).await.unwrap().unwrap();
    let route_id = route.int("routeid").unwrap().to_string();

    // Global rules, in order.
    let drop = add_rule(&i, &["global delete"]);
    criterion(&i, &drop, "subject", "contains", "[drop]");
    action(&i, &drop, &["delete"]);
    let tag = add_rule(&i, &["global tag"]);
    criterion(&i, &tag, "subject", "contains", "[tag]");
    action(&i, &tag, &["set-header", "Subject", "[seen] %MACRO_ORIGINAL_HEADER%"]);
    action(&i, &tag, &["set-header", "X-Tagged", "yes"]);
    action(&i, &tag, &["move", "Tagged"]);
    let stop = add_rule(&i, &["global stop"]);
    criterion(&i, &stop, "subject", "contains", "[stop]");
    action(&i, &stop, &["move", "Stopped"]);
    action(&i, &stop, &["stop"]);
    let after = add_rule(&i, &["after stop"]);
    criterion(&i, &after, "subject", "contains", "[stop]");
    action(&i, &after, &["move", "AfterStop"]);
    let routed = add_rule(&i, &["global route", "--any"]);
    criterion(&i, &routed, "recipients", "wildcard", "*@far.test");
    criterion(&i, &routed, "subject", "equals", "never this");
    action(&i, &routed, &["route", &route_id]);
    action(&i, &routed, &["bind", "127.0.0.7"]);
    // A switched-off rule does nothing.
    let off = add_rule(&i, &["off", "--inactive"]);
    criterion(&i, &off, "subject", "contains", "[");
    action(&i, &off, &["delete"]);

    // John's rules.
    let john = ["--account", "john@example.com"];
    let r = add_rule(&i, &["junk", john[0], john[1]]);
    criterion(&i, &r, "subject", "contains", "[junk]");
    action(&i, &r, &["delete"]);
    let r = add_rule(&i, &["boss", john[0], john[1]]);
    criterion(&i, &r, "from", "contains", "BOSS@remote.test");
    action(&i, &r, &["move", "INBOX.Boss"]);
    let r = add_rule(&i, &["fwd", john[0], john[1]]);
    criterion(&i, &r, "subject", "regex", "\\[fwd\\].*");
    action(&i, &r, &["forward", "anna@example.com"]);
    let r = add_rule(&i, &["reply", john[0], john[1]]);
    criterion(&i, &r, "subject", "contains", "[reply]");
    action(
        &i,
        &r,
        &[
            "reply",
            "--from-address",
            "john@example.com",
            "--from-name",
            "John",
            "--subject",
            "Auto answer",
            "--body",
            "Got it.",
        ],
    );
    let r = add_rule(&i, &["copy", john[0], john[1]]);
    criterion(&i, &r, "subject", "contains", "[copy]");
    // The copy itself is not copied again.
    criterion(&i, &r, "header:X-CopyRule", "equals", "");
    action(&i, &r, &["copy"]);
    let r = add_rule(&i, &["script", john[0], john[1]]);
    criterion(&i, &r, "subject", "contains", "[script]");
    action(&i, &r, &["run-function", "MyFunction"]);
    action(&i, &r, &["move", "Scripted"]);
    let listed = i.json(&["rule", "list", "--account", "john@example.com"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(6), "{e}: {listed}");
    assert_eq!(i.json(&["rule", "list"]).as_array().map(Vec::len), Some(6), "{e}");

    let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("imap", "none")]);
    let (smtp, imap) = (ports[0], ports[1]);
    let remote = "sender@remote.test";
    let john_addr = "john@example.com";
    send(smtp, remote, john_addr, "[junk] a", "", false);
    send(smtp, remote, "john@example.com,bob@example.com", "[drop] b", "", false);
    send(smtp, remote, john_addr, "[tag] c", "", false);
    send(smtp, "boss@remote.test", john_addr, "d", "From: Boss <boss@remote.test>", false);
    send(smtp, remote, john_addr, "[fwd] e", "", false);
    send(smtp, remote, john_addr, "[fwd] loop", "X-hMailServer-LoopCount: 5", false);
    send(smtp, "bob@example.com", john_addr, "[reply] f", "", false);
    send(smtp, remote, john_addr, "[copy] g", "", false);
    send(smtp, remote, john_addr, "[stop] h", "", false);
    send(smtp, remote, john_addr, "[script] i", "", false);
    send(smtp, john_addr, "someone@far.test", "routed j", "", true);

    wait_for(&format!("{e}: every message delivered"), async || {
        contents(&store, john_addr, "INBOX").await.len() >= 4
            && !contents(&store, "anna@example.com", "INBOX").await.is_empty()
            && !contents(&store, "bob@example.com", "INBOX").await.is_empty()
            && !contents(&store, john_addr, "Tagged").await.is_empty()
            && !contents(&store, john_addr, "Stopped").await.is_empty()
            && !contents(&store, john_addr, "Scripted").await.is_empty()
            && !peer_got.lock().unwrap().is_empty()
    })
    .await;
    wait_for(&format!("{e}: the queue is empty"), async || i.json(&["queue", "list"]) == serde_json::json!([])).await;

    let inbox = contents(&store, john_addr, "INBOX").await;
    // Delete: neither the account rule's nor the global rule's message arrived.
    assert_eq!(count(&inbox, "[junk]"), 0, "{e}");
    assert_eq!(count(&inbox, "[drop]"), 0, "{e}");
    let bob = contents(&store, "bob@example.com", "INBOX").await;
    assert_eq!(count(&bob, "[drop]"), 0, "{e}: a global delete is for every recipient");
    // Forward, and the loop limit.
    let anna = contents(&store, "anna@example.com", "INBOX").await;
    assert_eq!(anna.len(), 1, "{e}: {anna:?}");
    assert!(anna[0].contains("Subject: [fwd] e") && anna[0].contains("X-hMailServer-LoopCount: 1"), "{e}: {}", anna[0]);
    assert_eq!(count(&inbox, "[fwd] e"), 1, "{e}: the forwarding account keeps its copy");
    assert_eq!(count(&inbox, "[fwd] loop"), 1, "{e}: delivered, but not forwarded at the loop limit");
    // Reply.
    assert_eq!(bob.len(), 1, "{e}: {bob:?}");
    let reply = &bob[0];
    for expected in
        ["Subject: Auto answer", "From: \"John\" <john@example.com>", "Auto-Submitted: auto-replied", "Got it."]
    {
        assert!(reply.contains(expected), "{e}: {expected} in {reply}");
    }
    assert!(reply.contains("Return-Path: <john@example.com>"), "{e}: an account's reply comes from it: {reply}");
    assert_eq!(count(&inbox, "[reply] f"), 1, "{e}");
    // Create copy: the original and one copy marked with the rule.
    assert_eq!(count(&inbox, "[copy] g"), 2, "{e}");
    assert_eq!(count(&inbox, "X-CopyRule: copy"), 1, "{e}");
    assert_eq!(inbox.len(), 5, "{e}: {inbox:?}");
    // Set header with the macro, and the global move.
    let tagged = contents(&store, john_addr, "Tagged").await;
    assert_eq!(tagged.len(), 1, "{e}");
    assert!(tagged[0].contains("Subject: [seen] [tag] c\r\n"), "{e}: {}", tagged[0]);
    assert!(tagged[0].contains("X-Tagged: yes\r\n"), "{e}: {}", tagged[0]);
    // Stop: the later rule did not run.
    assert_eq!(contents(&store, john_addr, "Stopped").await.len(), 1, "{e}");
    assert!(contents(&store, john_addr, "AfterStop").await.is_empty(), "{e}");
    // Run function without a script engine: the rule's other actions still apply.
    assert_eq!(count(&contents(&store, john_addr, "Scripted").await, "[script] i"), 1, "{e}");
    // Send using route, bound to the rule's address.
    {
        let got = peer_got.lock().unwrap();
        assert_eq!(got.len(), 1, "{e}");
        let (from, rcpt, data) = &got[0];
        assert_eq!(rcpt, "someone@far.test", "{e}");
        assert_eq!(*from, "127.0.0.7".parse::<IpAddr>().unwrap(), "{e}: bound to the rule's address");
        assert!(data.contains("Subject: routed j"), "{e}");
    }
    // The account rule's nested folder was made, and IMAP sees it.
    let (code, out, err) = python(IMAP_SUBJECTS, &[&imap.to_string(), "INBOX.Boss"]);
    assert_eq!(code, 0, "{e}: {out}{err}");
    assert!(out.contains("INBOX.Boss"), "{e}: {out}");
    assert!(out.lines().any(|l| l == "Subject: d"), "{e}: {out}");

    // The CLI: show, move, set, remove.
    let shown = i.json(&["rule", "show", &tag]);
    assert_eq!(shown["actions"].as_array().map(Vec::len), Some(3), "{e}: {shown}");
    assert_eq!(shown["criteria"][0]["field"], "subject", "{e}");
    i.ok(&["rule", "move", &after, "up"]);
    let order: Vec<String> =
        i.json(&["rule", "list"]).as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(order[..4], ["global delete", "global tag", "after stop", "global stop"], "{e}");
    i.ok(&["rule", "set", &after, "--active", "false", "--matching", "any"]);
    let shown = i.json(&["rule", "show", &after]);
    assert_eq!((shown["active"].as_bool(), shown["matching"].as_str()), (Some(false), Some("any")), "{e}");
    i.ok(&["rule", "remove", &after]);
    assert!(i.fails(&["rule", "show", &after]).contains("no rule"), "{e}");
    assert!(i.fails(&["rule", "criterion", "add", &tag, "nonsense", "equals", "x"]).contains("unknown field"), "{e}");

    server.stop(Duration::from_secs(30));
    store.db.close().await;
    i.db.cleanup().await;
}
