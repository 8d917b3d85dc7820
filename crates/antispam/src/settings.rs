//! The anti-spam settings, by hMailServer's `hm_settings` names, with Altimail's own DMARC
//! settings (`altimaildmarc…`). Read once per SMTP session from the store's settings (which give
//! the default for a missing row), never cached for longer than the settings themselves.

use altimail_store::repo::settings::Settings;

use crate::score::Thresholds;

/// `altimaildmarcenabled`: 1 = check DMARC (RFC 7489) on incoming mail.
pub const DMARC_ENABLED: &str = "altimaildmarcenabled";
/// `altimaildmarcscore`: the score a DMARC failure adds (policy quarantine or reject).
pub const DMARC_SCORE: &str = "altimaildmarcscore";
/// `altimaildmarcreject`: what a failure under `p=reject` does: 0 = add the score, 1 = refuse
/// the message with `550 5.7.1`.
pub const DMARC_REJECT: &str = "altimaildmarcreject";

/// What a DMARC failure under `p=reject` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcRejectAction {
    /// Add `altimaildmarcscore`, as for quarantine.
    Score,
    /// Refuse the message with `550 5.7.1`, whatever the score.
    Refuse,
}

/// Every anti-spam setting the pipeline and its tests read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntiSpamSettings {
    /// `spammarkthreshold` / `spamdeletethreshold`.
    pub thresholds: Thresholds,
    /// `usespf`, `usespfscore`.
    pub spf: bool,
    pub spf_score: i32,
    /// `usemxchecks`, `usemxchecksscore`.
    pub mx_check: bool,
    pub mx_score: i32,
    /// `ascheckhostinhelo`, `ascheckhostinheloscore`.
    pub helo_check: bool,
    pub helo_score: i32,
    /// `ascheckptr`, `ascheckptrscore`.
    pub ptr_check: bool,
    pub ptr_score: i32,
    /// `ASDKIMVerificationEnabled`, `ASDKIMVerificationFailureScore`.
    pub dkim_verify: bool,
    pub dkim_score: i32,
    /// `spamassassinenabled`, `spamassassinscore`, `spamassassinmergescore`,
    /// `spamassassinhost`, `spamassassinport`.
    pub spamassassin: bool,
    pub spamassassin_score: i32,
    pub spamassassin_merge: bool,
    pub spamassassin_host: String,
    pub spamassassin_port: u16,
    /// `usegreylisting`, `BypassGreylistingOnSPFSuccess`, `BypassGreylistingOnMailFromMX`.
    pub greylisting: bool,
    pub greylisting_bypass_on_spf: bool,
    pub greylisting_bypass_on_mx: bool,
    /// `antispamaddheaderspam`: `X-hMailServer-Spam: YES` on marked mail.
    pub add_header_spam: bool,
    /// `antispamaddheaderreason`: `X-hMailServer-Reason-<n>` and `-Score` on marked mail.
    pub add_header_reason: bool,
    /// `antispamprependsubject`, `antispamprependsubjecttext`.
    pub prepend_subject: bool,
    pub prepend_subject_text: String,
    /// `antispammaxsize` in octets (the setting is in KB, capped at 256 MB as hMailServer does):
    /// larger messages skip the post-transmission tests.
    pub max_size: u64,
    /// Altimail: DMARC on/off, its score and what `p=reject` does.
    pub dmarc: bool,
    pub dmarc_score: i32,
    pub dmarc_reject: DmarcRejectAction,
}

/// hMailServer caps `antispammaxsize` at 256 MB.
const MAX_SIZE_CAP_KB: i64 = 256 * 1024;

fn score(settings: &Settings, name: &str) -> i32 {
    i32::try_from(settings.int(name)).unwrap_or(0)
}

impl AntiSpamSettings {
    /// Reads them from the settings (defaults for missing rows come from the schema).
    pub fn from_settings(s: &Settings) -> Self {
        let max_kb = s.int("antispammaxsize").clamp(0, MAX_SIZE_CAP_KB);
        AntiSpamSettings {
            thresholds: Thresholds { mark: score(s, "spammarkthreshold"), delete: score(s, "spamdeletethreshold") },
            spf: s.bool("usespf"),
            spf_score: score(s, "usespfscore"),
            mx_check: s.bool("usemxchecks"),
            mx_score: score(s, "usemxchecksscore"),
            helo_check: s.bool("ascheckhostinhelo"),
            helo_score: score(s, "ascheckhostinheloscore"),
            ptr_check: s.bool("ascheckptr"),
            ptr_score: score(s, "ascheckptrscore"),
            dkim_verify: s.bool("ASDKIMVerificationEnabled"),
            dkim_score: score(s, "ASDKIMVerificationFailureScore"),
            spamassassin: s.bool("spamassassinenabled"),
            spamassassin_score: score(s, "spamassassinscore"),
            spamassassin_merge: s.bool("spamassassinmergescore"),
            spamassassin_host: s.string("spamassassinhost"),
            spamassassin_port: u16::try_from(s.int("spamassassinport")).unwrap_or(783),
            greylisting: s.bool("usegreylisting"),
            greylisting_bypass_on_spf: s.bool("BypassGreylistingOnSPFSuccess"),
            greylisting_bypass_on_mx: s.bool("BypassGreylistingOnMailFromMX"),
            add_header_spam: s.bool("antispamaddheaderspam"),
            add_header_reason: s.bool("antispamaddheaderreason"),
            prepend_subject: s.bool("antispamprependsubject"),
            prepend_subject_text: s.string("antispamprependsubjecttext"),
            max_size: u64::try_from(max_kb).unwrap_or(0) * 1024,
            dmarc: s.bool(DMARC_ENABLED),
            dmarc_score: score(s, DMARC_SCORE),
            dmarc_reject: if s.bool(DMARC_REJECT) { DmarcRejectAction::Refuse } else { DmarcRejectAction::Score },
        }
    }

    /// Whether any pre-transmission test is on (otherwise the SMTP driver need not ask).
    pub fn any_pre_transmission(&self) -> bool {
        self.spf || self.mx_check || self.helo_check || self.ptr_check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn defaults_are_hmailservers() {
        let s = AntiSpamSettings::from_settings(&Settings::default());
        assert_eq!(s.thresholds, Thresholds { mark: 5, delete: 20 });
        assert!(!s.spf);
        assert_eq!(s.spf_score, 3);
        assert!(!s.dkim_verify);
        assert_eq!(s.dkim_score, 5);
        assert!(s.add_header_spam);
        assert!(s.add_header_reason);
        assert!(!s.prepend_subject);
        assert_eq!(s.prepend_subject_text, "[SPAM]");
        assert_eq!(s.max_size, 1024 * 1024);
        assert_eq!(s.spamassassin_port, 783);
        assert!(s.greylisting_bypass_on_spf);
        assert!(!s.dmarc);
        assert_eq!(s.dmarc_score, 5);
        assert_eq!(s.dmarc_reject, DmarcRejectAction::Score);
    }
}
