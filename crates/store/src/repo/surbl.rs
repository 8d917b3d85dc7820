//! `hm_surblservers`: URI block lists the post-transmission test asks about the domains of the
//! links in a message.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// One URI block list (hMailServer's `SURBLServer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Surbl {
    pub id: i64,
    pub active: bool,
    /// The zone queried, e.g. `multi.surbl.org`.
    pub zone: String,
    pub reject_message: String,
    pub score: i64,
}

const COLUMNS: &str = "surblid, surblactive, surblhost, surblrejectmessage, surblscore";

impl Surbl {
    /// A new (not yet stored) list.
    pub fn new(zone: &str, reject_message: &str, score: i64) -> Surbl {
        Surbl { id: 0, active: true, zone: zone.to_owned(), reject_message: reject_message.to_owned(), score }
    }

    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Surbl {
            id: r.int("surblid")?,
            active: r.bool("surblactive")?,
            zone: r.text("surblhost")?,
            reject_message: r.text("surblrejectmessage")?,
            score: r.int("surblscore")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("surblactive", self.active.into()),
            ("surblhost", self.zone.clone().into()),
            ("surblrejectmessage", self.reject_message.clone().into()),
            ("surblscore", self.score.into()),
        ]
    }
}

fn validate(s: &Surbl) -> Result<(), StoreError> {
    super::dnsbl::validate_zone(&s.zone, "SURBL")?;
    if s.reject_message.len() > 255 {
        return Err(StoreError::Invalid("the reject message is at most 255 characters".into()));
    }
    Ok(())
}

/// All lists, by zone.
pub async fn list(db: &Db) -> Result<Vec<Surbl>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_surblservers ORDER BY surblhost, surblid"), &[]).await?;
    rows.iter().map(Surbl::from_row).collect()
}

/// The active lists (what the test queries).
pub async fn active(db: &Db) -> Result<Vec<Surbl>, StoreError> {
    Ok(list(db).await?.into_iter().filter(|s| s.active).collect())
}

/// The list with zone `zone` (case-insensitive).
pub async fn find(db: &Db, zone: &str) -> Result<Option<Surbl>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_surblservers WHERE {}", db.dialect().ci_eq("surblhost"));
    let row = db.fetch_optional(&sql, &[zone.into()]).await?;
    row.as_ref().map(Surbl::from_row).transpose()
}

pub async fn require(db: &Db, zone: &str) -> Result<Surbl, StoreError> {
    find(db, zone).await?.ok_or_else(|| StoreError::NotFound(format!("no SURBL {zone}")))
}

pub async fn create(db: &Db, s: &Surbl) -> Result<Surbl, StoreError> {
    validate(s)?;
    if find(db, &s.zone).await?.is_some() {
        return Err(StoreError::Conflict(format!("SURBL {} already exists", s.zone)));
    }
    let id = super::insert_row(db, "hm_surblservers", "surblid", &s.values()).await?;
    Ok(Surbl { id, ..s.clone() })
}

pub async fn update(db: &Db, s: &Surbl) -> Result<(), StoreError> {
    validate(s)?;
    super::update_row(db, "hm_surblservers", "surblid", s.id, &s.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_surblservers WHERE surblid = ?", &[id.into()]).await?;
    Ok(())
}
