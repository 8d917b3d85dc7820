//! The hickory resolver behind the `Dns` trait, against the in-process test DNS server.

use altimail_dns::testdns::{TestDns, Zone};
use altimail_dns::{DnsError, HickoryDns};

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

#[tokio::test]
async fn ptr_records_and_names_outside_test() {
    let zone = Zone::new()
        .ptr("192.0.2.9", "mail.example.org")
        .ptr("2001:db8::9", "six.example.org")
        .ip("2.0.0.127.zen.example.org", "127.0.0.2")
        .txt("example.org", "v=spf1 -all");
    let server = TestDns::start(zone).await.unwrap();
    let dns = HickoryDns::resolver(&[server.addr]);
    assert_eq!(dns.ptr("192.0.2.9".parse().unwrap()).await.unwrap(), vec!["mail.example.org".to_owned()]);
    assert_eq!(dns.ptr("2001:db8::9".parse().unwrap()).await.unwrap(), vec!["six.example.org".to_owned()]);
    assert_eq!(dns.ptr("192.0.2.8".parse().unwrap()).await, Err(DnsError::NotFound));
    // The resolver itself answers for loopback (RFC 6761): 127/8 and ::1 are `localhost`.
    assert_eq!(dns.ptr("127.0.0.9".parse().unwrap()).await.unwrap(), vec!["localhost".to_owned()]);
    assert_eq!(
        dns.a("2.0.0.127.zen.example.org").await.unwrap(),
        vec!["127.0.0.2".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    assert_eq!(dns.txt("example.org").await.unwrap(), vec!["v=spf1 -all".to_owned()]);
}
