//! `hm_imapfolders`: IMAP folders, one row per level, names in modified UTF-7 as on the wire.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

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
