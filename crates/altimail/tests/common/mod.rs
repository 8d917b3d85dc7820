//! Running the `altimail` binary the way an administrator does.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use altimail_testkit::ScratchDb;

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
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

pub struct Server(Child, std::path::PathBuf);

impl Server {
    pub fn start(i: &Install) -> Server {
        let log = i.path("serve.stderr");
        let err = std::fs::File::create(&log).unwrap();
        let child = i.command().arg("serve").stdout(Stdio::null()).stderr(err).spawn().unwrap();
        Server(child, log)
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
