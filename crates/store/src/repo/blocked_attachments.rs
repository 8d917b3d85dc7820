//! `hm_blocked_attachments`: file-name wildcards (`*.exe`) of attachments that are replaced by
//! a notice when `enableattachmentblocking` is on.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedAttachment {
    pub id: i64,
    /// `*` any run of characters, `?` one character; compared without regard to case.
    pub wildcard: String,
    pub description: String,
}

impl BlockedAttachment {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(BlockedAttachment {
            id: r.int("baid")?,
            wildcard: r.text("bawildcard")?,
            description: r.text("badescription")?,
        })
    }
}

pub async fn list(db: &Db) -> Result<Vec<BlockedAttachment>, StoreError> {
    let rows =
        db.fetch_all("SELECT baid, bawildcard, badescription FROM hm_blocked_attachments ORDER BY baid", &[]).await?;
    rows.iter().map(BlockedAttachment::from_row).collect()
}

/// The wildcards alone, for matching.
pub async fn wildcards(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(list(db).await?.into_iter().map(|b| b.wildcard).collect())
}

/// The row with this wildcard (compared without regard to case).
pub async fn find(db: &Db, wildcard: &str) -> Result<Option<BlockedAttachment>, StoreError> {
    Ok(list(db).await?.into_iter().find(|b| b.wildcard.eq_ignore_ascii_case(wildcard)))
}

pub async fn add(db: &Db, wildcard: &str, description: &str) -> Result<BlockedAttachment, StoreError> {
    let wildcard = wildcard.trim();
    if wildcard.is_empty() || wildcard.chars().count() > 255 {
        return Err(StoreError::Invalid("the wildcard must be 1-255 characters".into()));
    }
    if description.chars().count() > 255 {
        return Err(StoreError::Invalid("the description must be at most 255 characters".into()));
    }
    if find(db, wildcard).await?.is_some() {
        return Err(StoreError::Conflict(format!("{wildcard} is already blocked")));
    }
    let id = super::insert_row(
        db,
        "hm_blocked_attachments",
        "baid",
        &[("bawildcard", wildcard.into()), ("badescription", description.into())],
    )
    .await?;
    Ok(BlockedAttachment { id, wildcard: wildcard.to_owned(), description: description.to_owned() })
}

pub async fn remove(db: &Db, id: i64) -> Result<(), StoreError> {
    if db.execute("DELETE FROM hm_blocked_attachments WHERE baid = ?", &[id.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!("no blocked attachment {id}")));
    }
    Ok(())
}
