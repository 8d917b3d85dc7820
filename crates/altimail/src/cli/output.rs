//! Printing results as aligned text or as JSON (`--json`).

use serde::Serialize;

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints rows as a table with `headers`, or `items` as a JSON array.
    pub fn table<T: Serialize>(&self, items: &[T], headers: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(items)?);
            return Ok(());
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>| {
            let padded: Vec<String> =
                cells.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = widths[i])).collect();
            println!("{}", padded.join("  ").trim_end());
        };
        line(headers.iter().map(|h| h.to_string()).collect());
        for row in rows {
            line(row);
        }
        Ok(())
    }

    /// Prints one object: `key: value` lines, or a JSON object.
    pub fn object<T: Serialize>(&self, item: &T) -> anyhow::Result<()> {
        let value = serde_json::to_value(item)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&value)?);
            return Ok(());
        }
        if let serde_json::Value::Object(map) = value {
            let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                println!("{k:<width$}  {v}");
            }
        }
        Ok(())
    }

    /// A one-line confirmation (suppressed with `--json`, which prints the object instead).
    pub fn done<T: Serialize>(&self, message: &str, item: &T) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(item)?);
        } else {
            println!("{message}");
        }
        Ok(())
    }
}

pub fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}
