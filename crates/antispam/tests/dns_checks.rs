//! The DNS-based tests against a real DNS server on loopback ([`TestDns`]).
//!
//! PTR is not tested here: hickory's resolver answers PTR queries for loopback addresses
//! itself (RFC 6761) and test clients connect from loopback; `checks::ptr` has unit tests on
//! `StaticDns` instead.

use std::net::IpAddr;

use altimail_antispam::Finding;
use altimail_antispam::checks::{dnsbl, helo, mx, surbl};
use altimail_dns::HickoryDns;
use altimail_dns::testdns::{TestDns, Zone};
use altimail_store::repo::dnsbl::Dnsbl;
use altimail_store::repo::surbl::Surbl;

async fn server(zone: Zone) -> (TestDns, HickoryDns) {
    let server = TestDns::start(zone).await.expect("test DNS server");
    let dns = HickoryDns::with_servers(&[server.addr]).expect("resolver");
    (server, dns)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn dnsbl_listed_unlisted_and_unexpected_answers() {
    let v6_name = dnsbl::query_name(ip("2001:db8::99"), "zen.test");
    let (_server, dns) = server(
        Zone::new()
            .ip("99.2.0.192.zen.test", "127.0.0.4")
            .ip("97.2.0.192.zen.test", "127.0.0.9")
            .ip(&v6_name, "127.0.0.10")
            .ip("99.2.0.192.any.test", "127.0.0.200"),
    )
    .await;
    let zen = Dnsbl::new("zen.test", "127.0.0.2-8|127.0.0.10-11", "Rejected by Zen.", 3);
    let any = Dnsbl::new("any.test", "127.0.0.*", "Rejected by Any.", 2);
    let lists = [zen, any];
    assert_eq!(
        dnsbl::check(&dns, ip("192.0.2.99"), &lists).await,
        vec![Finding::new("DNSBL", 3, "Rejected by Zen."), Finding::new("DNSBL", 2, "Rejected by Any.")]
    );
    assert!(dnsbl::check(&dns, ip("192.0.2.98"), &lists).await.is_empty(), "not listed");
    assert!(dnsbl::check(&dns, ip("192.0.2.97"), &lists).await.is_empty(), "answer outside sblresult");
    assert_eq!(
        dnsbl::check(&dns, ip("2001:db8::99"), &lists).await,
        vec![Finding::new("DNSBL", 3, "Rejected by Zen.")]
    );
}

const MESSAGE: &str = "From: a@example.org\r\nTo: b@example.com\r\nSubject: offer\r\nMIME-Version: 1.0\r\n\
    Content-Type: multipart/alternative; boundary=\"xx\"\r\n\r\n--xx\r\n\
    Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
    Buy now at http://shop.spam=\r\nmy.test/cheap =C3=A9t=C3=A9 or http://clean.test/\r\n--xx\r\n\
    Content-Type: text/html\r\n\r\n<p><a href=\"https://www.html-spam.co.uk/x\">here</a></p>\r\n--xx--\r\n";

#[tokio::test]
async fn surbl_finds_links_in_quoted_printable_text_and_html() {
    let (_server, dns) =
        server(Zone::new().ip("spammy.test.uri.test", "127.0.0.2").ip("html-spam.co.uk.uri2.test", "127.0.0.2")).await;
    let uri = Surbl::new("uri.test", "Rejected by URI.", 3);
    let uri2 = Surbl::new("uri2.test", "Rejected by URI2.", 4);
    let other = Surbl::new("other.test", "never", 9);
    let limits = surbl::Limits::default();
    let found = surbl::check(&dns, MESSAGE.as_bytes(), &[uri, uri2, other], limits).await;
    assert_eq!(
        found,
        vec![Finding::new("SURBL", 3, "Rejected by URI."), Finding::new("SURBL", 4, "Rejected by URI2.")]
    );
    let clean = "From: a@example.org\r\nSubject: hi\r\n\r\nsee http://clean.test/\r\n";
    assert!(surbl::check(&dns, clean.as_bytes(), &[Surbl::new("uri.test", "x", 3)], limits).await.is_empty());
}

#[tokio::test]
async fn helo_host_must_resolve_to_the_client() {
    let (_server, dns) =
        server(Zone::new().ip("mail.sender.test", "192.0.2.10").ip("mail.sender.test", "2001:db8::10")).await;
    assert!(helo::check(&dns, "mail.sender.test", ip("192.0.2.10"), 2).await.is_none());
    assert!(helo::check(&dns, "mail.sender.test", ip("2001:db8::10"), 2).await.is_none());
    assert_eq!(
        helo::check(&dns, "mail.sender.test", ip("192.0.2.11"), 2).await,
        Some(Finding::new("HELO", 2, helo::REASON))
    );
    assert!(helo::check(&dns, "unknown.sender.test", ip("192.0.2.10"), 2).await.is_some());
    assert!(helo::check(&dns, "[192.0.2.10]", ip("192.0.2.10"), 2).await.is_none());
}

#[tokio::test]
async fn sender_domain_needs_mx() {
    let (_server, dns) =
        server(Zone::new().mx("with-mx.test", 10, "mx.with-mx.test").ip("a-only.test", "192.0.2.20")).await;
    assert!(mx::check(&dns, "someone@with-mx.test", 2).await.is_none());
    assert!(mx::check(&dns, "someone@host.with-mx.test", 2).await.is_none(), "registered domain has MX");
    assert_eq!(mx::check(&dns, "someone@a-only.test", 2).await, Some(Finding::new("MX", 2, mx::REASON)));
    assert!(mx::check(&dns, "someone@missing.test", 2).await.is_some());
    assert!(mx::check(&dns, "", 2).await.is_none(), "null sender");
}
