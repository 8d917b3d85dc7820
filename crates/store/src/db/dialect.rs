//! Everything that differs between SQLite, PostgreSQL and MySQL lives here.

/// The SQL dialect of a database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
            Dialect::MySql => "mysql",
        }
    }

    /// Rewrites `?` placeholders to `$1, $2, …` for PostgreSQL. `?` inside quoted literals is
    /// left alone; statements in this crate never contain one there, but stay safe anyway.
    pub fn placeholders(self, sql: &str) -> String {
        if self != Dialect::Postgres {
            return sql.to_owned();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        let mut quote: Option<char> = None;
        for c in sql.chars() {
            match (quote, c) {
                (None, '\'' | '"') => {
                    quote = Some(c);
                    out.push(c);
                }
                (Some(q), _) if c == q => {
                    quote = None;
                    out.push(c);
                }
                (None, '?') => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => out.push(c),
            }
        }
        out
    }

    /// A case-insensitive equality test of `column` against the next placeholder.
    ///
    /// MySQL columns use a case-insensitive collation and SQLite columns are declared
    /// `COLLATE NOCASE`, so a plain `=` uses their indexes; PostgreSQL needs `lower()` on both
    /// sides, as hMailServer itself generates.
    pub fn ci_eq(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!("lower({column}) = lower(?)"),
            _ => format!("{column} = ?"),
        }
    }

    /// A statement returning one row with a column `n`: how many tables named `?` exist.
    pub fn table_exists_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = ?"
            }
            Dialect::MySql => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = ?"
            }
        }
    }

    /// A statement returning one row with a column `n`: whether table `?` has column `?`.
    pub fn column_exists_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT COUNT(*) AS n FROM pragma_table_info(?) WHERE name = ?",
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?"
            }
            Dialect::MySql => {
                "SELECT COUNT(*) AS n FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
            }
        }
    }

    /// A statement returning one row with a column `n`: whether table `?` has an index named `?`.
    pub fn index_exists_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename = ? AND indexname = ?"
            }
            Dialect::MySql => {
                "SELECT COUNT(*) AS n FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?"
            }
        }
    }

    /// `SUM(expr)` as a 64-bit integer, 0 when there are no rows (PostgreSQL sums BIGINT to
    /// NUMERIC and MySQL to DECIMAL, which the row decoder does not read).
    pub fn sum_int(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"),
            Dialect::MySql => format!("CAST(COALESCE(SUM({expr}), 0) AS SIGNED)"),
            Dialect::Sqlite => format!("COALESCE(SUM({expr}), 0)"),
        }
    }

    /// An INSERT of `rows` rows into `table` that, where a row with the same `keys` exists,
    /// adds the inserted `sums` to it instead (one statement for a whole batch).
    pub fn insert_or_add(self, table: &str, keys: &[&str], sums: &[&str], rows: usize) -> String {
        let columns: Vec<&str> = keys.iter().chain(sums).copied().collect();
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let values = vec![row.as_str(); rows].join(", ");
        let head = format!("INSERT INTO {table} ({}) VALUES {values}", columns.join(", "));
        match self {
            Dialect::MySql => {
                let sets: Vec<String> = sums.iter().map(|c| format!("{c} = {c} + VALUES({c})")).collect();
                format!("{head} ON DUPLICATE KEY UPDATE {}", sets.join(", "))
            }
            Dialect::Sqlite | Dialect::Postgres => {
                let sets: Vec<String> = sums.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect();
                format!("{head} ON CONFLICT ({}) DO UPDATE SET {}", keys.join(", "), sets.join(", "))
            }
        }
    }

    /// `LIMIT n` clause appended to a SELECT (all three engines agree; kept here for MSSQL later).
    pub fn limit(self, n: u32) -> String {
        format!(" LIMIT {n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_placeholders_for_postgres_only() {
        let sql = "SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?";
        assert_eq!(Dialect::Postgres.placeholders(sql), "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2");
        assert_eq!(Dialect::MySql.placeholders(sql), sql);
        assert_eq!(Dialect::Sqlite.placeholders(sql), sql);
    }

    #[test]
    fn insert_or_add_adds_on_every_engine() {
        assert_eq!(
            Dialect::Sqlite.insert_or_add("t", &["k"], &["a", "b"], 2),
            "INSERT INTO t (k, a, b) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT (k) DO UPDATE SET a = t.a + excluded.a, b = t.b + excluded.b"
        );
        assert_eq!(
            Dialect::MySql.insert_or_add("t", &["k"], &["a"], 1),
            "INSERT INTO t (k, a) VALUES (?, ?) ON DUPLICATE KEY UPDATE a = a + VALUES(a)"
        );
    }
}
