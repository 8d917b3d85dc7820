//! A connection's configuration, read once from the port, the client's IP range and the settings.

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
        }
    }
}
