//! The certificates the TLS ports use, and how long each is still valid.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use altimail_store::Db;
use altimail_store::repo::{self, ports::Port};

use super::{EXPIRY_WARNING_DAYS, Finding};
use crate::config::Config;

/// A certificate file that at least one TLS port uses.
#[derive(Debug, Clone)]
pub(crate) struct InUse {
    /// `hm_sslcertificates` id; 0 for the self-signed certificate.
    pub(crate) id: i64,
    pub(crate) file: PathBuf,
    /// The server's certificate (the first of the chain), when the file could be read.
    pub(crate) leaf: Result<CertificateDer<'static>, String>,
}

/// Every certificate a TLS port uses, once each.
pub(crate) async fn in_use(db: &Db, config: &Config, ports: &[Port]) -> anyhow::Result<Vec<InUse>> {
    let mut ids: Vec<i64> = ports.iter().filter(|p| p.security.uses_tls()).map(|p| p.certificate_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut used = Vec::new();
    for id in ids {
        let row = if id == 0 { None } else { repo::certificates::get(db, id).await? };
        // An id whose row is gone falls back to the self-signed certificate, as the server does.
        let (id, file) = match row {
            Some(c) => (c.id, PathBuf::from(c.certificate_file)),
            None => (0, own_certificate(config)),
        };
        if used.iter().any(|u: &InUse| u.id == id) {
            continue;
        }
        let leaf =
            std::fs::read(&file).map_err(|e| e.to_string()).and_then(|pem| {
                match CertificateDer::pem_slice_iter(&pem).next() {
                    Some(Ok(cert)) => Ok(cert),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no CERTIFICATE block".to_owned()),
                }
            });
        used.push(InUse { id, file, leaf });
    }
    Ok(used)
}

/// The server's own certificate, as the listeners choose it: the one from the ACME CA when
/// there is one, else the self-signed one.
fn own_certificate(config: &Config) -> PathBuf {
    let acme = altimail_acme::certificate_path(&config.data_dir);
    if acme.is_file() {
        acme
    } else {
        config.data_dir.join("certificates").join(altimail_net::tls::SELF_SIGNED_FILES.0)
    }
}

/// One finding per certificate: expired, expiring within [`EXPIRY_WARNING_DAYS`], or fine.
pub(crate) fn expiry(used: &[InUse]) -> Vec<Finding> {
    let now = Utc::now();
    used.iter()
        .map(|u| {
            let name = u.file.display();
            let renew = if u.id == 0 && u.file.ends_with(altimail_net::tls::ACME_FILE) {
                "the server renews it from the ACME CA ([acme]); see `altimail cert status` and the log for why it has not".to_owned()
            } else if u.id == 0 {
                "delete the self-signed files and restart to get a new one, or install a real certificate (`altimail certificate add`)".to_owned()
            } else {
                format!("renew it (the same files), then `systemctl reload altimail` (or send SIGHUP): certificate id {}", u.id)
            };
            let leaf = match &u.leaf {
                Ok(leaf) => leaf,
                Err(e) => {
                    return Finding::problem(
                        "certificate",
                        format!("{name}: cannot be read: {e}"),
                        "fix the file, or point the certificate at the right file",
                    );
                }
            };
            let Some(until) = not_after(leaf.as_ref()) else {
                return Finding::problem("certificate", format!("{name}: its validity cannot be read"), "check the file");
            };
            let days = (until - now).num_days();
            let date = until.format("%Y-%m-%d");
            if until <= now {
                Finding::problem("certificate", format!("{name}: expired on {date}"), renew)
            } else if days < EXPIRY_WARNING_DAYS {
                Finding::warning("certificate", format!("{name}: expires in {days} day(s), on {date}"), renew)
            } else {
                Finding::ok("certificate", format!("{name}: valid until {date} ({days} days)"))
            }
        })
        .collect()
}

/// The end of a certificate's validity (RFC 5280 §4.1.2.5), read straight from its DER:
/// Certificate → tbsCertificate → (version, serialNumber, signature, issuer) → validity.
pub(crate) fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, certificate, _) = element(der)?;
    let (_, tbs, _) = element(certificate)?;
    let mut rest = tbs;
    // The optional [0] version.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    for _ in 0..3 {
        rest = element(rest)?.2;
    }
    let (tag, validity, _) = element(rest)?;
    if tag != 0x30 {
        return None;
    }
    let after = element(validity)?.2;
    let (tag, time, _) = element(after)?;
    let text = std::str::from_utf8(time).ok()?;
    match tag {
        // UTCTime YYMMDDHHMMSSZ: years 50..99 are 19xx (RFC 5280 §4.1.2.5.1).
        0x17 => {
            let yy: i32 = text.get(0..2)?.parse().ok()?;
            let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            time_of(year, text.get(2..)?)
        }
        // GeneralizedTime YYYYMMDDHHMMSSZ.
        0x18 => time_of(text.get(0..4)?.parse().ok()?, text.get(4..)?),
        _ => None,
    }
}

/// `MMDDHHMMSSZ` of `year`.
fn time_of(year: i32, rest: &str) -> Option<DateTime<Utc>> {
    let field = |r: std::ops::Range<usize>| -> Option<u32> { rest.get(r)?.parse().ok() };
    let date = NaiveDate::from_ymd_opt(year, field(0..2)?, field(2..4)?)?;
    Some(date.and_hms_opt(field(4..6)?, field(6..8)?, field(8..10)?)?.and_utc())
}

/// One DER element: (tag, contents, what follows). Definite lengths of up to four octets.
fn element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in data.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, data.get(header..end)?, data.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_validity_is_read_from_the_der() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["mail.example.com".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2024, 1, 2);
        params.not_after = rcgen::date_time_ymd(2049, 3, 4);
        let cert = params.self_signed(&key).unwrap();
        let until = not_after(cert.der()).unwrap();
        assert_eq!(until.format("%Y-%m-%d").to_string(), "2049-03-04");
        params.not_after = rcgen::date_time_ymd(2051, 12, 31);
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(not_after(cert.der()).unwrap().format("%Y-%m-%d").to_string(), "2051-12-31");
    }

    #[test]
    fn truncated_or_garbage_input_gives_none() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.test".to_owned()]).unwrap().self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        for n in 0..der.len() {
            let _ = not_after(&der[..n]);
        }
        assert_eq!(not_after(b"\x30\x84\xff\xff\xff\xff"), None);
        assert_eq!(not_after(b""), None);
    }
}
