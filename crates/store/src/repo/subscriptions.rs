//! `altimail_subscriptions`: an account's IMAP subscriptions to mailboxes that do not exist.
//!
//! hMailServer keeps a subscription as a flag on the folder row, which goes when the folder
//! goes; IMAP keeps a subscription until UNSUBSCRIBE (RFC 9051 §6.3.7), and a client may
//! subscribe to a name before it exists. Those names are kept here, as full paths in the form
//! the folders are stored (modified UTF-7, joined by the hierarchy delimiter).

use crate::StoreError;
use crate::db::Db;

/// Longest name kept (the column is VARCHAR(1000)).
const MAX_NAME_LEN: usize = 1000;

/// The account's subscriptions to missing mailboxes, sorted.
pub async fn list(db: &Db, account_id: i64) -> Result<Vec<String>, StoreError> {
    let rows = db
        .fetch_all("SELECT name FROM altimail_subscriptions WHERE accountid = ? ORDER BY name", &[account_id.into()])
        .await?;
    rows.iter().map(|r| r.text("name")).collect()
}

/// Records a subscription (once).
pub async fn add(db: &Db, account_id: i64, name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(StoreError::Invalid(format!("a subscribed name must be 1-{MAX_NAME_LEN} characters")));
    }
    let mut tx = db.begin().await?;
    let exists = tx
        .fetch_optional(
            "SELECT name FROM altimail_subscriptions WHERE accountid = ? AND name = ?",
            &[account_id.into(), name.into()],
        )
        .await?
        .is_some();
    if !exists {
        tx.execute(
            "INSERT INTO altimail_subscriptions (accountid, name) VALUES (?, ?)",
            &[account_id.into(), name.into()],
        )
        .await?;
    }
    tx.commit().await
}

/// Drops a subscription; whether there was one.
pub async fn remove(db: &Db, account_id: i64, name: &str) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "DELETE FROM altimail_subscriptions WHERE accountid = ? AND name = ?",
            &[account_id.into(), name.into()],
        )
        .await?;
    Ok(n > 0)
}
