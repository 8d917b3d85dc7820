//! Whole-table access for backup and restore.
//!
//! A backup reads every object of the schema inside one [`Snapshot`], so what it writes is one
//! state of the database even while the server keeps delivering; a restore writes one class of
//! objects inside one [`Loader`] transaction, so it is applied completely or not at all.
//!
//! Tables and columns are named by the caller (the backup format maps hMailServer's XML to
//! them) and checked against the schema description before any statement is built, so no text
//! from an archive ever reaches SQL except as a bound value.

use crate::StoreError;
use crate::db::{Db, Row, Tx, Value, never, parse_time};
use crate::schema::{ColType, Table};

/// A consistent read view of the database (see [`Db::begin_snapshot`]).
pub struct Snapshot {
    tx: Tx,
}

fn table(name: &str) -> Result<&'static Table, StoreError> {
    crate::schema::table(name).ok_or_else(|| StoreError::Decode(format!("no table {name}")))
}

fn column<'a>(t: &'a Table, name: &str) -> Result<&'a crate::schema::Column, StoreError> {
    t.columns
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| StoreError::Decode(format!("no column {name} in {}", t.name)))
}

/// The surrogate key of a table: its first column when that is a serial.
fn primary_key(t: &Table) -> Option<&'static str> {
    t.columns.first().filter(|c| c.ty.is_serial()).map(|c| c.name)
}

impl Snapshot {
    pub async fn begin(db: &Db) -> Result<Snapshot, StoreError> {
        Ok(Snapshot { tx: db.begin_snapshot().await? })
    }

    /// The rows of `table` whose column `filter.0` equals `filter.1` (all rows without a
    /// filter), in the order of the surrogate key.
    pub async fn rows(&mut self, table_name: &str, filter: Option<(&str, i64)>) -> Result<Vec<Row>, StoreError> {
        let t = table(table_name)?;
        let order = primary_key(t).map(|k| format!(" ORDER BY {k}")).unwrap_or_default();
        match filter {
            Some((col, value)) => {
                let col = column(t, col)?.name;
                let sql = format!("SELECT * FROM {} WHERE {col} = ?{order}", t.name);
                self.tx.fetch_all(&sql, &[value.into()]).await
            }
            None => self.tx.fetch_all(&format!("SELECT * FROM {}{order}", t.name), &[]).await,
        }
    }

    /// Up to `limit` rows of `table` matching every `(column, value)` of `filter` whose key is
    /// above `after`, in key order: a large folder is read a page at a time.
    pub async fn page(
        &mut self,
        table_name: &str,
        filter: &[(&str, i64)],
        after: i64,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let t = table(table_name)?;
        let key = primary_key(t).ok_or_else(|| StoreError::Decode(format!("{table_name} has no key")))?;
        let mut sql = format!("SELECT * FROM {} WHERE {key} > ?", t.name);
        let mut args: Vec<Value> = vec![after.into()];
        for (col, value) in filter {
            sql.push_str(&format!(" AND {} = ?", column(t, col)?.name));
            args.push((*value).into());
        }
        sql.push_str(&format!(" ORDER BY {key} LIMIT {}", limit.max(1)));
        self.tx.fetch_all(&sql, &args).await
    }

    /// Ends the read view (nothing was changed through it).
    pub async fn end(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

/// A value for one column of a restored row, converted to the column's type by [`Loader`].
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Text as found in an archive: numbers are read like C's `atoi` (leading digits, else 0),
    /// dates in hMailServer's `yyyy-mm-dd hh:mm:ss` form.
    Text(String),
    Int(i64),
}

/// hMailServer reads numbers from its XML with `_ttoi`: optional sign and leading digits.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut n: i64 = 0;
    for c in digits.chars() {
        match c.to_digit(10) {
            Some(d) => n = n.saturating_mul(10).saturating_add(i64::from(d)),
            None => break,
        }
    }
    sign * n
}

fn convert(ty: ColType, field: &Field) -> Value {
    let is_time = ty == ColType::DateTime;
    let is_text = matches!(ty, ColType::Varchar(_) | ColType::Text);
    match field {
        Field::Int(v) if is_text => Value::Text(v.to_string()),
        Field::Int(_) if is_time => Value::Time(never()),
        Field::Int(v) => Value::Int(*v),
        Field::Text(s) if is_text => Value::Text(s.clone()),
        Field::Text(s) if is_time => Value::Time(parse_time(s).unwrap_or_else(never)),
        Field::Text(s) => Value::Int(atoi(s)),
    }
}

/// The value a column gets when the archive says nothing about it.
fn fallback(c: &crate::schema::Column) -> Value {
    match c.ty {
        ColType::Varchar(_) | ColType::Text if c.nullable => Value::NullText,
        ColType::Varchar(_) | ColType::Text => Value::Text(String::new()),
        ColType::DateTime if c.nullable => Value::NullTime,
        ColType::DateTime => Value::Time(never()),
        _ if c.nullable => Value::Null,
        _ => Value::Int(0),
    }
}

/// One restore transaction: dropped without [`Loader::commit`], nothing it wrote remains.
pub struct Loader {
    tx: Tx,
}

impl Loader {
    pub async fn begin(db: &Db) -> Result<Loader, StoreError> {
        Ok(Loader { tx: db.begin().await? })
    }

    /// Inserts a row into `table`: the given fields converted to their columns' types, every
    /// other column its default (or 0, "" or hMailServer's "never" date). Returns the new key
    /// (0 for a table without one).
    pub async fn insert(&mut self, table_name: &str, fields: &[(&str, Field)]) -> Result<i64, StoreError> {
        let t = table(table_name)?;
        for (name, _) in fields {
            column(t, name)?;
        }
        let key = primary_key(t);
        let mut names = Vec::new();
        let mut args = Vec::new();
        for c in t.columns.iter().filter(|c| Some(c.name) != key) {
            match fields.iter().find(|(n, _)| *n == c.name) {
                Some((_, f)) => args.push(convert(c.ty, f)),
                None if c.default.is_some() => continue,
                None => args.push(fallback(c)),
            }
            names.push(c.name);
        }
        let marks = vec!["?"; names.len()].join(", ");
        let sql = format!("INSERT INTO {} ({}) VALUES ({marks})", t.name, names.join(", "));
        match key {
            Some(k) => self.tx.insert(&sql, &args, k).await,
            None => self.tx.execute(&sql, &args).await.map(|_| 0),
        }
    }

    /// The key of the row of `table` whose text column `column` equals `value`
    /// (case-insensitively, as hMailServer's names compare).
    pub async fn find(&mut self, table_name: &str, col: &str, value: &str) -> Result<Option<i64>, StoreError> {
        let t = table(table_name)?;
        let col = column(t, col)?.name;
        let key = primary_key(t).ok_or_else(|| StoreError::Decode(format!("{table_name} has no key")))?;
        let sql = format!("SELECT {key} AS k FROM {} WHERE LOWER({col}) = LOWER(?)", t.name);
        match self.tx.fetch_optional(&sql, &[value.into()]).await? {
            Some(row) => Ok(Some(row.int("k")?)),
            None => Ok(None),
        }
    }

    /// The keys of the rows of `table` whose integer column `col` equals `value`.
    pub async fn keys(&mut self, table_name: &str, col: &str, value: i64) -> Result<Vec<i64>, StoreError> {
        let t = table(table_name)?;
        let col = column(t, col)?.name;
        let key = primary_key(t).ok_or_else(|| StoreError::Decode(format!("{table_name} has no key")))?;
        let sql = format!("SELECT {key} AS k FROM {} WHERE {col} = ?", t.name);
        self.tx.fetch_all(&sql, &[value.into()]).await?.iter().map(|r| r.int("k")).collect()
    }

    /// Whether `table` has any row.
    pub async fn any(&mut self, table_name: &str, col: &str, value: i64) -> Result<bool, StoreError> {
        Ok(!self.keys(table_name, col, value).await?.is_empty())
    }

    /// Deletes every row of `table` (a whole class of settings objects is replaced).
    pub async fn clear(&mut self, table_name: &str) -> Result<u64, StoreError> {
        let t = table(table_name)?;
        self.tx.execute(&format!("DELETE FROM {}", t.name), &[]).await
    }

    /// Deletes the rows of `table` whose integer column `col` equals `value`.
    pub async fn clear_where(&mut self, table_name: &str, col: &str, value: i64) -> Result<u64, StoreError> {
        let t = table(table_name)?;
        let col = column(t, col)?.name;
        self.tx.execute(&format!("DELETE FROM {} WHERE {col} = ?", t.name), &[value.into()]).await
    }

    /// Sets an existing `hm_settings` row; false when there is no such setting (hMailServer
    /// ignores properties it does not know).
    pub async fn set_setting(&mut self, name: &str, string: &str, integer: i64) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute(
                "UPDATE hm_settings SET settingstring = ?, settinginteger = ? WHERE settingname = ?",
                &[string.into(), integer.into(), name.into()],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_leading_digits_like_c() {
        assert_eq!(atoi("42"), 42);
        assert_eq!(atoi(" -7x"), -7);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi("99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn text_fields_take_their_columns_type() {
        assert_eq!(convert(ColType::Int, &Field::Text("12".into())), Value::Int(12));
        assert_eq!(convert(ColType::Varchar(10), &Field::Text("12".into())), Value::Text("12".into()));
        assert_eq!(convert(ColType::DateTime, &Field::Text("bad".into())), Value::Time(never()));
        assert!(matches!(convert(ColType::DateTime, &Field::Text("2024-01-02 03:04:05".into())), Value::Time(_)));
    }
}
