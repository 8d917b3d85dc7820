//! Searching the server's log files (hMailServer's format: `hmailserver_<date>.log`, the
//! `ERROR_` file, and the per-protocol files of `SepSvcLogs`) by date, text and session id.
//! Server administrators only. A search reads one day's files line by line and keeps at most
//! [`MAX_LINES`] lines of at most [`MAX_LINE`] bytes each.

use std::io::{BufRead, Read};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Admin, AdminError, Caller};

/// Most lines one search returns.
pub const MAX_LINES: usize = 5000;
/// Longest line returned, in bytes (longer ones are cut).
pub const MAX_LINE: usize = 8192;

/// What to look for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogQuery {
    /// The day (`YYYY-MM-DD`, server local time); default today.
    pub date: Option<String>,
    /// Text the line contains (case does not matter).
    pub text: Option<String>,
    /// The session id (the third field of SMTPD, SMTPC, POP3D, POP3C and IMAPD lines).
    pub session: Option<i64>,
    /// Most lines to return (default 500, at most 5000).
    pub limit: Option<usize>,
}

/// One line found.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// The file's name.
    pub file: String,
    pub line: String,
}

/// The lines found, in file order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct LogSearch {
    pub date: String,
    pub lines: Vec<LogLine>,
    /// More lines matched than `limit`.
    pub truncated: bool,
}

/// Whether `line` is of session `session` (`"SMTPD"\t<thread>\t<session>\t…`).
fn of_session(line: &str, session: i64) -> bool {
    let mut fields = line.split('\t');
    let kind = fields.next().unwrap_or("").trim_matches('"');
    matches!(kind, "SMTPD" | "SMTPC" | "POP3D" | "POP3C" | "IMAPD")
        && fields.nth(1).is_some_and(|s| s.trim().parse::<i64>() == Ok(session))
}

fn search(dir: PathBuf, date: String, q: LogQuery) -> Result<LogSearch, AdminError> {
    let limit = q.limit.unwrap_or(500).clamp(1, MAX_LINES);
    let text = q.text.as_deref().map(str::to_lowercase).filter(|t| !t.is_empty());
    let mut found = LogSearch { date: date.clone(), lines: Vec::new(), truncated: false };
    let names = [
        format!("hmailserver_{date}.log"),
        format!("hmailserver_SMTP_{date}.log"),
        format!("hmailserver_POP3_{date}.log"),
        format!("hmailserver_IMAP_{date}.log"),
        format!("ERROR_hmailserver_{date}.log"),
    ];
    for name in names {
        let file = match std::fs::File::open(dir.join(&name)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(AdminError::Invalid(format!("cannot read the log {name}: {e}"))),
        };
        let mut reader = std::io::BufReader::new(file);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            // Read in pieces so one endless line cannot take the memory: what is past
            // MAX_LINE bytes is skipped.
            let n = (&mut reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut raw)
                .map_err(|e| AdminError::Invalid(format!("cannot read the log {name}: {e}")))?;
            if n == 0 {
                break;
            }
            if raw.last() != Some(&b'\n') {
                let mut rest = Vec::new();
                loop {
                    rest.clear();
                    let m = (&mut reader).take(MAX_LINE as u64).read_until(b'\n', &mut rest).unwrap_or(0);
                    if m == 0 || rest.last() == Some(&b'\n') {
                        break;
                    }
                }
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            if q.session.is_some_and(|s| !of_session(line, s)) {
                continue;
            }
            if text.as_ref().is_some_and(|t| !line.to_lowercase().contains(t.as_str())) {
                continue;
            }
            if found.lines.len() == limit {
                found.truncated = true;
                return Ok(found);
            }
            found.lines.push(LogLine { file: name.clone(), line: line.to_owned() });
        }
    }
    Ok(found)
}

impl Admin {
    /// The service of a server whose log files are in `dir`.
    pub fn with_logs_dir(mut self, dir: impl Into<PathBuf>) -> Admin {
        self.logs_dir = Some(dir.into());
        self
    }

    /// Searches one day's log files.
    pub async fn search_logs(&self, caller: &Caller, q: &LogQuery) -> Result<LogSearch, AdminError> {
        self.require_server(caller, "log.search", "logs").await?;
        let Some(dir) = self.logs_dir.clone() else {
            return Err(AdminError::NotFound("the log folder is not known here".into()));
        };
        let date = match q.date.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| AdminError::Invalid(format!("{d:?}: expected a date as YYYY-MM-DD")))?,
            None => altimail_core::time::now_local().date(),
        };
        let date = date.format("%Y-%m-%d").to_string();
        let q = q.clone();
        tokio::task::spawn_blocking(move || search(dir, date, q))
            .await
            .map_err(|e| AdminError::Invalid(format!("log search: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_the_third_field_of_protocol_lines() {
        let smtp = "\"SMTPD\"\t12\t345\t\"2026-12-08 01:00:00.000\"\t\"127.0.0.1\"\t\"SENT: 220 ready\"";
        assert!(of_session(smtp, 345));
        assert!(!of_session(smtp, 12));
        assert!(!of_session("\"APPLICATION\"\t345\t\"2026-12-08\"\t\"x\"", 345));
    }

    #[test]
    fn searches_by_text_and_limits() {
        let dir = tempfile::tempdir().unwrap();
        let long = "x".repeat(3 * MAX_LINE);
        let text = format!(
            "\"SMTPD\"\t1\t7\t\"t\"\t\"ip\"\t\"SENT: 220 Hello\"\r\n{long}\r\n\"SMTPD\"\t1\t8\t\"t\"\t\"ip\"\t\"RECEIVED: EHLO\"\r\n"
        );
        std::fs::write(dir.path().join("hmailserver_2026-12-08.log"), text).unwrap();
        let q = LogQuery { text: Some("hello".into()), ..Default::default() };
        let found = search(dir.path().into(), "2026-12-08".into(), q).unwrap();
        assert_eq!(found.lines.len(), 1);
        let q = LogQuery { session: Some(8), ..Default::default() };
        let found = search(dir.path().into(), "2026-12-08".into(), q).unwrap();
        assert!(found.lines[0].line.ends_with("EHLO\""), "{:?}", found.lines);
        let q = LogQuery { limit: Some(1), ..Default::default() };
        let found = search(dir.path().into(), "2026-12-08".into(), q).unwrap();
        assert!(found.truncated && found.lines.len() == 1);
        let all = search(dir.path().into(), "2026-12-08".into(), LogQuery::default()).unwrap();
        assert_eq!(all.lines.len(), 3, "the long line is cut, not lost");
        assert!(all.lines[1].line.len() <= MAX_LINE);
    }
}
