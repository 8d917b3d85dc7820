//! Building a session's configuration from the port, the client's IP range and the settings.

use altimail_core::codes::{Security, range};
use altimail_net::{Connection, log_mask};
use altimail_store::repo::settings::Settings;

use crate::session::{PortSecurity, SessionConfig};

/// The setting that offers APOP: the greeting then carries a timestamp and `APOP` is accepted,
/// while every account's password is stored recoverably (types 0 and 1; see
/// [`altimail_store::ChallengeLogons`]), since no digest can be checked against a hash.
/// hMailServer has no APOP, so a missing row (the default) leaves it off.
pub const SETTING_APOP: &str = "altimailpop3apop";

/// The session's configuration; `apop_possible` when every account's password is stored
/// recoverably.
pub(crate) fn session_config(conn: &Connection, settings: &Settings, apop_possible: bool) -> SessionConfig {
    let mut c = SessionConfig::new();
    c.greeting = settings.string("welcomepop3");
    c.security = if conn.is_tls() {
        PortSecurity::Implicit
    } else {
        match conn.port.security {
            Security::StartTlsOptional if conn.can_start_tls() => PortSecurity::StartTlsOptional,
            // Without a usable certificate STLS fails, but logons stay refused: fail closed.
            Security::StartTlsRequired => PortSecurity::StartTlsRequired,
            _ => PortSecurity::Plain,
        }
    };
    c.auth_requires_tls = conn.range.options & range::TLS_FOR_AUTH != 0;
    if settings.bool(SETTING_APOP) && apop_possible {
        c.apop_timestamp = Some(apop_timestamp(conn.session_id, &host_name(settings)));
    }
    let mask = conn.log.mask();
    c.log_received = mask & log_mask::ENABLED != 0 && mask & log_mask::POP3 != 0;
    c
}

/// The APOP timestamp `<pid.session.clock@host>` (RFC 1939 §7): the session id makes it unique
/// within the process, the process id and the clock across restarts.
fn apop_timestamp(session_id: u64, host: &str) -> String {
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("<{}.{session_id}.{clock}@{host}>", std::process::id())
}

/// The server's host name: setting `hostname`, else the machine's.
fn host_name(settings: &Settings) -> String {
    let configured = settings.string("hostname");
    if !configured.trim().is_empty() {
        return configured.trim().to_owned();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apop_timestamps_are_unique_msg_ids() {
        let a = apop_timestamp(1, "mx.example.com");
        let b = apop_timestamp(2, "mx.example.com");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@mx.example.com>"), "{a}");
    }
}
