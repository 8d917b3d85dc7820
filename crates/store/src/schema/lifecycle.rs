//! Creating the schema, recognising an existing hMailServer database, and upgrading additively.
//!
//! `hm_dbversion` is never changed on an existing database: hMailServer refuses to start when it
//! differs from the version it expects, and an administrator must be able to go back. Altimail
//! records its own schema version in `altimail_schema`, a table hMailServer ignores.

use crate::StoreError;
use crate::db::{Db, Value};

use super::defaults::default_rows;
use super::lookup_indexes;
use super::tables::{HM_TABLES, table};

/// The hMailServer schema version `init` creates.
pub const HM_SCHEMA_VERSION: i64 = 5704;

/// Altimail's own schema version; bump it with each step added to [`OUR_STEPS`].
pub const ALTIMAIL_SCHEMA_VERSION: i64 = 8;

/// hMailServer versions whose databases are used unchanged: official 5.6.x (5601), the
/// community 5.6.9 build (5605/5606, which numbered its own additions), and 5.7 (5700–5704).
pub fn supported_hm_version(v: i64) -> bool {
    (5601..=5606).contains(&v) || (5700..=5704).contains(&v)
}

/// What a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// No hMailServer tables at all: needs `init`.
    Empty,
    /// An hMailServer schema, with Altimail's additions at `altimail_version` (None = never
    /// opened by Altimail).
    Existing { hm_version: i64, altimail_version: Option<i64> },
}

/// Our additions, in order. Each step runs once; `altimail_schema.version` records the last.
/// Types are the portable subset (BIGINT, SMALLINT, VARCHAR; times as Unix seconds).
const OUR_STEPS: &[&str] = &[
    // 1: nothing beyond the version table itself (created before the steps run).
    "",
    // 2: SMTP envelope data hMailServer has no place for (DSN, SMTPUTF8, authenticated
    //    submitter), and the auto-reply memory (hMailServer keeps it in memory only).
    "CREATE TABLE altimail_envelopes (
        messageid BIGINT NOT NULL PRIMARY KEY,
        envid VARCHAR(100) NOT NULL,
        ret VARCHAR(4) NOT NULL,
        body VARCHAR(12) NOT NULL,
        smtputf8 SMALLINT NOT NULL,
        authuser VARCHAR(255) NOT NULL
    );
    CREATE TABLE altimail_recipient_dsn (
        recipientid BIGINT NOT NULL PRIMARY KEY,
        messageid BIGINT NOT NULL,
        notify VARCHAR(40) NOT NULL,
        orcpt VARCHAR(500) NOT NULL
    );
    CREATE INDEX idx_altimail_recipient_dsn ON altimail_recipient_dsn (messageid);
    CREATE TABLE altimail_autoreplies (
        accountid BIGINT NOT NULL,
        sender VARCHAR(255) NOT NULL,
        senttime BIGINT NOT NULL,
        PRIMARY KEY (accountid, sender)
    )",
    // 3: IMAP state hMailServer has no place for. CONDSTORE/QRESYNC (RFC 7162) mod-sequences as
    //    columns with a default, since hMailServer names its columns in INSERTs (0 reads as 1);
    //    custom keywords (RFC 9051 §2.3.2), expunged UIDs for VANISHED, and SPECIAL-USE
    //    attributes (RFC 6154) in side tables.
    "ALTER TABLE hm_messages ADD COLUMN messagemodseq BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE hm_imapfolders ADD COLUMN folderhighestmodseq BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE altimail_keywords (
        messageid BIGINT NOT NULL,
        keyword VARCHAR(255) NOT NULL
    );
    CREATE INDEX idx_altimail_keywords ON altimail_keywords (messageid);
    CREATE TABLE altimail_vanished (
        folderid BIGINT NOT NULL,
        uid BIGINT NOT NULL,
        modseq BIGINT NOT NULL
    );
    CREATE INDEX idx_altimail_vanished ON altimail_vanished (folderid, modseq);
    CREATE TABLE altimail_special_use (
        folderid BIGINT NOT NULL,
        attribute VARCHAR(40) NOT NULL
    );
    CREATE INDEX idx_altimail_special_use ON altimail_special_use (folderid)",
    // 4: IMAP subscriptions to mailboxes that do not exist (RFC 9051 §6.3.7 keeps a subscription
    //    when its mailbox is deleted); hMailServer keeps subscriptions on the folder row only.
    "CREATE TABLE altimail_subscriptions (
        accountid BIGINT NOT NULL,
        name VARCHAR(1000) NOT NULL
    );
    CREATE INDEX idx_altimail_subscriptions ON altimail_subscriptions (accountid)",
    // 5: local delivery. The client's address and its IP range's anti-spam / anti-virus
    //    exemptions kept with the queued message; markers of queue recipients whose forward was
    //    queued while their own copy is still to be stored (forward exactly once).
    "ALTER TABLE altimail_envelopes ADD COLUMN clientip VARCHAR(45) NOT NULL DEFAULT '';
    ALTER TABLE altimail_envelopes ADD COLUMN skipantispam SMALLINT NOT NULL DEFAULT 0;
    ALTER TABLE altimail_envelopes ADD COLUMN skipantivirus SMALLINT NOT NULL DEFAULT 0;
    CREATE TABLE altimail_forwarded (
        recipientid BIGINT NOT NULL PRIMARY KEY,
        messageid BIGINT NOT NULL
    );
    CREATE INDEX idx_altimail_forwarded ON altimail_forwarded (messageid)",
    // 6: the Bayesian filter, per scope (0: global, else a domain id). Tokens are kept as 64-bit
    //    hashes: fixed width, and no collation can merge two different tokens. Per token, how
    //    many spam and ham messages held it; per scope, how many messages of each class were
    //    learnt; per message (a hash of its Message-ID or content), what it was learnt as, so a
    //    message learnt twice counts once and can be learnt the other way.
    "CREATE TABLE altimail_bayes_tokens (
        scope BIGINT NOT NULL,
        token BIGINT NOT NULL,
        spam BIGINT NOT NULL,
        ham BIGINT NOT NULL,
        PRIMARY KEY (scope, token)
    );
    CREATE TABLE altimail_bayes_counts (
        scope BIGINT NOT NULL PRIMARY KEY,
        spam BIGINT NOT NULL,
        ham BIGINT NOT NULL
    );
    CREATE TABLE altimail_bayes_learnt (
        scope BIGINT NOT NULL,
        messagekey BIGINT NOT NULL,
        learntclass SMALLINT NOT NULL,
        learnttime BIGINT NOT NULL,
        PRIMARY KEY (scope, messagekey)
    )",
    // 7: what the global rules decided for a queued message at its current delivery attempt
    //    (hMailServer keeps it in memory for the one thread that delivers the message; here
    //    local and remote delivery are two workers): the attempt it was decided at, the IMAP
    //    folder for local copies, the route and the local address for remote delivery.
    "CREATE TABLE altimail_rule_results (
        messageid BIGINT NOT NULL PRIMARY KEY,
        attempt BIGINT NOT NULL,
        imapfolder VARCHAR(255) NOT NULL,
        routeid BIGINT NOT NULL,
        bindaddress VARCHAR(45) NOT NULL
    )",
    // 8: a counter every Altimail process bumps after it changes a table the directory index
    //    mirrors, so the servers sharing the database see the change with one indexed read
    //    instead of a checksum over every account (see `directory_index`).
    "CREATE TABLE altimail_directory_version (
        id BIGINT NOT NULL PRIMARY KEY,
        version BIGINT NOT NULL
    );
    INSERT INTO altimail_directory_version (id, version) VALUES (1, 0)",
];

/// Whether a statement of a step still has to run. Engines differ in `IF NOT EXISTS` support
/// (MySQL has none for indexes) and MySQL commits DDL one statement at a time, so a step
/// interrupted half-way, or run again on a database whose version row was lost, skips what is
/// already there: a column that exists, a table that exists, and the indexes and first rows of
/// such a table.
async fn still_needed(db: &Db, statement: &str, existing_tables: &mut Vec<String>) -> Result<bool, StoreError> {
    let words: Vec<String> = statement.split_whitespace().take(6).map(str::to_ascii_lowercase).collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match (w(0), w(1)) {
        ("alter", "table") if w(3) == "add" && w(4) == "column" => Ok(!column_exists(db, w(2), w(5)).await?),
        ("create", "table") => {
            let name = w(2).trim_end_matches('(').to_owned();
            if table_exists(db, &name).await? {
                existing_tables.push(name);
                return Ok(false);
            }
            Ok(true)
        }
        ("create", "index") if w(3) == "on" => Ok(!existing_tables.iter().any(|t| t == w(4))),
        // The first rows of a table this step made; a table that was already there has them.
        ("insert", "into") => Ok(!existing_tables.iter().any(|t| t == w(2))),
        _ => Ok(true),
    }
}

async fn table_exists(db: &Db, name: &str) -> Result<bool, StoreError> {
    let row = db.fetch_optional(db.dialect().table_exists_sql(), &[name.into()]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) > 0)
}

async fn column_exists(db: &Db, table_name: &str, column: &str) -> Result<bool, StoreError> {
    let row = db.fetch_optional(db.dialect().column_exists_sql(), &[table_name.into(), column.into()]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) > 0)
}

/// Looks at the database without changing it.
pub async fn inspect(db: &Db) -> Result<SchemaState, StoreError> {
    if !table_exists(db, "hm_dbversion").await? {
        if table_exists(db, "hm_accounts").await? {
            return Err(StoreError::Schema(
                "hm_accounts exists but hm_dbversion does not: not a complete hMailServer database".into(),
            ));
        }
        return Ok(SchemaState::Empty);
    }
    let hm_version = db
        .fetch_optional("SELECT value FROM hm_dbversion", &[])
        .await?
        .map(|r| r.int("value"))
        .transpose()?
        .ok_or_else(|| {
            StoreError::Schema("hm_dbversion has no row: the schema is incomplete, or still being created".into())
        })?;
    let altimail_version = if table_exists(db, "altimail_schema").await? {
        db.fetch_optional("SELECT version FROM altimail_schema", &[]).await?.map(|r| r.int("version")).transpose()?
    } else {
        None
    };
    Ok(SchemaState::Existing { hm_version, altimail_version })
}

/// Creates every hMailServer table with its default rows, then Altimail's additions.
/// Refuses a database that already has an hMailServer schema.
pub async fn create(db: &Db) -> Result<(), StoreError> {
    if inspect(db).await? != SchemaState::Empty {
        return Err(StoreError::Schema("the database already holds an hMailServer schema".into()));
    }
    let dialect = db.dialect();
    for t in HM_TABLES {
        for statement in t.ddl(dialect) {
            db.execute(&statement, &[]).await?;
        }
    }
    // Everything of ours exists before hMailServer's version row (a default row below) is
    // committed: until then `inspect` reports an incomplete schema, so a command run meanwhile
    // neither upgrades alongside nor takes this database for an hMailServer one to adopt.
    db.execute("CREATE TABLE altimail_schema (version INTEGER NOT NULL)", &[]).await?;
    db.execute("INSERT INTO altimail_schema (version) VALUES (?)", &[Value::Int(0)]).await?;
    apply_our_steps(db, 0).await?;
    lookup_indexes::ensure(db).await?;
    let mut tx = db.begin().await?;
    for row in default_rows() {
        let pk = table(row.table).and_then(|t| t.primary_key()).unwrap_or("");
        let (sql, args) = crate::repo::insert_sql(row.table, &row.values);
        if pk.is_empty() {
            tx.execute(&sql, &args).await?;
        } else {
            tx.insert(&sql, &args, pk).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Brings an existing hMailServer database up to what Altimail needs, only by adding: missing
/// columns of later hMailServer versions, then Altimail's own tables, then the indexes its
/// lookups need (see `lookup_indexes`). Returns what was done.
pub async fn upgrade(db: &Db) -> Result<Vec<String>, StoreError> {
    let SchemaState::Existing { hm_version, altimail_version } = inspect(db).await? else {
        return Err(StoreError::Schema("the database is empty: run `altimail init` first".into()));
    };
    if !supported_hm_version(hm_version) {
        return Err(StoreError::Schema(format!(
            "hMailServer database version {hm_version} is not supported (5601-5606 and 5700-5704 are)"
        )));
    }
    let dialect = db.dialect();
    let mut done = Vec::new();
    // 5703 -> 5704 added this column; the 5.6.9 community build uses it too. A default lets
    // older hMailServer versions keep inserting rows without naming it.
    if !column_exists(db, "hm_fetchaccounts", "famimerecipientheaders").await? {
        let ddl = table("hm_fetchaccounts")
            .and_then(|t| t.add_column_ddl("famimerecipientheaders", dialect))
            .ok_or_else(|| StoreError::Schema("hm_fetchaccounts description lacks famimerecipientheaders".into()))?;
        db.execute(&ddl, &[]).await?;
        done.push("added hm_fetchaccounts.famimerecipientheaders".to_owned());
    }
    // hMailServer tables that older versions lack entirely are created empty.
    for t in HM_TABLES {
        if !table_exists(db, t.name).await? {
            for statement in t.ddl(dialect) {
                db.execute(&statement, &[]).await?;
            }
            done.push(format!("created {}", t.name));
        }
    }
    let current = match altimail_version {
        Some(v) => v,
        None => {
            db.execute("CREATE TABLE altimail_schema (version INTEGER NOT NULL)", &[]).await?;
            db.execute("INSERT INTO altimail_schema (version) VALUES (?)", &[Value::Int(0)]).await?;
            done.push("created altimail_schema".to_owned());
            0
        }
    };
    if current > ALTIMAIL_SCHEMA_VERSION {
        return Err(StoreError::Schema(format!(
            "the database was used by a newer Altimail (schema {current}, this version knows {ALTIMAIL_SCHEMA_VERSION})"
        )));
    }
    done.extend(apply_our_steps(db, current).await?);
    done.extend(lookup_indexes::ensure(db).await?);
    Ok(done)
}

/// Runs Altimail's schema steps after `current`, recording each; returns what was done.
async fn apply_our_steps(db: &Db, mut current: i64) -> Result<Vec<String>, StoreError> {
    let mut done = Vec::new();
    while current < ALTIMAIL_SCHEMA_VERSION {
        let step = OUR_STEPS[current as usize];
        let mut existing_tables = Vec::new();
        for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if still_needed(db, statement, &mut existing_tables).await? {
                db.execute(statement, &[]).await?;
            }
        }
        current += 1;
        db.execute("UPDATE altimail_schema SET version = ?", &[current.into()]).await?;
        done.push(format!("altimail schema step {current}"));
    }
    Ok(done)
}
