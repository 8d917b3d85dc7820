//! Helpers that make the tests read like the protocol.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use altimail_core::codes::{Protocol, Security};
use altimail_net::{HmLog, Listeners, ListenersBuilder, Policy, log_mask};
use altimail_store::repo::{ports, settings};
use altimail_store::{DbConfig, Store};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long any single wait in a test may take before it counts as a failure.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A store with hMailServer's default rows but no ports, and a log with TCP/IP, debug and all
/// protocol lines on (through the `logging` setting, which the listeners apply).
pub struct Server {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub policy: Policy,
    pub log: HmLog,
    pub data_dir: PathBuf,
}

pub async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let config = DbConfig::Sqlite { path: dir.path().join("hm.db") };
    let store = Store::open(&config, &data_dir, true).await.unwrap();
    for port in ports::list(&store.db).await.unwrap() {
        ports::delete(&store.db, port.id).await.unwrap();
    }
    let mask = log_mask::ENABLED | log_mask::SMTP | log_mask::POP3 | log_mask::IMAP | log_mask::TCPIP | log_mask::DEBUG;
    settings::set_integer(&store.db, "logging", mask).await.unwrap();
    let policy = Policy::new(store.db.clone());
    let log = HmLog::new(dir.path().join("logs"), 0);
    Server { dir, store, policy, log, data_dir }
}

impl Server {
    pub fn listeners(&self) -> ListenersBuilder {
        Listeners::builder(self.policy.clone(), self.log.clone(), &self.data_dir)
    }

    /// Adds a port row on 127.0.0.1 with a free port number.
    pub async fn add_port(&self, protocol: Protocol, security: Security) -> ports::Port {
        self.add_port_with(protocol, security, 0, free_port()).await
    }

    pub async fn add_port_with(
        &self,
        protocol: Protocol,
        security: Security,
        certificate_id: i64,
        port: u16,
    ) -> ports::Port {
        let row =
            ports::Port { id: 0, protocol, port, address: IpAddr::V4(Ipv4Addr::LOCALHOST), security, certificate_id };
        ports::create(&self.store.db, &row).await.unwrap()
    }

    pub fn self_signed_cert(&self) -> PathBuf {
        self.data_dir.join("certificates").join("self-signed.crt")
    }

    pub fn main_log(&self) -> String {
        self.log.flush();
        std::fs::read_to_string(self.log.main_log_path()).unwrap_or_default()
    }

    pub fn error_log(&self) -> String {
        self.log.flush();
        std::fs::read_to_string(self.log.error_log_path()).unwrap_or_default()
    }
}

/// A port number nobody listens on right now.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

pub async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

/// Connects to 127.0.0.1:`port` from the loopback address `source` (any of 127.0.0.0/8), to
/// stand for another client.
pub async fn connect_from(source: IpAddr, port: u16) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect((Ipv4Addr::LOCALHOST, port).into()).await.unwrap()
}

/// Reads one line (through LF) byte by byte, so nothing after it is consumed.
pub async fn read_line<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let read = async {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stream.read(&mut byte).await.unwrap_or(0) == 1 {
            line.push(byte[0]);
            if byte[0] == b'\n' {
                break;
            }
        }
        String::from_utf8(line).unwrap()
    };
    tokio::time::timeout(PATIENCE, read).await.expect("no line in time")
}

/// Everything the peer sends until it closes.
pub async fn read_to_end<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut all = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut all)).await.expect("no EOF in time").unwrap();
    all
}

/// A TLS client trusting only the certificate(s) in `cert_pem`.
pub fn tls_client(cert_pem: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

pub fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// Polls `check` until it returns true; returns how long that took. Panics after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first bytes a client gets from `port`, or `None` when the connection is refused.
pub async fn greeting(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    Some(read_line(&mut stream).await)
}
