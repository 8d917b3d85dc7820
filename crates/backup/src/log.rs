//! The backup log, `hmailserver_backup.log` in the log folder: UTF-16LE with a byte-order mark
//! at the start of the file, one `<yyyy-mm-dd hh:mm:ss.mmm>\t<text>` line per step, CRLF.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOG_NAME: &str = "hmailserver_backup.log";

/// Appends lines to the backup log; a log that cannot be written is reported once on stderr
/// and otherwise ignored (a backup does not fail because of its log).
#[derive(Debug, Clone)]
pub struct BackupLog {
    path: Option<PathBuf>,
}

impl BackupLog {
    /// The log in folder `logs_dir`.
    pub fn in_dir(logs_dir: &Path) -> BackupLog {
        BackupLog { path: Some(logs_dir.join(LOG_NAME)) }
    }

    /// No log file (tests, tools).
    pub fn none() -> BackupLog {
        BackupLog { path: None }
    }

    pub fn line(&self, text: &str) {
        let Some(path) = &self.path else { return };
        let stamp = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
        let line = format!("{stamp}\t{}\r\n", text.replace("\r\n", "[nl]"));
        if let Err(e) = append_utf16(path, &line) {
            tracing::warn!("backup log {}: {e}", path.display());
        }
    }
}

fn append_utf16(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut bytes = Vec::with_capacity(text.len() * 2 + 2);
    if file.metadata()?.len() == 0 {
        bytes.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    file.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_utf16_lines_with_one_bom() {
        let dir = tempfile::tempdir().unwrap();
        let log = BackupLog::in_dir(dir.path());
        log.line("Loading backup settings....");
        log.line("Backing up domains...");
        let bytes = std::fs::read(dir.path().join(LOG_NAME)).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let text = String::from_utf16(&units).unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with("\tBacking up domains..."));
        assert!(!text.contains('\u{FEFF}'));
    }
}
