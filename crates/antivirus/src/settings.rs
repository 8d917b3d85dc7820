//! The anti-virus settings, read from `hm_settings`, `hm_blocked_attachments` and
//! `hm_servermessages` (REFERENCE 1.5, 1.6).

use std::path::{Path, PathBuf};
use std::time::Duration;

use altimail_store::repo::settings::Settings;
use altimail_store::repo::{blocked_attachments, server_messages};
use altimail_store::{Store, StoreError};

use crate::clamd::{Clamd, ClamdAddress};
use crate::command::CommandScanner;

/// `avaction`: what happens to a message with a virus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvAction {
    /// 0: the message is deleted (notifications may go out).
    DeleteMessage,
    /// 1: its attachments are removed and the rest delivered.
    StripAttachments,
}

/// hMailServer's texts for the messages the scanners write (`hm_servermessages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    /// `VIRUS_FOUND`: subject prefix (`Virus found`).
    pub virus_found: String,
    /// `VIRUS_ATTACHMENT_REMOVED`: the text put in place of stripped attachments.
    pub virus_attachment_removed: String,
    /// `VIRUS_NOTIFICATION`: the body of the notice to sender and recipients.
    pub virus_notification: String,
    /// `ATTACHMENT_REMOVED`: the text put in place of a blocked attachment (`%MACRO_FILE%`).
    pub attachment_removed: String,
}

impl Default for Texts {
    /// hMailServer's default rows.
    fn default() -> Texts {
        Texts {
            virus_found: "Virus found".into(),
            virus_attachment_removed: "Virus found:\r\nThe attachment(s) of this message was removed since a virus was detected in at least one of them.\r\n\r\n".into(),
            virus_notification: "The message below contained a virus and did not\r\nreach some or all of the intended recipients.\r\n\r\n   From: %MACRO_FROM%\r\n   To: %MACRO_TO%\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nhMailServer\r\n".into(),
            attachment_removed: "The attachment %MACRO_FILE% was blocked for delivery by the e-mail server. Please contact your system administrator if you have any questions regarding this.\r\n\r\nhMailServer\r\n".into(),
        }
    }
}

/// Everything [`crate::scan`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvSettings {
    /// `ClamAVEnabled` with `ClamAVHost`/`ClamAVPort`, or a unix socket: `altimailclamavsocket`,
    /// or a `ClamAVHost` that is a path (starts with `/`).
    pub clamav: Option<Clamd>,
    /// `usecustomvirusscanner`, `customvirusscannerexecutable`, `customviursscannerreturnvalue`.
    pub custom: Option<CommandScanner>,
    /// `avclamwinenable`: ClamWin's `clamscan` run as a command-line scanner when its path
    /// exists (exit code 1 = virus); otherwise unsupported here and skipped with a warning.
    pub clamwin: Option<CommandScanner>,
    /// `avmaxmsgsize` in KB; larger messages are not scanned (0 = no limit).
    pub max_size_kb: u64,
    /// `avaction`.
    pub action: AvAction,
    /// `avnotifysender`, `avnotifyreceiver` (for deleted messages, as hMailServer).
    pub notify_sender: bool,
    pub notify_receiver: bool,
    /// `enableattachmentblocking` and the wildcards of `hm_blocked_attachments`.
    pub attachment_blocking: bool,
    pub blocked: Vec<String>,
    pub texts: Texts,
}

impl Default for AvSettings {
    /// Nothing on: no scanner, no blocking, hMailServer's texts.
    fn default() -> AvSettings {
        AvSettings {
            clamav: None,
            custom: None,
            clamwin: None,
            max_size_kb: 0,
            action: AvAction::DeleteMessage,
            notify_sender: false,
            notify_receiver: false,
            attachment_blocking: false,
            blocked: Vec::new(),
            texts: Texts::default(),
        }
    }
}

/// Per-operation timeout towards clamd (hMailServer: ClamMinTimeout 15 s to ClamMaxTimeout 90 s).
pub const CLAMD_TIMEOUT: Duration = Duration::from_secs(60);

impl AvSettings {
    /// Reads the settings; `temp_dir` is the server's temporary directory (for external
    /// scanners' files).
    pub async fn load(store: &Store, temp_dir: &Path) -> Result<AvSettings, StoreError> {
        let s = Settings::load(&store.db).await?;
        AvSettings::load_with(store, &s, temp_dir).await
    }

    /// [`AvSettings::load`] over an already loaded `hm_settings` snapshot: only the texts and
    /// the blocked attachments are read.
    pub async fn load_with(store: &Store, s: &Settings, temp_dir: &Path) -> Result<AvSettings, StoreError> {
        let mut texts = Texts::default();
        for (name, field) in [
            ("VIRUS_FOUND", &mut texts.virus_found),
            ("VIRUS_ATTACHMENT_REMOVED", &mut texts.virus_attachment_removed),
            ("VIRUS_NOTIFICATION", &mut texts.virus_notification),
            ("ATTACHMENT_REMOVED", &mut texts.attachment_removed),
        ] {
            if let Some(t) = server_messages::text(&store.db, name).await? {
                *field = t;
            }
        }
        let blocked = if s.bool("enableattachmentblocking") {
            blocked_attachments::wildcards(&store.db).await?
        } else {
            Vec::new()
        };
        Ok(AvSettings::from_settings(s, blocked, texts, temp_dir))
    }

    /// The settings from an already loaded snapshot.
    pub fn from_settings(s: &Settings, blocked: Vec<String>, texts: Texts, temp_dir: &Path) -> AvSettings {
        let command_limit = Duration::from_secs(s.int("altimailscannertimeout").clamp(1, 3600) as u64);
        let clamav = s.bool("ClamAVEnabled").then(|| {
            // A unix socket: `altimailclamavsocket`, or a path written as the host.
            let mut socket = s.string("altimailclamavsocket");
            if socket.trim().is_empty() && s.string("ClamAVHost").trim().starts_with('/') {
                socket = s.string("ClamAVHost");
            }
            let address = if socket.trim().is_empty() {
                let host = s.string("ClamAVHost");
                let host = if host.trim().is_empty() { "localhost".to_owned() } else { host.trim().to_owned() };
                ClamdAddress::Tcp { host, port: u16::try_from(s.int("ClamAVPort")).unwrap_or(3310) }
            } else {
                ClamdAddress::Unix(PathBuf::from(socket.trim()))
            };
            Clamd {
                address,
                timeout: CLAMD_TIMEOUT,
                max_connections: s.int("altimailclamavmaxconns").clamp(1, 1000) as usize,
            }
        });
        let custom = s.bool("usecustomvirusscanner").then(|| CommandScanner {
            command_line: s.string("customvirusscannerexecutable"),
            virus_exit_code: i32::try_from(s.int("customviursscannerreturnvalue")).unwrap_or(i32::MAX),
            temp_dir: temp_dir.to_owned(),
            time_limit: command_limit,
        });
        let clamwin = if s.bool("avclamwinenable") {
            clamwin_scanner(&s.string("avclamwinexec"), &s.string("avclamwindb"), temp_dir, command_limit)
        } else {
            None
        };
        AvSettings {
            clamav,
            custom,
            clamwin,
            max_size_kb: u64::try_from(s.int("avmaxmsgsize")).unwrap_or(0),
            action: if s.int("avaction") == 1 { AvAction::StripAttachments } else { AvAction::DeleteMessage },
            notify_sender: s.bool("avnotifysender"),
            notify_receiver: s.bool("avnotifyreceiver"),
            attachment_blocking: s.bool("enableattachmentblocking"),
            blocked,
            texts,
        }
    }

    /// Whether the stage has anything to do for a message, from `hm_settings` alone: attachment
    /// blocking is on, or a scanner is on and `scan` (the IP range's or the fetch account's
    /// anti-virus option) asks for scanning.
    pub fn applies(s: &Settings, scan: bool) -> bool {
        let any_scanner = s.bool("ClamAVEnabled") || s.bool("usecustomvirusscanner") || s.bool("avclamwinenable");
        s.bool("enableattachmentblocking") || (scan && any_scanner)
    }

    /// The same settings without the virus scanners (attachment blocking only), for mail whose
    /// IP range or fetch account does not ask for scanning.
    pub fn blocking_only(&self) -> AvSettings {
        AvSettings { clamav: None, custom: None, clamwin: None, ..self.clone() }
    }

    /// Whether any virus scanner is on.
    pub fn scanning_enabled(&self) -> bool {
        self.clamav.is_some() || self.custom.is_some() || self.clamwin.is_some()
    }
}

/// ClamWin is a Windows program; where its `clamscan` path exists (a clamscan installed under
/// that path) it runs like a command-line scanner, `--database=<db>`, exit code 1 = virus.
fn clamwin_scanner(exec: &str, db: &str, temp_dir: &Path, limit: Duration) -> Option<CommandScanner> {
    let exec = exec.trim();
    if exec.is_empty() || !Path::new(exec).is_file() {
        tracing::warn!("ClamWin scanning is on but {exec:?} does not exist here: ClamWin is not supported, use ClamAV");
        return None;
    }
    let mut line = format!("\"{exec}\" --no-summary --stdout");
    if !db.trim().is_empty() {
        line.push_str(&format!(" \"--database={}\"", db.trim()));
    }
    line.push_str(" \"%FILE%\"");
    Some(CommandScanner { command_line: line, virus_exit_code: 1, temp_dir: temp_dir.to_owned(), time_limit: limit })
}
