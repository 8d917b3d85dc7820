//! TLS ports: implicit TLS with the self-signed certificate, STARTTLS through `Connection`,
//! certificates from `hm_sslcertificates` and their renewal.

use std::path::Path;

use altimail_core::codes::{Protocol, Security};
use altimail_net::Connection;
use altimail_store::repo::{certificates, settings};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::io::AsyncWriteExt;

use crate::util::{PATIENCE, connect, eventually, localhost, read_line, read_to_end, server, tls_client};

/// Tells the client whether the stream is TLS and which version was negotiated.
async fn describe_tls(mut conn: Connection) {
    let version = conn.stream.tls_session().and_then(|s| s.protocol_version());
    let line = format!("* OK tls={} version={version:?} starttls={}\r\n", conn.is_tls(), conn.can_start_tls());
    let _ = conn.stream.write_all(line.as_bytes()).await;
    let _ = conn.stream.shutdown().await;
}

#[tokio::test]
async fn implicit_tls_port_uses_the_self_signed_certificate() {
    let s = server().await;
    settings::set_string(&s.store.db, "hostname", "mail.example.com").await.unwrap();
    let port = s.add_port(Protocol::Imap, Security::Tls).await;
    let listeners = s.listeners().with_handler(Protocol::Imap, describe_tls).start().await;
    assert!(s.self_signed_cert().is_file(), "generated at start");

    let tcp = connect(port.port).await;
    let mut tls = tls_client(&s.self_signed_cert()).connect(localhost(), tcp).await.unwrap();
    // SslVersions defaults to 14 (TLS 1.0-1.2): with rustls that is TLS 1.2.
    assert_eq!(read_line(&mut tls).await, "* OK tls=true version=Some(TLSv1_2) starttls=false\r\n");

    settings::set_integer(&s.store.db, "SslVersions", 8 | 16).await.unwrap();
    eventually(PATIENCE, "TLS 1.3 after SslVersions changed", || async {
        let tcp = connect(port.port).await;
        let mut tls = tls_client(&s.self_signed_cert()).connect(localhost(), tcp).await.unwrap();
        read_line(&mut tls).await.contains("TLSv1_3")
    })
    .await;

    let name = rustls_pki_types::ServerName::try_from("mail.example.com").unwrap();
    let tcp = connect(port.port).await;
    let mut tls = tls_client(&s.self_signed_cert()).connect(name, tcp).await.unwrap();
    assert!(read_line(&mut tls).await.starts_with("* OK tls=true"), "the host name is in the certificate");
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn a_client_that_speaks_no_tls_on_an_implicit_tls_port_is_dropped() {
    let s = server().await;
    let port = s.add_port(Protocol::Smtp, Security::Tls).await;
    let listeners = s.listeners().with_handler(Protocol::Smtp, describe_tls).start().await;
    let mut client = connect(port.port).await;
    client.write_all(b"EHLO plain\r\n").await.unwrap();
    let reply = read_to_end(&mut client).await;
    assert!(!reply.starts_with(b"* OK"), "the handler never ran");
    eventually(PATIENCE, "handshake failure logged and slot freed", || async {
        s.main_log().contains("TLS handshake with client failed") && s.policy.connections(Protocol::Smtp) == 0
    })
    .await;
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn starttls_upgrades_the_connection() {
    let s = server().await;
    let port = s.add_port(Protocol::Smtp, Security::StartTlsRequired).await;
    let listeners = s
        .listeners()
        .with_handler(Protocol::Smtp, |mut conn: Connection| async move {
            let hello = format!("220 ready tls={} starttls={}\r\n", conn.is_tls(), conn.can_start_tls());
            if conn.stream.write_all(hello.as_bytes()).await.is_err() {
                return;
            }
            if read_line(&mut conn.stream).await != "STARTTLS\r\n" {
                return;
            }
            if conn.stream.write_all(b"220 2.0.0 Ready to start TLS\r\n").await.is_err() {
                return;
            }
            let Ok(mut conn) = conn.start_tls().await else { return };
            let after = format!("250 tls={} starttls={}\r\n", conn.is_tls(), conn.can_start_tls());
            let _ = conn.stream.write_all(after.as_bytes()).await;
            let _ = conn.stream.shutdown().await;
        })
        .start()
        .await;

    let mut tcp = connect(port.port).await;
    assert_eq!(read_line(&mut tcp).await, "220 ready tls=false starttls=true\r\n");
    tcp.write_all(b"STARTTLS\r\n").await.unwrap();
    assert_eq!(read_line(&mut tcp).await, "220 2.0.0 Ready to start TLS\r\n");
    let mut tls = tls_client(&s.self_signed_cert()).connect(localhost(), tcp).await.unwrap();
    assert_eq!(read_line(&mut tls).await, "250 tls=true starttls=false\r\n");
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn start_tls_is_refused_on_a_plain_port() {
    let s = server().await;
    let port = s.add_port(Protocol::Pop3, Security::None).await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listeners = s
        .listeners()
        .with_handler(Protocol::Pop3, move |conn: Connection| {
            let tx = tx.clone();
            async move {
                assert!(!conn.can_start_tls());
                let _ = tx.send(conn.start_tls().await.err().map(|e| e.kind()));
            }
        })
        .start()
        .await;
    let mut client = connect(port.port).await;
    assert!(read_to_end(&mut client).await.is_empty(), "the consumed connection is closed");
    let mut rx = rx;
    assert_eq!(rx.recv().await, Some(Some(std::io::ErrorKind::Unsupported)));
    listeners.shutdown(PATIENCE).await;
}

fn write_self_signed(dir: &Path, names: &[&str]) -> (String, String) {
    std::fs::create_dir_all(dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_path = dir.join("mail.crt");
    let key_path = dir.join("mail.key");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path.to_string_lossy().into_owned(), key_path.to_string_lossy().into_owned())
}

fn leaf_of(pem_path: &str) -> CertificateDer<'static> {
    CertificateDer::pem_file_iter(pem_path).unwrap().next().unwrap().unwrap()
}

#[tokio::test]
async fn certificate_rows_are_used_and_renewals_picked_up() {
    let s = server().await;
    let own = s.dir.path().join("own");
    let (cert, key) = write_self_signed(&own, &["localhost"]);
    let row = certificates::create(&s.store.db, "mail", &cert, &key).await.unwrap();
    let port = s.add_port_with(Protocol::Pop3, Security::Tls, row.id, crate::util::free_port()).await;
    let listeners = s.listeners().with_handler(Protocol::Pop3, describe_tls).start().await;

    let presented = |trust: String| async move {
        let tcp = connect(port.port).await;
        let mut tls = tls_client(Path::new(&trust)).connect(localhost(), tcp).await.ok()?;
        let leaf = tls.get_ref().1.peer_certificates()?.first()?.clone().into_owned();
        read_line(&mut tls).await;
        Some(leaf)
    };
    let first = leaf_of(&cert);
    assert_eq!(presented(cert.clone()).await, Some(first.clone()));

    // Renewal: new files at the same paths.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_self_signed(&own, &["localhost"]);
    let renewed = leaf_of(&cert);
    assert_ne!(renewed, first);
    eventually(PATIENCE, "renewed certificate presented", || {
        let cert = cert.clone();
        let renewed = renewed.clone();
        async move { presented(cert).await == Some(renewed) }
    })
    .await;
    assert_eq!(listeners.bound().await.len(), 1);
    listeners.shutdown(PATIENCE).await;
}
