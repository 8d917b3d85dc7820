//! `altimail dnsbl`, `surbl` and `greylist`, run as a separate process, on every engine.

mod common;

use altimail_store::Store;
use altimail_store::repo::greylisting::{self, Triplet};
use altimail_testkit::backends;
use chrono::NaiveDate;
use common::Install;

#[tokio::test]
async fn dnsbl_and_surbl_commands() {
    for db in backends("antispam_cli_lists").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        let listed = i.json(&["dnsbl", "list"]);
        assert_eq!(listed.as_array().unwrap().len(), 2, "{e}: hMailServer's default rows");
        assert_eq!(listed[1]["zone"], "zen.spamhaus.org", "{e}");
        assert_eq!(listed[1]["expected"], "127.0.0.2-8|127.0.0.10-11", "{e}");
        assert_eq!(listed[1]["active"], false, "{e}");

        let added =
            i.json(&["dnsbl", "add", "bl.example", "--expected", "127.0.0.2", "--message", "Listed.", "--score", "4"]);
        assert_eq!((added["active"].as_bool(), added["score"].as_i64()), (Some(true), Some(4)), "{e}");
        assert!(i.fails(&["dnsbl", "add", "BL.example", "--message", "x"]).contains("already exists"), "{e}");
        assert!(i.fails(&["dnsbl", "add", "bad zone", "--message", "x"]).contains("not a valid"), "{e}");
        i.ok(&["dnsbl", "set", "zen.spamhaus.org", "--active", "yes", "--score", "5"]);
        let text = i.ok(&["dnsbl", "list"]);
        assert!(text.starts_with("ZONE"), "{e}: {text}");
        assert!(
            text.lines().any(|l| l.starts_with("zen.spamhaus.org") && l.contains("yes") && l.contains(" 5 ")),
            "{e}: {text}"
        );
        assert!(i.ok(&["dnsbl", "remove", "bl.example"]).contains("removed"), "{e}");
        assert!(i.fails(&["dnsbl", "remove", "bl.example"]).contains("no DNSBL"), "{e}");
        assert_eq!(i.json(&["dnsbl", "list"]).as_array().unwrap().len(), 2, "{e}");

        assert_eq!(i.json(&["surbl", "list"])[0]["zone"], "multi.surbl.org", "{e}");
        i.ok(&["surbl", "add", "uri.example", "--message", "URI listed.", "--active", "no"]);
        let s = i.json(&["surbl", "set", "uri.example", "--active", "on", "--message", "Other."]);
        assert_eq!((s["active"].as_bool(), s["reject_message"].as_str()), (Some(true), Some("Other.")), "{e}");
        i.ok(&["surbl", "remove", "uri.example"]);
        assert_eq!(i.json(&["surbl", "list"]).as_array().unwrap().len(), 1, "{e}");
        i.db.cleanup().await;
    }
}

#[tokio::test]
async fn greylist_commands() {
    for db in backends("antispam_cli_greylist").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        assert_eq!(i.json(&["greylist", "whitelist", "list"]).as_array().unwrap().len(), 0, "{e}");
        let w = i.json(&["greylist", "whitelist", "add", "192.168.*", "--description", "office"]);
        assert_eq!(w["like_pattern"], "192.168.%", "{e}");
        assert!(i.fails(&["greylist", "whitelist", "add", "192.168.*"]).contains("already"), "{e}");
        assert!(i.ok(&["greylist", "whitelist", "list"]).contains("192.168.*  office"), "{e}");

        {
            let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
            let t0 = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap().and_hms_opt(8, 0, 0).unwrap();
            for n in 0..3 {
                let t = Triplet {
                    id: 0,
                    created: t0 + chrono::Duration::minutes(n),
                    block_end: t0 + chrono::Duration::minutes(30 + n),
                    delete_time: t0 + chrono::Duration::hours(24),
                    ip: format!("192.0.2.{n}").parse().unwrap(),
                    sender: format!("s{n}@sender.test"),
                    recipient: "r@example.com".into(),
                    blocked_count: 1,
                    passed_count: 0,
                };
                greylisting::insert(&store.db, &t).await.unwrap();
            }
            store.db.close().await;
        }
        let t = i.json(&["greylist", "triplets", "--limit", "2"]);
        assert_eq!(t["count"], 3, "{e}");
        assert_eq!(t["recent"].as_array().unwrap().len(), 2, "{e}");
        assert_eq!(t["recent"][0]["sender"], "s2@sender.test", "{e}: newest first");
        let text = i.ok(&["greylist", "triplets"]);
        assert!(text.starts_with("3 triplet(s) stored"), "{e}: {text}");
        assert!(text.contains("192.0.2.1  s1@sender.test"), "{e}: {text}");
        assert_eq!(i.json(&["greylist", "clear"])["removed"], 3, "{e}");
        assert!(i.ok(&["greylist", "triplets"]).starts_with("0 triplet(s)"), "{e}");

        i.ok(&["greylist", "whitelist", "remove", "192.168.*"]);
        assert!(i.fails(&["greylist", "whitelist", "remove", "192.168.*"]).contains("not white-listed"), "{e}");
        i.db.cleanup().await;
    }
}

#[test]
fn antispam_commands_have_help() {
    let i = Install::new(altimail_testkit::ScratchDb::sqlite());
    for cmd in [
        vec!["dnsbl", "--help"],
        vec!["dnsbl", "add", "--help"],
        vec!["dnsbl", "set", "--help"],
        vec!["surbl", "add", "--help"],
        vec!["greylist", "--help"],
        vec!["greylist", "whitelist", "add", "--help"],
        vec!["greylist", "triplets", "--help"],
    ] {
        let (code, out, _) = i.run(&cmd);
        assert_eq!(code, 0, "{cmd:?}");
        assert!(out.contains("Usage:"), "{cmd:?}: {out}");
    }
}
