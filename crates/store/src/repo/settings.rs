//! `hm_settings`: the server's settings, one row per name (names are case-significant).
//!
//! A missing row reads as 0 / "" (hMailServer does the same), so databases of older versions
//! that lack a row work unchanged.

use std::collections::HashMap;

use serde::Serialize;

use crate::StoreError;
use crate::db::Db;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub name: String,
    pub string: String,
    pub integer: i64,
}

/// All settings by name.
pub async fn all(db: &Db) -> Result<HashMap<String, Setting>, StoreError> {
    let rows = db.fetch_all("SELECT settingname, settingstring, settinginteger FROM hm_settings", &[]).await?;
    let mut map = HashMap::with_capacity(rows.len());
    for r in rows {
        let s = Setting {
            name: r.text("settingname")?,
            string: r.text("settingstring")?,
            integer: r.int("settinginteger")?,
        };
        map.insert(s.name.clone(), s);
    }
    Ok(map)
}

/// One setting, matched exactly first and then case-insensitively (for people typing names).
pub async fn get(db: &Db, name: &str) -> Result<Option<Setting>, StoreError> {
    let map = all(db).await?;
    Ok(map.get(name).cloned().or_else(|| map.values().find(|s| s.name.eq_ignore_ascii_case(name)).cloned()))
}

/// Sets the integer value, adding the row when missing.
pub async fn set_integer(db: &Db, name: &str, value: i64) -> Result<(), StoreError> {
    let name = stored_name(db, name).await?;
    let n = db
        .execute(
            "UPDATE hm_settings SET settinginteger = ? WHERE settingname = ?",
            &[value.into(), name.as_str().into()],
        )
        .await?;
    if n == 0 {
        insert(db, &name, "", value).await?;
    }
    Ok(())
}

/// Sets the string value, adding the row when missing.
pub async fn set_string(db: &Db, name: &str, value: &str) -> Result<(), StoreError> {
    if value.chars().count() > 4000 {
        return Err(StoreError::Invalid(format!("setting {name}: longer than 4000 characters")));
    }
    let name = stored_name(db, name).await?;
    let n = db
        .execute(
            "UPDATE hm_settings SET settingstring = ? WHERE settingname = ?",
            &[value.into(), name.as_str().into()],
        )
        .await?;
    if n == 0 {
        insert(db, &name, value, 0).await?;
    }
    Ok(())
}

/// The name as stored, so `MaxInvalidLogonAttempts` and `maxinvalidlogonattempts` are one row.
async fn stored_name(db: &Db, name: &str) -> Result<String, StoreError> {
    if name.is_empty() || name.len() > 30 {
        return Err(StoreError::Invalid(format!("setting name {name:?} must be 1-30 characters")));
    }
    Ok(get(db, name).await?.map(|s| s.name).unwrap_or_else(|| name.to_owned()))
}

async fn insert(db: &Db, name: &str, string: &str, integer: i64) -> Result<(), StoreError> {
    super::insert_row(
        db,
        "hm_settings",
        "settingid",
        &[("settingname", name.into()), ("settingstring", string.into()), ("settinginteger", integer.into())],
    )
    .await?;
    Ok(())
}

/// A snapshot of all settings with typed reads. A row missing from an older database reads as
/// hMailServer's default for that name (0 / "" for names it does not know).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    rows: HashMap<String, Setting>,
}

impl Settings {
    pub async fn load(db: &Db) -> Result<Self, StoreError> {
        Ok(Settings { rows: all(db).await? })
    }

    fn row(&self, name: &str) -> Option<&Setting> {
        self.rows.get(name).or_else(|| self.rows.values().find(|s| s.name.eq_ignore_ascii_case(name)))
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.row(name) {
            Some(s) => s.integer,
            None => crate::schema::default_setting(name).map(|(_, i)| i).unwrap_or(0),
        }
    }

    pub fn bool(&self, name: &str) -> bool {
        self.int(name) != 0
    }

    pub fn string(&self, name: &str) -> String {
        match self.row(name) {
            Some(s) => s.string.clone(),
            None => crate::schema::default_setting(name).map(|(s, _)| s).unwrap_or_default(),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Setting> {
        self.rows.values()
    }
}
