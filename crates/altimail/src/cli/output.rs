//! Printing results as aligned text or as JSON (`--json`).
//!
//! Table headers are the JSON keys in capitals (`catch_all` is `CATCH-ALL`), so one value has
//! one name in both. Output goes through [`emit`]: a reader that stops early (`| head`) ends
//! the program quietly instead of making it panic on a broken pipe.

use std::io::Write as _;

use serde::Serialize;

/// Writes `text` and a line end to standard output. When the reader has gone away (EPIPE),
/// exits at once with status 0, as `yes | head` does, without a message.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints rows as a table with `headers`, or `items` as a JSON array.
    pub fn table<T: Serialize>(&self, items: &[T], headers: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
        if self.json {
            return emit(&serde_json::to_string_pretty(items)?);
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
            emit(padded.join("  ").trim_end())
        };
        line(headers.iter().map(|h| h.to_string()).collect())?;
        for row in rows {
            line(row)?;
        }
        Ok(())
    }

    /// Prints one object: `key: value` lines, or a JSON object.
    pub fn object<T: Serialize>(&self, item: &T) -> anyhow::Result<()> {
        let value = serde_json::to_value(item)?;
        if self.json {
            return emit(&serde_json::to_string_pretty(&value)?);
        }
        if let serde_json::Value::Object(map) = value {
            let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                emit(&format!("{k:<width$}  {v}"))?;
            }
        }
        Ok(())
    }

    /// A one-line confirmation (suppressed with `--json`, which prints the object instead).
    pub fn done<T: Serialize>(&self, message: &str, item: &T) -> anyhow::Result<()> {
        if self.json { emit(&serde_json::to_string_pretty(item)?) } else { emit(message) }
    }
}

pub fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}
