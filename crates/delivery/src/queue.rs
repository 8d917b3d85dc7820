//! Claiming queue work. Every worker takes messages through [`claim`], the one place that decides
//! who delivers what (the seam for several nodes sharing a database later).

use std::net::IpAddr;

use chrono::NaiveDateTime;

use altimail_core::codes::message_type;
use altimail_store::db::Tx;
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
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // One transaction for the whole batch (one commit, not one per message); each row is still
    // taken by compare-and-set, so a message another worker locked meanwhile is skipped.
    let mut tx = db.begin().await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for row in candidates {
        let id = row.int("messageid")?;
        let n = tx
            .execute("UPDATE hm_messages SET messagelocked = 1 WHERE messageid = ? AND messagelocked = 0", &[id.into()])
            .await?;
        if n == 1 {
            claimed.push(id);
        }
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Releases a claimed message.
pub async fn release(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("UPDATE hm_messages SET messagelocked = 0 WHERE messageid = ?", &[id.into()]).await?;
    Ok(())
}

/// At start-up no delivery is running, so no queued message is locked (hMailServer does the same).
/// Called once by the server before any delivery worker starts: a worker calling it would
/// unlock what another worker has just claimed.
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
    /// DSN NOTIFY (`altimail_recipient_dsn`), e.g. "SUCCESS,FAILURE"; empty when not given.
    pub notify: String,
    /// DSN ORCPT, e.g. "rfc822;user@example.com"; empty when not given.
    pub orcpt: String,
}

impl QueuedRecipient {
    fn notify_has(&self, word: &str) -> bool {
        self.notify.split(',').any(|n| n.trim().eq_ignore_ascii_case(word))
    }

    /// Whether a failure is reported to the sender (RFC 3461 §4.1: no NOTIFY means failures).
    pub fn wants_failure_report(&self) -> bool {
        self.notify.trim().is_empty() || self.notify_has("FAILURE")
    }

    /// Whether a successful delivery is reported to the sender (NOTIFY=SUCCESS).
    pub fn wants_success_report(&self) -> bool {
        self.notify_has("SUCCESS")
    }
}

pub async fn recipients(db: &Db, message_id: i64) -> Result<Vec<QueuedRecipient>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT r.recipientid, r.recipientaddress, r.recipientlocalaccountid, r.recipientoriginaladdress, \
             d.notify, d.orcpt FROM hm_messagerecipients r \
             LEFT JOIN altimail_recipient_dsn d ON d.recipientid = r.recipientid \
             WHERE r.recipientmessageid = ? ORDER BY r.recipientid",
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
                notify: r.opt_text("notify")?.unwrap_or_default(),
                orcpt: r.opt_text("orcpt")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// The envelope data of a queued message kept in `altimail_envelopes` (defaults when none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// DSN ENVID.
    pub envid: String,
    /// DSN RET: "FULL", "HDRS" or "".
    pub ret: String,
    /// The SMTP client's address, when the message came in over SMTP.
    pub client_ip: Option<IpAddr>,
    pub skip_antispam: bool,
    pub skip_antivirus: bool,
}

pub async fn envelope(db: &Db, message_id: i64) -> Result<Envelope, StoreError> {
    let row = db
        .fetch_optional(
            "SELECT envid, ret, clientip, skipantispam, skipantivirus FROM altimail_envelopes WHERE messageid = ?",
            &[message_id.into()],
        )
        .await?;
    let Some(r) = row else { return Ok(Envelope::default()) };
    Ok(Envelope {
        envid: r.text("envid")?,
        ret: r.text("ret")?,
        client_ip: r.text("clientip")?.parse().ok(),
        skip_antispam: r.bool("skipantispam")?,
        skip_antivirus: r.bool("skipantivirus")?,
    })
}

/// Removes one recipient row with its DSN parameters and forward marker, inside `tx`.
pub async fn remove_recipient_in(tx: &mut Tx, recipient_id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM hm_messagerecipients WHERE recipientid = ?",
        "DELETE FROM altimail_recipient_dsn WHERE recipientid = ?",
        "DELETE FROM altimail_forwarded WHERE recipientid = ?",
    ] {
        tx.execute(sql, &[recipient_id.into()]).await?;
    }
    Ok(())
}

/// Removes the recipient rows `ids` in one transaction (see [`remove_recipient_in`]).
pub async fn remove_recipients(db: &Db, ids: &[i64]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for &id in ids {
        remove_recipient_in(&mut tx, id).await?;
    }
    tx.commit().await
}

/// True when the forward of recipient row `recipient_id` is already queued (its kept copy is not
/// stored yet).
pub async fn forwarded(db: &Db, recipient_id: i64) -> Result<bool, StoreError> {
    let row = db
        .fetch_optional("SELECT 1 AS n FROM altimail_forwarded WHERE recipientid = ?", &[recipient_id.into()])
        .await?;
    Ok(row.is_some())
}

/// Removes a queued message's rows (message, recipients, our envelope extras and markers).
pub async fn remove(db: &Db, message_id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    remove_in(&mut tx, message_id).await?;
    tx.commit().await
}

/// [`remove`] inside `tx`.
pub async fn remove_in(tx: &mut Tx, message_id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM altimail_forwarded WHERE messageid = ?",
        "DELETE FROM hm_messagerecipients WHERE recipientmessageid = ?",
        "DELETE FROM altimail_recipient_dsn WHERE messageid = ?",
        "DELETE FROM altimail_envelopes WHERE messageid = ?",
        "DELETE FROM hm_messages WHERE messageid = ?",
    ] {
        tx.execute(sql, &[message_id.into()]).await?;
    }
    Ok(())
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

/// hMailServer marks ETRN-held messages with this next-try time (`1901-01-01 00:00:01`). A queued
/// message (type 1) still carrying it was released by ETRN or `altimail queue`: the remote
/// worker then delivers its recipients behind ETRN routes instead of holding them again.
pub fn etrn_hold_time() -> NaiveDateTime {
    altimail_store::db::never() + chrono::Duration::seconds(1)
}

/// What [`release_held`] did for an ETRN node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtrnRelease {
    /// No ETRN route (description starting with "ETRN") matches the node.
    NoRoute,
    /// This many held messages (type 3) were made due now.
    Released(u64),
}

/// ETRN (RFC 1985): makes the messages held for the ETRN routes of `node` due now.
///
/// `node` is a route domain, compared case-insensitively with `routedomainname` as hMailServer
/// does (`#node`, a queue name, is looked up the same way); `@domain` (RFC 1985 §3) also takes the
/// routes of its subdomains (patterns ending in `.domain`, e.g. `*.domain`). A held message
/// belongs to a route through `messageaccountid` (hMailServer stores the route id there) or
/// through one of its remote recipients.
pub async fn release_held(db: &Db, node: &str) -> Result<EtrnRelease, StoreError> {
    use crate::resolve::routes;
    let node = node.trim();
    let (name, subdomains) = match node.as_bytes().first() {
        Some(b'@') => (&node[1..], true),
        Some(b'#') => (&node[1..], false),
        _ => (node, false),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Ok(EtrnRelease::NoRoute);
    }
    let all = routes::list(db).await?;
    let suffix = format!(".{name}");
    let ids: Vec<i64> = all
        .iter()
        .filter(|r| r.is_etrn())
        .filter(|r| {
            let d = r.domain.to_ascii_lowercase();
            d == name || (subdomains && d.ends_with(&suffix))
        })
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(EtrnRelease::NoRoute);
    }
    let sql =
        format!("SELECT messageid, messageaccountid FROM hm_messages WHERE messagetype = {}", message_type::ETRN_HELD);
    let mut released = 0;
    for row in db.fetch_all(&sql, &[]).await? {
        let id = row.int("messageid")?;
        let mut ours = ids.contains(&row.int("messageaccountid")?);
        if !ours {
            ours = recipients(db, id).await?.iter().filter(|r| r.account_id == 0).any(|r| {
                let domain = r.address.rsplit_once('@').map(|(_, d)| d).unwrap_or(&r.address);
                routes::for_domain(&all, domain)
                    .is_some_and(|route| route.covers(&r.address) && ids.contains(&route.id))
            });
        }
        if ours {
            released += db
                .execute(
                    &format!(
                        "UPDATE hm_messages SET messagetype = {}, messageaccountid = 0, messagenexttrytime = ?, \
                         messagelocked = 0 WHERE messageid = ? AND messagetype = {}",
                        message_type::QUEUED,
                        message_type::ETRN_HELD
                    ),
                    &[etrn_hold_time().into(), id.into()],
                )
                .await?;
        }
    }
    Ok(EtrnRelease::Released(released))
}
