//! One SQL layer over three engines: SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! Statements are written once with `?` placeholders; [`Dialect`] rewrites them for PostgreSQL and
//! holds the few statements that differ between engines. Values go in as [`Value`] and rows come
//! back as [`Row`], so repositories never see an engine-specific type. Typed sqlx pools are used
//! underneath (sqlx's `Any` driver mangles placeholders and types across engines).

mod connect;
mod dialect;
mod engine;
mod value;

pub use connect::DbConfig;
pub use dialect::Dialect;
pub use value::{Row, Value, never, parse_time};

use sqlx::{MySql, MySqlPool, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::StoreError;

/// A connection pool to one of the supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    engine: TxEngine,
    /// A statement changed a table the directory index mirrors: tell it after the commit.
    directory_changed: bool,
    /// The pool the transaction came from, for the directory's change counter after the commit.
    db: Db,
}

enum TxEngine {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
    MySql(Transaction<'static, MySql>),
}

/// A SQLite transaction holding this process's writer turn (see [`sqlite_writer_turn`]).
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqliteTx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for SqliteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// SQLite has one writer at a time, and a connection waiting for the lock polls with sleeps
/// (its busy handler), leaving the CPU idle while writers queue. Writers of this process take
/// turns here instead, woken as soon as the previous one commits. After a long wait the turn
/// is skipped and the busy handler decides, so a stuck writer cannot block the others forever.
async fn sqlite_writer_turn() -> Option<tokio::sync::OwnedMutexGuard<()>> {
    static TURN: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> = std::sync::OnceLock::new();
    let turn = TURN.get_or_init(Default::default).clone();
    tokio::time::timeout(std::time::Duration::from_secs(10), turn.lock_owned()).await.ok()
}

/// Runs the same body against whichever engine `$self` holds, with `$e` bound to an executor.
macro_rules! on_engine {
    ($self:expr, $e:ident => $body:expr) => {
        on_engine!(Self, $self, $e => $body)
    };
    ($ty:ident, $self:expr, $e:ident => $body:expr) => {
        match $self {
            $ty::Sqlite($e) => {
                #[allow(unused_imports)]
                use engine::sqlite as eng;
                $body
            }
            $ty::Postgres($e) => {
                #[allow(unused_imports)]
                use engine::postgres as eng;
                $body
            }
            $ty::MySql($e) => {
                #[allow(unused_imports)]
                use engine::mysql as eng;
                $body
            }
        }
    };
}

/// The raw SQL methods are the store's own business: other crates go through the repositories
/// (`repo`), so every statement lives here. Tests of other crates reach them with the `raw-sql`
/// feature, for fixtures and fault injection.
macro_rules! raw_sql_api {
    ($(#[$meta:meta])* async fn $($rest:tt)*) => {
        #[cfg(feature = "raw-sql")]
        $(#[$meta])* pub async fn $($rest)*
        #[cfg(not(feature = "raw-sql"))]
        #[allow(dead_code)]
        $(#[$meta])* pub(crate) async fn $($rest)*
    };
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
            Db::MySql(_) => Dialect::MySql,
        }
    }

    raw_sql_api! {
        /// Runs a statement; returns the number of rows it changed.
        async fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
            let changed = crate::directory_index::changes_directory(sql);
            let sql = self.dialect().placeholders(sql);
            let n = on_engine!(self, p => eng::execute(p, &sql, args).await)?;
            if changed {
                self.directory_changed().await;
            }
            Ok(n)
        }
    }

    raw_sql_api! {
        async fn fetch_all(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
            let sql = self.dialect().placeholders(sql);
            on_engine!(self, p => eng::fetch_all(p, &sql, args).await)
        }
    }

    raw_sql_api! {
        async fn fetch_optional(&self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
            Ok(self.fetch_all(sql, args).await?.into_iter().next())
        }
    }

    raw_sql_api! {
        /// Runs an INSERT and returns the new surrogate key held in column `pk`.
        async fn insert(&self, sql: &str, args: &[Value], pk: &str) -> Result<i64, StoreError> {
            let changed = crate::directory_index::changes_directory(sql);
            let sql = self.dialect().placeholders(sql);
            let id = on_engine!(self, p => eng::insert(p, &sql, args, pk).await)?;
            if changed {
                self.directory_changed().await;
            }
            Ok(id)
        }
    }

    raw_sql_api! {
        async fn begin(&self) -> Result<Tx, StoreError> {
            let engine = match self {
                // IMMEDIATE takes the write lock at once: concurrent writers queue on the busy
                // timeout instead of failing to upgrade a read lock and backing off.
                Db::Sqlite(p) => {
                    let writer = sqlite_writer_turn().await;
                    TxEngine::Sqlite(SqliteTx { tx: p.begin_with("BEGIN IMMEDIATE").await?, _writer: writer })
                }
                Db::Postgres(p) => TxEngine::Postgres(p.begin().await?),
                Db::MySql(p) => TxEngine::MySql(p.begin().await?),
            };
            Ok(Tx { engine, directory_changed: false, db: self.clone() })
        }
    }

    /// A read-only transaction that sees one consistent state of the whole database while
    /// writers go on: a deferred SQLite transaction (WAL keeps the snapshot of its first read),
    /// PostgreSQL REPEATABLE READ, MySQL/MariaDB InnoDB's consistent snapshot. Used by backups.
    pub(crate) async fn begin_snapshot(&self) -> Result<Tx, StoreError> {
        let engine = match self {
            Db::Sqlite(p) => TxEngine::Sqlite(SqliteTx { tx: p.begin_with("BEGIN DEFERRED").await?, _writer: None }),
            Db::Postgres(p) => {
                TxEngine::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
            Db::MySql(p) => {
                TxEngine::MySql(p.begin_with("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY").await?)
            }
        };
        Ok(Tx { engine, directory_changed: false, db: self.clone() })
    }

    /// After a committed write to a table the directory index mirrors: tells this process's
    /// indexes, and bumps the database's counter so that other processes' indexes see it at
    /// their next check. The counter is a hint on top of their checksums: a bump that fails
    /// (a database whose schema predates the counter, a crash right after the commit) delays
    /// other processes until their next checksum, and is only logged.
    async fn directory_changed(&self) {
        crate::directory_index::note_change();
        let sql = crate::directory_index::BUMP_VERSION_SQL;
        if let Err(e) = on_engine!(self, p => eng::execute(p, sql, &[]).await) {
            tracing::debug!("bumping the directory version: {e}");
        }
    }

    pub async fn close(&self) {
        on_engine!(self, p => p.close().await)
    }
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self.engine {
            TxEngine::Sqlite(_) => Dialect::Sqlite,
            TxEngine::Postgres(_) => Dialect::Postgres,
            TxEngine::MySql(_) => Dialect::MySql,
        }
    }

    raw_sql_api! {
        async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
            self.directory_changed |= crate::directory_index::changes_directory(sql);
            let sql = self.dialect().placeholders(sql);
            on_engine!(TxEngine, &mut self.engine, t => eng::execute(&mut **t, &sql, args).await)
        }
    }

    raw_sql_api! {
        async fn fetch_all(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
            let sql = self.dialect().placeholders(sql);
            on_engine!(TxEngine, &mut self.engine, t => eng::fetch_all(&mut **t, &sql, args).await)
        }
    }

    raw_sql_api! {
        async fn fetch_optional(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
            Ok(self.fetch_all(sql, args).await?.into_iter().next())
        }
    }

    raw_sql_api! {
        async fn insert(&mut self, sql: &str, args: &[Value], pk: &str) -> Result<i64, StoreError> {
            self.directory_changed |= crate::directory_index::changes_directory(sql);
            let sql = self.dialect().placeholders(sql);
            on_engine!(TxEngine, &mut self.engine, t => eng::insert(&mut **t, &sql, args, pk).await)
        }
    }

    raw_sql_api! {
        async fn commit(self) -> Result<(), StoreError> {
            on_engine!(TxEngine, self.engine, t => t.commit().await?);
            if self.directory_changed {
                self.db.directory_changed().await;
            }
            Ok(())
        }
    }
}
