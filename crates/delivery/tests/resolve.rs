//! Recipient resolution on every engine: accounts, case, inactive objects, domain aliases, plus
//! addressing, alias chains, distribution lists, catch-alls, routes and duplicates — each in
//! hMailServer's order (`RecipientParser.cpp`).

mod resolve_support;

use altimail_core::codes::ListMode;
use altimail_delivery::resolve::{self, Refusal, Sender, merge};
use altimail_store::repo::{accounts, aliases, domains, lists};

use resolve_support::{addresses, engines, reply, targets};

const REMOTE: Sender<'static> = Sender { address: "someone@remote.test", authenticated_as: None };

#[tokio::test]
async fn accounts_match_without_case_and_external_domains_pass_through() {
    for env in engines("rs_accounts").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        let john = env.account(&d, "John@Example.com").await;

        let r = resolve::recipients(db, &REMOTE, "john@example.com").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("john@example.com".into(), john.id)], "{e}");
        assert_eq!((r.recipients[0].original_address.as_str(), r.recipients[0].local_name), ("john@example.com", true));

        let r = resolve::recipients(db, &REMOTE, "JOHN@EXAMPLE.COM").await.unwrap();
        assert_eq!(targets(&r.recipients), [("JOHN@EXAMPLE.COM".into(), john.id)], "{e}: address as given");

        let r = resolve::recipients(db, &REMOTE, "nobody@example.com").await;
        assert_eq!(reply(&r), "550 5.1.1 Unknown user", "{e}");

        let r = resolve::recipients(db, &REMOTE, "Someone@Elsewhere.Test").await.unwrap();
        assert!(!r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("Someone@Elsewhere.Test".into(), 0)], "{e}");
        assert!(!r.recipients[0].local_name && !r.recipients[0].is_local(), "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn inactive_domains_accounts_aliases_and_lists_are_refused() {
    for env in engines("rs_inactive").await {
        let (db, e) = (env.db(), env.engine);
        let mut off = domains::Domain::new("off.test");
        off.active = false;
        let off = env.domain_with(off).await;
        env.account(&off, "a@off.test").await;
        let d = env.domain("example.com").await;
        let mut sleeper = env.account(&d, "sleeper@example.com").await;
        sleeper.active = false;
        accounts::update(db, &sleeper).await.unwrap();
        let mut alias = env.alias(&d, "old@example.com", "sleeper@example.com").await;
        alias.active = false;
        aliases::update(db, &alias).await.unwrap();
        let mut list = env.list(&d, "closed@example.com", ListMode::Public, &["a@off.test"]).await;
        list.enabled = false;
        lists::update(db, &list).await.unwrap();

        let cases = [
            ("a@off.test", "550 5.7.1 Domain has been disabled."),
            ("anything@OFF.test", "550 5.7.1 Domain has been disabled."),
            ("sleeper@example.com", "550 5.7.1 Account is not active."),
            ("old@example.com", "550 5.7.1 Alias is not active."),
            ("closed@example.com", "550 5.7.1 Distribution list is not active."),
        ];
        for (rcpt, want) in cases {
            assert_eq!(reply(&resolve::recipients(db, &REMOTE, rcpt).await), want, "{e}: {rcpt}");
        }
        let err = resolve::recipients(db, &REMOTE, "a@off.test").await.unwrap_err();
        assert_eq!(err.refusal(), Some(Refusal::DomainDisabled), "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn domain_aliases_rewrite_to_the_real_domain() {
    for env in engines("rs_domain_aliases").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        env.domain_alias(&d, "example.net").await;
        let john = env.account(&d, "john@example.com").await;
        env.alias(&d, "info@example.com", "john@EXAMPLE.NET").await;

        let r = resolve::recipients(db, &REMOTE, "john@EXAMPLE.NET").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("john@example.com".into(), john.id)], "{e}");
        assert_eq!(r.recipients[0].original_address, "john@EXAMPLE.NET", "{e}");

        let r = resolve::recipients(db, &REMOTE, "info@example.net").await.unwrap();
        assert_eq!(targets(&r.recipients), [("john@example.com".into(), john.id)], "{e}: alias via domain alias");
        assert_eq!(reply(&resolve::recipients(db, &REMOTE, "ghost@example.net").await), "550 5.1.1 Unknown user");
        env.finish().await;
    }
}

#[tokio::test]
async fn plus_addressing_strips_at_the_domains_character() {
    for env in engines("rs_plus").await {
        let (db, e) = (env.db(), env.engine);
        let mut plus = domains::Domain::new("plus.test");
        plus.plus_addressing = true;
        let plus = env.domain_with(plus).await;
        env.domain_alias(&plus, "plus-alias.test").await;
        let mut dash = domains::Domain::new("dash.test");
        dash.plus_addressing = true;
        dash.plus_addressing_char = "-".into();
        let dash = env.domain_with(dash).await;
        let off = env.domain("off.test").await;
        let p = env.account(&plus, "john@plus.test").await;
        let d = env.account(&dash, "john@dash.test").await;
        env.account(&off, "john@off.test").await;

        for (rcpt, want, id) in [
            ("john+news@plus.test", "john@plus.test", p.id),
            ("John+a+b@Plus.Test", "John@Plus.Test", p.id),
            ("john+x@plus-alias.test", "john@plus.test", p.id),
            ("john-news@dash.test", "john@dash.test", d.id),
        ] {
            let r = resolve::recipients(db, &REMOTE, rcpt).await.unwrap_or_else(|err| panic!("{e}: {rcpt}: {err}"));
            assert_eq!(targets(&r.recipients), [(want.into(), id)], "{e}: {rcpt}");
            assert_eq!(r.recipients[0].original_address, rcpt, "{e}");
        }
        for rcpt in ["john+news@dash.test", "john+x@off.test"] {
            assert_eq!(reply(&resolve::recipients(db, &REMOTE, rcpt).await), "550 5.1.1 Unknown user", "{e}: {rcpt}");
        }
        env.finish().await;
    }
}

#[tokio::test]
async fn alias_chains_resolve_up_to_25_levels_and_loops_are_refused() {
    for env in engines("rs_alias_chains").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        let john = env.account(&d, "john@example.com").await;
        // c0 → c1 → … → c24 → john.
        for i in 0..25 {
            let next = if i == 24 { "john@example.com".to_owned() } else { format!("c{}@example.com", i + 1) };
            env.alias(&d, &format!("c{i}@example.com"), &next).await;
        }
        env.alias(&d, "loop1@example.com", "loop2@example.com").await;
        env.alias(&d, "loop2@example.com", "LOOP1@example.com").await;
        env.alias(&d, "fwd@example.com", "Friend@Remote.Test").await;

        // c1: 24 aliases, the account is reached at level 25.
        let r = resolve::recipients(db, &REMOTE, "c1@example.com").await.unwrap();
        assert_eq!(targets(&r.recipients), [("john@example.com".into(), john.id)], "{e}");
        assert_eq!(r.recipients[0].original_address, "c1@example.com", "{e}");
        // c0: one level too many.
        let too_deep = "550 5.4.6 Mail server configuration error. Too many recursive forwards.";
        assert_eq!(reply(&resolve::recipients(db, &REMOTE, "c0@example.com").await), too_deep, "{e}");
        assert_eq!(reply(&resolve::recipients(db, &REMOTE, "loop1@example.com").await), too_deep, "{e}");

        // An alias of a local domain pointing outside: local for the relay policy, external target.
        let r = resolve::recipients(db, &REMOTE, "fwd@example.com").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("Friend@Remote.Test".into(), 0)], "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn distribution_lists_apply_their_sender_rules() {
    for env in engines("rs_lists").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        env.domain_alias(&d, "example.net").await;
        let other = env.domain("other.test").await;
        let john = env.account(&d, "john@example.com").await;
        let jane = env.account(&d, "jane@example.com").await;
        env.account(&other, "bob@other.test").await;

        env.list(
            &d,
            "all@example.com",
            ListMode::Public,
            &["outside@remote.test", "john@example.com", "jane@example.com"],
        )
        .await;
        env.list(&d, "members@example.com", ListMode::Membership, &["john@example.net", "jane@example.com"]).await;
        let mut news = env.list(&d, "news@example.com", ListMode::Announcement, &["jane@example.com"]).await;
        news.require_address = "John@Example.com".into();
        lists::update(db, &news).await.unwrap();
        env.list(&d, "staff@example.com", ListMode::DomainMembers, &["jane@example.com"]).await;
        let mut auth = env.list(&d, "auth@example.com", ListMode::Public, &["jane@example.com"]).await;
        auth.require_auth = true;
        lists::update(db, &auth).await.unwrap();

        let from = |address| Sender { address, authenticated_as: None };

        // Public: anyone; members in hMailServer's order (by address).
        let r = resolve::recipients(db, &from("x@remote.test"), "all@example.com").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(addresses(&r), ["jane@example.com", "john@example.com", "outside@remote.test"], "{e}");
        assert_eq!(
            targets(&r.recipients)[..2],
            [("jane@example.com".into(), jane.id), ("john@example.com".into(), john.id)],
            "{e}"
        );
        assert!(r.recipients.iter().all(|r| r.original_address == "all@example.com"), "{e}");

        let cases: &[(&str, &str, Option<&str>)] = &[
            // Membership: the sender must be a member (domain aliases applied on both sides).
            ("members@example.com", "john@example.com", None),
            ("members@example.com", "JANE@EXAMPLE.COM", None),
            ("members@example.com", "john@example.net", None),
            ("members@example.com", "bob@other.test", Some("550 5.7.1 Not authorized sender.")),
            ("members@example.com", "", Some("550 5.7.1 Not authorized sender.")),
            // Announcement: only the required address.
            ("news@example.com", "john@example.com", None),
            ("news@example.com", "john@example.net", None),
            ("news@example.com", "jane@example.com", Some("550 5.7.1 Not authorized owner.")),
            // Domain members: the sender's domain is the list's.
            ("staff@example.com", "jane@example.com", None),
            ("staff@example.com", "someone@EXAMPLE.net", None),
            ("staff@example.com", "bob@other.test", Some("550 5.7.1 Not authorized domain.")),
            // Require authentication.
            ("auth@example.com", "jane@example.com", Some("550 5.7.1 SMTP authentication required.")),
        ];
        for (list, sender, want) in cases {
            let r = resolve::recipients(db, &from(sender), list).await;
            match want {
                None => assert!(r.is_ok(), "{e}: {sender} → {list}: {}", reply(&r)),
                Some(want) => assert_eq!(&reply(&r), want, "{e}: {sender} → {list}"),
            }
        }
        let authed = Sender { address: "whoever@remote.test", authenticated_as: Some("jane@example.com") };
        let r = resolve::recipients(db, &authed, "auth@example.com").await.unwrap();
        assert_eq!(addresses(&r), ["jane@example.com"], "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn nested_lists_apply_their_own_rules_and_cycles_terminate() {
    for env in engines("rs_nested_lists").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        env.account(&d, "john@example.com").await;
        env.account(&d, "jane@example.com").await;
        env.list(&d, "outer@example.com", ListMode::Public, &["jane@example.com", "inner@example.com"]).await;
        env.list(&d, "inner@example.com", ListMode::Membership, &["john@example.com"]).await;
        env.list(&d, "outer2@example.com", ListMode::Public, &["inner2@example.com"]).await;
        let mut inner2 = env.list(&d, "inner2@example.com", ListMode::Public, &["john@example.com"]).await;
        inner2.require_auth = true;
        lists::update(db, &inner2).await.unwrap();
        env.list(&d, "loopa@example.com", ListMode::Public, &["loopb@example.com", "jane@example.com"]).await;
        env.list(
            &d,
            "loopb@example.com",
            ListMode::Public,
            &["loopa@example.com", "john@example.com", "loopb@example.com"],
        )
        .await;
        env.list(&d, "mixed@example.com", ListMode::Public, &["ghost@example.com", "jane@example.com"]).await;
        env.list(&d, "ghosts@example.com", ListMode::Public, &["ghost@example.com"]).await;

        let john = Sender { address: "john@example.com", authenticated_as: None };
        let stranger = Sender { address: "x@remote.test", authenticated_as: None };

        // The inner membership list refuses a stranger, so the outer list does too.
        let r = resolve::recipients(db, &stranger, "outer@example.com").await;
        assert_eq!(reply(&r), "550 5.7.1 Not authorized sender.", "{e}");
        let r = resolve::recipients(db, &john, "outer@example.com").await.unwrap();
        assert_eq!(addresses(&r), ["john@example.com", "jane@example.com"], "{e}: inner (sorted first), then jane");
        let r = resolve::recipients(db, &john, "outer2@example.com").await;
        assert_eq!(reply(&r), "550 5.7.1 SMTP authentication required.", "{e}: nested require-auth");

        // Lists containing each other (and themselves) end, each member once.
        let r = resolve::recipients(db, &stranger, "loopa@example.com").await.unwrap();
        assert_eq!(addresses(&r), ["jane@example.com", "john@example.com"], "{e}");

        // Unknown members are skipped; a list reaching nobody is an unknown user.
        let r = resolve::recipients(db, &stranger, "mixed@example.com").await.unwrap();
        assert_eq!(addresses(&r), ["jane@example.com"], "{e}");
        assert_eq!(reply(&resolve::recipients(db, &stranger, "ghosts@example.com").await), "550 5.1.1 Unknown user");
        env.finish().await;
    }
}

#[tokio::test]
async fn catch_all_receives_unknown_addresses() {
    for env in engines("rs_catch_all").await {
        let (db, e) = (env.db(), env.engine);
        let mut a = domains::Domain::new("a.test");
        a.catch_all = "catch@a.test".into();
        let a = env.domain_with(a).await;
        let catch = env.account(&a, "catch@a.test").await;
        let mut sleeper = env.account(&a, "sleeper@a.test").await;
        sleeper.active = false;
        accounts::update(db, &sleeper).await.unwrap();
        let mut b = domains::Domain::new("b.test");
        b.catch_all = "info@b.test".into();
        let b = env.domain_with(b).await;
        env.alias(&b, "info@b.test", "catch@a.test").await;
        let mut c = domains::Domain::new("c.test");
        c.catch_all = "nobody@c.test".into();
        env.domain_with(c).await;
        let mut x = domains::Domain::new("x.test");
        x.catch_all = "postmaster@remote.test".into();
        env.domain_with(x).await;

        let r = resolve::recipients(db, &REMOTE, "Unknown@A.test").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("catch@a.test".into(), catch.id)], "{e}");
        assert_eq!(r.recipients[0].original_address, "Unknown@A.test", "{e}");
        let r = resolve::recipients(db, &REMOTE, "who@b.test").await.unwrap();
        assert_eq!(targets(&r.recipients), [("catch@a.test".into(), catch.id)], "{e}: catch-all through an alias");
        let r = resolve::recipients(db, &REMOTE, "who@x.test").await.unwrap();
        assert_eq!((r.recipient_local, targets(&r.recipients)), (true, vec![("postmaster@remote.test".into(), 0)]));
        // A catch-all that is itself unknown in its domain loops until the depth limit.
        let r = resolve::recipients(db, &REMOTE, "who@c.test").await;
        assert_eq!(reply(&r), "550 5.4.6 Mail server configuration error. Too many recursive forwards.", "{e}");
        // Existing but inactive accounts are not caught.
        assert_eq!(
            reply(&resolve::recipients(db, &REMOTE, "sleeper@a.test").await),
            "550 5.7.1 Account is not active."
        );
        env.finish().await;
    }
}

#[tokio::test]
async fn routes_match_wildcards_and_address_lists() {
    for env in engines("rs_routes").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        env.account(&d, "john@example.com").await;
        env.route("mx?.partner.test", &["Known@mx1.partner.test"], true, false).await;
        env.route("*.order.test", &[], false, false).await;
        env.route("a.order.test", &["x@a.order.test"], true, false).await;
        env.route("example.com", &["legacy@example.com"], false, false).await;
        let mut q = domains::Domain::new("quirk.test");
        q.catch_all = "catch@quirk.test".into();
        let q = env.domain_with(q).await;
        let qc = env.account(&q, "catch@quirk.test").await;
        env.route("quirk.test", &[], false, false).await;

        // A covered address of a route treating recipients as local.
        let r = resolve::recipients(db, &REMOTE, "known@MX1.partner.test").await.unwrap();
        assert!(r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("known@MX1.partner.test".into(), 0)], "{e}");
        assert!(r.recipients[0].local_name, "{e}");
        let r = resolve::recipients(db, &REMOTE, "other@mx2.partner.test").await;
        assert_eq!(reply(&r), "550 5.1.1 Recipient not in route list.", "{e}");
        // `?` is exactly one character: mx12 is not routed, just external.
        let r = resolve::recipients(db, &REMOTE, "other@mx12.partner.test").await.unwrap();
        assert!(!r.recipient_local && !r.recipients[0].local_name, "{e}");

        // Routes are tried by pattern order: "*.order.test" sorts before "a.order.test".
        let r = resolve::recipients(db, &REMOTE, "y@a.order.test").await.unwrap();
        assert!(!r.recipient_local, "{e}: the wildcard route (not treating as local) won");

        // A route for a local domain: accounts first, then the route's addresses.
        let r = resolve::recipients(db, &REMOTE, "john@example.com").await.unwrap();
        assert!(r.recipients[0].is_local(), "{e}");
        let r = resolve::recipients(db, &REMOTE, "Legacy@Example.com").await.unwrap();
        assert_eq!(targets(&r.recipients), [("Legacy@Example.com".into(), 0)], "{e}");
        assert!(!r.recipient_local, "{e}: the route's treat-as-local replaces the local domain's");
        let r = resolve::recipients(db, &REMOTE, "ghost@example.com").await;
        assert_eq!(reply(&r), "550 5.1.1 Recipient not in route list.", "{e}");

        // hMailServer quirk: a route covering a local domain with a catch-all delivers to both.
        let r = resolve::recipients(db, &REMOTE, "who@quirk.test").await.unwrap();
        assert_eq!(targets(&r.recipients), [("who@quirk.test".into(), 0), ("catch@quirk.test".into(), qc.id)], "{e}");
        env.finish().await;
    }
}

#[tokio::test]
async fn duplicates_collapse_without_case() {
    for env in engines("rs_duplicates").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        let john = env.account(&d, "john@example.com").await;
        env.alias(&d, "alias-john@example.com", "john@example.com").await;
        env.list(
            &d,
            "dup@example.com",
            ListMode::Public,
            &[
                "john@example.com",
                "JOHN@example.com",
                "alias-john@example.com",
                "Friend@remote.test",
                "friend@REMOTE.test",
            ],
        )
        .await;

        let r = resolve::recipients(db, &REMOTE, "dup@example.com").await.unwrap();
        assert_eq!(
            targets(&r.recipients),
            [("john@example.com".into(), john.id), ("Friend@remote.test".into(), 0)],
            "{e}"
        );

        // Across RCPT commands, as the session adds them to one message.
        let mut all = Vec::new();
        for rcpt in ["john@example.com", "JOHN@EXAMPLE.COM", "alias-john@example.com", "dup@example.com"] {
            merge(&mut all, resolve::recipients(db, &REMOTE, rcpt).await.unwrap().recipients);
        }
        assert_eq!(targets(&all), [("john@example.com".into(), john.id), ("Friend@remote.test".into(), 0)], "{e}");
        env.finish().await;
    }
}
