//! `hm_imapfolders`: IMAP folders, one row per level, names in modified UTF-7 as on the wire.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::{Db, Row, Tx, Value};
use crate::{Location, Store, StoreError};

/// `folderparentid` of a top-level folder.
pub const TOP_LEVEL: i64 = -1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub id: i64,
    /// 0 for the public-folder tree.
    pub account_id: i64,
    pub parent_id: i64,
    pub name: String,
    pub subscribed: bool,
    pub created: NaiveDateTime,
    /// The last UID handed out; UIDs only grow.
    pub current_uid: i64,
}

const COLUMNS: &str =
    "folderid, folderaccountid, folderparentid, foldername, folderissubscribed, foldercreationtime, foldercurrentuid";

impl Folder {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Folder {
            id: r.int("folderid")?,
            account_id: r.int("folderaccountid")?,
            parent_id: r.int("folderparentid")?,
            name: r.text("foldername")?,
            subscribed: r.bool("folderissubscribed")?,
            created: r.time("foldercreationtime")?,
            current_uid: r.int("foldercurrentuid")?,
        })
    }

    /// UIDVALIDITY: the creation time read as UTC seconds, as hMailServer computes it.
    pub fn uid_validity(&self) -> u32 {
        u32::try_from(self.created.and_utc().timestamp()).unwrap_or(1).max(1)
    }
}

pub async fn list(db: &Db, account_id: i64) -> Result<Vec<Folder>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM hm_imapfolders WHERE folderaccountid = ? ORDER BY folderparentid, foldername");
    let rows = db.fetch_all(&sql, &[account_id.into()]).await?;
    rows.iter().map(Folder::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Folder>, StoreError> {
    let row =
        db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_imapfolders WHERE folderid = ?"), &[id.into()]).await?;
    row.as_ref().map(Folder::from_row).transpose()
}

/// The child of `parent_id` called `name` (INBOX is matched case-insensitively, as IMAP says).
pub async fn find(db: &Db, account_id: i64, parent_id: i64, name: &str) -> Result<Option<Folder>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_imapfolders WHERE folderaccountid = ? AND folderparentid = ?");
    let rows = db.fetch_all(&sql, &[account_id.into(), parent_id.into()]).await?;
    let inbox = parent_id == TOP_LEVEL && name.eq_ignore_ascii_case("INBOX");
    for r in &rows {
        let f = Folder::from_row(r)?;
        if f.name == name || (inbox && f.name.eq_ignore_ascii_case("INBOX")) {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Adds a folder under `parent_id`.
pub async fn create(
    db: &Db,
    account_id: i64,
    parent_id: i64,
    name: &str,
    now: NaiveDateTime,
) -> Result<Folder, StoreError> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(StoreError::Invalid("a folder name must be 1-255 characters".into()));
    }
    if find(db, account_id, parent_id, name).await?.is_some() {
        return Err(StoreError::Conflict(format!("folder {name} already exists")));
    }
    let values: Vec<(&str, Value)> = vec![
        ("folderaccountid", account_id.into()),
        ("folderparentid", parent_id.into()),
        ("foldername", name.into()),
        ("folderissubscribed", 1.into()),
        ("foldercreationtime", now.into()),
        ("foldercurrentuid", 0.into()),
    ];
    let id = super::insert_row(db, "hm_imapfolders", "folderid", &values).await?;
    Ok(Folder { id, account_id, parent_id, name: name.to_owned(), subscribed: true, created: now, current_uid: 0 })
}

/// The account's INBOX, created when missing.
pub async fn ensure_inbox(db: &Db, account_id: i64) -> Result<Folder, StoreError> {
    if let Some(f) = find(db, account_id, TOP_LEVEL, "INBOX").await? {
        return Ok(f);
    }
    match create(db, account_id, TOP_LEVEL, "INBOX", altimail_core::time::now_local()).await {
        Ok(f) => Ok(f),
        // Created concurrently by another session: use that one.
        Err(e) if e.is_unique_violation() || matches!(e, StoreError::Conflict(_)) => {
            find(db, account_id, TOP_LEVEL, "INBOX").await?.ok_or_else(|| StoreError::NotFound("INBOX vanished".into()))
        }
        Err(e) => Err(e),
    }
}

/// The folder at `path` (levels joined by `delimiter`, e.g. `INBOX.Spam`), each missing level
/// created (subscribed) on the way, as hMailServer does for a rule's "move to IMAP folder".
/// Empty levels are skipped; a path with no level at all is the INBOX.
pub async fn ensure_path(db: &Db, account_id: i64, path: &str, delimiter: &str) -> Result<Folder, StoreError> {
    let levels: Vec<&str> = if delimiter.is_empty() { vec![path] } else { path.split(delimiter).collect() };
    let levels: Vec<&str> = levels.into_iter().map(str::trim).filter(|l| !l.is_empty()).collect();
    if levels.is_empty() {
        return ensure_inbox(db, account_id).await;
    }
    let mut parent = TOP_LEVEL;
    let mut folder = None;
    for level in levels {
        let f = match find(db, account_id, parent, level).await? {
            Some(f) => f,
            None => match create(db, account_id, parent, level, altimail_core::time::now_local()).await {
                Ok(f) => f,
                // Created concurrently: use that one.
                Err(e) if e.is_unique_violation() || matches!(e, StoreError::Conflict(_)) => {
                    find(db, account_id, parent, level)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("folder {level} vanished")))?
                }
                Err(e) => return Err(e),
            },
        };
        parent = f.id;
        folder = Some(f);
    }
    folder.ok_or_else(|| StoreError::NotFound(format!("no folder {path}")))
}

/// Hands out the next UID of a folder: `foldercurrentuid + 1`, stored before it is returned,
/// so a UID is never given twice even across a crash.
pub async fn allocate_uid(db: &Db, folder_id: i64) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            "UPDATE hm_imapfolders SET foldercurrentuid = foldercurrentuid + 1 WHERE folderid = ?",
            &[folder_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no folder {folder_id}")));
    }
    let row = tx
        .fetch_optional("SELECT foldercurrentuid FROM hm_imapfolders WHERE folderid = ?", &[folder_id.into()])
        .await?;
    let uid = row.map(|r| r.int("foldercurrentuid")).transpose()?.unwrap_or(0);
    tx.commit().await?;
    Ok(uid)
}

/// The next mod-sequence of a folder: 0 (never set, e.g. a row made by hMailServer) reads as 1,
/// so the first one handed out is 2.
const NEXT_MODSEQ: &str = "CASE WHEN folderhighestmodseq < 1 THEN 2 ELSE folderhighestmodseq + 1 END";

/// What [`allocate`] handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// The first of the UIDs asked for (the folder's last UID + 1).
    pub first_uid: i64,
    /// The folder's new highest mod-sequence.
    pub modseq: u64,
}

/// Inside `tx`, reserves `uids` new UIDs (possibly none) and one new mod-sequence of a folder.
///
/// The folder row stays locked until `tx` ends, so UIDs and mod-sequences of one folder are
/// committed in the order they were handed out: a client never sees UID n+1 before UID n.
/// Callers that lock two folders lock the lower folder id first.
pub async fn allocate(tx: &mut Tx, folder_id: i64, uids: u32) -> Result<Allocation, StoreError> {
    let n = tx
        .execute(
            &format!(
                "UPDATE hm_imapfolders SET foldercurrentuid = foldercurrentuid + ?, folderhighestmodseq = {NEXT_MODSEQ} \
                 WHERE folderid = ?"
            ),
            &[uids.into(), folder_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no folder {folder_id}")));
    }
    let row = tx
        .fetch_optional(
            "SELECT foldercurrentuid, folderhighestmodseq FROM hm_imapfolders WHERE folderid = ?",
            &[folder_id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no folder {folder_id}")))?;
    Ok(Allocation {
        first_uid: row.int("foldercurrentuid")? - i64::from(uids) + 1,
        modseq: u64::try_from(row.int("folderhighestmodseq")?).unwrap_or(1).max(1),
    })
}

/// The folder's highest mod-sequence (CONDSTORE's HIGHESTMODSEQ), at least 1.
pub async fn highest_modseq(db: &Db, folder_id: i64) -> Result<u64, StoreError> {
    let row = db
        .fetch_optional("SELECT folderhighestmodseq FROM hm_imapfolders WHERE folderid = ?", &[folder_id.into()])
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no folder {folder_id}")))?;
    Ok(u64::try_from(row.int("folderhighestmodseq")?).unwrap_or(1).max(1))
}

/// Moves and/or renames a folder: it becomes `new_name` under `new_parent_id` ([`TOP_LEVEL`] for
/// the top), with its children, messages and UIDVALIDITY unchanged.
///
/// # Errors
/// `Conflict` when the target name exists; `Invalid` for a bad name or when the new parent is the
/// folder itself or one of its descendants; `NotFound` when the folder does not exist.
pub async fn rename(db: &Db, folder_id: i64, new_parent_id: i64, new_name: &str) -> Result<(), StoreError> {
    if new_name.is_empty() || new_name.chars().count() > 255 {
        return Err(StoreError::Invalid("a folder name must be 1-255 characters".into()));
    }
    let folder = get(db, folder_id).await?.ok_or_else(|| StoreError::NotFound(format!("no folder {folder_id}")))?;
    // Walk up from the new parent; bounded, so a corrupt cycle cannot loop forever.
    let mut ancestor = new_parent_id;
    for _ in 0..10_000 {
        if ancestor == TOP_LEVEL {
            break;
        }
        if ancestor == folder_id {
            return Err(StoreError::Invalid("a folder cannot move below itself".into()));
        }
        match get(db, ancestor).await? {
            Some(p) if p.account_id == folder.account_id => ancestor = p.parent_id,
            _ => return Err(StoreError::NotFound(format!("no parent folder {new_parent_id}"))),
        }
    }
    if let Some(existing) = find(db, folder.account_id, new_parent_id, new_name).await?
        && existing.id != folder_id
    {
        return Err(StoreError::Conflict(format!("folder {new_name} already exists")));
    }
    let result = db
        .execute(
            "UPDATE hm_imapfolders SET folderparentid = ?, foldername = ? WHERE folderid = ?",
            &[new_parent_id.into(), new_name.into(), folder_id.into()],
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(format!("folder {new_name} already exists"))),
        Err(e) => Err(e),
    }
}

/// Sets or clears the folder's subscription (IMAP SUBSCRIBE / UNSUBSCRIBE).
pub async fn set_subscribed(db: &Db, folder_id: i64, subscribed: bool) -> Result<(), StoreError> {
    let n = db
        .execute(
            "UPDATE hm_imapfolders SET folderissubscribed = ? WHERE folderid = ?",
            &[subscribed.into(), folder_id.into()],
        )
        .await?;
    if n == 0 && get(db, folder_id).await?.is_none() {
        return Err(StoreError::NotFound(format!("no folder {folder_id}")));
    }
    Ok(())
}

/// Deletes one folder row with its messages, keywords, special-use, ACL and vanished rows, then
/// the message files (after the commit; a missing file is fine). Children are left alone: the
/// caller decides what happens to them.
pub async fn delete(store: &Store, folder: &Folder, location: Location<'_>) -> Result<(), StoreError> {
    let id: Value = folder.id.into();
    let account: Value = folder.account_id.into();
    let files: Vec<String> = store
        .db
        .fetch_all(
            "SELECT messagefilename FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ?",
            &[account.clone(), id.clone()],
        )
        .await?
        .iter()
        .map(|r| r.text("messagefilename"))
        .collect::<Result<_, _>>()?;
    let mut tx = store.db.begin().await?;
    let in_folder = "SELECT messageid FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ?";
    tx.execute(
        &format!("DELETE FROM altimail_keywords WHERE messageid IN ({in_folder})"),
        &[account.clone(), id.clone()],
    )
    .await?;
    tx.execute(
        &format!("DELETE FROM hm_message_metadata WHERE metadata_messageid IN ({in_folder})"),
        &[account.clone(), id.clone()],
    )
    .await?;
    tx.execute("DELETE FROM hm_messages WHERE messageaccountid = ? AND messagefolderid = ?", &[account, id.clone()])
        .await?;
    for sql in [
        "DELETE FROM altimail_special_use WHERE folderid = ?",
        "DELETE FROM altimail_vanished WHERE folderid = ?",
        "DELETE FROM hm_acl WHERE aclsharefolderid = ?",
        "DELETE FROM hm_imapfolders WHERE folderid = ?",
    ] {
        tx.execute(sql, std::slice::from_ref(&id)).await?;
    }
    tx.commit().await?;
    super::remove_files(store, location, &files).await;
    store.changes.notify(folder.id);
    Ok(())
}
