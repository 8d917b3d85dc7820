//! Binding [`Value`]s and decoding rows for each engine. The three modules share their shape;
//! only value decoding differs, because each engine names and sizes its types differently.

use super::value::{Row, Value};
use crate::StoreError;

/// Generates `execute`, `fetch_all` and `insert` for one engine from its bind and decode rules.
macro_rules! engine_fns {
    ($db:ty, $args:ty) => {
        use sqlx::{AssertSqlSafe, Executor, Row as _};

        fn build<'q>(sql: &'q str, args: &'q [Value]) -> sqlx::query::Query<'q, $db, $args> {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in args {
                q = match a {
                    Value::Null => q.bind(None::<i64>),
                    Value::NullText => q.bind(None::<String>),
                    Value::NullTime => q.bind(None::<chrono::NaiveDateTime>),
                    Value::Int(v) => q.bind(*v),
                    Value::Float(v) => q.bind(*v),
                    Value::Text(v) => q.bind(v.as_str()),
                    Value::Time(v) => q.bind(*v),
                    Value::Ints(v) => bind_ints(q, v),
                };
            }
            q
        }

        pub(crate) async fn execute<'e, E: Executor<'e, Database = $db>>(
            e: E,
            sql: &str,
            args: &[Value],
        ) -> Result<u64, StoreError> {
            Ok(e.execute(build(sql, args)).await?.rows_affected())
        }

        pub(crate) async fn fetch_all<'e, E: Executor<'e, Database = $db>>(
            e: E,
            sql: &str,
            args: &[Value],
        ) -> Result<Vec<Row>, StoreError> {
            let rows = e.fetch_all(build(sql, args)).await?;
            rows.iter().map(decode_row).collect()
        }

        fn decode_row(row: &<$db as sqlx::Database>::Row) -> Result<Row, StoreError> {
            use sqlx::Column as _;
            let mut columns = Vec::with_capacity(row.columns().len());
            for (i, c) in row.columns().iter().enumerate() {
                columns.push((c.name().to_owned(), decode(row, i)?));
            }
            Ok(Row { columns })
        }
    };
}

pub(crate) mod sqlite {
    use super::*;
    use sqlx::{Sqlite, TypeInfo, ValueRef, sqlite::SqliteArguments};

    engine_fns!(Sqlite, SqliteArguments);

    /// No array type: never given one (see [`Value::Ints`]); binds NULL.
    fn bind_ints<'q>(
        q: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
        _: &'q [i64],
    ) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
        q.bind(None::<i64>)
    }

    fn decode(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Value, StoreError> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        Ok(match ty.as_str() {
            "INTEGER" | "INT" | "BIGINT" | "BOOLEAN" => Value::Int(row.try_get(i)?),
            "REAL" | "FLOAT" | "DOUBLE" | "NUMERIC" => Value::Float(row.try_get(i)?),
            "BLOB" => Value::Text(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(i)?).into_owned()),
            _ => Value::Text(row.try_get(i)?),
        })
    }

    pub(crate) async fn insert<'e, E: Executor<'e, Database = Sqlite>>(
        e: E,
        sql: &str,
        args: &[Value],
        _pk: &str,
    ) -> Result<i64, StoreError> {
        Ok(e.execute(build(sql, args)).await?.last_insert_rowid())
    }
}

pub(crate) mod postgres {
    use super::*;
    use sqlx::{Postgres, TypeInfo, ValueRef, postgres::PgArguments};

    engine_fns!(Postgres, PgArguments);

    /// `bigint[]`, for `= ANY(?)`.
    fn bind_ints<'q>(
        q: sqlx::query::Query<'q, Postgres, PgArguments>,
        v: &'q [i64],
    ) -> sqlx::query::Query<'q, Postgres, PgArguments> {
        q.bind(v)
    }

    fn decode(row: &sqlx::postgres::PgRow, i: usize) -> Result<Value, StoreError> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        Ok(match ty.as_str() {
            "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
            "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
            "INT8" => Value::Int(row.try_get(i)?),
            "OID" => Value::Int(row.try_get::<sqlx::postgres::types::Oid, _>(i)?.0.into()),
            "BOOL" => Value::Int(row.try_get::<bool, _>(i)?.into()),
            "FLOAT4" => Value::Float(row.try_get::<f32, _>(i)?.into()),
            "FLOAT8" => Value::Float(row.try_get(i)?),
            "TIMESTAMP" => Value::Time(row.try_get(i)?),
            "TIMESTAMPTZ" => Value::Time(row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)?.naive_utc()),
            "DATE" => Value::Time(row.try_get::<chrono::NaiveDate, _>(i)?.and_time(chrono::NaiveTime::MIN)),
            "BYTEA" => Value::Text(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(i)?).into_owned()),
            _ => Value::Text(row.try_get(i)?),
        })
    }

    pub(crate) async fn insert<'e, E: Executor<'e, Database = Postgres>>(
        e: E,
        sql: &str,
        args: &[Value],
        pk: &str,
    ) -> Result<i64, StoreError> {
        let sql = format!("{sql} RETURNING {pk}");
        let row = e.fetch_one(build(&sql, args)).await?;
        let raw = row.try_get_raw(0)?;
        Ok(match raw.type_info().name() {
            "INT4" => row.try_get::<i32, _>(0)?.into(),
            _ => row.try_get::<i64, _>(0)?,
        })
    }
}

pub(crate) mod mysql {
    use super::*;
    use sqlx::{MySql, TypeInfo, ValueRef, mysql::MySqlArguments};

    engine_fns!(MySql, MySqlArguments);

    /// No array type: never given one (see [`Value::Ints`]); binds NULL.
    fn bind_ints<'q>(
        q: sqlx::query::Query<'q, MySql, MySqlArguments>,
        _: &'q [i64],
    ) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
        q.bind(None::<i64>)
    }

    fn decode(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Value, StoreError> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        Ok(if ty.contains("INT") {
            if ty.contains("UNSIGNED") {
                Value::Int(i64::try_from(row.try_get::<u64, _>(i)?).unwrap_or(i64::MAX))
            } else {
                Value::Int(row.try_get(i)?)
            }
        } else if ty == "BOOLEAN" {
            Value::Int(row.try_get::<bool, _>(i)?.into())
        } else if ty == "DATETIME" || ty == "TIMESTAMP" {
            // MySQL "zero dates" do not decode; hMailServer treats them as empty.
            row.try_get(i).map(Value::Time).unwrap_or(Value::NullTime)
        } else if ty == "DATE" {
            row.try_get::<chrono::NaiveDate, _>(i)
                .map(|d| Value::Time(d.and_time(chrono::NaiveTime::MIN)))
                .unwrap_or(Value::NullTime)
        } else if ty == "FLOAT" || ty == "DOUBLE" {
            Value::Float(row.try_get(i)?)
        } else if ty == "DECIMAL" || ty == "NEWDECIMAL" {
            // SUM() and AVG() return DECIMAL; it arrives as text.
            let s: String = row.try_get(i).unwrap_or_default();
            s.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::Float(s.parse().unwrap_or(0.0)))
        } else if let Ok(s) = row.try_get::<String, _>(i) {
            Value::Text(s)
        } else {
            Value::Text(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(i)?).into_owned())
        })
    }

    pub(crate) async fn insert<'e, E: Executor<'e, Database = MySql>>(
        e: E,
        sql: &str,
        args: &[Value],
        _pk: &str,
    ) -> Result<i64, StoreError> {
        let id = e.execute(build(sql, args)).await?.last_insert_id();
        Ok(i64::try_from(id).unwrap_or(i64::MAX))
    }
}
