//! Running the `altimail` binary the way an administrator does.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use altimail_store::repo::{accounts, folders, messages};
use altimail_store::{Location, Store};
use altimail_testkit::ScratchDb;
use serde_json::Value;

/// An installation: a configuration file pointing at a scratch database and temporary folders.
pub struct Install {
    pub db: ScratchDb,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Install {
    pub fn new(db: ScratchDb) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("altimail.toml");
        let text = format!(
            "[directories]\ndata = \"data\"\nlogs = \"logs\"\ntemp = \"temp\"\nevents = \"events\"\n\n{}",
            db.toml()
        );
        std::fs::write(&config, text).unwrap();
        Install { db, dir, config }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_altimail"));
        c.arg("--config").arg(&self.config).current_dir(self.dir.path()).env_remove("ALTIMAIL_CONFIG");
        c
    }

    /// Runs `altimail ARGS`, returning (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut c = self.command();
        c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn altimail");
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
        (status.code().unwrap_or(-1), String::from_utf8_lossy(&stdout).into(), String::from_utf8_lossy(&stderr).into())
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{} `altimail {}` failed:\n{err}", self.db.engine, args.join(" "));
        out
    }

    /// Runs a command that must fail with exit code 1 and a one-line error; returns the error.
    pub fn fails(&self, args: &[&str]) -> String {
        let (code, _, err) = self.run(args);
        assert_eq!(code, 1, "{} `altimail {}` should fail: {err}", self.db.engine, args.join(" "));
        assert_eq!(err.trim_end().lines().count(), 1, "one-line error expected, got: {err}");
        assert!(err.starts_with("error: "), "{err}");
        err
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("valid JSON")
    }
}

impl Install {
    /// Replaces every port by `(protocol, security)` listeners on free loopback ports, starts
    /// `serve` and waits until all of them listen. Returns the server and the port numbers.
    pub fn serve_on(&self, listeners: &[(&str, &str)]) -> (Server, Vec<u16>) {
        for p in self.json(&["port", "list"]).as_array().unwrap() {
            self.ok(&["port", "remove", &p["id"].to_string()]);
        }
        let mut numbers = Vec::new();
        for (protocol, security) in listeners {
            let n = free_port();
            self.ok(&[
                "port",
                "add",
                "--protocol",
                protocol,
                "--port",
                &n.to_string(),
                "--address",
                "127.0.0.1",
                "--security",
                security,
            ]);
            numbers.push(n);
        }
        let server = Server::start(self);
        for n in &numbers {
            wait_listening(*n);
        }
        (server, numbers)
    }

    /// Replaces every port by `(protocol, security)` listeners on free loopback ports, without
    /// starting the server; returns the port numbers.
    pub fn ports_on(&self, listeners: &[(&str, &str)]) -> Vec<u16> {
        for p in self.json(&["port", "list"]).as_array().unwrap() {
            self.ok(&["port", "remove", &p["id"].to_string()]);
        }
        let mut numbers = Vec::new();
        for (protocol, security) in listeners {
            let n = free_port();
            let port = n.to_string();
            let args = [
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
            ];
            self.ok(&args);
            numbers.push(n);
        }
        numbers
    }
}

/// Runs a Python 3 script with arguments; returns (exit code, stdout, stderr).
pub fn python(script: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A free TCP port on 127.0.0.1.
/// A free loopback port, never one this test process handed out before: the system may give
/// a just-probed port again, and two listeners of one test must not get the same one.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

pub struct Server(Child, std::path::PathBuf);

impl Server {
    pub fn start(i: &Install) -> Server {
        Server::start_with(i, &[])
    }

    /// `altimail serve ARGS`.
    pub fn start_with(i: &Install, args: &[&str]) -> Server {
        Server::start_with_env(i, args, &[])
    }

    /// `altimail serve ARGS` with the environment variables `env` added (and `RUST_LOG` unset).
    pub fn start_with_env(i: &Install, args: &[&str], env: &[(&str, &str)]) -> Server {
        let log = i.path("serve.stderr");
        let err = std::fs::File::create(&log).unwrap();
        let mut command = i.command();
        command.env_remove("RUST_LOG").envs(env.iter().copied());
        let child = command.arg("serve").args(args).stdout(Stdio::null()).stderr(err).spawn().unwrap();
        Server(child, log)
    }

    /// Sends `signal` (`HUP`, `TERM`, ...) without waiting.
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill").arg(format!("-{signal}")).arg(self.0.id().to_string()).status();
        assert!(sent.unwrap().success(), "kill -{signal}");
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGTERM without waiting.
    pub fn terminate(&self) {
        std::process::Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().unwrap();
    }

    /// The exit status within `limit` (the process is killed and the test fails after it).
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!("server did not exit within {limit:?}: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status within `limit`.
    pub fn stop(&mut self, limit: Duration) -> std::process::ExitStatus {
        let pid = self.0.id().to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the process dies at once, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }

    /// The exit status when the server has stopped on its own.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `port` accepts a connection.
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `check` holds (changes apply within about a second).
pub fn eventually(what: &str, check: impl FnMut() -> bool) {
    eventually_within(what, Duration::from_secs(5), check);
}

/// Waits up to `limit` until `check` holds.
pub fn eventually_within(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `init`, the host name mx.example.com, the `settings` given, and the domain example.com with
/// the account john@example.com (password `secret-pw`).
pub fn example_com(i: &Install, settings: &[(&str, &str)]) {
    i.ok(&["init"]);
    i.ok(&["setting", "set", "hostname", "mx.example.com"]);
    for (name, value) in settings {
        i.ok(&["setting", "set", name, value]);
    }
    i.ok(&["domain", "add", "example.com"]);
    i.ok(&["account", "add", "john@example.com", "--password", "secret-pw"]);
}

/// The rows of an account's top-level folder, in UID order, with the paths of their files.
pub async fn folder(store: &Store, address: &str, name: &str) -> Vec<(messages::Message, PathBuf)> {
    let a = accounts::find(&store.db, address).await.unwrap().unwrap();
    let f = if name == "INBOX" {
        folders::ensure_inbox(&store.db, a.id).await.unwrap()
    } else {
        folders::find(&store.db, a.id, folders::TOP_LEVEL, name).await.unwrap().unwrap()
    };
    let rows = messages::in_folder(&store.db, a.id, f.id).await.unwrap();
    rows.into_iter()
        .map(|m| {
            let path = store.files.resolve(Location::Account(&a.address), &m.file_name);
            (m, path)
        })
        .collect()
}

/// The INBOX rows of an account, in UID order, with the paths of their files.
pub async fn inbox(store: &Store, address: &str) -> Vec<(messages::Message, PathBuf)> {
    folder(store, address, "INBOX").await
}

/// Waits until the INBOX of `address` holds at least `n` messages; returns its rows.
pub async fn wait_inbox(store: &Store, address: &str, n: usize) -> Vec<(messages::Message, PathBuf)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = inbox(store, address).await;
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "{address}: fewer than {n} messages after 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `count` messages to `rcpt` over SMTP from sender@remote.test; message k is `template`
/// with `%(rcpt)s`, `%(tag)s` and `%(k)d` filled in.
const SEND: &str = r#"
import smtplib, sys
port, rcpt, tag, count, template = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
for k in range(1, count + 1):
    s.sendmail("sender@remote.test", [rcpt], template % {"rcpt": rcpt, "tag": tag, "k": k})
s.quit()
"#;

/// Sends `count` messages built from `template` (see `SEND`) to `rcpt` over SMTP on `smtp`.
pub fn send_numbered(smtp: u16, rcpt: &str, tag: &str, count: usize, template: &str) {
    let (code, _, err) = python(SEND, &[&smtp.to_string(), rcpt, tag, &count.to_string(), template]);
    assert_eq!(code, 0, "smtplib: {err}");
}

/// The start of a Python client script: `CTX`, a TLS context without certificate checks (the
/// server's certificate is self-signed), `connect_from` for clients that connect from a chosen
/// source address (127.0.0.2 is "the Internet"), and `out`, which the script fills in.
const CLIENT_PRELUDE: &str = r#"
import json, socket, ssl, sys, time
CTX = ssl._create_unverified_context()

def connect_from(client, timeout, context=None):
    """The socket of `client` from its address `client._src`, in TLS when `context` is given."""
    sock = socket.create_connection((client.host, client.port), timeout, source_address=(client._src, 0))
    return context.wrap_socket(sock, server_hostname=client.host) if context else sock

out = {}
"#;

/// Runs `CLIENT_PRELUDE`, then `prelude` and `script` with `args`; returns the JSON of `out`.
/// `what` names the client library in the failure message.
pub fn client_script(what: &str, prelude: &str, script: &str, args: &[&str]) -> Value {
    let full = format!("{CLIENT_PRELUDE}\n{prelude}\n{script}\nprint(json.dumps(out))\n");
    let (code, stdout, stderr) = python(&full, args);
    assert_eq!(code, 0, "{what} script failed:\n{stderr}\n{stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Runs curl on `url` as john@example.com with the `extra` options; returns what it printed.
/// `e` (the database engine) prefixes the failure message.
pub fn curl(e: &str, url: &str, extra: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "--user", "john@example.com:secret-pw"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl is installed");
    assert!(out.status.success(), "{e}: curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A line-oriented client on a raw socket (POP3, or IMAP without literals in the responses).
pub struct LineClient {
    pub reader: std::io::BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl LineClient {
    /// Connects to 127.0.0.1:`port` and returns the client and the greeting line.
    pub fn connect(port: u16) -> (LineClient, String) {
        let writer = TcpStream::connect(("127.0.0.1", port)).unwrap();
        writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut client = LineClient { reader: std::io::BufReader::new(writer.try_clone().unwrap()), writer };
        let greeting = client.line();
        (client, greeting)
    }

    pub fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    /// One line with its CRLF, or "" at end of stream; panics when none comes within the read
    /// timeout.
    pub fn line(&mut self) -> String {
        self.try_line().expect("a line within the read timeout")
    }

    /// One line, or the error of the read (a timeout gives `WouldBlock` or `TimedOut`).
    pub fn try_line(&mut self) -> std::io::Result<String> {
        use std::io::BufRead;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        Ok(line)
    }

    /// Sends `command` CRLF and returns the one-line answer.
    pub fn ask(&mut self, command: &str) -> String {
        self.send(&format!("{command}\r\n"));
        self.line()
    }

    /// Sends `tag command` CRLF; returns the lines up to and including the tagged one.
    pub fn ask_all(&mut self, tagged: &str) -> Vec<String> {
        self.send(&format!("{tagged}\r\n"));
        let tag = tagged.split(' ').next().unwrap_or_default();
        self.until(&format!("{tag} "))
    }

    /// Lines up to and including the first one starting with `prefix`.
    pub fn until(&mut self, prefix: &str) -> Vec<String> {
        lines_until(prefix, || self.line())
    }

    /// True when nothing arrives within `wait` (the read timeout is restored afterwards).
    pub fn silent_for(&mut self, wait: Duration) -> Result<(), String> {
        self.writer.set_read_timeout(Some(wait)).unwrap();
        let got = self.try_line();
        self.writer.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        match got {
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Ok(()),
            Err(e) => Err(format!("read failed: {e}")),
            Ok(line) => Err(format!("unexpected: {line:?}")),
        }
    }
}

/// Lines from `next` up to and including the first one starting with `prefix`; "" from `next`
/// means the connection closed first.
pub fn lines_until(prefix: &str, mut next: impl FnMut() -> String) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = next();
        assert!(!line.is_empty(), "connection closed before {prefix:?}: {lines:?}");
        let done = line.starts_with(prefix);
        lines.push(line);
        if done {
            return lines;
        }
    }
}
