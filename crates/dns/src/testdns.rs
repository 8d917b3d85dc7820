//! An in-process authoritative DNS server for tests (feature `test-dns`) on 127.0.0.1:<free
//! port> over UDP and TCP. It is authoritative for the root, so a record may be added under any
//! name (`example.test`, a DNSBL zone, `in-addr.arpa.` for PTR records); names it does not hold
//! get NXDOMAIN.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, SOA, SRV, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// Records of the `test.` zone.
#[derive(Debug, Default, Clone)]
pub struct Zone {
    records: Vec<(String, RData)>,
}

fn name(s: &str) -> Name {
    let s = if s.ends_with('.') { s.to_owned() } else { format!("{s}.") };
    Name::from_str(&s).unwrap_or_else(|_| Name::root())
}

impl Zone {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn mx(mut self, domain: &str, preference: u16, host: &str) -> Self {
        self.records.push((domain.into(), RData::MX(MX::new(preference, name(host)))));
        self
    }

    pub fn ip(mut self, host: &str, ip: &str) -> Self {
        let data = match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => RData::A(A(v4)),
            Ok(IpAddr::V6(v6)) => RData::AAAA(AAAA(v6)),
            Err(_) => return self,
        };
        self.records.push((host.into(), data));
        self
    }

    /// A PTR record for `ip` (its reverse name is built here) pointing at `host`.
    pub fn ptr(mut self, ip: &str, host: &str) -> Self {
        if let Ok(ip) = ip.parse::<IpAddr>() {
            self.records.push((crate::reverse_name(ip), RData::PTR(PTR(name(host)))));
        }
        self
    }

    /// `owner` is another name for `target`.
    pub fn cname(mut self, owner: &str, target: &str) -> Self {
        self.records.push((owner.into(), RData::CNAME(CNAME(name(target)))));
        self
    }

    /// A service record: `owner` such as `_imaps._tcp.example.test`.
    pub fn srv(mut self, owner: &str, priority: u16, weight: u16, port: u16, target: &str) -> Self {
        self.records.push((owner.into(), RData::SRV(SRV::new(priority, weight, port, name(target)))));
        self
    }

    pub fn txt(mut self, owner: &str, text: &str) -> Self {
        let chunks = text.as_bytes().chunks(255).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        self.records.push((owner.into(), RData::TXT(TXT::new(chunks))));
        self
    }
}

/// A running server; it stops when dropped.
pub struct TestDns {
    pub addr: SocketAddr,
    _server: Server<Catalog>,
}

impl TestDns {
    /// Starts serving `zone` on a free loopback port.
    pub async fn start(zone: Zone) -> std::io::Result<TestDns> {
        let (udp, tcp, addr) = bind_pair().await?;
        Ok(Self::serve(zone, udp, tcp, addr))
    }

    /// Starts serving `zone` on `addr` (UDP and TCP), e.g. `127.0.0.77:53` for a benchmark.
    pub async fn start_on(zone: Zone, addr: SocketAddr) -> std::io::Result<TestDns> {
        let udp = tokio::net::UdpSocket::bind(addr).await?;
        let tcp = tokio::net::TcpListener::bind(udp.local_addr()?).await?;
        let addr = udp.local_addr()?;
        Ok(Self::serve(zone, udp, tcp, addr))
    }

    fn serve(zone: Zone, udp: tokio::net::UdpSocket, tcp: tokio::net::TcpListener, addr: SocketAddr) -> TestDns {
        let origin = Name::root();
        let mut handler =
            InMemoryZoneHandler::<TokioRuntimeProvider>::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(name("ns.test."), name("admin.test."), 1, 3600, 600, 86400, 60);
        handler.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1);
        for (owner, data) in zone.records {
            handler.upsert_mut(Record::from_rdata(name(&owner), 60, data), 1);
        }
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        TestDns { addr, _server: server }
    }
}

/// A UDP socket and a TCP listener on the same free loopback port. The port the
/// system picks for UDP may already be taken on the TCP side (an outgoing
/// connection's local port, say), so a few ports are tried.
async fn bind_pair() -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener, std::net::SocketAddr)> {
    let mut last = None;
    for _ in 0..32 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let addr = udp.local_addr()?;
        match tokio::net::TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}
