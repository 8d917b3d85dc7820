//! `altimail serve` as a real process: listeners from the database, TLS with the self-signed
//! certificate, the IP-range policy, changes made with the CLI while it runs, hMailServer's log
//! files and a graceful stop — on every database engine.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use altimail_testkit::backends;
use common::{Install, free_port};

struct Server(Child, std::path::PathBuf);

impl Server {
    fn start(i: &Install) -> Server {
        let log = i.path("serve.stderr");
        let err = std::fs::File::create(&log).unwrap();
        let child = i.command().arg("serve").stdout(Stdio::null()).stderr(err).spawn().unwrap();
        Server(child, log)
    }

    /// SIGTERM, then the exit status within `limit`.
    fn stop(&mut self, limit: Duration) -> std::process::ExitStatus {
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

    fn stderr(&self) -> String {
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
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `check` holds (changes apply within about a second).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
        assert!(first_line(smtp).starts_with("421 "), "{e}: SMTP answers until the protocol exists");
        let cert = i.path("data/certificates/self-signed.crt");
        assert!(cert.is_file(), "{e}: self-signed certificate made on first start");
        assert!(tls_line(imaps, &cert).starts_with("* BYE"), "{e}: implicit TLS with the self-signed certificate");

        // A port added with the CLI opens within a second; a removed one closes.
        i.ok(&["port", "add", "--protocol", "pop3", "--port", &pop3.to_string(), "--address", "127.0.0.1"]);
        eventually("new port listening", || TcpStream::connect(("127.0.0.1", pop3)).is_ok());
        assert!(first_line(pop3).starts_with("-ERR"), "{e}");
        i.ok(&["port", "remove", &port_id(&i, pop3)]);
        eventually("removed port closed", || TcpStream::connect(("127.0.0.1", pop3)).is_err());

        // The IP range decides: without SMTP for 127.0.0.1 the connection closes without a word.
        i.ok(&["range", "set", "My computer", "--deny", "smtp"]);
        eventually("range change applied", || first_line(smtp).is_empty());
        i.ok(&["range", "set", "My computer", "--allow", "smtp"]);
        eventually("range change reverted", || first_line(smtp).starts_with("421 "));

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
    let mut server = Server::start(&i);
    // The standard ports need root; the server keeps running with what it could bind.
    eventually("schema created", || i.run(&["domain", "list"]).0 == 0);
    let ports = i.json(&["port", "list"]);
    assert_eq!(ports.as_array().unwrap().len(), 7, "hMailServer's four ports plus 465, 993 and 995");
    let status = server.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}\n{}", server.stderr());
}
