//! Real content scanners for tests: a clamd and a spamd of their own, each in a temporary
//! directory, on loopback, stopped when the value is dropped.
//!
//! - [`Clamd::start`]: clamd with a unix socket and a TCP port on 127.0.0.1, a signature
//!   database holding only [`EICAR`] (signature name [`EICAR_SIGNATURE`]), no network.
//! - [`Spamd::start`]: spamd with Debian's installed rules, local tests only (`-L`), no Bayes,
//!   no DNS; [`GTUBE`] scores 1000.
//!
//! Both return `None` after a SKIP line when the program is not installed (and panic in CI),
//! and wait until the daemon answers PING, which takes seconds (clamd loads its engine,
//! spamd compiles its rules): [`START_LIMIT`] bounds the wait.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The EICAR anti-virus test file (68 bytes).
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// The name [`Clamd`] reports for [`EICAR`] (clamd marks signatures of unsigned databases
/// `.UNOFFICIAL`).
pub const EICAR_SIGNATURE: &str = "Altimail.Test.EICAR.UNOFFICIAL";
const EICAR_SIGNATURE_ROW: &str = "Altimail.Test.EICAR";
/// SpamAssassin's GTUBE test string: any message containing it is spam.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
/// How long a daemon may take to answer its first PING.
pub const START_LIMIT: Duration = Duration::from_secs(300);

const CLAMD: &str = "/usr/sbin/clamd";
const SPAMD: &str = "/usr/sbin/spamd";

/// A loopback TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn available(program: &str, package: &str) -> bool {
    if std::path::Path::new(program).exists() {
        return true;
    }
    let what = format!("{program}: not installed (apt-get install {package})");
    if crate::must_test_every_engine() {
        panic!("{what}; it is required in CI");
    }
    crate::skip_line(&what);
    false
}

/// Sends `request` to 127.0.0.1:`port` and returns what comes back until EOF (2 s limit).
fn ask(port: u16, request: &[u8]) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(request).ok()?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Some(out)
}

/// Waits until `ready()`; panics with the daemon's log after [`START_LIMIT`] or when it exits.
fn wait_ready(what: &str, child: &mut Child, log: &std::path::Path, mut ready: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if ready() {
            return start.elapsed();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before answering: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        if start.elapsed() > START_LIMIT {
            let _ = child.kill();
            panic!(
                "{what} did not answer within {START_LIMIT:?}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops a daemon: SIGTERM (so it stops its own children), then SIGKILL after 10 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).stderr(Stdio::null()).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A running clamd.
pub struct Clamd {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its unix socket.
    pub socket: PathBuf,
    /// How long it took to answer its first PING.
    pub started_in: Duration,
    child: Child,
    dir: tempfile::TempDir,
}

impl Clamd {
    /// Starts clamd with `StreamMaxLength` = `stream_max_length` (clamd's syntax: `25M`, `64K`).
    pub fn start(stream_max_length: &str) -> Option<Clamd> {
        if !available(CLAMD, "clamav-daemon") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("db");
        std::fs::create_dir(&db).expect("db dir");
        let hex: String = EICAR.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(db.join("altimail-test.ndb"), format!("{EICAR_SIGNATURE_ROW}:0:*:{hex}\n")).expect("signatures");
        let port = free_port();
        let socket = dir.path().join("clamd.sock");
        let log = dir.path().join("clamd.log");
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "Foreground yes\nLocalSocket {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\n\
                 TemporaryDirectory {}\nLogFile {}\nStreamMaxLength {stream_max_length}\nMaxThreads 4\n\
                 SelfCheck 0\nPidFile {}\n",
                socket.display(),
                db.display(),
                dir.path().display(),
                log.display(),
                dir.path().join("clamd.pid").display(),
            ),
        )
        .expect("clamd.conf");
        let mut child = Command::new(CLAMD)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clamd");
        let started_in =
            wait_ready("clamd", &mut child, &log, || ask(port, b"zPING\0").is_some_and(|r| r.starts_with(b"PONG")));
        Some(Clamd { port, socket, started_in, child, dir })
    }

    /// The directory holding its configuration, database and log.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// A running spamd.
pub struct Spamd {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// How long it took to answer its first PING.
    pub started_in: Duration,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Spamd {
    /// Starts spamd: local tests only, Debian's rules, a site configuration of its own that
    /// turns off Bayes, auto-learning and DNS.
    pub fn start() -> Option<Spamd> {
        if !available(SPAMD, "spamd") {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let site = dir.path().join("site");
        std::fs::create_dir(&site).expect("site dir");
        // The plugin loaders (`*.pre`) come from the system's configuration; without them
        // spamd cannot scan.
        if let Ok(entries) = std::fs::read_dir("/etc/spamassassin") {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "pre") {
                    let _ = std::fs::copy(&p, site.join(e.file_name()));
                }
            }
        }
        std::fs::write(
            site.join("local.cf"),
            "use_bayes 0\nbayes_auto_learn 0\nskip_rbl_checks 1\ndns_available no\nreport_safe 0\n",
        )
        .expect("local.cf");
        let port = free_port();
        let log = dir.path().join("spamd.log");
        let log_file = std::fs::File::create(&log).expect("spamd.log");
        let mut child = Command::new(SPAMD)
            .args(["-L", "-x", "--min-children", "1", "--max-children", "2", "-s", "stderr"])
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg(format!("--siteconfigpath={}", site.display()))
            .arg(format!("--pidfile={}", dir.path().join("spamd.pid").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start spamd");
        let started_in = wait_ready("spamd", &mut child, &log, || {
            ask(port, b"PING SPAMC/1.2\r\n\r\n").is_some_and(|r| r.windows(4).any(|w| w == b"PONG"))
        });
        Some(Spamd { port, started_in, child, _dir: dir })
    }
}

impl Drop for Spamd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
