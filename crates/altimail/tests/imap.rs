//! IMAP end to end: Python's imaplib, raw sockets, curl and mutt against `altimail serve` over
//! plain sockets, STARTTLS and implicit TLS, with mail delivered over SMTP and checked where
//! hMailServer keeps it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use altimail_store::Store;
use altimail_store::repo::{accounts, folders};
use altimail_testkit::backends;
use common::{Install, folder, python, wait_inbox};
use serde_json::Value;

/// A domain with two accounts (mary's quota is 1 MB) and SASL PLAIN with an initial response.
fn populate(i: &Install) {
    common::example_com(i, &[("EnableImapSASLPlain", "1"), ("EnableImapSASLInitialResponse", "1")]);
    i.ok(&["account", "add", "mary@example.com", "--password", "secret-pw", "--quota", "1"]);
}

/// Plain-text IMAP, STARTTLS, implicit TLS and SMTP listeners: (server, [plain, starttls, tls, smtp]).
fn serve(i: &Install) -> (common::Server, [u16; 4]) {
    let (server, p) = i.serve_on(&[("imap", "none"), ("imap", "starttls"), ("imap", "tls"), ("smtp", "none")]);
    (server, [p[0], p[1], p[2], p[3]])
}

/// Sends `count` messages to `rcpt` over SMTP; message k has subject `<tag> k`.
fn send(smtp: u16, rcpt: &str, tag: &str, count: usize) {
    let template = "From: Sender <sender@remote.test>\r\nTo: <%(rcpt)s>\r\nSubject: %(tag)s %(k)d\r\n\
                    Message-ID: <%(tag)s%(k)d@remote.test>\r\n\r\nBody of %(tag)s %(k)d.\r\nline 2\r\n";
    common::send_numbered(smtp, rcpt, tag, count, template);
}

/// A quoted-printable ISO-8859-1 message whose subject and body have accented letters.
const SEND_LATIN1: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.sendmail("sender@remote.test", [sys.argv[2]],
    "From: <sender@remote.test>\r\nTo: <%s>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Le cr=E8me br=FBl=E9e est d=E9licieuse.\r\n" % sys.argv[2])
s.quit()
"#;

/// imaplib clients from a chosen source address, TLS or not, and helpers.
const PRELUDE: &str = r#"
import base64, imaplib

class Plain(imaplib.IMAP4):
    def __init__(self, port, src="127.0.0.1"):
        self._src = src
        super().__init__("127.0.0.1", port, timeout=20)
    def _create_socket(self, timeout):
        return connect_from(self, timeout)

class Tls(imaplib.IMAP4_SSL):
    def __init__(self, port, src="127.0.0.1"):
        self._src = src
        super().__init__("127.0.0.1", port, ssl_context=CTX, timeout=20)
    def _create_socket(self, timeout):
        return connect_from(self, timeout, self.ssl_context)

def text(x):
    if isinstance(x, tuple):
        return [text(y) for y in x]
    if isinstance(x, bytes):
        return x.decode("latin-1")
    if isinstance(x, list):
        return [text(y) for y in x]
    return x

def raw(m, name, *args):
    """A command as "STATUS text" (the last line), NO and BAD included."""
    try:
        typ, dat = m._simple_command(name, *args)
        return typ + " " + text(dat[-1] or b"")
    except m.error as e:
        return "BAD " + str(e)

def append(m, mailbox, flags, date, message):
    typ, dat = m.append(mailbox, flags, date, message)
    return typ + " " + text(dat[-1] or b"")

def ok(result):
    typ, dat = result
    assert typ == "OK", (typ, dat)
    return text(dat)

def untagged(m, *names):
    return {n: text(m.untagged_responses.get(n, [])) for n in names}

def login(m, user="john@example.com", pw="secret-pw"):
    ok(m.login(user, pw))
    return m
"#;

/// Runs `PRELUDE` + `script` with `args`; returns the JSON it printed.
fn imaplib(script: &str, args: &[&str]) -> Value {
    common::client_script("imaplib", PRELUDE, script, args)
}

fn has(v: &Value, item: &str) -> bool {
    v.as_array().is_some_and(|a| a.iter().any(|x| x == item))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

const SELECT_FETCH_LOGON: &str = r#"
plain, starttls, tls = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

m = Plain(plain)
out["caps_before"] = sorted(m.capabilities)
out["wrong_password"] = raw(m, "LOGIN", "john@example.com", "wrong-pw")
login(m)
out["caps_after"] = ok(m.capability())[0].split()
out["select"] = ok(m.select("INBOX"))
out["select_untagged"] = untagged(m, "EXISTS", "UIDVALIDITY", "UIDNEXT", "PERMANENTFLAGS", "FLAGS")
out["meta"] = ok(m.fetch("1", "(FLAGS UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)"))[0]
out["peek_subject"] = ok(m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))[0]
out["peek_all"] = ok(m.fetch("1", "(BODY.PEEK[])"))[0]
out["flags_after_peek"] = ok(m.fetch("1", "(FLAGS)"))[0]
out["partial"] = ok(m.fetch("1", "(BODY[]<0.10>)"))
out["flags_after_fetch"] = ok(m.fetch("1", "(FLAGS)"))[0]
out["body_2"] = ok(m.fetch("2", "(BODY[])"))[0]
m.logout()

# AUTHENTICATE PLAIN with an initial response, on implicit TLS.
m = Tls(tls)
out["tls_caps"] = sorted(m.capabilities)
ir = base64.b64encode(b"\0john@example.com\0secret-pw").decode()
out["authenticate"] = raw(m, "AUTHENTICATE", "PLAIN", ir)
m.state = "AUTH"
out["tls_select"] = ok(m.select("INBOX", readonly=True))
m.logout()

# From the Internet range logons need TLS: refused in plain text, fine after STARTTLS.
m = Plain(starttls, "127.0.0.2")
out["internet_caps"] = sorted(m.capabilities)
out["internet_login"] = raw(m, "LOGIN", "john@example.com", "secret-pw")
m.starttls(ssl_context=CTX)
out["starttls_caps"] = sorted(m.capabilities)
login(m)
out["starttls_select"] = ok(m.select("INBOX"))
m.logout()
"#;

/// Delivery, SELECT and FETCH, and logons (LOGIN, AUTHENTICATE PLAIN, TLS required from the
/// Internet range).
#[tokio::test(flavor = "multi_thread")]
async fn select_fetch_and_logons_on_every_database() {
    for db in backends("imap_fetch").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, [plain, starttls, tls, smtp]) = serve(&i);
        send(smtp, "john@example.com", "john", 3);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 3).await;
        let stored: Vec<Vec<u8>> = john.iter().map(|(_, p)| std::fs::read(p).unwrap()).collect();

        let out = imaplib(SELECT_FETCH_LOGON, &[&plain.to_string(), &starttls.to_string(), &tls.to_string()]);
        let caps_before = &out["caps_before"];
        assert!(has(caps_before, "IMAP4REV1") && has(caps_before, "AUTH=PLAIN"), "{e}: {caps_before}");
        assert!(!has(caps_before, "STARTTLS") && !has(caps_before, "LOGINDISABLED"), "{e}: {caps_before}");
        assert!(!has(caps_before, "UIDPLUS"), "{e}: extensions are announced after logon: {caps_before}");
        assert!(s(&out["wrong_password"]).starts_with("NO [AUTHENTICATIONFAILED]"), "{e}: {}", out["wrong_password"]);
        for cap in ["IMAP4rev1", "UIDPLUS", "MOVE", "IDLE", "SPECIAL-USE", "QUOTA", "SORT", "LITERAL+", "NAMESPACE"] {
            assert!(has(&out["caps_after"], cap), "{e}: {cap} in {}", out["caps_after"]);
        }

        // SELECT
        assert_eq!(out["select"], serde_json::json!(["3"]), "{e}");
        let sel = &out["select_untagged"];
        assert_eq!(sel["EXISTS"], serde_json::json!(["3"]), "{e}");
        let validity: u64 = s(&sel["UIDVALIDITY"][0]).parse().unwrap();
        assert!(validity > 0, "{e}");
        assert_eq!(sel["UIDNEXT"][0], (john[2].0.uid + 1).to_string(), "{e}");
        let permanent = s(&sel["PERMANENTFLAGS"][0]);
        for flag in ["\\Seen", "\\Deleted", "\\Flagged", "\\*"] {
            assert!(permanent.contains(flag), "{e}: {flag} in {permanent}");
        }

        // FETCH
        let meta = s(&out["meta"]);
        let size = std::fs::metadata(&john[0].1).unwrap().len();
        assert!(meta.contains(&format!("UID {}", john[0].0.uid)), "{e}: {meta}");
        assert!(meta.contains(&format!("RFC822.SIZE {size} ")), "{e}: size {size} in {meta}");
        assert!(!meta.contains("\\Seen"), "{e}: {meta}");
        assert!(
            meta.contains(
                "ENVELOPE (NIL \"john 1\" ((\"Sender\" NIL \"sender\" \"remote.test\")) \
                 ((\"Sender\" NIL \"sender\" \"remote.test\")) ((\"Sender\" NIL \"sender\" \"remote.test\")) \
                 ((NIL NIL \"john\" \"example.com\")) NIL NIL NIL \"<john1@remote.test>\")"
            ),
            "{e}: {meta}"
        );
        assert!(
            meta.contains("BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "),
            "{e}: {meta}"
        );
        assert_eq!(out["peek_subject"][1], "Subject: john 1\r\n\r\n", "{e}");
        assert_eq!(
            out["peek_all"][1].as_str().unwrap().as_bytes(),
            &stored[0][..],
            "{e}: BODY.PEEK[] is the stored file"
        );
        assert!(!s(&out["flags_after_peek"]).contains("\\Seen"), "{e}: PEEK leaves \\Seen alone");
        assert_eq!(s(&out["partial"][0][1]).as_bytes(), &stored[0][..10], "{e}: BODY[]<0.10>");
        assert!(s(&out["partial"][0][0]).contains("BODY[]<0> {10}"), "{e}: {}", out["partial"]);
        assert!(s(&out["flags_after_fetch"]).contains("\\Seen"), "{e}: BODY[] sets \\Seen");
        assert_eq!(s(&out["body_2"][1]).as_bytes(), &stored[1][..], "{e}: BODY[] is the stored file");
        let rows = folder(&store, "john@example.com", "INBOX").await;
        assert_eq!(rows[0].0.flags & 1, 1, "{e}: \\Seen is stored (hMailServer flag 1)");

        // AUTHENTICATE PLAIN, TLS for the Internet range.
        assert!(has(&out["tls_caps"], "AUTH=PLAIN") && has(&out["tls_caps"], "SASL-IR"), "{e}: {}", out["tls_caps"]);
        assert!(s(&out["authenticate"]).starts_with("OK"), "{e}: {}", out["authenticate"]);
        assert_eq!(out["tls_select"], serde_json::json!(["3"]), "{e}");
        let internet = &out["internet_caps"];
        assert!(
            has(internet, "STARTTLS") && has(internet, "LOGINDISABLED") && !has(internet, "AUTH=PLAIN"),
            "{e}: {internet}"
        );
        assert!(s(&out["internet_login"]).starts_with("NO [PRIVACYREQUIRED]"), "{e}: {}", out["internet_login"]);
        let after = &out["starttls_caps"];
        assert!(!has(after, "STARTTLS") && !has(after, "LOGINDISABLED") && has(after, "AUTH=PLAIN"), "{e}: {after}");
        assert_eq!(out["starttls_select"], serde_json::json!(["3"]), "{e}");

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

const FOLDERS_FLAGS_TRANSFER: &str = r#"
plain = int(sys.argv[1])
m = login(Plain(plain))
out["list"] = ok(m.list())

# Folders: hierarchy with ".", rename, subscriptions, status, a modified UTF-7 name.
out["create"] = [ok(m.create(n)) for n in ("Projects", "Projects.2024", "Old")]
out["list_children"] = ok(m.list('""', "Projects.%"))
out["list_parent"] = ok(m.list('""', "Projects"))
ok(m.rename("Projects.2024", "Projects.Done"))
ok(m.rename("Old", "Older"))
ok(m.subscribe("Projects.Done"))
out["lsub"] = ok(m.lsub('""', "Projects*"))
ok(m.delete("Older"))
out["after_delete"] = ok(m.list('""', "Old*"))
ok(m.create("R&AOk-unions"))
out["utf7"] = ok(m.list('""', "R*"))
out["status_utf7"] = ok(m.status("R&AOk-unions", "(MESSAGES UIDNEXT)"))

# Flags and keywords.
out["select"] = ok(m.select("INBOX"))
out["store"] = ok(m.store("1", "+FLAGS", "(\\Flagged $Junk)"))
out["store_2"] = ok(m.store("2", "+FLAGS.SILENT", "(\\Seen)"))
out["status_inbox"] = ok(m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)"))

# SEARCH and SORT.
def search(*criteria):
    return ok(m.search(None, *criteria))[0]
out["search_flagged"] = search("FLAGGED")
out["search_junk"] = search("KEYWORD", "$Junk")
out["search_unseen"] = search("UNSEEN")
out["search_subject"] = search("SUBJECT", '"john 2"')
out["search_subject_latin1"] = ok(m.search("UTF-8", "SUBJECT", '"café"'.encode()))[0]
out["search_body_latin1"] = ok(m.search("UTF-8", "BODY", '"crème brûlée"'.encode()))[0]
out["search_body_none"] = search("BODY", '"nowhere-to-be-found"')
out["uid_search"] = ok(m.uid("SEARCH", "UID", "2:3"))[0]
out["sort"] = ok(m.sort("(REVERSE SUBJECT)", "UTF-8", "ALL"))[0]

# COPY, MOVE, UID EXPUNGE, EXPUNGE.
out["copy"] = raw(m, "COPY", "1:2", "Archive")
out["move"] = raw(m, "MOVE", "3", "Trash")
out["after_move"] = ok(m.search(None, "ALL"))[0]
ok(m.store("1:2", "+FLAGS.SILENT", "(\\Deleted)"))
uids = ok(m.fetch("1:2", "(UID)"))
out["uids"] = uids
out["uid_expunge"] = ok(m.uid("EXPUNGE", uids[0].split("UID ")[1].rstrip(")")))
out["after_uid_expunge"] = ok(m.search(None, "ALL"))[0]
out["expunge"] = ok(m.expunge())
out["after_expunge"] = ok(m.search(None, "ALL"))[0]

# APPEND with flags; UIDs are never reused after EXPUNGE.
msg = b"From: <me@example.com>\r\nSubject: appended\r\n\r\nHello.\r\n"
out["append"] = append(m, "Drafts", "(\\Draft \\Seen)", '"01-Jan-2024 10:00:00 +0000"', msg)
ok(m.select("Archive"))
out["archive_flags"] = ok(m.fetch("1:*", "(UID FLAGS)"))
ok(m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)"))
ok(m.expunge())
out["archive_status"] = ok(m.status("Archive", "(MESSAGES UIDNEXT)"))
out["append_archive"] = append(m, "Archive", None, None, msg)
out["archive_uids"] = ok(m.uid("SEARCH", "ALL"))[0]
ok(m.select("Drafts"))
out["drafts"] = ok(m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
m.logout()

# QUOTA: mary has 1 MB.
q = login(Plain(plain), "mary@example.com")
out["quota"] = ok(q.getquotaroot("INBOX"))
big = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 14000
out["over_quota"] = append(q, "INBOX", None, None, big)
out["quota_after"] = ok(q.getquota('""'))
q.logout()
"#;

/// Folders, flags, SEARCH and SORT, COPY/MOVE/EXPUNGE/APPEND and QUOTA.
#[tokio::test(flavor = "multi_thread")]
async fn folders_flags_search_transfer_and_quota_on_every_database() {
    for db in backends("imap_folders").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, [plain, _, _, smtp]) = serve(&i);
        send(smtp, "john@example.com", "john", 3);
        let (code, _, err) = python(SEND_LATIN1, &[&smtp.to_string(), "john@example.com"]);
        assert_eq!(code, 0, "{err}");
        send(smtp, "mary@example.com", "mary", 1);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 4).await;
        let mary = wait_inbox(&store, "mary@example.com", 1).await;

        let out = imaplib(FOLDERS_FLAGS_TRANSFER, &[&plain.to_string()]);
        let list: Vec<&str> = out["list"].as_array().unwrap().iter().map(s).collect();
        for (attr, name) in [
            ("", "INBOX"),
            ("\\Sent", "Sent"),
            ("\\Drafts", "Drafts"),
            ("\\Trash", "Trash"),
            ("\\Junk", "Junk"),
            ("\\Archive", "Archive"),
        ] {
            assert!(
                list.iter().any(|l| l.ends_with(&format!("\".\" \"{name}\"")) && l.contains(attr)),
                "{e}: {name} {attr} in {list:?}"
            );
        }

        // Folders
        assert_eq!(out["list_children"], serde_json::json!(["(\\HasNoChildren) \".\" \"Projects.2024\""]), "{e}");
        assert_eq!(out["list_parent"], serde_json::json!(["(\\HasChildren) \".\" \"Projects\""]), "{e}");
        let lsub: Vec<&str> = out["lsub"].as_array().unwrap().iter().map(s).collect();
        assert!(lsub.iter().any(|l| l.ends_with("\".\" \"Projects.Done\"")), "{e}: {lsub:?}");
        assert_eq!(out["after_delete"], serde_json::json!([Value::Null]), "{e}: Older is gone");
        assert_eq!(out["utf7"], serde_json::json!(["(\\HasNoChildren) \".\" \"R&AOk-unions\""]), "{e}");
        assert!(s(&out["status_utf7"][0]).contains("MESSAGES 0 UIDNEXT 1"), "{e}: {}", out["status_utf7"]);
        let a = accounts::find(&store.db, "john@example.com").await.unwrap().unwrap();
        let names: Vec<String> = folders::list(&store.db, a.id).await.unwrap().into_iter().map(|f| f.name).collect();
        assert!(names.iter().any(|n| n == "R&AOk-unions"), "{e}: stored in modified UTF-7: {names:?}");
        assert!(
            names.iter().any(|n| n == "Done") && !names.iter().any(|n| n == "2024" || n == "Older"),
            "{e}: {names:?}"
        );

        // Flags and SEARCH
        assert_eq!(out["select"], serde_json::json!(["4"]), "{e}");
        let stored = s(&out["store"][0]);
        assert!(stored.contains("\\Flagged") && stored.contains("$Junk"), "{e}: {stored}");
        assert!(s(&out["status_inbox"][0]).contains("MESSAGES 4 UNSEEN 3"), "{e}: {}", out["status_inbox"]);
        assert_eq!(out["search_flagged"], "1", "{e}");
        assert_eq!(out["search_junk"], "1", "{e}");
        assert_eq!(out["search_unseen"], "1 3 4", "{e}");
        assert_eq!(out["search_subject"], "2", "{e}");
        assert_eq!(out["search_subject_latin1"], "4", "{e}: encoded-word subject");
        assert_eq!(out["search_body_latin1"], "4", "{e}: quoted-printable ISO-8859-1 body");
        assert_eq!(out["search_body_none"], "", "{e}");
        assert_eq!(out["uid_search"], format!("{} {}", john[1].0.uid, john[2].0.uid), "{e}");
        assert_eq!(out["sort"], "3 2 1 4", "{e}: REVERSE SUBJECT");

        // COPY, MOVE, EXPUNGE
        let copy = s(&out["copy"]);
        assert!(copy.starts_with("OK [COPYUID ") && copy.contains(" 1:2]"), "{e}: {copy}");
        assert!(s(&out["move"]).starts_with("OK"), "{e}: {}", out["move"]);
        assert_eq!(out["after_move"], "1 2 3", "{e}");
        assert_eq!(out["after_uid_expunge"], "1 2", "{e}: UID EXPUNGE removes only the UIDs named");
        assert_eq!(out["after_expunge"], "1", "{e}");
        let inbox = folder(&store, "john@example.com", "INBOX").await;
        assert_eq!(inbox.iter().map(|(m, _)| m.uid).collect::<Vec<_>>(), [john[3].0.uid], "{e}");
        assert!(!john[0].1.exists() && !john[1].1.exists(), "{e}: files of expunged messages are gone");
        let trash = folder(&store, "john@example.com", "Trash").await;
        assert_eq!(trash.len(), 1, "{e}: MOVE put the message in Trash");

        // APPEND; UIDs not reused
        let append = s(&out["append"]);
        assert!(append.starts_with("OK [APPENDUID ") && append.contains(" 1]"), "{e}: {append}");
        let drafts = out["drafts"].to_string();
        assert!(drafts.contains("\\\\Draft") && drafts.contains("\\\\Seen"), "{e}: {drafts}");
        assert!(drafts.contains("01-Jan-2024 10:00:00 +0000"), "{e}: {drafts}");
        assert!(drafts.contains("Subject: appended"), "{e}: {drafts}");
        let archive = out["archive_flags"].to_string();
        assert!(archive.contains("UID 1 ") && archive.contains("UID 2 "), "{e}: {archive}");
        assert!(s(&out["archive_status"][0]).contains("MESSAGES 0 UIDNEXT 3"), "{e}: {}", out["archive_status"]);
        assert!(s(&out["append_archive"]).contains(" 3]"), "{e}: the next UID is 3: {}", out["append_archive"]);
        assert_eq!(out["archive_uids"], "3", "{e}");

        // QUOTA
        let used = std::fs::metadata(&mary[0].1).unwrap().len().div_ceil(1024);
        assert_eq!(
            out["quota"][1],
            serde_json::json!([format!("\"\" (STORAGE {used} 1024)")]),
            "{e}: {}",
            out["quota"]
        );
        assert!(s(&out["over_quota"]).starts_with("NO [OVERQUOTA]"), "{e}: {}", out["over_quota"]);
        assert_eq!(out["quota_after"], serde_json::json!([format!("\"\" (STORAGE {used} 1024)")]), "{e}");

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

/// An IMAP client on a raw socket: lines in, literals in responses read whole.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    /// Connects and reads the greeting.
    fn connect(port: u16) -> Raw {
        let writer = TcpStream::connect(("127.0.0.1", port)).unwrap();
        writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut raw = Raw { reader: BufReader::new(writer.try_clone().unwrap()), writer };
        let greeting = raw.line();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        raw
    }

    fn login(port: u16) -> Raw {
        let mut raw = Raw::connect(port);
        raw.ok("l", "LOGIN john@example.com secret-pw");
        raw
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
    }

    /// One response line (with the literals it announces), or "" at end of stream.
    fn line(&mut self) -> String {
        let mut line = String::new();
        loop {
            let mut part = Vec::new();
            self.reader.read_until(b'\n', &mut part).expect("a response within the read timeout");
            let part = String::from_utf8_lossy(&part).into_owned();
            line.push_str(&part);
            let size =
                part.strip_suffix("}\r\n").and_then(|p| p.rsplit_once('{')).and_then(|(_, n)| n.parse::<usize>().ok());
            match size {
                Some(n) => {
                    let mut literal = vec![0; n];
                    self.reader.read_exact(&mut literal).unwrap();
                    line.push_str(&String::from_utf8_lossy(&literal));
                }
                None => return line,
            }
        }
    }

    /// Lines up to and including the one starting with `prefix`.
    fn until(&mut self, prefix: &str) -> Vec<String> {
        common::lines_until(prefix, || self.line())
    }

    /// Sends `tag command`; returns the untagged lines and the tagged one.
    fn cmd(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(&format!("{tag} {command}\r\n"));
        self.until(&format!("{tag} "))
    }

    fn ok(&mut self, tag: &str, command: &str) -> Vec<String> {
        let lines = self.cmd(tag, command);
        assert!(lines.last().unwrap().starts_with(&format!("{tag} OK")), "{command}: {lines:?}");
        lines
    }
}

/// IDLE and updates between two sessions; pipelining, literals and bad input on raw sockets.
#[tokio::test(flavor = "multi_thread")]
async fn idle_pipelining_and_literals_on_every_database() {
    for db in backends("imap_idle").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, [plain, _, _, smtp]) = serve(&i);
        send(smtp, "john@example.com", "john", 2);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        wait_inbox(&store, "john@example.com", 2).await;

        let mut a = Raw::login(plain);
        let mut b = Raw::login(plain);
        a.ok("a1", "SELECT INBOX");
        let selected = b.ok("b1", "SELECT INBOX");
        assert!(selected.iter().any(|l| l == "* 2 EXISTS\r\n"), "{e}: {selected:?}");

        // New mail reaches an IDLE session within seconds.
        b.send("b2 IDLE\r\n");
        assert!(b.line().starts_with("+ "), "{e}");
        b.writer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        send(smtp, "john@example.com", "idle", 1);
        let started = Instant::now();
        let lines = b.until("* 3 EXISTS");
        assert!(started.elapsed() < Duration::from_secs(5), "{e}: {lines:?}");
        b.send("DONE\r\n");
        let done = b.until("b2 ");
        assert!(done.last().unwrap().starts_with("b2 OK"), "{e}: {done:?}");

        // An EXPUNGE in session A shows in B's IDLE.
        b.send("b3 IDLE\r\n");
        assert!(b.line().starts_with("+ "), "{e}");
        a.ok("a2", "STORE 1 +FLAGS.SILENT (\\Deleted)");
        let expunged = a.ok("a3", "EXPUNGE");
        assert!(expunged.iter().any(|l| l == "* 1 EXPUNGE\r\n"), "{e}: {expunged:?}");
        let lines = b.until("* 1 EXPUNGE");
        assert!(!lines.is_empty(), "{e}");
        b.send("DONE\r\n");
        b.until("b3 ");

        // A flag change in A shows in B after NOOP.
        a.ok("a4", "STORE 2 +FLAGS.SILENT (\\Flagged)");
        let noop = b.ok("b4", "NOOP");
        assert!(
            noop.iter().any(|l| l.starts_with("* 2 FETCH (") && l.contains("FLAGS (") && l.contains("\\Flagged")),
            "{e}: {noop:?}"
        );
        b.writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        a.ok("a5", "LOGOUT");
        b.ok("b5", "LOGOUT");

        // Bad input before logon: an oversized literal, a garbage line; the connection goes on.
        let mut c = Raw::connect(plain);
        c.send("t1 LOGIN {100000000}\r\n");
        let refused = c.line();
        assert!(refused.starts_with("t1 NO [TOOBIG]") || refused.starts_with("t1 BAD"), "{e}: {refused}");
        let garbage = c.cmd("t2", "FROBNICATE now");
        assert!(garbage.last().unwrap().starts_with("t2 BAD"), "{e}: {garbage:?}");
        c.send("\u{1}\u{2}garbage\r\n");
        let line = c.line();
        assert!(line.contains(" BAD "), "{e}: {line}");
        c.ok("t3", "NOOP");

        // A synchronising literal gets "+", a LITERAL+ one needs no wait.
        c.send("t4 LOGIN {16}\r\n");
        assert!(c.line().starts_with("+ "), "{e}");
        c.send("john@example.com {9+}\r\nsecret-pw\r\n");
        let logged = c.until("t4 ");
        assert!(logged.last().unwrap().starts_with("t4 OK"), "{e}: {logged:?}");
        c.ok("t5", "SELECT {5+}\r\nINBOX");

        // Pipelining: every command in one write, the answers in order.
        c.send(
            "p1 NOOP\r\np2 UID FETCH 1:* (FLAGS)\r\np3 STATUS INBOX (MESSAGES)\r\np4 SEARCH FLAGGED\r\np5 LOGOUT\r\n",
        );
        let mut rest = String::new();
        let _ = c.reader.read_to_string(&mut rest);
        let tagged: Vec<&str> = rest.lines().filter(|l| l.starts_with('p')).collect();
        assert_eq!(tagged.len(), 5, "{e}: {rest}");
        for (n, line) in tagged.iter().enumerate() {
            assert!(line.starts_with(&format!("p{} OK", n + 1)), "{e}: {rest}");
        }
        assert!(
            rest.contains("* STATUS \"INBOX\" (MESSAGES 2)") || rest.contains("* STATUS INBOX (MESSAGES 2)"),
            "{e}: {rest}"
        );
        assert!(rest.contains("* SEARCH 2\r\n"), "{e}: {rest}");
        assert!(rest.contains("* BYE"), "{e}: {rest}");

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

/// Runs mutt in a pseudo-terminal (it needs one) with `muttrc`, for at most 30 seconds.
const MUTT: &str = r#"
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "vt100"
    os.environ["HOME"] = sys.argv[2]
    os.execvp("mutt", ["mutt", "-n", "-F", sys.argv[1]])
deadline = time.time() + 30
while time.time() < deadline:
    if select.select([fd], [], [], 0.5)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            sys.exit(0 if os.waitpid(pid, 0)[1] == 0 else 2)
    if os.waitpid(pid, os.WNOHANG)[0]:
        sys.exit(0)
os.kill(pid, signal.SIGKILL)
sys.exit(1)
"#;

/// curl lists, searches and fetches over plain text, STARTTLS and implicit TLS; mutt copies
/// the INBOX into an mbox file.
#[tokio::test(flavor = "multi_thread")]
async fn curl_and_mutt_on_every_database() {
    for db in backends("imap_curl").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, [plain, starttls, tls, smtp]) = serve(&i);
        send(smtp, "john@example.com", "john", 2);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let john = wait_inbox(&store, "john@example.com", 2).await;
        let stored: Vec<Vec<u8>> = john.iter().map(|(_, p)| std::fs::read(p).unwrap()).collect();

        let curl = |url: &str, extra: &[&str]| common::curl(e, url, extra);
        let (u1, u2) = (john[0].0.uid, john[1].0.uid);
        assert_eq!(curl(&format!("imap://127.0.0.1:{plain}/INBOX;UID={u1}"), &[]), stored[0], "{e}: curl fetch");
        assert_eq!(
            curl(&format!("imap://127.0.0.1:{starttls}/INBOX;UID={u2}"), &["--ssl-reqd", "-k"]),
            stored[1],
            "{e}: curl STARTTLS"
        );
        assert_eq!(curl(&format!("imaps://127.0.0.1:{tls}/INBOX;UID={u1}"), &["-k"]), stored[0], "{e}: curl imaps");
        let list = String::from_utf8(curl(&format!("imap://127.0.0.1:{plain}/"), &[])).unwrap();
        for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
            assert!(
                list.lines().any(|l| l.starts_with("* LIST (") && l.ends_with(&format!(" \"{name}\""))),
                "{e}: {list}"
            );
        }
        let search =
            String::from_utf8(curl(&format!("imap://127.0.0.1:{plain}/INBOX?SUBJECT%20%22john%202%22"), &[])).unwrap();
        assert_eq!(search, "* SEARCH 2\r\n", "{e}");

        mutt_reads(&i, plain, e);

        store.db.close().await;
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}

/// mutt opens the INBOX over IMAP and copies every message into an mbox file.
fn mutt_reads(i: &Install, port: u16, e: &str) {
    if !altimail_testkit::have_tool("mutt", &["-v"], "mutt") {
        return;
    }
    let home = i.path("mutt");
    std::fs::create_dir_all(&home).unwrap();
    let mbox = home.join("copied.mbox");
    let rc = home.join("muttrc");
    std::fs::write(
        &rc,
        format!(
            "set imap_user=\"john@example.com\"\nset imap_pass=\"secret-pw\"\n\
             set folder=\"imap://127.0.0.1:{port}/\"\nset spoolfile=\"+INBOX\"\n\
             set ssl_starttls=no\nset ssl_force_tls=no\nset mbox_type=mbox\nset confirmcreate=no\n\
             set confirmappend=no\nset quit=yes\nset move=no\nset header_cache=\"\"\nset timeout=5\n\
             push \"<tag-pattern>~A<enter><tag-prefix><copy-message>{}<enter><sync-mailbox><quit>\"\n",
            mbox.display()
        ),
    )
    .unwrap();
    let (code, out, err) = python(MUTT, &[rc.to_str().unwrap(), home.to_str().unwrap()]);
    assert_eq!(code, 0, "{e}: mutt did not finish: {out}{err}");
    let copied = std::fs::read_to_string(&mbox).unwrap_or_default();
    assert_eq!(copied.matches("\nSubject: john ").count(), 2, "{e}: {copied}");
    assert!(copied.contains("Body of john 1.") && copied.contains("Body of john 2."), "{e}: {copied}");
}

const SUBSCRIPTIONS_AND_BINARY: &str = r#"
m = login(Plain(int(sys.argv[1])))
ok(m.create("Gone"))
ok(m.subscribe("Gone"))
ok(m.delete("Gone"))
m.untagged_responses.pop("LIST", None)
out["list_subscribed"] = raw(m, "LIST", "(SUBSCRIBED)", '""', "*")
out["list_subscribed_lines"] = text(m.untagged_responses.pop("LIST", []))
out["list_all"] = ok(m.list('""', "Gone"))
out["lsub"] = ok(m.lsub('""', "Gone"))
out["subscribe_before"] = raw(m, "SUBSCRIBE", "Later")
ok(m.create("Later"))
out["lsub_later"] = ok(m.lsub('""', "Later"))
out["unsubscribe_nothing"] = raw(m, "UNSUBSCRIBE", "Nowhere")

message = (b"From: <a@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nabc\r\n--x--\r\n")
append(m, "INBOX", None, None, message)
ok(m.select("INBOX"))
out["binary"] = raw(m, "FETCH", "1", "(BINARY.PEEK[1])")
out["binary_size"] = raw(m, "FETCH", "1", "(BINARY.SIZE[1])")
out["body"] = raw(m, "FETCH", "1", "(BODY.PEEK[1])")
"#;

/// Subscriptions outlive their mailboxes and may precede them; BINARY refuses an unknown
/// transfer encoding.
#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_and_unknown_encodings_on_every_database() {
    for db in backends("imap_subscriptions").await {
        let i = Install::new(db);
        let e = i.db.engine;
        populate(&i);
        let (mut server, [plain, _, _, _]) = serve(&i);
        let out = imaplib(SUBSCRIPTIONS_AND_BINARY, &[&plain.to_string()]);
        assert!(s(&out["list_subscribed"]).starts_with("OK"), "{e}: {out}");
        let lines: Vec<&str> = out["list_subscribed_lines"].as_array().unwrap().iter().map(s).collect();
        let gone = lines.iter().find(|l| l.ends_with("\"Gone\"")).unwrap_or_else(|| panic!("{e}: {lines:?}"));
        assert!(gone.contains("\\NonExistent") && gone.contains("\\Subscribed"), "{e}: {gone}");
        assert_eq!(out["list_all"], serde_json::json!([null]), "{e}: a plain LIST shows no deleted mailbox");
        assert!(s(&out["lsub"][0]).ends_with("\"Gone\""), "{e}: {}", out["lsub"]);
        assert!(s(&out["subscribe_before"]).starts_with("OK"), "{e}: {}", out["subscribe_before"]);
        assert!(s(&out["lsub_later"][0]).starts_with("() "), "{e}: {}", out["lsub_later"]);
        assert!(s(&out["unsubscribe_nothing"]).starts_with("NO"), "{e}: {}", out["unsubscribe_nothing"]);
        for item in ["binary", "binary_size"] {
            assert!(s(&out[item]).starts_with("NO [UNKNOWN-CTE]"), "{e}: {item}: {}", out[item]);
        }
        assert!(s(&out["body"]).starts_with("OK"), "{e}: BODY[1] sends the part as stored: {}", out["body"]);
        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}
