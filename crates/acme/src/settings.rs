//! The `[acme]` section of `altimail.toml`, checked once at load.

use std::path::PathBuf;

/// Let's Encrypt's production directory, the default.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How the CA checks that we control a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// `http-01`: the CA fetches `http://{name}/.well-known/acme-challenge/{token}` on port
    /// 80, served by the `http` listener.
    Http01,
    /// `tls-alpn-01`: the CA opens TLS to `{name}:443` offering `acme-tls/1`, answered by the
    /// implicit-TLS listener there.
    TlsAlpn01,
}

impl ChallengeKind {
    /// Parses the configuration spelling (`http-01`, `tls-alpn-01`).
    pub fn parse(text: &str) -> Option<ChallengeKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "http-01" => Some(ChallengeKind::Http01),
            "tls-alpn-01" => Some(ChallengeKind::TlsAlpn01),
            _ => None,
        }
    }

    /// The name RFC 8555 and RFC 8737 give it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Http01 => "http-01",
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
        }
    }
}

/// What the ACME client works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The CA's directory URL (HTTPS).
    pub directory: String,
    /// Contact URLs for the account (`mailto:admin@example.com`); may be empty.
    pub contact: Vec<String>,
    /// The names the certificate is for; empty means the server's host name (the `hostname`
    /// setting), filled in by the caller.
    pub names: Vec<String>,
    /// The validation method.
    pub challenge: ChallengeKind,
    /// A PEM file with the one root certificate the directory's HTTPS is checked against,
    /// instead of the system's roots (a private or test CA).
    pub directory_ca: Option<PathBuf>,
}

impl AcmeSettings {
    /// Checks the raw values. `names` are lower-cased and stripped of a final dot.
    ///
    /// # Errors
    ///
    /// A message naming the key: a directory that is not `https://`, a contact that is not a
    /// `mailto:` URL, a name that is not a DNS name, an unknown challenge type.
    pub fn new(
        directory: Option<String>,
        contact: Vec<String>,
        names: Vec<String>,
        challenge: Option<String>,
        directory_ca: Option<PathBuf>,
    ) -> Result<AcmeSettings, String> {
        let directory = directory.unwrap_or_else(|| LETS_ENCRYPT.to_owned());
        if !directory.starts_with("https://") {
            return Err(format!("[acme] directory = {directory:?}: an ACME directory is an https:// URL"));
        }
        let contact = contact
            .into_iter()
            .map(|c| {
                let c = c.trim().to_owned();
                if c.contains('@') && !c.contains(':') {
                    Ok(format!("mailto:{c}"))
                } else if c.starts_with("mailto:") && c.contains('@') {
                    Ok(c)
                } else {
                    Err(format!("[acme] contact: {c:?} is not an e-mail address"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut checked = Vec::with_capacity(names.len());
        for name in names {
            let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
            if !is_dns_name(&name) {
                return Err(format!("[acme] names: {name:?} is not a DNS name"));
            }
            if !checked.contains(&name) {
                checked.push(name);
            }
        }
        let challenge = match challenge {
            None => ChallengeKind::Http01,
            Some(c) => ChallengeKind::parse(&c)
                .ok_or_else(|| format!("[acme] challenge = {c:?}: expected \"http-01\" or \"tls-alpn-01\""))?,
        };
        Ok(AcmeSettings { directory, contact, names: checked, challenge, directory_ca })
    }
}

/// A host name a public CA can validate: dot-separated labels of letters, digits and hyphens,
/// with at least one dot. No wildcards: neither challenge type here can validate them.
pub(crate) fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let s = AcmeSettings::new(None, vec!["admin@example.com".into()], vec!["Mail.Example.COM.".into()], None, None)
            .unwrap();
        assert_eq!(s.directory, LETS_ENCRYPT);
        assert_eq!(s.contact, ["mailto:admin@example.com"]);
        assert_eq!(s.names, ["mail.example.com"]);
        assert_eq!(s.challenge, ChallengeKind::Http01);
        assert!(AcmeSettings::new(Some("http://ca/dir".into()), vec![], vec![], None, None).is_err());
        assert!(AcmeSettings::new(None, vec![], vec!["*.example.com".into()], None, None).is_err());
        assert!(AcmeSettings::new(None, vec![], vec!["localhost".into()], None, None).is_err());
        assert!(AcmeSettings::new(None, vec!["https://x".into()], vec![], None, None).is_err());
        assert!(AcmeSettings::new(None, vec![], vec![], Some("dns-01".into()), None).is_err());
        let alpn = AcmeSettings::new(None, vec![], vec![], Some("TLS-ALPN-01".into()), None).unwrap();
        assert_eq!(alpn.challenge, ChallengeKind::TlsAlpn01);
    }
}
