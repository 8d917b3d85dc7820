//! `hm_messages`: the delivery queue (type 1), mailbox contents (type 2) and ETRN-held mail (3).

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::codes::message_type;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    /// Owner account; 0 for the queue and public folders.
    pub account_id: i64,
    /// IMAP folder; 0 while queued.
    pub folder_id: i64,
    /// `{GUID}.eml`, or an absolute path written by an old hMailServer.
    pub file_name: String,
    /// 1 queued, 2 delivered, 3 held for ETRN.
    pub kind: i64,
    /// Envelope sender (empty for bounces).
    pub from: String,
    pub size: i64,
    pub tries: i64,
    pub next_try: NaiveDateTime,
    /// Bit mask, see `altimail_core::codes::flags`.
    pub flags: i64,
    /// Arrival time, the IMAP INTERNALDATE.
    pub created: NaiveDateTime,
    pub locked: bool,
    pub uid: i64,
}

const COLUMNS: &str = "messageid, messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, \
    messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, messageuid";

impl Message {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Message {
            id: r.int("messageid")?,
            account_id: r.int("messageaccountid")?,
            folder_id: r.int("messagefolderid")?,
            file_name: r.text("messagefilename")?,
            kind: r.int("messagetype")?,
            from: r.text("messagefrom")?,
            size: r.int("messagesize")?,
            tries: r.int("messagecurnooftries")?,
            next_try: r.time("messagenexttrytime")?,
            flags: r.int("messageflags")?,
            created: r.time("messagecreatetime")?,
            locked: r.bool("messagelocked")?,
            uid: r.int("messageuid")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("messageaccountid", self.account_id.into()),
            ("messagefolderid", self.folder_id.into()),
            ("messagefilename", self.file_name.clone().into()),
            ("messagetype", self.kind.into()),
            ("messagefrom", self.from.clone().into()),
            ("messagesize", self.size.into()),
            ("messagecurnooftries", self.tries.into()),
            ("messagenexttrytime", self.next_try.into()),
            ("messageflags", self.flags.into()),
            ("messagecreatetime", self.created.into()),
            ("messagelocked", self.locked.into()),
            ("messageuid", self.uid.into()),
        ]
    }
}

pub async fn insert(db: &Db, message: &Message) -> Result<Message, StoreError> {
    let id = super::insert_row(db, "hm_messages", "messageid", &message.values()).await?;
    Ok(Message { id, ..message.clone() })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Message>, StoreError> {
    let row =
        db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_messages WHERE messageid = ?"), &[id.into()]).await?;
    row.as_ref().map(Message::from_row).transpose()
}

/// The messages of one folder in UID order.
///
/// `+messagetype` (here and in the per-account sums below) keeps SQLite's planner from choosing
/// `idx_hm_messages_type`, which it prefers over `idx_hm_messages` for a constant type and which
/// walks every delivered message of the server; the unary plus changes nothing on PostgreSQL
/// and MySQL.
pub async fn in_folder(db: &Db, account_id: i64, folder_id: i64) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ? AND +messagetype = {} ORDER BY messageuid",
        message_type::DELIVERED
    );
    let rows = db.fetch_all(&sql, &[account_id.into(), folder_id.into()]).await?;
    rows.iter().map(Message::from_row).collect()
}

/// Queued messages (type 1), in hMailServer's delivery order.
pub async fn queue(db: &Db) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM hm_messages WHERE messagetype = {} ORDER BY messagesize, messagecurnooftries, messageid",
        message_type::QUEUED
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter().map(Message::from_row).collect()
}

/// Queued (type 1) and ETRN-held (type 3) messages, in hMailServer's delivery order: what
/// `altimail queue list` shows.
pub async fn queue_and_held(db: &Db) -> Result<Vec<Message>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM hm_messages WHERE messagetype IN ({}, {}) \
         ORDER BY messagesize, messagecurnooftries, messageid",
        message_type::QUEUED,
        message_type::ETRN_HELD
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter().map(Message::from_row).collect()
}

pub async fn set_flags(db: &Db, id: i64, flags: i64) -> Result<(), StoreError> {
    db.execute("UPDATE hm_messages SET messageflags = ? WHERE messageid = ?", &[flags.into(), id.into()]).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM hm_messagerecipients WHERE recipientmessageid = ?", &[id.into()]).await?;
    tx.execute("DELETE FROM hm_messages WHERE messageid = ?", &[id.into()]).await?;
    tx.commit().await
}

/// The number of messages in an account's mailbox.
pub async fn account_count(db: &Db, account_id: i64) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM hm_messages WHERE messageaccountid = ? AND +messagetype = {}",
        message_type::DELIVERED
    );
    Ok(db.fetch_optional(&sql, &[account_id.into()]).await?.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}

/// Total size in bytes of an account's mailbox (for quotas).
pub async fn account_size(db: &Db, account_id: i64) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT {} AS n FROM hm_messages WHERE messageaccountid = ? AND +messagetype = {}",
        db.dialect().sum_int("messagesize"),
        message_type::DELIVERED
    );
    Ok(db.fetch_optional(&sql, &[account_id.into()]).await?.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}
