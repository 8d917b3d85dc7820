//! The relay policy on every engine, with hMailServer's default IP ranges: never an open relay
//! from the "Internet" range, and what authentication, "My computer" and routes change.

mod resolve_support;

use std::net::IpAddr;

use altimail_core::codes::range;
use altimail_core::time::now_local;
use altimail_delivery::resolve::policy::{self, AddressRules};
use altimail_delivery::resolve::{self, Refusal, Sender};
use altimail_store::Db;
use altimail_store::repo::{domains, ranges, settings};

use resolve_support::{Env, engines, reply, targets};

/// The options of the range hMailServer applies to `ip`.
async fn options_for(db: &Db, ip: &str) -> i64 {
    let all = ranges::list(db).await.unwrap();
    let ip: IpAddr = ip.parse().unwrap();
    ranges::matching(&all, ip, now_local()).map(|r| r.options).unwrap()
}

/// example.com with user@example.com, as in the brief.
async fn example(env: &Env) {
    let d = env.domain("example.com").await;
    env.account(&d, "user@example.com").await;
}

/// RCPT addresses as the session's parser hands them over for each relay trick.
const RELAY_ATTEMPTS: &[&str] = &[
    "user%remote.test@example.com",
    "remote.test!user@example.com",
    "\"user@remote.test\"@example.com",
    "user@remote.test@example.com",
    "user@remote.test", // <@example.com:user@remote.test>: the source route is dropped
    "user@[192.0.2.1]",
    "user@[IPv6:2001:db8::1]",
    "user@REMOTE.TEST",
    "user@example.com.remote.test",
    "user@remote.test.",
    "user@example.com@remote.test",
];

/// Runs RCPT for `rcpt`; refusals must be 530 or 550 and acceptance must stay local.
async fn assert_not_relayed(db: &Db, options: i64, sender: &Sender<'_>, rcpt: &str, e: &str) {
    match resolve::rcpt(db, options, sender, rcpt).await {
        Err(err) => {
            let code = err.reply().code;
            assert!(code == 530 || code == 550, "{e}: {rcpt} from {sender:?}: {}", err.reply());
        }
        Ok(r) => {
            assert!(r.recipients.iter().all(|r| r.is_local()), "{e}: {rcpt} from {sender:?} relayed: {r:?}");
        }
    }
}

#[tokio::test]
async fn internet_range_is_never_an_open_relay() {
    for env in engines("rr_open_relay").await {
        let (db, e) = (env.db(), env.engine);
        example(&env).await;
        let internet = ranges::find(db, "Internet").await.unwrap().unwrap().options;
        assert_eq!(internet, 96203, "{e}");
        assert_eq!(options_for(db, "203.0.113.9").await, internet, "{e}: a remote IP gets the Internet range");

        let senders = [
            Sender::new("someone@remote.test", None),
            Sender::new("", None),
            Sender::new("user@example.com", None), // spoofed local sender
            Sender::new("someone@REMOTE.test", None),
        ];
        for sender in &senders {
            for rcpt in RELAY_ATTEMPTS {
                assert_not_relayed(db, internet, sender, rcpt, e).await;
            }
        }

        // The exact replies for a remote, unauthenticated sender.
        let remote = &senders[0];
        for rcpt in RELAY_ATTEMPTS {
            let want = if rcpt.ends_with("@example.com") {
                "550 5.1.1 Unknown user"
            } else {
                "530 5.7.0 SMTP authentication is required."
            };
            assert_eq!(reply(&resolve::rcpt(db, internet, remote, rcpt).await), want, "{e}: {rcpt}");
        }
        // Spoofing a local sender needs authentication to anywhere (L→E and L→L require it).
        let spoof = &senders[2];
        for rcpt in ["user@remote.test", "user@example.com"] {
            let r = resolve::rcpt(db, internet, spoof, rcpt).await;
            assert_eq!(reply(&r), "530 5.7.0 SMTP authentication is required.", "{e}: {rcpt}");
        }
        // An unqualified recipient without a default domain never reaches resolution.
        let rules = AddressRules::load(db).await.unwrap();
        assert_eq!(rules.default_domain, "", "{e}");
        assert_eq!(rules.qualify_recipient("user"), Err(Refusal::InvalidRecipient), "{e}");
        assert_eq!(rules.qualify_sender("user"), Err(Refusal::InvalidSender), "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn catch_all_keeps_relay_tricks_local() {
    for env in engines("rr_catch_all").await {
        let (db, e) = (env.db(), env.engine);
        let mut d = domains::Domain::new("example.com");
        d.catch_all = "user@example.com".into();
        d.plus_addressing = true;
        d.plus_addressing_char = "%".into();
        let d = env.domain_with(d).await;
        let user = env.account(&d, "user@example.com").await;
        let internet = options_for(db, "198.51.100.7").await;
        let remote = Sender::new("someone@remote.test", None);
        for rcpt in RELAY_ATTEMPTS {
            assert_not_relayed(db, internet, &remote, rcpt, e).await;
        }
        let r = resolve::rcpt(db, internet, &remote, "user%remote.test@example.com").await.unwrap();
        assert_eq!(
            targets(&r.recipients),
            [("user@example.com".into(), user.id)],
            "{e}: plus char % strips, stays local"
        );
        let r = resolve::rcpt(db, internet, &remote, "remote.test!user@example.com").await.unwrap();
        assert_eq!(targets(&r.recipients), [("user@example.com".into(), user.id)], "{e}: caught, not relayed");
        env.finish().await;
    }
}

#[tokio::test]
async fn internet_range_accepts_inbound_and_authenticated_relay() {
    for env in engines("rr_positive").await {
        let (db, e) = (env.db(), env.engine);
        example(&env).await;
        let internet = options_for(db, "203.0.113.9").await;

        // Remote → local without authentication; the null sender (bounces) too.
        for sender in ["someone@remote.test", ""] {
            let r = resolve::rcpt(db, internet, &Sender::new(sender, None), "User@Example.com").await.unwrap();
            assert!(r.recipient_local && r.recipients[0].is_local(), "{e}: {sender:?}");
        }
        // Authenticated sessions may relay, whatever the sender address.
        for sender in ["user@example.com", "someone@remote.test", ""] {
            let s = Sender::new(sender, Some("user@example.com"));
            let r = resolve::rcpt(db, internet, &s, "friend@remote.test").await.unwrap();
            assert_eq!(targets(&r.recipients), [("friend@remote.test".into(), 0)], "{e}: {sender:?}");
            assert!(resolve::rcpt(db, internet, &s, "user@example.com").await.is_ok(), "{e}");
        }
        // The two steps apart, as a greylisting session runs them.
        let a = resolve::authorize(db, internet, &Sender::new("someone@remote.test", None), "user@example.com").await;
        let a = a.unwrap();
        assert!(!a.sender_local && a.recipient_local, "{e}");
        let expanded = resolve::expand(db, "user@example.com").await.unwrap();
        assert_eq!(expanded.len(), 1, "{e}");
        assert_eq!(
            resolve::expand(db, "ghost@example.com").await.unwrap_err().refusal(),
            Some(Refusal::UnknownUser),
            "{e}"
        );
        env.finish().await;
    }
}

#[tokio::test]
async fn my_computer_range_lets_local_senders_relay() {
    for env in engines("rr_my_computer").await {
        let (db, e) = (env.db(), env.engine);
        example(&env).await;
        let local = options_for(db, "127.0.0.1").await;
        assert_eq!(local, 71627, "{e}");

        let from_local = Sender::new("user@example.com", None);
        let from_remote = Sender::new("someone@remote.test", None);
        let r = resolve::rcpt(db, local, &from_local, "friend@remote.test").await.unwrap();
        assert_eq!(targets(&r.recipients), [("friend@remote.test".into(), 0)], "{e}: L→E needs no auth here");
        assert!(resolve::rcpt(db, local, &from_local, "user@example.com").await.is_ok(), "{e}");
        assert!(resolve::rcpt(db, local, &from_remote, "user@example.com").await.is_ok(), "{e}");
        let r = resolve::rcpt(db, local, &from_remote, "friend@remote.test").await;
        assert_eq!(reply(&r), "530 5.7.0 SMTP authentication is required.", "{e}: E→E still needs auth");
        let authed = Sender::new("someone@remote.test", Some("user@example.com"));
        assert!(resolve::rcpt(db, local, &authed, "friend@remote.test").await.is_ok(), "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn relay_bits_bind_authenticated_sessions() {
    for env in engines("rr_relay_bits").await {
        let (db, e) = (env.db(), env.engine);
        example(&env).await;
        let inbound_only = range::SMTP | range::RELAY_REMOTE_TO_LOCAL | range::RELAY_LOCAL_TO_LOCAL;
        let authed = Sender::new("user@example.com", Some("user@example.com"));
        let r = resolve::rcpt(db, inbound_only, &authed, "friend@remote.test").await;
        assert_eq!(reply(&r), "550 5.7.1 Delivery is not allowed to this address.", "{e}");
        let r = resolve::rcpt(db, range::SMTP, &Sender::new("a@remote.test", None), "user@example.com").await;
        assert_eq!(reply(&r), "550 5.7.1 Delivery is not allowed to this address.", "{e}");
        // Resolution refusals come before the relay policy.
        let r = resolve::rcpt(db, range::SMTP, &authed, "ghost@example.com").await;
        assert_eq!(reply(&r), "550 5.1.1 Unknown user", "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn local_senders_and_recipients_follow_domains_and_routes() {
    for env in engines("rr_local_sender").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        env.domain_alias(&d, "example.net").await;
        env.account(&d, "user@example.com").await;
        let mut off = domains::Domain::new("off.test");
        off.active = false;
        env.domain_with(off).await;
        env.route("partner.test", &[], false, true).await;
        env.route("*.branch.test", &["boss@hq.branch.test"], true, true).await;
        env.route("plain.test", &[], false, false).await;

        for (sender, want) in [
            ("user@example.com", true),
            ("anyone@EXAMPLE.NET", true),
            ("x@off.test", false),
            ("x@partner.test", true),
            ("boss@HQ.branch.test", true),
            ("clerk@hq.branch.test", false),
            ("x@plain.test", false),
            ("x@remote.test", false),
            ("", false),
        ] {
            assert_eq!(policy::sender_is_local(db, sender).await.unwrap(), want, "{e}: {sender:?}");
        }

        // Only local→external relaying, no authentication: routes decide who counts as local.
        let outbound = range::SMTP | range::RELAY_LOCAL_TO_REMOTE;
        let r = resolve::rcpt(db, outbound, &Sender::new("x@partner.test", None), "friend@remote.test").await;
        assert!(r.is_ok(), "{e}: {}", reply(&r));
        let r = resolve::rcpt(db, outbound, &Sender::new("x@plain.test", None), "friend@remote.test").await;
        assert_eq!(reply(&r), "550 5.7.1 Delivery is not allowed to this address.", "{e}");
        // Only external→local: a route treating recipients as local counts as local.
        let inbound = range::SMTP | range::RELAY_REMOTE_TO_LOCAL;
        let s = Sender::new("a@remote.test", None);
        let r = resolve::rcpt(db, inbound, &s, "boss@hq.branch.test").await.unwrap();
        assert!(r.recipient_local && r.recipients[0].local_name, "{e}");
        let r = resolve::rcpt(db, inbound, &s, "x@plain.test").await;
        assert_eq!(reply(&r), "550 5.7.1 Delivery is not allowed to this address.", "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn envelope_addresses_follow_the_settings() {
    for env in engines("rr_settings").await {
        let (db, e) = (env.db(), env.engine);
        example(&env).await;
        let rules = AddressRules::load(db).await.unwrap();
        assert!(rules.allow_null_sender, "{e}: hMailServer's default allows <>");
        settings::set_string(db, "defaultdomain", "example.com").await.unwrap();
        settings::set_integer(db, "allowmailfromnull", 0).await.unwrap();
        let rules = AddressRules::load(db).await.unwrap();
        assert_eq!(rules.qualify_sender(""), Err(Refusal::NullSenderNotAllowed), "{e}");
        assert_eq!(Refusal::NullSenderNotAllowed.to_string(), "550 5.1.7 Sender address must be specified.");
        let sender = rules.qualify_sender("user").unwrap();
        assert_eq!(sender, "user@example.com", "{e}");
        let rcpt = rules.qualify_recipient("USER").unwrap();
        let internet = options_for(db, "203.0.113.9").await;
        let r = resolve::rcpt(db, internet, &Sender::new("a@remote.test", None), &rcpt).await.unwrap();
        assert!(r.recipients[0].is_local(), "{e}");
        // The qualified sender is local: unauthenticated it may not even write to a local user.
        let r = resolve::rcpt(db, internet, &Sender::new(&sender, None), &rcpt).await;
        assert_eq!(reply(&r), "530 5.7.0 SMTP authentication is required.", "{e}");
        env.finish().await;
    }
}
