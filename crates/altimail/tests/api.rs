//! The administration REST API over real HTTP on loopback (curl), on every database: logons and
//! tokens, the rights of each admin level, the service's rules, the OpenAPI document.

mod common;

use std::process::Command;

use altimail_testkit::backends;
use common::{Install, Server, free_port, wait_listening};
use serde_json::{Value, json};

/// One API call: (HTTP status, JSON body or Null).
fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-S", "--max-time", "20", "-X", method, "-w", "\n%{http_code}"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", &b.to_string()]);
    }
    let out = cmd.arg(format!("http://127.0.0.1:{port}{path}")).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    let status = status.trim().parse().unwrap_or_else(|_| panic!("{method} {path}: no status in {text:?}"));
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn log_on(port: u16, user: &str, password: &str) -> String {
    let (status, body) =
        call(port, "POST", "/api/v1/auth/token", None, Some(json!({"user": user, "password": password})));
    assert_eq!(status, 200, "{user}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// An installation with the API on a free loopback port and an administrator password.
fn start(i: &Install) -> (Server, u16) {
    i.ok(&["init"]);
    i.ok(&["admin", "password", "--password", "admin-pw"]);
    for p in i.json(&["port", "list"]).as_array().unwrap() {
        i.ok(&["port", "remove", &p["id"].to_string()]);
    }
    let port = free_port();
    let mut text = std::fs::read_to_string(&i.config).unwrap();
    text.push_str(&format!("\n[api]\nlisten = \"{port}\"\n"));
    std::fs::write(&i.config, text).unwrap();
    let server = Server::start(i);
    wait_listening(port);
    (server, port)
}

#[tokio::test]
async fn administration_over_http() {
    for db in backends("api").await {
        let i = Install::new(db);
        let e = i.db.engine;
        let (mut server, port) = start(&i);

        // No token, no data; wrong passwords get nothing either.
        assert_eq!(call(port, "GET", "/api/v1/domains", None, None).0, 401, "{e}");
        assert_eq!(call(port, "GET", "/api/v1/domains", Some("made-up"), None).0, 401, "{e}");
        let (status, body) =
            call(port, "POST", "/api/v1/auth/token", None, Some(json!({"user": "Administrator", "password": "x"})));
        assert_eq!((status, body["error"].as_str()), (401, Some("unauthenticated")), "{e}: {body}");

        // The OpenAPI document needs no logon.
        let (status, doc) = call(port, "GET", "/api/v1/openapi.json", None, None);
        assert_eq!(status, 200, "{e}");
        assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1"), "{e}: {}", doc["openapi"]);
        assert!(doc["paths"]["/api/v1/accounts/{address}"]["patch"].is_object(), "{e}");
        assert!(doc["components"]["schemas"]["AccountChanges"].is_object(), "{e}");

        // The administrator sets up two domains.
        let root = log_on(port, "administrator", "admin-pw");
        let r = Some(root.as_str());
        for name in ["example.com", "other.test"] {
            let (status, body) = call(port, "POST", "/api/v1/domains", r, Some(json!({"name": name})));
            assert_eq!(status, 201, "{e}: {body}");
        }
        let (status, body) = call(port, "POST", "/api/v1/domains", r, Some(json!({"name": "EXAMPLE.com"})));
        assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{e}: {body}");
        for (address, level) in [("dom@example.com", 1), ("john@example.com", 0), ("mary@other.test", 0)] {
            let new = json!({"address": address, "password": "secret-pw", "admin_level": level});
            let (status, body) = call(port, "POST", "/api/v1/accounts", r, Some(new));
            assert_eq!(status, 201, "{e}: {body}");
            assert!(body.get("password").is_none(), "{e}: {body}");
        }
        let (status, body) = call(
            port,
            "POST",
            "/api/v1/aliases",
            r,
            Some(json!({"name": "sales@example.com", "target": "john@example.com"})),
        );
        assert_eq!(status, 201, "{e}: {body}");
        let (status, body) = call(port, "POST", "/api/v1/lists", r, Some(json!({"address": "all@example.com"})));
        assert_eq!(status, 201, "{e}: {body}");
        let member = Some(json!({"address": "mary@other.test"}));
        assert_eq!(call(port, "POST", "/api/v1/lists/all@example.com/members", r, member).0, 201, "{e}");
        let (_, list) = call(port, "GET", "/api/v1/lists/all@example.com", r, None);
        assert_eq!(list["members"], json!(["mary@other.test"]), "{e}");
        // The command line sees what the API made: one store, one set of rules.
        assert_eq!(i.json(&["alias", "show", "sales@example.com"])["target"], "john@example.com", "{e}");

        // The same quota rule as the command line's, on change too.
        let (status, _) =
            call(port, "PATCH", "/api/v1/domains/example.com", r, Some(json!({"max_account_size_mb": 100})));
        assert_eq!(status, 200, "{e}");
        let (status, body) =
            call(port, "PATCH", "/api/v1/accounts/john@example.com", r, Some(json!({"quota_mb": 101})));
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{e}: {body}");
        let (status, body) = call(port, "PATCH", "/api/v1/accounts/john@example.com", r, Some(json!({"quota_mb": 90})));
        assert_eq!((status, body["max_size_mb"].as_i64()), (200, Some(90)), "{e}: {body}");
        let (status, _) = call(port, "PATCH", "/api/v1/accounts/john@example.com", r, Some(json!({"bogus": 1})));
        assert!((400..500).contains(&status), "{e}: unknown fields are refused, got {status}");

        // A domain administrator: its domain only.
        let dom = log_on(port, "dom@example.com", "secret-pw");
        let d = Some(dom.as_str());
        let (status, body) = call(port, "GET", "/api/v1/domains", d, None);
        assert_eq!(status, 200, "{e}");
        assert_eq!(body.as_array().map(|a| a.len()), Some(1), "{e}: {body}");
        assert_eq!(call(port, "GET", "/api/v1/accounts?domain=example.com", d, None).0, 200, "{e}");
        for (method, path, body) in [
            ("GET", "/api/v1/domains/other.test", None),
            ("GET", "/api/v1/accounts/mary@other.test", None),
            ("GET", "/api/v1/accounts?domain=other.test", None),
            ("PATCH", "/api/v1/accounts/mary@other.test", Some(json!({"vacation_on": true}))),
            ("DELETE", "/api/v1/accounts/mary@other.test", None),
            ("POST", "/api/v1/accounts", Some(json!({"address": "x@other.test", "password": "pw"}))),
            ("POST", "/api/v1/domains", Some(json!({"name": "mine.test"}))),
            ("PATCH", "/api/v1/domains/example.com", Some(json!({"max_accounts": 1000}))),
            ("PATCH", "/api/v1/accounts/john@example.com", Some(json!({"admin_level": 2}))),
        ] {
            let (status, answer) = call(port, method, path, d, body);
            assert_eq!(status, 403, "{e}: {method} {path}: {answer}");
        }
        let (status, body) =
            call(port, "PATCH", "/api/v1/accounts/john@example.com", d, Some(json!({"vacation_on": true})));
        assert_eq!((status, body["vacation_on"].as_bool()), (200, Some(true)), "{e}: {body}");

        // A user: itself only, and not its quota.
        let john = log_on(port, "john@example.com", "secret-pw");
        let j = Some(john.as_str());
        assert_eq!(call(port, "GET", "/api/v1/accounts/john@example.com", j, None).0, 200, "{e}");
        let (status, body) = call(
            port,
            "PATCH",
            "/api/v1/accounts/john@example.com",
            j,
            Some(json!({"forward_address": "mary@other.test", "signature_enabled": true, "signature_plain": "-- J"})),
        );
        assert_eq!((status, body["forward_on"].as_bool()), (200, Some(true)), "{e}: {body}");
        let (_, sig) = call(port, "GET", "/api/v1/accounts/john@example.com/signature", j, None);
        assert_eq!(sig["plain"], "-- J", "{e}");
        for (method, path, body) in [
            ("GET", "/api/v1/accounts/dom@example.com", None),
            ("GET", "/api/v1/accounts", None),
            ("GET", "/api/v1/domains", None),
            ("GET", "/api/v1/aliases/sales@example.com", None),
            ("PATCH", "/api/v1/accounts/john@example.com", Some(json!({"quota_mb": 100}))),
        ] {
            let (status, answer) = call(port, method, path, j, body);
            assert_eq!(status, 403, "{e}: {method} {path}: {answer}");
        }

        // Demoting the domain administrator takes effect on its next call.
        let demote = Some(json!({"admin_level": 0}));
        assert_eq!(call(port, "PATCH", "/api/v1/accounts/dom@example.com", r, demote).0, 200, "{e}");
        assert_eq!(call(port, "GET", "/api/v1/accounts?domain=example.com", d, None).0, 403, "{e}");

        // Removing: a domain with accounts only with force.
        let (status, body) = call(port, "DELETE", "/api/v1/domains/other.test", r, None);
        assert_eq!((status, body["error"].as_str()), (409, Some("not_empty")), "{e}: {body}");
        let (status, body) = call(port, "DELETE", "/api/v1/domains/other.test?force=true", r, None);
        assert_eq!((status, body["accounts"].as_i64()), (200, Some(1)), "{e}: {body}");

        // Logging off ends the token.
        assert_eq!(call(port, "DELETE", "/api/v1/auth/token", j, None).0, 204, "{e}");
        assert_eq!(call(port, "GET", "/api/v1/accounts/john@example.com", j, None).0, 401, "{e}");

        server.stop(std::time::Duration::from_secs(20));
        let log = server.stderr();
        assert!(log.contains("account.create") && log.contains("who=Administrator"), "{e}: audit lines: {log}");
        assert!(log.contains("from=api 127.0.0.1:"), "{e}: {log}");
        i.db.cleanup().await;
    }
}
