//! How a failed recipient leaves the queue, for local and remote delivery alike: a recipient a
//! bounce reports on is removed in the transaction that queues the bounce
//! ([`Spool::submit_settling`]), so a crash or an error in between leaves either the recipient
//! queued (tried again, bounced then) or the bounce queued, never neither.

use altimail_store::{Db, StoreError};

use crate::queue;
use crate::resolve::ResolveError;
use crate::spool::{NewMessage, Recipient, Settle, Spool};

/// Why mail the server sends itself has nobody to go to.
#[derive(Debug)]
pub enum Unreachable {
    /// The address resolves to nobody; trying again will not help.
    Permanent(String),
    /// The lookup failed.
    Temporary(StoreError),
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::Permanent(reason) => f.write_str(reason),
            Unreachable::Temporary(e) => write!(f, "{e}"),
        }
    }
}

/// Resolves an address the server itself sends to (forward target, auto-reply, bounce).
pub async fn recipients_for(db: &Db, address: &str) -> Result<Vec<Recipient>, Unreachable> {
    match crate::resolve::expand(db, address).await {
        Ok(list) if !list.is_empty() => {
            Ok(list.into_iter().map(|r| Recipient::local(&r.address, r.account_id, address)).collect())
        }
        Ok(_) => Err(Unreachable::Permanent("no recipient".into())),
        Err(ResolveError::Refused(r)) => Err(Unreachable::Permanent(r.to_string())),
        Err(ResolveError::Store(e)) => Err(Unreachable::Temporary(e)),
    }
}

/// Queues `bounce` (a report to `sender`, from the null sender) and removes the recipient rows
/// `failed` in the same commit. When `sender` can never receive mail the rows are removed
/// without a bounce (logged). On `Err` nothing changed: the recipients are still queued and the
/// caller tries the message again later; the text says what failed.
pub async fn submit_bounce(
    spool: &Spool,
    db: &Db,
    message_id: i64,
    sender: &str,
    bounce: Vec<u8>,
    failed: &[i64],
) -> Result<(), String> {
    let recipients = match recipients_for(db, sender).await {
        Ok(r) => r,
        Err(Unreachable::Permanent(reason)) => {
            // Nobody could ever receive it: a retry would not help.
            tracing::warn!("message {message_id}: no bounce to {sender}: {reason}");
            return queue::remove_recipients(db, failed).await.map_err(|e| e.to_string());
        }
        Err(Unreachable::Temporary(e)) => return Err(format!("recipient lookup failed: {e}")),
    };
    let msg = NewMessage { sender: String::new(), recipients, extras: Default::default(), data: bounce };
    let settle = Settle { remove_recipients: failed.to_vec(), ..Default::default() };
    spool.submit_settling(msg, settle).await.map(|_| ()).map_err(|e| format!("not queued: {e}"))
}
