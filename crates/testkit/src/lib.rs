//! Scratch databases for tests, on every engine Altimail supports.
//!
//! [`backends`] returns one [`ScratchDb`] per engine: SQLite always, PostgreSQL and MySQL/MariaDB
//! when their servers answer. Each scratch database is new and empty, so tests never share state.
//!
//! Servers are found through `ALTIMAIL_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and `ALTIMAIL_TEST_MYSQL` (default `mysql://root@127.0.0.1:3306/test`); the database in the URL
//! is only used to create the scratch ones. Setting a variable to `off` skips that engine. When a
//! server does not answer, the test prints a `SKIP` line naming the variable — unless `CI` or
//! `ALTIMAIL_REQUIRE_DB` is set, in which case it fails: CI must test every engine for real.
//!
//! [`splits`] cuts a session's input into pieces, for the tests that every way of splitting it
//! gives the same dialogue.

pub mod peers;
pub mod splits;
pub mod tools;

pub use tools::{have_python_module, have_tool, skip_line};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use altimail_store::DbConfig;
use sqlx::Connection;

/// A database created for one test.
pub struct ScratchDb {
    pub config: DbConfig,
    /// `sqlite`, `postgresql` or `mysql`.
    pub engine: &'static str,
    server: Option<Server>,
    /// Holds the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
}

#[derive(Clone)]
struct Server {
    url: ServerUrl,
    name: String,
}

#[derive(Clone)]
struct ServerUrl {
    scheme: &'static str,
    user: String,
    password: String,
    host: String,
    port: u16,
    admin_db: String,
}

impl ServerUrl {
    fn url(&self, db: &str) -> String {
        let auth =
            if self.password.is_empty() { self.user.clone() } else { format!("{}:{}", self.user, self.password) };
        format!("{}://{auth}@{}:{}/{db}", self.scheme, self.host, self.port)
    }

    fn config(&self, name: &str) -> DbConfig {
        let (host, port, name, user, password) =
            (self.host.clone(), self.port, name.to_owned(), self.user.clone(), self.password.clone());
        if self.scheme == "postgres" {
            DbConfig::Postgres { host, port, name, user, password }
        } else {
            DbConfig::MySql { host, port, name, user, password }
        }
    }
}

/// Parses `scheme://user[:password]@host[:port]/db`.
fn parse_url(url: &str, scheme: &'static str, default_port: u16) -> Option<ServerUrl> {
    let rest = url.strip_prefix(scheme)?.strip_prefix("://")?;
    let (auth, rest) = rest.split_once('@')?;
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, "test"));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, default_port),
    };
    Some(ServerUrl {
        scheme,
        user: user.into(),
        password: password.into(),
        host: host.into(),
        port,
        admin_db: db.into(),
    })
}

fn must_test_every_engine() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
        || std::env::var_os("ALTIMAIL_REQUIRE_DB").is_some_and(|v| !v.is_empty())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn scratch_name(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clean: String = test.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect::<String>().to_lowercase();
    format!("altimail_t_{}_{}_{n}", clean, std::process::id())
}

async fn create_on_server(
    var: &str,
    scheme: &'static str,
    default_url: &str,
    port: u16,
    test: &str,
) -> Option<ScratchDb> {
    let url = std::env::var(var).unwrap_or_else(|_| default_url.to_owned());
    if url == "off" {
        tools::skip_line(&format!("{scheme} tests: {var}=off"));
        return None;
    }
    let server = match parse_url(&url, scheme, port) {
        Some(s) => s,
        None => panic!("{var}={url:?} is not a {scheme}://user[:password]@host[:port]/db URL"),
    };
    let name = scratch_name(test);
    let created = async {
        if scheme == "postgres" {
            let mut c = sqlx::PgConnection::connect(&server.url(&server.admin_db)).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")))
                .execute(&mut c)
                .await?;
            c.close().await
        } else {
            let mut c = sqlx::MySqlConnection::connect(&server.url(&server.admin_db)).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")))
                .execute(&mut c)
                .await?;
            c.close().await
        }
    }
    .await;
    match created {
        Ok(()) => Some(ScratchDb {
            config: server.config(&name),
            engine: if scheme == "postgres" { "postgresql" } else { "mysql" },
            server: Some(Server { url: server, name }),
            _dir: None,
        }),
        Err(e) if must_test_every_engine() => panic!("{scheme} server at {url} unusable ({e}); it is required in CI"),
        Err(e) => {
            tools::skip_line(&format!(
                "{scheme} tests: server at {url} unusable ({e}); set {var} to a reachable server"
            ));
            None
        }
    }
}

impl ScratchDb {
    /// A fresh SQLite database in a temporary directory.
    pub fn sqlite() -> ScratchDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path: PathBuf = dir.path().join("altimail.db");
        ScratchDb { config: DbConfig::Sqlite { path }, engine: "sqlite", server: None, _dir: Some(dir) }
    }

    /// A fresh PostgreSQL database, or `None` (with a SKIP line) when no server answers.
    pub async fn postgres(test: &str) -> Option<ScratchDb> {
        create_on_server("ALTIMAIL_TEST_PG", "postgres", "postgres://postgres@127.0.0.1:5432/test", 5432, test).await
    }

    /// A fresh MySQL/MariaDB database, or `None` (with a SKIP line) when no server answers.
    pub async fn mysql(test: &str) -> Option<ScratchDb> {
        create_on_server("ALTIMAIL_TEST_MYSQL", "mysql", "mysql://root@127.0.0.1:3306/test", 3306, test).await
    }

    /// The `[database]` section of an `altimail.toml` pointing at this database.
    pub fn toml(&self) -> String {
        match &self.config {
            DbConfig::Sqlite { path } => {
                format!("[database]\ntype = \"sqlite\"\npath = {:?}\n", path.display().to_string())
            }
            DbConfig::Postgres { host, port, name, user, password }
            | DbConfig::MySql { host, port, name, user, password } => {
                let ty = if self.engine == "postgresql" { "postgresql" } else { "mysql" };
                format!(
                    "[database]\ntype = \"{ty}\"\nhost = \"{host}\"\nport = {port}\nname = \"{name}\"\nuser = \"{user}\"\npassword = \"{password}\"\n"
                )
            }
        }
    }

    /// Drops a server database (SQLite files go with their temporary directory).
    pub async fn cleanup(self) {
        let Some(Server { url, name }) = &self.server else { return };
        let admin = url.url(&url.admin_db);
        let sql = if url.scheme == "postgres" {
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        } else {
            format!("DROP DATABASE IF EXISTS {name}")
        };
        let result = if url.scheme == "postgres" {
            match sqlx::PgConnection::connect(&admin).await {
                Ok(mut c) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.map(|_| ()),
                Err(e) => Err(e),
            }
        } else {
            match sqlx::MySqlConnection::connect(&admin).await {
                Ok(mut c) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.map(|_| ()),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            eprintln!("could not drop scratch database {name}: {e}");
        }
    }
}

/// One scratch database per available engine: SQLite, then PostgreSQL and MySQL when reachable.
pub async fn backends(test: &str) -> Vec<ScratchDb> {
    let mut all = vec![ScratchDb::sqlite()];
    all.extend(ScratchDb::postgres(test).await);
    all.extend(ScratchDb::mysql(test).await);
    all
}
