//! The anti-virus stage for downloaded mail: attachment blocking for every message when
//! `enableattachmentblocking` is on, virus scanning when the external account's
//! `fauseantivirus` is set (as hMailServer).
//!
//! An infected message is not delivered (logged); its UIDL is recorded like a delivered one's,
//! so the remote copy follows the account's keep policy, as hMailServer deletes such a message
//! after downloading it. A scanner that gives no verdict stops the download before the UIDL is
//! recorded: the message stays on the server for the next run.
//!
//! A deleted message is notified as hMailServer does: to its sender with `avnotifysender`
//! (never the null sender) and to the account it was fetched for with `avnotifyreceiver`, from
//! the mailer daemon, the VIRUS_NOTIFICATION text.

use altimail_antivirus::{AvOutcome, AvSettings, notify};
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
    /// Runs the stage over `raw`, fetched for the account `receiver` (the settings are read for
    /// each message); `host` is the server's host name (the notices' mailer daemon).
    pub(crate) async fn check_content(
        &self,
        fa: &FetchAccount,
        host: &str,
        receiver: &str,
        raw: &[u8],
    ) -> Result<Checked, FetchError> {
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
                self.notify(&settings, name, host, receiver, raw).await;
                Ok(Checked::Drop)
            }
            Err(e) => Err(FetchError::Scan(e)),
        }
    }

    /// The notices of a deleted message (`avnotifysender`, `avnotifyreceiver`).
    async fn notify(&self, settings: &AvSettings, account: &str, host: &str, receiver: &str, raw: &[u8]) {
        let sender = crate::mime::sender(raw);
        let daemon = format!("mailer-daemon@{host}");
        for to in notify::notice_recipients(settings, &sender, &[receiver.to_owned()]) {
            let id = altimail_delivery::generated::message_id(host);
            let id = id.trim_start_matches('<').trim_end_matches('>');
            let date = altimail_delivery::generated::rfc5322_now();
            let notice = notify::virus_notice(&settings.texts, raw, &daemon, &to, &date, id);
            self.log.application(&format!("POP3C - {account}: virus notice to {to}"));
            self.spool.submit_notice(&self.store.db, &to, "virus notice", notice).await;
        }
    }
}
