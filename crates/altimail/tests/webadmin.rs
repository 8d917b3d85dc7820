//! The web administration (`/admin/` on the API listener): in a real browser (Debian's chromium
//! driven by Selenium, tests/webadmin_browser.py) on every database, and over plain HTTP (curl)
//! for what a browser does not show: refusals, cookies, CSRF tokens, the first start.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use altimail_testkit::{ScratchDb, backends};
use common::{Install, Server, free_port, wait_listening};

/// An installation with the administration on a free loopback port; `password` is set as the
/// administrator password unless `None`.
fn install_with_api(i: &Install, password: Option<&str>) -> u16 {
    i.ok(&["init"]);
    if let Some(p) = password {
        i.ok(&["admin", "password", "--password", p]);
    }
    for p in i.json(&["port", "list"]).as_array().unwrap() {
        i.ok(&["port", "remove", &p["id"].to_string()]);
    }
    let port = free_port();
    let mut text = std::fs::read_to_string(&i.config).unwrap();
    text.push_str(&format!("\n[api]\nlisten = \"{port}\"\n"));
    std::fs::write(&i.config, text).unwrap();
    port
}

fn start(i: &Install) -> (Server, u16) {
    let port = install_with_api(i, Some("admin-pw"));
    let server = Server::start(i);
    wait_listening(port);
    (server, port)
}

#[tokio::test]
async fn web_administration_in_a_browser() {
    for db in backends("webadmin_browser").await {
        let i = Install::new(db);
        let e = i.db.engine;
        let (mut server, port) = start(&i);
        let out = Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webadmin_browser.py"))
            .args([&format!("http://127.0.0.1:{port}"), "admin-pw"])
            .output()
            .expect("python3");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && stdout.trim() == "ok", "{e}: {stdout}\n{stderr}\n{}", server.stderr());
        // What the browser did is what the command line sees: one store, one set of rules.
        assert!(i.fails(&["domain", "show", "webadmin.test"]).contains("webadmin.test"), "{e}");
        assert_eq!(i.json(&["account", "show", "mary@other.test"])["address"], "mary@other.test", "{e}");
        server.stop(Duration::from_secs(30));
    }
}

/// One browser without a browser: curl with a cookie jar, redirects not followed.
struct Client {
    base: String,
    jar: std::path::PathBuf,
}

/// An answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k == "set-cookie").map(|(_, v)| v.as_str()).collect()
    }

    /// The CSRF token of the page's first form.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF token in {}", self.body));
        self.body[at + 19..at + 19 + 64].to_owned()
    }
}

impl Client {
    fn new(i: &Install, port: u16, name: &str) -> Client {
        Client { base: format!("http://127.0.0.1:{port}"), jar: i.path(&format!("{name}.cookies")) }
    }

    fn request(&self, method: &str, path: &str, form: &[(&str, &str)], extra: &[&str]) -> Answer {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-S", "-i", "--max-time", "20", "-X", method, "-b"]).arg(&self.jar).arg("-c").arg(&self.jar);
        for (k, v) in form {
            cmd.args(["--data-urlencode", &format!("{k}={v}")]);
        }
        if method == "POST" && form.is_empty() {
            cmd.args(["--data", ""]);
        }
        cmd.args(extra);
        let out = cmd.arg(format!("{}{path}", self.base)).output().expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Answer { status, headers, body: body.to_owned() }
    }

    fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[], &[])
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.request("POST", path, form, &[])
    }

    /// Logs on; returns the answer to the logon form.
    fn log_on(&self, user: &str, password: &str) -> Answer {
        let form = self.get("/admin/logon");
        assert_eq!(form.status, 200, "{}", form.body);
        self.post("/admin/logon", &[("csrf", &form.csrf()), ("user", user), ("password", password)])
    }
}

#[tokio::test]
async fn permissions_cookies_and_csrf_over_http() {
    for db in backends("webadmin_http").await {
        let i = Install::new(db);
        let e = i.db.engine;
        let (mut server, port) = start(&i);
        i.ok(&["domain", "add", "example.com"]);
        i.ok(&["domain", "add", "other.test"]);
        i.ok(&["account", "add", "dom@example.com", "--password", "dom-pw", "--admin-level", "1"]);
        i.ok(&["account", "add", "john@example.com", "--password", "john-pw", "--quota", "50"]);
        i.ok(&["account", "add", "mary@other.test", "--password", "mary-pw"]);

        // Without a session every page sends the browser to the logon form.
        let anon = Client::new(&i, port, "anon");
        for path in ["/admin/", "/admin/status", "/admin/domains", "/admin/accounts/john@example.com"] {
            let a = anon.get(path);
            assert_eq!((a.status, a.header("location")), (303, Some("/admin/logon")), "{e}: {path}");
        }
        let a = anon.post("/admin/domains", &[("name", "sneaky.test")]);
        assert_eq!((a.status, a.header("location")), (303, Some("/admin/logon")), "{e}");
        // The style sheet needs no logon; pages forbid framing and scripts.
        assert_eq!(anon.get("/admin/admin.css").status, 200, "{e}");
        let form = anon.get("/admin/logon");
        assert_eq!(form.header("x-frame-options"), Some("DENY"), "{e}");
        assert!(form.header("content-security-policy").unwrap_or("").contains("default-src 'none'"), "{e}");

        // The logon form's token is checked: a logon posted from elsewhere is refused.
        let forged = Client::new(&i, port, "forged");
        let a = forged.post("/admin/logon", &[("user", "Administrator"), ("password", "admin-pw")]);
        assert_eq!(a.status, 403, "{e}: {}", a.body);
        assert!(a.cookies().iter().all(|c| !c.starts_with("altimail_admin=")), "{e}");
        // Wrong passwords: the form again, no session.
        let a = anon.log_on("Administrator", "wrong");
        assert_eq!(a.status, 401, "{e}");
        assert!(a.body.contains("wrong user name or password"), "{e}: {}", a.body);

        // Administrator: a strict, HttpOnly session cookie, not Secure over plain HTTP.
        let root = Client::new(&i, port, "root");
        let a = root.log_on("administrator", "admin-pw");
        assert_eq!((a.status, a.header("location")), (303, Some("/admin/")), "{e}: {}", a.body);
        let session = a.cookies().into_iter().find(|c| c.starts_with("altimail_admin=")).expect("a session cookie");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
            assert!(session.contains(part), "{e}: {session}");
        }
        assert!(!session.contains("Secure"), "{e}: {session}");
        assert_eq!(root.get("/admin/").header("location"), Some("/admin/status"), "{e}");
        let status = root.get("/admin/status");
        assert_eq!(status.status, 200, "{e}");
        assert!(status.body.contains("Recent log lines"), "{e}");

        // A form without the session's CSRF token changes nothing.
        let a = root.post("/admin/domains", &[("name", "csrf.test")]);
        assert_eq!(a.status, 403, "{e}: {}", a.body);
        let a = root.post("/admin/domains", &[("name", "csrf.test"), ("csrf", &"0".repeat(64))]);
        assert_eq!(a.status, 403, "{e}: {}", a.body);
        assert!(i.fails(&["domain", "show", "csrf.test"]).contains("csrf.test"), "{e}");
        // With it, it does.
        let csrf = root.get("/admin/domains").csrf();
        let a = root.post("/admin/domains", &[("name", "csrf.test"), ("csrf", &csrf)]);
        assert_eq!((a.status, a.header("location")), (303, Some("/admin/domains/csrf.test")), "{e}");
        i.ok(&["domain", "show", "csrf.test"]);

        // Behind a TLS proxy the cookie is Secure.
        let tls = Client::new(&i, port, "tls");
        let form = tls.request("GET", "/admin/logon", &[], &["-H", "X-Forwarded-Proto: https"]);
        let fields = [("csrf", form.csrf()), ("user", "Administrator".into()), ("password", "admin-pw".into())];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = tls.request("POST", "/admin/logon", &fields, &["-H", "X-Forwarded-Proto: https"]);
        assert!(a.cookies().iter().any(|c| c.starts_with("altimail_admin=") && c.contains("Secure")), "{e}");

        // A domain administrator: its domain, nothing else, and no limits.
        let dom = Client::new(&i, port, "dom");
        assert_eq!(dom.log_on("dom@example.com", "dom-pw").status, 303, "{e}");
        assert_eq!(dom.get("/admin/").header("location"), Some("/admin/domains/example.com"), "{e}");
        let list = dom.get("/admin/domains");
        assert!(list.body.contains("example.com") && !list.body.contains("other.test"), "{e}: {}", list.body);
        for path in [
            "/admin/status",
            "/admin/password",
            "/admin/domains/other.test",
            "/admin/domains/other.test/accounts",
            "/admin/accounts/mary@other.test",
        ] {
            assert_eq!(dom.get(path).status, 403, "{e}: {path}");
        }
        let csrf = dom.get("/admin/domains/example.com").csrf();
        dom.post("/admin/domains/example.com", &[("csrf", &csrf), ("max_accounts", "1000")]);
        assert_eq!(i.json(&["domain", "show", "example.com"])["max_accounts"], 0, "{e}: a limit changed");
        dom.post("/admin/accounts/mary@other.test", &[("csrf", &csrf), ("first_name", "Hacked")]);
        assert_eq!(i.json(&["account", "show", "mary@other.test"])["first_name"], "", "{e}");
        dom.post("/admin/accounts/john@example.com", &[("csrf", &csrf), ("first_name", "John")]);
        assert_eq!(i.json(&["account", "show", "john@example.com"])["first_name"], "John", "{e}");

        // A user: itself only; its quota, state and level are not its to change.
        let john = Client::new(&i, port, "john");
        assert_eq!(john.log_on("john@example.com", "john-pw").status, 303, "{e}");
        assert_eq!(john.get("/admin/").header("location"), Some("/admin/accounts/john@example.com"), "{e}");
        for path in ["/admin/domains", "/admin/domains/example.com", "/admin/accounts/dom@example.com", "/admin/status"]
        {
            assert_eq!(john.get(path).status, 403, "{e}: {path}");
        }
        let page = john.get("/admin/accounts/john@example.com");
        assert!(!page.body.contains("name=\"quota_mb\""), "{e}");
        let csrf = page.csrf();
        let a = john.post("/admin/accounts/john@example.com", &[("csrf", &csrf), ("quota_mb", "0")]);
        assert_eq!(a.status, 303, "{e}");
        assert_eq!(i.json(&["account", "show", "john@example.com"])["max_size_mb"], 50, "{e}");
        assert!(john.get("/admin/accounts/john@example.com").body.contains("class=\"error\""), "{e}");
        let a = john.post(
            "/admin/accounts/john@example.com",
            &[("csrf", &csrf), ("password", "new-john-pw"), ("has_vacation_on", "1"), ("vacation_on", "on")],
        );
        assert_eq!(a.status, 303, "{e}");
        assert_eq!(i.json(&["account", "show", "john@example.com"])["vacation_on"], true, "{e}");
        i.ok(&["account", "check-password", "john@example.com", "--password", "new-john-pw"]);

        // Logout ends the session: the old cookie opens nothing.
        let csrf = root.get("/admin/domains").csrf();
        let a = root.post("/admin/logout", &[("csrf", &csrf)]);
        assert_eq!((a.status, a.header("location")), (303, Some("/admin/logon")), "{e}");
        assert_eq!(root.get("/admin/domains").header("location"), Some("/admin/logon"), "{e}");
        // A disabled account loses its session at once.
        i.ok(&["account", "set", "dom@example.com", "--active", "false"]);
        assert_eq!(dom.get("/admin/domains").header("location"), Some("/admin/logon"), "{e}");
        server.stop(Duration::from_secs(30));
    }
}

#[tokio::test]
async fn the_first_start_prints_the_administrator_password() {
    let i = Install::new(ScratchDb::sqlite());
    let port = install_with_api(&i, None);
    let out = i.path("serve.stdout");
    let mut child = i
        .command()
        .arg("serve")
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port);
    // The listener serves once the greeting is written (line by line, so it is in the file).
    let client = Client::new(&i, port, "first");
    assert_eq!(client.get("/admin/logon").status, 200);
    let text = std::fs::read_to_string(&out).unwrap();
    let url = format!("http://127.0.0.1:{port}/admin/");
    assert!(text.contains(&format!("Web administration: {url}")), "{text}");
    let password = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("password"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {text}"))
        .to_owned();
    assert_eq!(client.log_on("Administrator", &password).status, 303, "{password}");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    child.wait().unwrap();

    // Once: the next start finds it set and prints no password.
    let mut child =
        i.command().arg("serve").stdout(std::fs::File::create(&out).unwrap()).stderr(Stdio::null()).spawn().unwrap();
    wait_listening(port);
    assert_eq!(client.get("/admin/logon").status, 200);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    child.wait().unwrap();
    assert!(!std::fs::read_to_string(&out).unwrap().contains("password"), "printed twice");
}

#[tokio::test]
async fn quickstart_names_the_web_admin_and_its_password() {
    let i = Install::new(ScratchDb::sqlite());
    let port = install_with_api(&i, None);
    let report = i.json(&["quickstart", "alice@quick.test"]);
    let url = format!("http://127.0.0.1:{port}/admin/");
    assert_eq!(report["web_admin"]["url"], url.as_str(), "{report}");
    assert_eq!(report["web_admin"]["user"], "Administrator", "{report}");
    let password = report["web_admin"]["password"].as_str().expect("a generated password").to_owned();
    // The text form says the same; a second run keeps the password and says so.
    let text = i.ok(&["quickstart", "alice@quick.test"]);
    assert!(text.contains(&format!("address   {url}")), "{text}");
    assert!(text.contains("administrator password was already set"), "{text}");
    let mut server = Server::start(&i);
    wait_listening(port);
    assert_eq!(Client::new(&i, port, "quick").log_on("Administrator", &password).status, 303);
    server.stop(Duration::from_secs(30));
}
