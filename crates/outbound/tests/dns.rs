//! The hickory resolver behind the `Dns` trait, against the in-process test DNS server.

use altimail_outbound::dns::{DnsError, HickoryDns};
use altimail_outbound::testdns::{TestDns, Zone};

#[tokio::test]
async fn mx_a_aaaa_txt_and_missing_names() {
    let zone = Zone::new()
        .mx("d.test", 20, "b.d.test")
        .mx("d.test", 10, "a.d.test")
        .ip("a.d.test", "127.0.3.1")
        .ip("a.d.test", "::1")
        .txt("sel._domainkey.d.test", &format!("v=DKIM1; p={}", "A".repeat(300)));
    let server = TestDns::start(zone).await.unwrap();
    let dns = HickoryDns::resolver(&[server.addr]);
    let mut mx = dns.mx("D.test").await.unwrap();
    mx.sort();
    assert_eq!(mx, vec![(10, "a.d.test".to_owned()), (20, "b.d.test".to_owned())]);
    assert_eq!(dns.a("a.d.test.").await.unwrap(), vec!["127.0.3.1".parse::<std::net::Ipv4Addr>().unwrap()]);
    assert_eq!(dns.aaaa("a.d.test").await.unwrap(), vec!["::1".parse::<std::net::Ipv6Addr>().unwrap()]);
    let txt = dns.txt("sel._domainkey.d.test").await.unwrap();
    assert_eq!(txt, vec![format!("v=DKIM1; p={}", "A".repeat(300))], "long TXT strings are joined");
    assert_eq!(dns.mx("nowhere.test").await, Err(DnsError::NotFound));
    assert_eq!(dns.mx("a.d.test").await, Err(DnsError::NotFound), "a name without MX");
    assert_eq!(dns.a("b.d.test").await, Err(DnsError::NotFound));
}
