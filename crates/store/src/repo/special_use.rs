//! `altimail_special_use`: SPECIAL-USE attributes of folders (RFC 6154), such as `\Sent` or
//! `\Trash`. hMailServer has no such notion; the table is Altimail's own.

use crate::StoreError;
use crate::db::Db;

/// Longest attribute stored (the column is VARCHAR(40)).
const MAX_ATTRIBUTE_LEN: usize = 40;

/// Every `(folder id, attribute)` of an account's folders (0: the public folders), ordered by
/// folder id, attributes in the order they were set.
pub async fn list(db: &Db, account_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT s.folderid AS folderid, s.attribute AS attribute FROM altimail_special_use s \
             JOIN hm_imapfolders f ON f.folderid = s.folderid WHERE f.folderaccountid = ? ORDER BY s.folderid",
            &[account_id.into()],
        )
        .await?;
    rows.iter().map(|r| Ok((r.int("folderid")?, r.text("attribute")?))).collect()
}

/// Replaces a folder's attributes. Each must be a backslash and a name (`\Archive`); duplicates
/// (compared case-insensitively) are stored once. An empty list clears them.
pub async fn set(db: &Db, folder_id: i64, attributes: &[String]) -> Result<(), StoreError> {
    let mut clean: Vec<&str> = Vec::with_capacity(attributes.len());
    for a in attributes {
        let name = a.strip_prefix('\\').unwrap_or("");
        if name.is_empty() || a.len() > MAX_ATTRIBUTE_LEN || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(StoreError::Invalid(format!("{a:?} is not a special-use attribute")));
        }
        if !clean.iter().any(|c| c.eq_ignore_ascii_case(a)) {
            clean.push(a);
        }
    }
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM altimail_special_use WHERE folderid = ?", &[folder_id.into()]).await?;
    for a in clean {
        tx.execute(
            "INSERT INTO altimail_special_use (folderid, attribute) VALUES (?, ?)",
            &[folder_id.into(), a.into()],
        )
        .await?;
    }
    tx.commit().await
}
