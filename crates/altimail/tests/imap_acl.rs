//! IMAP public folders and ACL (RFC 4314) end to end: hMailServer public folders under the
//! `#Public` namespace with rights from `hm_acl` (accounts, groups, anyone, inherited from the
//! nearest ancestor with rows), driven by Python's imaplib against `altimail serve`.

mod common;

use std::path::Path;

use altimail_core::time::now_local;
use altimail_store::repo::acl::{self, Rights};
use altimail_store::repo::{accounts, folders, groups, messages};
use altimail_store::{Location, Store};
use altimail_testkit::backends;
use common::Install;
use serde_json::Value;

/// imaplib helpers: `session` logs on, `cmd` runs one command and keeps the tagged status line
/// and the untagged responses of one kind, `listing` maps LIST names to their attributes.
const PRELUDE: &str = r##"
import imaplib
imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("MYRIGHTS", ("AUTH", "SELECTED"))

PORT = int(sys.argv[1])
MSG = "From: <sender@example.com>\r\nTo: <shared@example.com>\r\nSubject: %s\r\n\r\nBody of %s.\r\n"

def text(x):
    if isinstance(x, (tuple, list)):
        return [text(y) for y in x]
    if isinstance(x, bytes):
        return x.decode("latin-1")
    return x

def flat(x):
    """Untagged data as strings (a FETCH with a literal comes as a tuple)."""
    out = []
    for y in x:
        out.append(" ".join(text(y)) if isinstance(y, tuple) else text(y))
    return out

def session(user):
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=20)
    typ, dat = m.login(user, "secret-pw")
    assert typ == "OK", (user, typ, dat)
    return m

def cmd(m, name, *args, want=None):
    """{"status": tagged status line, "untagged": the untagged `want` (default: `name`) data}."""
    m.untagged_responses = {}
    try:
        typ, dat = m._simple_command(name, *args)
    except m.error as e:
        return {"status": "BAD " + str(e), "untagged": []}
    return {"status": typ + " " + text(dat[-1] or b""), "untagged": flat(m.untagged_responses.get(want or name, []))}

def select(m, mailbox):
    r = cmd(m, "SELECT", mailbox, want="EXISTS")
    if r["status"].startswith("OK"):
        m.state = "SELECTED"
    return r

def append(m, mailbox, subject):
    m.untagged_responses = {}
    try:
        typ, dat = m.append(mailbox, None, None, (MSG % (subject, subject)).encode())
    except m.error as e:
        return "BAD " + str(e)
    return typ + " " + text(dat[-1] or b"")

def listing(m):
    r = cmd(m, "LIST", '""', "*")
    assert r["status"].startswith("OK"), r
    names = {}
    for line in r["untagged"]:
        attrs, rest = line[1:].split(")", 1)
        names[rest.strip().split(" ", 1)[1].strip('"')] = attrs
    return names

def myrights(m, mailbox):
    """The rights letters, or the status line when refused."""
    r = cmd(m, "MYRIGHTS", mailbox)
    if not r["status"].startswith("OK"):
        return r["status"]
    return r["untagged"][0].rsplit(" ", 1)[1].strip('"') if r["untagged"] else ""
"##;

/// Runs `PRELUDE` + `script` against the IMAP port; returns the JSON of `out`.
fn imaplib(port: u16, script: &str) -> Value {
    common::client_script("imaplib", PRELUDE, script, &[&port.to_string()])
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The tagged status line of a `cmd` result.
fn status(v: &Value) -> &str {
    s(&v["status"])
}

fn untagged(v: &Value) -> Vec<String> {
    v["untagged"].as_array().map_or_else(Vec::new, |a| a.iter().map(|x| s(x).to_owned()).collect())
}

/// The public names of a `listing` result, sorted (INBOX must be there too).
fn names(v: &Value) -> Vec<String> {
    let all = v.as_object().unwrap_or_else(|| panic!("not a listing: {v}"));
    assert!(all.contains_key("INBOX"), "{v}");
    let mut out: Vec<String> = all.keys().filter(|k| k.starts_with("#Public")).cloned().collect();
    out.sort();
    out
}

/// A group with members, as hMailServer stores it.
async fn group(store: &Store, name: &str, members: &[i64]) {
    groups::create(&store.db, name, members).await.unwrap();
}

fn letters(s: &str) -> Rights {
    Rights::from_letters(s).unwrap()
}

/// The grants on a folder as (identifier, letters).
async fn grants(store: &Store, folder_id: i64) -> Vec<(String, String)> {
    acl::list(&store.db, folder_id).await.unwrap().into_iter().map(|a| (a.identifier, a.rights.letters())).collect()
}

/// The message files under the public folder directory.
fn public_files(data: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(buckets) = std::fs::read_dir(data.join("#Public")) else { return out };
    for b in buckets.flatten() {
        for f in std::fs::read_dir(b.path()).into_iter().flatten().flatten() {
            out.push(f.path());
        }
    }
    out
}

/// Before any change: NAMESPACE, LIST and MYRIGHTS for each account.
const VISIBILITY: &str = r##"
for who in ["john", "mary", "anne"]:
    m = session(who + "@example.com")
    out[who + "_namespace"] = cmd(m, "NAMESPACE")
    out[who + "_list"] = listing(m)
    for box in ["Shared", "Shared.Child", "News"]:
        out[who + "_rights_" + box] = myrights(m, "#Public." + box)
    m.logout()
m = session("mary@example.com")
out["mary_select_shared"] = select(m, "#Public.Shared")
out["mary_select_news"] = select(m, "#Public.News")
out["mary_create"] = cmd(m, "CREATE", "#Public.Shared.Mine")
m.logout()
"##;

/// john has every right on Shared: APPEND, STORE, EXPUNGE, CREATE and DELETE a child.
const FULL_RIGHTS: &str = r##"
m = session("john@example.com")
out["append1"] = append(m, "#Public.Shared", "one")
out["append2"] = append(m, "#Public.Shared", "two")
out["select"] = select(m, "#Public.Shared")
out["fetch"] = cmd(m, "FETCH", "1:2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])", want="FETCH")
out["store"] = cmd(m, "STORE", "2", "+FLAGS", "(\\Deleted \\Flagged)", want="FETCH")
out["expunge"] = cmd(m, "EXPUNGE")
out["create"] = cmd(m, "CREATE", "#Public.Shared.Sub")
out["list_created"] = listing(m)
out["rights_sub"] = myrights(m, "#Public.Shared.Sub")
out["append_sub"] = append(m, "#Public.Shared.Sub", "three")
# Sub's own rows take over from Shared's: john keeps his rights by granting them first.
out["setacl_sub"] = cmd(m, "SETACL", "#Public.Shared.Sub", "john@example.com", "lrswipkxtea")
out["setacl_sub2"] = cmd(m, "SETACL", "#Public.Shared.Sub", "mary@example.com", "lr")
out["delete"] = cmd(m, "DELETE", "#Public.Shared.Sub")
out["list_deleted"] = listing(m)
out["create_top"] = cmd(m, "CREATE", "#Public.Top")
m.logout()
"##;

/// anne reads Shared (lr, through her group), inserts into News (lrswi, through another group),
/// and sees john's APPEND to Shared from her own session.
const LIMITED_RIGHTS: &str = r##"
a = session("anne@example.com")
out["select"] = select(a, "#Public.Shared")
out["fetch"] = cmd(a, "FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])", want="FETCH")
out["store"] = cmd(a, "STORE", "1", "+FLAGS", "(\\Deleted)")
out["expunge"] = cmd(a, "EXPUNGE")
out["append"] = append(a, "#Public.Shared", "anne")
out["create"] = cmd(a, "CREATE", "#Public.Shared.Mine")
out["delete"] = cmd(a, "DELETE", "#Public.Shared.Child")

j = session("john@example.com")
out["john_append"] = append(j, "#Public.Shared", "four")
out["noop"] = cmd(a, "NOOP", want="EXISTS")
out["fetch_new"] = cmd(a, "FETCH", "2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])", want="FETCH")
j.logout()

out["news_append"] = append(a, "#Public.News", "news")
out["news_select"] = select(a, "#Public.News")
out["news_seen"] = cmd(a, "STORE", "1", "+FLAGS", "(\\Seen \\Flagged)", want="FETCH")
out["news_delete_flag"] = cmd(a, "STORE", "1", "+FLAGS", "(\\Deleted)")
out["news_expunge"] = cmd(a, "EXPUNGE")
a.logout()
"##;

/// The ACL commands: refused for anne (no `a`), then run by john.
const ADMIN: &str = r##"
a = session("anne@example.com")
out["anne_getacl"] = cmd(a, "GETACL", "#Public.Shared", want="ACL")
out["anne_setacl"] = cmd(a, "SETACL", "#Public.Shared", "anne@example.com", "lrswipkxtea")
out["anne_deleteacl"] = cmd(a, "DELETEACL", "#Public.Shared", "Staff")
out["anne_listrights"] = cmd(a, "LISTRIGHTS", "#Public.Shared", "anne@example.com")
out["anne_rights_after"] = myrights(a, "#Public.Shared")

j = session("john@example.com")
out["getacl"] = cmd(j, "GETACL", "#Public.Shared", want="ACL")
out["listrights"] = cmd(j, "LISTRIGHTS", "#Public.Shared", "mary@example.com")
out["set"] = cmd(j, "SETACL", "#Public.Shared", "mary@example.com", "lr")
out["rights_set"] = myrights(session("mary@example.com"), "#Public.Shared")
out["add"] = cmd(j, "SETACL", "#Public.Shared", "mary@example.com", "+sw")
out["remove"] = cmd(j, "SETACL", "#Public.Shared", "mary@example.com", "-r")
out["group_add"] = cmd(j, "SETACL", "#Public.Shared", "Staff", "+i")
out["getacl_after"] = cmd(j, "GETACL", "#Public.Shared", want="ACL")
out["nobody"] = cmd(j, "SETACL", "#Public.Shared", "nobody@example.com", "lr")
out["deleteacl"] = cmd(j, "DELETEACL", "#Public.Shared", "Staff")
j.logout()

m = session("mary@example.com")
out["mary_rights"] = myrights(m, "#Public.Shared")
out["mary_list"] = listing(m)
out["mary_select"] = select(m, "#Public.Shared")
m.logout()
a = session("anne@example.com")
out["anne_rights_gone"] = myrights(a, "#Public.Shared")
out["anne_list"] = listing(a)
a.logout()
"##;

/// LIST patterns, STATUS, COPY and MOVE between public folders, RENAME, and a child's own rows
/// taking over from its parent's.
const MORE: &str = r##"
j = session("john@example.com")
out["list_top"] = cmd(j, "LIST", '""', "%")
out["list_public"] = cmd(j, "LIST", '"#Public."', "%")
out["status_news"] = cmd(j, "STATUS", "#Public.News", "(MESSAGES)")
out["select_news"] = select(j, "#Public.News")
out["copy"] = cmd(j, "COPY", "1", "#Public.Shared")
out["move"] = cmd(j, "MOVE", "1", "#Public.Shared")
out["rename"] = cmd(j, "RENAME", "#Public.Shared.Child", "#Public.Shared.Kid")
out["own_rows"] = cmd(j, "SETACL", "#Public.Shared.Kid", "anne@example.com", "lr")
out["john_kid"] = myrights(j, "#Public.Shared.Kid")
out["john_delete_kid"] = cmd(j, "DELETE", "#Public.Shared.Kid")
j.logout()
a = session("anne@example.com")
out["anne_kid"] = myrights(a, "#Public.Shared.Kid")
out["anne_list"] = listing(a)
out["anne_select_news"] = select(a, "#Public.News")
out["anne_copy"] = cmd(a, "COPY", "1", "#Public.Shared")
out["anne_rename"] = cmd(a, "RENAME", "#Public.News", "#Public.Old")
a.logout()
m = session("mary@example.com")
out["mary_kid"] = myrights(m, "#Public.Shared.Kid")
out["mary_status_news"] = cmd(m, "STATUS", "#Public.News", "(MESSAGES)")
m.logout()
b = session("bob@example.com")
out["bob_list"] = listing(b)
b.logout()
"##;

/// Public folders, groups and rights through the wire, on every database.
#[tokio::test(flavor = "multi_thread")]
async fn public_folders_and_acl_on_every_database() {
    for db in backends("imap_acl").await {
        let i = Install::new(db);
        let e = i.db.engine;
        common::example_com(&i, &[]);
        for who in ["mary", "anne", "bob"] {
            i.ok(&["account", "add", &format!("{who}@example.com"), "--password", "secret-pw"]);
        }
        let data = i.path("data");
        let store = Store::open(&i.db.config, data.clone(), false).await.unwrap();
        let sdb = &store.db;
        let mary = accounts::find(sdb, "mary@example.com").await.unwrap().unwrap().id;
        let anne = accounts::find(sdb, "anne@example.com").await.unwrap().unwrap().id;
        group(&store, "Staff", &[anne]).await;
        group(&store, "Editors", &[anne, mary]).await;

        // Shared: john everything, the Staff group (anne) lr, mary nothing. Shared.Child has no
        // rows of its own. News: the Editors group (anne, mary) lrswi, but mary's own entry
        // says l only; everybody else (john) lr through "anyone".
        let shared = folders::create(sdb, 0, folders::TOP_LEVEL, "Shared", now_local()).await.unwrap();
        let child = folders::create(sdb, 0, shared.id, "Child", now_local()).await.unwrap();
        let news = folders::create(sdb, 0, folders::TOP_LEVEL, "News", now_local()).await.unwrap();
        acl::set(sdb, shared.id, "john@example.com", Rights::ALL).await.unwrap();
        acl::set(sdb, shared.id, "Staff", letters("lr")).await.unwrap();
        acl::set(sdb, news.id, "Editors", letters("lrswi")).await.unwrap();
        acl::set(sdb, news.id, "mary@example.com", letters("l")).await.unwrap();
        acl::set(sdb, news.id, "anyone", letters("lr")).await.unwrap();
        assert!(acl::list(sdb, child.id).await.unwrap().is_empty(), "{e}");

        let (mut server, ports) = i.serve_on(&[("imap", "none")]);
        let port = ports[0];

        // NAMESPACE, LIST and MYRIGHTS as seeded.
        let out = imaplib(port, VISIBILITY);
        for who in ["john", "mary", "anne"] {
            let ns = &out[format!("{who}_namespace")];
            assert!(status(ns).starts_with("OK"), "{e}: {ns}");
            assert_eq!(untagged(ns), vec![r##"(("" ".")) NIL (("#Public." "."))"##.to_owned()], "{e}: {who}");
            let list = &out[format!("{who}_list")];
            assert!(s(&list["#Public"]).contains("\\Noselect"), "{e}: {who}: {list}");
        }
        let all = ["#Public", "#Public.News", "#Public.Shared", "#Public.Shared.Child"];
        assert_eq!(names(&out["john_list"]), all, "{e}");
        assert_eq!(names(&out["anne_list"]), all, "{e}: Shared through Staff, News through Editors");
        assert_eq!(names(&out["mary_list"]), ["#Public", "#Public.News"], "{e}: nothing on Shared");
        assert!(s(&out["mary_list"]["#Public.News"]).contains("\\Noselect"), "{e}: l without r");
        assert!(!s(&out["anne_list"]["#Public.News"]).contains("\\Noselect"), "{e}");
        assert!(s(&out["john_list"]["#Public.Shared"]).contains("\\HasChildren"), "{e}");
        let rights = |who: &str, mailbox: &str| s(&out[format!("{who}_rights_{mailbox}")]).to_owned();
        assert_eq!(rights("john", "Shared"), "lrswipkxtea", "{e}");
        assert_eq!(rights("john", "Shared.Child"), "lrswipkxtea", "{e}: inherited from Shared");
        assert_eq!(rights("john", "News"), "lr", "{e}: anyone");
        assert_eq!(rights("anne", "Shared"), "lr", "{e}: group");
        assert_eq!(rights("anne", "Shared.Child"), "lr", "{e}: group, inherited");
        assert_eq!(rights("anne", "News"), "lrswi", "{e}: group");
        assert!(rights("mary", "Shared").starts_with("NO"), "{e}: {}", rights("mary", "Shared"));
        assert!(rights("mary", "Shared.Child").starts_with("NO"), "{e}");
        assert_eq!(rights("mary", "News"), "l", "{e}: her own entry beats her group's");
        let sel = status(&out["mary_select_shared"]);
        assert!(sel.starts_with("NO [NONEXISTENT]"), "{e}: invisible without l or r: {sel}");
        let sel = status(&out["mary_select_news"]);
        assert!(sel.starts_with("NO [NOPERM]"), "{e}: visible but not readable: {sel}");
        assert!(status(&out["mary_create"]).starts_with("NO"), "{e}: {}", out["mary_create"]);

        // Every right: APPEND, STORE, EXPUNGE, CREATE and DELETE.
        let out = imaplib(port, FULL_RIGHTS);
        for k in ["append1", "append2"] {
            assert!(s(&out[k]).starts_with("OK [APPENDUID "), "{e}: {k}: {}", out[k]);
        }
        let sel = &out["select"];
        assert!(status(sel).starts_with("OK [READ-WRITE]"), "{e}: {sel}");
        assert_eq!(untagged(sel), ["2"], "{e}");
        let fetched = untagged(&out["fetch"]).join("\n");
        assert!(fetched.contains("Subject: one") && fetched.contains("Subject: two"), "{e}: {fetched}");
        assert!(status(&out["store"]).starts_with("OK"), "{e}: {}", out["store"]);
        assert!(untagged(&out["store"]).join(" ").contains("\\Deleted"), "{e}: {}", out["store"]);
        assert!(status(&out["expunge"]).starts_with("OK"), "{e}: {}", out["expunge"]);
        assert_eq!(untagged(&out["expunge"]), ["2"], "{e}");
        assert!(status(&out["create"]).starts_with("OK"), "{e}: {}", out["create"]);
        assert!(out["list_created"].get("#Public.Shared.Sub").is_some(), "{e}: {}", out["list_created"]);
        assert_eq!(s(&out["rights_sub"]), "lrswipkxtea", "{e}: a new child inherits");
        assert!(s(&out["append_sub"]).starts_with("OK"), "{e}: {}", out["append_sub"]);
        for k in ["setacl_sub", "setacl_sub2"] {
            assert!(status(&out[k]).starts_with("OK"), "{e}: {k}: {}", out[k]);
        }
        assert!(status(&out["delete"]).starts_with("OK"), "{e}: {}", out["delete"]);
        let acl_rows = sdb.fetch_all("SELECT aclid FROM hm_acl", &[]).await.unwrap();
        assert_eq!(acl_rows.len(), 5, "{e}: the deleted folder's rows go with it");
        assert!(out["list_deleted"].get("#Public.Shared.Sub").is_none(), "{e}: {}", out["list_deleted"]);
        let top = status(&out["create_top"]);
        assert!(top.starts_with("NO [NOPERM]"), "{e}: no rights at the public root: {top}");
        // The rows belong to the public tree (account 0); the files live under #Public.
        let rows = messages::in_folder(sdb, 0, shared.id).await.unwrap();
        assert_eq!(rows.len(), 1, "{e}");
        let path = store.files.resolve(Location::Public, &rows[0].file_name);
        assert!(path.starts_with(data.join("#Public")), "{e}: {}", path.display());
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(stored.contains("Subject: one"), "{e}: {stored}");
        assert_eq!(public_files(&data), vec![path.clone()], "{e}: expunged and deleted files are gone");
        assert!(folders::find(sdb, 0, shared.id, "Sub").await.unwrap().is_none(), "{e}");

        // lr (anne through Staff): read-only; lrswi (anne through Editors): no t, no e.
        let out = imaplib(port, LIMITED_RIGHTS);
        let sel = &out["select"];
        assert!(status(sel).starts_with("OK [READ-ONLY]"), "{e}: {sel}");
        assert_eq!(untagged(sel), ["1"], "{e}");
        assert!(untagged(&out["fetch"]).join(" ").contains("Subject: one"), "{e}: {}", out["fetch"]);
        let store_line = status(&out["store"]);
        assert!(
            store_line.starts_with("NO [READ-ONLY]") || store_line.starts_with("NO [NOPERM]"),
            "{e}: STORE with lr: {store_line}"
        );
        assert!(status(&out["expunge"]).starts_with("NO"), "{e}: {}", out["expunge"]);
        assert!(s(&out["append"]).starts_with("NO [NOPERM]"), "{e}: {}", out["append"]);
        assert!(status(&out["create"]).starts_with("NO [NOPERM]"), "{e}: no k: {}", out["create"]);
        assert!(status(&out["delete"]).starts_with("NO [NOPERM]"), "{e}: no x: {}", out["delete"]);
        assert!(folders::find(sdb, 0, shared.id, "Child").await.unwrap().is_some(), "{e}");
        assert!(folders::find(sdb, 0, shared.id, "Mine").await.unwrap().is_none(), "{e}");
        // Two sessions: john's APPEND shows in anne's session at her next NOOP.
        assert!(s(&out["john_append"]).starts_with("OK"), "{e}: {}", out["john_append"]);
        assert!(status(&out["noop"]).starts_with("OK"), "{e}: {}", out["noop"]);
        assert_eq!(untagged(&out["noop"]), ["2"], "{e}: * 2 EXISTS after NOOP");
        assert!(untagged(&out["fetch_new"]).join(" ").contains("Subject: four"), "{e}: {}", out["fetch_new"]);
        assert_eq!(messages::in_folder(sdb, 0, shared.id).await.unwrap().len(), 2, "{e}: anne added nothing");
        // News through the Editors group.
        assert!(s(&out["news_append"]).starts_with("OK [APPENDUID "), "{e}: i: {}", out["news_append"]);
        assert!(status(&out["news_select"]).starts_with("OK [READ-WRITE]"), "{e}: {}", out["news_select"]);
        assert!(status(&out["news_seen"]).starts_with("OK"), "{e}: s and w: {}", out["news_seen"]);
        let line = status(&out["news_delete_flag"]);
        assert!(line.starts_with("NO [NOPERM]"), "{e}: \\Deleted needs t: {line}");
        assert!(status(&out["news_expunge"]).starts_with("NO [NOPERM]"), "{e}: no e: {}", out["news_expunge"]);
        let news_rows = messages::in_folder(sdb, 0, news.id).await.unwrap();
        assert_eq!(news_rows.len(), 1, "{e}");
        let seen_flagged = altimail_core::codes::flags::SEEN | altimail_core::codes::flags::FLAGGED;
        assert_eq!(news_rows[0].flags & seen_flagged, seen_flagged, "{e}: {}", news_rows[0].flags);

        // GETACL, SETACL, DELETEACL, LISTRIGHTS.
        let out = imaplib(port, ADMIN);
        for k in ["anne_getacl", "anne_setacl", "anne_deleteacl", "anne_listrights"] {
            assert!(status(&out[k]).starts_with("NO"), "{e}: {k} without a: {}", out[k]);
        }
        assert_eq!(s(&out["anne_rights_after"]), "lr", "{e}: anne's SETACL changed nothing");
        let getacl = &out["getacl"];
        assert!(status(getacl).starts_with("OK"), "{e}: {getacl}");
        assert_eq!(untagged(getacl), [r##""#Public.Shared" john@example.com lrswipkxtea Staff lr"##], "{e}");
        let listrights = &out["listrights"];
        assert!(status(listrights).starts_with("OK"), "{e}: {listrights}");
        assert_eq!(untagged(listrights), [r##""#Public.Shared" mary@example.com "" l r s w i p k x t e a"##], "{e}");
        for k in ["set", "add", "remove", "group_add", "deleteacl"] {
            assert!(status(&out[k]).starts_with("OK"), "{e}: {k}: {}", out[k]);
        }
        assert_eq!(s(&out["rights_set"]), "lr", "{e}");
        assert_eq!(
            untagged(&out["getacl_after"]),
            [r##""#Public.Shared" john@example.com lrswipkxtea mary@example.com lsw Staff lri"##],
            "{e}: +sw then -r, and +i for the group"
        );
        assert!(status(&out["nobody"]).starts_with("NO"), "{e}: {}", out["nobody"]);
        assert_eq!(s(&out["mary_rights"]), "lsw", "{e}");
        assert!(s(&out["mary_list"]["#Public.Shared"]).contains("\\Noselect"), "{e}: {}", out["mary_list"]);
        let sel = status(&out["mary_select"]);
        assert!(sel.starts_with("NO [NOPERM]"), "{e}: l without r: {sel}");
        let gone = s(&out["anne_rights_gone"]);
        assert!(gone.starts_with("NO"), "{e}: Staff's entry deleted, no anyone entry: {gone}");
        assert_eq!(names(&out["anne_list"]), ["#Public", "#Public.News"], "{e}");
        assert_eq!(
            grants(&store, shared.id).await,
            [
                ("john@example.com".to_owned(), "lrswipkxtea".to_owned()),
                ("mary@example.com".to_owned(), "lsw".to_owned())
            ],
            "{e}"
        );
        assert_eq!(grants(&store, child.id).await, [], "{e}: nothing written on the child");

        // LIST patterns, STATUS, COPY/MOVE, RENAME, and a child's own rows.
        let out = imaplib(port, MORE);
        let top = untagged(&out["list_top"]).join("\n");
        assert!(top.contains("\"#Public\"") || top.contains(" #Public"), "{e}: {top}");
        assert!(!top.contains("#Public."), "{e}: % stops at the delimiter: {top}");
        let public = untagged(&out["list_public"]);
        assert_eq!(public.len(), 2, "{e}: News and Shared: {public:?}");
        assert!(public.iter().any(|l| l.contains("#Public.News")), "{e}: {public:?}");
        assert!(public.iter().any(|l| l.contains("#Public.Shared")), "{e}: {public:?}");
        assert_eq!(untagged(&out["status_news"]), [r##""#Public.News" (MESSAGES 1)"##], "{e}: {}", out["status_news"]);
        assert!(status(&out["select_news"]).starts_with("OK [READ-ONLY]"), "{e}: lr: {}", out["select_news"]);
        assert!(status(&out["copy"]).starts_with("OK"), "{e}: r on News, i on Shared: {}", out["copy"]);
        assert!(status(&out["move"]).starts_with("NO"), "{e}: no t/e on News: {}", out["move"]);
        assert_eq!(messages::in_folder(sdb, 0, news.id).await.unwrap().len(), 1, "{e}: MOVE left News alone");
        assert_eq!(messages::in_folder(sdb, 0, shared.id).await.unwrap().len(), 3, "{e}: one, four and the copy");
        assert!(status(&out["rename"]).starts_with("OK"), "{e}: x inherited: {}", out["rename"]);
        assert!(status(&out["own_rows"]).starts_with("OK"), "{e}: {}", out["own_rows"]);
        let kid = folders::find(sdb, 0, shared.id, "Kid").await.unwrap().expect("renamed");
        assert_eq!(kid.id, child.id, "{e}");
        assert_eq!(grants(&store, kid.id).await, [("anne@example.com".to_owned(), "lr".to_owned())], "{e}");
        // Kid's own rows decide now: john's entry on Shared no longer reaches it.
        assert!(s(&out["john_kid"]).starts_with("NO"), "{e}: {}", out["john_kid"]);
        assert!(status(&out["john_delete_kid"]).starts_with("NO"), "{e}: {}", out["john_delete_kid"]);
        assert_eq!(s(&out["anne_kid"]), "lr", "{e}");
        assert!(s(&out["mary_kid"]).starts_with("NO"), "{e}: {}", out["mary_kid"]);
        assert_eq!(names(&out["anne_list"]), ["#Public", "#Public.News", "#Public.Shared.Kid"], "{e}");
        assert!(status(&out["anne_select_news"]).starts_with("OK [READ-WRITE]"), "{e}: {}", out["anne_select_news"]);
        assert!(status(&out["anne_copy"]).starts_with("NO"), "{e}: nothing on Shared: {}", out["anne_copy"]);
        assert!(status(&out["anne_rename"]).starts_with("NO [NOPERM]"), "{e}: no x: {}", out["anne_rename"]);
        let line = status(&out["mary_status_news"]);
        assert!(line.starts_with("NO [NOPERM]"), "{e}: l without r: {line}");
        // bob, in no group and named nowhere, sees News through "anyone"; once that entry goes,
        // he sees no public folder, and no #Public root either.
        assert_eq!(names(&out["bob_list"]), ["#Public", "#Public.News"], "{e}: anyone");
        acl::delete(sdb, news.id, "anyone").await.unwrap();
        let out = imaplib(port, "b = session(\"bob@example.com\")\nout[\"bob_list\"] = listing(b)\nb.logout()\n");
        assert_eq!(names(&out["bob_list"]), Vec::<String>::new(), "{e}: nothing visible, no #Public root");

        store.db.close().await;
        assert!(server.stop(std::time::Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}
