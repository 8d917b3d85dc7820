//! What the status page shows of the running server: its version and start, the sessions each
//! protocol has open (the listeners' counters), the queue's size and the newest lines of the
//! server's log file. The running server hands these sources over when it starts the
//! administration; a web administration without them (tests) shows what it has.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use altimail_core::codes::Protocol;
use altimail_net::Policy;
use altimail_store::Store;
use altimail_store::repo::messages;

/// How much of the end of the log file the page reads.
const LOG_TAIL_BYTES: u64 = 32 * 1024;
/// How many log lines the page shows.
pub(crate) const LOG_LINES: usize = 40;

/// Where the status page looks.
#[derive(Clone)]
pub struct ServerStatus {
    store: Store,
    started: NaiveDateTime,
    policy: Option<Policy>,
    logs_dir: Option<PathBuf>,
}

/// One look at the server.
pub(crate) struct Snapshot {
    pub version: &'static str,
    pub started: String,
    pub uptime: String,
    /// Open sessions per protocol, when the listeners' counters are known.
    pub sessions: Vec<(&'static str, u64)>,
    pub queue: Result<usize, String>,
    pub log_file: Option<String>,
    pub log_lines: Vec<String>,
}

impl ServerStatus {
    /// The status of a server started now on `store`, with its listeners' `policy` and its
    /// `logs_dir` when there are.
    pub fn new(store: Store, policy: Option<Policy>, logs_dir: Option<PathBuf>) -> ServerStatus {
        ServerStatus { store, started: altimail_core::time::now_local(), policy, logs_dir }
    }

    pub(crate) async fn snapshot(&self) -> Snapshot {
        let now = altimail_core::time::now_local();
        let up = (now - self.started).num_seconds().max(0);
        let sessions = match &self.policy {
            Some(p) => {
                [("SMTP", Protocol::Smtp), ("POP3", Protocol::Pop3), ("IMAP", Protocol::Imap), ("HTTP", Protocol::Http)]
                    .into_iter()
                    .map(|(name, protocol)| (name, p.connections(protocol)))
                    .collect()
            }
            None => Vec::new(),
        };
        let queue = messages::queue_and_held(&self.store.db).await.map(|q| q.len()).map_err(|e| {
            tracing::error!("web administration: reading the queue: {e}");
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
        Snapshot {
            version: env!("CARGO_PKG_VERSION"),
            started: self.started.format("%Y-%m-%d %H:%M:%S").to_string(),
            uptime: format!("{}d {:02}:{:02}:{:02}", up / 86_400, up / 3600 % 24, up / 60 % 60, up % 60),
            sessions,
            queue,
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
