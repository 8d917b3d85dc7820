//! Where a recipient's mail goes, as hMailServer decides it (`ExternalDelivery`): a route for
//! the domain, else the smart host (`smtprelayer`), else the domain's MX hosts (RFC 5321 §5.1:
//! by preference, the domain's own A/AAAA when there is no MX, at most `MaxNumberOfMXHosts`).

use std::net::IpAddr;

use altimail_core::blowfish::hm_decrypt;
use altimail_core::codes::Security;
use altimail_delivery::resolve::routes::{self, Route};

use crate::settings::OutboundSettings;
use altimail_dns::{Dns, DnsError};

/// A delivery destination; recipients with equal destinations share connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// Fixed hosts (a route or the smart host): `host[:port]` alternatives.
    Fixed {
        hosts: Vec<(String, u16)>,
        /// [`Security`] code.
        security: i64,
        auth: Option<(String, String)>,
        /// The route's id, 0 for the smart host.
        route_id: i64,
    },
    /// MX lookup for the domain (lower case).
    Mx(String),
}

/// One host to try: its name (for logs and TLS) and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub ip: IpAddr,
    pub port: u16,
}

/// Why no host could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoHosts {
    /// Retry later (DNS failure, no MX and no address).
    Temporary(String),
    /// The domain accepts no mail (null MX, RFC 7505).
    Permanent(String),
}

/// hMailServer's text for a domain without mail servers.
pub const NO_MAIL_SERVERS: &str = "No mail servers appear to exists for the recipient's address.";

/// Splits `a|b:2525` into hosts with ports.
pub fn parse_hosts(list: &str, default_port: u16) -> Vec<(String, u16)> {
    list.split('|')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| match h.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') => match port.parse() {
                Ok(p) => (name.to_owned(), p),
                Err(_) => (h.to_owned(), default_port),
            },
            _ => (h.trim_matches(['[', ']']).to_owned(), default_port),
        })
        .collect()
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address)
}

/// The route for `address`, if one matches its domain and covers it.
pub fn route_for<'r>(all: &'r [Route], address: &str) -> Option<&'r Route> {
    routes::for_domain(all, domain_of(address)).filter(|r| r.covers(address))
}

/// The hosts of route `r`.
pub fn route_destination(r: &Route) -> Destination {
    let port = u16::try_from(r.target_port).ok().filter(|&p| p > 0).unwrap_or(25);
    let auth = r
        .use_authentication
        .then(|| (r.auth_username.clone(), hm_decrypt(&r.auth_password_encrypted).unwrap_or_default()));
    Destination::Fixed { hosts: parse_hosts(&r.target_host, port), security: r.security.code(), auth, route_id: r.id }
}

/// The destination of `address`.
pub fn destination(settings: &OutboundSettings, all_routes: &[Route], address: &str) -> Destination {
    if let Some(r) = route_for(all_routes, address) {
        return route_destination(r);
    }
    if !settings.relayer.is_empty() {
        return Destination::Fixed {
            hosts: parse_hosts(&settings.relayer, settings.relayer_port),
            security: settings.relayer_security,
            auth: settings.relayer_auth.clone(),
            route_id: 0,
        };
    }
    Destination::Mx(domain_of(address).to_ascii_lowercase())
}

impl Destination {
    /// The connection security for this destination.
    pub fn security(&self, settings: &OutboundSettings) -> Security {
        let code = match self {
            Destination::Fixed { security, .. } => *security,
            Destination::Mx(_) => settings.mx_security,
        };
        Security::from_code(code).unwrap_or(Security::StartTlsOptional)
    }

    pub fn auth(&self) -> Option<(String, String)> {
        match self {
            Destination::Fixed { auth, .. } => auth.clone(),
            Destination::Mx(_) => None,
        }
    }
}

/// The addresses of `name` (an IP literal is itself), ordered by the IPv6 preference.
async fn addresses(dns: &dyn Dns, name: &str, ipv6_first: bool) -> Result<Vec<IpAddr>, DnsError> {
    if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let v4 = dns.a(name).await;
    let v6 = dns.aaaa(name).await;
    let v4s: Vec<IpAddr> = v4.as_ref().map(|v| v.iter().map(|&a| IpAddr::V4(a)).collect()).unwrap_or_default();
    let v6s: Vec<IpAddr> = v6.as_ref().map(|v| v.iter().map(|&a| IpAddr::V6(a)).collect()).unwrap_or_default();
    let (mut first, second) = if ipv6_first { (v6s, v4s) } else { (v4s, v6s) };
    first.extend(second);
    if !first.is_empty() {
        return Ok(first);
    }
    match (v4, v6) {
        (Err(DnsError::Failed(e)), _) | (_, Err(DnsError::Failed(e))) => Err(DnsError::Failed(e)),
        _ => Err(DnsError::NotFound),
    }
}

/// The hosts to try for `dest`, in order.
pub async fn hosts(dns: &dyn Dns, settings: &OutboundSettings, dest: &Destination) -> Result<Vec<Host>, NoHosts> {
    let names: Vec<(String, u16)> = match dest {
        Destination::Fixed { hosts, .. } => hosts.clone(),
        Destination::Mx(domain) => match dns.mx(domain).await {
            Ok(mut mx) => {
                mx.sort_by_key(|(pref, _)| *pref);
                if mx.len() == 1 && (mx[0].1.is_empty() || mx[0].1 == ".") {
                    return Err(NoHosts::Permanent(format!("{domain} does not accept mail (null MX)")));
                }
                mx.into_iter().take(settings.max_mx_hosts).map(|(_, h)| (h, 25)).collect()
            }
            Err(DnsError::NotFound) => vec![(domain.clone(), 25)],
            Err(DnsError::Failed(e)) => return Err(NoHosts::Temporary(e)),
        },
    };
    let mut out = Vec::new();
    let mut last_error = None;
    for (name, port) in names {
        match addresses(dns, &name, settings.ipv6_first).await {
            Ok(ips) => out.extend(ips.into_iter().map(|ip| Host { name: name.clone(), ip, port })),
            Err(e) => last_error = Some(e),
        }
    }
    if out.is_empty() {
        return Err(NoHosts::Temporary(match last_error {
            Some(DnsError::Failed(e)) => e,
            _ => NO_MAIL_SERVERS.to_owned(),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_dns::StaticDns;

    #[test]
    fn host_lists() {
        assert_eq!(
            parse_hosts("a.test|b.test:2525| ", 25),
            vec![("a.test".to_owned(), 25), ("b.test".to_owned(), 2525)]
        );
        assert_eq!(parse_hosts("[::1]", 26), vec![("::1".to_owned(), 26)]);
    }

    #[tokio::test]
    async fn mx_order_limit_and_address_fallback() {
        let mut dns = StaticDns::default();
        dns.mx.insert(
            "them.test".into(),
            vec![(20, "b.them.test".into()), (10, "a.them.test".into()), (30, "c.them.test".into())],
        );
        dns.ip.insert("a.them.test".into(), vec!["127.0.0.2".parse().unwrap(), "::2".parse().unwrap()]);
        dns.ip.insert("b.them.test".into(), vec!["127.0.0.3".parse().unwrap()]);
        dns.ip.insert("c.them.test".into(), vec!["127.0.0.4".parse().unwrap()]);
        dns.ip.insert("plain.test".into(), vec!["127.0.0.9".parse().unwrap()]);
        let s = OutboundSettings { max_mx_hosts: 2, ..Default::default() };
        let h = hosts(&dns, &s, &Destination::Mx("them.test".into())).await.unwrap();
        let ips: Vec<String> = h.iter().map(|h| h.ip.to_string()).collect();
        assert_eq!(ips, ["127.0.0.2", "::2", "127.0.0.3"]);
        let s6 = OutboundSettings { ipv6_first: true, ..s.clone() };
        let h = hosts(&dns, &s6, &Destination::Mx("them.test".into())).await.unwrap();
        assert_eq!(h[0].ip.to_string(), "::2");
        let h = hosts(&dns, &s, &Destination::Mx("plain.test".into())).await.unwrap();
        assert_eq!(h, vec![Host { name: "plain.test".into(), ip: "127.0.0.9".parse().unwrap(), port: 25 }]);
        assert_eq!(
            hosts(&dns, &s, &Destination::Mx("nowhere.test".into())).await,
            Err(NoHosts::Temporary(NO_MAIL_SERVERS.into()))
        );
        dns.mx.insert("null.test".into(), vec![(0, String::new())]);
        assert!(matches!(hosts(&dns, &s, &Destination::Mx("null.test".into())).await, Err(NoHosts::Permanent(_))));
    }

    #[test]
    fn smart_host_and_mx_destinations() {
        let s =
            OutboundSettings { relayer: "relay.test|127.0.0.5:2526".into(), relayer_port: 587, ..Default::default() };
        let d = destination(&s, &[], "x@Them.test");
        assert!(matches!(&d, Destination::Fixed { hosts, route_id: 0, auth: None, .. }
            if hosts == &vec![("relay.test".to_owned(), 587), ("127.0.0.5".to_owned(), 2526)]));
        let s = OutboundSettings::default();
        assert_eq!(destination(&s, &[], "x@Them.test"), Destination::Mx("them.test".into()));
    }
}
