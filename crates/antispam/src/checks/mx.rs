//! The sender MX test (hMailServer's `SpamTestMXRecords`, setting `usemxchecks`): the domain of
//! the envelope sender must have MX records. As in hMailServer an A record does not suffice;
//! when the host part has no MX, its registered domain (`cgi.example.com` → `example.com`) is
//! asked too. The null sender and address-literal domains are not tested; a failed lookup
//! passes the sender.

use altimail_dns::{Dns, DnsError};

use crate::Finding;

/// hMailServer's reason text.
pub const REASON: &str = "Sender domain does not have any MX records.";

enum Mx {
    Some,
    None,
    Failed,
}

async fn lookup(dns: &dyn Dns, domain: &str) -> Mx {
    match dns.mx(domain).await {
        Ok(v) if !v.is_empty() => Mx::Some,
        Ok(_) | Err(DnsError::NotFound) => Mx::None,
        Err(e) => {
            tracing::warn!("MX check: lookup of {domain:?} failed ({e}); passed");
            Mx::Failed
        }
    }
}

/// Whether the domain of `sender` has MX records (see the module documentation).
pub async fn has_mx(dns: &dyn Dns, sender: &str) -> bool {
    let Some((_, host)) = sender.rsplit_once('@') else { return true };
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() || host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    match lookup(dns, host).await {
        Mx::Some | Mx::Failed => return true,
        Mx::None => {}
    }
    match super::domain::registered(host) {
        Some(d) if !d.eq_ignore_ascii_case(host) => !matches!(lookup(dns, &d).await, Mx::None),
        _ => false,
    }
}

/// The finding when the sender's domain has no MX. `sender` empty (`MAIL FROM:<>`) passes.
pub async fn check(dns: &dyn Dns, sender: &str, score: i64) -> Option<Finding> {
    if sender.is_empty() || has_mx(dns, sender).await {
        None
    } else {
        Some(Finding::new("MX", super::score(score), REASON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_dns::StaticDns;

    #[tokio::test]
    async fn mx_required() {
        let mut z = StaticDns::default();
        z.mx.insert("example.com".into(), vec![(10, "mx.example.com".into())]);
        z.ip.insert("a-only.example".into(), vec!["192.0.2.1".parse().unwrap()]);
        assert!(check(&z, "a@example.com", 2).await.is_none());
        assert!(check(&z, "a@cgi.example.com", 2).await.is_none(), "registered domain's MX");
        assert_eq!(check(&z, "a@a-only.example", 2).await, Some(Finding::new("MX", 2, REASON)));
        assert!(check(&z, "a@nothing.example", 2).await.is_some());
        assert!(check(&z, "", 2).await.is_none());
        assert!(check(&z, "a@[192.0.2.1]", 2).await.is_none());
        assert!(check(&altimail_dns::Unavailable("down".into()), "a@nothing.example", 2).await.is_none());
    }
}
