//! The SMTP server over real sockets, with short time limits: clients that trickle, stop
//! reading or drop mid-body get their reply (or lose their connection) while the server stays
//! up and a normal session works right after; large bodies go to the spool file as they arrive
//! and leave no file behind when the transaction does not end in a message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use altimail_core::codes::{Protocol, Security};
use altimail_delivery::Spool;
use altimail_net::{HmLog, Listeners, Policy, log_mask};
use altimail_smtp::server::{SmtpLimits, SmtpServer};
use altimail_store::repo::{accounts, domains, ports, settings};
use altimail_store::{DbConfig, Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Limits short enough for a test, in the proportions of the real ones.
const LIMITS: SmtpLimits = SmtpLimits {
    idle: Duration::from_secs(4),
    command: Duration::from_secs(2),
    body_base: Duration::from_secs(2),
    body_rate: 64 * 1024,
    write: Duration::from_secs(2),
};

struct Fixture {
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    log: HmLog,
    _listeners: Listeners,
    port: u16,
}

/// A server with the domain example.com and the account john@example.com, SMTP on a free port.
async fn start(limits: SmtpLimits, max_message_kb: i64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let store = Store::open(&DbConfig::Sqlite { path: dir.path().join("hm.db") }, &data_dir, true).await.unwrap();
    for port in ports::list(&store.db).await.unwrap() {
        ports::delete(&store.db, port.id).await.unwrap();
    }
    let mask = log_mask::ENABLED | log_mask::SMTP | log_mask::DEBUG;
    // Hundreds of clients from one address: the per-address cap would refuse most.
    settings::set_integer(&store.db, altimail_net::PER_IP_LIMIT_SETTING, 0).await.unwrap();
    settings::set_integer(&store.db, "logging", mask).await.unwrap();
    settings::set_integer(&store.db, "maxmessagesize", max_message_kb).await.unwrap();
    let domain = domains::create(&store.db, &domains::Domain::new("example.com")).await.unwrap();
    accounts::create(&store.db, &accounts::Account::new(domain.id, "john@example.com")).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let row = ports::Port {
        id: 0,
        protocol: Protocol::Smtp,
        port,
        address: std::net::Ipv4Addr::LOCALHOST.into(),
        security: Security::None,
        certificate_id: 0,
    };
    ports::create(&store.db, &row).await.unwrap();
    let log = HmLog::new(dir.path().join("logs"), 0);
    let spool = Spool::start(store.clone());
    let smtp = SmtpServer::new(store.clone(), spool).with_limits(limits);
    let listeners = Listeners::builder(Policy::new(store.db.clone()), log.clone(), &data_dir)
        .with_handler(Protocol::Smtp, smtp)
        .start()
        .await;
    Fixture { _dir: dir, data_dir, log, _listeners: listeners, port }
}

impl Fixture {
    async fn connect(&self) -> BufReader<TcpStream> {
        let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", self.port)).await.unwrap());
        assert!(line(&mut stream).await.starts_with("220 "));
        stream
    }

    /// The queue folder's message files.
    fn spool_files(&self) -> Vec<PathBuf> {
        eml_files(&self.data_dir)
    }

    /// A whole normal session: the server is still up and well.
    async fn normal_session_works(&self) {
        let mut c = self.connect().await;
        let replies = dialogue(&mut c, &[b"EHLO client.test\r\n" as &[u8], b"NOOP\r\n", b"QUIT\r\n"]).await;
        assert!(replies.ends_with("250 2.0.0 OK\r\n221 2.0.0 Goodbye\r\n"), "{replies}");
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

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
        })
        .unwrap_or_default()
}

/// One reply line, within 10 s.
async fn line(stream: &mut BufReader<TcpStream>) -> String {
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_line(&mut text)).await.expect("a reply in time").unwrap();
    text
}

/// Sends each command and reads its whole (possibly multi-line) reply.
async fn dialogue(stream: &mut BufReader<TcpStream>, commands: &[&[u8]]) -> String {
    let mut all = String::new();
    for command in commands {
        stream.get_mut().write_all(command).await.unwrap();
        loop {
            let reply = line(stream).await;
            all.push_str(&reply);
            if reply.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    }
    all
}

/// Everything until the server closes, within 10 s.
async fn rest(stream: &mut BufReader<TcpStream>) -> String {
    let mut all = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all)).await.expect("EOF in time");
    String::from_utf8_lossy(&all).into_owned()
}

const OPEN: &[&[u8]] = &[b"EHLO client.test\r\n", b"MAIL FROM:<a@remote.test>\r\n", b"RCPT TO:<john@example.com>\r\n"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_tricklers_are_all_timed_out() {
    let f = start(LIMITS, 20_480).await;
    let started = Instant::now();
    let mut clients = Vec::new();
    for k in 0..600 {
        let port = f.port;
        clients.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
            assert!(line(&mut stream).await.starts_with("220 "));
            // One octet every 250 ms (the real-world 5 s, scaled like the limits); never a line end.
            let mut got = String::new();
            for _ in 0..200 {
                if stream.get_mut().write_all(if k % 2 == 0 { b"N" } else { b"x" }).await.is_err() {
                    break;
                }
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
                    Err(_) => {}
                }
            }
            got + &rest(&mut stream).await
        }));
    }
    for client in clients {
        let got = client.await.unwrap();
        assert!(got.starts_with("421 4.4.2 "), "{got:?}");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "all closed after {took:?}");
    assert!(f.log_has("took too long to send a command or message: timeout").await);
    f.normal_session_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_client_is_timed_out() {
    let f = start(LIMITS, 20_480).await;
    let mut c = f.connect().await;
    let started = Instant::now();
    assert!(rest(&mut c).await.starts_with("421 4.4.2 "));
    assert!(started.elapsed() >= LIMITS.idle);
    assert!(f.log_has("The client was idle: timeout").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_timed_out_and_leaves_no_file() {
    let f = start(LIMITS, 20_480).await;
    let mut c = f.connect().await;
    dialogue(&mut c, OPEN).await;
    assert!(dialogue(&mut c, &[b"DATA\r\n"]).await.starts_with("354 "));
    // 2 MiB at once (streamed to its file), then a trickle.
    c.get_mut().write_all(&vec![b'a'; 2 * 1024 * 1024]).await.unwrap();
    let mut got = String::new();
    for _ in 0..200 {
        if c.get_mut().write_all(b"b").await.is_err() {
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => {}
        }
    }
    got += &rest(&mut c).await;
    assert!(got.starts_with("421 4.4.2 "), "{got:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(f.spool_files().is_empty(), "{:?}", f.spool_files());
    f.normal_session_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped() {
    let f = start(LIMITS, 20_480).await;
    // A small receive buffer, so the server's replies back up quickly.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let c = socket.connect(([127, 0, 0, 1], f.port).into()).await.unwrap();
    // Pipelined commands with long replies; the client never reads. The server gives up on its
    // write, closes, and the client's writes fail.
    let (_read, mut write) = c.into_split();
    let ehlos = b"EHLO client.test\r\n".repeat(4096);
    let started = Instant::now();
    let mut dropped = false;
    while started.elapsed() < Duration::from_secs(30) {
        match tokio::time::timeout(Duration::from_millis(500), write.write_all(&ehlos)).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(_)) => {
                dropped = true;
                break;
            }
        }
    }
    assert!(dropped, "the server still reads after {:?}", started.elapsed());
    assert!(f.log_has("The client did not read for too long").await, "no log line for the write timeout");
    f.normal_session_works().await;
}

/// The message file in the queue after a DATA of 5 MB: the trace header, then the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_is_streamed_to_its_file() {
    let f = start(LIMITS, 0).await;
    let mut body = Vec::new();
    let mut k = 0u64;
    while body.len() < 5 * 1024 * 1024 {
        body.extend_from_slice(format!("line {k} of a large message, with text to fill it up\r\n").as_bytes());
        if k.is_multiple_of(1000) {
            body.extend_from_slice(b"..a stuffed dot\r\n");
        }
        k += 1;
    }
    let mut c = f.connect().await;
    dialogue(&mut c, OPEN).await;
    assert!(dialogue(&mut c, &[b"DATA\r\n"]).await.starts_with("354 "));
    c.get_mut().write_all(&body).await.unwrap();
    let reply = dialogue(&mut c, &[b".\r\n"]).await;
    assert!(reply.starts_with("250 "), "{reply}");
    // Delivery may already have taken it: read the file of the queue row, else the mailbox copy.
    let stored = stored_message(&f).await;
    let unstuffed: Vec<u8> = String::from_utf8(body).unwrap().replace("\r\n..", "\r\n.").into_bytes();
    assert!(stored.len() > unstuffed.len());
    let (head, tail) = stored.split_at(stored.len() - unstuffed.len());
    assert!(head.starts_with(b"Received: from client.test") && head.len() < 500, "trace header first");
    assert!(tail == unstuffed, "the body, byte for byte");
}

/// The only message file under the data directory (queue or mailbox), once there is one.
async fn stored_message(f: &Fixture) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = Vec::new();
        let mut stack = vec![f.data_dir.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "eml") {
                    found.push(path);
                }
            }
        }
        if let [one] = found.as_slice() {
            return std::fs::read(one).unwrap();
        }
        assert!(Instant::now() < deadline, "message files: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_refused_and_reset_bodies_leave_no_file() {
    let f = start(LIMITS, 3 * 1024).await;
    // Dropped mid-DATA, after the body went to its file.
    let mut c = f.connect().await;
    dialogue(&mut c, OPEN).await;
    dialogue(&mut c, &[b"DATA\r\n"]).await;
    c.get_mut().write_all(&vec![b'x'; 2 * 1024 * 1024]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(c);
    // Too big (3 MB limit): refused after the end.
    let mut c = f.connect().await;
    dialogue(&mut c, OPEN).await;
    dialogue(&mut c, &[b"DATA\r\n"]).await;
    c.get_mut().write_all(&b"y".repeat(100).repeat(40_000)).await.unwrap();
    let reply = dialogue(&mut c, &[b"\r\n.\r\n"]).await;
    assert!(reply.starts_with("552 "), "{reply}");
    // BDAT chunks, then RSET.
    let mut chunk = b"BDAT 1500000\r\n".to_vec();
    chunk.extend_from_slice(&vec![b'z'; 1_500_000]);
    let replies =
        dialogue(&mut c, &[b"MAIL FROM:<a@remote.test>\r\n", b"RCPT TO:<john@example.com>\r\n", &chunk]).await;
    assert!(replies.ends_with("250 2.0.0 1500000 octets received\r\n"), "{replies}");
    assert!(dialogue(&mut c, &[b"RSET\r\n"]).await.starts_with("250 "));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f.spool_files().is_empty() {
        assert!(Instant::now() < deadline, "left behind: {:?}", f.spool_files());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f.normal_session_works().await;
}

/// The peak resident memory of this process (VmHWM), in KiB.
fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_large_uploads_do_not_cost_their_size_in_memory() {
    const UPLOADS: usize = 16;
    const SIZE: usize = 12_000_000;
    let f = start(SmtpLimits { body_base: Duration::from_secs(600), ..LIMITS }, 20_480).await;
    let text = b"a line of a large message, long enough to fill it up quickly\r\n";
    let body: std::sync::Arc<Vec<u8>> = text.repeat(SIZE / text.len()).into();
    let before = peak_memory_kib();
    let mut uploads = Vec::new();
    for _ in 0..UPLOADS {
        let (port, body) = (f.port, body.clone());
        uploads.push(tokio::spawn(async move {
            let mut c = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
            line(&mut c).await;
            dialogue(&mut c, OPEN).await;
            dialogue(&mut c, &[b"DATA\r\n"]).await;
            c.get_mut().write_all(&body).await.unwrap();
            c.get_mut().write_all(b".\r\n").await.unwrap();
            // All the bodies go through one test process: the reply may take a while.
            let mut reply = String::new();
            tokio::time::timeout(Duration::from_secs(300), c.read_line(&mut reply)).await.expect("a reply").unwrap();
            reply
        }));
    }
    for upload in uploads {
        let reply = upload.await.unwrap();
        assert!(reply.starts_with("250 "), "{reply}");
    }
    let grown = peak_memory_kib().saturating_sub(before);
    eprintln!("{UPLOADS} concurrent uploads of {SIZE} octets: peak memory grew by {grown} KiB");
    assert!(grown < 100 * 1024, "peak memory grew by {grown} KiB");
    assert_eq!(f.spool_files().len(), UPLOADS);
}
