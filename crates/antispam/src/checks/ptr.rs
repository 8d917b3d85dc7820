//! The PTR test (hMailServer's `SpamTestPTR`, setting `ascheckptr`): the client's address must
//! have a PTR record whose host name resolves back to that address (forward-confirmed, as
//! hMailServer checks it). A failed PTR lookup passes the client; no PTR record, or a name
//! that does not resolve back, fails. Loopback clients are not tested (hMailServer skips the
//! machine's own addresses).
//!
//! hMailServer compares only the first address of the first PTR name; here any address of the
//! first PTR name counts. hickory's resolver answers PTR queries for 127/8 and ::1 itself with
//! `localhost` (RFC 6761), so this test is covered by unit tests on [`altimail_dns::StaticDns`].

use std::net::IpAddr;

use altimail_core::ip;
use altimail_dns::{Dns, DnsError};

use crate::Finding;

/// hMailServer's reason text.
pub const REASON: &str = "No valid rDNS/PTR record found.";

/// Whether `client` has a forward-confirmed PTR record (see the module documentation).
pub async fn valid(dns: &dyn Dns, client: IpAddr) -> bool {
    let client = ip::normalize(client);
    if client.is_loopback() || client.is_unspecified() {
        return true;
    }
    let names = match dns.ptr(client).await {
        Ok(names) => names,
        Err(DnsError::NotFound) => return false,
        Err(e) => {
            tracing::warn!("PTR check: lookup for {client} failed ({e}); passed");
            return true;
        }
    };
    let Some(name) = names.first() else { return false };
    let forward: Vec<IpAddr> = match client {
        IpAddr::V4(_) => dns.a(name).await.map(|v| v.into_iter().map(IpAddr::V4).collect()),
        IpAddr::V6(_) => dns.aaaa(name).await.map(|v| v.into_iter().map(IpAddr::V6).collect()),
    }
    .unwrap_or_default();
    forward.contains(&client)
}

/// The finding when `client` has no valid PTR record.
pub async fn check(dns: &dyn Dns, client: IpAddr, score: i64) -> Option<Finding> {
    if valid(dns, client).await { None } else { Some(Finding::new("PTR", super::score(score), REASON)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_dns::StaticDns;

    #[tokio::test]
    async fn forward_confirmed() {
        let good: IpAddr = "192.0.2.1".parse().unwrap();
        let liar: IpAddr = "192.0.2.2".parse().unwrap();
        let v6: IpAddr = "2001:db8::5".parse().unwrap();
        let mut z = StaticDns::default();
        z.ptr.insert(good, vec!["mail.example".into()]);
        z.ptr.insert(liar, vec!["mail.example".into()]);
        z.ptr.insert(v6, vec!["v6.example".into()]);
        z.ip.insert("mail.example".into(), vec![good]);
        z.ip.insert("v6.example".into(), vec![v6]);
        assert!(check(&z, good, 1).await.is_none());
        assert!(check(&z, "::ffff:192.0.2.1".parse().unwrap(), 1).await.is_none());
        assert!(check(&z, v6, 1).await.is_none());
        assert_eq!(check(&z, liar, 1).await, Some(Finding::new("PTR", 1, REASON)));
        assert!(check(&z, "192.0.2.3".parse().unwrap(), 1).await.is_some(), "no PTR");
        assert!(check(&z, "127.0.0.1".parse().unwrap(), 1).await.is_none(), "loopback");
        assert!(check(&altimail_dns::Unavailable("down".into()), good, 1).await.is_none());
    }
}
