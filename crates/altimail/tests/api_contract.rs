//! The administration API against its own OpenAPI document: schemathesis (PyPI) generates
//! requests for every operation from the document a running server serves, as a server
//! administrator, and checks that none gives a server error and that every answer has the
//! documented shape. On every database.
//!
//! Left out: logging off (it would end the token the run uses) and the settings (a generated
//! change may switch off the services or make loopback a target of auto-ban mid-run).

mod common;

use std::process::Command;

use altimail_testkit::backends;
use common::{Install, Server, free_port, wait_listening};

#[tokio::test]
async fn the_api_answers_as_its_openapi_document_says() {
    if !altimail_testkit::have_tool("st", &["--version"], "schemathesis (python3 -m pip install schemathesis)") {
        return;
    }
    for db in backends("api_contract").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        i.ok(&["admin", "password", "--password", "admin-pw"]);
        for p in i.json(&["port", "list"]).as_array().unwrap() {
            i.ok(&["port", "remove", &p["id"].to_string()]);
        }
        let port = free_port();
        let mut text = std::fs::read_to_string(&i.config).unwrap();
        text.push_str(&format!("\n[api]\nlisten = \"{port}\"\n"));
        std::fs::write(&i.config, text).unwrap();
        let mut server = Server::start(&i);
        wait_listening(port);
        // Something to find: a domain, an account, an alias, a list.
        i.ok(&["domain", "add", "example.com"]);
        i.ok(&["account", "add", "john@example.com", "--password", "secret-pw"]);
        i.ok(&["alias", "add", "sales@example.com", "john@example.com"]);
        i.ok(&["list", "add", "all@example.com"]);

        let logon = Command::new("curl")
            .args(["-s", "--max-time", "20", "-X", "POST", "-H", "Content-Type: application/json"])
            .args(["--data-binary", r#"{"user":"Administrator","password":"admin-pw"}"#])
            .arg(format!("http://127.0.0.1:{port}/api/v1/auth/token"))
            .output()
            .expect("curl");
        let token: serde_json::Value = serde_json::from_slice(&logon.stdout).expect("a token");
        let token = token["token"].as_str().expect("a token").to_owned();

        let out = Command::new("st")
            .args(["run", &format!("http://127.0.0.1:{port}/api/v1/openapi.json")])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["--exclude-path", "/api/v1/auth/token", "--exclude-path", "/api/v1/settings"])
            .args(["--checks", "not_a_server_error,response_schema_conformance"])
            .args(["--max-examples", "10", "--seed", "1", "--no-color"])
            .output()
            .expect("st");
        let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{e}: schemathesis found problems:\n{report}");

        server.stop(std::time::Duration::from_secs(20));
        assert!(!server.stderr().contains("panicked"), "{e}: {}", server.stderr());
        i.db.cleanup().await;
    }
}
