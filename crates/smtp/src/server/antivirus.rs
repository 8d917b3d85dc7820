//! The anti-virus stage in the SMTP path: at the end of the body, after the post-transmission
//! anti-spam tests and before the message is stored. Attachment blocking applies to every
//! message when `enableattachmentblocking` is on (as hMailServer); virus scanning only when the
//! client's IP range has the anti-virus bit.
//!
//! hMailServer scans at delivery time and deletes an infected message it has already accepted;
//! here the verdict comes before the `250`, so an infected message is refused (`554 5.7.1`,
//! the sending server bounces it, nothing is sent back from here) and a message that could not
//! be scanned gets `451 4.7.1`: unscanned mail is never accepted when scanning is required.
//! Recipients are told of a refused message when `avnotifyreceiver` is on.
//!
//! The settings come from the connection policy's `hm_settings` snapshot (read again at most
//! once a second); the texts and blocked attachments are read again only with a new snapshot.

use std::path::PathBuf;
use std::sync::Arc;

use altimail_antivirus::{AvOutcome, AvSettings, SettingsCache, notify};
use altimail_delivery::{Spool, SpoolFile};
use altimail_net::{Connection, Severity};
use altimail_store::Store;

use crate::proto::Reply;

/// What the SMTP service needs for the stage besides the settings.
#[derive(Clone, Debug)]
pub struct AntiVirus {
    cache: Arc<SettingsCache>,
}

impl AntiVirus {
    /// `temp_dir` is the server's temporary directory (for external scanners' files).
    pub fn new(temp_dir: PathBuf) -> AntiVirus {
        AntiVirus { cache: Arc::new(SettingsCache::new(temp_dir)) }
    }
}

/// The verdict on one message.
pub(super) enum Verdict {
    /// Store it as received.
    Keep,
    /// Store this instead (attachments removed).
    Replace(Vec<u8>),
}

/// The settings for a message from `conn`, or `None` when neither blocking nor scanning applies.
pub(super) async fn settings_for(
    store: &Store,
    conn: &Connection,
    av: &AntiVirus,
) -> Result<Option<Arc<AvSettings>>, Reply> {
    let scan_range = conn.range.options & altimail_core::codes::range::ANTI_VIRUS != 0;
    let snapshot = conn.policy.settings().await.map_err(|e| unavailable(conn, &format!("settings: {e}")))?;
    if !AvSettings::applies(&snapshot, scan_range) {
        return Ok(None);
    }
    let settings = av.cache.get(store, &snapshot).await.map_err(|e| unavailable(conn, &format!("settings: {e}")))?;
    if !scan_range {
        // Blocking only: the range does not ask for virus scanning.
        return Ok(Some(Arc::new(settings.blocking_only())));
    }
    Ok(Some(settings))
}

/// Blocks attachments and scans `message`; an infected message is refused (and the
/// recipients told when `avnotifyreceiver` is on), a scanner failure is a temporary refusal.
#[allow(clippy::too_many_arguments)]
pub(super) async fn check(
    store: &Store,
    spool: &Spool,
    conn: &Connection,
    settings: &AvSettings,
    host: &str,
    sender: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<Verdict, Reply> {
    note_unscanned(conn, settings, message.len() as u64, sender);
    match altimail_antivirus::scan(settings, message).await {
        Ok(AvOutcome::Clean) => Ok(Verdict::Keep),
        Ok(AvOutcome::Rewritten { message, removed, virus }) => {
            let names = removed.join(", ");
            if virus.is_some() {
                altimail_core::stats::count(altimail_core::stats::Counter::Virus);
            }
            match virus {
                Some(v) => conn.log.application(&format!(
                    "SMTPD - Virus found: {v} - attachments removed from the message from {sender}: {names}"
                )),
                None => conn.log.application(&format!(
                    "SMTPD - Blocked attachments removed from the message from {sender}: {names}"
                )),
            }
            Ok(Verdict::Replace(message))
        }
        Ok(AvOutcome::Infected { virus }) => {
            altimail_core::stats::count(altimail_core::stats::Counter::Virus);
            conn.log.application(&format!("SMTPD - Virus found: {virus} - message from {sender} refused"));
            notify_recipients(store, spool, settings, host, sender, recipients, message).await;
            Err(Reply::new(554, Some((5, 7, 1)), format!("Message refused: virus found ({})", one_line(&virus))))
        }
        Err(e) => Err(unavailable(conn, &format!("virus scan failed: {e}"))),
    }
}

/// The notice of a refused message to its recipients (`avnotifyreceiver`), from the null
/// sender. The sender is not written to: the `554` already tells its server, which bounces.
async fn notify_recipients(
    store: &Store,
    spool: &Spool,
    settings: &AvSettings,
    host: &str,
    sender: &str,
    recipients: &[String],
    message: &[u8],
) {
    let receivers_only = AvSettings { notify_sender: false, ..settings.clone() };
    let daemon = format!("mailer-daemon@{host}");
    for to in notify::notice_recipients(&receivers_only, sender, recipients) {
        let id = altimail_delivery::generated::message_id(host);
        let id = id.trim_start_matches('<').trim_end_matches('>');
        let date = altimail_delivery::generated::rfc5322_now();
        let notice = notify::virus_notice(&settings.texts, message, &daemon, &to, &date, id);
        spool.submit_notice(&store.db, &to, "virus notice", notice).await;
    }
}

/// Whether a message of `size` bytes is over `avmaxmsgsize` (hMailServer does not scan those).
fn over_max_size(settings: &AvSettings, size: u64) -> bool {
    settings.max_size_kb > 0 && size / 1024 > settings.max_size_kb
}

/// Says in the application log that a message over `avmaxmsgsize` goes on without a virus
/// scan (as hMailServer), when a scanner is on.
fn note_unscanned(conn: &Connection, settings: &AvSettings, size: u64, sender: &str) {
    if settings.scanning_enabled() && over_max_size(settings, size) {
        conn.log.application(&format!(
            "SMTPD - Message of {} KB from {sender} is over the virus scanning limit ({} KB, avmaxmsgsize): not scanned",
            size / 1024,
            settings.max_size_kb
        ));
    }
}

/// Logs why the message could not be checked; the client is asked to retry.
fn unavailable(conn: &Connection, what: &str) -> Reply {
    conn.log.error(Severity::High, 5500, "SMTPD", &format!("{what}; message refused temporarily"));
    Reply::new(451, Some((4, 7, 1)), "Virus scanning is unavailable; please try again later")
}

fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// [`check`] for a body streamed to its spool file: the file is read back (unless only
/// scanning applies and it is over `avmaxmsgsize`, as hMailServer skips those), and a
/// rewritten message goes to a new spool file that replaces it (the old one is removed when
/// dropped; the new one is made durable by the commit, before the `250`).
#[allow(clippy::too_many_arguments)]
pub(super) async fn check_file(
    store: &Store,
    spool: &Spool,
    conn: &Connection,
    settings: &AvSettings,
    host: &str,
    sender: &str,
    recipients: &[String],
    mut file: SpoolFile,
) -> Result<SpoolFile, Reply> {
    if over_max_size(settings, file.size()) && !settings.attachment_blocking {
        note_unscanned(conn, settings, file.size(), sender);
        return Ok(file);
    }
    let saving = |e: &dyn std::fmt::Display| {
        conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
        super::not_saved()
    };
    file.finish().await.map_err(|e| saving(&e))?;
    let data = tokio::fs::read(file.path()).await.map_err(|e| saving(&e))?;
    match check(store, spool, conn, settings, host, sender, recipients, &data).await? {
        Verdict::Keep => Ok(file),
        Verdict::Replace(message) => spool.create_file(message).await.map_err(|e| saving(&e)),
    }
}
