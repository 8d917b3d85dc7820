//! The server under abuse: which binary runs, its ports, its memory as /proc reports it, and the
//! normal sessions that must still work after each abuse.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use altimail_testkit::ScratchDb;

use crate::common::{Install, example_com, free_port, python, wait_listening};

/// The per-IP connection cap's setting (0 = unlimited).
pub const PER_IP_CAP: &str = "altimailmaxconnectionsperip";

/// The server binary: `ALTIMAIL_BIN` when set (the release build in CI), else this package's
/// debug build.
pub fn server_binary() -> PathBuf {
    match std::env::var_os("ALTIMAIL_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_altimail")),
    }
}

/// The listeners every test gets, all on 127.0.0.1.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// SMTP without TLS (an MX).
    pub smtp: u16,
    /// SMTP with optional STARTTLS (submission, as on 587).
    pub submission: u16,
    pub imap: u16,
    pub pop3: u16,
}

/// A running `altimail serve` with example.com (john@ and mary@, password `secret-pw`).
pub struct Target {
    pub install: Install,
    pub ports: Ports,
    child: Child,
    stderr: PathBuf,
}

impl Target {
    /// Sets up the installation, lets `prepare` change it with the CLI, then starts the server
    /// and waits until every port listens.
    pub fn start(prepare: impl FnOnce(&Install)) -> Target {
        let i = Install::new(ScratchDb::sqlite());
        example_com(&i, &[]);
        i.ok(&["account", "add", "mary@example.com", "--password", "secret-pw"]);
        // Tests open dozens of connections from 127.0.0.1: no per-IP cap unless a test sets one
        // (the setting may not exist in this build; then there is no cap to lift).
        let _ = i.run(&["setting", "set", PER_IP_CAP, "0"]);
        for p in i.json(&["port", "list"]).as_array().unwrap() {
            i.ok(&["port", "remove", &p["id"].to_string()]);
        }
        let ports = Ports { smtp: free_port(), submission: free_port(), imap: free_port(), pop3: free_port() };
        for (protocol, port, security) in [
            ("smtp", ports.smtp, "none"),
            ("smtp", ports.submission, "starttls"),
            ("imap", ports.imap, "none"),
            ("pop3", ports.pop3, "none"),
        ] {
            let port = port.to_string();
            i.ok(&[
                "port",
                "add",
                "--protocol",
                protocol,
                "--port",
                &port,
                "--address",
                "127.0.0.1",
                "--security",
                security,
            ]);
        }
        prepare(&i);

        let stderr = i.path("serve.stderr");
        let child = Command::new(server_binary())
            .arg("--config")
            .arg(&i.config)
            .arg("serve")
            .current_dir(i.dir.path())
            .env_remove("ALTIMAIL_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server_binary().display()));
        let mut target = Target { install: i, ports, child, stderr };
        for port in [ports.smtp, ports.submission, ports.imap, ports.pop3] {
            wait_listening(port);
        }
        target.assert_up("at start");
        target
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/PID/status` field in kB (`VmRSS`: resident now; `VmHWM`: the peak so far).
    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let line = status.lines().find(|l| l.starts_with(&format!("{field}:")));
        let value = line.and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok());
        value.unwrap_or_else(|| panic!("no {field} in /proc/{}/status (has the server exited?)", self.pid()))
    }

    /// Resident memory now, in MB.
    pub fn rss_mb(&self) -> u64 {
        self.status_kb("VmRSS") / 1024
    }

    /// The highest resident memory since the server started, in MB.
    pub fn peak_rss_mb(&self) -> u64 {
        self.status_kb("VmHWM") / 1024
    }

    /// What the server wrote on stderr.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last lines of stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text = self.stderr();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The process still runs and nothing in it panicked.
    pub fn assert_up(&mut self, what: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{what}: the server exited ({status}):\n{}", self.stderr_tail());
        }
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked at") && !stderr.contains("stack overflow"),
            "{what}: the server panicked:\n{}",
            self.stderr_tail()
        );
    }

    /// The process is up and normal clients work: an SMTP send to john that then shows in his
    /// INBOX over IMAP, and a POP3 logon.
    pub fn assert_healthy(&mut self, what: &str) {
        self.assert_up(what);
        static ROUND: AtomicUsize = AtomicUsize::new(0);
        let tag = format!("health-{}", ROUND.fetch_add(1, Ordering::Relaxed));
        let p = self.ports;
        let (code, out, err) = python(HEALTH, &[&p.smtp.to_string(), &p.imap.to_string(), &p.pop3.to_string(), &tag]);
        assert!(
            code == 0 && out.contains("healthy"),
            "{what}: normal sessions fail: {out}{err}\n{}",
            self.stderr_tail()
        );
        self.assert_up(what);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `SMTP IMAP POP3 TAG`: mail to john with subject TAG, found over IMAP; then a POP3 logon.
const HEALTH: &str = r#"
import imaplib, poplib, smtplib, sys, time
smtp, imap, pop3, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = smtplib.SMTP("127.0.0.1", smtp, timeout=30)
s.sendmail("check@remote.test", ["john@example.com"],
           "From: <check@remote.test>\r\nTo: <john@example.com>\r\nSubject: %s\r\n\r\nStill here.\r\n" % tag)
s.quit()
m = imaplib.IMAP4("127.0.0.1", imap, timeout=30)
m.login("john@example.com", "secret-pw")
deadline = time.time() + 30
while True:
    m.select("INBOX")
    found = m.search(None, "SUBJECT", '"%s"' % tag)[1][0].split()
    if found:
        break
    if time.time() > deadline:
        sys.exit("the message sent over SMTP did not arrive within 30 s")
    time.sleep(0.2)
m.logout()
p = poplib.POP3("127.0.0.1", pop3, timeout=30)
p.user("john@example.com")
p.pass_("secret-pw")
p.stat()
p.quit()
print("healthy")
"#;

/// Waits up to `limit` for `check`; false when it never held.
pub fn within(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
