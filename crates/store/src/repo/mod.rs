//! Typed repositories over the hMailServer tables. Each module owns one kind of object: its
//! struct (field names are ours, column names are hMailServer's) and its queries.

pub mod accounts;
pub mod acl;
pub mod aliases;
pub mod auto_replies;
pub mod backup;
pub mod bayes;
pub mod blocked_attachments;
pub mod certificates;
pub mod dnsbl;
pub mod domain_aliases;
pub mod domains;
pub mod fetch_accounts;
pub mod folders;
pub mod greylisting;
pub mod groups;
pub mod lists;
pub mod logon_failures;
pub mod mailbox;
pub mod messages;
pub mod ports;
pub mod queue;
pub mod ranges;
pub mod routes;
pub mod rules;
pub mod server_messages;
pub mod settings;
pub mod signatures;
pub mod special_use;
pub mod subscriptions;
pub mod surbl;
pub mod whitelist;

use crate::db::{Db, Value};
use crate::{Location, Store, StoreError};

/// Ids bound per `IN (...)` list, within every engine's limit on bound parameters.
pub(crate) const IN_BATCH: usize = 500;

/// `?, ?, …` for `n` parameters.
pub(crate) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Removes message files after their rows are gone; a file already missing is fine, other
/// failures leave an orphan file and a warning.
pub(crate) async fn remove_files(store: &Store, location: Location<'_>, files: &[String]) {
    for name in files {
        let path = store.files.resolve(location, name);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("could not remove {}: {e}", path.display()),
        }
    }
}

/// `INSERT INTO table (cols) VALUES (?, …)` returning the new key from column `pk`.
pub(crate) async fn insert_row(db: &Db, table: &str, pk: &str, values: &[(&str, Value)]) -> Result<i64, StoreError> {
    let (sql, args) = insert_sql(table, values);
    db.insert(&sql, &args, pk).await
}

pub(crate) fn insert_sql(table: &str, values: &[(&str, Value)]) -> (String, Vec<Value>) {
    let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; values.len()].join(", ");
    let sql = format!("INSERT INTO {table} ({}) VALUES ({marks})", cols.join(", "));
    (sql, values.iter().map(|(_, v)| v.clone()).collect())
}

/// `UPDATE table SET a = ?, … WHERE pk = ?`.
pub(crate) async fn update_row(
    db: &Db,
    table: &str,
    pk: &str,
    id: i64,
    values: &[(&str, Value)],
) -> Result<u64, StoreError> {
    let sets: Vec<String> = values.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let sql = format!("UPDATE {table} SET {} WHERE {pk} = ?", sets.join(", "));
    let mut args: Vec<Value> = values.iter().map(|(_, v)| v.clone()).collect();
    args.push(Value::Int(id));
    db.execute(&sql, &args).await
}

/// How many rows of `table` have `column = id` (a domain's accounts, aliases or lists).
pub(crate) async fn count_where(db: &Db, table: &str, column: &str, id: i64) -> Result<i64, StoreError> {
    let row = db.fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?"), &[id.into()]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}

/// Which kind of object already uses an address, if any: accounts, aliases and distribution
/// lists share one address space (hMailServer refuses duplicates across them).
pub async fn address_owner(db: &Db, address: &str) -> Result<Option<&'static str>, StoreError> {
    let d = db.dialect();
    let checks = [
        ("account", format!("SELECT accountid FROM hm_accounts WHERE {}", d.ci_eq("accountaddress"))),
        ("alias", format!("SELECT aliasid FROM hm_aliases WHERE {}", d.ci_eq("aliasname"))),
        (
            "distribution list",
            format!("SELECT distributionlistid FROM hm_distributionlists WHERE {}", d.ci_eq("distributionlistaddress")),
        ),
    ];
    for (kind, sql) in checks {
        if db.fetch_optional(&sql, &[address.into()]).await?.is_some() {
            return Ok(Some(kind));
        }
    }
    Ok(None)
}

/// Fails with a conflict when `address` is taken.
pub(crate) async fn ensure_address_free(db: &Db, address: &str) -> Result<(), StoreError> {
    match address_owner(db, address).await? {
        Some(kind) => Err(StoreError::Conflict(format!("{address} already exists as a {kind}"))),
        None => Ok(()),
    }
}
