//! What a session needs to know about its port, its client's IP range and the server settings.
//!
//! The driver builds one [`SessionConfig`] per connection from the `hm_tcpipports` row, the
//! matching security range and `hm_settings`; the session only reads it.

/// Longest command line in octets, line ending excluded, as hMailServer allows (`Lines > 500
/// chars → -ERR`); RFC 2449 §4 asks clients for at most 255. `AUTH` lines may be longer.
pub const MAX_COMMAND_LINE: usize = 500;
/// Longest `AUTH` command or SASL response line in octets, line ending included. Also the most a
/// line may grow in the input buffer before it is discarded as too long.
pub const MAX_AUTH_LINE: usize = 12_288;
/// Most unprocessed input buffered while the session waits for the driver (pipelined commands,
/// RFC 2449 §6.6); beyond it the client is flooding and the session closes.
pub const MAX_BUFFERED_INPUT: usize = 64 * 1024;

/// TLS on this port (`hm_tcpipports.portconnectionsecurity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSecurity {
    /// No TLS at all (0).
    Plain,
    /// The stream was TLS from the first byte (1); the greeting comes after the handshake.
    Implicit,
    /// STLS offered (2).
    StartTlsOptional,
    /// STLS offered and required before USER, PASS, APOP and AUTH (3).
    StartTlsRequired,
}

/// Per-connection configuration.
///
/// Fields are public; start from [`SessionConfig::new`] and set what differs from the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The greeting text (setting `welcomepop3`); empty means `POP3`, as in hMailServer.
    pub greeting: String,
    /// The APOP timestamp (`<pid.clock@host>`, RFC 1939 §7) when the driver offers APOP: it is
    /// appended to the greeting and APOP is accepted. `None`: no APOP, as in hMailServer.
    pub apop_timestamp: Option<String>,
    /// TLS on this port.
    pub security: PortSecurity,
    /// The client's IP range requires TLS before logon (range option 131072).
    pub auth_requires_tls: bool,
    /// Emit [`Action::Received`](super::Action::Received) with each client line, log-safe.
    pub log_received: bool,
}

impl SessionConfig {
    /// The defaults of a fresh hMailServer installation on a plain port 110.
    pub fn new() -> Self {
        SessionConfig {
            greeting: String::new(),
            apop_timestamp: None,
            security: PortSecurity::Plain,
            auth_requires_tls: false,
            log_received: false,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}
