//! Indexes Altimail adds to hMailServer's tables so that every lookup by address or name (RCPT
//! TO, logons) is an index search on every engine, however many accounts and domains there are.
//!
//! Lookups compare without case ([`crate::Dialect::ci_eq`]). On SQLite (text columns
//! `COLLATE NOCASE`) and MySQL (case-insensitive collations) a plain `column = ?` does, so an
//! index on the column serves it: hMailServer's unique keys on account, alias, list and domain
//! names already are such indexes, and only domain aliases and route addresses lack one.
//! PostgreSQL compares `lower(column) = lower(?)`, which only an index on `lower(column)` serves:
//! hMailServer's PostgreSQL schema has none, so every such lookup there scans its table.
//!
//! The indexes are created by `init` and, on an existing database, at every start when missing
//! (an index of the same name is taken as there, whatever its definition). hMailServer ignores
//! indexes it does not know, and an expression index never refuses a row: none is unique.

use crate::StoreError;
use crate::db::{Db, Dialect};

/// An index over `column` that makes case-insensitive lookups by it index searches.
struct LookupIndex {
    name: &'static str,
    table: &'static str,
    column: &'static str,
    /// hMailServer's schema has a unique key on the column, which serves the lookup on SQLite
    /// and MySQL: only PostgreSQL needs this index.
    postgres_only: bool,
}

const fn index(name: &'static str, table: &'static str, column: &'static str, postgres_only: bool) -> LookupIndex {
    LookupIndex { name, table, column, postgres_only }
}

const LOOKUP_INDEXES: &[LookupIndex] = &[
    index("idx_altimail_accounts_address", "hm_accounts", "accountaddress", true),
    index("idx_altimail_aliases_name", "hm_aliases", "aliasname", true),
    index("idx_altimail_domains_name", "hm_domains", "domainname", true),
    index("idx_altimail_lists_address", "hm_distributionlists", "distributionlistaddress", true),
    index("idx_altimail_domain_aliases_alias", "hm_domain_aliases", "daalias", false),
    index("idx_altimail_routeaddresses_address", "hm_routeaddresses", "routeaddressaddress", false),
];

impl LookupIndex {
    /// The `CREATE INDEX` statement for `dialect`, or `None` when the engine needs none.
    fn ddl(&self, dialect: Dialect) -> Option<String> {
        let (name, table, column) = (self.name, self.table, self.column);
        match dialect {
            Dialect::Postgres => Some(format!("CREATE INDEX {name} ON {table} (lower({column}))")),
            _ if self.postgres_only => None,
            _ => Some(format!("CREATE INDEX {name} ON {table} ({column})")),
        }
    }
}

async fn index_exists(db: &Db, table: &str, name: &str) -> Result<bool, StoreError> {
    let row = db.fetch_optional(db.dialect().index_exists_sql(), &[table.into(), name.into()]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) > 0)
}

/// Creates the lookup indexes this engine lacks; returns what was done.
pub(super) async fn ensure(db: &Db) -> Result<Vec<String>, StoreError> {
    let mut done = Vec::new();
    for ix in LOOKUP_INDEXES {
        let Some(ddl) = ix.ddl(db.dialect()) else { continue };
        if index_exists(db, ix.table, ix.name).await? {
            continue;
        }
        if let Err(e) = db.execute(&ddl, &[]).await {
            // Another process opening the same database may have created it meanwhile.
            if index_exists(db, ix.table, ix.name).await? {
                continue;
            }
            return Err(e);
        }
        done.push(format!("created index {} on {}({})", ix.name, ix.table, ix.column));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_indexes_lower_case_and_others_only_what_lacks_a_unique_key() {
        let accounts = &LOOKUP_INDEXES[0];
        assert_eq!(
            accounts.ddl(Dialect::Postgres).as_deref(),
            Some("CREATE INDEX idx_altimail_accounts_address ON hm_accounts (lower(accountaddress))")
        );
        assert_eq!(accounts.ddl(Dialect::MySql), None);
        assert_eq!(accounts.ddl(Dialect::Sqlite), None);
        let domain_aliases = LOOKUP_INDEXES.iter().find(|i| i.table == "hm_domain_aliases").unwrap();
        assert_eq!(
            domain_aliases.ddl(Dialect::MySql).as_deref(),
            Some("CREATE INDEX idx_altimail_domain_aliases_alias ON hm_domain_aliases (daalias)")
        );
        for ix in LOOKUP_INDEXES {
            // PostgreSQL and MySQL limit identifiers to 63 and 64 characters.
            assert!(ix.name.len() <= 63, "{}", ix.name);
            let table = crate::schema::table(ix.table).unwrap();
            let column = table.columns.iter().find(|c| c.name == ix.column).unwrap();
            assert_eq!(ix.postgres_only, column.unique, "{}", ix.name);
        }
    }
}
