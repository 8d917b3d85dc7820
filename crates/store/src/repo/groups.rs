//! `hm_groups` and `hm_group_members`: groups of accounts, which hMailServer uses only for IMAP
//! folder rights (`hm_acl` rows of type 1).

use crate::StoreError;
use crate::db::Db;

/// Adds a group with these member accounts; returns its id.
pub async fn create(db: &Db, name: &str, members: &[i64]) -> Result<i64, StoreError> {
    if name.trim().is_empty() || name.chars().count() > 255 {
        return Err(StoreError::Invalid("a group name must be 1-255 characters".into()));
    }
    let id = db.insert("INSERT INTO hm_groups (groupname) VALUES (?)", &[name.into()], "groupid").await?;
    for account_id in members {
        add_member(db, id, *account_id).await?;
    }
    Ok(id)
}

/// Makes an account a member of a group.
pub async fn add_member(db: &Db, group_id: i64, account_id: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO hm_group_members (membergroupid, memberaccountid) VALUES (?, ?)",
        &[group_id.into(), account_id.into()],
    )
    .await?;
    Ok(())
}
