//! The HELO host test (hMailServer's `SpamTestHeloHost`, setting `ascheckhostinhelo`): the name
//! given in HELO/EHLO must resolve to the client's address. An address literal (`[192.0.2.1]`,
//! `[IPv6:2001:db8::1]`) is compared directly. A failed lookup passes the client.
//!
//! hMailServer looks up A records only; here an IPv6 client's name is looked up as AAAA, so
//! IPv6 clients can pass.

use std::net::IpAddr;

use altimail_core::ip;
use altimail_dns::{Dns, DnsError};

use crate::Finding;

/// hMailServer's reason text.
pub const REASON: &str = "The host name specified in HELO does not match IP address.";

/// The address inside an address literal, or None when `helo` is not one.
fn literal(helo: &str) -> Option<Option<IpAddr>> {
    let inner = helo.strip_prefix('[')?.strip_suffix(']').unwrap_or_else(|| helo.trim_start_matches('['));
    let inner = inner.strip_prefix("IPv6:").or_else(|| inner.strip_prefix("ipv6:")).unwrap_or(inner);
    Some(inner.parse::<IpAddr>().ok().map(ip::normalize))
}

/// Whether `helo` names `client` (see the module documentation).
pub async fn matches(dns: &dyn Dns, helo: &str, client: IpAddr) -> bool {
    let client = ip::normalize(client);
    let helo = helo.trim();
    if let Some(addr) = literal(helo) {
        return addr == Some(client);
    }
    let found: Result<Vec<IpAddr>, DnsError> = match client {
        IpAddr::V4(_) => dns.a(helo).await.map(|v| v.into_iter().map(IpAddr::V4).collect()),
        IpAddr::V6(_) => dns.aaaa(helo).await.map(|v| v.into_iter().map(IpAddr::V6).collect()),
    };
    match found {
        Ok(addrs) => addrs.contains(&client),
        Err(DnsError::NotFound) => false,
        Err(e) => {
            tracing::warn!("HELO host check: lookup of {helo:?} failed ({e}); passed");
            true
        }
    }
}

/// The finding when `helo` does not resolve to `client`.
pub async fn check(dns: &dyn Dns, helo: &str, client: IpAddr, score: i64) -> Option<Finding> {
    if matches(dns, helo, client).await { None } else { Some(Finding::new("HELO", super::score(score), REASON)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_dns::StaticDns;

    fn zone() -> StaticDns {
        let mut z = StaticDns::default();
        z.ip.insert("mail.example".into(), vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()]);
        z
    }

    #[tokio::test]
    async fn names_and_literals() {
        let z = zone();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(check(&z, "mail.example", v4, 2).await.is_none());
        assert!(check(&z, "MAIL.example.", v4, 2).await.is_none());
        assert!(check(&z, "mail.example", "::ffff:192.0.2.1".parse().unwrap(), 2).await.is_none());
        assert!(check(&z, "mail.example", "2001:db8::1".parse().unwrap(), 2).await.is_none());
        assert_eq!(
            check(&z, "mail.example", "192.0.2.9".parse().unwrap(), 2).await,
            Some(Finding::new("HELO", 2, REASON))
        );
        assert!(check(&z, "unknown.example", v4, 2).await.is_some());
        assert!(check(&z, "[192.0.2.1]", v4, 2).await.is_none());
        assert!(check(&z, "[192.0.2.2]", v4, 2).await.is_some());
        assert!(check(&z, "[IPv6:2001:db8::1]", "2001:db8::1".parse().unwrap(), 2).await.is_none());
        assert!(check(&z, "[garbage", v4, 2).await.is_some());
        assert!(check(&altimail_dns::Unavailable("down".into()), "mail.example", v4, 2).await.is_none());
    }
}
