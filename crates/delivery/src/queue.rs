//! Claiming queue work. Every worker takes messages through [`claim`], the one place that decides
//! who delivers what (the seam for several nodes sharing a database later).

use chrono::NaiveDateTime;

use altimail_core::codes::message_type;
use altimail_store::{Db, StoreError};

/// Which recipients a worker handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Messages with at least one local recipient.
    Local,
    /// Messages with at least one remote recipient.
    Remote,
}

/// Locks up to `limit` due queue messages that have recipients of `work`'s kind and returns
/// their ids. A message locked by another worker is skipped.
pub async fn claim(db: &Db, work: Work, now: NaiveDateTime, limit: u32) -> Result<Vec<i64>, StoreError> {
    let rcpt = match work {
        Work::Local => "r.recipientlocalaccountid > 0",
        Work::Remote => "r.recipientlocalaccountid = 0",
    };
    let sql = format!(
        "SELECT DISTINCT m.messageid FROM hm_messages m \
         JOIN hm_messagerecipients r ON r.recipientmessageid = m.messageid \
         WHERE m.messagetype = {} AND m.messagelocked = 0 AND m.messagenexttrytime <= ? AND {rcpt} \
         ORDER BY m.messageid{}",
        message_type::QUEUED,
        db.dialect().limit(limit)
    );
    let candidates = db.fetch_all(&sql, &[now.into()]).await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for row in candidates {
        let id = row.int("messageid")?;
        let n = db
            .execute("UPDATE hm_messages SET messagelocked = 1 WHERE messageid = ? AND messagelocked = 0", &[id.into()])
            .await?;
        if n == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

/// Releases a claimed message.
pub async fn release(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("UPDATE hm_messages SET messagelocked = 0 WHERE messageid = ?", &[id.into()]).await?;
    Ok(())
}

/// At start-up no delivery is running, so no queued message is locked (hMailServer does the same).
pub async fn unlock_all(db: &Db) -> Result<u64, StoreError> {
    db.execute(&format!("UPDATE hm_messages SET messagelocked = 0 WHERE messagetype = {}", message_type::QUEUED), &[])
        .await
}

/// One recipient row of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub id: i64,
    pub address: String,
    pub account_id: i64,
    pub original: String,
}

pub async fn recipients(db: &Db, message_id: i64) -> Result<Vec<QueuedRecipient>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT recipientid, recipientaddress, recipientlocalaccountid, recipientoriginaladdress \
             FROM hm_messagerecipients WHERE recipientmessageid = ? ORDER BY recipientid",
            &[message_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(QueuedRecipient {
                id: r.int("recipientid")?,
                address: r.text("recipientaddress")?,
                account_id: r.int("recipientlocalaccountid")?,
                original: r.text("recipientoriginaladdress")?,
            })
        })
        .collect()
}

/// Removes a queued message's rows (message, recipients, our envelope extras).
pub async fn remove(db: &Db, message_id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for sql in [
        "DELETE FROM hm_messagerecipients WHERE recipientmessageid = ?",
        "DELETE FROM altimail_recipient_dsn WHERE messageid = ?",
        "DELETE FROM altimail_envelopes WHERE messageid = ?",
        "DELETE FROM hm_messages WHERE messageid = ?",
    ] {
        tx.execute(sql, &[message_id.into()]).await?;
    }
    tx.commit().await
}

/// Queued messages with no recipient left: every copy was delivered but the crash came before
/// the queue row was removed. Returns `(id, file name)` for the caller to remove.
pub async fn finished(db: &Db) -> Result<Vec<(i64, String)>, StoreError> {
    let sql = format!(
        "SELECT m.messageid, m.messagefilename FROM hm_messages m WHERE m.messagetype = {} AND m.messagelocked = 0 \
         AND NOT EXISTS (SELECT 1 FROM hm_messagerecipients r WHERE r.recipientmessageid = m.messageid)",
        message_type::QUEUED
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter().map(|r| Ok((r.int("messageid")?, r.text("messagefilename")?))).collect()
}
