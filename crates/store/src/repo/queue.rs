//! The delivery queue: `hm_messages` rows of type 1 (queued) and 3 (held for an ETRN route),
//! their `hm_messagerecipients` rows, and Altimail's own rows beside them
//! (`altimail_recipient_dsn`, `altimail_envelopes`, `altimail_forwarded`).
//!
//! Every change to the queue goes through here: the spool's inserts ([`insert_batch`]), claiming
//! ([`claim`], the one place that decides who delivers what: the seam for a lease owner and
//! `SKIP LOCKED` when several nodes share a database), release, settling (a recipient leaves in
//! the transaction that records where it went: a bounce, a forward, an INBOX copy), rescheduling,
//! ETRN hold and release, and what `altimail queue` shows and changes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDateTime;

use altimail_core::codes::{flags, message_type};

use crate::StoreError;
use crate::db::{Db, Tx, Value, never};
use crate::repo::folders;

/// Which recipients a worker handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Messages with at least one local recipient.
    Local,
    /// Messages with at least one remote recipient.
    Remote,
}

/// One envelope recipient to queue, as resolved at RCPT time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    /// The address to deliver to (after aliases, lists, plus addressing, domain aliases).
    pub address: String,
    /// The local account, or 0 for a remote recipient.
    pub account_id: i64,
    /// The address as the client gave it in RCPT TO (for Delivered-To).
    pub original: String,
    /// DSN NOTIFY (RFC 3461), e.g. "FAILURE,DELAY"; empty when not given.
    pub notify: String,
    /// DSN ORCPT, e.g. "rfc822;user@example.com"; empty when not given.
    pub orcpt: String,
}

impl NewRecipient {
    pub fn local(address: &str, account_id: i64, original: &str) -> Self {
        NewRecipient {
            address: address.to_owned(),
            account_id,
            original: original.to_owned(),
            notify: String::new(),
            orcpt: String::new(),
        }
    }

    pub fn remote(address: &str, original: &str) -> Self {
        NewRecipient::local(address, 0, original)
    }
}

/// Envelope data beyond sender and recipients (`altimail_envelopes`; defaults when no row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// DSN ENVID.
    pub envid: String,
    /// DSN RET: "FULL", "HDRS" or "".
    pub ret: String,
    /// BODY: "7BIT", "8BITMIME", "BINARYMIME" or "".
    pub body: String,
    pub smtputf8: bool,
    /// The SMTP AUTH user who submitted it, or "".
    pub auth_user: String,
    /// The SMTP client's address; `None` for mail the server made or fetched itself.
    pub client_ip: Option<IpAddr>,
    /// The client's IP range has anti-spam off (`hm_securityranges.rangeoptions` bit 1024 unset).
    pub skip_antispam: bool,
    /// The client's IP range has anti-virus off (bit 4096 unset).
    pub skip_antivirus: bool,
}

/// Changes to other queue rows committed in the same transaction as a new message, so that
/// handing work over to the new message happens exactly once across a crash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settle {
    /// `hm_messagerecipients` rows (of the message being delivered) the commit removes, with
    /// their DSN and forward-marker rows: the recipients a bounce answers for, or a forward
    /// without a kept copy carries on.
    pub remove_recipients: Vec<i64>,
    /// `(recipientid, messageid)`: recipient rows whose forward this message is, while the row
    /// itself stays queued for its kept copy (`altimail_forwarded` markers).
    pub mark_forwarded: Vec<(i64, i64)>,
}

/// The rows of one message the spool queues: its file is already durable.
#[derive(Debug, Clone, Copy)]
pub struct NewQueued<'a> {
    /// `{GUID}.eml` in the queue folder.
    pub file_name: &'a str,
    /// Envelope sender; empty for the null sender.
    pub sender: &'a str,
    pub size: i64,
    pub recipients: &'a [NewRecipient],
    pub envelope: &'a Envelope,
    pub settle: &'a Settle,
}

/// Queues `batch` in one transaction (one commit for the whole group) and returns the new
/// message ids in order: each message's row, its recipients with their DSN parameters, its
/// envelope row (when it differs from the default), and its [`Settle`] changes.
pub async fn insert_batch(db: &Db, batch: &[NewQueued<'_>], now: NaiveDateTime) -> Result<Vec<i64>, StoreError> {
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(batch.len());
    for m in batch {
        let id = tx
            .insert(
                "INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, \
                 messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, \
                 messageuid) VALUES (0, 0, ?, ?, ?, ?, 0, ?, 0, ?, 0, 0)",
                &[
                    m.file_name.into(),
                    message_type::QUEUED.into(),
                    m.sender.into(),
                    m.size.into(),
                    never().into(),
                    now.into(),
                ],
                "messageid",
            )
            .await?;
        for r in m.recipients {
            let rid = tx
                .insert(
                    "INSERT INTO hm_messagerecipients (recipientmessageid, recipientaddress, recipientlocalaccountid, \
                     recipientoriginaladdress) VALUES (?, ?, ?, ?)",
                    &[id.into(), r.address.as_str().into(), r.account_id.into(), r.original.as_str().into()],
                    "recipientid",
                )
                .await?;
            if !r.notify.is_empty() || !r.orcpt.is_empty() {
                tx.execute(
                    "INSERT INTO altimail_recipient_dsn (recipientid, messageid, notify, orcpt) VALUES (?, ?, ?, ?)",
                    &[rid.into(), id.into(), r.notify.as_str().into(), r.orcpt.as_str().into()],
                )
                .await?;
            }
        }
        let x = m.envelope;
        // Every field takes part in the comparison: a message with only a client address still
        // gets its row.
        if x != &Envelope::default() {
            tx.execute(
                "INSERT INTO altimail_envelopes (messageid, envid, ret, body, smtputf8, authuser, clientip, \
                 skipantispam, skipantivirus) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    id.into(),
                    Value::Text(x.envid.clone()),
                    Value::Text(x.ret.clone()),
                    Value::Text(x.body.clone()),
                    x.smtputf8.into(),
                    Value::Text(x.auth_user.clone()),
                    Value::Text(x.client_ip.map(|ip| ip.to_string()).unwrap_or_default()),
                    x.skip_antispam.into(),
                    x.skip_antivirus.into(),
                ],
            )
            .await?;
        }
        for &rid in &m.settle.remove_recipients {
            remove_recipient_in(&mut tx, rid).await?;
        }
        for &(rid, mid) in &m.settle.mark_forwarded {
            tx.execute("DELETE FROM altimail_forwarded WHERE recipientid = ?", &[rid.into()]).await?;
            tx.execute(
                "INSERT INTO altimail_forwarded (recipientid, messageid) VALUES (?, ?)",
                &[rid.into(), mid.into()],
            )
            .await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
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

/// Releases a claimed message for a retry at `next`, counting the try.
pub async fn retry_later(db: &Db, id: i64, next: NaiveDateTime) -> Result<(), StoreError> {
    db.execute(
        "UPDATE hm_messages SET messagecurnooftries = messagecurnooftries + 1, messagenexttrytime = ?, \
         messagelocked = 0 WHERE messageid = ?",
        &[next.into(), id.into()],
    )
    .await?;
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

/// The recipients still queued for a message, with their DSN parameters, in row order.
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

/// The envelope data of a queued message (defaults when it has no `altimail_envelopes` row).
pub async fn envelope(db: &Db, message_id: i64) -> Result<Envelope, StoreError> {
    let row = db
        .fetch_optional(
            "SELECT envid, ret, body, smtputf8, authuser, clientip, skipantispam, skipantivirus \
             FROM altimail_envelopes WHERE messageid = ?",
            &[message_id.into()],
        )
        .await?;
    let Some(r) = row else { return Ok(Envelope::default()) };
    Ok(Envelope {
        envid: r.text("envid")?,
        ret: r.text("ret")?,
        body: r.text("body")?,
        smtputf8: r.int("smtputf8")? != 0,
        auth_user: r.text("authuser")?,
        client_ip: r.text("clientip")?.parse().ok(),
        skip_antispam: r.bool("skipantispam")?,
        skip_antivirus: r.bool("skipantivirus")?,
    })
}

/// Removes one recipient row with its DSN parameters and forward marker, inside `tx`.
async fn remove_recipient_in(tx: &mut Tx, recipient_id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM hm_messagerecipients WHERE recipientid = ?",
        "DELETE FROM altimail_recipient_dsn WHERE recipientid = ?",
        "DELETE FROM altimail_forwarded WHERE recipientid = ?",
    ] {
        tx.execute(sql, &[recipient_id.into()]).await?;
    }
    Ok(())
}

/// Removes the recipient rows `ids` in one transaction, with their DSN parameters and forward
/// markers.
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

/// Removes the row of a recipient a remote server has just accepted (one statement: the
/// message's other rows go when the message does).
pub async fn remove_sent_recipient(db: &Db, recipient_id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_messagerecipients WHERE recipientid = ?", &[recipient_id.into()]).await?;
    Ok(())
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

async fn remove_in(tx: &mut Tx, message_id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM altimail_forwarded WHERE messageid = ?",
        "DELETE FROM hm_messagerecipients WHERE recipientmessageid = ?",
        "DELETE FROM altimail_recipient_dsn WHERE messageid = ?",
        "DELETE FROM altimail_envelopes WHERE messageid = ?",
        "DELETE FROM altimail_rule_results WHERE messageid = ?",
        "DELETE FROM hm_messages WHERE messageid = ?",
    ] {
        tx.execute(sql, &[message_id.into()]).await?;
    }
    Ok(())
}

/// What the global rules decided for a queued message (`altimail_rule_results`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalRuleResult {
    /// `messagecurnooftries` when the rules ran: they run again at the next attempt.
    pub attempt: i64,
    /// IMAP folder of local copies ("" = INBOX); an account rule's folder wins over it.
    pub imap_folder: String,
    /// Route for remote recipients (0 = the usual choice).
    pub route_id: i64,
    /// Local address remote delivery binds to ("" = the setting).
    pub bind_address: String,
}

/// The global rules' result recorded for a queued message, if they ran for it.
pub async fn global_rule_result(db: &Db, message_id: i64) -> Result<Option<GlobalRuleResult>, StoreError> {
    let row = db
        .fetch_optional(
            "SELECT attempt, imapfolder, routeid, bindaddress FROM altimail_rule_results WHERE messageid = ?",
            &[message_id.into()],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(GlobalRuleResult {
        attempt: r.int("attempt")?,
        imap_folder: r.text("imapfolder")?,
        route_id: r.int("routeid")?,
        bind_address: r.text("bindaddress")?,
    }))
}

/// Records the global rules' result for a queued message (replacing an earlier attempt's).
pub async fn set_global_rule_result(db: &Db, message_id: i64, result: &GlobalRuleResult) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM altimail_rule_results WHERE messageid = ?", &[message_id.into()]).await?;
    tx.execute(
        "INSERT INTO altimail_rule_results (messageid, attempt, imapfolder, routeid, bindaddress) VALUES (?, ?, ?, ?, ?)",
        &[
            message_id.into(),
            result.attempt.into(),
            result.imap_folder.as_str().into(),
            result.route_id.into(),
            result.bind_address.as_str().into(),
        ],
    )
    .await?;
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

/// One copy of a queued message for a local INBOX, its file already durable.
#[derive(Debug, Clone)]
pub struct InboxCopy<'a> {
    pub account_id: i64,
    /// `{GUID}.eml` in the account's folder.
    pub file_name: &'a str,
    /// Envelope sender.
    pub from: &'a str,
    pub size: i64,
    /// The IMAP INTERNALDATE.
    pub created: NaiveDateTime,
    /// The queued message it is a copy of, and the recipient row it answers for.
    pub message_id: i64,
    pub recipient_id: i64,
}

/// The one transaction of a batch of local deliveries: the INBOX rows of `copies` (grouped by
/// INBOX in `by_inbox`: folder id → indexes into `copies`; UIDs allocated once per folder, in
/// order), their recipient rows off the queue, and the queue rows of the `finishing` messages
/// (all of whose recipients are in this batch) removed whole.
pub async fn record_copies(
    db: &Db,
    copies: &[InboxCopy<'_>],
    by_inbox: &BTreeMap<i64, Vec<usize>>,
    finishing: &[i64],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for (&inbox, members) in by_inbox {
        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        // Locks the INBOX row until the commit, so UIDs become visible in order.
        let allocation = folders::allocate(&mut tx, inbox, count).await?;
        let modseq = i64::try_from(allocation.modseq).unwrap_or(i64::MAX);
        for (n, &i) in members.iter().enumerate() {
            let c = &copies[i];
            tx.insert(
                "INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, \
                 messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, \
                 messageuid, messagemodseq) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, ?, ?)",
                &[
                    c.account_id.into(),
                    inbox.into(),
                    c.file_name.into(),
                    message_type::DELIVERED.into(),
                    c.from.into(),
                    c.size.into(),
                    never().into(),
                    flags::RECENT.into(),
                    c.created.into(),
                    (allocation.first_uid + n as i64).into(),
                    modseq.into(),
                ],
                "messageid",
            )
            .await?;
            // A finishing message's rows all go below.
            if !finishing.contains(&c.message_id) {
                remove_recipient_in(&mut tx, c.recipient_id).await?;
            }
        }
    }
    for &id in finishing {
        remove_in(&mut tx, id).await?;
    }
    tx.commit().await
}

/// hMailServer marks ETRN-held messages with this next-try time (`1901-01-01 00:00:01`). A queued
/// message (type 1) still carrying it was released by ETRN or `altimail queue`: the remote
/// worker then delivers its recipients behind ETRN routes instead of holding them again.
pub fn etrn_hold_time() -> NaiveDateTime {
    never() + chrono::Duration::seconds(1)
}

/// Holds a claimed message for an ETRN route, as hMailServer does: type 3, the route's id in
/// `messageaccountid`, the hold marker time.
pub async fn hold_for_etrn(db: &Db, id: i64, route_id: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE hm_messages SET messagetype = ?, messageaccountid = ?, messagenexttrytime = ?, \
         messagelocked = 0 WHERE messageid = ?",
        &[message_type::ETRN_HELD.into(), route_id.into(), etrn_hold_time().into(), id.into()],
    )
    .await?;
    Ok(())
}

/// The messages held for ETRN routes: `(message id, route id)`.
pub async fn held(db: &Db) -> Result<Vec<(i64, i64)>, StoreError> {
    let sql =
        format!("SELECT messageid, messageaccountid FROM hm_messages WHERE messagetype = {}", message_type::ETRN_HELD);
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter().map(|r| Ok((r.int("messageid")?, r.int("messageaccountid")?))).collect()
}

/// Which held messages [`release_held`] releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    One(i64),
    All,
}

/// Releases held messages: queued again, due now, with the marker time that makes the remote
/// worker deliver their ETRN-route recipients ([`etrn_hold_time`]). Returns how many.
pub async fn release_held(db: &Db, which: Held) -> Result<u64, StoreError> {
    let (filter, args): (&str, Vec<Value>) = match which {
        Held::One(id) => ("messageid = ?", vec![etrn_hold_time().into(), id.into()]),
        Held::All => ("1 = 1", vec![etrn_hold_time().into()]),
    };
    let sql = format!(
        "UPDATE hm_messages SET messagetype = {}, messageaccountid = 0, messagenexttrytime = ?, messagelocked = 0 \
         WHERE messagetype = {} AND {filter}",
        message_type::QUEUED,
        message_type::ETRN_HELD
    );
    db.execute(&sql, &args).await
}

/// Makes a queued message due now (its retry count stays).
pub async fn make_due(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("UPDATE hm_messages SET messagenexttrytime = ? WHERE messageid = ?", &[never().into(), id.into()])
        .await?;
    Ok(())
}

/// Makes every queued message due now; returns how many.
pub async fn make_all_due(db: &Db) -> Result<u64, StoreError> {
    db.execute(
        &format!("UPDATE hm_messages SET messagenexttrytime = ? WHERE messagetype = {}", message_type::QUEUED),
        &[never().into()],
    )
    .await
}
