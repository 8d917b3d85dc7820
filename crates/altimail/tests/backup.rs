//! `altimail backup` and `altimail restore`: a round trip through hMailServer's archive format
//! on every database (checked over IMAP: folders, UIDs, UIDVALIDITY, flags and bytes), an
//! archive laid out the way hMailServer's BackupExecuter writes it, and a backup taken while
//! SMTP clients keep delivering.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use altimail_testkit::{ScratchDb, backends};
use common::{Install, Server};
use serde_json::Value;

/// Every folder of each account given, over IMAP: UIDVALIDITY, and per message its UID, flags
/// (without \Recent) and a digest of its bytes.
const SNAPSHOT: &str = r#"
import hashlib, imaplib, re
port = int(sys.argv[1])
for user in sys.argv[2:]:
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    m.login(user, "secret-pw")
    typ, boxes = m.list()
    names = []
    for b in boxes:
        match = re.match(r'\((.*?)\) (".*?"|NIL) (.*)$', b.decode())
        names.append(match.group(3).strip('"'))
    names.sort()
    account = {}
    for name in names:
        typ, _ = m.select('"%s"' % name, readonly=True)
        assert typ == "OK", name
        validity = m.untagged_responses.get("UIDVALIDITY", [b"?"])[-1].decode()
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        msgs = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            uid = int(head.split("UID ")[1].split()[0])
            flags = sorted(f for f in head.split("FLAGS (")[1].split(")")[0].split() if f != "\\Recent")
            msgs.append([uid, flags, hashlib.sha256(item[1]).hexdigest()])
        account[name] = {"uidvalidity": validity, "messages": sorted(msgs)}
    m.logout()
    out[user] = account
"#;

/// Folders, copies, flags and an expunge, so UIDs have gaps and flags differ per message.
const SHAPE: &str = r#"
import imaplib
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
m.login("john@example.com", "secret-pw")
for r in (m.create("Work"), m.create("Projects"), m.select("INBOX"), m.copy("1:3", "Work")):
    assert r[0] == "OK", r
m.store("1:2", "+FLAGS", "(\\Seen)")
m.store("3", "+FLAGS", "(\\Flagged \\Answered)")
m.store("4", "+FLAGS", "(\\Deleted)")
m.expunge()
m.select("Work")
m.store("1", "+FLAGS", "(\\Seen \\Draft)")
m.append("Projects", "(\\Seen)", None, b"From: a@b.c\r\nSubject: appended\r\n\r\nkept in the archive\r\n")
m.logout()
out["ok"] = True
"#;

fn snapshot(imap: u16, users: &[&str]) -> Value {
    let mut args = vec![imap.to_string()];
    args.extend(users.iter().map(|u| u.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::client_script("imaplib", "", SNAPSHOT, &args)
}

fn send(smtp: u16, rcpt: &str, tag: &str, count: usize) {
    let template = "From: Sender <sender@remote.test>\r\nTo: <%(rcpt)s>\r\nSubject: %(tag)s %(k)d\r\n\
                    Message-ID: <%(tag)s%(k)d@remote.test>\r\n\r\nBody of %(tag)s %(k)d.\r\nline 2\r\n";
    common::send_numbered(smtp, rcpt, tag, count, template);
}

fn archive_in(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "7z"))
        .collect();
    assert_eq!(found.len(), 1, "one archive expected in {}: {found:?}", dir.display());
    found[0].clone()
}

/// A second scratch database of the same engine as `db`.
async fn fresh_like(db: &ScratchDb, test: &str) -> ScratchDb {
    match db.engine {
        "sqlite" => ScratchDb::sqlite(),
        "postgresql" => ScratchDb::postgres(test).await.expect("PostgreSQL"),
        _ => ScratchDb::mysql(test).await.expect("MySQL"),
    }
}

/// `v` without database keys and logon times, which a restore does not keep.
fn without_keys(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(without_keys).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "id" && !k.ends_with("_id") && k != "last_logon")
                .map(|(k, v)| (k, without_keys(v)))
                .collect(),
        ),
        other => other,
    }
}

fn stop(mut server: Server) {
    server.stop(std::time::Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trip_on_every_database() {
    for db in backends("backup_src").await {
        let engine = db.engine;
        let a = Install::new(db);
        common::example_com(&a, &[("maxsmtpconnections", "7"), ("welcomeimap", "Hello from A")]);
        a.ok(&["account", "add", "jane@example.com", "--password", "secret-pw"]);
        a.ok(&["alias", "add", "info@example.com", "john@example.com"]);
        a.ok(&["list", "add", "team@example.com"]);
        a.ok(&["list", "member", "add", "team@example.com", "john@example.com"]);
        a.ok(&["list", "member", "add", "team@example.com", "jane@example.com"]);
        a.ok(&["range", "add", "Office", "--lower", "10.1.2.0", "--upper", "10.1.2.255", "--allow", "smtp,imap"]);
        let (server, ports) = a.serve_on(&[("imap", "none"), ("smtp", "none")]);
        send(ports[1], "john@example.com", "rt", 6);
        send(ports[1], "jane@example.com", "jn", 2);
        let store = altimail_store::Store::open(&a.db.config, a.path("data"), false).await.unwrap();
        common::wait_inbox(&store, "john@example.com", 6).await;
        common::wait_inbox(&store, "jane@example.com", 2).await;
        store.db.close().await;
        common::client_script("imaplib", "", SHAPE, &[&ports[0].to_string()]);
        let before = snapshot(ports[0], &["john@example.com", "jane@example.com"]);
        assert_eq!(before["john@example.com"]["Work"]["messages"].as_array().unwrap().len(), 3, "{before}");

        // Online backup, compressed, then one uncompressed (hMailServer's "Raw" layout).
        let out = a.path("backups");
        std::fs::create_dir_all(&out).unwrap();
        let printed = a.ok(&[
            "backup",
            "--destination",
            "backups",
            "--settings",
            "--domains",
            "--messages",
            "--compress",
            "--verify",
        ]);
        assert!(printed.contains("Backup completed"), "{printed}");
        assert!(printed.contains("0 problems"), "{printed}");
        let archive = archive_in(&out);
        let raw_out = a.path("raw");
        std::fs::create_dir_all(&raw_out).unwrap();
        a.ok(&["backup", "--destination", "raw", "--messages", "--no-compress"]);
        assert!(raw_out.join("DataBackup/example.com/john").is_dir());
        stop(server);
        let log = std::fs::read(a.path("logs/hmailserver_backup.log")).unwrap();
        assert_eq!(&log[..2], &[0xFF, 0xFE], "{engine}: the backup log is UTF-16LE with a BOM");

        for (label, file) in [("7z", archive.clone()), ("raw", archive_in(&raw_out))] {
            let b = Install::new(fresh_like(&a.db, "backup_dst").await);
            b.ok(&["init"]);
            let printed = b.ok(&["restore", file.to_str().unwrap()]);
            assert!(printed.contains("Restore completed successfully"), "{engine} {label}: {printed}");
            // A second restore of the same domains is refused and changes nothing.
            let err = b.fails(&["restore", file.to_str().unwrap(), "--domains"]);
            assert!(err.contains("exists on this server already"), "{err}");
            if label == "7z" {
                assert_eq!(b.json(&["setting", "get", "maxsmtpconnections"])["integer"], 7, "{engine}");
                assert_eq!(b.json(&["setting", "get", "welcomeimap"])["string"], "Hello from A", "{engine}");
                let ranges = b.ok(&["range", "list"]);
                assert!(ranges.contains("Office") && ranges.contains("10.1.2.255"), "{engine}: {ranges}");
            }
            for args in [&["alias", "list"][..], &["list", "show", "team@example.com"], &["account", "list"]] {
                assert_eq!(without_keys(a.json(args)), without_keys(b.json(args)), "{engine} {label}: {args:?}");
            }
            let (server_b, ports_b) = b.serve_on(&[("imap", "none")]);
            let after = snapshot(ports_b[0], &["john@example.com", "jane@example.com"]);
            assert_eq!(before, after, "{engine} {label}: mailboxes differ after the restore");
            stop(server_b);
            b.db.cleanup().await;
        }
        a.db.cleanup().await;
    }
}

/// hMailServer's layout: UTF-16LE XML with a BOM, tab-indented, attributes each followed by a
/// space; `DataBackup\<domain>\<mailbox>\<XX>\{GUID}.eml`; written by hand from hMailServer's
/// BackupExecuter and XMLStore methods.
fn hmailserver_xml(password_hash: &str) -> String {
    let msg = |id: u32, file: &str, flags: u32, uid: u32| {
        format!(
            "\r\n\t\t\t\t\t\t\t\t<Message CreateTime=\"2021-03-04 05:06:07\" Filename=\"{file}\" FromAddress=\"old@sender.test\" \
             State=\"2\" Size=\"0\" NoOfRetries=\"0\" Flags=\"{flags}\" ID=\"{id}\" UID=\"{uid}\" />"
        )
    };
    format!(
        "\r\n\r\n<Backup>\r\n\t<BackupInformation Mode=\"15\" Version=\"5.6.8-B2574\" >\r\n\t\t\
         <DataFiles Format=\"7z\" Size=\"0\" />\r\n\t</BackupInformation>\r\n\t<Domains>\r\n\t\t\
         <Domain Name=\"old.test\" Postmaster=\"\" ADDomainName=\"\" Active=\"1\" MaxMessageSize=\"0\" MaxSize=\"0\" \
         MaxAccountSize=\"0\" UsePlusAddressing=\"0\" PlusAddressingChar=\"+\" AntiSpamOptions=\"0\" EnableSignature=\"0\" \
         SignatureMethod=\"1\" SignaturePlainText=\"\" SignatureHTML=\"\" AddSignaturesToLocalMail=\"1\" \
         AddSignaturesToReplies=\"0\" MaxNoOfAccounts=\"0\" MaxNoOfAliases=\"0\" MaxNoOfLists=\"0\" LimitationsEnabled=\"0\" \
         DKIMSelector=\"\" DKIMPrivateKeyFile=\"\" >\r\n\t\t\t<Accounts>\r\n\t\t\t\t\
         <Account Name=\"Ann@old.test\" PersonFirstName=\"Ann\" PersonLastName=\"Old &amp; Co\" Active=\"1\" \
         Password=\"{password_hash}\" PasswordEncryption=\"3\" MaxAccountSize=\"0\" ADUsername=\"\" ADDomain=\"\" \
         ADActive=\"0\" VacationMessageOn=\"0\" VacationMessage=\"\" VacationSubject=\"\" VacationExpires=\"0\" \
         VacationExpireDate=\"2021-01-01\" AdminLevel=\"0\" ForwardEnabled=\"0\" ForwardAddress=\"\" \
         ForwardKeepOriginal=\"0\" EnableSignature=\"0\" SignaturePlainText=\"\" SignatureHTML=\"\" \
         LastLogonTime=\"2021-03-04 05:06:07\" >\r\n\t\t\t\t\t<Rules>\r\n\t\t\t\t\t\t\
         <Rule Name=\"Spam to junk\" Active=\"1\" UseAND=\"1\" SortOrder=\"1\" >\r\n\t\t\t\t\t\t\t<RuleCriterias>\r\n\t\t\t\t\t\t\t\t\
         <Criteria MatchString=\"YES\" FieldType=\"0\" MatchType=\"2\" HeaderField=\"X-Spam\" UsePredefinedField=\"0\" />\
         \r\n\t\t\t\t\t\t\t</RuleCriterias>\r\n\t\t\t\t\t\t</Rule>\r\n\t\t\t\t\t</Rules>\r\n\t\t\t\t\t<Folders>\r\n\t\t\t\t\t\t\
         <Folder Name=\"INBOX\" Subscribed=\"1\" CreateTime=\"2020-01-02 03:04:05\" CurrentUID=\"12\" >\r\n\t\t\t\t\t\t\t<Messages>\
         {}{}\r\n\t\t\t\t\t\t\t</Messages>\r\n\t\t\t\t\t\t\t<Folders>\r\n\t\t\t\t\t\t\t\t\
         <Folder Name=\"Old\" Subscribed=\"1\" CreateTime=\"2020-01-02 03:04:06\" CurrentUID=\"3\" />\r\n\t\t\t\t\t\t\t</Folders>\
         \r\n\t\t\t\t\t\t</Folder>\r\n\t\t\t\t\t</Folders>\r\n\t\t\t\t</Account>\r\n\t\t\t</Accounts>\r\n\t\t\t<Aliases>\r\n\t\t\t\t\
         <Alias Name=\"sales@old.test\" Value=\"Ann@old.test\" Active=\"1\" />\r\n\t\t\t</Aliases>\r\n\t\t</Domain>\r\n\t</Domains>\
         \r\n\t<Properties>\r\n\t\t<maxpop3connections LongValue=\"3\" StringValue=\"\" />\r\n\t\t\
         <welcomesmtp LongValue=\"0\" StringValue=\"Old &quot;server&quot;\" />\r\n\t</Properties>\r\n\t<Routes>\r\n\t\t\
         <Route Name=\"partner.test\" Description=\"\" TargetHost=\"mx.partner.test\" TargetPort=\"25\" NumberOfTries=\"4\" \
         MinutesBetweenTry=\"60\" ToAllAddresses=\"1\" RequiresAuthentication=\"0\" Username=\"\" Password=\"\" \
         TreatRecipientAsLocalDomain=\"0\" TreatSenderAsLocalDomain=\"0\" ConnectionSecurity=\"0\" />\r\n\t</Routes>\r\n</Backup>",
        msg(101, "{0A1B2C3D-0000-1111-2222-333344445555}.eml", 1, 7),
        msg(102, "{B0000000-0000-1111-2222-333344445555}.eml", 4, 12),
    )
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

/// The archive hMailServer makes: the XML and the data folder's copy, solid LZMA2 (7-Zip's
/// default), the data files under `DataBackup\`.
fn hmailserver_archive(dir: &Path) -> PathBuf {
    let hash = altimail_core::password::hash(altimail_core::password::PasswordScheme::Sha256, "secret-pw");
    hmailserver_archive_with(dir, &hmailserver_xml(&hash))
}

fn hmailserver_archive_with(dir: &Path, xml: &str) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("DataBackup/old.test/ann/0A")).unwrap();
    std::fs::create_dir_all(src.join("DataBackup/old.test/ann/B0")).unwrap();
    std::fs::write(src.join("hMailServerBackup.xml"), utf16le_with_bom(xml)).unwrap();
    let mut f =
        std::fs::File::create(src.join("DataBackup/old.test/ann/0A/{0A1B2C3D-0000-1111-2222-333344445555}.eml"))
            .unwrap();
    f.write_all(b"From: old@sender.test\r\nSubject: first\r\n\r\nkept since 2021\r\n").unwrap();
    std::fs::write(
        src.join("DataBackup/old.test/ann/B0/{B0000000-0000-1111-2222-333344445555}.eml"),
        b"From: old@sender.test\r\nSubject: second\r\n\r\nflagged\r\n",
    )
    .unwrap();
    let archive = dir.join("HMBackup 2021-03-04 050607.7z");
    sevenz_rust2::compress_to_path(&src, &archive).unwrap();
    archive
}

const READ_OLD: &str = r#"
import imaplib
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
m.login("Ann@old.test", "secret-pw")
typ, data = m.select("INBOX", readonly=True)
out["exists"] = int(data[0])
out["uidvalidity"] = m.untagged_responses.get("UIDVALIDITY", [b"?"])[-1].decode()
typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
out["fetch"] = [d[0].decode() + d[1].decode().strip() for d in data if isinstance(d, tuple)]
typ, boxes = m.list()
out["folders"] = sorted(b.decode() for b in boxes)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn restores_an_archive_written_like_hmailservers() {
    for db in backends("backup_hms").await {
        let engine = db.engine;
        let i = Install::new(db);
        i.ok(&["init"]);
        let archive = hmailserver_archive(i.dir.path());
        let check = i.ok(&["restore", archive.to_str().unwrap(), "--verify"]);
        assert!(check.contains("2 messages checked") && check.contains("0 problems"), "{engine}: {check}");
        let printed = i.ok(&["restore", archive.to_str().unwrap()]);
        assert!(printed.contains("1 domains, 1 accounts, 2 messages"), "{engine}: {printed}");
        assert_eq!(i.json(&["setting", "get", "maxpop3connections"])["integer"], 3);
        assert_eq!(i.json(&["setting", "get", "welcomesmtp"])["string"], "Old \"server\"");
        assert!(i.ok(&["alias", "list"]).contains("sales@old.test"));
        let (server, ports) = i.serve_on(&[("imap", "none")]);
        let out = common::client_script("imaplib", "", READ_OLD, &[&ports[0].to_string()]);
        assert_eq!(out["exists"], 2, "{engine}: {out}");
        let fetch = out["fetch"].to_string();
        assert!(fetch.contains("UID 7") && fetch.contains("\\\\Seen") && fetch.contains("first"), "{engine}: {fetch}");
        assert!(
            fetch.contains("UID 12") && fetch.contains("\\\\Flagged") && fetch.contains("second"),
            "{engine}: {fetch}"
        );
        assert!(out["folders"].to_string().contains("Old"), "{engine}: {out}");
        stop(server);
        // The files are where hMailServer puts them.
        assert!(i.path("data/old.test/Ann/0A/{0A1B2C3D-0000-1111-2222-333344445555}.eml").is_file());
        i.db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_what_the_archive_does_not_hold_and_garbage() {
    let i = Install::new(ScratchDb::sqlite());
    common::example_com(&i, &[]);
    std::fs::create_dir_all(i.path("b")).unwrap();
    i.ok(&["backup", "--destination", "b", "--settings"]);
    let archive = archive_in(&i.path("b"));
    let err = i.fails(&["restore", archive.to_str().unwrap(), "--domains"]);
    assert!(err.contains("does not hold domains") && err.contains("nothing was restored"), "{err}");
    std::fs::write(i.path("junk.7z"), b"not an archive").unwrap();
    i.fails(&["restore", "junk.7z"]);
    let err = i.fails(&["backup", "--destination", "missing-folder", "--domains"]);
    assert!(err.contains("not accessible"), "{err}");
}

/// A domains restore that fails half-way (the second domain's account exists in the first)
/// leaves no domain, no account and no message file behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_restore_leaves_nothing_behind() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    let xml = hmailserver_xml("x");
    let start = xml.find("<Domain ").unwrap();
    let end = xml.find("</Domain>").unwrap() + "</Domain>".len();
    let second = xml[start..end].replace("Name=\"old.test\"", "Name=\"other.test\"");
    let broken = format!("{}\r\n\t\t{second}{}", &xml[..end], &xml[end..]);
    let archive = hmailserver_archive_with(i.dir.path(), &broken);
    let (code, out, err) = i.run(&["restore", archive.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("nothing was restored"), "{out}");
    assert!(i.ok(&["domain", "list"]).lines().all(|l| !l.contains("old.test")), "rows were left behind");
    let files: Vec<_> =
        walk(&i.path("data")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    assert!(files.is_empty(), "files were left behind: {files:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                pending.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// Sends `count` messages in the background over one SMTP session per 10.
fn sender(smtp: u16, tag: &'static str, count: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || send(smtp, "john@example.com", tag, count))
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_smtp_load_runs() {
    for db in backends("backup_load").await {
        let engine = db.engine;
        let a = Install::new(db);
        common::example_com(&a, &[]);
        let (server, ports) = a.serve_on(&[("imap", "none"), ("smtp", "none")]);
        send(ports[1], "john@example.com", "pre", 20);
        let load = sender(ports[1], "load", 150);
        std::fs::create_dir_all(a.path("b")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        a.ok(&["backup", "--destination", "b", "--domains", "--messages", "--compress"]);
        load.join().unwrap();
        let store = altimail_store::Store::open(&a.db.config, a.path("data"), false).await.unwrap();
        common::wait_inbox(&store, "john@example.com", 170).await;
        store.db.close().await;
        let live = snapshot(ports[0], &["john@example.com"]);
        stop(server);
        let live_msgs = live["john@example.com"]["INBOX"]["messages"].as_array().unwrap().clone();
        assert_eq!(live_msgs.len(), 170, "{engine}: every message sent during the backup is delivered once");

        let b = Install::new(fresh_like(&a.db, "backup_load_dst").await);
        b.ok(&["init"]);
        b.ok(&["restore", archive_in(&a.path("b")).to_str().unwrap()]);
        let (server_b, ports_b) = b.serve_on(&[("imap", "none")]);
        let restored = snapshot(ports_b[0], &["john@example.com"]);
        stop(server_b);
        let restored_msgs = restored["john@example.com"]["INBOX"]["messages"].as_array().unwrap();
        assert!(restored_msgs.len() >= 20, "{engine}: the messages from before the backup are in it");
        let mut uids = std::collections::HashSet::new();
        for m in restored_msgs {
            assert!(uids.insert(m[0].as_i64().unwrap()), "{engine}: UID restored twice: {m}");
            assert!(live_msgs.contains(m), "{engine}: restored message differs from the live one: {m}");
        }
        a.db.cleanup().await;
        b.db.cleanup().await;
    }
}
