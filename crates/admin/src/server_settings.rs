//! The server's settings (`hm_settings`) by area, as typed objects: protocols, delivery, the
//! smart host, anti-spam, anti-virus, logging and auto-ban, with the server messages
//! (`hm_servermessages`). Each area names hMailServer's settings behind its fields; a change is
//! checked as a whole (ranges, known values) and only the settings that changed are written.
//! Server administrators only.

use serde::{Deserialize, Serialize};

use altimail_core::blowfish::hm_encrypt;
use altimail_store::repo::ranges::TRUSTED_SETTING;
use altimail_store::repo::server_messages::{self, ServerMessage};
use altimail_store::repo::settings::{self, Settings};

use crate::{Admin, AdminError, Caller, audit};

/// A value as `hm_settings` keeps it.
enum Stored {
    Int(i64),
    Text(String),
}

/// How a field's type reads from and writes to a setting.
trait SettingValue: Sized {
    fn read(s: &Settings, name: &str) -> Self;
    fn stored(&self) -> Stored;
}

impl SettingValue for bool {
    fn read(s: &Settings, name: &str) -> Self {
        s.bool(name)
    }
    fn stored(&self) -> Stored {
        Stored::Int(i64::from(*self))
    }
}

impl SettingValue for i64 {
    fn read(s: &Settings, name: &str) -> Self {
        s.int(name)
    }
    fn stored(&self) -> Stored {
        Stored::Int(*self)
    }
}

impl SettingValue for String {
    fn read(s: &Settings, name: &str) -> Self {
        s.string(name)
    }
    fn stored(&self) -> Stored {
        Stored::Text(self.clone())
    }
}

fn check_range(field: &str, value: i64, lo: i64, hi: i64) -> Result<(), AdminError> {
    if !(lo..=hi).contains(&value) {
        return Err(AdminError::Invalid(format!("{field} must be between {lo} and {hi}, not {value}")));
    }
    Ok(())
}

/// One area: the view (every field), its changes (every field optional) and how both map to
/// settings. `field: i64 [lo, hi] = "setting"` bounds a number.
macro_rules! area {
    (
        $(#[$m:meta])* $area:ident, $changes:ident {
            $( $(#[$fm:meta])* $field:ident : $ty:ident $([$lo:literal, $hi:literal])? = $setting:literal ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        pub struct $area { $( $(#[$fm])* pub $field: $ty, )* }

        #[doc = concat!("Changes to [`", stringify!($area), "`]; fields left out stay as they are.")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $changes { $( $(#[$fm])* pub $field: Option<$ty>, )* }

        impl $area {
            fn read(s: &Settings) -> Self {
                $area { $( $field: SettingValue::read(s, $setting), )* }
            }

            fn apply(&mut self, c: &$changes) {
                $( if let Some(v) = &c.$field { self.$field = v.clone(); } )*
            }

            fn check(&self) -> Result<(), AdminError> {
                $( $( check_range(stringify!($field), self.$field, $lo, $hi)?; )? )*
                Ok(())
            }

            fn writes(&self, old: &Self, out: &mut Vec<(&'static str, Stored)>) {
                $( if self.$field != old.$field { out.push(($setting, SettingValue::stored(&self.$field))); } )*
            }
        }
    };
}

area! {
    /// Services, connection limits, greetings and protocol options.
    Protocols, ProtocolsChanges {
        smtp_enabled: bool = "protocolsmtp",
        pop3_enabled: bool = "protocolpop3",
        imap_enabled: bool = "protocolimap",
        /// Simultaneous sessions (0 = unlimited).
        max_smtp_connections: i64 [0, 1_000_000] = "maxsmtpconnections",
        max_pop3_connections: i64 [0, 1_000_000] = "maxpop3connections",
        max_imap_connections: i64 [0, 1_000_000] = "maximapconnections",
        /// Sessions of one protocol from one address (0 = unlimited).
        max_connections_per_ip: i64 [0, 1_000_000] = "altimailmaxconnectionsperip",
        welcome_smtp: String = "welcomesmtp",
        welcome_pop3: String = "welcomepop3",
        welcome_imap: String = "welcomeimap",
        /// The server's host name (greetings, EHLO, Received headers).
        host_name: String = "hostname",
        /// Domain added to user names and addresses without one.
        default_domain: String = "defaultdomain",
        /// Largest message in KB (0 = unlimited).
        max_message_size_kb: i64 [0, 2_097_152] = "maxmessagesize",
        smtp_auth_plain: bool = "authallowplaintext",
        allow_mail_from_null: bool = "allowmailfromnull",
        allow_incorrect_line_endings: bool = "smtpallowincorrectlineendings",
        disconnect_invalid_clients: bool = "disconnectinvalidclients",
        max_incorrect_commands: i64 [0, 1_000_000] = "maximumincorrectcommands",
        imap_idle: bool = "enableimapidle",
        imap_quota: bool = "enableimapquota",
        imap_acl: bool = "enableimapacl",
        imap_sort: bool = "enableimapsort",
        imap_sasl_plain: bool = "EnableImapSASLPlain",
        imap_sasl_initial_response: bool = "EnableImapSASLInitialResponse",
        imap_public_folder_name: String = "imappublicfoldername",
        imap_master_user: String = "ImapMasterUser",
    }
}

area! {
    /// Outbound delivery: retries, threads, TLS and the mirror address.
    Delivery, DeliveryChanges {
        /// Retries after the first attempt.
        retries: i64 [0, 1000] = "smtpnoofretries",
        minutes_between_retries: i64 [1, 100_000] = "smtpminutesbetweenretries",
        max_delivery_threads: i64 [1, 1000] = "maxdelivertythreads",
        /// Recipients per outbound transaction (0 = unlimited).
        max_recipients_in_batch: i64 [0, 100_000] = "maxsmtprecipientsinbatch",
        /// Local address outbound connections come from ("" = any).
        bind_to_ip: String = "smtpdeliverybindtoip",
        /// 0 none, 1 TLS, 2 STARTTLS when offered, 3 STARTTLS required.
        connection_security: i64 [0, 3] = "SmtpDeliveryConnectionSecurity",
        verify_remote_certificate: bool = "VerifyRemoteSslCertificate",
        ipv6_preferred: bool = "IPv6Preferred",
        max_mx_hosts: i64 [1, 100] = "MaxNumberOfMXHosts",
        add_delivered_to_header: bool = "adddeliveredtoheader",
        /// Every message is copied here ("" = none).
        mirror_address: String = "mirroremailaddress",
        rule_loop_limit: i64 [0, 1000] = "rulelooplimit",
    }
}

area! {
    /// The smart host all outbound mail goes through ("" host = direct MX delivery). Its
    /// password is written through `smart_host_password` and never shown.
    SmartHost, SmartHostChanges {
        /// Host name or address; several separated by `|`.
        host: String = "smtprelayer",
        port: i64 [1, 65535] = "smtprelayerport",
        use_authentication: bool = "usesmtprelayerauthentication",
        username: String = "smtprelayerusername",
        /// 0 none, 1 TLS, 2 STARTTLS when offered, 3 STARTTLS required.
        connection_security: i64 [0, 3] = "smtprelayerconnectionsecurity",
    }
}

area! {
    /// Spam scoring, tests, SpamAssassin and greylisting.
    AntiSpam, AntiSpamChanges {
        /// Score at which a message is marked as spam (0 = off).
        mark_threshold: i64 [0, 10_000] = "spammarkthreshold",
        /// Score at which a message is refused (0 = off).
        delete_threshold: i64 [0, 10_000] = "spamdeletethreshold",
        add_header_spam: bool = "antispamaddheaderspam",
        add_header_reason: bool = "antispamaddheaderreason",
        prepend_subject: bool = "antispamprependsubject",
        prepend_subject_text: String = "antispamprependsubjecttext",
        /// Largest message the content tests read, in KB.
        max_size_kb: i64 [0, 262_144] = "antispammaxsize",
        spf: bool = "usespf",
        spf_score: i64 [0, 10_000] = "usespfscore",
        helo_check: bool = "ascheckhostinhelo",
        helo_score: i64 [0, 10_000] = "ascheckhostinheloscore",
        mx_check: bool = "usemxchecks",
        mx_score: i64 [0, 10_000] = "usemxchecksscore",
        ptr_check: bool = "ascheckptr",
        ptr_score: i64 [0, 10_000] = "ascheckptrscore",
        dkim_verify: bool = "ASDKIMVerificationEnabled",
        dkim_score: i64 [0, 10_000] = "ASDKIMVerificationFailureScore",
        spamassassin: bool = "spamassassinenabled",
        spamassassin_host: String = "spamassassinhost",
        spamassassin_port: i64 [1, 65535] = "spamassassinport",
        spamassassin_score: i64 [0, 10_000] = "spamassassinscore",
        spamassassin_merge_score: bool = "spamassassinmergescore",
        greylisting: bool = "usegreylisting",
        greylisting_initial_delay_minutes: i64 [0, 100_000] = "greylistinginitialdelay",
        greylisting_initial_delete_hours: i64 [0, 100_000] = "greylistinginitialdelete",
        greylisting_final_delete_hours: i64 [0, 100_000] = "greylistingfinaldelete",
        bypass_greylisting_on_spf: bool = "BypassGreylistingOnSPFSuccess",
        bypass_greylisting_on_mail_from_mx: bool = "BypassGreylistingOnMailFromMX",
    }
}

area! {
    /// Virus scanning (ClamAV, ClamWin, a custom scanner) and attachment blocking.
    AntiVirus, AntiVirusChanges {
        clamav: bool = "ClamAVEnabled",
        clamav_host: String = "ClamAVHost",
        clamav_port: i64 [1, 65535] = "ClamAVPort",
        clamwin: bool = "avclamwinenable",
        clamwin_executable: String = "avclamwinexec",
        clamwin_database: String = "avclamwindb",
        custom_scanner: bool = "usecustomvirusscanner",
        /// Command line; `%FILE%` is the message file.
        custom_scanner_executable: String = "customvirusscannerexecutable",
        /// Exit code that means "virus found".
        custom_scanner_return_value: i64 [0, 255] = "customviursscannerreturnvalue",
        /// 0 delete the message, 1 delete its attachments.
        action: i64 [0, 1] = "avaction",
        notify_sender: bool = "avnotifysender",
        notify_receiver: bool = "avnotifyreceiver",
        /// Largest message scanned, in KB (0 = no limit).
        max_size_kb: i64 [0, 2_097_152] = "avmaxmsgsize",
        attachment_blocking: bool = "enableattachmentblocking",
    }
}

area! {
    /// Auto-ban after failed logons (mail protocols and the API alike).
    AutoBan, AutoBanChanges {
        enabled: bool = "AutoBanOnLogonFailureEnabled",
        max_invalid_logon_attempts: i64 [1, 10_000] = "MaxInvalidLogonAttempts",
        logon_attempts_within_minutes: i64 [1, 100_000] = "LogonAttemptsWithinMinutes",
        /// Ban length (0 = only disconnect).
        ban_minutes: i64 [0, 10_000_000] = "AutoBanMinutes",
        /// Whom auto-ban spares: range names, addresses and CIDR blocks, comma-separated.
        trusted: String = "altimailtrustedranges",
    }
}

/// The bits of the `logging` setting, in hMailServer's order.
const LOG_BITS: [(&str, i64); 8] = [
    ("enabled", 1),
    ("smtp", 2),
    ("pop3", 4),
    ("tcpip", 8),
    ("application", 16),
    ("debug", 32),
    ("imap", 64),
    ("keep_files_open", 256),
];

/// What the server logs (the bits of `logging`) and the AWStats log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logging {
    /// Nothing is logged unless this is on.
    pub enabled: bool,
    pub smtp: bool,
    pub pop3: bool,
    pub tcpip: bool,
    pub application: bool,
    pub debug: bool,
    pub imap: bool,
    pub keep_files_open: bool,
    pub awstats: bool,
}

/// Changes to [`Logging`]; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingChanges {
    pub enabled: Option<bool>,
    pub smtp: Option<bool>,
    pub pop3: Option<bool>,
    pub tcpip: Option<bool>,
    pub application: Option<bool>,
    pub debug: Option<bool>,
    pub imap: Option<bool>,
    pub keep_files_open: Option<bool>,
    pub awstats: Option<bool>,
}

impl Logging {
    fn flags(&mut self) -> [&mut bool; 8] {
        [
            &mut self.enabled,
            &mut self.smtp,
            &mut self.pop3,
            &mut self.tcpip,
            &mut self.application,
            &mut self.debug,
            &mut self.imap,
            &mut self.keep_files_open,
        ]
    }

    fn read(s: &Settings) -> Self {
        let mask = s.int("logging");
        let mut l = Logging {
            enabled: false,
            smtp: false,
            pop3: false,
            tcpip: false,
            application: false,
            debug: false,
            imap: false,
            keep_files_open: false,
            awstats: s.bool("awstatsenabled"),
        };
        for (flag, (_, bit)) in l.flags().into_iter().zip(LOG_BITS) {
            *flag = mask & bit != 0;
        }
        l
    }

    fn mask(&self) -> i64 {
        let mut copy = self.clone();
        copy.flags().into_iter().zip(LOG_BITS).filter(|(f, _)| **f).fold(0, |m, (_, (_, bit))| m | bit)
    }

    fn apply(&mut self, c: &LoggingChanges) {
        let changes = [c.enabled, c.smtp, c.pop3, c.tcpip, c.application, c.debug, c.imap, c.keep_files_open];
        for (flag, change) in self.flags().into_iter().zip(changes) {
            if let Some(v) = change {
                *flag = v;
            }
        }
        if let Some(v) = c.awstats {
            self.awstats = v;
        }
    }

    fn writes(&self, old: &Self, out: &mut Vec<(&'static str, Stored)>) {
        if self.mask() != old.mask() {
            out.push(("logging", Stored::Int(self.mask())));
        }
        if self.awstats != old.awstats {
            out.push(("awstatsenabled", Stored::Int(i64::from(self.awstats))));
        }
    }
}

/// Every area of the server's settings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSettings {
    pub protocols: Protocols,
    pub delivery: Delivery,
    pub smart_host: SmartHost,
    /// Whether a smart host password is stored (it is never shown).
    pub smart_host_password_set: bool,
    pub anti_spam: AntiSpam,
    pub anti_virus: AntiVirus,
    pub logging: Logging,
    pub auto_ban: AutoBan,
}

/// Changes to the settings, area by area; areas and fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SettingsChanges {
    pub protocols: Option<ProtocolsChanges>,
    pub delivery: Option<DeliveryChanges>,
    pub smart_host: Option<SmartHostChanges>,
    /// The smart host's password (stored encrypted as hMailServer does; "" clears it).
    pub smart_host_password: Option<String>,
    pub anti_spam: Option<AntiSpamChanges>,
    pub anti_virus: Option<AntiVirusChanges>,
    pub logging: Option<LoggingChanges>,
    pub auto_ban: Option<AutoBanChanges>,
}

/// A change of a server message's text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerMessageText {
    pub text: String,
}

impl ServerSettings {
    fn read(s: &Settings) -> Self {
        let mut auto_ban = AutoBan::read(s);
        if s.all().all(|row| !row.name.eq_ignore_ascii_case(TRUSTED_SETTING)) {
            altimail_store::repo::ranges::DEFAULT_TRUSTED.clone_into(&mut auto_ban.trusted);
        }
        ServerSettings {
            protocols: Protocols::read(s),
            delivery: Delivery::read(s),
            smart_host: SmartHost::read(s),
            smart_host_password_set: !s.string("smtprelayerpassword").is_empty(),
            anti_spam: AntiSpam::read(s),
            anti_virus: AntiVirus::read(s),
            logging: Logging::read(s),
            auto_ban,
        }
    }
}

fn check_address(field: &str, value: &str) -> Result<(), AdminError> {
    if !value.is_empty() && altimail_core::address::Address::parse(value).is_err() {
        return Err(AdminError::Invalid(format!("{field}: {value:?} is not an e-mail address")));
    }
    Ok(())
}

impl Admin {
    pub async fn get_settings(&self, caller: &Caller) -> Result<ServerSettings, AdminError> {
        self.require_server(caller, "settings.read", "settings").await?;
        Ok(ServerSettings::read(&Settings::load(&self.store.db).await?))
    }

    /// Applies `c`: every area changed is checked whole before anything is written.
    pub async fn update_settings(&self, caller: &Caller, c: &SettingsChanges) -> Result<ServerSettings, AdminError> {
        self.require_server(caller, "settings.update", "settings").await?;
        let old = ServerSettings::read(&Settings::load(&self.store.db).await?);
        let mut new = old.clone();
        if let Some(c) = &c.protocols {
            new.protocols.apply(c);
        }
        if let Some(c) = &c.delivery {
            new.delivery.apply(c);
        }
        if let Some(c) = &c.smart_host {
            new.smart_host.apply(c);
        }
        if let Some(c) = &c.anti_spam {
            new.anti_spam.apply(c);
        }
        if let Some(c) = &c.anti_virus {
            new.anti_virus.apply(c);
        }
        if let Some(c) = &c.logging {
            new.logging.apply(c);
        }
        if let Some(c) = &c.auto_ban {
            new.auto_ban.apply(c);
        }
        new.protocols.check()?;
        new.delivery.check()?;
        new.smart_host.check()?;
        new.anti_spam.check()?;
        new.anti_virus.check()?;
        new.auto_ban.check()?;
        check_address("mirror_address", &new.delivery.mirror_address)?;
        if !new.delivery.bind_to_ip.is_empty() && new.delivery.bind_to_ip.parse::<std::net::IpAddr>().is_err() {
            return Err(AdminError::Invalid(format!("bind_to_ip: {:?} is not an IP address", new.delivery.bind_to_ip)));
        }
        let delimiter_ok = new.protocols.imap_public_folder_name.chars().count() <= 100;
        if !delimiter_ok || new.protocols.imap_public_folder_name.is_empty() {
            return Err(AdminError::Invalid("imap_public_folder_name must be 1-100 characters".into()));
        }
        let mut writes = Vec::new();
        new.protocols.writes(&old.protocols, &mut writes);
        new.delivery.writes(&old.delivery, &mut writes);
        new.smart_host.writes(&old.smart_host, &mut writes);
        new.anti_spam.writes(&old.anti_spam, &mut writes);
        new.anti_virus.writes(&old.anti_virus, &mut writes);
        new.logging.writes(&old.logging, &mut writes);
        new.auto_ban.writes(&old.auto_ban, &mut writes);
        if let Some(p) = &c.smart_host_password {
            let stored = if p.is_empty() { String::new() } else { hm_encrypt(p) };
            writes.push(("smtprelayerpassword", Stored::Text(stored)));
        }
        for (name, value) in writes {
            match value {
                Stored::Int(v) => settings::set_integer(&self.store.db, name, v).await?,
                Stored::Text(v) => settings::set_string(&self.store.db, name, &v).await?,
            }
            audit::change(caller, "setting.update", name);
        }
        self.get_settings(caller).await
    }

    pub async fn list_server_messages(&self, caller: &Caller) -> Result<Vec<ServerMessage>, AdminError> {
        self.require_server(caller, "server_message.list", "server messages").await?;
        Ok(server_messages::list(&self.store.db).await?)
    }

    /// Changes the text of one server message (bounces, notices).
    pub async fn set_server_message(
        &self,
        caller: &Caller,
        name: &str,
        text: &str,
    ) -> Result<ServerMessage, AdminError> {
        self.require_server(caller, "server_message.update", name).await?;
        server_messages::set_text(&self.store.db, name, text).await?;
        audit::change(caller, "server_message.update", name);
        Ok(ServerMessage { name: name.to_owned(), text: text.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_bits_round_trip() {
        let s = Settings::default();
        let mut l = Logging::read(&s);
        assert_eq!(l.mask(), 0);
        l.apply(&LoggingChanges {
            enabled: Some(true),
            imap: Some(true),
            keep_files_open: Some(true),
            ..Default::default()
        });
        assert_eq!(l.mask(), 1 | 64 | 256);
    }

    #[test]
    fn ranges_are_checked() {
        let mut d = Delivery::read(&Settings::default());
        d.apply(&DeliveryChanges { connection_security: Some(4), ..Default::default() });
        assert!(matches!(d.check(), Err(AdminError::Invalid(_))));
    }
}
