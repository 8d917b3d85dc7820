//! `altimail_autoreplies`: when an account last auto-replied to a sender (RFC 3834 §2: at most
//! one automatic reply per sender per period).

use crate::StoreError;
use crate::db::Db;

/// Records an auto-reply from `account_id` to `sender` (compared without case) at `now` (Unix
/// seconds), unless one was recorded less than `period_secs` before; returns true in that case
/// (nothing is recorded, no reply is due).
pub async fn already_replied(
    db: &Db,
    account_id: i64,
    sender: &str,
    now: i64,
    period_secs: i64,
) -> Result<bool, StoreError> {
    let sender = sender.to_ascii_lowercase();
    let row = db
        .fetch_optional(
            "SELECT senttime FROM altimail_autoreplies WHERE accountid = ? AND sender = ?",
            &[account_id.into(), sender.as_str().into()],
        )
        .await?;
    match row.map(|r| r.int("senttime")).transpose()? {
        Some(t) if now - t < period_secs => Ok(true),
        Some(_) => {
            db.execute(
                "UPDATE altimail_autoreplies SET senttime = ? WHERE accountid = ? AND sender = ?",
                &[now.into(), account_id.into(), sender.as_str().into()],
            )
            .await?;
            Ok(false)
        }
        None => {
            db.execute(
                "INSERT INTO altimail_autoreplies (accountid, sender, senttime) VALUES (?, ?, ?)",
                &[account_id.into(), sender.as_str().into(), now.into()],
            )
            .await?;
            Ok(false)
        }
    }
}
