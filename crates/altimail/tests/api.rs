//! The administration REST API over real HTTP on loopback (curl), on every database: logons and
//! tokens, the rights of each admin level, the service's rules, the OpenAPI document.

mod common;

use std::process::Command;

use altimail_testkit::backends;
use common::{Install, Server, free_port, wait_listening};
use serde_json::{Value, json};

/// One API call: (HTTP status, JSON body or Null).
fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    call_from("127.0.0.1", port, method, path, token, body)
}

/// One API call from the loopback address `source`.
fn call_from(
    source: &str,
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-S", "--max-time", "20", "--interface", source, "-X", method, "-w", "\n%{http_code}"]);
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

/// Queues a message for `rcpt` and holds it (as for an ETRN route), so that no delivery
/// touches it while the API manages it.
async fn held_message(i: &Install, rcpt: &str) -> i64 {
    use altimail_store::repo::queue::{Envelope, NewQueued, NewRecipient, Settle, hold_for_etrn, insert_batch};
    let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let recipients = [NewRecipient::remote(rcpt, rcpt)];
    let (envelope, settle) = (Envelope::default(), Settle::default());
    let new = NewQueued {
        file_name: "{00000000-0000-0000-0000-000000000001}.eml",
        sender: "alice@example.com",
        size: 10,
        recipients: &recipients,
        envelope: &envelope,
        settle: &settle,
    };
    let id = insert_batch(&store.db, &[new], altimail_core::time::now_local()).await.unwrap()[0];
    hold_for_etrn(&store.db, id, 0).await.unwrap();
    store.db.close().await;
    id
}

#[tokio::test]
async fn server_administration_over_http() {
    for db in backends("api_server").await {
        let i = Install::new(db);
        let e = i.db.engine;
        // No name server answers: a released message fails its lookup at once and stays queued.
        let mut config = std::fs::read_to_string(&i.config).unwrap();
        config.push_str("\n[dns]\nservers = [\"127.0.0.1:9\"]\n");
        std::fs::write(&i.config, config).unwrap();
        let (mut server, port) = start(&i);
        let root = log_on(port, "Administrator", "admin-pw");
        let r = Some(root.as_str());
        assert_eq!(call(port, "POST", "/api/v1/domains", r, Some(json!({"name": "example.com"}))).0, 201, "{e}");
        for (address, level) in [("dom@example.com", 1), ("john@example.com", 0)] {
            let new = json!({"address": address, "password": "secret-pw", "admin_level": level});
            assert_eq!(call(port, "POST", "/api/v1/accounts", r, Some(new)).0, 201, "{e}");
        }

        // The document names the new endpoints and their typed bodies.
        let (_, doc) = call(port, "GET", "/api/v1/openapi.json", None, None);
        for path in ["/api/v1/ip-ranges/{name}", "/api/v1/ports/{id}", "/api/v1/settings", "/api/v1/queue/{id}/retry"] {
            assert!(doc["paths"][path].is_object(), "{e}: {path}");
        }
        assert!(doc["components"]["schemas"]["DeliveryChanges"].is_object(), "{e}");

        // IP ranges, with the trusted flag.
        let office = json!({"name": "Office", "lower": "192.0.2.0", "upper": "192.0.2.255",
            "allow": ["smtp", "imap", "relay-local-to-remote"], "trusted": true});
        let (status, body) = call(port, "POST", "/api/v1/ip-ranges", r, Some(office));
        assert_eq!(
            (status, body["trusted"].as_bool(), body["auto_ban"].as_bool()),
            (201, Some(true), Some(false)),
            "{e}: {body}"
        );
        assert_eq!(body["allows"], json!(["smtp", "imap", "relay-local-to-remote"]), "{e}");
        let (status, body) =
            call(port, "PATCH", "/api/v1/ip-ranges/Office", r, Some(json!({"deny": ["imap"], "priority": 25})));
        assert_eq!((status, body["priority"].as_i64()), (200, Some(25)), "{e}: {body}");
        assert_eq!(body["allows"], json!(["smtp", "relay-local-to-remote"]), "{e}");
        let (status, body) = call(port, "PATCH", "/api/v1/ip-ranges/Office", r, Some(json!({"allow": ["teleport"]})));
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{e}: {body}");
        let (status, _) =
            call(port, "POST", "/api/v1/ip-ranges", r, Some(json!({"name": "Bad", "lower": "not-an-ip"})));
        assert!((400..500).contains(&status), "{e}: a malformed address is refused, got {status}");
        assert_eq!(i.json(&["range", "show", "office"])["trusted"], true, "{e}: the command line sees the same range");
        let (_, all) = call(port, "GET", "/api/v1/ip-ranges?auto_ban=false", r, None);
        assert!(all.as_array().unwrap().iter().any(|x| x["name"] == "Office"), "{e}: {all}");
        let (status, body) = call(port, "DELETE", "/api/v1/ip-ranges/Office", r, None);
        assert_eq!((status, body["name"].as_str()), (200, Some("Office")), "{e}: {body}");
        assert_eq!(call(port, "GET", "/api/v1/ip-ranges/Office", r, None).0, 404, "{e}");

        // Ports: a new SMTP port is bound by the running server, and its sessions show in the status.
        let smtp = common::free_port();
        let (status, p) = call(
            port,
            "POST",
            "/api/v1/ports",
            r,
            Some(json!({"protocol": "smtp", "port": smtp, "address": "127.0.0.1"})),
        );
        assert_eq!(
            (status, p["protocol"].as_str(), p["security"].as_str()),
            (201, Some("smtp"), Some("none")),
            "{e}: {p}"
        );
        let id = p["id"].as_i64().unwrap();
        let (status, body) = call(
            port,
            "PATCH",
            &format!("/api/v1/ports/{id}"),
            r,
            Some(json!({"protocol": "http", "security": "starttls"})),
        );
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{e}: {body}");
        let (status, body) = call(
            port,
            "POST",
            "/api/v1/ports",
            r,
            Some(json!({"protocol": "imap", "port": smtp, "address": "127.0.0.1"})),
        );
        assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{e}: {body}");
        wait_listening(smtp);
        let mut session = std::net::TcpStream::connect(("127.0.0.1", smtp)).unwrap();
        session.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        let mut banner = [0u8; 64];
        let n = std::io::Read::read(&mut session, &mut banner).unwrap();
        assert!(banner[..n].starts_with(b"220"), "{e}: {:?}", String::from_utf8_lossy(&banner[..n]));
        let (status, st) = call(port, "GET", "/api/v1/status", r, None);
        assert_eq!((status, st["state"].as_str()), (200, Some("running")), "{e}: {st}");
        assert_eq!(st["sessions"]["smtp"], 1, "{e}: the open SMTP session: {st}");
        assert!(st["counters"]["received"].is_u64() && st["started"].is_string(), "{e}: {st}");
        drop(session);
        assert_eq!(call(port, "DELETE", &format!("/api/v1/ports/{id}"), r, None).0, 200, "{e}");

        // The log search finds the session's greeting, then the session's lines by its id.
        let mut found = Value::Null;
        for _ in 0..100 {
            found = call(port, "GET", "/api/v1/logs?text=SENT:%20220", r, None).1;
            if found["lines"].as_array().is_some_and(|l| !l.is_empty()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let line = found["lines"][0]["line"].as_str().unwrap_or_else(|| panic!("{e}: {found}")).to_owned();
        let session_id = line.split('\t').nth(2).expect("a session field").to_owned();
        let (status, by_session) = call(port, "GET", &format!("/api/v1/logs?session={session_id}&limit=50"), r, None);
        assert_eq!(status, 200, "{e}: {by_session}");
        assert!(
            by_session["lines"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["line"].as_str().unwrap().split('\t').nth(2) == Some(session_id.as_str())),
            "{e}: {by_session}"
        );
        assert_eq!(call(port, "GET", "/api/v1/logs?date=../../etc", r, None).0, 400, "{e}");

        // Settings by area, typed and checked whole; written only where changed.
        let (status, all) = call(port, "GET", "/api/v1/settings", r, None);
        assert_eq!((status, all["delivery"]["retries"].as_i64()), (200, Some(4)), "{e}: {all}");
        assert_eq!(all["auto_ban"]["enabled"], true, "{e}: {all}");
        let change = json!({"delivery": {"retries": 6, "verify_remote_certificate": false}, "logging": {"enabled": true, "smtp": false}});
        let (status, all) = call(port, "PATCH", "/api/v1/settings", r, Some(change));
        assert_eq!((status, all["delivery"]["retries"].as_i64()), (200, Some(6)), "{e}: {all}");
        assert_eq!(i.json(&["setting", "get", "smtpnoofretries"])["integer"], 6, "{e}");
        assert_eq!(
            i.json(&["setting", "get", "logging"])["integer"],
            95 & !2,
            "{e}: the SMTP bit off, the others kept"
        );
        let (status, body) = call(
            port,
            "PATCH",
            "/api/v1/settings",
            r,
            Some(json!({"delivery": {"connection_security": 7}, "smart_host": {"port": 2525}})),
        );
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{e}: {body}");
        assert_eq!(i.json(&["setting", "get", "smtprelayerport"])["integer"], 25, "{e}: nothing written on a refusal");
        let (status, _) = call(port, "PATCH", "/api/v1/settings", r, Some(json!({"delivery": {"bogus": 1}})));
        assert!((400..500).contains(&status), "{e}: unknown fields are refused, got {status}");
        let (status, all) =
            call(port, "PATCH", "/api/v1/settings", r, Some(json!({"smart_host_password": "relay-pw"})));
        assert_eq!((status, all["smart_host_password_set"].as_bool()), (200, Some(true)), "{e}: {all}");
        let stored = i.json(&["setting", "get", "smtprelayerpassword"]);
        assert!(stored["string"].as_str().is_some_and(|s| !s.is_empty() && !s.contains("relay-pw")), "{e}: {stored}");
        // The command line updates the same areas through the same checks.
        i.ok(&["setting", "update", "auto-ban", "max_invalid_logon_attempts=2", "trusted=Nobody"]);
        assert!(i.fails(&["setting", "update", "smart-host", "port=70000"]).contains("port"), "{e}");

        // Server messages.
        let (status, msgs) = call(port, "GET", "/api/v1/server-messages", r, None);
        assert_eq!(status, 200, "{e}");
        let name = msgs[0]["name"].as_str().expect("a server message").to_owned();
        let (status, body) =
            call(port, "PUT", &format!("/api/v1/server-messages/{name}"), r, Some(json!({"text": "Changed."})));
        assert_eq!((status, body["text"].as_str()), (200, Some("Changed.")), "{e}: {body}");
        assert_eq!(call(port, "PUT", "/api/v1/server-messages/NO_SUCH", r, Some(json!({"text": "x"}))).0, 404, "{e}");

        // The queue.
        let first = held_message(&i, "carol@hold.test").await;
        let second = held_message(&i, "dave@hold.test").await;
        let (status, queue) = call(port, "GET", "/api/v1/queue", r, None);
        assert_eq!((status, queue.as_array().map(Vec::len)), (200, Some(2)), "{e}: {queue}");
        let (status, one) = call(port, "GET", &format!("/api/v1/queue/{first}"), r, None);
        assert_eq!((status, one["held"].as_bool()), (200, Some(true)), "{e}: {one}");
        assert_eq!(one["recipients"], json!(["carol@hold.test"]), "{e}");
        let (_, st) = call(port, "GET", "/api/v1/status", r, None);
        assert_eq!(st["queue"]["held"], 2, "{e}: {st}");
        let (status, body) = call(port, "DELETE", &format!("/api/v1/queue/{first}"), r, None);
        assert_eq!((status, body["id"].as_i64()), (200, Some(first)), "{e}: {body}");
        assert_eq!(call(port, "GET", &format!("/api/v1/queue/{first}"), r, None).0, 404, "{e}");
        let (status, body) = call(port, "POST", "/api/v1/queue/flush", r, None);
        assert_eq!((status, body["released_held"].as_u64()), (200, Some(1)), "{e}: {body}");
        assert_eq!(call(port, "POST", "/api/v1/queue/999999/retry", r, None).0, 404, "{e}");
        // Released, it may be in a delivery attempt for a moment (409 then), or already gone
        // (its file was never written, so delivery gives it up).
        let mut removed = 0;
        for _ in 0..100 {
            removed = call(port, "DELETE", &format!("/api/v1/queue/{second}"), r, None).0;
            if removed != 409 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(removed == 200 || removed == 404, "{e}: {removed}");

        // Only server administrators: a domain administrator and a user get 403 everywhere here.
        for who in ["dom@example.com", "john@example.com"] {
            let t = log_on(port, who, "secret-pw");
            let t = Some(t.as_str());
            for (method, path, body) in [
                ("GET", "/api/v1/ip-ranges", None),
                ("POST", "/api/v1/ip-ranges", Some(json!({"name": "Mine", "lower": "10.0.0.1"}))),
                ("DELETE", "/api/v1/ip-ranges/My%20computer", None),
                ("GET", "/api/v1/ports", None),
                ("POST", "/api/v1/ports", Some(json!({"protocol": "smtp", "port": 2526}))),
                ("GET", "/api/v1/settings", None),
                ("PATCH", "/api/v1/settings", Some(json!({"delivery": {"retries": 1}}))),
                ("GET", "/api/v1/server-messages", None),
                ("GET", "/api/v1/queue", None),
                ("POST", "/api/v1/queue/flush", None),
                ("DELETE", &format!("/api/v1/queue/{second}"), None),
                ("GET", "/api/v1/status", None),
                ("GET", "/api/v1/logs", None),
            ] {
                let (status, answer) = call(port, method, path, t, body);
                assert_eq!(status, 403, "{e}: {who}: {method} {path}: {answer}");
            }
        }

        // Auto-ban: failed logons from one address (no longer trusted) ban it, with a clear answer.
        let bad = Some(json!({"user": "Administrator", "password": "wrong"}));
        let (status, _) = call_from("127.0.0.9", port, "POST", "/api/v1/auth/token", None, bad.clone());
        assert_eq!(status, 401, "{e}");
        let (status, body) = call_from("127.0.0.9", port, "GET", "/api/v1/domains", Some("forged-token"), None);
        assert_eq!((status, body["error"].as_str()), (403, Some("banned")), "{e}: the second failure bans: {body}");
        let good = Some(json!({"user": "Administrator", "password": "admin-pw"}));
        let (status, body) = call_from("127.0.0.9", port, "POST", "/api/v1/auth/token", None, good.clone());
        assert_eq!((status, body["error"].as_str()), (403, Some("banned")), "{e}: {body}");
        let (_, bans) = call(port, "GET", "/api/v1/ip-ranges?auto_ban=true", r, None);
        let ban = bans[0]["name"].as_str().expect("an auto-ban range").replace(' ', "%20");
        assert_eq!(bans[0]["lower"], "127.0.0.9", "{e}: {bans}");
        assert_eq!(call(port, "DELETE", &format!("/api/v1/ip-ranges/{ban}"), r, None).0, 200, "{e}");
        // The server reads the ranges again within a second.
        let mut answer = (0, Value::Null);
        for _ in 0..50 {
            answer = call_from("127.0.0.9", port, "POST", "/api/v1/auth/token", None, good.clone());
            if answer.0 == 200 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(answer.0, 200, "{e}: lifting the ban lets the address in again: {}", answer.1);

        server.stop(std::time::Duration::from_secs(20));
        let log = server.stderr();
        for action in [
            "ip_range.create",
            "ip_range.delete",
            "port.create",
            "setting.update",
            "queue.delete",
            "queue.flush",
            "server_message.update",
        ] {
            assert!(log.contains(action), "{e}: audit line {action}: {log}");
        }
        i.db.cleanup().await;
    }
}
