//! `hm_aliases`: an address that stands for another (local or external) address.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub id: i64,
    pub domain_id: i64,
    /// The alias address.
    pub name: String,
    /// Where mail to it goes (`target` in JSON, as on the command line).
    #[serde(rename = "target")]
    pub value: String,
    pub active: bool,
}

const COLUMNS: &str = "aliasid, aliasdomainid, aliasname, aliasvalue, aliasactive";

impl Alias {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Alias {
            id: r.int("aliasid")?,
            domain_id: r.int("aliasdomainid")?,
            name: r.text("aliasname")?,
            value: r.text("aliasvalue")?,
            active: r.bool("aliasactive")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("aliasdomainid", self.domain_id.into()),
            ("aliasname", self.name.clone().into()),
            ("aliasvalue", self.value.clone().into()),
            ("aliasactive", self.active.into()),
        ]
    }
}

pub async fn list(db: &Db, domain_id: Option<i64>) -> Result<Vec<Alias>, StoreError> {
    let rows = match domain_id {
        Some(d) => {
            db.fetch_all(
                &format!("SELECT {COLUMNS} FROM hm_aliases WHERE aliasdomainid = ? ORDER BY aliasname"),
                &[d.into()],
            )
            .await?
        }
        None => db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_aliases ORDER BY aliasname"), &[]).await?,
    };
    rows.iter().map(Alias::from_row).collect()
}

/// Every alias, the first added first (what the directory index loads).
pub async fn all(db: &Db) -> Result<Vec<Alias>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_aliases ORDER BY aliasid"), &[]).await?;
    rows.iter().map(Alias::from_row).collect()
}

pub async fn find(db: &Db, name: &str) -> Result<Option<Alias>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_aliases WHERE {}", db.dialect().ci_eq("aliasname"));
    let row = db.fetch_optional(&sql, &[name.into()]).await?;
    row.as_ref().map(Alias::from_row).transpose()
}

pub async fn require(db: &Db, name: &str) -> Result<Alias, StoreError> {
    find(db, name).await?.ok_or_else(|| StoreError::NotFound(format!("no alias {name}")))
}

/// Adds an alias; its address must be free and its domain must have room.
pub async fn create(db: &Db, alias: &Alias) -> Result<Alias, StoreError> {
    super::ensure_address_free(db, &alias.name).await?;
    let domain = super::domains::get(db, alias.domain_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no domain with id {}", alias.domain_id)))?;
    if domain.limitations_enabled & 2 != 0
        && super::count_where(db, "hm_aliases", "aliasdomainid", domain.id).await? >= domain.max_aliases
    {
        return Err(StoreError::Conflict(format!(
            "domain {} allows at most {} aliases",
            domain.name, domain.max_aliases
        )));
    }
    let id = super::insert_row(db, "hm_aliases", "aliasid", &alias.values()).await?;
    Ok(Alias { id, ..alias.clone() })
}

pub async fn update(db: &Db, alias: &Alias) -> Result<(), StoreError> {
    super::update_row(db, "hm_aliases", "aliasid", alias.id, &alias.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_aliases WHERE aliasid = ?", &[id.into()]).await?;
    Ok(())
}
