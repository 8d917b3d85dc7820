//! The administration service on every database: hMailServer's rules, the domain's limits and
//! sizes, and who may do what.

use altimail_admin::{
    AccountChanges, Admin, AdminError, AliasChanges, Caller, DomainChanges, NewAccount, NewAlias, NewDomain, NewList,
};
use altimail_core::codes::ListMode;
use altimail_store::Store;
use altimail_testkit::{ScratchDb, backends};

async fn open(db: &ScratchDb, data: &std::path::Path) -> Admin {
    Admin::new(Store::open(&db.config, data, true).await.unwrap_or_else(|e| panic!("{}: open: {e}", db.engine)))
}

fn root() -> Caller {
    Caller::administrator("test")
}

fn account(address: &str, quota_mb: i64, admin_level: i64) -> NewAccount {
    NewAccount { address: address.into(), password: Some("secret-pw".into()), quota_mb, active: true, admin_level }
}

/// Two domains with an account of each admin level in example.com and one in other.test.
async fn two_domains(admin: &Admin) {
    let me = root();
    for name in ["example.com", "other.test"] {
        admin.create_domain(&me, &NewDomain { name: name.into(), active: true }).await.unwrap();
    }
    admin.create_account(&me, &account("boss@example.com", 0, 2)).await.unwrap();
    admin.create_account(&me, &account("dom@example.com", 0, 1)).await.unwrap();
    admin.create_account(&me, &account("john@example.com", 0, 0)).await.unwrap();
    admin.create_account(&me, &account("mary@other.test", 0, 0)).await.unwrap();
}

async fn caller(admin: &Admin, address: &str) -> Caller {
    admin.authenticate(address, "secret-pw", "test").await.unwrap()
}

#[tokio::test]
async fn quotas_follow_the_domain_on_add_and_on_change() {
    for db in backends("admin_quota").await {
        let data = tempfile::tempdir().unwrap();
        let admin = open(&db, data.path()).await;
        let (me, e) = (root(), db.engine);
        two_domains(&admin).await;
        let limit = DomainChanges { max_account_size_mb: Some(100), ..Default::default() };
        admin.update_domain(&me, "example.com", &limit).await.unwrap();
        // Adding and changing an account obey the same largest account size.
        let over = admin.create_account(&me, &account("big@example.com", 101, 0)).await;
        assert!(matches!(over, Err(AdminError::Invalid(ref m)) if m.contains("at most 100 MB")), "{e}: {over:?}");
        admin.create_account(&me, &account("ok@example.com", 100, 0)).await.unwrap();
        let set = |q| AccountChanges { quota_mb: Some(q), ..Default::default() };
        let over = admin.update_account(&me, "ok@example.com", &set(101)).await;
        assert!(matches!(over, Err(AdminError::Invalid(ref m)) if m.contains("at most 100 MB")), "{e}: {over:?}");
        let unlimited = admin.update_account(&me, "ok@example.com", &set(0)).await;
        assert!(matches!(unlimited, Err(AdminError::Invalid(_))), "{e}: {unlimited:?}");
        assert!(matches!(admin.update_account(&me, "ok@example.com", &set(-1)).await, Err(AdminError::Invalid(_))));
        assert_eq!(admin.update_account(&me, "ok@example.com", &set(50)).await.unwrap().max_size_mb, 50, "{e}");
        // The domain size: all quotas together fit in it.
        admin
            .update_domain(&me, "other.test", &DomainChanges { max_size_mb: Some(100), ..Default::default() })
            .await
            .unwrap();
        admin.update_account(&me, "mary@other.test", &set(60)).await.unwrap();
        let full = admin.create_account(&me, &account("joe@other.test", 41, 0)).await;
        assert!(matches!(full, Err(AdminError::LimitReached(_))), "{e}: {full:?}");
        admin.create_account(&me, &account("joe@other.test", 40, 0)).await.unwrap();
        assert!(matches!(
            admin.update_account(&me, "joe@other.test", &set(41)).await,
            Err(AdminError::LimitReached(_))
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn domain_limits_count_accounts_aliases_and_lists() {
    for db in backends("admin_limits").await {
        let data = tempfile::tempdir().unwrap();
        let admin = open(&db, data.path()).await;
        let (me, e) = (root(), db.engine);
        admin.create_domain(&me, &NewDomain { name: "example.com".into(), active: true }).await.unwrap();
        let limits =
            DomainChanges { max_accounts: Some(1), max_aliases: Some(1), max_lists: Some(1), ..Default::default() };
        admin.update_domain(&me, "example.com", &limits).await.unwrap();
        admin.create_account(&me, &account("a@example.com", 0, 0)).await.unwrap();
        let r = admin.create_account(&me, &account("b@example.com", 0, 0)).await;
        assert!(matches!(r, Err(AdminError::LimitReached(_))), "{e}: {r:?}");
        let alias = |n: &str| NewAlias { name: n.into(), target: "a@example.com".into(), active: true };
        admin.create_alias(&me, &alias("x@example.com")).await.unwrap();
        assert!(matches!(admin.create_alias(&me, &alias("y@example.com")).await, Err(AdminError::LimitReached(_))));
        let list = |a: &str| NewList {
            address: a.into(),
            mode: ListMode::Public,
            require_auth: false,
            require_address: String::new(),
            active: true,
        };
        admin.create_list(&me, &list("l1@example.com")).await.unwrap();
        assert!(matches!(admin.create_list(&me, &list("l2@example.com")).await, Err(AdminError::LimitReached(_))));
        // Names: the address space is shared, addresses belong to an existing domain.
        let taken = admin.create_list(&me, &list("a@example.com")).await;
        assert!(matches!(taken, Err(AdminError::Conflict(_) | AdminError::LimitReached(_))), "{e}: {taken:?}");
        let nowhere = admin.create_alias(&me, &alias("x@nowhere.test")).await;
        assert!(matches!(nowhere, Err(AdminError::NotFound(_))), "{e}: {nowhere:?}");
        let itself = admin
            .update_alias(&me, "x@example.com", &AliasChanges { target: Some("X@example.com".into()), active: None })
            .await;
        assert!(matches!(itself, Err(AdminError::Invalid(_))), "{e}: {itself:?}");
        let bad = admin.create_domain(&me, &NewDomain { name: "not a domain".into(), active: true }).await;
        assert!(matches!(bad, Err(AdminError::Invalid(_))), "{e}: {bad:?}");
        let announcement = NewList { mode: ListMode::Announcement, ..list("l3@example.com") };
        assert!(matches!(admin.create_list(&me, &announcement).await, Err(AdminError::Invalid(_))));
        // Lifting a limit (0) lets more in.
        admin
            .update_domain(&me, "example.com", &DomainChanges { max_accounts: Some(0), ..Default::default() })
            .await
            .unwrap();
        admin.create_account(&me, &account("b@example.com", 0, 0)).await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn domain_administrators_stay_in_their_domain() {
    for db in backends("admin_domain_admin").await {
        let data = tempfile::tempdir().unwrap();
        let admin = open(&db, data.path()).await;
        let e = db.engine;
        two_domains(&admin).await;
        let dom = caller(&admin, "dom@example.com").await;
        // Its own domain: read, accounts, aliases, lists.
        let names: Vec<String> = admin.list_domains(&dom).await.unwrap().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["example.com"], "{e}");
        assert_eq!(admin.list_accounts(&dom, None).await.unwrap().len(), 3, "{e}");
        admin.get_domain(&dom, "example.com").await.unwrap();
        admin.create_account(&dom, &account("new@example.com", 0, 1)).await.unwrap();
        admin
            .create_alias(
                &dom,
                &NewAlias { name: "x@example.com".into(), target: "mary@other.test".into(), active: true },
            )
            .await
            .unwrap();
        admin
            .update_account(&dom, "john@example.com", &AccountChanges { quota_mb: Some(5), ..Default::default() })
            .await
            .unwrap();
        // Not another domain, whether the object exists or not.
        for r in [
            admin.get_domain(&dom, "other.test").await.map(|_| ()),
            admin.get_account(&dom, "mary@other.test").await.map(|_| ()),
            admin.get_account(&dom, "ghost@other.test").await.map(|_| ()),
            admin.list_accounts(&dom, Some("other.test")).await.map(|_| ()),
            admin.list_aliases(&dom, Some("other.test")).await.map(|_| ()),
            admin.create_account(&dom, &account("x@other.test", 0, 0)).await.map(|_| ()),
            admin.update_account(&dom, "mary@other.test", &AccountChanges::default()).await.map(|_| ()),
            admin.delete_account(&dom, "mary@other.test", true).await.map(|_| ()),
        ] {
            assert!(matches!(r, Err(AdminError::Forbidden(_))), "{e}: {r:?}");
        }
        // Not the server's business: domains, limits, server administrators.
        for r in [
            admin.create_domain(&dom, &NewDomain { name: "mine.test".into(), active: true }).await.map(|_| ()),
            admin.delete_domain(&dom, "example.com", true).await.map(|_| ()),
            admin
                .update_domain(&dom, "example.com", &DomainChanges { max_accounts: Some(99), ..Default::default() })
                .await
                .map(|_| ()),
            admin.create_account(&dom, &account("root@example.com", 0, 2)).await.map(|_| ()),
            admin
                .update_account(
                    &dom,
                    "john@example.com",
                    &AccountChanges { admin_level: Some(2), ..Default::default() },
                )
                .await
                .map(|_| ()),
            admin
                .update_account(
                    &dom,
                    "boss@example.com",
                    &AccountChanges { password: Some("mine".into()), ..Default::default() },
                )
                .await
                .map(|_| ()),
            admin.add_domain_alias(&dom, "example.com", "example.net").await.map(|_| ()),
        ] {
            assert!(matches!(r, Err(AdminError::Forbidden(_))), "{e}: {r:?}");
        }
        // What a domain administrator may change of its domain.
        let catch_all = DomainChanges { catch_all: Some("john@example.com".into()), ..Default::default() };
        assert_eq!(
            admin.update_domain(&dom, "example.com", &catch_all).await.unwrap().catch_all,
            "john@example.com",
            "{e}"
        );
        // Demoted: the next call has the new rights.
        admin
            .update_account(&root(), "dom@example.com", &AccountChanges { admin_level: Some(0), ..Default::default() })
            .await
            .unwrap();
        assert!(matches!(admin.list_accounts(&dom, None).await, Err(AdminError::Forbidden(_))), "{e}");
        admin
            .update_account(&root(), "dom@example.com", &AccountChanges { active: Some(false), ..Default::default() })
            .await
            .unwrap();
        assert!(matches!(admin.get_account(&dom, "dom@example.com").await, Err(AdminError::Unauthenticated(_))), "{e}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn users_see_and_change_only_themselves() {
    for db in backends("admin_user").await {
        let data = tempfile::tempdir().unwrap();
        let admin = open(&db, data.path()).await;
        let e = db.engine;
        two_domains(&admin).await;
        let john = caller(&admin, "john@example.com").await;
        assert_eq!(admin.get_account(&john, "JOHN@example.com").await.unwrap().address, "john@example.com", "{e}");
        let own = AccountChanges {
            vacation_on: Some(true),
            vacation_subject: Some("Away".into()),
            forward_address: Some("mary@other.test".into()),
            signature_enabled: Some(true),
            signature_plain: Some("-- John".into()),
            password: Some("new-secret".into()),
            ..Default::default()
        };
        let changed = admin.update_account(&john, "john@example.com", &own).await.unwrap();
        assert!(changed.vacation_on && changed.forward_on, "{e}");
        let sig = admin.account_signature(&john, "john@example.com").await.unwrap();
        assert!(sig.enabled && sig.plain == "-- John", "{e}: {sig:?}");
        assert!(admin.authenticate("john@example.com", "new-secret", "test").await.is_ok(), "{e}");
        for r in [
            admin.get_account(&john, "dom@example.com").await.map(|_| ()),
            admin.get_account(&john, "nobody@example.com").await.map(|_| ()),
            admin.list_accounts(&john, None).await.map(|_| ()),
            admin.list_domains(&john).await.map(|_| ()),
            admin.get_domain(&john, "example.com").await.map(|_| ()),
            admin.list_aliases(&john, None).await.map(|_| ()),
            admin
                .update_account(&john, "john@example.com", &AccountChanges { quota_mb: Some(1), ..Default::default() })
                .await
                .map(|_| ()),
            admin
                .update_account(
                    &john,
                    "john@example.com",
                    &AccountChanges { admin_level: Some(1), ..Default::default() },
                )
                .await
                .map(|_| ()),
            admin.delete_account(&john, "john@example.com", true).await.map(|_| ()),
        ] {
            assert!(matches!(r, Err(AdminError::Forbidden(_))), "{e}: {r:?}");
        }
        // Logons: wrong passwords and unknown names look alike; no administrator password yet.
        for (user, pw) in [("john@example.com", "wrong"), ("ghost@example.com", "x"), ("Administrator", "")] {
            let r = admin.authenticate(user, pw, "test").await;
            assert!(matches!(r, Err(AdminError::Unauthenticated(_))), "{e}: {user}: {r:?}");
        }
        admin.set_administrator_password(&root(), "admin-pw").await.unwrap();
        let a = admin.authenticate("administrator", "admin-pw", "test").await.unwrap();
        admin.create_domain(&a, &NewDomain { name: "third.test".into(), active: true }).await.unwrap();
        assert!(matches!(admin.set_administrator_password(&john, "x").await, Err(AdminError::Forbidden(_))), "{e}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn removing_asks_for_force_when_there_is_content() {
    for db in backends("admin_remove").await {
        let data = tempfile::tempdir().unwrap();
        let admin = open(&db, data.path()).await;
        let (me, e) = (root(), db.engine);
        two_domains(&admin).await;
        let r = admin.delete_domain(&me, "other.test", false).await;
        assert!(matches!(r, Err(AdminError::NotEmpty(_))), "{e}: {r:?}");
        let gone = admin.delete_domain(&me, "other.test", true).await.unwrap();
        assert_eq!(gone.contents.accounts, 1, "{e}");
        assert!(matches!(admin.get_account(&me, "mary@other.test").await, Err(AdminError::NotFound(_))), "{e}");
        admin.add_domain_alias(&me, "example.com", "example.net").await.unwrap();
        assert_eq!(admin.get_domain(&me, "example.com").await.unwrap().aliases, ["example.net"], "{e}");
        admin.remove_domain_alias(&me, "example.net").await.unwrap();
        db.cleanup().await;
    }
}
