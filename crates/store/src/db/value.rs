//! Values bound to statements and rows read back, independent of the database engine.
//!
//! hMailServer's schema uses the same logical types on every engine, but each engine reports
//! them differently (MySQL `tinyint`, PostgreSQL `smallint`, SQLite `INTEGER`). Rows are decoded
//! once into [`Value`]s so repository code reads `row.int("accountactive")` everywhere.

use chrono::{NaiveDate, NaiveDateTime};

use crate::StoreError;

/// A value bound to a statement parameter or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL for an integer column.
    Null,
    /// SQL NULL for a text column.
    NullText,
    /// SQL NULL for a date-time column.
    NullTime,
    Int(i64),
    Float(f64),
    Text(String),
    Time(NaiveDateTime),
    /// An array of integers, for `= ANY(?)` on PostgreSQL only (the other engines have no array
    /// type; they are never given one). Never read from a column.
    Ints(Vec<i64>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v.into())
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Self {
        // hMailServer stores whole seconds; keep SQLite's text form comparable.
        Value::Time(v.with_nanosecond_zero())
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}

trait SecondsOnly {
    fn with_nanosecond_zero(self) -> Self;
}
impl SecondsOnly for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// One row, with column names as the database reported them (compared case-insensitively).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub(crate) columns: Vec<(String, Value)>,
}

/// hMailServer's "no date" value.
pub fn never() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1901, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// Parses the text forms SQLite (and legacy imports) use for date-times.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
}

impl Row {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    fn need(&self, name: &str) -> Result<&Value, StoreError> {
        self.get(name).ok_or_else(|| StoreError::Decode(format!("no column {name}")))
    }

    /// An integer column; NULL reads as 0 (hMailServer treats missing numbers as 0).
    pub fn int(&self, name: &str) -> Result<i64, StoreError> {
        Ok(self.opt_int(name)?.unwrap_or(0))
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.need(name)? {
            Value::Int(v) => Ok(Some(*v)),
            Value::Float(f) => Ok(Some(*f as i64)),
            Value::Null | Value::NullText | Value::NullTime => Ok(None),
            Value::Text(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Decode(format!("column {name}: {s:?} is not a number"))),
            Value::Time(_) => Err(StoreError::Decode(format!("column {name} is a date, not a number"))),
            Value::Ints(_) => Err(StoreError::Decode(format!("column {name} is an array, not a number"))),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.int(name)? != 0)
    }

    /// A text column; NULL reads as the empty string.
    pub fn text(&self, name: &str) -> Result<String, StoreError> {
        Ok(self.opt_text(name)?.unwrap_or_default())
    }

    pub fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.need(name)? {
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(v) => Ok(Some(v.to_string())),
            Value::Float(v) => Ok(Some(v.to_string())),
            Value::Time(t) => Ok(Some(t.format("%Y-%m-%d %H:%M:%S").to_string())),
            Value::Null | Value::NullText | Value::NullTime | Value::Ints(_) => Ok(None),
        }
    }

    /// A date-time column; NULL and unreadable values (MySQL zero dates) read as "never".
    pub fn time(&self, name: &str) -> Result<NaiveDateTime, StoreError> {
        Ok(match self.need(name)? {
            Value::Time(t) => *t,
            Value::Text(s) => parse_time(s).unwrap_or_else(never),
            _ => never(),
        })
    }
}
