//! Each stage against a test DNS server on loopback (mail-auth asks it through the resolver
//! behind the server's `Dns`, as the server builds it, see `auth.rs`), and the runner's order
//! and stop.

use std::net::IpAddr;
use std::sync::Arc;

use altimail_dns::testdns::{TestDns, Zone};
use altimail_dns::{Dns, HickoryDns, StaticDns};
use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

use super::*;
use crate::auth::Authenticator;
use crate::score::{Finding, Thresholds};
use crate::settings::{AntiSpamSettings, DmarcRejectAction};

const CLIENT: &str = "192.0.2.10";

fn settings() -> AntiSpamSettings {
    let mut s = AntiSpamSettings::from_settings(&Default::default());
    s.spf = true;
    s.dkim_verify = true;
    s.dmarc = true;
    s
}

async fn checker(zone: Zone, settings: AntiSpamSettings) -> (Checker, TestDns) {
    let dns = TestDns::start(zone).await.unwrap();
    let shared = HickoryDns::with_servers(&[dns.addr]).unwrap();
    let auth = Some(Authenticator::sharing(shared.shared_resolver()));
    (
        Checker {
            settings,
            dns: Arc::new(StaticDns::default()),
            auth,
            dnsbl: Vec::new(),
            surbl: Vec::new(),
            db: None,
            bayes: None,
        },
        dns,
    )
}

fn ctx(sender: &str) -> Context {
    Context::new(CLIENT.parse::<IpAddr>().unwrap(), "client.example.test", sender, "mx.local.test")
}

/// A key pair: the signing key and the DNS TXT record of its public part.
fn ed25519() -> (Ed25519Key, String) {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    (key, format!("v=DKIM1; k=ed25519; p={public}"))
}

fn sign(key: Ed25519Key, domain: &str, message: &str) -> String {
    let signature = DkimSigner::from_key(key)
        .domain(domain)
        .selector("sel")
        .headers(["From", "To", "Subject"])
        .sign(message.as_bytes())
        .unwrap();
    format!("{}{}", signature.to_header(), message)
}

const MESSAGE: &str = "From: a@signed.test\r\nTo: b@local.test\r\nSubject: hello\r\n\r\nHello there.\r\n";

#[tokio::test]
async fn spf_fail_adds_the_score_with_hmailservers_text() {
    let zone = Zone::new().txt("bad.test", "v=spf1 ip4:198.51.100.1 -all");
    let (c, _dns) = checker(zone, settings()).await;
    let mut ctx = ctx("x@bad.test");
    run(PRE_TRANSMISSION, &c, &mut ctx).await;
    assert_eq!(ctx.tally.total(), 3);
    assert!(ctx.tally.findings()[0].reason.starts_with("Blocked by SPF. ("), "{:?}", ctx.tally);
    assert!(!ctx.spf_passed());
    assert!(ctx.status_line().contains("SPF=fail(3)"));
}

#[tokio::test]
async fn spf_pass_and_softfail_are_not_scored() {
    let zone = Zone::new()
        .txt("good.test", &format!("v=spf1 ip4:{CLIENT} -all"))
        .txt("soft.test", "v=spf1 ip4:198.51.100.1 ~all");
    let (c, _dns) = checker(zone, settings()).await;
    let mut pass = ctx("x@good.test");
    run(PRE_TRANSMISSION, &c, &mut pass).await;
    assert!(pass.tally.is_empty());
    assert!(pass.spf_passed());
    let mut soft = ctx("x@soft.test");
    run(PRE_TRANSMISSION, &c, &mut soft).await;
    assert!(soft.tally.is_empty());
    assert!(soft.status_line().contains("SPF=softfail"));
}

/// SPF through mail-auth and the server's own lookups share one resolver and one cache: the
/// answer mail-auth got is still given by the server's `Dns` after the name server is gone.
#[tokio::test]
async fn spf_answers_are_cached_for_the_servers_one_resolver() {
    let zone = Zone::new().txt("good.test", &format!("v=spf1 ip4:{CLIENT} -all")).txt("never-asked.test", "x");
    let name_server = TestDns::start(zone).await.unwrap();
    let shared = HickoryDns::with_servers(&[name_server.addr]).unwrap();
    let (c, _unused) = checker(Zone::new(), settings()).await;
    let c = Checker { auth: Some(Authenticator::sharing(shared.shared_resolver())), ..c };
    let mut pass = ctx("x@good.test");
    run(PRE_TRANSMISSION, &c, &mut pass).await;
    assert!(pass.spf_passed(), "{}", pass.status_line());
    drop(name_server);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // The name server is gone: a name nobody asked for finds nothing...
    assert!(shared.txt("never-asked.test").await.is_err());
    // ... while the record mail-auth asked for comes from the shared cache.
    let cached = shared.txt("good.test").await.unwrap();
    assert!(cached.iter().any(|t| t.starts_with("v=spf1")), "{cached:?}");
}

#[tokio::test]
async fn spf_off_runs_nothing() {
    let mut s = settings();
    s.spf = false;
    let (c, _dns) = checker(Zone::new().txt("bad.test", "v=spf1 -all"), s).await;
    let mut ctx = ctx("x@bad.test");
    run(PRE_TRANSMISSION, &c, &mut ctx).await;
    assert!(ctx.tally.is_empty());
    assert!(ctx.spf.is_none());
}

#[tokio::test]
async fn dns_failure_never_scores() {
    // A resolver that answers nothing: port 9 on loopback.
    let auth = Authenticator::for_servers(&["127.0.0.1:9".parse().unwrap()]);
    let c = Checker {
        settings: settings(),
        dns: Arc::new(StaticDns::default()),
        auth,
        dnsbl: Vec::new(),
        surbl: Vec::new(),
        db: None,
        bayes: None,
    };
    let mut ctx = ctx("x@bad.test");
    ctx.message = MESSAGE.as_bytes().to_vec();
    run(PRE_TRANSMISSION, &c, &mut ctx).await;
    run(POST_TRANSMISSION, &c, &mut ctx).await;
    assert!(ctx.tally.is_empty(), "{:?}", ctx.tally);
    assert_eq!(ctx.outcome(&c.settings.thresholds), crate::context::Outcome::Pass);
}

#[tokio::test]
async fn dkim_pass_and_tampered_fail() {
    let (key, record) = ed25519();
    let zone = Zone::new().txt("sel._domainkey.signed.test", &record);
    let (c, _dns) = checker(zone, settings()).await;
    let signed = sign(key, "signed.test", MESSAGE);

    let mut good = ctx("a@signed.test");
    good.message = signed.clone().into_bytes();
    run(POST_TRANSMISSION, &c, &mut good).await;
    assert!(good.tally.is_empty(), "{:?}", good.tally);
    assert!(good.status_line().contains("DKIM=pass"));

    let mut bad = ctx("a@signed.test");
    bad.message = signed.replace("Hello there.", "Buy now.").into_bytes();
    run(POST_TRANSMISSION, &c, &mut bad).await;
    assert_eq!(bad.tally.findings()[0], Finding::new("DKIM", 5, "Rejected by DKIM."));
}

#[tokio::test]
async fn unsigned_mail_is_not_a_dkim_failure() {
    let (c, _dns) = checker(Zone::new(), settings()).await;
    let mut ctx = ctx("a@unsigned.test");
    ctx.message = MESSAGE.as_bytes().to_vec();
    run(POST_TRANSMISSION, &c, &mut ctx).await;
    assert!(ctx.tally.is_empty());
    assert!(ctx.status_line().contains("DKIM=none"));
}

fn dmarc_zone(policy: &str) -> Zone {
    Zone::new()
        .txt("signed.test", "v=spf1 ip4:198.51.100.1 -all")
        .txt("_dmarc.signed.test", &format!("v=DMARC1; p={policy}"))
}

#[tokio::test]
async fn dmarc_quarantine_scores_and_marks() {
    let mut s = settings();
    s.spf = false;
    s.thresholds = Thresholds { mark: 50, delete: 100 };
    let (c, _dns) = checker(dmarc_zone("quarantine"), s).await;
    let mut ctx = ctx("a@signed.test");
    ctx.message = MESSAGE.as_bytes().to_vec();
    run(POST_TRANSMISSION, &c, &mut ctx).await;
    assert_eq!(ctx.tally.total(), 5);
    assert_eq!(ctx.outcome(&c.settings.thresholds), crate::context::Outcome::Mark);
}

#[tokio::test]
async fn dmarc_reject_refuses_or_scores_per_setting() {
    let mut s = settings();
    s.dmarc_reject = DmarcRejectAction::Refuse;
    let (c, _dns) = checker(dmarc_zone("reject"), s.clone()).await;
    let mut refused = ctx("a@signed.test");
    refused.message = MESSAGE.as_bytes().to_vec();
    run(POST_TRANSMISSION, &c, &mut refused).await;
    assert!(matches!(refused.outcome(&c.settings.thresholds), crate::context::Outcome::RefusePolicy(_)));

    s.dmarc_reject = DmarcRejectAction::Score;
    let (c, _dns2) = checker(dmarc_zone("reject"), s).await;
    let mut scored = ctx("a@signed.test");
    scored.message = MESSAGE.as_bytes().to_vec();
    run(POST_TRANSMISSION, &c, &mut scored).await;
    assert!(scored.refusal.is_none());
    assert_eq!(scored.tally.findings().last().map(|f| f.test), Some("DMARC"));
}

#[tokio::test]
async fn dmarc_pass_with_aligned_dkim() {
    let (key, record) = ed25519();
    let zone = dmarc_zone("reject").txt("sel._domainkey.signed.test", &record);
    let (c, _dns) = checker(zone, settings()).await;
    let mut ctx = ctx("a@signed.test");
    ctx.message = sign(key, "signed.test", MESSAGE).into_bytes();
    run(POST_TRANSMISSION, &c, &mut ctx).await;
    assert!(ctx.tally.is_empty(), "{:?}", ctx.tally);
    let header = crate::headers::authentication_results(&ctx);
    assert!(header.contains("dkim=pass header.d=signed.test"), "{header}");
    assert!(header.contains("dmarc=pass header.from=signed.test"), "{header}");
}

fn add_two<'a>(_: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move { ctx.tally.add(Finding::new("T", 2, "two")) })
}

#[tokio::test]
async fn the_runner_stops_once_settled() {
    let mut s = settings();
    s.thresholds = Thresholds { mark: 3, delete: 0 };
    let c = Checker {
        settings: s,
        dns: Arc::new(StaticDns::default()),
        auth: None,
        dnsbl: Vec::new(),
        surbl: Vec::new(),
        db: None,
        bayes: None,
    };
    let stages =
        [Stage { name: "a", run: add_two }, Stage { name: "b", run: add_two }, Stage { name: "c", run: add_two }];
    let mut ctx = ctx("a@b.test");
    run(&stages, &c, &mut ctx).await;
    assert_eq!(ctx.tally.total(), 4, "the third stage must not run");
}

#[tokio::test]
async fn dns_checks_run_in_order_and_add_up() {
    use altimail_store::repo::dnsbl::Dnsbl;
    let mut dns = StaticDns::default();
    // Listed in the block list; HELO does not resolve; no PTR; the sender domain has no MX.
    dns.ip.insert("10.2.0.192.bl.test".into(), vec!["127.0.0.2".parse().unwrap()]);
    let mut s = settings();
    s.spf = false;
    s.helo_check = true;
    s.ptr_check = true;
    s.mx_check = true;
    s.thresholds = Thresholds { mark: 100, delete: 0 };
    let list = Dnsbl {
        id: 1,
        active: true,
        zone: "bl.test".into(),
        expected: "127.0.0.2".into(),
        reject_message: "Rejected by BL.".into(),
        score: 3,
    };
    let c = Checker {
        settings: s,
        dns: Arc::new(dns),
        auth: None,
        dnsbl: vec![list],
        surbl: Vec::new(),
        db: None,
        bayes: None,
    };
    let mut ctx = ctx("x@nomx.test");
    run(PRE_TRANSMISSION, &c, &mut ctx).await;
    let tests: Vec<&str> = ctx.tally.findings().iter().map(|f| f.test).collect();
    assert_eq!(tests, ["DNSBL", "HELO", "PTR", "MX"], "{:?}", ctx.tally);
    assert_eq!(ctx.tally.total(), 3 + 2 + 1 + 2);
    assert_eq!(ctx.status_line(), "Anti-spam: DNSBL=fail(3), HELO=fail(2), PTR=fail(1), MX=fail(2); total score 8");
}

#[tokio::test]
async fn surbl_scores_listed_links_after_the_body() {
    use altimail_store::repo::surbl::Surbl;
    let mut dns = StaticDns::default();
    dns.ip.insert("spammy.example.uribl.test".into(), vec!["127.0.0.2".parse().unwrap()]);
    let mut s = settings();
    s.dkim_verify = false;
    s.dmarc = false;
    let list =
        Surbl { id: 1, active: true, zone: "uribl.test".into(), reject_message: "Rejected by SURBL.".into(), score: 3 };
    let c = Checker {
        settings: s,
        dns: Arc::new(dns),
        auth: None,
        dnsbl: Vec::new(),
        surbl: vec![list],
        db: None,
        bayes: None,
    };
    let mut ctx = ctx("x@a.test");
    ctx.message = b"Subject: x\r\n\r\nSee http://www.spammy.example/offer now.\r\n".to_vec();
    run(POST_TRANSMISSION, &c, &mut ctx).await;
    assert_eq!(ctx.tally.findings(), [Finding::new("SURBL", 3, "Rejected by SURBL.")]);
}
