//! IMAP views and changes of one folder's messages (`hm_messages` type 2), with the state
//! hMailServer has no place for: mod-sequences (RFC 7162 CONDSTORE/QRESYNC), custom keywords
//! and expunged UIDs.
//!
//! Every change runs in one transaction that first takes a new mod-sequence (and UIDs, for new
//! rows) from the folder row with [`folders::allocate`], which also locks that row until the
//! commit: changes to one folder are serialised, and UIDs become visible in order. After the
//! commit the folder's subscribers on [`crate::ChangeBus`] are notified. Message files are
//! written durably before a row that names them commits, and removed only after the row is
//! gone, so a crash leaves at worst an orphan file, never a row without its file.
//!
//! Flag bits are hMailServer's (`altimail_core::codes::flags`). Rows that hMailServer itself
//! writes carry mod-sequence 0, which reads as 1.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use altimail_core::codes::{flags as flag, message_type};

use super::folders::{self, Folder};
use super::{IN_BATCH, insert_sql, marks, remove_files};
use crate::db::{Db, Row, Tx, Value, never};
use crate::files::{MessageFiles, new_file_name};
use crate::{Location, Store, StoreError};

/// Flag bits the server owns: clients cannot set or clear them with a flag update.
const SERVER_FLAGS: i64 = flag::RECENT | flag::VIRUS_SCAN;
/// Longest keyword stored (the column is VARCHAR(255)).
const MAX_KEYWORD_LEN: usize = 255;

/// One message as an IMAP session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxMessage {
    pub id: i64,
    pub uid: u32,
    /// hMailServer flag bits (1 Seen, 2 Deleted, 4 Flagged, 8 Answered, 16 Draft, 32 Recent).
    pub flags: i64,
    /// Custom keywords, as first stored.
    pub keywords: Vec<String>,
    pub size: u64,
    /// INTERNALDATE: `messagecreatetime`, local time as hMailServer stores it.
    pub internal_date: NaiveDateTime,
    /// At least 1.
    pub modseq: u64,
    pub file_name: String,
}

/// Counters for STATUS and SELECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FolderStatus {
    pub messages: u64,
    pub recent: u64,
    pub unseen: u64,
    pub deleted: u64,
    /// Sum of the message sizes in bytes.
    pub size: u64,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub highest_modseq: u64,
}

/// New flags and keywords for one message (a STORE's result, not its delta).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagUpdate {
    pub id: i64,
    /// hMailServer flag bits; Recent and virus-scan bits are ignored (the stored ones are kept).
    pub flags: i64,
    pub keywords: Vec<String>,
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(if v < 0 { 0 } else { u32::MAX })
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The client-settable flag bits of `flags` (the server-owned ones and unknown high bits cleared).
fn client_flags(flags: i64) -> i64 {
    flags & !SERVER_FLAGS & 0x7f
}

/// A message count for [`folders::allocate`].
fn message_count(n: usize) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Invalid("too many messages".into()))
}

fn modseq_value(m: u64) -> Value {
    i64::try_from(m).unwrap_or(i64::MAX).into()
}

fn modseq_of(r: &Row, column: &str) -> Result<u64, StoreError> {
    Ok(to_u64(r.int(column)?).max(1))
}

/// Keywords without case-insensitive duplicates, first spelling kept.
fn clean_keywords(keywords: &[String]) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::with_capacity(keywords.len());
    for k in keywords {
        if k.is_empty() || k.len() > MAX_KEYWORD_LEN || k.chars().any(|c| c.is_control() || c == ' ') {
            return Err(StoreError::Invalid(format!("keyword {k:?} is not valid")));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(k)) {
            out.push(k.clone());
        }
    }
    Ok(out)
}

/// The owner account of a folder (0 for public folders), for queries that use
/// `idx_hm_messages (messageaccountid, messagefolderid)`. Those queries write `+messagetype`:
/// without the unary plus SQLite's planner prefers `idx_hm_messages_type` for a constant type
/// and walks every delivered message of the server (PostgreSQL and MySQL ignore the plus).
async fn folder_account(db: &Db, folder_id: i64) -> Result<i64, StoreError> {
    db.fetch_optional("SELECT folderaccountid FROM hm_imapfolders WHERE folderid = ?", &[folder_id.into()])
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no folder {folder_id}")))?
        .int("folderaccountid")
}

async fn insert_keywords(tx: &mut Tx, message_id: i64, keywords: &[String]) -> Result<(), StoreError> {
    for k in keywords {
        tx.execute(
            "INSERT INTO altimail_keywords (messageid, keyword) VALUES (?, ?)",
            &[message_id.into(), k.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Keywords of the given messages, by message id.
async fn keywords_of(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, StoreError> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for batch in ids.chunks(IN_BATCH) {
        let args: Vec<Value> = batch.iter().map(|&id| id.into()).collect();
        let sql =
            format!("SELECT messageid, keyword FROM altimail_keywords WHERE messageid IN ({})", marks(batch.len()));
        for r in db.fetch_all(&sql, &args).await? {
            out.entry(r.int("messageid")?).or_default().push(r.text("keyword")?);
        }
    }
    Ok(out)
}

async fn record_vanished(tx: &mut Tx, folder_id: i64, uids: &[i64], modseq: u64) -> Result<(), StoreError> {
    for batch in uids.chunks(IN_BATCH / 3) {
        let rows = vec!["(?, ?, ?)"; batch.len()].join(", ");
        let mut args = Vec::with_capacity(batch.len() * 3);
        for &uid in batch {
            args.extend([folder_id.into(), uid.into(), modseq_value(modseq)]);
        }
        tx.execute(&format!("INSERT INTO altimail_vanished (folderid, uid, modseq) VALUES {rows}"), &args).await?;
    }
    Ok(())
}

/// Deletes the rows (with keywords and metadata) of messages known to be in the locked folder.
async fn delete_rows(tx: &mut Tx, ids: &[i64]) -> Result<(), StoreError> {
    for batch in ids.chunks(IN_BATCH) {
        let args: Vec<Value> = batch.iter().map(|&id| id.into()).collect();
        let m = marks(batch.len());
        tx.execute(&format!("DELETE FROM altimail_keywords WHERE messageid IN ({m})"), &args).await?;
        tx.execute(&format!("DELETE FROM hm_message_metadata WHERE metadata_messageid IN ({m})"), &args).await?;
        tx.execute(&format!("DELETE FROM hm_messages WHERE messageid IN ({m})"), &args).await?;
    }
    Ok(())
}

/// The folder's messages in UID order, keywords included.
pub async fn messages(db: &Db, folder_id: i64) -> Result<Vec<MailboxMessage>, StoreError> {
    load(db, folder_account(db, folder_id).await?, folder_id, None).await
}

/// The folder's messages whose modseq is above `modseq` (new or changed since), by UID. With
/// [`vanished_since`] this brings a view up to date without reading the whole folder.
/// It is called on every change a session hears of, so the owner comes from `folder`.
pub async fn changed_since(db: &Db, folder: &Folder, modseq: u64) -> Result<Vec<MailboxMessage>, StoreError> {
    load(db, folder.account_id, folder.id, Some(modseq)).await
}

async fn load(db: &Db, account_id: i64, folder_id: i64, since: Option<u64>) -> Result<Vec<MailboxMessage>, StoreError> {
    // One query: a message with several keywords comes once per keyword, in UID order.
    let filter = if since.is_some() { " AND m.messagemodseq > ?" } else { "" };
    let sql = format!(
        "SELECT m.messageid AS messageid, m.messageuid AS messageuid, m.messageflags AS messageflags, \
         m.messagesize AS messagesize, m.messagecreatetime AS messagecreatetime, m.messagemodseq AS messagemodseq, \
         m.messagefilename AS messagefilename, k.keyword AS keyword \
         FROM hm_messages m LEFT JOIN altimail_keywords k ON k.messageid = m.messageid \
         WHERE m.messageaccountid = ? AND m.messagefolderid = ? AND +m.messagetype = {}{filter} \
         ORDER BY m.messageuid, m.messageid",
        message_type::DELIVERED
    );
    let mut params: Vec<Value> = vec![account_id.into(), folder_id.into()];
    if let Some(m) = since {
        params.push(modseq_value(m));
    }
    let mut out: Vec<MailboxMessage> = Vec::new();
    for r in &db.fetch_all(&sql, &params).await? {
        let id = r.int("messageid")?;
        let keyword = r.opt_text("keyword")?;
        if let Some(last) = out.last_mut().filter(|m| m.id == id) {
            last.keywords.extend(keyword);
            continue;
        }
        out.push(MailboxMessage {
            id,
            uid: to_u32(r.int("messageuid")?),
            flags: r.int("messageflags")?,
            keywords: keyword.into_iter().collect(),
            size: to_u64(r.int("messagesize")?),
            internal_date: r.time("messagecreatetime")?,
            modseq: modseq_of(r, "messagemodseq")?,
            file_name: r.text("messagefilename")?,
        });
    }
    // Engines return joined rows in any order: keywords come sorted, so two reads compare equal.
    for m in &mut out {
        sort_keywords(&mut m.keywords);
    }
    Ok(out)
}

/// The order keywords are handed out in: case-insensitive, then as spelled.
pub fn sort_keywords(keywords: &mut [String]) {
    keywords.sort_by(|a, b| a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()).then_with(|| a.cmp(b)));
}

/// STATUS counters, computed by the database without listing the messages.
pub async fn status(db: &Db, folder: &Folder) -> Result<FolderStatus, StoreError> {
    let d = db.dialect();
    let count_if = |cond: &str| d.sum_int(&format!("CASE WHEN {cond} THEN 1 ELSE 0 END"));
    let sql = format!(
        "SELECT COUNT(*) AS n, {} AS recent, {} AS unseen, {} AS deleted, {} AS size FROM hm_messages \
         WHERE messageaccountid = ? AND messagefolderid = ? AND +messagetype = {}",
        count_if(&format!("(messageflags & {}) <> 0", flag::RECENT)),
        count_if(&format!("(messageflags & {}) = 0", flag::SEEN)),
        count_if(&format!("(messageflags & {}) <> 0", flag::DELETED)),
        d.sum_int("messagesize"),
        message_type::DELIVERED
    );
    let counts = db.fetch_optional(&sql, &[folder.account_id.into(), folder.id.into()]).await?.unwrap_or_default();
    let row = db
        .fetch_optional(
            "SELECT foldercurrentuid, folderhighestmodseq FROM hm_imapfolders WHERE folderid = ?",
            &[folder.id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no folder {}", folder.id)))?;
    let int = |name: &str| counts.get(name).map_or(Ok(0), |_| counts.int(name));
    Ok(FolderStatus {
        messages: to_u64(int("n")?),
        recent: to_u64(int("recent")?),
        unseen: to_u64(int("unseen")?),
        deleted: to_u64(int("deleted")?),
        size: to_u64(int("size")?),
        uid_next: to_u32(row.int("foldercurrentuid")?.saturating_add(1)),
        uid_validity: folder.uid_validity(),
        highest_modseq: modseq_of(&row, "folderhighestmodseq")?,
    })
}

/// Takes the \Recent flag off the folder's messages and returns the UIDs that had it, in order:
/// the session that gets them is the one that reports them as recent (RFC 3501 §2.3.2). The
/// folder row is locked first, so two concurrent callers never both get a UID. Not a change
/// other sessions are told about, and no new mod-sequence.
pub async fn claim_recent(db: &Db, folder_id: i64) -> Result<Vec<u32>, StoreError> {
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            "UPDATE hm_imapfolders SET foldercurrentuid = foldercurrentuid WHERE folderid = ?",
            &[folder_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no folder {folder_id}")));
    }
    let account_id = tx
        .fetch_optional("SELECT folderaccountid FROM hm_imapfolders WHERE folderid = ?", &[folder_id.into()])
        .await?
        .map(|r| r.int("folderaccountid"))
        .transpose()?
        .unwrap_or(0);
    let sql = format!(
        "SELECT messageid, messageuid FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ? \
         AND +messagetype = {} AND (messageflags & {}) <> 0 ORDER BY messageuid",
        message_type::DELIVERED,
        flag::RECENT
    );
    let rows = tx.fetch_all(&sql, &[account_id.into(), folder_id.into()]).await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut uids = Vec::with_capacity(rows.len());
    for r in &rows {
        ids.push(r.int("messageid")?);
        uids.push(to_u32(r.int("messageuid")?));
    }
    for batch in ids.chunks(IN_BATCH) {
        let args: Vec<Value> = batch.iter().map(|&id| id.into()).collect();
        let sql = format!(
            "UPDATE hm_messages SET messageflags = messageflags - {r} WHERE messageid IN ({}) AND (messageflags & {r}) <> 0",
            marks(batch.len()),
            r = flag::RECENT
        );
        tx.execute(&sql, &args).await?;
    }
    tx.commit().await?;
    Ok(uids)
}

/// Stores new flags and keywords for messages of one folder in one transaction. All of them get
/// the same new mod-sequence, which is returned and is the folder's new highest. Ids not in the
/// folder are skipped. The Recent and virus-scan bits keep their stored values.
pub async fn update_flags(store: &Store, folder_id: i64, updates: &[FlagUpdate]) -> Result<u64, StoreError> {
    if updates.is_empty() {
        return folders::highest_modseq(&store.db, folder_id).await;
    }
    let cleaned: Vec<Vec<String>> = updates.iter().map(|u| clean_keywords(&u.keywords)).collect::<Result<_, _>>()?;
    let mut tx = store.db.begin().await?;
    let modseq = folders::allocate(&mut tx, folder_id, 0).await?.modseq;
    let sql = format!(
        "UPDATE hm_messages SET messageflags = ? + (messageflags & {SERVER_FLAGS}), messagemodseq = ? \
         WHERE messageid = ? AND messagefolderid = ? AND messagetype = {}",
        message_type::DELIVERED
    );
    for (u, keywords) in updates.iter().zip(&cleaned) {
        let flags = client_flags(u.flags);
        let n = tx.execute(&sql, &[flags.into(), modseq_value(modseq), u.id.into(), folder_id.into()]).await?;
        if n == 0 {
            continue;
        }
        tx.execute("DELETE FROM altimail_keywords WHERE messageid = ?", &[u.id.into()]).await?;
        insert_keywords(&mut tx, u.id, keywords).await?;
    }
    tx.commit().await?;
    store.changes.notify(folder_id);
    Ok(modseq)
}

/// Deletes messages of a folder: rows and keywords in one transaction, then the files (a file
/// already missing is fine). Their UIDs are recorded as vanished at a new mod-sequence, which is
/// returned. Ids not in the folder are skipped.
pub async fn expunge(store: &Store, folder: &Folder, location: Location<'_>, ids: &[i64]) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return folders::highest_modseq(&store.db, folder.id).await;
    }
    let mut tx = store.db.begin().await?;
    let modseq = folders::allocate(&mut tx, folder.id, 0).await?.modseq;
    let mut found = Vec::with_capacity(ids.len());
    let mut uids = Vec::with_capacity(ids.len());
    let mut files = Vec::with_capacity(ids.len());
    for batch in ids.chunks(IN_BATCH) {
        let mut args: Vec<Value> = vec![folder.account_id.into(), folder.id.into()];
        args.extend(batch.iter().map(|&id| Value::from(id)));
        let sql = format!(
            "SELECT messageid, messageuid, messagefilename FROM hm_messages WHERE messageaccountid = ? \
             AND messagefolderid = ? AND messagetype = {} AND messageid IN ({})",
            message_type::DELIVERED,
            marks(batch.len())
        );
        for r in tx.fetch_all(&sql, &args).await? {
            found.push(r.int("messageid")?);
            uids.push(r.int("messageuid")?);
            files.push(r.text("messagefilename")?);
        }
    }
    delete_rows(&mut tx, &found).await?;
    record_vanished(&mut tx, folder.id, &uids, modseq).await?;
    tx.commit().await?;
    remove_files(store, location, &files).await;
    store.changes.notify(folder.id);
    Ok(modseq)
}

/// UIDs expunged from the folder at a mod-sequence above `modseq`, ascending (QRESYNC VANISHED).
pub async fn vanished_since(db: &Db, folder_id: i64, modseq: u64) -> Result<Vec<u32>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT DISTINCT uid FROM altimail_vanished WHERE folderid = ? AND modseq > ? ORDER BY uid",
            &[folder_id.into(), modseq_value(modseq)],
        )
        .await?;
    rows.iter().map(|r| Ok(to_u32(r.int("uid")?))).collect()
}

/// A mailbox row read for copying.
struct Source {
    id: i64,
    folder_id: i64,
    file_name: String,
    from: String,
    size: i64,
    flags: i64,
    created: NaiveDateTime,
}

/// The mailbox rows of `ids`, in the order of `ids`; `NotFound` when one is gone.
async fn sources(db: &Db, ids: &[i64]) -> Result<Vec<Source>, StoreError> {
    let mut by_id = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(IN_BATCH) {
        let args: Vec<Value> = batch.iter().map(|&id| id.into()).collect();
        let sql = format!(
            "SELECT messageid, messagefolderid, messagefilename, messagefrom, messagesize, messageflags, \
             messagecreatetime FROM hm_messages WHERE messagetype = {} AND messageid IN ({})",
            message_type::DELIVERED,
            marks(batch.len())
        );
        for r in db.fetch_all(&sql, &args).await? {
            let s = Source {
                id: r.int("messageid")?,
                folder_id: r.int("messagefolderid")?,
                file_name: r.text("messagefilename")?,
                from: r.text("messagefrom")?,
                size: r.int("messagesize")?,
                flags: r.int("messageflags")?,
                created: r.time("messagecreatetime")?,
            };
            by_id.insert(s.id, s);
        }
    }
    ids.iter().map(|id| by_id.remove(id).ok_or_else(|| StoreError::NotFound(format!("no message {id}")))).collect()
}

/// A new mailbox row, as hMailServer writes one (every column named).
struct NewRow<'a> {
    account_id: i64,
    folder_id: i64,
    file_name: &'a str,
    from: &'a str,
    size: i64,
    flags: i64,
    created: NaiveDateTime,
    uid: i64,
    modseq: u64,
}

async fn insert_row(tx: &mut Tx, row: &NewRow<'_>) -> Result<i64, StoreError> {
    let values: Vec<(&str, Value)> = vec![
        ("messageaccountid", row.account_id.into()),
        ("messagefolderid", row.folder_id.into()),
        ("messagefilename", row.file_name.into()),
        ("messagetype", message_type::DELIVERED.into()),
        ("messagefrom", row.from.into()),
        ("messagesize", row.size.into()),
        ("messagecurnooftries", 0.into()),
        ("messagenexttrytime", never().into()),
        ("messageflags", row.flags.into()),
        ("messagecreatetime", row.created.into()),
        ("messagelocked", 0.into()),
        ("messageuid", row.uid.into()),
        ("messagemodseq", modseq_value(row.modseq)),
    ];
    let (sql, args) = insert_sql("hm_messages", &values);
    tx.insert(&sql, &args, "messageid").await
}

/// Removes files written for rows that were not committed.
async fn discard(paths: &[std::path::PathBuf]) {
    for p in paths {
        let _ = tokio::fs::remove_file(p).await;
    }
}

/// Ends a change that wrote new files at `paths` before its transaction: on success the
/// folder's subscribers are told, on failure the files are removed.
async fn settle<T>(
    store: &Store,
    folder_id: i64,
    paths: &[std::path::PathBuf],
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match result {
        Ok(v) => {
            store.changes.notify(folder_id);
            Ok(v)
        }
        Err(e) => {
            discard(paths).await;
            Err(e)
        }
    }
}

/// Copies messages (from any folders whose files are at `from`) into `to`. Returns the new UIDs
/// in the order of `ids`. Each file is duplicated durably (a hard link when possible) before the
/// rows commit; flags are kept plus \Recent, keywords and INTERNALDATE are kept.
///
/// # Errors
/// `NotFound` when one of the messages no longer exists; nothing is copied then.
pub async fn copy(
    store: &Store,
    from: Location<'_>,
    ids: &[i64],
    to: &Folder,
    to_location: Location<'_>,
) -> Result<Vec<u32>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sources = sources(&store.db, ids).await?;
    let keywords = keywords_of(&store.db, ids).await?;
    let mut names = Vec::with_capacity(sources.len());
    let mut paths = Vec::with_capacity(sources.len());
    for s in &sources {
        let name = new_file_name();
        let dst = store.files.path_for(to_location, &name);
        let src = store.files.resolve(from, &s.file_name);
        if let Err(e) = MessageFiles::link_or_copy_durable_async(src, dst.clone()).await {
            discard(&paths).await;
            return Err(e);
        }
        names.push(name);
        paths.push(dst);
    }
    let count = message_count(sources.len())?;
    let result = async {
        let mut tx = store.db.begin().await?;
        let alloc = folders::allocate(&mut tx, to.id, count).await?;
        let mut uids = Vec::with_capacity(sources.len());
        for (i, (s, name)) in sources.iter().zip(&names).enumerate() {
            let uid = alloc.first_uid + i as i64;
            let row = NewRow {
                account_id: to.account_id,
                folder_id: to.id,
                file_name: name,
                from: &s.from,
                size: s.size,
                flags: s.flags | flag::RECENT,
                created: s.created,
                uid,
                modseq: alloc.modseq,
            };
            let id = insert_row(&mut tx, &row).await?;
            insert_keywords(&mut tx, id, keywords.get(&s.id).map_or(&[][..], Vec::as_slice)).await?;
            uids.push(to_u32(uid));
        }
        tx.commit().await?;
        Ok(uids)
    }
    .await;
    settle(store, to.id, &paths, result).await
}

/// Moves messages of `from` into `to` (RFC 6851). Returns the new UIDs in the order of `ids`;
/// the source UIDs are recorded as vanished. Within one account (or within the public tree) the
/// rows are re-pointed and the files stay where they are; otherwise it is a copy and an expunge.
///
/// # Errors
/// `NotFound` when one of the messages is not in `from`; nothing is moved then.
pub async fn move_messages(
    store: &Store,
    from: &Folder,
    from_location: Location<'_>,
    ids: &[i64],
    to: &Folder,
    to_location: Location<'_>,
) -> Result<Vec<u32>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if from.account_id != to.account_id {
        let sources = sources(&store.db, ids).await?;
        if let Some(s) = sources.iter().find(|s| s.folder_id != from.id) {
            return Err(StoreError::NotFound(format!("message {} is not in folder {}", s.id, from.id)));
        }
        let uids = copy(store, from_location, ids, to, to_location).await?;
        expunge(store, from, from_location, ids).await?;
        return Ok(uids);
    }
    let count = message_count(ids.len())?;
    let mut tx = store.db.begin().await?;
    // Lock the two folder rows in id order, so two opposite moves cannot deadlock.
    let (target, source_modseq) = if from.id == to.id {
        let a = folders::allocate(&mut tx, to.id, count).await?;
        (a, a.modseq)
    } else if from.id < to.id {
        let s = folders::allocate(&mut tx, from.id, 0).await?;
        (folders::allocate(&mut tx, to.id, count).await?, s.modseq)
    } else {
        let t = folders::allocate(&mut tx, to.id, count).await?;
        (t, folders::allocate(&mut tx, from.id, 0).await?.modseq)
    };
    let mut old_uids: HashMap<i64, i64> = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(IN_BATCH) {
        let mut args: Vec<Value> = vec![from.account_id.into(), from.id.into()];
        args.extend(batch.iter().map(|&id| Value::from(id)));
        let sql = format!(
            "SELECT messageid, messageuid FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ? \
             AND messagetype = {} AND messageid IN ({})",
            message_type::DELIVERED,
            marks(batch.len())
        );
        for r in tx.fetch_all(&sql, &args).await? {
            old_uids.insert(r.int("messageid")?, r.int("messageuid")?);
        }
    }
    let mut vanished = Vec::with_capacity(ids.len());
    let mut uids = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let old = old_uids
            .remove(id)
            .ok_or_else(|| StoreError::NotFound(format!("message {id} is not in folder {}", from.id)))?;
        let uid = target.first_uid + i as i64;
        tx.execute(
            &format!(
                "UPDATE hm_messages SET messagefolderid = ?, messageuid = ?, messagemodseq = ?, \
                 messageflags = messageflags | {} WHERE messageid = ?",
                flag::RECENT
            ),
            &[to.id.into(), uid.into(), modseq_value(target.modseq), (*id).into()],
        )
        .await?;
        tx.execute(
            "UPDATE hm_message_metadata SET metadata_folderid = ? WHERE metadata_messageid = ?",
            &[to.id.into(), (*id).into()],
        )
        .await?;
        vanished.push(old);
        uids.push(to_u32(uid));
    }
    record_vanished(&mut tx, from.id, &vanished, source_modseq).await?;
    tx.commit().await?;
    store.changes.notify(from.id);
    store.changes.notify(to.id);
    Ok(uids)
}

/// Adds a message to a folder (IMAP APPEND): the file is written durably (fsync) before the row
/// commits. The row is a mailbox row (type 2) owned by `account_id` (0 for public folders) with
/// `flags` plus \Recent. Returns the new UID.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    store: &Store,
    folder: &Folder,
    location: Location<'_>,
    account_id: i64,
    data: &[u8],
    flags: i64,
    keywords: &[String],
    internal_date: NaiveDateTime,
) -> Result<u32, StoreError> {
    let keywords = clean_keywords(keywords)?;
    let size = i64::try_from(data.len()).map_err(|_| StoreError::Invalid("message too large".into()))?;
    let name = new_file_name();
    let path = store.files.path_for(location, &name);
    MessageFiles::write_durable_async(path.clone(), data.to_vec()).await?;
    let result = async {
        let mut tx = store.db.begin().await?;
        let alloc = folders::allocate(&mut tx, folder.id, 1).await?;
        let row = NewRow {
            account_id,
            folder_id: folder.id,
            file_name: &name,
            from: "",
            size,
            flags: client_flags(flags) | flag::RECENT,
            created: internal_date,
            uid: alloc.first_uid,
            modseq: alloc.modseq,
        };
        let id = insert_row(&mut tx, &row).await?;
        insert_keywords(&mut tx, id, &keywords).await?;
        tx.commit().await?;
        Ok(to_u32(alloc.first_uid))
    }
    .await;
    settle(store, folder.id, &[path], result).await
}

/// The keywords used by the folder's messages (for the FLAGS and PERMANENTFLAGS responses),
/// without case-insensitive duplicates, sorted.
pub async fn keywords_in_use(db: &Db, folder_id: i64) -> Result<Vec<String>, StoreError> {
    let account_id = folder_account(db, folder_id).await?;
    let sql = format!(
        "SELECT DISTINCT k.keyword AS keyword FROM altimail_keywords k JOIN hm_messages m ON m.messageid = k.messageid \
         WHERE m.messageaccountid = ? AND m.messagefolderid = ? AND +m.messagetype = {}",
        message_type::DELIVERED
    );
    let mut out: Vec<String> = Vec::new();
    for r in db.fetch_all(&sql, &[account_id.into(), folder_id.into()]).await? {
        let k = r.text("keyword")?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&k)) {
            out.push(k);
        }
    }
    out.sort_by_key(|k| k.to_ascii_lowercase());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_deduplicated_case_insensitively() {
        let k = clean_keywords(&["$Junk".into(), "work".into(), "$junk".into(), "WORK".into()]).unwrap();
        assert_eq!(k, vec!["$Junk".to_owned(), "work".to_owned()]);
        assert!(clean_keywords(&["".into()]).is_err());
        assert!(clean_keywords(&["a b".into()]).is_err());
        assert!(clean_keywords(&["x".repeat(256)]).is_err());
    }
}
