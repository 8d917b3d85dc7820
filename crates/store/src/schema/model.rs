//! A dialect-neutral description of tables, rendered to DDL for each database.
//!
//! The hMailServer tables are described once (see `tables.rs`) and rendered here to the exact
//! column types hMailServer's own create scripts use on MySQL and PostgreSQL, so a database made
//! by `altimail init` and one made by hMailServer look the same to both programs. SQLite, which
//! hMailServer never supported, gets the nearest equivalent with case-insensitive text columns
//! (MySQL compares with a case-insensitive collation; hMailServer relies on it).

use crate::db::Dialect;

/// The type of a column, named after hMailServer's MySQL script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Surrogate key: `int auto_increment` on MySQL, `bigserial` on PostgreSQL.
    Serial,
    /// Surrogate key: `bigint auto_increment` on MySQL, `bigserial` on PostgreSQL.
    BigSerial,
    /// Surrogate key: `mediumint(9) auto_increment` on MySQL, `bigserial` on PostgreSQL.
    MediumSerial,
    TinyInt,
    TinyIntUnsigned,
    SmallInt,
    Int,
    IntUnsigned,
    BigInt,
    Varchar(u32),
    Text,
    DateTime,
}

impl ColType {
    pub fn is_serial(self) -> bool {
        matches!(self, ColType::Serial | ColType::BigSerial | ColType::MediumSerial)
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    /// SQL literal used as `DEFAULT`, e.g. `"0"` or `"'To,CC'"`.
    pub default: Option<&'static str>,
    /// A `unique(...)` constraint on this column alone (besides the primary key).
    pub unique: bool,
}

/// A secondary index.
#[derive(Debug, Clone, Copy)]
pub struct Index {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub unique: bool,
}

/// A table: its columns in order and its secondary indexes.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub indexes: &'static [Index],
}

/// Shorthand constructors so table descriptions read like the SQL they stand for.
pub const fn col(name: &'static str, ty: ColType) -> Column {
    Column { name, ty, nullable: false, default: None, unique: false }
}

impl Column {
    pub const fn null(mut self) -> Self {
        self.nullable = true;
        self
    }
    pub const fn default(mut self, literal: &'static str) -> Self {
        self.default = Some(literal);
        self
    }
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
}

pub const fn idx(name: &'static str, columns: &'static [&'static str]) -> Index {
    Index { name, columns, unique: false }
}

pub const fn unique_idx(name: &'static str, columns: &'static [&'static str]) -> Index {
    Index { name, columns, unique: true }
}

impl Table {
    /// The primary-key column, if the table has a surrogate key.
    pub fn primary_key(&self) -> Option<&'static str> {
        self.columns.iter().find(|c| c.ty.is_serial()).map(|c| c.name)
    }

    /// `CREATE TABLE` plus `CREATE INDEX` statements for `dialect`.
    pub fn ddl(&self, dialect: Dialect) -> Vec<String> {
        let mut defs: Vec<String> = self.columns.iter().map(|c| column_def(c, dialect)).collect();
        for c in self.columns {
            let needs_unique = c.unique || (c.ty.is_serial() && dialect == Dialect::MySql);
            if needs_unique {
                defs.push(format!("UNIQUE ({})", quote(c.name, dialect)));
            }
        }
        let suffix = match dialect {
            Dialect::MySql => " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
            _ => "",
        };
        let mut out = vec![format!("CREATE TABLE {} (\n  {}\n){suffix}", self.name, defs.join(",\n  "))];
        for index in self.indexes {
            out.push(index_ddl(self.name, index, dialect));
        }
        out
    }

    /// `ALTER TABLE ... ADD` for one column (additive upgrades).
    pub fn add_column_ddl(&self, column: &str, dialect: Dialect) -> Option<String> {
        let c = self.columns.iter().find(|c| c.name == column)?;
        Some(format!("ALTER TABLE {} ADD {}", self.name, column_def(c, dialect)))
    }
}

fn quote(name: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

fn index_ddl(table: &str, index: &Index, dialect: Dialect) -> String {
    let cols: Vec<String> = index.columns.iter().map(|c| quote(c, dialect)).collect();
    let unique = if index.unique { "UNIQUE " } else { "" };
    format!("CREATE {unique}INDEX {} ON {table} ({})", index.name, cols.join(", "))
}

fn column_def(c: &Column, dialect: Dialect) -> String {
    let name = quote(c.name, dialect);
    if c.ty.is_serial() {
        return match dialect {
            Dialect::MySql => {
                let ty = match c.ty {
                    ColType::BigSerial => "bigint",
                    ColType::MediumSerial => "mediumint(9)",
                    _ => "int",
                };
                format!("{name} {ty} NOT NULL AUTO_INCREMENT PRIMARY KEY")
            }
            Dialect::Postgres => format!("{name} bigserial NOT NULL PRIMARY KEY"),
            Dialect::Sqlite => format!("{name} INTEGER PRIMARY KEY AUTOINCREMENT"),
        };
    }
    let ty = sql_type(c.ty, dialect);
    let null = if c.nullable { "NULL" } else { "NOT NULL" };
    let default = c.default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
    format!("{name} {ty} {null}{default}")
}

fn sql_type(ty: ColType, dialect: Dialect) -> String {
    use ColType::*;
    match dialect {
        Dialect::MySql => match ty {
            TinyInt => "tinyint".into(),
            TinyIntUnsigned => "tinyint unsigned".into(),
            SmallInt => "smallint".into(),
            Int => "int".into(),
            IntUnsigned => "int unsigned".into(),
            BigInt => "bigint".into(),
            Varchar(n) => format!("varchar({n})"),
            Text => "text".into(),
            DateTime => "datetime".into(),
            Serial | BigSerial | MediumSerial => unreachable!("serial columns are rendered by column_def"),
        },
        Dialect::Postgres => match ty {
            TinyInt | TinyIntUnsigned | SmallInt => "smallint".into(),
            Int | IntUnsigned => "integer".into(),
            BigInt => "bigint".into(),
            Varchar(n) => format!("varchar({n})"),
            Text => "text".into(),
            DateTime => "timestamp".into(),
            Serial | BigSerial | MediumSerial => unreachable!("serial columns are rendered by column_def"),
        },
        Dialect::Sqlite => match ty {
            TinyInt | TinyIntUnsigned | SmallInt | Int | IntUnsigned | BigInt => "INTEGER".into(),
            Varchar(n) => format!("VARCHAR({n}) COLLATE NOCASE"),
            Text => "TEXT COLLATE NOCASE".into(),
            DateTime => "DATETIME".into(),
            Serial | BigSerial | MediumSerial => unreachable!("serial columns are rendered by column_def"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = Table {
        name: "hm_demo",
        columns: &[
            col("demoid", ColType::Serial),
            col("demoname", ColType::Varchar(80)).unique(),
            col("demoip2", ColType::BigInt).null(),
            col("demoheaders", ColType::Varchar(255)).default("'To,CC'"),
        ],
        indexes: &[idx("idx_demo", &["demoname"])],
    };

    #[test]
    fn renders_each_dialect() {
        let my = T.ddl(Dialect::MySql).join(";\n");
        assert!(my.contains("`demoid` int NOT NULL AUTO_INCREMENT PRIMARY KEY"), "{my}");
        assert!(my.contains("UNIQUE (`demoid`)"));
        assert!(my.contains("`demoheaders` varchar(255) NOT NULL DEFAULT 'To,CC'"));
        let pg = T.ddl(Dialect::Postgres).join(";\n");
        assert!(pg.contains("\"demoid\" bigserial NOT NULL PRIMARY KEY"), "{pg}");
        assert!(pg.contains("\"demoip2\" bigint NULL"));
        let lite = T.ddl(Dialect::Sqlite).join(";\n");
        assert!(lite.contains("VARCHAR(80) COLLATE NOCASE"), "{lite}");
        assert_eq!(T.primary_key(), Some("demoid"));
    }
}
