//! `hm_distributionlists` and `hm_distributionlistsrecipients`.

use serde::Serialize;

use altimail_core::codes::ListMode;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct List {
    pub id: i64,
    pub domain_id: i64,
    pub address: String,
    /// `active` in JSON, as on the command line.
    #[serde(rename = "active")]
    pub enabled: bool,
    /// The sender must have authenticated with SMTP AUTH.
    pub require_auth: bool,
    /// The only sender allowed in announcement mode.
    pub require_address: String,
    pub mode: ListMode,
}

const COLUMNS: &str = "distributionlistid, distributionlistdomainid, distributionlistaddress, distributionlistenabled, \
    distributionlistrequireauth, distributionlistrequireaddress, distributionlistmode";

impl List {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let mode = r.int("distributionlistmode")?;
        Ok(List {
            id: r.int("distributionlistid")?,
            domain_id: r.int("distributionlistdomainid")?,
            address: r.text("distributionlistaddress")?,
            enabled: r.bool("distributionlistenabled")?,
            require_auth: r.bool("distributionlistrequireauth")?,
            require_address: r.text("distributionlistrequireaddress")?,
            mode: ListMode::from_code(mode).unwrap_or(ListMode::Public),
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("distributionlistdomainid", self.domain_id.into()),
            ("distributionlistaddress", self.address.clone().into()),
            ("distributionlistenabled", self.enabled.into()),
            ("distributionlistrequireauth", self.require_auth.into()),
            ("distributionlistrequireaddress", self.require_address.clone().into()),
            ("distributionlistmode", self.mode.code().into()),
        ]
    }

    pub fn new(domain_id: i64, address: &str) -> Self {
        List {
            id: 0,
            domain_id,
            address: address.to_owned(),
            enabled: true,
            require_auth: false,
            require_address: String::new(),
            mode: ListMode::Public,
        }
    }
}

pub async fn list(db: &Db, domain_id: Option<i64>) -> Result<Vec<List>, StoreError> {
    let rows = match domain_id {
        Some(d) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM hm_distributionlists WHERE distributionlistdomainid = ? ORDER BY distributionlistaddress"
            );
            db.fetch_all(&sql, &[d.into()]).await?
        }
        None => {
            db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_distributionlists ORDER BY distributionlistaddress"), &[])
                .await?
        }
    };
    rows.iter().map(List::from_row).collect()
}

/// Every list, the first added first (what the directory index loads).
pub async fn all(db: &Db) -> Result<Vec<List>, StoreError> {
    let rows =
        db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_distributionlists ORDER BY distributionlistid"), &[]).await?;
    rows.iter().map(List::from_row).collect()
}

pub async fn find(db: &Db, address: &str) -> Result<Option<List>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM hm_distributionlists WHERE {}", db.dialect().ci_eq("distributionlistaddress"));
    let row = db.fetch_optional(&sql, &[address.into()]).await?;
    row.as_ref().map(List::from_row).transpose()
}

pub async fn require(db: &Db, address: &str) -> Result<List, StoreError> {
    find(db, address).await?.ok_or_else(|| StoreError::NotFound(format!("no distribution list {address}")))
}

pub async fn create(db: &Db, list_: &List) -> Result<List, StoreError> {
    super::ensure_address_free(db, &list_.address).await?;
    let domain = super::domains::get(db, list_.domain_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no domain with id {}", list_.domain_id)))?;
    if domain.limitations_enabled & 4 != 0
        && super::count_where(db, "hm_distributionlists", "distributionlistdomainid", domain.id).await?
            >= domain.max_lists
    {
        return Err(StoreError::Conflict(format!("domain {} allows at most {} lists", domain.name, domain.max_lists)));
    }
    let id = super::insert_row(db, "hm_distributionlists", "distributionlistid", &list_.values()).await?;
    Ok(List { id, ..list_.clone() })
}

pub async fn update(db: &Db, list_: &List) -> Result<(), StoreError> {
    super::update_row(db, "hm_distributionlists", "distributionlistid", list_.id, &list_.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM hm_distributionlistsrecipients WHERE distributionlistrecipientlistid = ?", &[id.into()])
        .await?;
    tx.execute("DELETE FROM hm_distributionlists WHERE distributionlistid = ?", &[id.into()]).await?;
    tx.commit().await
}

/// The member addresses of a list, in the order they were added.
pub async fn members(db: &Db, list_id: i64) -> Result<Vec<String>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT distributionlistrecipientaddress FROM hm_distributionlistsrecipients \
             WHERE distributionlistrecipientlistid = ? ORDER BY distributionlistrecipientid",
            &[list_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| r.text("distributionlistrecipientaddress"))
        .filter(|a| !matches!(a, Ok(s) if s.is_empty()))
        .collect()
}

/// Every member address of a list as stored, empty ones (and NULL, read as empty) included, in
/// the order they were added: what recipient resolution walks.
pub async fn members_as_stored(db: &Db, list_id: i64) -> Result<Vec<String>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT distributionlistrecipientaddress FROM hm_distributionlistsrecipients \
             WHERE distributionlistrecipientlistid = ? ORDER BY distributionlistrecipientid",
            &[list_id.into()],
        )
        .await?;
    rows.iter().map(|r| r.text("distributionlistrecipientaddress")).collect()
}

/// Every member of every list as stored (list id, address; NULL reads as empty), in the order
/// they were added (what the directory index loads).
pub async fn all_members(db: &Db) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT distributionlistrecipientlistid, distributionlistrecipientaddress \
             FROM hm_distributionlistsrecipients ORDER BY distributionlistrecipientid",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.int("distributionlistrecipientlistid")?, r.text("distributionlistrecipientaddress")?)))
        .collect()
}

/// Adds a member; adding one twice is refused.
pub async fn add_member(db: &Db, list_id: i64, address: &str) -> Result<(), StoreError> {
    if members(db, list_id).await?.iter().any(|m| m.eq_ignore_ascii_case(address)) {
        return Err(StoreError::Conflict(format!("{address} is already a member")));
    }
    super::insert_row(
        db,
        "hm_distributionlistsrecipients",
        "distributionlistrecipientid",
        &[("distributionlistrecipientlistid", list_id.into()), ("distributionlistrecipientaddress", address.into())],
    )
    .await?;
    Ok(())
}

pub async fn remove_member(db: &Db, list_id: i64, address: &str) -> Result<(), StoreError> {
    let sql = format!(
        "DELETE FROM hm_distributionlistsrecipients WHERE distributionlistrecipientlistid = ? AND {}",
        db.dialect().ci_eq("distributionlistrecipientaddress")
    );
    if db.execute(&sql, &[list_id.into(), address.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!("{address} is not a member")));
    }
    Ok(())
}
