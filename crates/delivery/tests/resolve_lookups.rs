//! Recipient resolution looks names up one by one (by index) rather than reading whole tables:
//! the corners of that on every engine — domain aliases that are duplicated, dangling or in
//! another case, route address lists shared between routes, senders behind a domain alias, and
//! large lists with duplicates.

mod resolve_support;

use altimail_core::codes::{ListMode, range};
use altimail_delivery::resolve::{self, Sender, policy};

use resolve_support::{addresses, engines, reply, targets};

const REMOTE: Sender<'static> = Sender { address: "someone@remote.test", authenticated_as: None };

#[tokio::test]
async fn domain_aliases_resolve_by_name_without_case_first_added_first() {
    for env in engines("rl_domain_aliases").await {
        let (db, e) = (env.db(), env.engine);
        let first = env.domain("first.test").await;
        let second = env.domain("second.test").await;
        let a1 = env.account(&first, "john@first.test").await;
        env.account(&second, "john@second.test").await;
        env.domain_alias(&first, "Other.Test").await;
        // A second alias of the same name, as a hand-edited database may hold: the first wins.
        db.execute("INSERT INTO hm_domain_aliases (dadomainid, daalias) VALUES (?, 'other.test')", &[second.id.into()])
            .await
            .unwrap();
        let r = resolve::recipients(db, &REMOTE, "JOHN@other.TEST").await.unwrap();
        assert_eq!(targets(&r.recipients), [("JOHN@first.test".into(), a1.id)], "{e}");

        // An alias whose domain is gone: the name stands for itself, an external domain.
        let gone = env.domain("gone.test").await;
        env.domain_alias(&gone, "was.test").await;
        db.execute("DELETE FROM hm_domains WHERE domainid = ?", &[gone.id.into()]).await.unwrap();
        let r = resolve::recipients(db, &REMOTE, "x@was.test").await.unwrap();
        assert!(!r.recipient_local, "{e}");
        assert_eq!(targets(&r.recipients), [("x@was.test".into(), 0)], "{e}");

        // A sender behind a domain alias is a local sender; one of a dangling alias is not.
        assert!(policy::sender_is_local(db, "anyone@OTHER.test").await.unwrap(), "{e}");
        assert!(!policy::sender_is_local(db, "anyone@was.test").await.unwrap(), "{e}");
        let internet = 96203;
        let r = resolve::rcpt(db, internet, &Sender::new("anyone@other.test", None), "friend@remote.test").await;
        assert_eq!(reply(&r), "530 5.7.0 SMTP authentication is required.", "{e}: local sender, relaying");
        env.finish().await;
    }
}

#[tokio::test]
async fn a_routes_listed_addresses_count_for_that_route_only() {
    for env in engines("rl_routes").await {
        let (db, e) = (env.db(), env.engine);
        // "*.test" sorts before "b.test": it is the route for b.test, and lists nobody there.
        env.route("*.test", &["x@c.test"], false, false).await;
        env.route("b.test", &["x@b.test"], true, false).await;
        env.route("d.example", &["Mixed@D.Example", "other@d.example"], true, true).await;

        let r = resolve::recipients(db, &REMOTE, "x@b.test").await;
        assert_eq!(reply(&r), "550 5.1.1 Recipient not in route list.", "{e}");
        let r = resolve::recipients(db, &REMOTE, "X@C.test").await.unwrap();
        assert_eq!(targets(&r.recipients), [("X@C.test".into(), 0)], "{e}");
        assert!(!r.recipient_local, "{e}");

        let r = resolve::recipients(db, &REMOTE, "mixed@d.example").await.unwrap();
        assert!(r.recipient_local && r.recipients[0].local_name, "{e}");
        assert_eq!(
            reply(&resolve::recipients(db, &REMOTE, "third@d.example").await),
            "550 5.1.1 Recipient not in route list."
        );

        // A route sender counts as local only for its listed addresses.
        assert!(policy::sender_is_local(db, "OTHER@d.example").await.unwrap(), "{e}");
        assert!(!policy::sender_is_local(db, "third@d.example").await.unwrap(), "{e}");
        let local_only = range::SMTP | range::RELAY_LOCAL_TO_REMOTE;
        let r = resolve::rcpt(db, local_only, &Sender::new("other@d.example", None), "far@remote.example").await;
        assert!(r.is_ok(), "{e}: {}", reply(&r));
        env.finish().await;
    }
}

#[tokio::test]
async fn a_large_list_expands_each_member_once_in_order() {
    for env in engines("rl_large_list").await {
        let (db, e) = (env.db(), env.engine);
        let d = env.domain("example.com").await;
        let mut members: Vec<String> = Vec::new();
        for i in 0..150 {
            env.account(&d, &format!("m{i:03}@example.com")).await;
            members.push(format!("m{i:03}@example.com"));
            members.push(format!("far{i:03}@remote.test"));
        }
        // Duplicates in another case, and an empty member.
        members.push("M007@EXAMPLE.COM".into());
        members.push("FAR007@remote.test".into());
        members.push(String::new());
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        env.list(&d, "all@example.com", ListMode::Public, &refs).await;

        let r = resolve::recipients(db, &REMOTE, "all@example.com").await.unwrap();
        let got = addresses(&r);
        assert_eq!(got.len(), 300, "{e}");
        // Members in hMailServer's order (by address, without case), each once.
        let mut want: Vec<String> = members.iter().filter(|m| !m.is_empty()).cloned().collect();
        want.sort_by_key(|m| m.to_uppercase());
        want.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>(), "{e}");
        assert_eq!(r.recipients.iter().filter(|r| r.is_local()).count(), 150, "{e}");
        env.finish().await;
    }
}
