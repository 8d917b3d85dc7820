//! A database made by hMailServer's own create scripts (5704, MySQL and PostgreSQL), seeded as
//! hMailServer seeds it, opens without `init`, and passwords hashed the hMailServer way verify.
//!
//! hMailServer's scripts are not part of this repository: point `ALTIMAIL_HMAILSERVER_SCRIPTS`
//! at the `hmailserver/source/DBScripts` folder of an hMailServer source tree (it needs
//! `CreateTablesMYSQL.sql`, `CreateTablesPGSQL.sql` and `ScriptPrerequisitesPGSQL.sql`) and have
//! the `mysql` and `psql` clients installed, and run it with `--ignored`: it is opt-in because the
//! scripts cannot come with the sources (`cargo test` lists it as ignored).
//! `existing_hmailserver_database_opens_without_init` in `repositories.rs` covers the same
//! ground on every run, on a schema stripped down to what hMailServer 5.6 had.

use std::path::{Path, PathBuf};
use std::process::Command;

use altimail_core::blowfish::hm_encrypt;
use altimail_store::db::DbConfig;
use altimail_store::repo::{accounts, settings};
use altimail_store::{SETTING_KEEP_SHA256_PASSWORDS, Store};
use altimail_testkit::{ScratchDb, backends};

fn scripts() -> PathBuf {
    let dir = std::env::var_os("ALTIMAIL_HMAILSERVER_SCRIPTS")
        .expect("ALTIMAIL_HMAILSERVER_SCRIPTS names hMailServer's DBScripts folder");
    PathBuf::from(dir)
}

/// Runs an SQL file with the engine's own command-line client, as an administrator would.
fn load(db: &ScratchDb, file: &Path) {
    let out = match &db.config {
        DbConfig::MySql { host, port, name, user, password } => {
            let mut c = Command::new("mysql");
            c.args(["-h", host, "-P", &port.to_string(), "-u", user]);
            if !password.is_empty() {
                c.arg(format!("-p{password}"));
            }
            c.arg(name).stdin(std::fs::File::open(file).unwrap()).output()
        }
        DbConfig::Postgres { host, port, name, user, password } => Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", &port.to_string(), "-U", user, "-d", name, "-f"])
            .arg(file)
            .env("PGPASSWORD", password)
            .output(),
        DbConfig::Sqlite { .. } => unreachable!("hMailServer has no SQLite script"),
    }
    .expect("the database's command-line client is installed");
    assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
}

/// hMailServer's type 3: six hex digits of salt, then SHA-256 of salt and password in hex.
fn salted_sha256(salt: &str, password: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{salt}{password}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{salt}{hex}")
}

#[tokio::test]
#[ignore = "needs hMailServer's create scripts: set ALTIMAIL_HMAILSERVER_SCRIPTS and pass --ignored"]
async fn database_from_hmailservers_create_scripts_opens_without_init() {
    let dir = scripts();
    for db in backends("hmscripts").await.into_iter().filter(|d| d.engine != "sqlite") {
        let e = db.engine;
        if e == "postgresql" {
            load(&db, &dir.join("ScriptPrerequisitesPGSQL.sql"));
            load(&db, &dir.join("CreateTablesPGSQL.sql"));
        } else {
            load(&db, &dir.join("CreateTablesMYSQL.sql"));
        }
        let data = tempfile::tempdir().unwrap();
        {
            // Seeded through plain SQL, the way hMailServer's administrator writes rows.
            let raw = altimail_store::Db::connect(&db.config).await.unwrap();
            raw.execute(
                "INSERT INTO hm_domains (domainname, domainactive, domainpostmaster, domainmaxsize, domainaddomain, \
                 domainmaxmessagesize, domainuseplusaddressing, domainplusaddressingchar, domainantispamoptions, \
                 domainenablesignature, domainsignaturemethod, domainsignatureplaintext, domainsignaturehtml, \
                 domainaddsignaturestoreplies, domainaddsignaturestolocalemail, domainmaxnoofaccounts, \
                 domainmaxnoofaliases, domainmaxnoofdistributionlists, domainlimitationsenabled, domainmaxaccountsize, \
                 domaindkimselector, domaindkimprivatekeyfile) \
                 VALUES ('legacy.test', 1, '', 0, '', 0, 0, '+', 0, 0, 1, '', '', 0, 0, 0, 0, 0, 0, 0, '', '')",
                &[],
            )
            .await
            .unwrap();
            let domain = raw
                .fetch_optional("SELECT domainid FROM hm_domains WHERE domainname = 'legacy.test'", &[])
                .await
                .unwrap()
                .unwrap()
                .int("domainid")
                .unwrap();
            for (address, scheme, stored) in [
                ("blowfish@legacy.test", 1, hm_encrypt("secret")),
                ("md5@legacy.test", 2, "5ebe2294ecd0e0f08eab7690d2a6ee69".to_owned()),
                ("sha@legacy.test", 3, salted_sha256("9f8e7d", "secret")),
            ] {
                raw.execute(
                    "INSERT INTO hm_accounts (accountdomainid, accountadminlevel, accountaddress, accountpassword, \
                     accountactive, accountisad, accountaddomain, accountadusername, accountmaxsize, \
                     accountvacationmessageon, accountvacationmessage, accountvacationsubject, accountpwencryption, \
                     accountforwardenabled, accountforwardaddress, accountforwardkeeporiginal, accountenablesignature, \
                     accountsignatureplaintext, accountsignaturehtml, accountlastlogontime, accountvacationexpires, \
                     accountvacationexpiredate, accountpersonfirstname, accountpersonlastname) \
                     VALUES (?, 0, ?, ?, 1, 0, '', '', 0, 0, '', '', ?, 0, '', 0, 0, '', '', \
                     '2020-01-01 00:00:00', 0, '2020-01-01 00:00:00', '', '')",
                    &[domain.into(), address.into(), stored.into(), scheme.into()],
                )
                .await
                .unwrap();
            }
            // A row a later hMailServer build added, which Altimail does not know.
            raw.execute(
                "INSERT INTO hm_settings (settingname, settingstring, settinginteger) VALUES ('TlsOptions', '', 7)",
                &[],
            )
            .await
            .unwrap();
            raw.close().await;
        }
        let store = Store::open(&db.config, data.path(), false).await.unwrap_or_else(|err| panic!("{e}: {err}"));
        let s = &store.db;
        for address in ["blowfish@legacy.test", "md5@legacy.test", "SHA@legacy.test"] {
            let a = accounts::find(s, address).await.unwrap().unwrap();
            assert!(a.verify_password("secret"), "{e}: {address}");
            assert!(!a.verify_password("Secret!"), "{e}: {address}");
            let logged_on = store.authenticate(address, "secret").await.unwrap();
            assert!(logged_on.is_ok(), "{e}: {address}: {logged_on:?}");
        }
        let version = s.fetch_optional("SELECT value FROM hm_dbversion", &[]).await.unwrap().unwrap();
        assert_eq!(version.int("value").unwrap(), 5704, "{e}: hMailServer's version is left alone");
        let keep = settings::Settings::load(s).await.unwrap().int(SETTING_KEEP_SHA256_PASSWORDS);
        assert_eq!(keep, 1, "{e}: passwords stay readable by hMailServer");
        for a in accounts::list(s, None).await.unwrap() {
            assert_eq!(a.password_scheme, 3, "{e}: {} upgraded to a type hMailServer reads", a.address);
        }
        store.db.close().await;
        db.cleanup().await;
    }
}
