//! `altimail_bayes_*`: what the Bayesian filter has learnt, per scope (0 = the global table,
//! otherwise a domain id). Altimail's own tables; hMailServer ignores them.
//!
//! Tokens arrive as 64-bit hashes (the tokenizer is the anti-spam crate's business). Learning a
//! message adds one to its class for each of its tokens in one statement per batch; a message
//! (named by a key, a hash of its Message-ID or content) is remembered with its class, so
//! learning it again as the same class changes nothing and learning it as the other class moves
//! its counts over.

use std::collections::HashMap;

use crate::StoreError;
use crate::db::{Db, Dialect, Tx, Value};

use super::{IN_BATCH, marks};

/// The scope of the global table.
pub const GLOBAL: i64 = 0;

/// Token rows per INSERT (four parameters each: within every engine's limit).
const UPSERT_BATCH: usize = 250;

/// What a message is learnt as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Class {
    Ham,
    Spam,
}

impl Class {
    fn code(self) -> i64 {
        match self {
            Class::Ham => 0,
            Class::Spam => 1,
        }
    }

    fn from_code(code: i64) -> Class {
        if code == 1 { Class::Spam } else { Class::Ham }
    }

    /// `(spam, ham)` increments for one message of this class.
    fn increments(self) -> (i64, i64) {
        match self {
            Class::Spam => (1, 0),
            Class::Ham => (0, 1),
        }
    }
}

/// How many spam and ham messages held something (a token), or were learnt (a scope).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub spam: i64,
    pub ham: i64,
}

/// What [`learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learnt {
    /// The message was new to the filter.
    New,
    /// The message had been learnt as the other class; it now counts as this one.
    Moved,
    /// The message had already been learnt as this class.
    Unchanged,
}

/// One scope's totals for `altimail bayes status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScopeStatus {
    pub scope: i64,
    pub messages: Counts,
    /// Distinct tokens kept.
    pub tokens: i64,
}

/// The messages learnt in `scope` (zero when nothing was).
pub async fn counts(db: &Db, scope: i64) -> Result<Counts, StoreError> {
    let row = db.fetch_optional("SELECT spam, ham FROM altimail_bayes_counts WHERE scope = ?", &[scope.into()]).await?;
    Ok(match row {
        Some(r) => Counts { spam: r.int("spam")?.max(0), ham: r.int("ham")?.max(0) },
        None => Counts::default(),
    })
}

/// Batch sizes of [`token_counts`] on SQLite and MySQL: a batch is padded to the next of these
/// (repeating its last token), so every message uses one of a few statement texts and the
/// prepared statement is reused rather than prepared again for each token count.
const LOOKUP_SIZES: [usize; 4] = [50, 100, 250, IN_BATCH];

/// The counts of those `tokens` the scope knows (unknown tokens are absent): on PostgreSQL in
/// one query with the tokens as one array parameter, elsewhere in one query per [`IN_BATCH`]
/// tokens. (PostgreSQL with `IN` lists of 500 parameters took 80 ms to look up a 10 KB
/// message's 770 tokens in a 48,000-token table, against 19 ms with the array; SQLite 19 ms,
/// MariaDB 22 ms: `cargo test -p altimail-antispam --test bayes_db -- --ignored --nocapture`.)
pub async fn token_counts(db: &Db, scope: i64, tokens: &[i64]) -> Result<HashMap<i64, Counts>, StoreError> {
    let mut found = HashMap::with_capacity(tokens.len());
    if db.dialect() == Dialect::Postgres {
        // One statement whatever the number of tokens: the array is one parameter.
        let sql = "SELECT token, spam, ham FROM altimail_bayes_tokens WHERE scope = ? AND token = ANY(?)";
        for r in db.fetch_all(sql, &[scope.into(), Value::Ints(tokens.to_vec())]).await? {
            found.insert(r.int("token")?, Counts { spam: r.int("spam")?.max(0), ham: r.int("ham")?.max(0) });
        }
        return Ok(found);
    }
    for batch in tokens.chunks(IN_BATCH) {
        let Some(&last) = batch.last() else { continue };
        let size = LOOKUP_SIZES.into_iter().find(|&n| n >= batch.len()).unwrap_or(IN_BATCH);
        let sql = format!(
            "SELECT token, spam, ham FROM altimail_bayes_tokens WHERE scope = ? AND token IN ({})",
            marks(size)
        );
        let mut args: Vec<Value> = Vec::with_capacity(size + 1);
        args.push(scope.into());
        args.extend(batch.iter().map(|&t| Value::from(t)));
        args.resize(size + 1, Value::from(last));
        for r in db.fetch_all(&sql, &args).await? {
            found.insert(r.int("token")?, Counts { spam: r.int("spam")?.max(0), ham: r.int("ham")?.max(0) });
        }
    }
    Ok(found)
}

/// What the message named `message_key` was learnt as in `scope`, if anything.
pub async fn learnt_as(db: &Db, scope: i64, message_key: i64) -> Result<Option<Class>, StoreError> {
    let row = db
        .fetch_optional(
            "SELECT learntclass FROM altimail_bayes_learnt WHERE scope = ? AND messagekey = ?",
            &[scope.into(), message_key.into()],
        )
        .await?;
    row.map(|r| r.int("learntclass").map(Class::from_code)).transpose()
}

/// Learns a message with these (distinct) tokens as `class`, in one transaction. A message
/// learnt before as the other class is first taken out of that class.
///
/// # Errors
/// `Conflict` when another writer learnt the same message at the same moment (nothing changed).
pub async fn learn(
    db: &Db,
    scope: i64,
    message_key: i64,
    tokens: &[i64],
    class: Class,
    now: i64,
) -> Result<Learnt, StoreError> {
    let mut tx = db.begin().await?;
    let previous = tx
        .fetch_optional(
            "SELECT learntclass FROM altimail_bayes_learnt WHERE scope = ? AND messagekey = ?",
            &[scope.into(), message_key.into()],
        )
        .await?
        .map(|r| r.int("learntclass").map(Class::from_code))
        .transpose()?;
    let (mut spam, mut ham) = class.increments();
    match previous {
        Some(p) if p == class => return Ok(Learnt::Unchanged),
        Some(p) => {
            let (s, h) = p.increments();
            spam -= s;
            ham -= h;
            let n = tx
                .execute(
                    "UPDATE altimail_bayes_learnt SET learntclass = ?, learnttime = ? \
                     WHERE scope = ? AND messagekey = ? AND learntclass = ?",
                    &[class.code().into(), now.into(), scope.into(), message_key.into(), p.code().into()],
                )
                .await?;
            if n != 1 {
                return Err(StoreError::Conflict("the message was learnt meanwhile".into()));
            }
        }
        None => {
            let inserted = tx
                .execute(
                    "INSERT INTO altimail_bayes_learnt (scope, messagekey, learntclass, learnttime) VALUES (?, ?, ?, ?)",
                    &[scope.into(), message_key.into(), class.code().into(), now.into()],
                )
                .await;
            match inserted {
                Ok(_) => {}
                Err(e) if e.is_unique_violation() => {
                    return Err(StoreError::Conflict("the message was learnt meanwhile".into()));
                }
                Err(e) => return Err(e),
            }
        }
    }
    let mut sorted = tokens.to_vec();
    // One lock order for every writer, so two messages learnt at once cannot deadlock.
    sorted.sort_unstable();
    sorted.dedup();
    add_tokens(&mut tx, scope, &sorted, spam, ham).await?;
    let sql = tx.dialect().insert_or_add("altimail_bayes_counts", &["scope"], &["spam", "ham"], 1);
    tx.execute(&sql, &[scope.into(), spam.into(), ham.into()]).await?;
    if previous.is_some() {
        drop_empty_tokens(&mut tx, scope, &sorted).await?;
    }
    tx.commit().await?;
    Ok(if previous.is_some() { Learnt::Moved } else { Learnt::New })
}

/// Adds `spam` and `ham` to each token's row, making rows that are missing.
async fn add_tokens(tx: &mut Tx, scope: i64, tokens: &[i64], spam: i64, ham: i64) -> Result<(), StoreError> {
    for batch in tokens.chunks(UPSERT_BATCH) {
        let sql =
            tx.dialect().insert_or_add("altimail_bayes_tokens", &["scope", "token"], &["spam", "ham"], batch.len());
        let mut args: Vec<Value> = Vec::with_capacity(batch.len() * 4);
        for &t in batch {
            args.extend([scope.into(), t.into(), spam.into(), ham.into()]);
        }
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// Removes rows of these tokens that no message holds any more.
async fn drop_empty_tokens(tx: &mut Tx, scope: i64, tokens: &[i64]) -> Result<(), StoreError> {
    for batch in tokens.chunks(IN_BATCH) {
        let sql = format!(
            "DELETE FROM altimail_bayes_tokens WHERE scope = ? AND spam <= 0 AND ham <= 0 AND token IN ({})",
            marks(batch.len())
        );
        let mut args: Vec<Value> = Vec::with_capacity(batch.len() + 1);
        args.push(scope.into());
        args.extend(batch.iter().map(|&t| Value::from(t)));
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// Every scope that has learnt something, by scope.
pub async fn status(db: &Db) -> Result<Vec<ScopeStatus>, StoreError> {
    let rows = db.fetch_all("SELECT scope, spam, ham FROM altimail_bayes_counts ORDER BY scope", &[]).await?;
    let tokens = db
        .fetch_all("SELECT scope, COUNT(*) AS n FROM altimail_bayes_tokens GROUP BY scope", &[])
        .await?
        .iter()
        .map(|r| Ok((r.int("scope")?, r.int("n")?)))
        .collect::<Result<HashMap<i64, i64>, StoreError>>()?;
    rows.iter()
        .map(|r| {
            let scope = r.int("scope")?;
            Ok(ScopeStatus {
                scope,
                messages: Counts { spam: r.int("spam")?.max(0), ham: r.int("ham")?.max(0) },
                tokens: tokens.get(&scope).copied().unwrap_or(0),
            })
        })
        .collect()
}

/// Forgets everything learnt in `scope`, or in every scope (`None`).
pub async fn reset(db: &Db, scope: Option<i64>) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for table in ["altimail_bayes_tokens", "altimail_bayes_counts", "altimail_bayes_learnt"] {
        match scope {
            Some(s) => tx.execute(&format!("DELETE FROM {table} WHERE scope = ?"), &[s.into()]).await?,
            None => tx.execute(&format!("DELETE FROM {table}"), &[]).await?,
        };
    }
    tx.commit().await
}
