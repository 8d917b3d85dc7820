//! The administration commands, run as a separate process, against every database engine.

mod common;

use altimail_testkit::backends;
use common::Install;

#[tokio::test]
async fn administration_round_trips() {
    for db in backends("cli").await {
        let i = Install::new(db);
        let e = i.db.engine;
        assert!(i.ok(&["init"]).contains("initialised"), "{e}");
        i.fails(&["init"]);

        // Domains.
        i.ok(&["domain", "add", "example.com"]);
        assert!(i.fails(&["domain", "add", "EXAMPLE.com"]).contains("already exists"), "{e}");
        assert!(i.fails(&["domain", "add", "not a domain"]).contains("not a valid domain"), "{e}");
        i.ok(&[
            "domain",
            "set",
            "example.com",
            "--catch-all",
            "john@example.com",
            "--plus-addressing",
            "yes",
            "--plus-char",
            "-",
        ]);
        let d = i.json(&["domain", "show", "example.com"]);
        assert_eq!(d["catch_all"], "john@example.com", "{e}");
        assert_eq!(d["plus_addressing_char"], "-", "{e}");
        i.ok(&["domain", "alias", "add", "example.com", "example.net"]);
        assert_eq!(i.json(&["domain", "show", "example.com"])["aliases"][0], "example.net", "{e}");

        // Accounts.
        let (code, _, err) = i.run_with_stdin(
            &["account", "add", "john@example.com", "--password-stdin", "--quota", "25"],
            Some("pa55word\n"),
        );
        assert_eq!(code, 0, "{e}: {err}");
        assert!(i.fails(&["account", "add", "john@EXAMPLE.com", "--no-password"]).contains("already exists"), "{e}");
        assert!(i.fails(&["account", "add", "nobody@unknown.test"]).contains("no domain unknown.test"), "{e}");
        assert!(i.fails(&["account", "add", "invalid-address"]).contains("not an e-mail address"), "{e}");
        i.ok(&["account", "check-password", "john@example.com", "--password", "pa55word"]);
        assert!(
            i.fails(&["account", "check-password", "john@example.com", "--password", "wrong"])
                .contains("does not match")
        );
        i.ok(&[
            "account",
            "set",
            "john@example.com",
            "--forward",
            "john@elsewhere.org",
            "--forward-keep",
            "yes",
            "--vacation",
            "on",
            "--vacation-subject",
            "Away",
        ]);
        let a = i.json(&["account", "show", "john@example.com"]);
        assert_eq!(
            (a["forward_on"].as_bool(), a["forward_address"].as_str(), a["max_size_mb"].as_i64()),
            (Some(true), Some("john@elsewhere.org"), Some(25)),
            "{e}"
        );
        assert!(a.get("password").is_none(), "{e}: the hash is never printed");
        let list = i.json(&["account", "list"]);
        assert_eq!(list.as_array().map(|a| a.len()), Some(1), "{e}");
        assert!(i.ok(&["account", "list"]).contains("john@example.com"), "{e}");
        // Message files land where hMailServer puts them.
        assert!(i.path("data").is_dir(), "{e}");

        // Aliases and lists share the address space with accounts.
        i.ok(&["alias", "add", "info@example.com", "john@example.com"]);
        assert!(
            i.fails(&["alias", "add", "john@example.com", "x@example.com"]).contains("already exists as a account"),
            "{e}"
        );
        assert!(i.fails(&["alias", "add", "sales@nowhere.test", "x@example.com"]).contains("no domain"), "{e}");
        i.ok(&["list", "add", "team@example.com", "--mode", "membership"]);
        i.ok(&["list", "member", "add", "team@example.com", "john@example.com"]);
        i.ok(&["list", "member", "add", "team@example.com", "friend@elsewhere.org"]);
        i.fails(&["list", "member", "add", "team@example.com", "friend@elsewhere.org"]);
        let l = i.json(&["list", "show", "team@example.com"]);
        assert_eq!(l["members"].as_array().map(|m| m.len()), Some(2), "{e}");
        assert_eq!(l["mode"], "membership", "{e}");
        i.fails(&["list", "add", "news@example.com", "--mode", "announcement"]);
        assert!(i.json(&["list", "list"]).as_array().unwrap().len() == 1, "{e}: nothing half-written");

        // Ports, certificates, settings, ranges.
        i.ok(&["port", "add", "--protocol", "imap", "--port", "10993", "--security", "tls", "--address", "::"]);
        i.fails(&["port", "add", "--protocol", "imap", "--port", "10993", "--address", "::"]);
        i.fails(&["port", "add", "--protocol", "gopher", "--port", "70"]);
        let ports = i.json(&["port", "list"]);
        let added = ports.as_array().unwrap().iter().find(|p| p["port"] == 10993).unwrap().clone();
        assert_eq!(
            (added["protocol"].as_str(), added["security"].as_str(), added["address"].as_str()),
            (Some("imap"), Some("tls"), Some("::")),
            "{e}"
        );
        let id = added["id"].as_i64().unwrap().to_string();
        i.ok(&["port", "set", &id, "--port", "10994"]);
        i.ok(&["port", "remove", &id]);
        i.fails(&["port", "remove", &id]);
        i.fails(&["certificate", "add", "x", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"]);

        i.ok(&["setting", "set", "maxmessagesize", "10240"]);
        i.ok(&["setting", "set", "hostname", "mail.example.com"]);
        assert_eq!(i.json(&["setting", "get", "maxmessagesize"])["integer"], 10240, "{e}");
        assert_eq!(i.json(&["setting", "get", "HostName"])["string"], "mail.example.com", "{e}");
        i.fails(&["setting", "set", "nosuchsetting", "1"]);
        i.fails(&["setting", "set", "maxmessagesize", "lots"]);
        // Connection limits of a new installation, and the per-client one set like any other.
        assert_eq!(i.json(&["setting", "get", "maxsmtpconnections"])["integer"], 1000, "{e}");
        assert_eq!(i.json(&["setting", "get", "maxpop3connections"])["integer"], 1000, "{e}");
        assert_eq!(i.json(&["setting", "get", "maximapconnections"])["integer"], 5000, "{e}");
        assert_eq!(i.json(&["setting", "get", "altimailmaxconnectionsperip"])["integer"], 50, "{e}");
        i.ok(&["setting", "set", "altimailmaxconnectionsperip", "0"]);
        assert_eq!(i.json(&["setting", "get", "altimailmaxconnectionsperip"])["integer"], 0, "{e}");
        i.fails(&["setting", "set", "altimailmaxconnectionsperip", "many"]);

        i.ok(&[
            "range",
            "add",
            "Office",
            "--lower",
            "192.0.2.0",
            "--upper",
            "192.0.2.255",
            "--priority",
            "25",
            "--allow",
            "smtp,imap,relay-local-to-remote",
        ]);
        i.fails(&["range", "add", "Office", "--lower", "192.0.2.0"]);
        i.fails(&["range", "add", "Bad", "--lower", "192.0.2.9", "--upper", "192.0.2.1"]);
        i.fails(&["range", "add", "Mixed", "--lower", "192.0.2.1", "--upper", "::1"]);
        i.fails(&["range", "add", "Unknown", "--lower", "192.0.2.1", "--allow", "teleport"]);
        i.ok(&["range", "set", "Office", "--allow", "pop3", "--deny", "imap"]);
        let r = i.json(&["range", "show", "Office"]);
        assert_eq!(r["allows"], serde_json::json!(["smtp", "pop3", "relay-local-to-remote"]), "{e}");

        // Removal.
        i.ok(&["alias", "remove", "info@example.com"]);
        i.ok(&["account", "remove", "john@example.com"]);
        i.fails(&["account", "show", "john@example.com"]);
        i.ok(&["domain", "remove", "example.com"]);
        assert_eq!(i.json(&["domain", "list"]), serde_json::json!([]), "{e}");
        i.db.cleanup().await;
    }
}

#[test]
fn every_command_has_help() {
    let i = Install::new(altimail_testkit::ScratchDb::sqlite());
    for cmd in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["serve", "--help"],
        vec!["domain", "--help"],
        vec!["domain", "set", "--help"],
        vec!["domain", "alias", "add", "--help"],
        vec!["account", "add", "--help"],
        vec!["account", "set", "--help"],
        vec!["alias", "--help"],
        vec!["list", "member", "--help"],
        vec!["port", "add", "--help"],
        vec!["certificate", "--help"],
        vec!["setting", "set", "--help"],
        vec!["range", "add", "--help"],
        vec!["import", "hmailserver", "--help"],
        vec!["db", "copy", "--help"],
    ] {
        let (code, out, _) = i.run(&cmd);
        assert_eq!(code, 0, "{cmd:?}");
        assert!(out.contains("Usage:"), "{cmd:?}: {out}");
    }
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let i = Install::new(altimail_testkit::ScratchDb::sqlite());
    std::fs::write(&i.config, "[database]\ntype = \"sqlite\"\npaht = \"x.db\"\n").unwrap();
    let (code, _, err) = i.run(&["domain", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("paht") && err.contains("line 3"), "{err}");
    std::fs::write(&i.config, "[database]\ntype = \"oracle\"\n").unwrap();
    let (code, _, err) = i.run(&["domain", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("oracle"), "{err}");
    // No init yet: administration commands say what to do.
    std::fs::write(&i.config, i.db.toml()).unwrap();
    let (code, _, err) = i.run(&["domain", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("altimail init"), "{err}");
}

/// `account add` and `account set --quota` obey the domain's largest account size alike.
#[tokio::test]
async fn quotas_are_checked_on_add_and_on_set() {
    for db in backends("cli_quota").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        i.ok(&["domain", "add", "example.com"]);
        i.ok(&["domain", "set", "example.com", "--max-account-size", "100"]);
        let refused = i.fails(&["account", "add", "big@example.com", "--no-password", "--quota", "101"]);
        assert!(refused.contains("at most 100 MB"), "{e}: {refused}");
        i.ok(&["account", "add", "john@example.com", "--no-password", "--quota", "50"]);
        for quota in ["--quota=101", "--quota=0", "--quota=-1"] {
            let refused = i.fails(&["account", "set", "john@example.com", quota]);
            assert!(refused.contains("at most 100 MB") || refused.contains("negative"), "{e}: {quota}: {refused}");
        }
        assert_eq!(i.json(&["account", "show", "john@example.com"])["max_size_mb"], 50, "{e}");
        i.ok(&["account", "set", "john@example.com", "--quota", "100"]);
        assert_eq!(i.json(&["account", "show", "john@example.com"])["max_size_mb"], 100, "{e}");
        // The administrator password of the REST API.
        assert!(i.ok(&["admin", "password", "--password", "admin-pw"]).contains("set"), "{e}");
        let stored = i.json(&["setting", "get", "altimailadministratorpassword"]);
        assert!(stored.to_string().contains("$argon2id$"), "{e}: {stored}");
        i.db.cleanup().await;
    }
}
