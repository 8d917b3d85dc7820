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
                // One connection first, so that its error (refused, authentication, missing
                // database) is what the administrator sees, not the pool's "timed out".
                let first = first_connection::<sqlx::PgConnection>(&options, acquire).await;
                first.map_err(|e| connect_error(config, e))?;
                let pool = PgPoolOptions::new().max_connections(10).acquire_timeout(acquire);
                Ok(Db::Postgres(pool.connect_with(options).await?))
            }
            DbConfig::MySql { host, port, name, user, password } => {
                let mut options =
                    MySqlConnectOptions::new().host(host).port(*port).database(name).username(user).charset("utf8mb4");
                if !password.is_empty() {
                    options = options.password(password);
                }
                let first = first_connection::<sqlx::MySqlConnection>(&options, acquire).await;
                first.map_err(|e| connect_error(config, e))?;
                let pool = MySqlPoolOptions::new().max_connections(10).acquire_timeout(acquire);
                Ok(Db::MySql(pool.connect_with(options).await?))
            }
        }
    }
}

/// Opens and closes one connection within `limit`.
async fn first_connection<C: sqlx::Connection>(
    options: &<C as sqlx::Connection>::Options,
    limit: Duration,
) -> Result<(), FirstConnect> {
    match tokio::time::timeout(limit, C::connect_with(options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(FirstConnect::Failed(e)),
        Err(_) => Err(FirstConnect::NoAnswer(limit)),
    }
}

#[derive(Debug)]
enum FirstConnect {
    Failed(sqlx::Error),
    NoAnswer(Duration),
}

/// The first connection's failure in words an administrator can act on.
fn connect_error(config: &DbConfig, e: FirstConnect) -> StoreError {
    let (engine, host, port, name, user) = match config {
        DbConfig::Postgres { host, port, name, user, .. } => ("PostgreSQL", host, *port, name, user),
        DbConfig::MySql { host, port, name, user, .. } => ("MySQL/MariaDB", host, *port, name, user),
        DbConfig::Sqlite { .. } => {
            return match e {
                FirstConnect::Failed(e) => StoreError::Sql(e),
                FirstConnect::NoAnswer(limit) => StoreError::Connect(format!("no answer within {limit:?}")),
            };
        }
    };
    let postgres = matches!(config, DbConfig::Postgres { .. });
    let at = format!("{engine} at {host}:{port}");
    let e = match e {
        FirstConnect::NoAnswer(limit) => {
            return StoreError::Connect(format!(
                "cannot connect to {at}: no answer within {} s (is the address right, or a firewall in the way?)",
                limit.as_secs()
            ));
        }
        FirstConnect::Failed(e) => e,
    };
    let text = match &e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to {at}: connection refused (is the {engine} server running and listening on {host}:{port}?)"
        ),
        sqlx::Error::Io(io) => format!("cannot connect to {at}: {io}"),
        sqlx::Error::Tls(tls) => format!("cannot connect to {at}: TLS: {tls}"),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let mysql_number = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|m| m.number());
            let missing_db = if postgres { code == "3D000" } else { mysql_number == Some(1049) };
            let auth =
                if postgres { code == "28P01" || code == "28000" } else { matches!(mysql_number, Some(1044 | 1045)) };
            if missing_db {
                let create = if postgres {
                    format!("createdb -h {host} -p {port} -U {user} {name}")
                } else {
                    format!(
                        "mysql -h {host} -P {port} -u {user} -p -e 'CREATE DATABASE `{name}` CHARACTER SET utf8mb4'"
                    )
                };
                format!(
                    "the database {name:?} does not exist on {at}; create it with: {create} (`altimail serve` then creates the schema in it)"
                )
            } else if auth {
                format!(
                    "{at} refused user {user:?}: authentication failed ({}); check [database] user and password",
                    db.message()
                )
            } else {
                format!("{at}: {}", db.message())
            }
        }
        other => format!("cannot connect to {at}: {other}"),
    };
    StoreError::Connect(text)
}
