//! Every repository against every engine: SQLite always, PostgreSQL and MySQL/MariaDB when their
//! servers are reachable (required in CI; see altimail-testkit).

use std::net::IpAddr;

use altimail_core::codes::{ListMode, Protocol, Security, flags, message_type};
use altimail_core::password::{PasswordScheme, hash};
use altimail_core::time::now_local;
use altimail_store::db::never;
use altimail_store::repo::logon_failures::{AutoBan, Outcome};
use altimail_store::repo::{
    accounts, aliases, certificates, domain_aliases, domains, folders, lists, logon_failures, messages, ports, ranges,
    settings,
};
use altimail_store::{Location, Store, StoreError, files};
use altimail_testkit::{ScratchDb, backends};

async fn open(db: &ScratchDb, data: &std::path::Path) -> Store {
    Store::open(&db.config, data, true).await.unwrap_or_else(|e| panic!("{}: open: {e}", db.engine))
}

#[tokio::test]
async fn init_creates_hmailserver_defaults() {
    for db in backends("init_defaults").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let e = db.engine;
        let all = settings::all(&store.db).await.unwrap();
        assert_eq!(all.len(), 114, "{e}: hm_settings rows");
        assert_eq!(all["maxmessagesize"].integer, 20480, "{e}");
        assert_eq!(all["scriptlanguage"].string, "VBScript", "{e}");
        let r = ranges::list(&store.db).await.unwrap();
        assert_eq!(r.len(), 2, "{e}");
        let internet = r.iter().find(|r| r.name == "Internet").unwrap();
        assert_eq!((internet.priority, internet.options), (10, 96203), "{e}");
        let local = r.iter().find(|r| r.name == "My computer").unwrap();
        assert_eq!((local.priority, local.options), (30, 71627), "{e}");
        let p: Vec<(Protocol, u16)> =
            ports::list(&store.db).await.unwrap().iter().map(|p| (p.protocol, p.port)).collect();
        assert_eq!(
            p,
            vec![(Protocol::Smtp, 25), (Protocol::Smtp, 587), (Protocol::Pop3, 110), (Protocol::Imap, 143)],
            "{e}"
        );
        let version = store.db.fetch_optional("SELECT value FROM hm_dbversion", &[]).await.unwrap().unwrap();
        assert_eq!(version.int("value").unwrap(), 5704, "{e}");
        // Opening again is a no-op.
        drop(store);
        let again = open(&db, data.path()).await;
        assert_eq!(settings::all(&again.db).await.unwrap().len(), 114, "{e}");
        again.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn domains_accounts_aliases_lists_round_trip() {
    for db in backends("directory").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);

        let d = domains::create(s, &domains::Domain::new("Example.com")).await.unwrap();
        assert!(
            matches!(domains::create(s, &domains::Domain::new("example.COM")).await, Err(StoreError::Conflict(_))),
            "{e}"
        );
        assert!(
            matches!(domains::create(s, &domains::Domain::new("bad domain")).await, Err(StoreError::Invalid(_))),
            "{e}"
        );
        let mut d2 = domains::find(s, "EXAMPLE.com").await.unwrap().unwrap();
        assert_eq!(d2.id, d.id, "{e}");
        d2.catch_all = "catch@example.com".into();
        d2.plus_addressing = true;
        domains::update(s, &d2).await.unwrap();
        assert_eq!(domains::get(s, d.id).await.unwrap().unwrap(), d2, "{e}");

        domain_aliases::create(s, d.id, "example.net").await.unwrap();
        assert!(domain_aliases::create(s, d.id, "example.com").await.is_err(), "{e}: alias equal to a domain");
        assert!(matches!(domains::create(s, &domains::Domain::new("example.net")).await, Err(StoreError::Conflict(_))));

        let mut a = accounts::Account::new(d.id, "John@Example.com");
        a.set_password(PasswordScheme::Argon2id, "s3cret");
        a.max_size_mb = 100;
        let a = accounts::create(s, &a).await.unwrap();
        let found = accounts::find(s, "john@example.com").await.unwrap().unwrap();
        assert_eq!(found, a, "{e}");
        assert!(
            found.verify_password("s3cret") && !found.verify_password("S3cret") && !found.verify_password(""),
            "{e}"
        );
        let inbox = folders::find(s, a.id, folders::TOP_LEVEL, "inbox").await.unwrap().unwrap();
        assert_eq!(inbox.name, "INBOX", "{e}: INBOX created with the account");

        let alias = aliases::Alias {
            id: 0,
            domain_id: d.id,
            name: "info@example.com".into(),
            value: "john@example.com".into(),
            active: true,
        };
        aliases::create(s, &alias).await.unwrap();
        assert!(matches!(aliases::create(s, &alias).await, Err(StoreError::Conflict(_))), "{e}");
        let clash = accounts::Account::new(d.id, "INFO@example.com");
        assert!(matches!(accounts::create(s, &clash).await, Err(StoreError::Conflict(_))), "{e}: account over alias");

        let mut l = lists::List::new(d.id, "team@example.com");
        l.mode = ListMode::Announcement;
        l.require_address = "john@example.com".into();
        let l = lists::create(s, &l).await.unwrap();
        lists::add_member(s, l.id, "john@example.com").await.unwrap();
        lists::add_member(s, l.id, "someone@elsewhere.org").await.unwrap();
        assert!(lists::add_member(s, l.id, "JOHN@example.com").await.is_err(), "{e}");
        assert_eq!(lists::members(s, l.id).await.unwrap(), vec!["john@example.com", "someone@elsewhere.org"], "{e}");
        lists::remove_member(s, l.id, "someone@elsewhere.org").await.unwrap();
        assert_eq!(lists::find(s, "Team@Example.com").await.unwrap().unwrap().mode, ListMode::Announcement, "{e}");

        // Domain limits.
        let mut limited = domains::create(s, &domains::Domain::new("small.test")).await.unwrap();
        limited.limitations_enabled = 1;
        limited.max_accounts = 1;
        domains::update(s, &limited).await.unwrap();
        accounts::create(s, &accounts::Account::new(limited.id, "a@small.test")).await.unwrap();
        assert!(matches!(
            accounts::create(s, &accounts::Account::new(limited.id, "b@small.test")).await,
            Err(StoreError::Conflict(_))
        ));

        // Deleting the domain removes everything in it.
        store.delete_domain(&d).await.unwrap();
        assert!(accounts::find(s, "john@example.com").await.unwrap().is_none(), "{e}");
        assert!(aliases::find(s, "info@example.com").await.unwrap().is_none(), "{e}");
        assert!(lists::find(s, "team@example.com").await.unwrap().is_none(), "{e}");
        assert!(domain_aliases::find(s, "example.net").await.unwrap().is_none(), "{e}");
        assert!(folders::list(s, a.id).await.unwrap().is_empty(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn settings_ports_certificates_ranges() {
    for db in backends("config").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);

        settings::set_integer(s, "MAXSMTPCONNECTIONS", 7).await.unwrap();
        settings::set_string(s, "hostname", "mail.example.com").await.unwrap();
        settings::set_integer(s, "altimailkeepsha256passwords", 1).await.unwrap();
        let all = settings::Settings::load(s).await.unwrap();
        assert_eq!(all.int("maxsmtpconnections"), 7, "{e}: case-insensitive name updates the stored row");
        assert_eq!(all.string("hostname"), "mail.example.com", "{e}");
        assert_eq!(store.password_scheme().await.unwrap(), PasswordScheme::Sha256, "{e}");
        assert_eq!(settings::all(s).await.unwrap().len(), 115, "{e}");

        let cert = certificates::create(s, "main", "/etc/ssl/a.pem", "/etc/ssl/a.key").await.unwrap();
        let p = ports::create(
            s,
            &ports::Port {
                id: 0,
                protocol: Protocol::Imap,
                port: 993,
                address: "::".parse().unwrap(),
                security: Security::Tls,
                certificate_id: cert.id,
            },
        )
        .await
        .unwrap();
        assert_eq!(ports::get(s, p.id).await.unwrap().unwrap(), p, "{e}: IPv6 bind address round trip");
        assert!(matches!(certificates::delete(s, cert.id).await, Err(StoreError::Conflict(_))), "{e}");
        let dup = ports::Port { id: 0, ..p.clone() };
        assert!(ports::create(s, &dup).await.is_err(), "{e}: same address and port twice");
        ports::delete(s, p.id).await.unwrap();
        certificates::delete(s, cert.id).await.unwrap();

        let v6 = ranges::Range {
            id: 0,
            name: "IPv6 loopback".into(),
            priority: 40,
            lower: "::1".parse().unwrap(),
            upper: "::1".parse().unwrap(),
            options: 1 | 2 | 8,
            expires: false,
            expires_time: never(),
        };
        ranges::create(s, &v6).await.unwrap();
        let all = ranges::list(s).await.unwrap();
        let now = now_local();
        let at = |ip: &str| ranges::matching(&all, ip.parse::<IpAddr>().unwrap(), now).map(|r| r.name.clone());
        assert_eq!(at("::1").as_deref(), Some("IPv6 loopback"), "{e}");
        assert_eq!(at("127.0.0.1").as_deref(), Some("My computer"), "{e}");
        assert_eq!(at("::ffff:127.0.0.1").as_deref(), Some("My computer"), "{e}");
        assert_eq!(at("192.0.2.1").as_deref(), Some("Internet"), "{e}");
        assert_eq!(at("2001:db8::1"), None, "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn folders_messages_and_files() {
    for db in backends("messages").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let d = domains::create(s, &domains::Domain::new("example.org")).await.unwrap();
        let a = accounts::create(s, &accounts::Account::new(d.id, "mary@example.org")).await.unwrap();
        let inbox = folders::ensure_inbox(s, a.id).await.unwrap();
        assert_eq!(folders::ensure_inbox(s, a.id).await.unwrap().id, inbox.id, "{e}");
        let sent = folders::create(s, a.id, folders::TOP_LEVEL, "Sent", now_local()).await.unwrap();
        folders::create(s, a.id, sent.id, "2026", now_local()).await.unwrap();
        assert!(folders::create(s, a.id, folders::TOP_LEVEL, "Sent", now_local()).await.is_err(), "{e}");
        assert_eq!(folders::list(s, a.id).await.unwrap().len(), 3, "{e}");

        let mut uids = Vec::new();
        for i in 0..3 {
            let name = files::new_file_name();
            let path = store.files.path_for(Location::Account(&a.address), &name);
            let body = format!("Subject: {i}\r\n\r\nhello\r\n");
            store::write(&path, body.as_bytes());
            let uid = folders::allocate_uid(s, inbox.id).await.unwrap();
            uids.push(uid);
            messages::insert(
                s,
                &messages::Message {
                    id: 0,
                    account_id: a.id,
                    folder_id: inbox.id,
                    file_name: name,
                    kind: message_type::DELIVERED,
                    from: "sender@remote.test".into(),
                    size: body.len() as i64,
                    tries: 0,
                    next_try: never(),
                    flags: flags::RECENT,
                    created: now_local(),
                    locked: false,
                    uid,
                },
            )
            .await
            .unwrap();
        }
        assert_eq!(uids, vec![1, 2, 3], "{e}");
        let in_inbox = messages::in_folder(s, a.id, inbox.id).await.unwrap();
        assert_eq!(in_inbox.len(), 3, "{e}");
        assert_eq!(messages::account_size(s, a.id).await.unwrap(), in_inbox.iter().map(|m| m.size).sum::<i64>(), "{e}");
        messages::set_flags(s, in_inbox[0].id, flags::SEEN | flags::FLAGGED).await.unwrap();
        assert_eq!(messages::get(s, in_inbox[0].id).await.unwrap().unwrap().flags, flags::SEEN | flags::FLAGGED, "{e}");
        assert_eq!(folders::get(s, inbox.id).await.unwrap().unwrap().current_uid, 3, "{e}");
        let path = store.files.resolve(Location::Account(&a.address), &in_inbox[0].file_name);
        assert!(path.starts_with(data.path().join("example.org").join("mary")), "{e}: {}", path.display());
        assert!(path.exists(), "{e}");

        store.delete_account(&a).await.unwrap();
        assert!(!path.exists(), "{e}: files go with the account");
        assert!(messages::in_folder(s, a.id, inbox.id).await.unwrap().is_empty(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

mod store {
    pub fn write(path: &std::path::Path, bytes: &[u8]) {
        altimail_store::MessageFiles::write_durable(path, bytes).unwrap();
    }
}

#[tokio::test]
async fn repeated_logon_failures_ban_the_ip() {
    for db in backends("autoban").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let policy = AutoBan { enabled: true, max_attempts: 3, within_minutes: 30, ban_minutes: 60 };
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let now = now_local();
        assert_eq!(logon_failures::record(s, policy, ip, "bob", now).await.unwrap(), Outcome::Counted, "{e}");
        assert_eq!(logon_failures::record(s, policy, ip, "bob", now).await.unwrap(), Outcome::Counted, "{e}");
        let third = logon_failures::record(s, policy, ip, "bob", now).await.unwrap();
        assert_eq!(third, Outcome::Banned(Some("Auto-ban: bob".into())), "{e}");
        let all = ranges::list(s).await.unwrap();
        let hit = ranges::matching(&all, ip, now).unwrap();
        assert_eq!((hit.name.as_str(), hit.options, hit.priority), ("Auto-ban: bob", 0, 100), "{e}");
        assert!(ranges::matching(&all, ip, now + chrono::Duration::minutes(61)).unwrap().name == "Internet", "{e}");
        assert_eq!(ranges::delete_expired(s, now + chrono::Duration::minutes(61)).await.unwrap(), 1, "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}

/// A database as hMailServer 5.6 left it (schema 5601: no famimerecipientheaders, fewer
/// settings, no Altimail tables), with passwords hashed by hMailServer (MD5 and salted SHA-256),
/// opens without `init` and every password verifies.
#[tokio::test]
async fn existing_hmailserver_database_opens_without_init() {
    for db in backends("legacy").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        {
            let fresh = open(&db, data.path()).await;
            let s = &fresh.db;
            for t in [
                "altimail_schema",
                "altimail_envelopes",
                "altimail_recipient_dsn",
                "altimail_autoreplies",
                "altimail_keywords",
                "altimail_vanished",
                "altimail_special_use",
                "altimail_subscriptions",
                "altimail_forwarded",
            ] {
                s.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
            }
            s.execute("ALTER TABLE hm_messages DROP COLUMN messagemodseq", &[]).await.unwrap();
            s.execute("ALTER TABLE hm_imapfolders DROP COLUMN folderhighestmodseq", &[]).await.unwrap();
            s.execute("ALTER TABLE hm_fetchaccounts DROP COLUMN famimerecipientheaders", &[]).await.unwrap();
            for name in [
                "ImapMasterUser",
                "ImapAuthAllowPlainText",
                "EnableImapSASLPlain",
                "EnableImapSASLInitialResponse",
                "ascheckptr",
                "ascheckptrscore",
                "IPv6Preferred",
            ] {
                s.execute("DELETE FROM hm_settings WHERE settingname = ?", &[name.into()]).await.unwrap();
            }
            s.execute("UPDATE hm_dbversion SET value = 5601", &[]).await.unwrap();
            let d = domains::create(s, &domains::Domain::new("legacy.test")).await.unwrap();
            let salted = "1a2b3ce1cc24b353fe8387de5778f6a89d87c18e7e9a16563d5d49bac4739f34578700";
            for (addr, scheme, stored) in [
                ("md5@legacy.test", 2, "5ebe2294ecd0e0f08eab7690d2a6ee69".to_owned()),
                ("sha@legacy.test", 3, salted.to_owned()),
                ("sha2@legacy.test", 3, hash(PasswordScheme::Sha256, "secret")),
                ("plain@legacy.test", 0, "Secret".to_owned()),
            ] {
                // Inserted as hMailServer writes rows: every column, plain SQL.
                s.execute(
                    "INSERT INTO hm_accounts (accountdomainid, accountadminlevel, accountaddress, accountpassword, accountactive, \
                     accountisad, accountaddomain, accountadusername, accountmaxsize, accountvacationmessageon, accountvacationmessage, \
                     accountvacationsubject, accountpwencryption, accountforwardenabled, accountforwardaddress, accountforwardkeeporiginal, \
                     accountenablesignature, accountsignatureplaintext, accountsignaturehtml, accountlastlogontime, accountvacationexpires, \
                     accountvacationexpiredate, accountpersonfirstname, accountpersonlastname) \
                     VALUES (?, 0, ?, ?, 1, 0, '', '', 0, 0, '', '', ?, 0, '', 0, 0, '', '', ?, 0, ?, '', '')",
                    &[d.id.into(), addr.into(), stored.into(), scheme.into(), never().into(), never().into()],
                )
                .await
                .unwrap();
            }
            s.close().await;
        }
        let store = Store::open(&db.config, data.path(), false).await.unwrap_or_else(|err| panic!("{e}: {err}"));
        let s = &store.db;
        for addr in ["md5@legacy.test", "SHA@legacy.test", "sha2@legacy.test", "plain@legacy.test"] {
            let a = accounts::find(s, addr).await.unwrap().unwrap();
            assert!(a.verify_password("secret"), "{e}: {addr}");
            assert!(!a.verify_password("wrong"), "{e}: {addr}");
        }
        let v = s.fetch_optional("SELECT value FROM hm_dbversion", &[]).await.unwrap().unwrap().int("value").unwrap();
        assert_eq!(v, 5601, "{e}: hMailServer's version is left alone");
        let cols = s.fetch_all("SELECT famimerecipientheaders FROM hm_fetchaccounts", &[]).await;
        assert!(cols.is_ok(), "{e}: column added");
        let cols = s.fetch_all("SELECT messagemodseq FROM hm_messages", &[]).await;
        assert!(cols.is_ok(), "{e}: Altimail's IMAP columns added");
        let v = s.fetch_optional("SELECT version FROM altimail_schema", &[]).await.unwrap().unwrap();
        assert_eq!(v.int("version").unwrap(), altimail_store::schema::ALTIMAIL_SCHEMA_VERSION, "{e}");
        let settings = settings::Settings::load(s).await.unwrap();
        assert_eq!(settings.int("ascheckptrscore"), 1, "{e}: a missing row reads as its default");
        assert_eq!(
            settings.int(altimail_store::SETTING_KEEP_SHA256_PASSWORDS),
            1,
            "{e}: an adopted database keeps passwords hMailServer can read"
        );
        let md5 = store.authenticate("md5@legacy.test", "secret").await.unwrap().unwrap();
        assert_eq!(md5.password_scheme, 3, "{e}: upgraded to hMailServer's salted SHA-256, not Argon2id");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unsupported_or_missing_schema_is_a_clear_error() {
    let db = ScratchDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let err = Store::open(&db.config, data.path(), false).await.unwrap_err();
    assert!(err.to_string().contains("altimail init"), "{err}");
    let store = Store::open(&db.config, data.path(), true).await.unwrap();
    store.db.execute("UPDATE hm_dbversion SET value = 5400", &[]).await.unwrap();
    store.db.close().await;
    let err = Store::open(&db.config, data.path(), false).await.unwrap_err();
    assert!(err.to_string().contains("5400"), "{err}");
}

#[tokio::test]
async fn logon_rules_and_rehash() {
    for db in backends("logon").await {
        let data = tempfile::tempdir().unwrap();
        let store = open(&db, data.path()).await;
        let (s, e) = (&store.db, db.engine);
        let d = domains::create(s, &domains::Domain::new("corp.test")).await.unwrap();
        domain_aliases::create(s, d.id, "corp.example").await.unwrap();
        let mut a = accounts::Account::new(d.id, "ann@corp.test");
        a.password = "5ebe2294ecd0e0f08eab7690d2a6ee69".into(); // hMailServer MD5 of "secret"
        a.password_scheme = 2;
        let a = accounts::create(s, &a).await.unwrap();

        assert_eq!(
            store.authenticate("ann@corp.test", "wrong").await.unwrap(),
            Err(altimail_store::LogonRefused::BadPassword),
            "{e}"
        );
        assert_eq!(
            store.authenticate("ann@corp.test", "").await.unwrap(),
            Err(altimail_store::LogonRefused::BadPassword),
            "{e}"
        );
        assert_eq!(
            store.authenticate("ann", "secret").await.unwrap(),
            Err(altimail_store::LogonRefused::NoSuchAccount),
            "{e}"
        );
        settings::set_string(s, "defaultdomain", "corp.test").await.unwrap();
        let ok = store.authenticate("ann", "secret").await.unwrap().unwrap();
        assert_eq!(ok.id, a.id, "{e}: default domain");
        assert_eq!(ok.password_scheme, PasswordScheme::Argon2id.code(), "{e}: re-hashed");
        let stored = accounts::get(s, a.id).await.unwrap().unwrap();
        assert!(stored.password.starts_with("$argon2id$") && stored.verify_password("secret"), "{e}");
        assert!(stored.last_logon > never(), "{e}");
        assert!(store.authenticate("ANN@corp.example", "secret").await.unwrap().is_ok(), "{e}: domain alias");

        let mut inactive = stored.clone();
        inactive.active = false;
        accounts::update(s, &inactive).await.unwrap();
        assert_eq!(
            store.authenticate("ann@corp.test", "secret").await.unwrap(),
            Err(altimail_store::LogonRefused::AccountInactive),
            "{e}"
        );
        let mut dd = d.clone();
        dd.active = false;
        domains::update(s, &dd).await.unwrap();
        assert_eq!(
            store.authenticate("ann@corp.test", "secret").await.unwrap(),
            Err(altimail_store::LogonRefused::DomainInactive),
            "{e}"
        );

        // With hMailServer's scheme kept, a legacy hash becomes salted SHA-256 (type 3).
        let mut b = accounts::Account::new(d.id, "bob@corp.test");
        b.password = "secret".into();
        b.password_scheme = 0;
        accounts::create(s, &b).await.unwrap();
        dd.active = true;
        domains::update(s, &dd).await.unwrap();
        settings::set_integer(s, altimail_store::SETTING_KEEP_SHA256_PASSWORDS, 1).await.unwrap();
        let bob = store.authenticate("bob@corp.test", "SECRET").await.unwrap().unwrap();
        assert_eq!(bob.password_scheme, 3, "{e}: plain text compared case-insensitively, then hashed as type 3");
        let bob = accounts::get(s, bob.id).await.unwrap().unwrap();
        assert_eq!(bob.password.len(), 70, "{e}");
        assert!(bob.verify_password("secret") && !bob.verify_password("SECRET"), "{e}: the stored spelling is kept");
        store.db.close().await;
        db.cleanup().await;
    }
}
