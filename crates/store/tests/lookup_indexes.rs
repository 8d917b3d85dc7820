//! Lookups by address or name (RCPT TO, logons) are index searches on every engine, and an
//! existing database gets the indexes they need when it lacks them.

use altimail_store::repo::{accounts, domain_aliases, domains};
use altimail_store::{Db, Dialect, Store};
use altimail_testkit::{ScratchDb, backends};

/// Every column looked up without case by recipient resolution or a logon.
const LOOKUPS: &[(&str, &str)] = &[
    ("hm_accounts", "accountaddress"),
    ("hm_aliases", "aliasname"),
    ("hm_domains", "domainname"),
    ("hm_distributionlists", "distributionlistaddress"),
    ("hm_domain_aliases", "daalias"),
    ("hm_routeaddresses", "routeaddressaddress"),
];

/// Altimail's lookup indexes on each engine (see `schema::lookup_indexes`).
fn our_indexes(dialect: Dialect) -> Vec<(&'static str, &'static str)> {
    let mut all = vec![
        ("hm_domain_aliases", "idx_altimail_domain_aliases_alias"),
        ("hm_routeaddresses", "idx_altimail_routeaddresses_address"),
    ];
    if dialect == Dialect::Postgres {
        all.extend([
            ("hm_accounts", "idx_altimail_accounts_address"),
            ("hm_aliases", "idx_altimail_aliases_name"),
            ("hm_domains", "idx_altimail_domains_name"),
            ("hm_distributionlists", "idx_altimail_lists_address"),
        ]);
    }
    all
}

async fn open(db: &ScratchDb, data: &std::path::Path) -> Store {
    Store::open(&db.config, data, true).await.unwrap_or_else(|e| panic!("{}: open: {e}", db.engine))
}

async fn index_exists(db: &Db, table: &str, name: &str) -> bool {
    let row = db.fetch_optional(db.dialect().index_exists_sql(), &[table.into(), name.into()]).await.unwrap();
    row.unwrap().int("n").unwrap() > 0
}

/// The engine's plan for `sql`, one line per step; `Err` names a full scan.
async fn plan(db: &Db, sql: &str) -> Result<String, String> {
    match db.dialect() {
        Dialect::Sqlite => {
            let rows = db.fetch_all(&format!("EXPLAIN QUERY PLAN {sql}"), &[]).await.unwrap();
            let lines: Vec<String> = rows.iter().map(|r| r.text("detail").unwrap()).collect();
            let text = lines.join("\n");
            if lines.iter().any(|l| l.starts_with("SCAN")) { Err(text) } else { Ok(text) }
        }
        Dialect::Postgres => {
            // Tiny tables are scanned whatever indexes there are: forbid that, so the plan
            // shows whether an index can serve the lookup at all.
            let mut tx = db.begin().await.unwrap();
            tx.execute("SET LOCAL enable_seqscan = off", &[]).await.unwrap();
            let rows = tx.fetch_all(&format!("EXPLAIN {sql}"), &[]).await.unwrap();
            let text: Vec<String> = rows.iter().map(|r| r.text("QUERY PLAN").unwrap()).collect();
            let text = text.join("\n");
            if text.contains("Seq Scan") { Err(text) } else { Ok(text) }
        }
        // MySQL's EXPLAIN of a lookup that finds nothing in a unique key shows no key at all
        // ("no matching row in const table"): ask whether an index starts with the column.
        Dialect::MySql => Err(sql.to_owned()),
    }
}

async fn mysql_index_starts_with(db: &Db, table: &str, column: &str) -> bool {
    let row = db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ? AND seq_in_index = 1",
            &[table.into(), column.into()],
        )
        .await
        .unwrap();
    row.unwrap().int("n").unwrap() > 0
}

#[tokio::test]
async fn every_lookup_by_name_is_an_index_search() {
    for db in backends("lookup_plans").await {
        let data = tempfile::tempdir().unwrap();
        open(&db, data.path()).await.db.close().await;
        // Connections that were open while `init` made the indexes may not have read them yet,
        // and SQLite plans an EXPLAIN with what its connection last read: start afresh.
        let store = Store::open(&db.config, data.path(), false).await.unwrap();
        let s = &store.db;
        let e = db.engine;
        for (table, column) in LOOKUPS {
            if s.dialect() == Dialect::MySql {
                assert!(mysql_index_starts_with(s, table, column).await, "{e}: no index on {table}({column})");
                continue;
            }
            let sql = format!("SELECT * FROM {table} WHERE {}", s.dialect().ci_eq(column))
                .replace('?', "'Someone@Example.test'");
            if let Err(plan) = plan(s, &sql).await {
                panic!("{e}: {sql} scans its table:\n{plan}");
            }
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn missing_lookup_indexes_are_added_when_a_database_opens() {
    for db in backends("lookup_upgrade").await {
        let data = tempfile::tempdir().unwrap();
        let e = db.engine;
        {
            let store = open(&db, data.path()).await;
            let s = &store.db;
            let d = domains::create(s, &domains::Domain::new("example.test")).await.unwrap();
            domain_aliases::create(s, d.id, "alias.test").await.unwrap();
            accounts::create(s, &accounts::Account::new(d.id, "User@example.test")).await.unwrap();
            for (table, name) in our_indexes(s.dialect()) {
                assert!(index_exists(s, table, name).await, "{e}: init made {name}");
            }
            // On one connection: another one of the pool could still see the dropped index.
            let mut tx = s.begin().await.unwrap();
            for (table, name) in our_indexes(s.dialect()) {
                let drop = match s.dialect() {
                    Dialect::MySql => format!("DROP INDEX {name} ON {table}"),
                    _ => format!("DROP INDEX {name}"),
                };
                tx.execute(&drop, &[]).await.unwrap();
            }
            // An index of the same name the administrator made is taken as it is.
            tx.execute("CREATE INDEX idx_altimail_domain_aliases_alias ON hm_domain_aliases (dadomainid)", &[])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            s.close().await;
        }
        for round in 0..2 {
            let store = Store::open(&db.config, data.path(), false).await.unwrap_or_else(|err| panic!("{e}: {err}"));
            let s = &store.db;
            for (table, name) in our_indexes(s.dialect()) {
                assert!(index_exists(s, table, name).await, "{e}: round {round}: {name}");
            }
            let found = accounts::find(s, "user@EXAMPLE.test").await.unwrap();
            assert_eq!(found.map(|a| a.address).as_deref(), Some("User@example.test"), "{e}");
            let named = domains::find_by_name_or_alias(s, "ALIAS.test").await.unwrap().unwrap();
            assert!(named.via_alias && named.domain.name == "example.test", "{e}");
            s.close().await;
        }
        db.cleanup().await;
    }
}
