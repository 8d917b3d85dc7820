//! Running the `altimail` binary the way an administrator does.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
