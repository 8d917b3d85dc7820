//! Our files under the data folder:
//!
//! * `{data}/certificates/acme.pem`: the certificate chain, then its private key (mode 0600),
//!   replaced by one rename;
//! * `{data}/acme/account.json`: the ACME account (its key; mode 0600) and its directory;
//! * `{data}/acme/status.json`: how the last attempt went, for `altimail cert status`;
//! * `{data}/acme/renew-request`: left by `altimail cert renew` for the running server.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

use altimail_net::tls::{ACME_FILE, write_atomically};

use crate::error::AcmeError;
use crate::schedule::renew_at;

/// `{data}/certificates/acme.pem`, where the TLS ports find the certificate.
pub fn certificate_path(data_dir: &Path) -> PathBuf {
    data_dir.join("certificates").join(ACME_FILE)
}

fn acme_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("acme")
}

fn files_error(path: &Path, e: impl std::fmt::Display) -> AcmeError {
    AcmeError::Files(format!("{}: {e}", path.display()))
}

/// What a certificate file holds, as far as renewal and `cert status` care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// The DNS names of its subject alternative names, sorted.
    pub names: Vec<String>,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
    /// When it is due for renewal (a third of the lifetime left).
    pub renew_at: DateTime<Utc>,
}

impl CertificateInfo {
    /// Reads the first certificate of a PEM file; `None` when there is no file.
    ///
    /// # Errors
    ///
    /// The file cannot be read or holds no certificate that parses.
    pub fn read(path: &Path) -> Result<Option<CertificateInfo>, AcmeError> {
        let pem = match std::fs::read(path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(files_error(path, e)),
        };
        let der = CertificateDer::pem_slice_iter(&pem)
            .next()
            .ok_or_else(|| files_error(path, "no certificate"))?
            .map_err(|e| files_error(path, e))?;
        CertificateInfo::parse(&der).map(Some).map_err(|e| files_error(path, e))
    }

    fn parse(der: &[u8]) -> Result<CertificateInfo, String> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
        let time = |t: x509_parser::time::ASN1Time| {
            DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| "a validity date out of range".to_owned())
        };
        let not_before = time(cert.validity().not_before)?;
        let not_after = time(cert.validity().not_after)?;
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                if let GeneralName::DNSName(dns) = name {
                    names.push(dns.to_ascii_lowercase());
                }
            }
        }
        names.sort();
        Ok(CertificateInfo {
            names,
            issuer: cert.issuer().to_string(),
            not_before,
            not_after,
            renew_at: renew_at(not_before, not_after),
        })
    }

    /// Covers every name of `wanted`.
    pub fn covers(&self, wanted: &[String]) -> bool {
        wanted.iter().all(|w| self.names.iter().any(|n| n == w))
    }
}

/// Writes the chain and the key into one file, replaced atomically.
pub(crate) fn write_certificate(data_dir: &Path, chain_pem: &str, key_pem: &str) -> Result<PathBuf, AcmeError> {
    let path = certificate_path(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| files_error(dir, e))?;
    }
    let mut contents = chain_pem.trim_end().to_owned();
    contents.push('\n');
    contents.push_str(key_pem.trim_end());
    contents.push('\n');
    write_atomically(&path, contents.as_bytes(), 0o600).map_err(|e| AcmeError::Files(e.to_string()))?;
    Ok(path)
}

/// The stored account: its credentials and the directory they belong to.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAccount {
    pub(crate) directory: String,
    pub(crate) credentials: instant_acme::AccountCredentials,
}

pub(crate) fn account_path(data_dir: &Path) -> PathBuf {
    acme_dir(data_dir).join("account.json")
}

/// The stored account, if there is one (a file that does not parse is reported and ignored:
/// a new account is created).
pub(crate) fn read_account(data_dir: &Path) -> Option<StoredAccount> {
    let path = account_path(data_dir);
    let text = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&text) {
        Ok(account) => Some(account),
        Err(e) => {
            tracing::warn!("{}: {e}; a new ACME account will be created", path.display());
            None
        }
    }
}

pub(crate) fn write_account(data_dir: &Path, account: &StoredAccount) -> Result<(), AcmeError> {
    let path = account_path(data_dir);
    let dir = acme_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| files_error(&dir, e))?;
    let json = serde_json::to_vec_pretty(account).map_err(|e| files_error(&path, e))?;
    write_atomically(&path, &json, 0o600).map_err(|e| AcmeError::Files(e.to_string()))
}

/// How the last attempt went, for `altimail cert status` and `altimail cert renew`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// When the last attempt ended.
    pub last_attempt: DateTime<Utc>,
    /// Whether it produced a certificate.
    pub succeeded: bool,
    /// What happened, in words.
    pub message: String,
    /// When the next check or attempt is due.
    pub next_attempt: DateTime<Utc>,
}

fn status_path(data_dir: &Path) -> PathBuf {
    acme_dir(data_dir).join("status.json")
}

/// The last attempt's status, if any attempt was made.
pub fn read_status(data_dir: &Path) -> Option<Status> {
    serde_json::from_slice(&std::fs::read(status_path(data_dir)).ok()?).ok()
}

pub(crate) fn write_status(data_dir: &Path, status: &Status) {
    let path = status_path(data_dir);
    let written = std::fs::create_dir_all(acme_dir(data_dir))
        .map_err(|e| e.to_string())
        .and_then(|()| serde_json::to_vec_pretty(status).map_err(|e| e.to_string()))
        .and_then(|json| write_atomically(&path, &json, 0o644).map_err(|e| e.to_string()));
    if let Err(e) = written {
        tracing::warn!("cannot record the ACME status in {}: {e}", path.display());
    }
}

fn request_path(data_dir: &Path) -> PathBuf {
    acme_dir(data_dir).join("renew-request")
}

/// Asks the running server to order a new certificate now (`altimail cert renew`); returns the
/// time of the request, which the server's next [`Status`] will be later than.
///
/// # Errors
///
/// The request file cannot be written.
pub fn request_renewal(data_dir: &Path) -> Result<DateTime<Utc>, AcmeError> {
    let dir = acme_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| files_error(&dir, e))?;
    let now = Utc::now();
    let path = request_path(data_dir);
    std::fs::write(&path, now.to_rfc3339()).map_err(|e| files_error(&path, e))?;
    Ok(now)
}

/// True (once) when a renewal was requested.
pub(crate) fn take_request(data_dir: &Path) -> bool {
    std::fs::remove_file(request_path(data_dir)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(CertificateInfo::read(&certificate_path(dir.path())).unwrap(), None);
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["mail.example.com".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2026, 4, 1);
        let cert = params.self_signed(&key).unwrap();
        let path = write_certificate(dir.path(), &cert.pem(), &key.serialize_pem()).unwrap();
        let info = CertificateInfo::read(&path).unwrap().unwrap();
        assert_eq!(info.names, ["mail.example.com"]);
        assert!(info.covers(&["mail.example.com".to_owned()]));
        assert!(!info.covers(&["autoconfig.example.com".to_owned()]));
        assert_eq!(info.renew_at.to_rfc3339(), "2026-03-02T00:00:00+00:00");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // One file that the TLS ports load as chain and key.
        altimail_net::tls::server_config(&path, &path, 24).unwrap();
    }

    #[test]
    fn renewal_requests_are_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!take_request(dir.path()));
        request_renewal(dir.path()).unwrap();
        assert!(take_request(dir.path()));
        assert!(!take_request(dir.path()));
    }
}
