//! `hm_domain_aliases`: other names of a domain (`user@alias` is `user@domain`).

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainAlias {
    pub id: i64,
    pub domain_id: i64,
    pub alias: String,
}

impl DomainAlias {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(DomainAlias { id: r.int("daid")?, domain_id: r.int("dadomainid")?, alias: r.text("daalias")? })
    }
}

pub async fn list(db: &Db, domain_id: i64) -> Result<Vec<DomainAlias>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT daid, dadomainid, daalias FROM hm_domain_aliases WHERE dadomainid = ? ORDER BY daalias",
            &[domain_id.into()],
        )
        .await?;
    rows.iter().map(DomainAlias::from_row).collect()
}

/// Every domain alias, the first added first.
pub async fn all(db: &Db) -> Result<Vec<DomainAlias>, StoreError> {
    let rows = db.fetch_all("SELECT daid, dadomainid, daalias FROM hm_domain_aliases ORDER BY daid", &[]).await?;
    rows.iter().map(DomainAlias::from_row).collect()
}

/// The domain alias named `alias` (without case); of several, the first added, as hMailServer
/// scans them.
pub async fn find(db: &Db, alias: &str) -> Result<Option<DomainAlias>, StoreError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT daid, dadomainid, daalias FROM hm_domain_aliases WHERE {} ORDER BY daid{}",
        d.ci_eq("daalias"),
        d.limit(1)
    );
    let row = db.fetch_optional(&sql, &[alias.into()]).await?;
    row.as_ref().map(DomainAlias::from_row).transpose()
}

/// Adds a domain alias; refuses a name used by a domain or another domain alias.
pub async fn create(db: &Db, domain_id: i64, alias: &str) -> Result<DomainAlias, StoreError> {
    altimail_core::address::validate_domain(alias).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if super::domains::find(db, alias).await?.is_some() || find(db, alias).await?.is_some() {
        return Err(StoreError::Conflict(format!("{alias} is already a domain or domain alias")));
    }
    let id = super::insert_row(
        db,
        "hm_domain_aliases",
        "daid",
        &[("dadomainid", domain_id.into()), ("daalias", alias.into())],
    )
    .await?;
    Ok(DomainAlias { id, domain_id, alias: alias.to_owned() })
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_domain_aliases WHERE daid = ?", &[id.into()]).await?;
    Ok(())
}
