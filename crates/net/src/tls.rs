//! TLS server configurations from hMailServer's PEM files, and the self-signed fallback.
//!
//! hMailServer's `hm_sslcertificates` rows name a PEM certificate file (which may carry the
//! chain after the leaf, as OpenSSL's `use_certificate_chain_file` reads it) and a PEM private
//! key file (PKCS#8, PKCS#1 or SEC1). The enabled protocol versions come from the `SslVersions`
//! setting; rustls implements only TLS 1.2 and 1.3, so bits 2 (TLS 1.0) and 4 (TLS 1.1) are
//! ignored. hMailServer's default of 14 therefore means TLS 1.2 only.
//!
//! The crypto provider is always aws-lc-rs, passed explicitly, so nothing depends on a
//! process-wide default provider being installed (CRATES.md, gotcha G2).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair};
use rustls::ServerConfig;
use rustls::SupportedProtocolVersion;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::NetError;

/// `SslVersions` bit for TLS 1.2.
pub const SSL_VERSION_TLS12: i64 = 8;
/// `SslVersions` bit for TLS 1.3.
pub const SSL_VERSION_TLS13: i64 = 16;

/// File names of the self-signed certificate and key inside the directory given to
/// [`ensure_self_signed`].
pub const SELF_SIGNED_FILES: (&str, &str) = ("self-signed.crt", "self-signed.key");

/// File name, in the same directory, of the certificate obtained from an ACME CA: the chain
/// and then the private key in one PEM file, so that one rename replaces both at once. When it
/// exists, it takes the self-signed certificate's place.
pub const ACME_FILE: &str = "acme.pem";

/// The TLS versions enabled by an `SslVersions` mask: bit 8 is TLS 1.2, bit 16 TLS 1.3. A mask
/// with neither enables both (and logs a warning), so a TLS port never ends up unusable.
pub fn protocol_versions(versions_mask: i64) -> Vec<&'static SupportedProtocolVersion> {
    let mut versions = Vec::with_capacity(2);
    if versions_mask & SSL_VERSION_TLS13 != 0 {
        versions.push(&rustls::version::TLS13);
    }
    if versions_mask & SSL_VERSION_TLS12 != 0 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        tracing::warn!("SslVersions = {versions_mask} enables neither TLS 1.2 (8) nor TLS 1.3 (16); enabling both");
        versions = vec![&rustls::version::TLS13, &rustls::version::TLS12];
    }
    versions
}

/// Builds a server configuration from a PEM certificate (chain) file and a PEM private key
/// file, with the versions of `versions_mask` (see [`protocol_versions`]).
///
/// # Errors
///
/// [`NetError::File`] when a file cannot be read, [`NetError::Pem`] when it holds no
/// certificate or key, [`NetError::Tls`] when rustls refuses them (for example, when the key
/// does not belong to the certificate). Each names the file.
pub fn server_config(cert_pem: &Path, key_pem: &Path, versions_mask: i64) -> Result<Arc<ServerConfig>, NetError> {
    let certs = read_certificates(cert_pem)?;
    let key = read_private_key(key_pem)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls_error = |source| NetError::Tls { cert: cert_pem.to_path_buf(), source };
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&protocol_versions(versions_mask))
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_error)?;
    Ok(Arc::new(config))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let pem = fs::read(path).map_err(|e| NetError::file(path, e))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| NetError::Pem { path: path.to_path_buf(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(NetError::Pem { path: path.to_path_buf(), reason: "no CERTIFICATE block".into() });
    }
    Ok(certs)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, NetError> {
    let pem = fs::read(path).map_err(|e| NetError::file(path, e))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| NetError::Pem {
        path: path.to_path_buf(),
        reason: match e {
            rustls_pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY block".into(),
            other => other.to_string(),
        },
    })
}

/// Makes sure `{dir}/self-signed.crt` and `{dir}/self-signed.key` exist and returns their
/// paths (certificate, key). They are generated once, with the subject alternative names
/// `host_name` (when it is a usable DNS name or IP address), `localhost`, `127.0.0.1` and `::1`,
/// and reused afterwards, so clients that pinned the certificate keep working across restarts.
///
/// Both files are written to a temporary name and renamed into place; the key file has mode
/// 0600. Delete both files to get a new certificate (for example after changing the host name).
///
/// # Errors
///
/// [`NetError::File`] naming the file or directory that could not be written;
/// [`NetError::Generate`] if rcgen fails.
pub fn ensure_self_signed(dir: &Path, host_name: &str) -> Result<(PathBuf, PathBuf), NetError> {
    // Two listeners may ask at once; without this each would write its own pair and the files
    // could end up from different generations.
    static GENERATING: Mutex<()> = Mutex::new(());
    let _generating = GENERATING.lock().unwrap_or_else(PoisonError::into_inner);

    let cert_path = dir.join(SELF_SIGNED_FILES.0);
    let key_path = dir.join(SELF_SIGNED_FILES.1);
    if cert_path.is_file() && key_path.is_file() {
        return Ok((cert_path, key_path));
    }
    fs::create_dir_all(dir).map_err(|e| NetError::file(dir, e))?;

    let mut names = Vec::with_capacity(4);
    let host = host_name.trim().trim_end_matches('.').to_ascii_lowercase();
    if is_usable_name(&host) {
        names.push(host.clone());
    }
    for fixed in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n == fixed) {
            names.push(fixed.to_owned());
        }
    }
    let mut params = CertificateParams::new(names)?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, if is_usable_name(&host) { host.as_str() } else { "localhost" });
    subject.push(DnType::OrganizationName, "Altimail Server (self-signed)");
    params.distinguished_name = subject;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let ((y, m, d), years) = validity_start();
    params.not_before = rcgen::date_time_ymd(y, m, d);
    params.not_after = rcgen::date_time_ymd(y + years, m, d);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;

    // The key goes first: a certificate on disk then always has its key next to it.
    write_atomically(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_atomically(&cert_path, cert.pem().as_bytes(), 0o644)?;
    tracing::info!("generated self-signed certificate {}", cert_path.display());
    Ok((cert_path, key_path))
}

/// A name rcgen accepts as a DNS name or IP address SAN: non-empty ASCII without spaces.
fn is_usable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

/// Valid from yesterday (UTC, for clock skew) for ten years; the day is capped at 28 so that
/// the same date exists ten years later.
fn validity_start() -> ((i32, u8, u8), i32) {
    use chrono::Datelike;
    let from = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let month = u8::try_from(from.month()).unwrap_or(1);
    let day = u8::try_from(from.day().min(28)).unwrap_or(28);
    ((from.year(), month, day), 10)
}

/// Writes `contents` to a temporary file beside `path` with `mode` (Unix), flushes it to disk
/// and renames it over `path`: readers see the old file or the new one, never half of one.
///
/// # Errors
///
/// [`NetError::File`] naming `path`; the temporary file is removed.
pub fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), NetError> {
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        NetError::file(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client_config(roots_from: &Path, versions: &[&'static SupportedProtocolVersion]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(roots_from).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// Runs a handshake over an in-memory pipe; returns the negotiated version or the error.
    async fn handshake(
        server: Arc<ServerConfig>,
        client: Arc<rustls::ClientConfig>,
        name: &str,
    ) -> Result<rustls::ProtocolVersion, String> {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let server = async move {
            let mut tls = tokio_rustls::TlsAcceptor::from(server).accept(a).await.map_err(|e| e.to_string())?;
            tls.write_all(b"hi").await.map_err(|e| e.to_string())?;
            tls.shutdown().await.map_err(|e| e.to_string())
        };
        let client = async move {
            let mut tls = tokio_rustls::TlsConnector::from(client).connect(name, b).await.map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.map_err(|e| e.to_string())?;
            assert_eq!(got, b"hi");
            tls.get_ref().1.protocol_version().ok_or_else(|| "no version".to_string())
        };
        let (s, c) = tokio::join!(server, client);
        c.and_then(|v| s.map(|()| v))
    }

    #[test]
    fn self_signed_is_created_once_with_private_key_mode() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certificates");
        let (cert, key) = ensure_self_signed(&certs, "mail.example.com").unwrap();
        assert_eq!(cert, certs.join("self-signed.crt"));
        assert_eq!(key, certs.join("self-signed.key"));
        let first = (fs::read(&cert).unwrap(), fs::read(&key).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = ensure_self_signed(&certs, "other.example.com").unwrap();
        assert_eq!(again, (cert.clone(), key.clone()));
        assert_eq!((fs::read(&cert).unwrap(), fs::read(&key).unwrap()), first, "reused, not regenerated");
        let leftovers: Vec<_> = fs::read_dir(&certs).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
    }

    #[tokio::test]
    async fn versions_follow_the_ssl_versions_mask() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ensure_self_signed(dir.path(), "mail.example.com").unwrap();
        let both = [&rustls::version::TLS13, &rustls::version::TLS12];
        let cases = [
            (14, rustls::ProtocolVersion::TLSv1_2),
            (8, rustls::ProtocolVersion::TLSv1_2),
            (16, rustls::ProtocolVersion::TLSv1_3),
            (24, rustls::ProtocolVersion::TLSv1_3),
            (0, rustls::ProtocolVersion::TLSv1_3),
            (6, rustls::ProtocolVersion::TLSv1_3),
        ];
        for (mask, expected) in cases {
            let server = server_config(&cert, &key, mask).unwrap();
            for name in ["mail.example.com", "localhost", "127.0.0.1", "::1"] {
                let got = handshake(server.clone(), client_config(&cert, &both), name).await;
                assert_eq!(got, Ok(expected), "mask {mask}, name {name}");
            }
        }
        let tls12_only = server_config(&cert, &key, 8).unwrap();
        let tls13_client = client_config(&cert, &[&rustls::version::TLS13]);
        assert!(handshake(tls12_only, tls13_client, "localhost").await.is_err());
        let wrong_name = handshake(server_config(&cert, &key, 24).unwrap(), client_config(&cert, &both), "example.org");
        assert!(wrong_name.await.is_err(), "the certificate is only valid for its SANs");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ensure_self_signed(dir.path(), "").unwrap();
        let missing = dir.path().join("missing.pem");
        let err = server_config(&missing, &key, 24).unwrap_err();
        assert!(matches!(err, NetError::File { ref path, .. } if *path == missing), "{err}");
        assert!(err.to_string().contains("missing.pem"));

        let empty = dir.path().join("empty.pem");
        fs::write(&empty, "not pem\n").unwrap();
        let err = server_config(&empty, &key, 24).unwrap_err();
        assert!(matches!(err, NetError::Pem { ref path, .. } if *path == empty), "{err}");
        let err = server_config(&cert, &empty, 24).unwrap_err();
        assert!(err.to_string().contains("empty.pem") && err.to_string().contains("PRIVATE KEY"), "{err}");

        let other = tempfile::tempdir().unwrap();
        let (_, other_key) = ensure_self_signed(other.path(), "").unwrap();
        let err = server_config(&cert, &other_key, 24).unwrap_err();
        assert!(matches!(err, NetError::Tls { .. }), "a key of another certificate is refused: {err}");
        assert!(err.to_string().contains("self-signed.crt"), "{err}");
    }

    #[test]
    fn host_names_are_filtered() {
        assert!(is_usable_name("mail.example.com"));
        assert!(is_usable_name("192.0.2.1"));
        assert!(!is_usable_name(""));
        assert!(!is_usable_name("my server"));
        assert!(!is_usable_name("mäil.example"));
    }
}
