//! Running as a service: the systemd notification protocol (READY, WATCHDOG, STOPPING) over a
//! real `NOTIFY_SOCKET`, and SIGHUP reloading the certificates and altimail.toml while sessions
//! run.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use altimail_testkit::ScratchDb;
use common::{Install, Server, eventually, example_com, wait_listening};
use rustls::pki_types::{CertificateDer, ServerName};

/// Receives the next notification within `limit`.
fn receive(socket: &UnixDatagram, limit: Duration) -> Option<String> {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    socket.recv(&mut buf).ok().map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Notifications until one containing `line` arrives; panics after `limit`.
fn receive_until(socket: &UnixDatagram, line: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no {line:?} within {limit:?}; got {got:?}");
        if let Some(message) = receive(socket, left) {
            let done = message.lines().any(|l| l == line);
            got.push(message);
            if done {
                return got;
            }
        }
    }
}

#[test]
fn systemd_hears_ready_watchdog_pings_and_stopping() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    let ports = i.ports_on(&[("smtp", "none"), ("imap", "none"), ("pop3", "tls")]);
    let notify_path = i.path("notify.sock");
    let socket = UnixDatagram::bind(&notify_path).unwrap();
    let mut server = Server::start_with_env(
        &i,
        &[],
        &[("NOTIFY_SOCKET", notify_path.to_str().unwrap()), ("WATCHDOG_USEC", "1000000")],
    );

    // READY=1 comes once every port accepts connections: no waiting after it.
    let first = receive_until(&socket, "READY=1", Duration::from_secs(30));
    assert!(first.iter().all(|m| !m.contains("WATCHDOG=1")), "no ping before READY: {first:?}");
    for port in &ports {
        TcpStream::connect(("127.0.0.1", *port))
            .unwrap_or_else(|e| panic!("port {port} refuses after READY=1: {e}\n{}", server.stderr()));
    }
    let ready = first.last().unwrap();
    assert!(ready.contains("STATUS=Listening on 3 port(s)"), "{ready}");

    // WATCHDOG_USEC = 1 s: a ping every 0.5 s.
    let start = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        let m = receive(&socket, Duration::from_secs(5)).expect("a watchdog ping");
        if m.lines().any(|l| l == "WATCHDOG=1") {
            pings += 1;
        }
    }
    assert!(start.elapsed() < Duration::from_secs(10), "3 pings took {:?}", start.elapsed());

    // SIGHUP: RELOADING=1 with the time, then READY=1 again.
    server.signal("HUP");
    let reload = receive_until(&socket, "READY=1", Duration::from_secs(20));
    let reloading = reload.iter().find(|m| m.contains("RELOADING=1")).expect("RELOADING=1");
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");

    server.terminate();
    let stopping = receive_until(&socket, "STOPPING=1", Duration::from_secs(20));
    assert!(!stopping.is_empty());
    assert!(server.wait(Duration::from_secs(30)).success(), "{}", server.stderr());
}

#[test]
fn without_watchdog_usec_no_pings_and_a_foreign_watchdog_pid_is_ignored() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    let ports = i.ports_on(&[("smtp", "none")]);
    let notify_path = i.path("notify.sock");
    let socket = UnixDatagram::bind(&notify_path).unwrap();
    let mut server = Server::start_with_env(
        &i,
        &[],
        &[("NOTIFY_SOCKET", notify_path.to_str().unwrap()), ("WATCHDOG_USEC", "200000"), ("WATCHDOG_PID", "1")],
    );
    receive_until(&socket, "READY=1", Duration::from_secs(30));
    wait_listening(ports[0]);
    let quiet = receive(&socket, Duration::from_secs(1));
    assert!(quiet.is_none(), "pings meant for another process: {quiet:?}");
    server.terminate();
    receive_until(&socket, "STOPPING=1", Duration::from_secs(20));
    assert!(server.wait(Duration::from_secs(30)).success());
}

/// A self-signed certificate for localhost and 127.0.0.1, written as `{name}.crt`/`{name}.key`
/// into `dir`; returns the certificate's DER and PEM and the key's PEM.
fn certificate(name: &str) -> (CertificateDer<'static>, String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.der().clone(), cert.pem(), key.serialize_pem())
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// An implicit-TLS connection that trusts the given certificates; returns the stream and the
/// certificate the server presented.
fn connect_tls(port: u16, trusted: &[&CertificateDer<'static>]) -> (BufReader<Tls>, CertificateDer<'static>) {
    let mut roots = rustls::RootCertStore::empty();
    for c in trusted {
        roots.add((*c).clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut reader = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    // The greeting comes after the handshake.
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let presented = reader.get_ref().conn.peer_certificates().unwrap()[0].clone().into_owned();
    (reader, presented)
}

fn imap(stream: &mut BufReader<Tls>, tagged: &str) -> Vec<String> {
    stream.get_mut().write_all(format!("{tagged}\r\n").as_bytes()).unwrap();
    stream.get_mut().flush().unwrap();
    let tag = format!("{} ", tagged.split(' ').next().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "connection closed: {lines:?}");
        let done = line.starts_with(&tag);
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// Sets the modification time of `path` to that of `like`, so that only a SIGHUP (not the
/// once-a-second check of the files' times) can notice the new contents.
fn same_mtime(path: &Path, like: std::time::SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(like).unwrap();
}

#[test]
fn sighup_reloads_certificates_without_dropping_sessions_and_rereads_the_config() {
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let (a_der, a_pem, a_key) = certificate("cert A");
    let (b_der, b_pem, b_key) = certificate("cert B");
    let (cert_file, key_file) = (i.path("mail.crt"), i.path("mail.key"));
    std::fs::write(&cert_file, &a_pem).unwrap();
    std::fs::write(&key_file, &a_key).unwrap();
    i.ok(&["certificate", "add", "mail", "--cert", cert_file.to_str().unwrap(), "--key", key_file.to_str().unwrap()]);
    let ports = i.ports_on(&[("imap", "tls")]);
    let id = i.json(&["port", "list"])[0]["id"].to_string();
    let cert_id = i.json(&["certificate", "list"])[0]["id"].to_string();
    i.ok(&["port", "set", &id, "--certificate", &cert_id]);
    let imaps = ports[0];
    let mut server = Server::start(&i);
    wait_listening(imaps);
    let trusted = [&a_der, &b_der];

    let (mut old, presented) = connect_tls(imaps, &trusted);
    assert_eq!(presented, a_der, "the server starts with certificate A");
    assert!(imap(&mut old, "a1 LOGIN john@example.com secret-pw").last().unwrap().starts_with("a1 OK"));

    // Certificate B in the same files, with A's modification times: written beside them, given
    // those times, then renamed over them (so no pass of the server sees anything in between).
    let times = (
        std::fs::metadata(&cert_file).unwrap().modified().unwrap(),
        std::fs::metadata(&key_file).unwrap().modified().unwrap(),
    );
    let (cert_new, key_new) = (i.path("mail.crt.new"), i.path("mail.key.new"));
    std::fs::write(&cert_new, &b_pem).unwrap();
    std::fs::write(&key_new, &b_key).unwrap();
    same_mtime(&cert_new, times.0);
    same_mtime(&key_new, times.1);
    std::fs::rename(&key_new, &key_file).unwrap();
    std::fs::rename(&cert_new, &cert_file).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(connect_tls(imaps, &trusted).1, a_der, "no reload before SIGHUP");

    server.signal("HUP");
    eventually("a new connection sees certificate B", || connect_tls(imaps, &trusted).1 == b_der);
    let (mut new, _) = connect_tls(imaps, &trusted);
    assert!(imap(&mut new, "b1 LOGIN john@example.com secret-pw").last().unwrap().starts_with("b1 OK"));
    // The session opened before the reload goes on.
    let select = imap(&mut old, "a2 SELECT INBOX");
    assert!(select.last().unwrap().starts_with("a2 OK"), "{select:?}");

    // A broken certificate: the port keeps B, the log says why.
    std::fs::write(&cert_file, "not a certificate\n").unwrap();
    server.signal("HUP");
    eventually("the failed reload is logged", || server.stderr().contains("Failed to load certificate"));
    assert_eq!(connect_tls(imaps, &trusted).1, b_der, "a bad certificate keeps the previous one");
    std::fs::write(&cert_file, &b_pem).unwrap();

    // altimail.toml: the log level applies at once, the DNS servers after a restart, and a
    // file that does not parse changes nothing.
    let base = std::fs::read_to_string(&i.config).unwrap();
    std::fs::write(&i.config, format!("{base}\n[log]\nlevel = \"debug\"\n[dns]\nservers = [\"127.0.0.1:5353\"]\n"))
        .unwrap();
    server.signal("HUP");
    eventually("the changes are named", || {
        let log = server.stderr();
        log.contains("[log] level: \"info\" -> \"debug\"")
            && log.contains("[dns] servers changed: takes effect after a restart")
    });
    std::fs::write(&i.config, format!("{base}\n[log]\nlevel = 5\n")).unwrap();
    server.signal("HUP");
    eventually("the bad file is refused", || server.stderr().contains("the running configuration stays in force"));
    let select = imap(&mut old, "a3 NOOP");
    assert!(select.last().unwrap().starts_with("a3 OK"), "{select:?}");

    assert!(server.stop(Duration::from_secs(30)).success(), "{}", server.stderr());
}
