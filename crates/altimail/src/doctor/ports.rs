//! Each configured port accepts a connection; on a TLS port (implicit, or after STARTTLS/STLS)
//! the handshake presents the certificate the port is configured with.
//!
//! The checks run on a blocking thread with plain sockets and timeouts: they are a handful of
//! sequential connections, and a rustls client over `std::net` is the shortest way to see the
//! certificate the server presents.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use altimail_core::codes::{Protocol, Security};
use altimail_store::repo::ports::Port;

use super::certificates::InUse;
use super::{Finding, NETWORK_TIMEOUT};

pub(crate) async fn check(ports: &[Port], used: &[InUse]) -> Vec<Finding> {
    let ports = ports.to_vec();
    let used = used.to_vec();
    tokio::task::spawn_blocking(move || ports.iter().map(|p| check_port(p, &used)).collect())
        .await
        .unwrap_or_else(|e| vec![Finding::problem("port", format!("the port checks stopped: {e}"), "run again")])
}

fn check_port(port: &Port, used: &[InUse]) -> Finding {
    let what = format!(
        "{} {} on {} ({})",
        port.protocol.name().to_ascii_uppercase(),
        port.port,
        port.address,
        port.security.name()
    );
    let target = SocketAddr::new(reachable_address(port.address), port.port);
    let tcp = match TcpStream::connect_timeout(&target, NETWORK_TIMEOUT) {
        Ok(tcp) => tcp,
        // The default `::` listeners of a machine without IPv6: the server leaves them out too.
        Err(e) if port.address == IpAddr::V6(Ipv6Addr::UNSPECIFIED) && no_ipv6(&e) => {
            return Finding::ok("port", format!("{what}: not listened on, this machine has no IPv6 ({e})"));
        }
        Err(e) => {
            return Finding::problem(
                "port",
                format!("{what}: cannot connect to {target}: {e}"),
                "start the server (`systemctl start altimail`); if it runs, its log says why the port is not listening",
            );
        }
    };
    let _ = tcp.set_read_timeout(Some(NETWORK_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(NETWORK_TIMEOUT));
    if !port.security.uses_tls() {
        return Finding::ok("port", format!("{what}: accepts connections"));
    }
    let mut tcp = tcp;
    if port.security != Security::Tls
        && let Err(e) = start_tls(&mut tcp, port.protocol)
    {
        return Finding::problem(
            "port",
            format!("{what}: STARTTLS failed: {e}"),
            "check the server's log; the port's certificate may not load",
        );
    }
    let presented = match handshake(tcp) {
        Ok(cert) => cert,
        Err(e) => {
            return Finding::problem(
                "port",
                format!("{what}: TLS handshake failed: {e}"),
                "check the server's log for the certificate of this port",
            );
        }
    };
    let wanted = used.iter().find(|u| u.id == port.certificate_id).or_else(|| used.iter().find(|u| u.id == 0));
    match wanted.map(|u| (&u.file, &u.leaf)) {
        Some((_, Ok(leaf))) if *leaf == presented => {
            Finding::ok("port", format!("{what}: accepts connections; TLS presents the configured certificate"))
        }
        Some((file, Ok(_))) => Finding::problem(
            "port",
            format!("{what}: TLS presents another certificate than {}", file.display()),
            "a replaced certificate is picked up within a second, or at once with `systemctl reload altimail`; \
             check that the file holds the server's certificate first",
        ),
        _ => Finding::ok("port", format!("{what}: accepts connections; TLS handshake works")),
    }
}

/// EAFNOSUPPORT, EADDRNOTAVAIL, ENETUNREACH (Linux numbers): no IPv6 here.
fn no_ipv6(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(97 | 99 | 101))
}

/// Where to reach a listener: the wildcard addresses are reached on loopback.
fn reachable_address(bound: IpAddr) -> IpAddr {
    match bound {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// The protocol's upgrade: SMTP `EHLO` + `STARTTLS` (RFC 3207), IMAP `STARTTLS` (RFC 9051),
/// POP3 `STLS` (RFC 2595).
fn start_tls(tcp: &mut TcpStream, protocol: Protocol) -> Result<(), String> {
    match protocol {
        Protocol::Smtp => {
            expect(tcp, "220 ", "220-")?;
            send(tcp, "EHLO doctor.localhost\r\n")?;
            expect(tcp, "250 ", "250-")?;
            send(tcp, "STARTTLS\r\n")?;
            expect(tcp, "220 ", "")
        }
        Protocol::Imap => {
            expect(tcp, "* OK", "")?;
            send(tcp, "d1 STARTTLS\r\n")?;
            expect(tcp, "d1 OK", "* ")
        }
        Protocol::Pop3 => {
            expect(tcp, "+OK", "")?;
            send(tcp, "STLS\r\n")?;
            expect(tcp, "+OK", "")
        }
        Protocol::Http => Err("HTTP has no STARTTLS".to_owned()),
    }
}

fn send(tcp: &mut TcpStream, line: &str) -> Result<(), String> {
    tcp.write_all(line.as_bytes()).map_err(|e| e.to_string())
}

/// Reads lines until one starts with `done`; lines starting with `more` (when not empty) are
/// skipped, anything else is an error. Reads a byte at a time, so nothing of the TLS handshake
/// that follows is consumed.
fn expect(tcp: &mut TcpStream, done: &str, more: &str) -> Result<(), String> {
    for _ in 0..100 {
        let line = read_line(tcp)?;
        if line.starts_with(done) {
            return Ok(());
        }
        if more.is_empty() || !line.starts_with(more) {
            return Err(format!("the server answered {:?}", line.trim_end()));
        }
    }
    Err("too many lines".to_owned())
}

fn read_line(tcp: &mut TcpStream) -> Result<String, String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 4096 {
        match tcp.read(&mut byte) {
            Ok(0) => return Err("the server closed the connection".to_owned()),
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Ok(String::from_utf8_lossy(&line).into_owned());
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("line too long".to_owned())
}

/// A TLS handshake that accepts any certificate (this is a check of what the server presents,
/// not a connection that trusts it); returns the server's certificate.
fn handshake(tcp: TcpStream) -> Result<CertificateDer<'static>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tcp = tcp;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.clone().into_owned())
        .ok_or_else(|| "no certificate presented".to_owned())
}

/// Accepts every certificate, still checking the handshake's signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
