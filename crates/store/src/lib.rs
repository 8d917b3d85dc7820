//! Storage for Altimail Server on hMailServer's schema and data directory.
//!
//! [`Db`] is one SQL layer over SQLite, PostgreSQL and MySQL/MariaDB; [`schema`] creates and
//! upgrades the `hm_*` tables; [`repo`] holds a typed repository per kind of object (domains,
//! accounts, aliases, lists, settings, ports, certificates, IP ranges, folders, messages, and
//! the IMAP views in `repo::mailbox`, `repo::acl` and `repo::special_use`);
//! [`files`] places message files where hMailServer puts them and writes them durably.
//! [`Store`] ties a database to a data directory and a [`ChangeBus`] that wakes sessions
//! watching a folder. [`copy`] moves a whole database to another engine and [`inventory`]
//! surveys one (objects, messages, files missing on disk) before a move.
//!
//! ```no_run
//! # async fn demo() -> Result<(), altimail_store::StoreError> {
//! use altimail_store::{DbConfig, Store, repo::domains};
//! let store = Store::open(&DbConfig::Sqlite { path: "hm.db".into() }, "data", true).await?;
//! let domain = domains::create(&store.db, &domains::Domain::new("example.com")).await?;
//! # Ok(()) }
//! ```

mod challenge;
mod changes;
pub mod copy;
pub mod db;
pub mod directory_index;
mod error;
pub mod files;
pub mod group_sync;
pub mod inventory;
mod logon;
mod logon_cache;
mod password_workers;
pub mod repo;
pub mod schema;

pub use challenge::ChallengeLogons;
pub use changes::ChangeBus;
pub use db::{Db, DbConfig, Dialect, Row, Value};
pub use directory_index::DirectoryIndex;
pub use error::StoreError;
pub use files::{Location, MessageFiles};
pub use logon::LogonRefused;

use std::path::PathBuf;

use altimail_core::password::PasswordScheme;

/// A database and the data directory whose files its rows name.
#[derive(Debug, Clone)]
pub struct Store {
    pub db: Db,
    pub files: MessageFiles,
    /// Wakes sessions watching a folder when its messages change.
    pub changes: ChangeBus,
}

/// The setting that keeps new passwords in hMailServer's salted SHA-256 form (type 3), so the
/// database stays usable by hMailServer itself; otherwise new passwords are Argon2id.
pub const SETTING_KEEP_SHA256_PASSWORDS: &str = "altimailkeepsha256passwords";

/// First start on a database hMailServer made: passwords changed or upgraded from now on stay
/// in a form hMailServer reads (salted SHA-256), so the administrator can still go back or run
/// both side by side. Setting it to 0 later switches to Argon2id.
async fn adopt(db: &Db) -> Result<(), StoreError> {
    if repo::settings::get(db, SETTING_KEEP_SHA256_PASSWORDS).await?.is_none() {
        repo::settings::set_integer(db, SETTING_KEEP_SHA256_PASSWORDS, 1).await?;
        tracing::info!(
            "existing hMailServer database: passwords keep hMailServer's format ({SETTING_KEEP_SHA256_PASSWORDS} = 1)"
        );
    }
    Ok(())
}

impl Store {
    /// Connects, and makes sure the schema is usable: an empty database is initialised when
    /// `init_if_empty` is set (else it is an error); an existing hMailServer database is
    /// upgraded additively.
    pub async fn open(
        config: &DbConfig,
        data_dir: impl Into<PathBuf>,
        init_if_empty: bool,
    ) -> Result<Store, StoreError> {
        let db = Db::connect(config).await?;
        match schema::inspect(&db).await? {
            schema::SchemaState::Empty if init_if_empty => schema::create(&db).await?,
            schema::SchemaState::Empty => {
                return Err(StoreError::Schema(format!(
                    "{} has no hMailServer schema: run `altimail init`",
                    config.describe()
                )));
            }
            schema::SchemaState::Existing { altimail_version, .. } => {
                for change in schema::upgrade(&db).await? {
                    tracing::info!("schema upgrade: {change}");
                }
                if altimail_version.is_none() {
                    adopt(&db).await?;
                }
            }
        }
        Ok(Store { db, files: MessageFiles::new(data_dir), changes: ChangeBus::default() })
    }

    /// The scheme new or changed passwords are stored with.
    pub async fn password_scheme(&self) -> Result<PasswordScheme, StoreError> {
        // One row, not the whole table: this runs at every logon.
        let keep_sha256 = self
            .db
            .fetch_optional(
                "SELECT settinginteger FROM hm_settings WHERE settingname = ?",
                &[SETTING_KEEP_SHA256_PASSWORDS.into()],
            )
            .await?
            .map(|r| r.int("settinginteger"))
            .transpose()?
            .unwrap_or(0);
        Ok(if keep_sha256 != 0 { PasswordScheme::Sha256 } else { PasswordScheme::Argon2id })
    }

    /// What an account holds: its messages and their size (`accounts` is 1).
    pub async fn account_contents(&self, account: &repo::accounts::Account) -> Result<Contents, StoreError> {
        Ok(Contents {
            accounts: 1,
            messages: repo::messages::account_count(&self.db, account.id).await?,
            bytes: repo::messages::account_size(&self.db, account.id).await?,
        })
    }

    /// What a domain holds: its accounts, their messages and the messages' size.
    pub async fn domain_contents(&self, domain: &repo::domains::Domain) -> Result<Contents, StoreError> {
        let mut total = Contents::default();
        for account in repo::accounts::list(&self.db, Some(domain.id)).await? {
            let c = self.account_contents(&account).await?;
            total.accounts += c.accounts;
            total.messages += c.messages;
            total.bytes += c.bytes;
        }
        Ok(total)
    }

    /// Deletes an account with its folders, messages and mailbox files, then its folder in the
    /// data directory with whatever is left in it.
    pub async fn delete_account(&self, account: &repo::accounts::Account) -> Result<(), StoreError> {
        let files = repo::accounts::delete(&self.db, account.id).await?;
        for name in files {
            let path = self.files.resolve(Location::Account(&account.address), &name);
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
        remove_tree(&self.files.account_dir(&account.address))
    }

    /// Deletes a domain with everything in it, and its folder in the data directory.
    pub async fn delete_domain(&self, domain: &repo::domains::Domain) -> Result<(), StoreError> {
        for account in repo::accounts::list(&self.db, Some(domain.id)).await? {
            self.delete_account(&account).await?;
        }
        repo::domains::delete(&self.db, domain.id).await?;
        match self.files.domain_dir(&domain.name) {
            Some(dir) => remove_tree(&dir),
            None => Ok(()),
        }
    }
}

/// What a domain or an account holds (see [`Store::domain_contents`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Contents {
    pub accounts: i64,
    pub messages: i64,
    pub bytes: i64,
}

/// Removes `dir` and everything in it; a missing folder is fine.
fn remove_tree(dir: &std::path::Path) -> Result<(), StoreError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}
