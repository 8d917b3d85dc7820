//! Copying a whole database to another one, on the same engine or another: every `hm_*` and
//! `altimail_*` table, row for row, keys kept.
//!
//! The source is read inside one snapshot ([`Db::begin_snapshot`]), so the copy is one state of
//! it. The target gets the schema of this version first (created when empty, upgraded when it
//! has one), then each table is emptied and filled in one transaction of its own. Values are
//! converted to the type the target's column has (SQLite keeps date-times as text, PostgreSQL
//! wants timestamps), and after the rows the target's key generators (PostgreSQL sequences,
//! MySQL `AUTO_INCREMENT`) are moved past the highest copied key. At the end every table's rows
//! are counted on both sides.
//!
//! Table and column names come from the databases' own catalogues and are checked to be plain
//! identifiers before they go into a statement.

use crate::StoreError;
use crate::db::{Db, Dialect, Row, Tx, Value, never, parse_time};
use crate::schema::{self, SchemaState};

/// Rows read from the source per statement.
const PAGE: i64 = 1000;
/// Bound values per INSERT statement (well under every engine's limit).
const MAX_PARAMS: usize = 4000;

/// What the copy reports while it works.
pub trait CopyProgress {
    /// A table starts; it has `rows` rows in the source.
    fn table_started(&mut self, table: &str, rows: u64);
    /// `rows` more rows of the current table are written.
    fn rows_copied(&mut self, rows: u64);
    /// The current table is done.
    fn table_done(&mut self, table: &str);
}

/// Rows of one table on both sides after the copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCount {
    pub table: String,
    pub source: i64,
    pub target: i64,
}

/// What was copied.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
}

impl CopyReport {
    /// The tables whose row counts differ.
    pub fn mismatches(&self) -> impl Iterator<Item = &TableCount> {
        self.tables.iter().filter(|t| t.source != t.target)
    }

    pub fn total_rows(&self) -> i64 {
        self.tables.iter().map(|t| t.target).sum()
    }
}

/// Tables whose rows make a database "in use": a target holding any refuses the copy unless
/// forced. (A freshly initialised schema has only default settings, ports and the like.)
const CONTENT_TABLES: &[&str] = &["hm_domains", "hm_accounts", "hm_messages", "hm_aliases"];

/// Why the target would lose data, if it would: the first content table that has rows.
pub async fn target_in_use(target: &Db) -> Result<Option<String>, StoreError> {
    if schema::inspect(target).await? == SchemaState::Empty {
        return Ok(None);
    }
    for table in CONTENT_TABLES {
        if !table_exists(target, table).await? {
            continue;
        }
        let n = count(target, table).await?;
        if n > 0 {
            return Ok(Some(format!("{table} has {n} rows")));
        }
    }
    Ok(None)
}

/// Copies everything from `source` to `target`. The target must not be in use (see
/// [`target_in_use`]) unless `force`, in which case its rows are replaced.
pub async fn copy(
    source: &Db,
    target: &Db,
    force: bool,
    progress: &mut dyn CopyProgress,
) -> Result<CopyReport, StoreError> {
    match schema::inspect(source).await? {
        SchemaState::Empty => {
            return Err(StoreError::Schema("the source database has no hMailServer schema: nothing to copy".into()));
        }
        SchemaState::Existing { altimail_version, .. } if altimail_version != Some(schema::ALTIMAIL_SCHEMA_VERSION) => {
            // The same additive upgrade every command does on opening the database.
            schema::upgrade(source).await?;
        }
        SchemaState::Existing { .. } => {}
    }
    if !force && let Some(why) = target_in_use(target).await? {
        return Err(StoreError::Conflict(format!(
            "the target database is not empty ({why}); use --force to replace its contents"
        )));
    }
    match schema::inspect(target).await? {
        SchemaState::Empty => schema::create(target).await?,
        SchemaState::Existing { .. } => {
            schema::upgrade(target).await?;
        }
    }

    let source_tables = tables(source).await?;
    let target_tables = tables(target).await?;
    if let Some(missing) = source_tables.iter().find(|t| !target_tables.contains(t)) {
        return Err(StoreError::Schema(format!(
            "the target has no table {missing}: it was made by another version of Altimail"
        )));
    }

    let mut snapshot = source.begin_snapshot().await?;
    let mut report = CopyReport::default();
    for name in &target_tables {
        let target_columns = columns(target, name).await?;
        let in_source = source_tables.contains(name);
        let source_columns = if in_source { columns(source, name).await? } else { Vec::new() };
        if let Some(c) = source_columns.iter().find(|c| !target_columns.iter().any(|t| t.name == c.name)) {
            return Err(StoreError::Schema(format!("the target's {name} has no column {}", c.name)));
        }
        // Columns the source lacks (an older hMailServer version) get the target's defaults.
        let shared: Vec<&Column> =
            target_columns.iter().filter(|t| source_columns.iter().any(|s| s.name == t.name)).collect();
        let total = if in_source { count_in(&mut snapshot, name).await? } else { 0 };
        progress.table_started(name, total.max(0) as u64);
        let mut tx = target.begin().await?;
        tx.execute(&format!("DELETE FROM {name}"), &[]).await?;
        if in_source {
            copy_rows(&mut snapshot, &mut tx, name, &shared, progress).await?;
        }
        tx.commit().await?;
        reset_key_generator(target, name, &target_columns).await?;
        progress.table_done(name);
        report.tables.push(TableCount { table: name.clone(), source: total, target: count(target, name).await? });
    }
    snapshot.commit().await?;
    Ok(report)
}

/// One column of a table as the database's catalogue describes it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    required: bool,
    generated_key: bool,
}

/// What a value must be converted to for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Text,
    Time,
}

impl Kind {
    fn of(declared: &str) -> Kind {
        let t = declared.to_ascii_lowercase();
        if t.contains("int") {
            Kind::Int
        } else if t.contains("char") || t.contains("text") || t.contains("clob") {
            Kind::Text
        } else if t.contains("time") || t.contains("date") {
            Kind::Time
        } else if t.contains("real") || t.contains("doub") || t.contains("floa") {
            Kind::Float
        } else if t.contains("numeric") || t.contains("decimal") {
            Kind::Int
        } else {
            Kind::Text
        }
    }
}

/// A plain lowercase identifier, safe to put into a statement.
fn checked(name: &str) -> Result<String, StoreError> {
    let name = name.to_ascii_lowercase();
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain { Ok(name) } else { Err(StoreError::Schema(format!("unexpected table or column name {name:?}"))) }
}

fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

/// The `hm_*` and `altimail_*` tables of a database, sorted.
async fn tables(db: &Db) -> Result<Vec<String>, StoreError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name AS name FROM sqlite_master WHERE type = 'table'",
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        Dialect::MySql => {
            "SELECT TABLE_NAME AS name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
    };
    let mut names = Vec::new();
    for row in db.fetch_all(sql, &[]).await? {
        let name = row.text("name")?.to_ascii_lowercase();
        if name.starts_with("hm_") || name.starts_with("altimail_") {
            names.push(checked(&name)?);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The columns of a table, in their order, from the database's catalogue.
async fn columns(db: &Db, table: &str) -> Result<Vec<Column>, StoreError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT name AS name, type AS type, \"notnull\" AS required, \
             CASE WHEN pk = 1 AND UPPER(type) = 'INTEGER' THEN 1 ELSE 0 END AS generated \
             FROM pragma_table_info(?) ORDER BY cid"
        }
        Dialect::Postgres => {
            "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS type, \
             CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS required, \
             CASE WHEN column_default LIKE 'nextval%' OR is_identity = 'YES' THEN 1 ELSE 0 END AS generated \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
        }
        Dialect::MySql => {
            "SELECT COLUMN_NAME AS name, DATA_TYPE AS type, \
             CASE WHEN IS_NULLABLE = 'NO' THEN 1 ELSE 0 END AS required, \
             CASE WHEN EXTRA LIKE '%auto_increment%' THEN 1 ELSE 0 END AS generated \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ORDINAL_POSITION"
        }
    };
    let mut out = Vec::new();
    for row in db.fetch_all(sql, &[table.into()]).await? {
        out.push(Column {
            name: checked(&row.text("name")?)?,
            kind: Kind::of(&row.text("type")?),
            required: row.bool("required")?,
            generated_key: row.bool("generated")?,
        });
    }
    if out.is_empty() {
        return Err(StoreError::Schema(format!("no columns found for {table}")));
    }
    Ok(out)
}

async fn table_exists(db: &Db, name: &str) -> Result<bool, StoreError> {
    let row = db.fetch_optional(db.dialect().table_exists_sql(), &[name.into()]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) > 0)
}

async fn count(db: &Db, table: &str) -> Result<i64, StoreError> {
    let row = db.fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table}"), &[]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}

async fn count_in(tx: &mut Tx, table: &str) -> Result<i64, StoreError> {
    let row = tx.fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table}"), &[]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}

/// Reads the table from the snapshot a page at a time (by key where it has a surrogate key,
/// else in the order of all its columns) and inserts each page into the target.
async fn copy_rows(
    snapshot: &mut Tx,
    target: &mut Tx,
    table: &str,
    shared: &[&Column],
    progress: &mut dyn CopyProgress,
) -> Result<(), StoreError> {
    if shared.is_empty() {
        return Ok(());
    }
    let sd = snapshot.dialect();
    let select_list: Vec<String> = shared.iter().map(|c| quote(sd, &c.name)).collect();
    let key = schema::table(table)
        .and_then(|t| t.primary_key())
        .filter(|k| shared.iter().any(|c| c.name == *k))
        .map(|k| quote(sd, k));
    let mut after = i64::MIN;
    let mut offset = 0i64;
    loop {
        let rows = match &key {
            Some(k) => {
                let sql =
                    format!("SELECT {} FROM {table} WHERE {k} > ? ORDER BY {k} LIMIT {PAGE}", select_list.join(", "));
                snapshot.fetch_all(&sql, &[after.into()]).await?
            }
            None => {
                let order: Vec<String> = shared.iter().map(|c| order_term(sd, c)).collect();
                let sql = format!(
                    "SELECT {} FROM {table} ORDER BY {} LIMIT {PAGE} OFFSET {offset}",
                    select_list.join(", "),
                    order.join(", ")
                );
                snapshot.fetch_all(&sql, &[]).await?
            }
        };
        if rows.is_empty() {
            return Ok(());
        }
        if let Some(k) = &key {
            let name = k.trim_matches(['"', '`']);
            after = rows.last().map(|r| r.int(name)).transpose()?.unwrap_or(after);
        }
        offset += rows.len() as i64;
        insert_rows(target, table, shared, &rows).await?;
        progress.rows_copied(rows.len() as u64);
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// A column of a keyless table's ORDER BY. Text compares byte for byte: under a case-blind
/// collation `Foo` and `foo` tie, and rows that tie may come back in another order on the next
/// page, one read twice and the other never.
fn order_term(dialect: Dialect, c: &Column) -> String {
    let name = quote(dialect, &c.name);
    match (c.kind, dialect) {
        (Kind::Text, Dialect::Sqlite) => format!("{name} COLLATE BINARY"),
        (Kind::Text, Dialect::Postgres) => format!("{name} COLLATE \"C\""),
        (Kind::Text, Dialect::MySql) => format!("CAST({name} AS BINARY)"),
        _ => name,
    }
}

async fn insert_rows(tx: &mut Tx, table: &str, columns: &[&Column], rows: &[Row]) -> Result<(), StoreError> {
    let dialect = tx.dialect();
    let names: Vec<String> = columns.iter().map(|c| quote(dialect, &c.name)).collect();
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    let per_statement = (MAX_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut args = Vec::with_capacity(chunk.len() * columns.len());
        for row in chunk {
            for c in columns {
                args.push(convert(c, row.get(&c.name).cloned().unwrap_or(Value::Null)));
            }
        }
        let sql =
            format!("INSERT INTO {table} ({}) VALUES {}", names.join(", "), vec![one.as_str(); chunk.len()].join(", "));
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// A source value as the target column's type wants it.
fn convert(column: &Column, value: Value) -> Value {
    let is_null = matches!(value, Value::Null | Value::NullText | Value::NullTime);
    match column.kind {
        Kind::Int => match value {
            Value::Int(v) => Value::Int(v),
            Value::Float(f) => Value::Int(f as i64),
            Value::Text(s) => s.trim().parse().map(Value::Int).unwrap_or(Value::Int(0)),
            Value::Time(t) => Value::Int(t.and_utc().timestamp()),
            _ if column.required => Value::Int(0),
            _ => Value::Null,
        },
        Kind::Float => match value {
            Value::Float(f) => Value::Float(f),
            Value::Int(v) => Value::Float(v as f64),
            Value::Text(s) => Value::Float(s.trim().parse().unwrap_or(0.0)),
            _ if column.required => Value::Float(0.0),
            _ => Value::Null,
        },
        Kind::Text => match value {
            Value::Text(s) => Value::Text(s),
            Value::Int(v) => Value::Text(v.to_string()),
            Value::Float(f) => Value::Text(f.to_string()),
            Value::Time(t) => Value::Text(t.format("%Y-%m-%d %H:%M:%S").to_string()),
            _ if column.required => Value::Text(String::new()),
            _ => Value::NullText,
        },
        Kind::Time => match value {
            Value::Time(t) => Value::Time(t),
            Value::Text(s) => match parse_time(&s) {
                Some(t) => Value::Time(t),
                None if column.required => Value::Time(never()),
                None => Value::NullTime,
            },
            // MySQL's zero dates read as NULL; hMailServer treats them as "never".
            _ if is_null && !column.required => Value::NullTime,
            _ => Value::Time(never()),
        },
    }
}

/// Moves the target's generator of new keys past the highest copied key.
async fn reset_key_generator(target: &Db, table: &str, columns: &[Column]) -> Result<(), StoreError> {
    let Some(key) = columns.iter().find(|c| c.generated_key) else { return Ok(()) };
    let k = &key.name;
    match target.dialect() {
        // AUTOINCREMENT keys continue after the highest key ever inserted, copied ones included.
        Dialect::Sqlite => {}
        Dialect::Postgres => {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{k}'), \
                 COALESCE((SELECT MAX(\"{k}\") FROM {table}), 0) + 1, false)"
            );
            target.fetch_all(&sql, &[]).await?;
        }
        Dialect::MySql => {
            let row = target.fetch_optional(&format!("SELECT COALESCE(MAX(`{k}`), 0) AS m FROM {table}"), &[]).await?;
            let next = row.map(|r| r.int("m")).transpose()?.unwrap_or(0) + 1;
            target.execute(&format!("ALTER TABLE {table} AUTO_INCREMENT = {next}"), &[]).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_declared_types_on_every_engine() {
        for (declared, kind) in [
            ("INTEGER", Kind::Int),
            ("bigint", Kind::Int),
            ("tinyint", Kind::Int),
            ("smallint", Kind::Int),
            ("VARCHAR(255)", Kind::Text),
            ("character varying", Kind::Text),
            ("text", Kind::Text),
            ("mediumtext", Kind::Text),
            ("DATETIME", Kind::Time),
            ("timestamp without time zone", Kind::Time),
            ("double precision", Kind::Float),
        ] {
            assert_eq!(Kind::of(declared), kind, "{declared}");
        }
    }

    #[test]
    fn only_plain_names_reach_statements() {
        assert_eq!(checked("HM_Accounts").unwrap(), "hm_accounts");
        assert!(checked("hm_x; DROP TABLE y").is_err());
        assert!(checked("").is_err());
    }

    #[test]
    fn a_table_whose_counts_differ_is_a_mismatch() {
        let count = |table: &str, source, target| TableCount { table: table.into(), source, target };
        let report = CopyReport { tables: vec![count("hm_accounts", 2, 2), count("hm_messages", 5, 4)] };
        let bad: Vec<&str> = report.mismatches().map(|t| t.table.as_str()).collect();
        assert_eq!(bad, ["hm_messages"]);
        assert_eq!(report.total_rows(), 6);
    }

    #[test]
    fn values_take_the_target_columns_type() {
        let col = |kind, required| Column { name: "c".into(), kind, required, generated_key: false };
        let t = parse_time("2024-05-06 07:08:09").unwrap();
        assert_eq!(convert(&col(Kind::Time, true), Value::Text("2024-05-06 07:08:09".into())), Value::Time(t));
        assert_eq!(convert(&col(Kind::Time, true), Value::NullTime), Value::Time(never()));
        assert_eq!(convert(&col(Kind::Time, false), Value::Null), Value::NullTime);
        assert_eq!(convert(&col(Kind::Text, false), Value::Null), Value::NullText);
        assert_eq!(convert(&col(Kind::Text, true), Value::Int(5)), Value::Text("5".into()));
        assert_eq!(convert(&col(Kind::Int, true), Value::Text("42".into())), Value::Int(42));
    }
}
