//! Backup and restore in hMailServer's format.
//!
//! A backup is one file, `HMBackup <yyyy-mm-dd hhmmss>.7z`, holding `hMailServerBackup.xml`
//! (every object of the chosen classes as XML, described in `docs/backup.md`) and, when messages
//! are included and compression is on, the message files under `DataBackup/` laid out like the
//! data directory. Without compression hMailServer leaves the files in a `DataBackup` folder
//! beside the archive ("Raw" format); both forms are written and read here.
//!
//! [`backup::run`] reads the database in one consistent snapshot while the server keeps
//! running and streams rows and files into the archive; [`restore::run`] streams an archive
//! back, one class of objects per transaction, all or nothing; [`verify::run`] re-reads an
//! archive and checks every message file named by the XML.

pub mod archive;
pub mod backup;
pub mod format;
pub mod hook;
pub mod log;
pub mod restore;
pub mod verify;
pub mod xml_read;
pub mod xml_write;

use std::path::Path;

pub use hook::{Hook, Outcome, no_hook};
pub use log::BackupLog;

/// What a backup holds or a restore takes (hMailServer's `backupoptions` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    pub settings: bool,
    pub domains: bool,
    pub messages: bool,
    pub compress: bool,
}

impl Options {
    pub fn from_bits(bits: i64) -> Options {
        Options {
            settings: bits & format::OPT_SETTINGS != 0,
            domains: bits & format::OPT_DOMAINS != 0,
            messages: bits & format::OPT_MESSAGES != 0,
            compress: bits & format::OPT_COMPRESS != 0,
        }
    }

    pub fn bits(self) -> i64 {
        let mut b = 0;
        if self.settings {
            b |= format::OPT_SETTINGS;
        }
        if self.domains {
            b |= format::OPT_DOMAINS;
        }
        if self.messages {
            b |= format::OPT_MESSAGES;
        }
        if self.compress {
            b |= format::OPT_COMPRESS;
        }
        b
    }
}

/// A step reported while a backup or restore runs.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A line also written to the backup log.
    Step(String),
    /// Messages handled so far and their bytes.
    Messages { done: u64, bytes: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Store(#[from] altimail_store::StoreError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("7z archive: {0}")]
    Archive(String),
    #[error("not a valid hMailServer backup: {0}")]
    Format(String),
    /// The archive or the target cannot take this restore; nothing was changed.
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    pub fn io(path: &Path, source: std::io::Error) -> BackupError {
        BackupError::Io { path: path.display().to_string(), source }
    }

    pub(crate) fn archive(e: sevenz_rust2::Error) -> BackupError {
        BackupError::Archive(e.to_string())
    }
}

/// The version written in `BackupInformation`.
pub fn version() -> String {
    format!("Altimail {}", env!("CARGO_PKG_VERSION"))
}
