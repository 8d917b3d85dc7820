//! `altimail db copy`: a database with delivered mail copied from each engine to each other one
//! (SQLite, PostgreSQL, MySQL/MariaDB), checked row for row, keys kept, key generators moved on,
//! and then served: the copied message read over IMAP from the target.

mod common;

use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::ScratchDb;
use common::{Install, LineClient};
use serde_json::Value;

async fn scratch(engine: &str) -> Option<ScratchDb> {
    match engine {
        "sqlite" => Some(ScratchDb::sqlite()),
        "postgresql" => ScratchDb::postgres("db_copy").await,
        _ => ScratchDb::mysql("db_copy").await,
    }
}

/// (id, address) of every account.
fn accounts(i: &Install) -> Vec<(i64, String)> {
    let list = i.json(&["account", "list"]);
    let mut out: Vec<(i64, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["address"].as_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

/// The rows of altimail_keywords, sorted byte for byte.
async fn keywords(db: &altimail_store::Db) -> Vec<(i64, String)> {
    let rows = db.fetch_all("SELECT messageid, keyword FROM altimail_keywords", &[]).await.unwrap();
    let mut out: Vec<(i64, String)> =
        rows.iter().map(|r| (r.int("messageid").unwrap(), r.text("keyword").unwrap())).collect();
    out.sort();
    out
}

/// Reads message 1 of john's INBOX over IMAP.
fn imap_first_message(port: u16) -> String {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let login = c.ask_all("a LOGIN john@example.com secret-pw");
    assert!(login.last().unwrap().starts_with("a OK"), "{login:?}");
    let select = c.ask_all("b SELECT INBOX");
    assert!(select.last().unwrap().starts_with("b OK"), "{select:?}");
    let fetch = c.ask_all("c FETCH 1 BODY[]");
    assert!(fetch.last().unwrap().starts_with("c OK"), "{fetch:?}");
    c.ask_all("d LOGOUT");
    fetch.concat()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_engine_to_every_other_then_served() {
    let engines = ["sqlite", "postgresql", "mysql"];
    for from in engines {
        let Some(db) = scratch(from).await else { continue };
        let src = Install::new(db);
        common::example_com(&src, &[]);
        src.ok(&["account", "add", "mary@example.com", "--password", "secret-pw"]);
        src.ok(&["alias", "add", "info@example.com", "john@example.com"]);
        let (mut server, ports) = src.serve_on(&[("smtp", "none")]);
        let template =
            "From: <sender@remote.test>\r\nTo: <%(rcpt)s>\r\nSubject: %(tag)s %(k)d\r\n\r\nBody of %(tag)s %(k)d.\r\n";
        common::send_numbered(ports[0], "john@example.com", "copied", 2, template);
        let store = Store::open(&src.db.config, src.path("data"), false).await.unwrap();
        common::wait_inbox(&store, "john@example.com", 2).await;
        // A keyless table over several pages, with rows that differ only in case.
        for k in 0..1500i64 {
            let keyword = if k % 2 == 0 { "Project" } else { "project" };
            store
                .db
                .execute(
                    "INSERT INTO altimail_keywords (messageid, keyword) VALUES (?, ?)",
                    &[(1_000_000 + k / 2).into(), keyword.into()],
                )
                .await
                .unwrap();
        }
        let expected = keywords(&store.db).await;
        store.db.close().await;

        // Not while a server runs on the source's data directory.
        let busy = Install::new(ScratchDb::sqlite());
        let err = src.fails(&["db", "copy", "--to", busy.config.to_str().unwrap()]);
        assert!(err.contains("stop it first"), "{from}: {err}");
        server.stop(Duration::from_secs(20));

        for to in engines.into_iter().filter(|e| *e != from) {
            let Some(db) = scratch(to).await else { continue };
            let dst = Install::new(db);
            let e = format!("{from} -> {to}");
            let to_arg = dst.config.to_str().unwrap();

            let out = src.ok(&["db", "copy", "--to", to_arg]);
            assert!(out.contains("row counts match in every table"), "{e}: {out}");
            assert!(out.contains("the message files are still in"), "{e}: {out}");
            // Not on a terminal: a plain line per table.
            assert!(out.lines().any(|l| l == "hm_accounts: 2 rows"), "{e}: {out}");

            // A target with content is kept unless --force.
            let err = src.fails(&["db", "copy", "--to", to_arg]);
            assert!(err.contains("not empty") && err.contains("--force"), "{e}: {err}");
            let report = src.json(&["db", "copy", "--to", to_arg, "--force"]);
            let tables = report["tables"].as_array().unwrap();
            let rows = |name: &str| -> Value {
                tables.iter().find(|t| t["table"] == name).unwrap_or_else(|| panic!("{e}: no {name}")).clone()
            };
            for t in tables {
                assert_eq!(t["source"], t["target"], "{e}: {t}");
            }
            assert!(rows("hm_messages")["target"].as_i64().unwrap() >= 2, "{e}");
            assert_eq!(rows("hm_accounts")["target"], 2, "{e}");
            assert!(tables.iter().any(|t| t["table"] == "altimail_schema"), "{e}: {report}");
            assert!(tables.iter().any(|t| t["table"] == "hm_dbversion"), "{e}");

            let copied = altimail_store::Db::connect(&dst.db.config).await.unwrap();
            assert_eq!(keywords(&copied).await, expected, "{e}: every keyword row once");
            copied.close().await;

            // Keys kept; new rows get keys after the copied ones.
            let before = accounts(&src);
            assert_eq!(accounts(&dst), before, "{e}");
            dst.ok(&["account", "add", "new@example.com", "--password", "secret-pw"]);
            let after = accounts(&dst);
            let newest = after.iter().find(|(_, a)| a == "new@example.com").unwrap().0;
            assert!(before.iter().all(|(id, _)| *id < newest), "{e}: {after:?}");
            dst.ok(&["account", "remove", "new@example.com"]);

            // Served from the copy, with the message files where its configuration says.
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(src.path("data"))
                .arg(dst.path("data"))
                .status()
                .unwrap();
            assert!(status.success());
            let (mut server, ports) = dst.serve_on(&[("imap", "none")]);
            let message = imap_first_message(ports[0]);
            assert!(message.contains("Subject: copied 1") && message.contains("Body of copied 1."), "{e}: {message}");
            server.stop(Duration::from_secs(20));
            dst.db.cleanup().await;
        }
        src.db.cleanup().await;
    }
}
