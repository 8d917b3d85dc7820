//! DKIM signing per sender domain, as hMailServer configures it: `domainantispamoptions` bit 2
//! enables signing, bits 4 and 8 choose *simple* header and body canonicalisation (else
//! relaxed), `domaindkimselector` and `domaindkimprivatekeyfile` (a PEM key: RSA in PKCS#1 or
//! PKCS#8, or Ed25519 in PKCS#8). Signatures never carry `l=`. Bit 16 (SHA-1) is signed with
//! SHA-256: RFC 8301 forbids rsa-sha1 signing, and verifiers reject it.

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use altimail_store::repo::domains::Domain;

/// `domainantispamoptions` bits.
pub mod bits {
    pub const SIGN: i64 = 2;
    pub const SIMPLE_HEADER: i64 = 4;
    pub const SIMPLE_BODY: i64 = 8;
    pub const SHA1: i64 = 16;
}

/// Headers signed when present (RFC 6376 §5.4.1's recommendation, as hMailServer signs them).
const SIGNED: &[&str] = &[
    "From",
    "Sender",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "To",
    "Cc",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-ID",
    "Content-Description",
    "Resent-Date",
    "Resent-From",
    "Resent-Sender",
    "Resent-To",
    "Resent-Cc",
    "Resent-Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
    "List-Help",
    "List-Unsubscribe",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "X-CSA-Complaints",
];

/// A domain's signing configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimConfig {
    pub domain: String,
    pub selector: String,
    pub key_file: String,
    pub simple_header: bool,
    pub simple_body: bool,
}

impl DkimConfig {
    /// The configuration when `domain` signs, else `None`.
    pub fn for_domain(d: &Domain) -> Option<DkimConfig> {
        let o = d.antispam_options;
        if o & bits::SIGN == 0 || d.dkim_selector.trim().is_empty() || d.dkim_private_key_file.trim().is_empty() {
            return None;
        }
        Some(DkimConfig {
            domain: d.name.to_ascii_lowercase(),
            selector: d.dkim_selector.trim().to_owned(),
            key_file: d.dkim_private_key_file.trim().to_owned(),
            simple_header: o & bits::SIMPLE_HEADER != 0,
            simple_body: o & bits::SIMPLE_BODY != 0,
        })
    }
}

/// Why a message was not signed.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("cannot read the DKIM key {0}: {1}")]
    Key(String, String),
    #[error("DKIM signing failed: {0}")]
    Sign(String),
}

/// The names of the signable headers present in `message`, each once.
fn present_headers(message: &[u8]) -> Vec<String> {
    let end = message.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2).unwrap_or(message.len());
    let head = String::from_utf8_lossy(&message[..end]);
    let mut out: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else { continue };
        let name = name.trim();
        if let Some(known) = SIGNED.iter().find(|h| h.eq_ignore_ascii_case(name))
            && !out.iter().any(|o| o.eq_ignore_ascii_case(known))
        {
            out.push((*known).to_owned());
        }
    }
    out
}

fn sign_with<K: SigningKey>(key: K, cfg: &DkimConfig, message: &[u8]) -> Result<String, DkimError> {
    let canon = |simple| if simple { Canonicalization::Simple } else { Canonicalization::Relaxed };
    let mut headers = present_headers(message);
    if !headers.iter().any(|h| h == "From") {
        headers.insert(0, "From".into());
    }
    let signature = DkimSigner::from_key(key)
        .domain(cfg.domain.clone())
        .selector(cfg.selector.clone())
        .headers(headers)
        .header_canonicalization(canon(cfg.simple_header))
        .body_canonicalization(canon(cfg.simple_body))
        .body_length(false)
        .sign(message)
        .map_err(|e| DkimError::Sign(e.to_string()))?;
    Ok(signature.to_header())
}

/// The `DKIM-Signature:` header (ending in CRLF) for `message` (CRLF line ends) with the PEM key.
pub fn sign(cfg: &DkimConfig, key_pem: &[u8], message: &[u8]) -> Result<String, DkimError> {
    let bad = |e: String| DkimError::Key(cfg.key_file.clone(), e);
    let der = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad(e.to_string()))?;
    match der {
        PrivateKeyDer::Pkcs1(_) => {
            sign_with(RsaKey::<Sha256>::from_key_der(der).map_err(|e| bad(e.to_string()))?, cfg, message)
        }
        PrivateKeyDer::Pkcs8(p8) => match RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(p8.clone_key())) {
            Ok(rsa) => sign_with(rsa, cfg, message),
            Err(_) => {
                let ed = Ed25519Key::from_pkcs8_maybe_unchecked_der(p8.secret_pkcs8_der())
                    .map_err(|e| bad(e.to_string()))?;
                sign_with(ed, cfg, message)
            }
        },
        _ => Err(bad("not an RSA or Ed25519 private key".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_bits_and_header_selection() {
        let mut d = Domain::new("Us.Test");
        assert_eq!(DkimConfig::for_domain(&d), None);
        d.antispam_options = bits::SIGN | bits::SIMPLE_BODY;
        d.dkim_selector = "s1".into();
        d.dkim_private_key_file = "/k.pem".into();
        let c = DkimConfig::for_domain(&d).unwrap();
        assert_eq!((c.domain.as_str(), c.simple_header, c.simple_body), ("us.test", false, true));
        let h = present_headers(
            b"from: a\r\nX-Other: 1\r\nSubject: s\r\n folded\r\nTo: b\r\nFrom: again\r\n\r\nTo: body\r\n",
        );
        assert_eq!(h, ["From", "Subject", "To"]);
    }

    #[test]
    fn ed25519_signature_has_no_length_tag() {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &pkcs8)
        );
        let cfg = DkimConfig {
            domain: "us.test".into(),
            selector: "ed".into(),
            key_file: "mem".into(),
            simple_header: false,
            simple_body: false,
        };
        let h = sign(&cfg, pem.as_bytes(), b"From: a@us.test\r\nSubject: x\r\n\r\nbody\r\n").unwrap();
        assert!(h.starts_with("DKIM-Signature:") && h.contains("a=ed25519-sha256") && h.contains("d=us.test"), "{h}");
        assert!(!h.contains(" l=") && !h.contains(";l="), "{h}");
        assert!(sign(&cfg, b"garbage", b"From: a\r\n\r\n").is_err());
    }
}
