//! The Bayesian filter end to end: `altimail bayes status|train|reset`, and learning from what a
//! user MOVEs, COPYs and APPENDs into and out of the Junk folder over IMAP (Python's imaplib),
//! on every database.

mod common;

use std::time::Duration;

use altimail_antispam::bayes::token_hash;
use altimail_store::Store;
use altimail_store::repo::bayes::{self, Counts, GLOBAL};
use altimail_testkit::backends;
use common::{Install, wait_inbox};
use serde_json::{Value, json};

fn message(subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: <a@remote.test>\r\nTo: <john@example.com>\r\nSubject: {subject}\r\nMessage-ID: <{id}@remote.test>\r\n\r\n{body}\r\n"
    )
}

/// The global table as `bayes status --json` shows it: (spam, ham), or None when empty.
fn global(i: &Install) -> Option<(i64, i64)> {
    let status = i.json(&["bayes", "status"]);
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scope"] == 0)
        .map(|t| (t["spam"].as_i64().unwrap(), t["ham"].as_i64().unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_trains_reports_and_resets_on_every_database() {
    for db in backends("bayes_cli").await {
        let i = Install::new(db);
        let e = i.db.engine;
        common::example_com(&i, &[]);
        let files: Vec<String> = (1..=3)
            .map(|k| {
                let p = i.path(&format!("m{k}.eml"));
                std::fs::write(&p, message(&format!("offer {k}"), &format!("m{k}"), "cheap pills")).unwrap();
                p.to_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(i.json(&["bayes", "status"]), json!([]), "{e}");

        let mut args = vec!["bayes", "train", "--spam"];
        args.extend(files.iter().map(String::as_str));
        assert_eq!(i.json(&args), json!({"learnt": 3, "moved": 0, "unchanged": 0}), "{e}");
        assert_eq!(i.json(&args), json!({"learnt": 0, "moved": 0, "unchanged": 3}), "{e}: learnt once");
        assert_eq!(
            i.json(&["bayes", "train", "--ham", &files[0]]),
            json!({"learnt": 0, "moved": 1, "unchanged": 0}),
            "{e}"
        );
        assert_eq!(global(&i), Some((2, 1)), "{e}");
        assert!(i.ok(&["bayes", "status"]).contains("(global)"), "{e}");

        i.ok(&["bayes", "train", "--spam", "--domain", "example.com", &files[1]]);
        let status = i.json(&["bayes", "status"]);
        let domain = status.as_array().unwrap().iter().find(|t| t["name"] == "example.com").cloned();
        assert_eq!(domain.map(|t| (t["spam"].clone(), t["ham"].clone())), Some((json!(1), json!(0))), "{e}: {status}");

        assert!(i.fails(&["bayes", "train", "--spam", "--domain", "nowhere.test", &files[0]]).contains("nowhere.test"));
        assert!(i.fails(&["bayes", "train", "--ham", "/nonexistent/file.eml"]).contains("/nonexistent/file.eml"));
        let (code, _, err) = i.run(&["bayes", "train", &files[0]]);
        assert!(code != 0 && err.contains("--spam"), "{e}: --spam or --ham is required: {err}");

        i.ok(&["bayes", "reset", "--domain", "example.com"]);
        assert_eq!(i.json(&["bayes", "status"]).as_array().unwrap().len(), 1, "{e}");
        i.ok(&["bayes", "reset"]);
        assert_eq!(i.json(&["bayes", "status"]), json!([]), "{e}");
        i.db.cleanup().await;
    }
}

const JUNK: &str = r#"
import imaplib
imaplib.Commands["MOVE"] = ("SELECTED",)
port, step = int(sys.argv[1]), sys.argv[2]
m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
m.login("john@example.com", "secret-pw")
def last(typ, dat):
    return typ + " " + (dat[-1] or b"").decode()
if step == "into":
    m.select("INBOX")
    out["move"] = last(*m._simple_command("MOVE", "1:2", "Junk"))
elif step == "out":
    m.select("Junk")
    out["move_out"] = last(*m._simple_command("MOVE", "1", "INBOX"))
    out["move_trash"] = last(*m._simple_command("MOVE", "1", "Trash"))
elif step == "copy_append":
    m.select("INBOX")
    out["copy"] = last(*m.copy("2", "Junk"))
    msg = b"From: <x@remote.test>\r\nSubject: appended junk\r\nMessage-ID: <app1@remote.test>\r\n\r\nlottery winner\r\n"
    out["append"] = last(*m.append("Junk", None, None, msg))
m.logout()
"#;

fn junk(port: u16, step: &str) -> Value {
    common::client_script("imaplib", "", JUNK, &[&port.to_string(), step])
}

/// (spam, ham) of a token in the global table.
async fn token(store: &Store, t: &str) -> Counts {
    let h = token_hash(t);
    bayes::token_counts(&store.db, GLOBAL, &[h]).await.unwrap().get(&h).copied().unwrap_or_default()
}

async fn eventually_counts(store: &Store, want: Counts, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got = bayes::counts(&store.db, GLOBAL).await.unwrap();
        if got == want {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_into_and_out_of_junk_teaches_the_filter_on_every_database() {
    for db in backends("bayes_imap").await {
        let i = Install::new(db);
        let e = i.db.engine;
        common::example_com(&i, &[("altimailbayesenabled", "1")]);
        let (mut server, ports) = i.serve_on(&[("imap", "none"), ("smtp", "none")]);
        let (imap, smtp) = (ports[0], ports[1]);
        let template = "From: <sender@remote.test>\r\nTo: <%(rcpt)s>\r\nSubject: %(tag)s %(k)d\r\n\
                        Message-ID: <%(tag)s%(k)d@remote.test>\r\n\r\nUnique words for message %(k)d.\r\n";
        common::send_numbered(smtp, "john@example.com", "junkmail", 3, template);
        let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        wait_inbox(&store, "john@example.com", 3).await;

        // Two messages filed as junk: learnt as spam, once each.
        let out = junk(imap, "into");
        assert!(out["move"].as_str().unwrap().starts_with("OK"), "{e}: {out}");
        eventually_counts(&store, Counts { spam: 2, ham: 0 }, &format!("{e}: after MOVE into Junk")).await;
        assert_eq!(token(&store, "subject:junkmail").await, Counts { spam: 2, ham: 0 }, "{e}");
        assert_eq!(token(&store, "from:addr:sender@remote.test").await, Counts { spam: 2, ham: 0 }, "{e}");

        // One taken back out: no longer spam, now ham; one thrown away from Junk: still spam.
        let out = junk(imap, "out");
        assert!(out["move_out"].as_str().unwrap().starts_with("OK"), "{e}: {out}");
        assert!(out["move_trash"].as_str().unwrap().starts_with("OK"), "{e}: {out}");
        eventually_counts(&store, Counts { spam: 1, ham: 1 }, &format!("{e}: after MOVE out of Junk")).await;
        assert_eq!(token(&store, "subject:junkmail").await, Counts { spam: 1, ham: 1 }, "{e}");

        // COPY of the ham message into Junk makes it spam again; an APPEND to Junk is spam.
        let out = junk(imap, "copy_append");
        assert!(out["copy"].as_str().unwrap().starts_with("OK"), "{e}: {out}");
        assert!(out["append"].as_str().unwrap().starts_with("OK"), "{e}: {out}");
        eventually_counts(&store, Counts { spam: 3, ham: 0 }, &format!("{e}: after COPY and APPEND")).await;
        assert_eq!(token(&store, "lottery").await, Counts { spam: 1, ham: 0 }, "{e}");
        assert_eq!(token(&store, "subject:junkmail").await, Counts { spam: 2, ham: 0 }, "{e}");

        assert!(server.stop(Duration::from_secs(25)).success(), "{e}: {}", server.stderr());
        store.db.close().await;
        i.db.cleanup().await;
    }
}
