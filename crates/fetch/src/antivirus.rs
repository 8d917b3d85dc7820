//! The anti-virus stage for downloaded mail: attachment blocking for every message when
//! `enableattachmentblocking` is on, virus scanning when the external account's
//! `fauseantivirus` is set (as hMailServer).
//!
//! An infected message is not delivered (logged); its UIDL is recorded like a delivered one's,
//! so the remote copy follows the account's keep policy, as hMailServer deletes such a message
//! after downloading it. A scanner that gives no verdict stops the download before the UIDL is
//! recorded: the message stays on the server for the next run.

use altimail_antivirus::{AvOutcome, AvSettings};
use altimail_store::repo::fetch_accounts::FetchAccount;
use altimail_store::repo::settings::Settings;

use crate::download::FetchError;
use crate::worker::Fetcher;

/// What to do with a downloaded message.
pub(crate) enum Checked {
    /// Deliver it as downloaded.
    Keep,
    /// Deliver this instead (attachments removed).
    Replace(Vec<u8>),
    /// Do not deliver it (a virus).
    Drop,
}

impl Fetcher {
    /// Runs the stage over `raw` (the settings are read for each message).
    pub(crate) async fn check_content(&self, fa: &FetchAccount, raw: &[u8]) -> Result<Checked, FetchError> {
        let quick = Settings::load(&self.store.db).await?;
        let any_scanner =
            quick.bool("ClamAVEnabled") || quick.bool("usecustomvirusscanner") || quick.bool("avclamwinenable");
        let applies = quick.bool("enableattachmentblocking") || (fa.use_antivirus && any_scanner);
        if !applies {
            return Ok(Checked::Keep);
        }
        let mut settings = AvSettings::load(&self.store, &self.temp_dir).await?;
        if !fa.use_antivirus {
            settings.clamav = None;
            settings.custom = None;
            settings.clamwin = None;
        }
        let name = &fa.name;
        match altimail_antivirus::scan(&settings, raw).await {
            Ok(AvOutcome::Clean) => Ok(Checked::Keep),
            Ok(AvOutcome::Rewritten { message, removed, virus }) => {
                let what = match virus {
                    Some(v) => format!("Virus found: {v} - attachments removed"),
                    None => "Blocked attachments removed".to_owned(),
                };
                self.log.application(&format!("POP3C - {name}: {what}: {}", removed.join(", ")));
                Ok(Checked::Replace(message))
            }
            Ok(AvOutcome::Infected { virus }) => {
                self.log.application(&format!("POP3C - {name}: Virus found: {virus} - message deleted"));
                Ok(Checked::Drop)
            }
            Err(e) => Err(FetchError::Scan(e)),
        }
    }
}
