//! The answers to an ACME CA's validation requests while an order is pending (RFC 8555 §8.3,
//! RFC 8737).
//!
//! The ACME client puts the answers here; the listeners serve them: the web listener answers
//! `GET /.well-known/acme-challenge/{token}` (HTTP-01) from [`AcmeChallenges::http`], and every
//! implicit-TLS port answers a handshake that offers only the `acme-tls/1` protocol with the
//! validation certificate of the name asked for (TLS-ALPN-01). Nothing else of a port changes:
//! ordinary clients never see the `acme-tls/1` configuration.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::Acceptor;
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;

use crate::connection::Stream;

/// The ALPN protocol of TLS-ALPN-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Pending HTTP-01 key authorizations and TLS-ALPN-01 certificates, shared by the ACME client
/// and the listeners. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AcmeChallenges {
    inner: Arc<RwLock<Pending>>,
}

#[derive(Debug, Default)]
struct Pending {
    /// token → key authorization.
    http: HashMap<String, String>,
    /// lower-case DNS name → a configuration presenting its validation certificate.
    tls_alpn: HashMap<String, Arc<ServerConfig>>,
}

impl AcmeChallenges {
    /// An empty set.
    pub fn new() -> AcmeChallenges {
        AcmeChallenges::default()
    }

    /// Serves `key_authorization` at `/.well-known/acme-challenge/{token}`.
    pub fn add_http(&self, token: &str, key_authorization: &str) {
        self.write().http.insert(token.to_owned(), key_authorization.to_owned());
    }

    /// The key authorization for `token`, while it is pending.
    pub fn http(&self, token: &str) -> Option<String> {
        self.read().http.get(token).cloned()
    }

    /// Presents `certificate_pem`/`key_pem` (an RFC 8737 validation certificate) to `acme-tls/1`
    /// handshakes for `name`.
    ///
    /// # Errors
    ///
    /// The PEM does not parse or rustls refuses the pair.
    pub fn add_tls_alpn(&self, name: &str, certificate_pem: &str, key_pem: &str) -> Result<(), String> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let cert = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).map_err(|e| e.to_string())?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let signing_key = provider.key_provider.load_private_key(key).map_err(|e| e.to_string())?;
        // Not `with_single_cert`: it parses the certificate with webpki, which refuses the
        // critical acmeIdentifier extension every validation certificate carries.
        let certified = Arc::new(CertifiedKey::new(vec![cert], signing_key));
        // RFC 8737 §4: TLS 1.2 or later; the validation server decides which.
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        self.write().tls_alpn.insert(name.trim_end_matches('.').to_ascii_lowercase(), Arc::new(config));
        Ok(())
    }

    /// Forgets every pending answer (the order is over).
    pub fn clear(&self) {
        let mut pending = self.write();
        pending.http.clear();
        pending.tls_alpn.clear();
    }

    /// True while some TLS-ALPN-01 answer is pending: only then do TLS ports look at the
    /// ClientHello before choosing their configuration.
    pub(crate) fn has_tls_alpn(&self) -> bool {
        !self.read().tls_alpn.is_empty()
    }

    fn tls_alpn(&self, name: &str) -> Option<Arc<ServerConfig>> {
        self.read().tls_alpn.get(&name.trim_end_matches('.').to_ascii_lowercase()).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Pending> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Pending> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What an implicit-TLS handshake turned out to be.
pub(crate) enum Accepted {
    /// An ordinary client, with the port's configuration.
    Session(Stream),
    /// A TLS-ALPN-01 validation: answered, nothing more to do.
    Validation,
}

/// The TLS handshake of an implicit-TLS port while TLS-ALPN-01 answers are pending: a
/// ClientHello that offers `acme-tls/1` for a pending name gets the validation certificate
/// and the connection ends after the handshake (RFC 8737 §3); any other gets `config`.
pub(crate) async fn accept(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    challenges: &AcmeChallenges,
    timeout: Duration,
) -> std::io::Result<Accepted> {
    let handshake = async {
        let start = LazyConfigAcceptor::new(Acceptor::default(), tcp).await?;
        let hello = start.client_hello();
        let wants_acme = hello.alpn().is_some_and(|mut offered| offered.any(|p| p == ACME_TLS_ALPN));
        let validation = match (wants_acme, hello.server_name()) {
            (true, Some(name)) => challenges.tls_alpn(name),
            _ => None,
        };
        match validation {
            Some(validation) => {
                let name = hello.server_name().unwrap_or_default().to_owned();
                let mut tls = start.into_stream(validation).await?;
                tracing::info!("answered a TLS-ALPN-01 validation for {name}");
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                Ok(Accepted::Validation)
            }
            None => Ok(Accepted::Session(Stream::Tls(Box::new(start.into_stream(config).await?)))),
        }
    };
    match tokio::time::timeout(timeout, handshake).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use tokio::net::TcpListener;

    /// Accepts whatever the server presents: the test compares the certificate itself. (The
    /// signature checks are skipped too: webpki would refuse to parse the validation
    /// certificate for its critical acmeIdentifier extension, as it does on the server side.)
    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }

        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    fn pem_pair(name: &str, acme_digest: Option<&[u8]>) -> (CertificateDer<'static>, String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        if let Some(digest) = acme_digest {
            params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
        }
        let cert = params.self_signed(&key).unwrap();
        (cert.der().clone(), cert.pem(), key.serialize_pem())
    }

    /// One handshake against `accept`: what the client saw (certificate, ALPN) and what the
    /// server made of it.
    async fn handshake(
        challenges: &AcmeChallenges,
        config: Arc<ServerConfig>,
        name: &str,
        alpn: &[&[u8]],
    ) -> (CertificateDer<'static>, Option<Vec<u8>>, bool) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let challenges = challenges.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            match accept(tcp, config, &challenges, Duration::from_secs(10)).await.unwrap() {
                Accepted::Validation => true,
                Accepted::Session(mut stream) => {
                    tokio::io::AsyncWriteExt::write_all(&mut stream, b"* OK\r\n").await.unwrap();
                    false
                }
            }
        });
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        client.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tls = connector.connect(ServerName::try_from(name.to_owned()).unwrap(), tcp).await.unwrap();
        let (_, conn) = tls.get_ref();
        let presented = conn.peer_certificates().unwrap()[0].clone().into_owned();
        let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
        (presented, alpn, server.await.unwrap())
    }

    #[tokio::test]
    async fn only_acme_tls_handshakes_for_a_pending_name_see_the_validation_certificate() {
        let (normal_der, normal_pem, normal_key) = pem_pair("mail.example.com", None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.pem"), &normal_pem).unwrap();
        std::fs::write(dir.path().join("k.pem"), &normal_key).unwrap();
        let config = crate::tls::server_config(&dir.path().join("c.pem"), &dir.path().join("k.pem"), 24).unwrap();
        let (validation_der, validation_pem, validation_key) = pem_pair("mail.example.com", Some(&[7u8; 32]));
        let challenges = AcmeChallenges::new();
        challenges.add_tls_alpn("Mail.Example.com.", &validation_pem, &validation_key).unwrap();
        assert!(challenges.has_tls_alpn());

        let acme = handshake(&challenges, config.clone(), "mail.example.com", &[ACME_TLS_ALPN]).await;
        assert_eq!(acme, (validation_der, Some(ACME_TLS_ALPN.to_vec()), true));
        // A client speaking its own protocol, or asking for another name, is an ordinary one.
        let imap = handshake(&challenges, config.clone(), "mail.example.com", &[b"imap"]).await;
        assert_eq!(imap, (normal_der.clone(), None, false));
        let other = handshake(&challenges, config.clone(), "other.example.com", &[ACME_TLS_ALPN]).await;
        assert_eq!(other, (normal_der, None, false));

        challenges.add_http("token", "token.thumbprint");
        assert_eq!(challenges.http("token").as_deref(), Some("token.thumbprint"));
        challenges.clear();
        assert!(!challenges.has_tls_alpn());
        assert_eq!(challenges.http("token"), None);
    }
}
