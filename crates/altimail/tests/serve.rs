//! `altimail serve` as a real process: listeners from the database, TLS with the self-signed
//! certificate, the IP-range policy, changes made with the CLI while it runs, hMailServer's log
//! files and a graceful stop — on every database engine.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use altimail_testkit::backends;
use common::{Install, Server, eventually, free_port, wait_listening};

/// The first line the server sends, or "" when it closes without a word.
fn first_line(port: u16) -> String {
    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else { return "<refused>".into() };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut line = String::new();
    let _ = BufReader::new(s).read_line(&mut line);
    line
}

/// Trusts exactly the server's self-signed certificate.
fn tls_line(port: u16, cert_pem: &std::path::Path) -> String {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(cert_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let tls = rustls::StreamOwned::new(conn, sock);
    let mut line = String::new();
    BufReader::new(tls).read_line(&mut line).unwrap();
    line
}

fn port_id(i: &Install, number: u16) -> String {
    let ports = i.json(&["port", "list"]);
    ports.as_array().unwrap().iter().find(|p| p["port"] == number).unwrap()["id"].to_string()
}

#[tokio::test]
async fn serve_follows_the_database() {
    for db in backends("serve").await {
        let i = Install::new(db);
        let e = i.db.engine;
        i.ok(&["init"]);
        // Replace the standard ports (which need root) by free high ones.
        for p in i.json(&["port", "list"]).as_array().unwrap() {
            i.ok(&["port", "remove", &p["id"].to_string()]);
        }
        let (smtp, imaps, pop3) = (free_port(), free_port(), free_port());
        i.ok(&["port", "add", "--protocol", "smtp", "--port", &smtp.to_string(), "--address", "127.0.0.1"]);
        i.ok(&[
            "port",
            "add",
            "--protocol",
            "imap",
            "--port",
            &imaps.to_string(),
            "--address",
            "127.0.0.1",
            "--security",
            "tls",
        ]);

        let mut server = Server::start(&i);
        wait_listening(smtp);
        wait_listening(imaps);
        assert!(first_line(smtp).starts_with("220 "), "{e}: SMTP greets");
        let cert = i.path("data/certificates/self-signed.crt");
        assert!(cert.is_file(), "{e}: self-signed certificate made on first start");
        assert!(tls_line(imaps, &cert).starts_with("* OK"), "{e}: implicit TLS with the self-signed certificate");

        // A port added with the CLI opens within a second; a removed one closes.
        i.ok(&["port", "add", "--protocol", "pop3", "--port", &pop3.to_string(), "--address", "127.0.0.1"]);
        eventually("new port listening", || TcpStream::connect(("127.0.0.1", pop3)).is_ok());
        assert!(first_line(pop3).starts_with("+OK POP3"), "{e}");
        i.ok(&["port", "remove", &port_id(&i, pop3)]);
        eventually("removed port closed", || TcpStream::connect(("127.0.0.1", pop3)).is_err());

        // The IP range decides: without SMTP for 127.0.0.1 the connection closes without a word.
        i.ok(&["range", "set", "My computer", "--deny", "smtp"]);
        eventually("range change applied", || first_line(smtp).is_empty());
        i.ok(&["range", "set", "My computer", "--allow", "smtp"]);
        eventually("range change reverted", || first_line(smtp).starts_with("220 "));

        // hMailServer's log files.
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        let log = std::fs::read_to_string(i.path(&format!("logs/hmailserver_{today}.log"))).unwrap_or_default();
        assert!(log.contains("\"TCPIP\"\t") && log.contains("127.0.0.1"), "{e}: {log}");

        let status = server.stop(Duration::from_secs(25));
        assert!(status.success(), "{e}: {status:?}\n{}", server.stderr());
        assert!(TcpStream::connect(("127.0.0.1", smtp)).is_err(), "{e}: stopped");
        i.db.cleanup().await;
    }
}

/// `serve` creates the schema of an empty database and works from the embedded defaults.
#[tokio::test]
async fn serve_initialises_an_empty_database() {
    let i = Install::new(altimail_testkit::ScratchDb::sqlite());
    // The standard ports need root and may be taken by another server on this machine: asked
    // to, the server keeps running with what it could bind.
    let mut server = Server::start_with(&i, &["--allow-missing-listeners"]);
    // Creating every table is slow on MariaDB (each DDL statement commits on its own).
    // hMailServer's four ports plus 465, 993 and 995 and the web ports 80 and 443 (added right
    // after the schema), each on 0.0.0.0 and on ::.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    // First the server's own word that the store is ready, then what the CLI sees.
    while !server.stderr().contains("store ready") {
        if let Some(status) = server.exited() {
            panic!("serve stopped on its own ({status}): {}", server.stderr());
        }
        assert!(std::time::Instant::now() < deadline, "store not ready within 120 s: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    loop {
        if let Some(status) = server.exited() {
            panic!("serve stopped on its own ({status}): {}", server.stderr());
        }
        let (code, out, err) = i.run(&["--json", "port", "list"]);
        let ports =
            if code == 0 { serde_json::from_str::<serde_json::Value>(&out).unwrap() } else { Default::default() };
        if ports.as_array().is_some_and(|p| p.len() == 18) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "schema and defaults not created within 120 s: port list {code}: {out} {err}\nserver: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, out, _) = i.run(&["--json", "setting", "get", altimail_store::SETTING_KEEP_SHA256_PASSWORDS]);
    let keep =
        if code == 0 { serde_json::from_str::<serde_json::Value>(&out).unwrap()["integer"].clone() } else { 0.into() };
    assert_eq!(keep, 0, "a new installation is not an adopted hMailServer database");
    assert!(
        server.stderr().contains("run `altimail quickstart you@yourdomain`"),
        "a new installation says what to do next: {}",
        server.stderr()
    );
    let status = server.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}\n{}", server.stderr());
}
