//! The one entry point: attachment blocking, then virus scanning, then what `avaction` says.

use crate::attachments::{self, Attachment};
use crate::clamd::ClamdError;
use crate::clamd_reply::Reply;
use crate::command::{CommandError, CommandVerdict};
use crate::settings::{AvAction, AvSettings};

/// Attachments scanned one by one after the whole message (as hMailServer does: a scanner
/// may not look inside MIME, e.g. an external command).
pub const MAX_ATTACHMENTS_SCANNED: usize = 100;

/// What to do with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AvOutcome {
    /// Deliver it unchanged.
    Clean,
    /// A virus was found and `avaction` is "delete": the message is not delivered (the
    /// notifications of [`crate::notify`] may go out).
    Infected { virus: String },
    /// Deliver `message` instead: blocked attachments (`removed`) were replaced by
    /// ATTACHMENT_REMOVED, and when `virus` is set, all attachments by VIRUS_ATTACHMENT_REMOVED.
    Rewritten { message: Vec<u8>, removed: Vec<String>, virus: Option<String> },
}

/// Scanning was required but gave no verdict; the message must not be accepted silently
/// (the SMTP layer answers 451).
#[derive(Debug, thiserror::Error)]
pub enum AvError {
    #[error(transparent)]
    Clamd(#[from] ClamdError),
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Blocks attachments (when `enableattachmentblocking` is on) and scans for viruses (when a
/// scanner is on and the message is within `avmaxmsgsize`). The caller decides beforehand
/// whether virus scanning applies to this message (the IP range's anti-virus bit, a fetch
/// account's option) and passes settings without scanners otherwise.
pub async fn scan(settings: &AvSettings, message: &[u8]) -> Result<AvOutcome, AvError> {
    let (current, mut removed) = match block_attachments(settings, message) {
        Some((rewritten, names)) => (Some(rewritten), names),
        None => (None, Vec::new()),
    };
    let body = current.as_deref().unwrap_or(message);
    let within_size = settings.max_size_kb == 0 || (body.len() as u64) / 1024 <= settings.max_size_kb;
    if settings.scanning_enabled() && within_size {
        if let Some(virus) = find_virus(settings, body).await? {
            tracing::info!("virus found in message: {virus}");
            if settings.action == AvAction::DeleteMessage {
                return Ok(AvOutcome::Infected { virus });
            }
            let all = attachments::list(body);
            if all.is_empty() {
                // Nothing to strip: the virus is in the message itself.
                return Ok(AvOutcome::Infected { virus });
            }
            let stripped = attachments::replace(
                body,
                &all,
                |_| settings.texts.virus_attachment_removed.clone(),
                Some(&settings.texts.virus_found),
            );
            if let Some(still) = find_virus(settings, &stripped).await? {
                return Ok(AvOutcome::Infected { virus: still });
            }
            removed.extend(all.into_iter().map(|a| a.name.unwrap_or_default()));
            return Ok(AvOutcome::Rewritten { message: stripped, removed, virus: Some(virus) });
        }
    } else if settings.scanning_enabled() {
        tracing::debug!("message of {} KB is over avmaxmsgsize and is not scanned", body.len() / 1024);
    }
    Ok(match current {
        Some(message) => AvOutcome::Rewritten { message, removed, virus: None },
        None => AvOutcome::Clean,
    })
}

/// The message with blocked attachments replaced, and their names; `None` when nothing is
/// blocked.
pub fn block_attachments(settings: &AvSettings, message: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    if !settings.attachment_blocking || settings.blocked.is_empty() {
        return None;
    }
    let blocked = attachments::blocked(message, &settings.blocked);
    if blocked.is_empty() {
        return None;
    }
    let text = &settings.texts.attachment_removed;
    let rewritten = attachments::replace(message, &blocked, |name| attachments::removed_text(text, name), None);
    let names = blocked.into_iter().filter_map(|a: Attachment| a.name).collect();
    Some((rewritten, names))
}

/// Runs every enabled scanner over the whole message, then over each attachment's decoded
/// contents; the first virus found is the answer. A scanner that fails makes the result an
/// error unless another one found a virus.
pub async fn find_virus(settings: &AvSettings, message: &[u8]) -> Result<Option<String>, AvError> {
    let mut failure: Option<AvError> = None;
    if let Some(v) = scan_once(settings, message, &mut failure).await {
        return Ok(Some(v));
    }
    for a in attachments::list(message).iter().take(MAX_ATTACHMENTS_SCANNED) {
        if a.contents.is_empty() {
            continue;
        }
        if let Some(v) = scan_once(settings, &a.contents, &mut failure).await {
            return Ok(Some(v));
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

async fn scan_once(settings: &AvSettings, data: &[u8], failure: &mut Option<AvError>) -> Option<String> {
    // hMailServer's order: ClamWin, the custom scanner, ClamAV.
    for scanner in [&settings.clamwin, &settings.custom].into_iter().flatten() {
        match scanner.scan(data).await {
            Ok(CommandVerdict::Infected) => return Some("Unknown".to_owned()),
            Ok(CommandVerdict::Clean) => {}
            Err(e) => {
                tracing::error!("virus scanner error: {e}");
                failure.get_or_insert(e.into());
            }
        }
    }
    if let Some(clamd) = &settings.clamav {
        match clamd.scan(data).await {
            Ok(Reply::Found(name)) => return Some(name),
            Ok(Reply::Clean) => {}
            Ok(Reply::SizeLimit) => {
                // The caller scans only what is within avmaxmsgsize (hMailServer skips larger
                // messages, logged); clamd refusing less than that is a failure like any other,
                // never an acceptance unscanned.
                let e = ClamdError::SizeLimit(clamd.address.to_string(), data.len());
                tracing::error!("virus scanner error: {e}");
                failure.get_or_insert(e.into());
            }
            Ok(Reply::Error(text)) => {
                failure.get_or_insert(ClamdError::Scanner(clamd.address.to_string(), text).into());
            }
            Err(e) => {
                tracing::error!("virus scanner error: {e}");
                failure.get_or_insert(e.into());
            }
        }
    }
    None
}
