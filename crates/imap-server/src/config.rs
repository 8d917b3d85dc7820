//! A connection's configuration, read once from the port, the client's IP range and the settings.

use std::time::Duration;

use altimail_core::codes::{Security, range};
use altimail_net::{Connection, log_mask};
use altimail_store::repo::settings::Settings;

/// What the settings and the port say about one connection.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `welcomeimap`, or our default greeting.
    pub greeting: String,
    /// `IMAPHierarchyDelimiter` (`.` by default; `/` and `\` are the other hMailServer choices).
    pub delimiter: char,
    /// `imappublicfoldername` (`#Public`).
    pub public_name: String,
    pub idle: bool,
    pub quota: bool,
    pub sort: bool,
    pub acl: bool,
    pub sasl_plain: bool,
    pub sasl_ir: bool,
    /// `ImapMasterUser`: may log on as anyone through AUTHENTICATE PLAIN's authzid.
    pub master_user: String,
    /// The port offers STARTTLS (and it has a certificate).
    pub starttls: bool,
    /// The port requires STARTTLS before anything but CAPABILITY/NOOP/LOGOUT/STARTTLS.
    pub starttls_required: bool,
    /// The client's IP range requires TLS for authentication.
    pub auth_requires_tls: bool,
    /// Largest message APPEND accepts, in bytes (`maxmessagesize` KB; 0 = our cap).
    pub append_limit: u64,
    /// Log every command line received.
    pub log_commands: bool,
    /// How long one command may take to arrive from its first byte (`altimailimapcommandtimeout`,
    /// seconds; 0 or absent: 90).
    pub command_timeout: Duration,
    /// How long a client may take to log on (`altimailimaplogontimeout`, seconds; 0 or
    /// absent: 180).
    pub logon_timeout: Duration,
    /// `altimailbayesenabled`: filing into and out of `\Junk` teaches the Bayesian filter.
    pub bayes: bool,
}

/// The per-command read deadline when `altimailimapcommandtimeout` is not set.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(90);
/// The logon deadline when `altimailimaplogontimeout` is not set (Dovecot allows about three
/// minutes).
const DEFAULT_LOGON_TIMEOUT: Duration = Duration::from_secs(180);

/// A timeout setting in seconds, or `default` when absent, zero or negative.
fn seconds(settings: &Settings, name: &str, default: Duration) -> Duration {
    match u64::try_from(settings.int(name)) {
        Ok(s) if s > 0 => Duration::from_secs(s),
        _ => default,
    }
}

/// APPENDLIMIT when no message size limit is set: large, but bounded.
const DEFAULT_APPEND_LIMIT: u64 = 256 * 1024 * 1024;

impl Config {
    pub(crate) fn new(conn: &Connection, settings: &Settings) -> Config {
        let delimiter = match settings.string("IMAPHierarchyDelimiter").trim() {
            "/" => '/',
            "\\" => '\\',
            _ => '.',
        };
        let public_name = match settings.string("imappublicfoldername").trim() {
            "" => "#Public".to_owned(),
            name => name.to_owned(),
        };
        let max_kb = settings.int("maxmessagesize");
        let append_limit = if max_kb > 0 { (max_kb as u64).saturating_mul(1024) } else { DEFAULT_APPEND_LIMIT };
        let tls = conn.is_tls();
        let mask = conn.log.mask();
        Config {
            greeting: match settings.string("welcomeimap").trim() {
                "" => "Altimail IMAP ready".to_owned(),
                text => text.to_owned(),
            },
            delimiter,
            public_name,
            idle: settings.bool("enableimapidle"),
            quota: settings.bool("enableimapquota"),
            sort: settings.bool("enableimapsort"),
            acl: settings.bool("enableimapacl"),
            sasl_plain: settings.bool("EnableImapSASLPlain"),
            sasl_ir: settings.bool("EnableImapSASLInitialResponse"),
            master_user: settings.string("ImapMasterUser").trim().to_owned(),
            starttls: !tls && conn.can_start_tls(),
            starttls_required: !tls && conn.port.security == Security::StartTlsRequired,
            auth_requires_tls: conn.range.options & range::TLS_FOR_AUTH != 0,
            append_limit,
            log_commands: mask & log_mask::ENABLED != 0 && mask & log_mask::IMAP != 0,
            command_timeout: seconds(settings, "altimailimapcommandtimeout", DEFAULT_COMMAND_TIMEOUT),
            logon_timeout: seconds(settings, "altimailimaplogontimeout", DEFAULT_LOGON_TIMEOUT),
            bayes: settings.bool("altimailbayesenabled"),
        }
    }
}
