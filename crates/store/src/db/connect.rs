//! Opening a pool from the `[database]` section of the configuration.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::Db;
use crate::StoreError;

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbConfig {
    Sqlite { path: PathBuf },
    Postgres { host: String, port: u16, name: String, user: String, password: String },
    MySql { host: String, port: u16, name: String, user: String, password: String },
}

impl DbConfig {
    /// A description for logs and errors, without the password.
    pub fn describe(&self) -> String {
        match self {
            DbConfig::Sqlite { path } => format!("sqlite:{}", path.display()),
            DbConfig::Postgres { host, port, name, user, .. } => format!("postgresql://{user}@{host}:{port}/{name}"),
            DbConfig::MySql { host, port, name, user, .. } => format!("mysql://{user}@{host}:{port}/{name}"),
        }
    }
}

impl Db {
    /// Opens a pool. SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction
    /// is on disk; the file is created when missing.
    pub async fn connect(config: &DbConfig) -> Result<Db, StoreError> {
        let acquire = Duration::from_secs(10);
        match config {
            DbConfig::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
                }
                let options = SqliteConnectOptions::from_str("sqlite://")?
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30));
                let pool = SqlitePoolOptions::new().max_connections(8).acquire_timeout(acquire);
                Ok(Db::Sqlite(pool.connect_with(options).await?))
            }
            DbConfig::Postgres { host, port, name, user, password } => {
                let mut options = PgConnectOptions::new().host(host).port(*port).database(name).username(user);
                if !password.is_empty() {
                    options = options.password(password);
                }
                let pool = PgPoolOptions::new().max_connections(10).acquire_timeout(acquire);
                Ok(Db::Postgres(pool.connect_with(options).await?))
            }
            DbConfig::MySql { host, port, name, user, password } => {
                let mut options =
                    MySqlConnectOptions::new().host(host).port(*port).database(name).username(user).charset("utf8mb4");
                if !password.is_empty() {
                    options = options.password(password);
                }
                let pool = MySqlPoolOptions::new().max_connections(10).acquire_timeout(acquire);
                Ok(Db::MySql(pool.connect_with(options).await?))
            }
        }
    }
}
