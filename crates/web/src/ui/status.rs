//! What the status page shows of the running server: the administration service's status (its
//! version and start, the sessions each protocol has open, the queue's size) and the newest
//! lines of the server's log file, whose folder the running server hands over when it starts
//! the administration.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use altimail_admin::{Admin, Caller};

/// How much of the end of the log file the page reads.
const LOG_TAIL_BYTES: u64 = 32 * 1024;
/// How many log lines the page shows.
pub(crate) const LOG_LINES: usize = 40;

/// Where the status page finds the log file.
#[derive(Clone)]
pub struct ServerStatus {
    logs_dir: Option<PathBuf>,
}

/// One look at the server.
pub(crate) struct Snapshot {
    pub version: String,
    pub started: String,
    pub uptime: String,
    /// Open sessions per protocol, when the listeners' counters are known.
    pub sessions: Vec<(&'static str, u64)>,
    pub queue: Result<u64, String>,
    pub log_file: Option<String>,
    pub log_lines: Vec<String>,
}

impl ServerStatus {
    /// The status page of a server whose log files are in `logs_dir`, when there is one.
    pub fn new(logs_dir: Option<PathBuf>) -> ServerStatus {
        ServerStatus { logs_dir }
    }

    /// The service's status as `caller` may see it, and the log's newest lines.
    pub(crate) async fn snapshot(&self, admin: &Admin, caller: &Caller) -> Snapshot {
        let status = admin.status(caller).await.map_err(|e| {
            tracing::error!("web administration: reading the server's status: {e}");
            "unavailable (see the server's log)".to_owned()
        });
        let (log_file, log_lines) = match &self.logs_dir {
            Some(dir) => match newest_log(dir) {
                Some(path) => {
                    let lines = tail(&path, LOG_TAIL_BYTES, LOG_LINES);
                    (Some(path.display().to_string()), lines)
                }
                None => (None, Vec::new()),
            },
            None => (None, Vec::new()),
        };
        let live = status.as_ref().ok();
        let up = live.and_then(|s| s.uptime_seconds);
        Snapshot {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started: live
                .and_then(|s| s.started)
                .map_or_else(|| "unknown".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            uptime: up.map_or_else(
                || "unknown".to_owned(),
                |up| format!("{}d {:02}:{:02}:{:02}", up / 86_400, up / 3600 % 24, up / 60 % 60, up % 60),
            ),
            sessions: live.and_then(|s| s.sessions.as_ref()).map_or_else(Vec::new, |n| {
                vec![("SMTP", n.smtp), ("POP3", n.pop3), ("IMAP", n.imap), ("HTTP", n.http)]
            }),
            queue: status.map(|s| s.queue.queued + s.queue.held),
            log_file,
            log_lines,
        }
    }
}

/// The newest `hmailserver_<date>.log` in `dir` (the names sort by date).
fn newest_log(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hmailserver_20") && n.ends_with(".log"))
        .max()
        .map(|n| dir.join(n))
}

/// The last `lines` whole lines of the last `bytes` of `path`.
fn tail(path: &Path, bytes: u64, lines: usize) -> Vec<String> {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let from = len.saturating_sub(bytes);
        f.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::new();
        f.take(bytes).read_to_end(&mut buf)?;
        if from > 0 {
            // The first line is cut: drop it.
            let cut = buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |p| p + 1);
            buf.drain(..cut);
        }
        Ok(buf)
    };
    let Ok(buf) = read() else { return Vec::new() };
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| (*l).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_whole_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hmailserver_2026-01-01.log"), "old\n").unwrap();
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("hmailserver_2026-01-02.log"), &text).unwrap();
        std::fs::write(dir.path().join("ERROR_hmailserver_2026-01-03.log"), "error\n").unwrap();
        let newest = newest_log(dir.path()).unwrap();
        assert!(newest.ends_with("hmailserver_2026-01-02.log"), "{newest:?}");
        assert_eq!(tail(&newest, 1 << 20, 3), ["line 97", "line 98", "line 99"]);
        // 20 bytes from the end cut "line 97\n" in two: only whole lines come back.
        assert_eq!(tail(&newest, 20, 10), ["line 98", "line 99"]);
    }
}
