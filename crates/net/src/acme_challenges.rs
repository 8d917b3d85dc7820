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
