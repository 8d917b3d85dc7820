//! `altimail blocked-attachment list|add|remove` as a separate process, on every engine.

mod common;

use altimail_testkit::backends;
use common::Install;

#[tokio::test]
async fn blocked_attachments_round_trip() {
    for db in backends("cli_blocked").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        // hMailServer's 14 default wildcards.
        let all = i.json(&["blocked-attachment", "list"]);
        assert_eq!(all.as_array().map(Vec::len), Some(14), "{e}: {all}");
        assert_eq!(all[0]["wildcard"], "*.bat", "{e}");
        assert!(i.ok(&["blocked-attachment", "list"]).contains("*.exe"), "{e}");

        let added = i.json(&["blocked-attachment", "add", "*.js", "--description", "JavaScript file"]);
        assert_eq!(added["wildcard"], "*.js", "{e}");
        assert_eq!(added["description"], "JavaScript file", "{e}");
        assert!(i.fails(&["blocked-attachment", "add", "*.JS"]).contains("already blocked"), "{e}");
        assert!(i.fails(&["blocked-attachment", "add", " "]).contains("1-255"), "{e}");

        i.ok(&["blocked-attachment", "remove", "*.EXE"]);
        let id = added["id"].as_i64().unwrap().to_string();
        i.ok(&["blocked-attachment", "remove", &id]);
        assert!(i.fails(&["blocked-attachment", "remove", "*.exe"]).contains("no blocked attachment"), "{e}");
        let all = i.json(&["blocked-attachment", "list"]);
        let names: Vec<&str> = all.as_array().unwrap().iter().filter_map(|b| b["wildcard"].as_str()).collect();
        assert_eq!(names.len(), 13, "{e}: {names:?}");
        assert!(!names.contains(&"*.exe") && !names.contains(&"*.js"), "{e}: {names:?}");
        let (code, out, _) = i.run(&["blocked-attachment", "--help"]);
        assert_eq!(code, 0);
        assert!(out.contains("Usage:"), "{out}");
        i.db.cleanup().await;
    }
}
