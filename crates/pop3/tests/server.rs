//! The POP3 server over real sockets, with short time limits: clients that trickle, never log
//! on or stop reading get `-ERR` (or lose their connection) while the server stays up and a
//! normal session works right after.

use std::time::Duration;

use altimail_core::codes::{Protocol, Security};
use altimail_net::{HmLog, Listeners, Policy, log_mask};
use altimail_pop3::server::{Pop3Limits, Pop3Server};
use altimail_store::repo::{ports, settings};
use altimail_store::{DbConfig, Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

const LIMITS: Pop3Limits = Pop3Limits {
    idle: Duration::from_secs(6),
    command: Duration::from_secs(2),
    logon: Duration::from_secs(3),
    write: Duration::from_secs(2),
};

struct Fixture {
    _dir: tempfile::TempDir,
    log: HmLog,
    _listeners: Listeners,
    port: u16,
}

async fn start() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let store = Store::open(&DbConfig::Sqlite { path: dir.path().join("hm.db") }, &data_dir, true).await.unwrap();
    for port in ports::list(&store.db).await.unwrap() {
        ports::delete(&store.db, port.id).await.unwrap();
    }
    // Hundreds of clients from one address: the per-address cap would refuse most.
    settings::set_integer(&store.db, altimail_net::PER_IP_LIMIT_SETTING, 0).await.unwrap();
    settings::set_integer(&store.db, "logging", log_mask::ENABLED | log_mask::POP3).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let row = ports::Port {
        id: 0,
        protocol: Protocol::Pop3,
        port,
        address: std::net::Ipv4Addr::LOCALHOST.into(),
        security: Security::None,
        certificate_id: 0,
    };
    ports::create(&store.db, &row).await.unwrap();
    let log = HmLog::new(dir.path().join("logs"), 0);
    let listeners = Listeners::builder(Policy::new(store.db.clone()), log.clone(), &data_dir)
        .with_handler(Protocol::Pop3, Pop3Server::new(store).with_limits(LIMITS))
        .start()
        .await;
    Fixture { _dir: dir, log, _listeners: listeners, port }
}

impl Fixture {
    async fn connect(&self) -> BufReader<TcpStream> {
        let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", self.port)).await.unwrap());
        assert!(line(&mut stream).await.starts_with("+OK "));
        stream
    }

    async fn normal_session_works(&self) {
        let mut c = self.connect().await;
        c.get_mut().write_all(b"NOOP\r\nQUIT\r\n").await.unwrap();
        let replies = rest(&mut c).await;
        assert!(replies.ends_with("+OK POP3 server saying goodbye...\r\n"), "{replies}");
    }

    /// Whether the main log has `needle` within a few seconds: the session may log after its
    /// last reply has reached the client.
    async fn log_has(&self, needle: &str) -> bool {
        for _ in 0..50 {
            if self.main_log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    fn main_log(&self) -> String {
        // Lines reach the file through the log's writer thread.
        self.log.flush();
        std::fs::read_to_string(self.log.main_log_path()).unwrap_or_default()
    }
}

async fn line(stream: &mut BufReader<TcpStream>) -> String {
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_line(&mut text)).await.expect("a reply in time").unwrap();
    text
}

async fn rest(stream: &mut BufReader<TcpStream>) -> String {
    let mut all = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all)).await.expect("EOF in time");
    String::from_utf8_lossy(&all).into_owned()
}

/// Sends `each` every 250 ms until the server closes; returns what it answered.
async fn trickle(stream: &mut BufReader<TcpStream>, each: &[u8]) -> String {
    let mut got = String::new();
    for _ in 0..200 {
        if stream.get_mut().write_all(each).await.is_err() {
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => {}
        }
    }
    got + &rest(stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_lines_are_timed_out() {
    let f = start().await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        let port = f.port;
        clients.push(tokio::spawn(async move {
            let mut c = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
            assert!(line(&mut c).await.starts_with("+OK "));
            trickle(&mut c, b"x").await
        }));
    }
    let started = Instant::now();
    for client in clients {
        assert_eq!(client.await.unwrap(), "-ERR Autologout; idle too long\r\n");
    }
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(f.log_has("took too long to send a command: timeout").await);
    f.normal_session_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_logs_on_is_timed_out() {
    let f = start().await;
    let mut c = f.connect().await;
    let started = Instant::now();
    // Whole commands, answered each time: only the logon limit ends this.
    let got = trickle(&mut c, b"NOOP\r\n").await;
    assert!(got.ends_with("-ERR Autologout; idle too long\r\n"), "{got}");
    let took = started.elapsed();
    assert!(took >= LIMITS.logon && took < LIMITS.idle, "{took:?}");
    assert!(f.log_has("did not log on in time: timeout").await);
    f.normal_session_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped() {
    let f = start().await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let c = socket.connect(([127, 0, 0, 1], f.port).into()).await.unwrap();
    let (_read, mut write) = c.into_split();
    let capas = b"CAPA\r\n".repeat(2048);
    let started = Instant::now();
    let mut dropped = false;
    while started.elapsed() < Duration::from_secs(30) {
        match tokio::time::timeout(Duration::from_millis(500), write.write_all(&capas)).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(_)) => {
                dropped = true;
                break;
            }
        }
    }
    assert!(dropped, "the server still reads after {:?}", started.elapsed());
    f.normal_session_works().await;
}
