//! DNS for the whole server (outbound delivery and the anti-spam checks): one injected
//! resolver ([`Dns`]) so the same code runs unchanged against the system resolver, a test DNS
//! server on a loopback port ([`testdns`], feature `test-dns`), or the in-memory [`StaticDns`]
//! of unit tests. hickory's resolver caches answers for their TTL, as a real resolver does.

#[cfg(feature = "test-dns")]
pub mod testdns;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

/// A lookup that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// NXDOMAIN or no record of the type.
    #[error("no such record")]
    NotFound,
    /// Timeout, SERVFAIL, no server reachable.
    #[error("DNS lookup failed: {0}")]
    Failed(String),
}

pub type DnsFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DnsError>> + Send + 'a>>;

/// The lookups delivery needs. Names are absolute (a trailing dot is added when missing).
pub trait Dns: Send + Sync {
    /// MX records as (preference, exchange without the trailing dot).
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, Vec<(u16, String)>>;
    fn a<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv4Addr>>;
    fn aaaa<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv6Addr>>;
    /// TXT records, each one's strings joined.
    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, Vec<String>>;
    /// PTR records of an address (its reverse name is built here), without the trailing dot.
    fn ptr<'a>(&'a self, ip: IpAddr) -> DnsFuture<'a, Vec<String>>;
}

/// The reverse-lookup name of `ip`: `4.3.2.1.in-addr.arpa.` or the nibble form under `ip6.arpa.`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(73);
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

fn absolute(name: &str) -> String {
    if name.ends_with('.') { name.to_owned() } else { format!("{name}.") }
}

/// A resolver configuration asking `servers` (each over UDP and TCP, on its own port): the one
/// the server's resolver and the SPF/DKIM/DMARC verifier are both built from.
pub fn servers_config(servers: &[SocketAddr]) -> ResolverConfig {
    let name_servers = servers
        .iter()
        .map(|s| {
            let mut udp = ConnectionConfig::udp();
            udp.port = s.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = s.port();
            NameServerConfig::new(s.ip(), true, vec![udp, tcp])
        })
        .collect();
    ResolverConfig::from_name_servers(name_servers)
}

/// hickory-resolver behind [`Dns`].
pub struct HickoryDns(TokioResolver);

impl HickoryDns {
    /// The system's resolver configuration (`/etc/resolv.conf`).
    pub fn system() -> Result<Self, DnsError> {
        let builder = TokioResolver::builder_tokio().map_err(|e| DnsError::Failed(e.to_string()))?;
        Ok(HickoryDns(builder.build().map_err(|e| DnsError::Failed(e.to_string()))?))
    }

    /// Fixed name servers (UDP and TCP), e.g. a test server on `127.0.0.1:5353`.
    pub fn with_servers(servers: &[SocketAddr]) -> Result<Self, DnsError> {
        let config = servers_config(servers);
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .build()
            .map_err(|e| DnsError::Failed(e.to_string()))?;
        Ok(HickoryDns(resolver))
    }

    /// The hickory resolver behind this [`Dns`]: a clone shares its connections and its cache,
    /// so a library that needs a hickory resolver of its own (mail-auth, for SPF, DKIM and
    /// DMARC) asks through the same one.
    pub fn shared_resolver(&self) -> TokioResolver {
        self.0.clone()
    }

    /// [`HickoryDns::resolver`], also giving the hickory resolver behind it (see
    /// [`HickoryDns::shared_resolver`]); `None` when there is no usable configuration.
    pub fn resolver_and_handle(servers: &[SocketAddr]) -> (Arc<dyn Dns>, Option<TokioResolver>) {
        let made = if servers.is_empty() { Self::system() } else { Self::with_servers(servers) };
        match made {
            Ok(dns) => {
                let handle = dns.shared_resolver();
                (Arc::new(dns), Some(handle))
            }
            Err(e) => {
                tracing::error!("no DNS resolver: {e}; remote delivery waits until one is configured");
                (Arc::new(Unavailable(e.to_string())), None)
            }
        }
    }

    /// `servers` when given, else the system resolver. Without a usable configuration every
    /// lookup fails temporarily (mail stays queued) instead of the server not starting.
    pub fn resolver(servers: &[SocketAddr]) -> Arc<dyn Dns> {
        let made = if servers.is_empty() { Self::system() } else { Self::with_servers(servers) };
        match made {
            Ok(dns) => Arc::new(dns),
            Err(e) => {
                tracing::error!("no DNS resolver: {e}; remote delivery waits until one is configured");
                Arc::new(Unavailable(e.to_string()))
            }
        }
    }

    async fn records(&self, name: &str, kind: hickory_resolver::proto::rr::RecordType) -> Result<Vec<RData>, DnsError> {
        let lookup = self.0.lookup(absolute(name), kind).await.map_err(|e| {
            if e.is_nx_domain() || e.is_no_records_found() {
                DnsError::NotFound
            } else {
                DnsError::Failed(e.to_string())
            }
        })?;
        let data: Vec<RData> =
            lookup.answers().iter().filter(|r| r.record_type() == kind).map(|r| r.data.clone()).collect();
        if data.is_empty() { Err(DnsError::NotFound) } else { Ok(data) }
    }
}

impl Dns for HickoryDns {
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, Vec<(u16, String)>> {
        Box::pin(async move {
            let data = self.records(domain, hickory_resolver::proto::rr::RecordType::MX).await?;
            Ok(data
                .into_iter()
                .filter_map(|d| match d {
                    RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii().trim_end_matches('.').to_owned())),
                    _ => None,
                })
                .collect())
        })
    }

    fn a<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv4Addr>> {
        Box::pin(async move {
            let data = self.records(host, hickory_resolver::proto::rr::RecordType::A).await?;
            Ok(data.into_iter().filter_map(|d| if let RData::A(a) = d { Some(a.0) } else { None }).collect())
        })
    }

    fn aaaa<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv6Addr>> {
        Box::pin(async move {
            let data = self.records(host, hickory_resolver::proto::rr::RecordType::AAAA).await?;
            Ok(data.into_iter().filter_map(|d| if let RData::AAAA(a) = d { Some(a.0) } else { None }).collect())
        })
    }

    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move {
            let data = self.records(name, hickory_resolver::proto::rr::RecordType::TXT).await?;
            Ok(data
                .into_iter()
                .filter_map(|d| match d {
                    RData::TXT(t) => {
                        Some(t.txt_data.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect::<String>())
                    }
                    _ => None,
                })
                .collect())
        })
    }

    fn ptr<'a>(&'a self, ip: IpAddr) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move {
            let data = self.records(&reverse_name(ip), hickory_resolver::proto::rr::RecordType::PTR).await?;
            Ok(data
                .into_iter()
                .filter_map(|d| match d {
                    RData::PTR(p) => Some(p.0.to_ascii().trim_end_matches('.').to_owned()),
                    _ => None,
                })
                .collect())
        })
    }
}

/// A resolver that could not be set up: every lookup fails temporarily.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

impl Dns for Unavailable {
    fn mx<'a>(&'a self, _: &'a str) -> DnsFuture<'a, Vec<(u16, String)>> {
        Box::pin(async move { Err(DnsError::Failed(self.0.clone())) })
    }

    fn a<'a>(&'a self, _: &'a str) -> DnsFuture<'a, Vec<Ipv4Addr>> {
        Box::pin(async move { Err(DnsError::Failed(self.0.clone())) })
    }

    fn aaaa<'a>(&'a self, _: &'a str) -> DnsFuture<'a, Vec<Ipv6Addr>> {
        Box::pin(async move { Err(DnsError::Failed(self.0.clone())) })
    }

    fn txt<'a>(&'a self, _: &'a str) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move { Err(DnsError::Failed(self.0.clone())) })
    }

    fn ptr<'a>(&'a self, _: IpAddr) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move { Err(DnsError::Failed(self.0.clone())) })
    }
}

/// An in-memory zone for unit tests: names are matched case-insensitively, without the dot.
#[derive(Debug, Default, Clone)]
pub struct StaticDns {
    pub mx: HashMap<String, Vec<(u16, String)>>,
    pub ip: HashMap<String, Vec<IpAddr>>,
    pub txt: HashMap<String, Vec<String>>,
    pub ptr: HashMap<IpAddr, Vec<String>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Dns for StaticDns {
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, Vec<(u16, String)>> {
        Box::pin(async move { self.mx.get(&key(domain)).cloned().ok_or(DnsError::NotFound) })
    }

    fn a<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv4Addr>> {
        Box::pin(async move {
            let v: Vec<Ipv4Addr> = self
                .ip
                .get(&key(host))
                .into_iter()
                .flatten()
                .filter_map(|ip| if let IpAddr::V4(v4) = ip { Some(*v4) } else { None })
                .collect();
            if v.is_empty() { Err(DnsError::NotFound) } else { Ok(v) }
        })
    }

    fn aaaa<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<Ipv6Addr>> {
        Box::pin(async move {
            let v: Vec<Ipv6Addr> = self
                .ip
                .get(&key(host))
                .into_iter()
                .flatten()
                .filter_map(|ip| if let IpAddr::V6(v6) = ip { Some(*v6) } else { None })
                .collect();
            if v.is_empty() { Err(DnsError::NotFound) } else { Ok(v) }
        })
    }

    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move { self.txt.get(&key(name)).cloned().ok_or(DnsError::NotFound) })
    }

    fn ptr<'a>(&'a self, ip: IpAddr) -> DnsFuture<'a, Vec<String>> {
        Box::pin(async move { self.ptr.get(&ip).cloned().ok_or(DnsError::NotFound) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(reverse_name("192.0.2.1".parse().unwrap()), "1.2.0.192.in-addr.arpa.");
        let v6 = reverse_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0."), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.ip6.arpa."), "{v6}");
        assert_eq!(v6.len(), 64 + 9);
    }
}
