//! DNS block lists (hMailServer's `SpamTestDNSBlackLists` and `BLCheck`): for each active
//! `hm_dnsbl` row the A record of `<reversed IP>.<zone>` is looked up; an answer matching the
//! row's expected result adds the row's score with its reject message.
//!
//! The expected result is a `|`-separated list; each entry an address (`127.0.0.2`), an address
//! with `*`/`?` wildcards (`127.0.0.*`), or a last-octet range (`127.0.0.2-8`). An empty
//! expected result never matches, as in hMailServer: such a row lists nobody.

use std::net::{IpAddr, Ipv4Addr};

use altimail_core::ip;
use altimail_dns::{Dns, DnsError};
use altimail_store::repo::dnsbl::Dnsbl;
use altimail_store::repo::greylisting::{like_matches, wildcard_to_like};

use crate::Finding;

/// The name looked up for `ip` in `zone`: `4.3.2.1.zone` or 32 nibbles of an IPv6 address.
/// IPv4-mapped IPv6 clients are looked up as IPv4.
pub fn query_name(client: IpAddr, zone: &str) -> String {
    let reverse = altimail_dns::reverse_name(ip::normalize(client));
    let labels = reverse.trim_end_matches("in-addr.arpa.").trim_end_matches("ip6.arpa.");
    format!("{labels}{}", zone.trim_end_matches('.'))
}

/// Whether the answer `answer` is one of `expected` (see the module documentation).
pub fn expected_matches(expected: &str, answer: Ipv4Addr) -> bool {
    let answer_text = answer.to_string();
    expected.split('|').map(str::trim).filter(|e| !e.is_empty()).any(|entry| match range(entry) {
        Some((prefix, low, high)) => {
            let o = answer.octets();
            format!("{}.{}.{}", o[0], o[1], o[2]) == prefix && (low..=high).contains(&u32::from(o[3]))
        }
        None => like_matches(&wildcard_to_like(entry), &answer_text),
    })
}

/// `a.b.c.X-Y` as (`a.b.c`, X, Y); None when `entry` is no range.
fn range(entry: &str) -> Option<(&str, u32, u32)> {
    let (prefix, last) = entry.rsplit_once('.')?;
    let (low, high) = last.split_once('-')?;
    Some((prefix, low.trim().parse().ok()?, high.trim().parse().ok()?))
}

/// Whether `client` is listed in `list`. A failed lookup means "not listed".
pub async fn listed(dns: &dyn Dns, client: IpAddr, list: &Dnsbl) -> bool {
    let name = query_name(client, &list.zone);
    match dns.a(&name).await {
        Ok(answers) => {
            let hit = answers.iter().any(|a| expected_matches(&list.expected, *a));
            tracing::debug!("DNSBL lookup {name}: {answers:?}, listed: {hit}");
            hit
        }
        Err(DnsError::NotFound) => {
            tracing::debug!("DNSBL lookup {name}: not listed");
            false
        }
        Err(e) => {
            tracing::warn!("DNSBL lookup {name} failed ({e}); treated as not listed");
            false
        }
    }
}

/// Runs every active list in `lists` against `client`; one finding per list that lists it.
/// Unspecified addresses are not looked up.
pub async fn check(dns: &dyn Dns, client: IpAddr, lists: &[Dnsbl]) -> Vec<Finding> {
    let mut findings = Vec::new();
    if client.is_unspecified() {
        return findings;
    }
    for list in lists.iter().filter(|l| l.active) {
        if listed(dns, client, list).await {
            findings.push(Finding::new("DNSBL", super::score(list.score), list.reject_message.clone()));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_dns::StaticDns;

    #[test]
    fn query_names() {
        assert_eq!(query_name("192.0.2.1".parse().unwrap(), "zen.example."), "1.2.0.192.zen.example");
        assert_eq!(query_name("::ffff:192.0.2.1".parse().unwrap(), "zen.example"), "1.2.0.192.zen.example");
        let v6 = query_name("2001:db8::1".parse().unwrap(), "bl.example");
        assert!(v6.starts_with("1.0.0.0.0.0.0.0."), "{v6}");
        assert!(v6.ends_with(".8.b.d.0.1.0.0.2.bl.example"), "{v6}");
        assert_eq!(v6.split('.').count(), 32 + 2);
    }

    #[test]
    fn expected_results_as_hmailserver_writes_them() {
        let zen = "127.0.0.2-8|127.0.0.10-11";
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        for yes in ["127.0.0.2", "127.0.0.8", "127.0.0.10", "127.0.0.11"] {
            assert!(expected_matches(zen, ip(yes)), "{yes}");
        }
        for no in ["127.0.0.1", "127.0.0.9", "127.0.0.12", "127.0.1.2"] {
            assert!(!expected_matches(zen, ip(no)), "{no}");
        }
        assert!(expected_matches("127.0.0.2", ip("127.0.0.2")));
        assert!(!expected_matches("127.0.0.2", ip("127.0.0.20")));
        assert!(expected_matches(" 127.0.0.1 | 127.0.0.255 ", ip("127.0.0.255")));
        assert!(expected_matches("127.0.0.*", ip("127.0.0.77")));
        assert!(expected_matches("127.0.0.?", ip("127.0.0.7")));
        assert!(!expected_matches("127.0.0.?", ip("127.0.0.70")));
        assert!(!expected_matches("", ip("127.0.0.70")), "an empty expected result lists nobody");
        assert!(!expected_matches("127.0.0.x-y", ip("127.0.0.1")));
        assert!(expected_matches("127.0.0.1-4294967295", ip("127.0.0.200")));
    }

    #[tokio::test]
    async fn failures_are_not_listings() {
        let dns = altimail_dns::Unavailable("down".into());
        let list = Dnsbl::new("zen.example", "127.0.0.2", "Rejected.", 3);
        assert!(check(&dns, "192.0.2.1".parse().unwrap(), std::slice::from_ref(&list)).await.is_empty());
        let mut zone = StaticDns::default();
        zone.ip.insert("1.2.0.192.zen.example".into(), vec!["127.0.0.2".parse().unwrap()]);
        let f = check(&zone, "192.0.2.1".parse().unwrap(), std::slice::from_ref(&list)).await;
        assert_eq!(f, vec![Finding::new("DNSBL", 3, "Rejected.")]);
        let inactive = Dnsbl { active: false, ..list };
        assert!(check(&zone, "192.0.2.1".parse().unwrap(), &[inactive]).await.is_empty());
    }
}
