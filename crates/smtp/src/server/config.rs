//! Building a session's configuration from the port, the client's IP range and the settings.

use altimail_core::codes::{Security, range};
use altimail_core::password;
use altimail_net::{Connection, log_mask};
use altimail_store::repo::settings::Settings;

use crate::session::{PortSecurity, SessionConfig, TlsInfo};

/// The TLS facts of an established connection, for `Received:` and the envelope.
pub fn tls_info(conn: &Connection) -> Option<TlsInfo> {
    let tls = conn.stream.tls_session()?;
    let version = match tls.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    };
    let suite = tls.negotiated_cipher_suite();
    let cipher = suite.map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let bits = suite.map(|_| if cipher.contains("256") || cipher.contains("CHACHA20") { 256 } else { 128 });
    Some(TlsInfo { version, cipher, bits })
}

/// The session's configuration; `offer_cram_md5` when every account's password is stored
/// recoverably ([`altimail_store::ChallengeLogons`]).
pub fn session_config(conn: &Connection, settings: &Settings, host: &str, offer_cram_md5: bool) -> SessionConfig {
    let mut c = SessionConfig::new(host);
    c.greeting = settings.string("welcomesmtp");
    c.max_message_size = u64::try_from(settings.int("maxmessagesize")).unwrap_or(0) * 1024;
    c.security = match (conn.port.security, tls_info(conn)) {
        (_, Some(info)) => PortSecurity::Implicit(info),
        (Security::StartTlsOptional, None) if conn.can_start_tls() => PortSecurity::StartTlsOptional,
        (Security::StartTlsRequired, None) if conn.can_start_tls() => PortSecurity::StartTlsRequired,
        _ => PortSecurity::Plain,
    };
    c.auth_requires_tls = conn.range.options & range::TLS_FOR_AUTH != 0;
    c.allow_plain_without_tls = settings.bool("authallowplaintext");
    // A fresh challenge per connection, and only while CRAM-MD5 can succeed for every account:
    // mutt and curl prefer it and never fall back after its 535.
    c.cram_md5_challenge = offer_cram_md5.then(|| password::cram_md5_challenge(host));
    c.allow_null_sender = settings.bool("allowmailfromnull");
    c.allow_bare_line_endings = settings.bool("smtpallowincorrectlineendings");
    let default_domain = settings.string("defaultdomain");
    c.default_domain = (!default_domain.trim().is_empty()).then(|| default_domain.trim().to_owned());
    c.max_invalid_commands = if settings.bool("disconnectinvalidclients") {
        u32::try_from(settings.int("maximumincorrectcommands")).unwrap_or(0)
    } else {
        0
    };
    let mask = conn.log.mask();
    c.log_received = mask & log_mask::ENABLED != 0 && mask & log_mask::SMTP != 0;
    c
}
