//! `altimail import hmailserver`: an hMailServer installation copied from Windows (its
//! hMailServer.ini with an encrypted database password, a data folder whose folder names differ
//! in case from the database's addresses, one message file missing) on a MySQL/MariaDB and a
//! PostgreSQL database made the way hMailServer leaves it.

use std::path::{Path, PathBuf};
use std::process::Command;

use altimail_store::repo::{accounts, domains, folders, messages};
use altimail_store::{Db, DbConfig};
use altimail_testkit::ScratchDb;
use serde_json::Value;

fn altimail(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_altimail"))
        .args(args)
        .current_dir(dir)
        .env_remove("ALTIMAIL_CONFIG")
        .output()
        .expect("run altimail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// An hMailServer database as hMailServer itself leaves it: its tables, none of Altimail's.
async fn hmailserver_database(config: &DbConfig) -> Db {
    let db = Db::connect(config).await.unwrap();
    altimail_store::schema::create(&db).await.unwrap();
    let ours: Vec<String> = {
        let sql = match db.dialect() {
            altimail_store::Dialect::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables WHERE table_schema = current_schema()"
            }
            _ => "SELECT TABLE_NAME AS t FROM information_schema.tables WHERE table_schema = DATABASE()",
        };
        db.fetch_all(sql, &[]).await.unwrap().iter().map(|r| r.text("t").unwrap()).collect()
    };
    for t in ours.iter().filter(|t| t.starts_with("altimail_")) {
        db.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
    }
    db
}

struct Layout {
    /// The copy of `C:\Program Files\hMailServer`.
    root: PathBuf,
    ini: PathBuf,
    /// Bytes of the message files that exist.
    present_bytes: u64,
    missing_id: i64,
}

/// One domain, two accounts, three mailbox messages (one file missing), one public-folder
/// message and one queued message; folders on disk spelt `Data/Example.COM/John`.
async fn populate(db: &Db, base: &Path, ini_text: &str) -> Layout {
    let root = base.join("hMailServer");
    std::fs::create_dir_all(root.join("Bin")).unwrap();
    std::fs::create_dir_all(root.join("Events")).unwrap();
    let ini = root.join("Bin").join("hMailServer.ini");
    std::fs::write(&ini, ini_text).unwrap();

    let domain = domains::create(db, &domains::Domain::new("example.com")).await.unwrap();
    let john = accounts::create(db, &accounts::Account::new(domain.id, "john@example.com")).await.unwrap();
    accounts::create(db, &accounts::Account::new(domain.id, "mary@example.com")).await.unwrap();
    let inbox = folders::ensure_inbox(db, john.id).await.unwrap();
    let data = root.join("Data");
    let mut present_bytes = 0;
    let mut missing_id = 0;
    let now = chrono::Utc::now().naive_utc().with_nanosecond_zero();
    let guids = [
        "{0A1B2C3D-0000-0000-0000-000000000001}.eml",
        "{0B1B2C3D-0000-0000-0000-000000000002}.eml",
        "{0C1B2C3D-0000-0000-0000-000000000003}.eml",
        "{0D1B2C3D-0000-0000-0000-000000000004}.eml",
        "{0E1B2C3D-0000-0000-0000-000000000005}.eml",
    ];
    for (k, guid) in guids.iter().enumerate() {
        let body = format!("Subject: message {k}\r\n\r\nbody {k}\r\n");
        let (account_id, folder_id, kind, dir) = match k {
            0..=2 => (john.id, inbox.id, 2, data.join("Example.COM").join("John").join(&guid[1..3])),
            3 => (0, 77, 2, data.join("#Public").join(&guid[1..3])),
            _ => (0, 0, 1, data.clone()),
        };
        let row = messages::Message {
            id: 0,
            account_id,
            folder_id,
            file_name: guid.to_string(),
            kind,
            from: "sender@remote.test".into(),
            size: body.len() as i64,
            tries: 0,
            next_try: now,
            flags: 0,
            created: now,
            locked: false,
            uid: k as i64 + 1,
        };
        let stored = messages::insert(db, &row).await.unwrap();
        if k == 2 {
            missing_id = stored.id;
            continue;
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(guid), &body).unwrap();
        present_bytes += body.len() as u64;
    }
    Layout { root, ini, present_bytes, missing_id }
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}
impl NoNanos for chrono::NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap()
    }
}

fn ini_for(config: &DbConfig, password_hex: &str) -> String {
    let (ty, host, port, name, user) = match config {
        DbConfig::MySql { host, port, name, user, .. } => ("MySQL", host, port, name, user),
        DbConfig::Postgres { host, port, name, user, .. } => ("PostgreSQL", host, port, name, user),
        DbConfig::Sqlite { .. } => unreachable!(),
    };
    // Folder names in other cases than on disk, as Windows allowed.
    format!(
        "[Directories]\r\nProgramFolder=C:\\Program Files\\hMailServer\r\n\
         DataFolder=C:\\Program Files\\hMailServer\\data\r\nLogFolder=C:\\Program Files\\hMailServer\\Logs\r\n\
         TempFolder=C:\\Program Files\\hMailServer\\Temp\r\nEventFolder=C:\\PROGRAM FILES\\hMailServer\\events\r\n\
         [Database]\r\nType={ty}\r\nUsername={user}\r\nPassword={password_hex}\r\nPasswordEncryption=1\r\n\
         Port={port}\r\nServer={host}\r\nDatabase={name}\r\nInternal=0\r\n"
    )
}

/// A MySQL user with a password, so the decrypted INI password is what logs on.
async fn mysql_user_with_password(db: &Db, config: &DbConfig, password: &str) -> DbConfig {
    let DbConfig::MySql { host, port, name, .. } = config else { unreachable!() };
    let user = format!("hm{}", std::process::id());
    for h in ["127.0.0.1", "localhost", "%"] {
        db.execute(&format!("DROP USER IF EXISTS '{user}'@'{h}'"), &[]).await.unwrap();
        db.execute(&format!("CREATE USER '{user}'@'{h}' IDENTIFIED BY '{password}'"), &[]).await.unwrap();
        db.execute(&format!("GRANT ALL ON `{name}`.* TO '{user}'@'{h}'"), &[]).await.unwrap();
    }
    DbConfig::MySql { host: host.clone(), port: *port, name: name.clone(), user, password: password.into() }
}

async fn drop_mysql_user(db: &Db, config: &DbConfig) {
    if let DbConfig::MySql { user, .. } = config {
        for h in ["127.0.0.1", "localhost", "%"] {
            let _ = db.execute(&format!("DROP USER IF EXISTS '{user}'@'{h}'"), &[]).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_and_configuration_on_mysql_and_postgresql() {
    let mut scratch = Vec::new();
    scratch.extend(ScratchDb::mysql("import_hm").await);
    scratch.extend(ScratchDb::postgres("import_hm").await);
    for s in scratch {
        let e = s.engine;
        let db = hmailserver_database(&s.config).await;
        let password = "Pa55;w=rd";
        let login =
            if e == "mysql" { mysql_user_with_password(&db, &s.config, password).await } else { s.config.clone() };
        let ini = ini_for(&login, &altimail_core::blowfish::hm_encrypt(password));
        let dir = tempfile::tempdir().unwrap();
        let layout = populate(&db, dir.path(), &ini).await;
        let ini_arg = layout.ini.to_str().unwrap();

        // The dry run reports and writes nothing.
        let (code, out, err) =
            altimail(dir.path(), &["--json", "import", "hmailserver", "--ini", ini_arg, "--dry-run"]);
        assert_eq!(code, 0, "{e}: {err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let inv = &report["inventory"];
        assert_eq!(report["hm_version"], 5704, "{e}");
        assert_eq!(report["altimail_tables"], false, "{e}");
        assert_eq!((inv["domains"].as_i64(), inv["accounts"].as_i64()), (Some(1), Some(2)), "{e}: {report}");
        assert_eq!(inv["mailbox_messages"], 3, "{e}");
        assert_eq!(inv["public_messages"], 1, "{e}");
        assert_eq!(inv["queued_messages"], 1, "{e}");
        assert_eq!(inv["missing_files"], 1, "{e}");
        assert_eq!(inv["missing"][0]["message_id"], layout.missing_id, "{e}");
        assert_eq!(inv["missing"][0]["owner"], "john@example.com", "{e}");
        assert_eq!(inv["bytes_on_disk"].as_u64(), Some(layout.present_bytes), "{e}");
        let root = std::fs::canonicalize(&layout.root).unwrap();
        assert_eq!(report["folders"]["data"], root.join("Data").to_str().unwrap(), "{e}: case as on disk");
        assert_eq!(report["folders"]["events"], root.join("Events").to_str().unwrap(), "{e}");
        assert!(!dir.path().join("altimail.toml").exists(), "{e}: a dry run writes nothing");

        let (code, text, err) = altimail(dir.path(), &["import", "hmailserver", "--ini", ini_arg, "--dry-run"]);
        assert_eq!(code, 0, "{e}: {err}");
        assert!(text.contains("message files missing on disk: 1"), "{e}: {text}");
        assert!(text.contains("domains 1, accounts 2"), "{e}: {text}");

        // The data folder elsewhere, under another name.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(layout.root.join("Data"))
            .arg(elsewhere.join("MailData"))
            .status()
            .unwrap();
        assert!(copied.success());
        let root_arg = elsewhere.join("MailData");
        let (code, out, err) = altimail(
            dir.path(),
            &[
                "--json",
                "import",
                "hmailserver",
                "--ini",
                ini_arg,
                "--dry-run",
                "--data-root",
                root_arg.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{e}: {err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let moved = std::fs::canonicalize(&root_arg).unwrap();
        assert_eq!(report["folders"]["data"], moved.to_str().unwrap(), "{e}");
        assert_eq!(report["inventory"]["missing_files"], 1, "{e}");
        assert_eq!(report["inventory"]["bytes_on_disk"].as_u64(), Some(layout.present_bytes), "{e}");

        // The configuration, then the server's own commands on it: the database as it is.
        let (code, out, err) =
            altimail(dir.path(), &["import", "hmailserver", "--ini", ini_arg, "--out", "altimail.toml"]);
        assert_eq!(code, 0, "{e}: {err}");
        assert!(out.contains("wrote"), "{e}: {out}");
        let written = std::fs::read_to_string(dir.path().join("altimail.toml")).unwrap();
        assert!(written.contains(password), "{e}: the decrypted password: {written}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("altimail.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{e}: a file with a password is the owner's only");
        let (code, _, err) = altimail(dir.path(), &["import", "hmailserver", "--ini", ini_arg]);
        assert_eq!(code, 1, "{e}: an existing file is kept");
        assert!(err.contains("--force"), "{e}: {err}");
        let (code, out, err) = altimail(dir.path(), &["--config", "altimail.toml", "--json", "account", "list"]);
        assert_eq!(code, 0, "{e}: {err}");
        let accounts: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(accounts.as_array().unwrap().len(), 2, "{e}: {accounts}");

        // An hMailServer older than 5.6 is refused with what to do.
        db.execute("UPDATE hm_dbversion SET value = 5400", &[]).await.unwrap();
        let (code, _, err) = altimail(dir.path(), &["import", "hmailserver", "--ini", ini_arg, "--dry-run"]);
        assert_eq!(code, 1, "{e}");
        assert!(err.contains("version 5400") && err.contains("DBUpdater"), "{e}: {err}");

        drop_mysql_user(&db, &login).await;
        db.close().await;
        s.cleanup().await;
    }
}

#[test]
fn sql_server_databases_point_to_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("mssql.ini", "[Database]\nType=MSSQL\nServer=SQL01\\HMAIL\nDatabase=hmail\nUsername=sa\nPassword=x\n"),
        (
            "sdf.ini",
            "[Directories]\nDatabaseFolder=C:\\hMailServer\\Database\n[Database]\nType=MSSQLCE\nDatabase=hMailServer.sdf\nInternal=1\n",
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
        for extra in [&["--dry-run"][..], &[][..]] {
            let mut args = vec!["import", "hmailserver", "--ini", name];
            args.extend_from_slice(extra);
            let (code, _, err) = altimail(dir.path(), &args);
            assert_eq!(code, 1, "{name}: {err}");
            assert!(err.contains("cannot be opened on Linux") && err.contains("altimail restore"), "{name}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        }
    }
    assert!(!dir.path().join("altimail.toml").exists());
    let (code, _, err) = altimail(dir.path(), &["import", "hmailserver", "--ini", "nothere.ini"]);
    assert_eq!(code, 1);
    assert!(err.contains("nothere.ini"), "{err}");
}
