//! What a session needs to know about its port, its client's IP range and the server settings.
//!
//! The driver builds one [`SessionConfig`] per connection from the `hm_tcpipports` row, the
//! matching security range and `hm_settings`; the session only reads it.

/// Default longest command line in octets, CRLF included (RFC 5321 §4.5.3.1.4).
pub const DEFAULT_MAX_COMMAND_LINE: usize = 512;
/// Longest AUTH command or SASL response line in octets, CRLF included (RFC 4954 §4). Also the
/// most a line may grow in the input buffer before it is discarded as too long.
pub const MAX_AUTH_LINE: usize = 12_288;
/// Default longest DATA line in octets, as hMailServer allows (RFC 5321 says 1000).
pub const DEFAULT_MAX_DATA_LINE: usize = 100_000;
/// Message size ceiling when `max_message_size` is 0 ("unlimited").
pub const UNLIMITED_MESSAGE_CEILING: u64 = 256 * 1024 * 1024; // 256 MiB
/// Default body size from which a body is streamed to the driver rather than held in memory.
pub const DEFAULT_STREAM_THRESHOLD: usize = 1024 * 1024; // 1 MiB
/// Default and ceiling for recipients per message, hMailServer's fixed limit.
pub const MAX_RECIPIENTS_CEILING: usize = 50_000;
/// Most unprocessed input buffered while the session waits for the driver (pipelined commands,
/// BDAT chunks); beyond it the client is flooding and the session closes with 421.
pub const MAX_BUFFERED_INPUT: usize = 1024 * 1024; // 1 MiB

/// TLS on this port (`hm_tcpipports.portconnectionsecurity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSecurity {
    /// No TLS at all (0).
    Plain,
    /// The stream was TLS from the first byte (1); the greeting comes after the handshake.
    Implicit(TlsInfo),
    /// STARTTLS offered (2).
    StartTlsOptional,
    /// STARTTLS offered and required before MAIL, RCPT, DATA, BDAT, AUTH, ETRN, VRFY and EXPN (3).
    StartTlsRequired,
}

/// What the driver tells the session about an established TLS layer, for the envelope and the
/// `Received:` header (`(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// Cipher suite name.
    pub cipher: String,
    /// Symmetric key bits, when known.
    pub bits: Option<u16>,
}

/// Per-connection configuration.
///
/// Fields are public; start from [`SessionConfig::new`] and set what differs from the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// This server's host name (setting `hostname`), used in the greeting and replies.
    pub hostname: String,
    /// The greeting text (setting `welcomesmtp`). Empty: `<hostname> ESMTP`; otherwise
    /// ` ESMTP` is appended unless it already ends so, as hMailServer does.
    pub greeting: String,
    /// Largest message in octets (setting `maxmessagesize` × 1024); 0 means unlimited, which is
    /// advertised as a bare `SIZE` and capped at [`UNLIMITED_MESSAGE_CEILING`].
    pub max_message_size: u64,
    /// TLS on this port.
    pub security: PortSecurity,
    /// AUTH is offered on this port at all (INI `DisableAUTHList` leaves it out).
    pub auth_enabled: bool,
    /// The client's IP range requires TLS before AUTH (range option 131072).
    pub auth_requires_tls: bool,
    /// PLAIN is offered without TLS (setting `authallowplaintext`). With TLS, PLAIN and LOGIN
    /// are always offered; LOGIN is always offered when AUTH is.
    pub allow_plain_without_tls: bool,
    /// The CRAM-MD5 challenge (RFC 2195 §2, `<random.timestamp@hostname>`) of this connection;
    /// `Some` offers CRAM-MD5 wherever AUTH is offered, TLS or not (the password never crosses
    /// the wire). The driver makes a fresh, unpredictable one per connection
    /// (`altimail_core::password::cram_md5_challenge`); the session only sends it back.
    pub cram_md5_challenge: Option<String>,
    /// `MAIL FROM:<>` is accepted (setting `allowmailfromnull`).
    pub allow_null_sender: bool,
    /// Bodies with bare CR or LF are accepted, normalised to CRLF
    /// (setting `smtpallowincorrectlineendings`, on by default in hMailServer). Off: refused
    /// with 554 after the end of DATA.
    pub allow_bare_line_endings: bool,
    /// Domain added to unqualified addresses (setting `defaultdomain`); without it, unqualified
    /// senders and recipients are refused, except `postmaster`, qualified with the host name.
    pub default_domain: Option<String>,
    /// Recipients per message; 0 means [`MAX_RECIPIENTS_CEILING`], larger values are capped to it.
    pub max_recipients: usize,
    /// Close after more than this many replies ≥ 500 (`maximumincorrectcommands` when
    /// `disconnectinvalidclients` is set); 0 never closes.
    pub max_invalid_commands: u32,
    /// Longest command line in octets, CRLF included.
    pub max_command_line: usize,
    /// Longest DATA line in octets, CRLF excluded.
    pub max_data_line: usize,
    /// Emit [`Action::Received`](super::Action::Received) with each client line, log-safe.
    pub log_received: bool,
    /// A body larger than this many octets is streamed to the driver
    /// ([`Action::StreamBody`](super::Action::StreamBody)) instead of being held in memory;
    /// `usize::MAX` never streams.
    pub stream_threshold: usize,
    /// Ask the driver before accepting each transaction's body ([`Action::CheckData`](super::Action::CheckData)):
    /// the anti-spam tests that run before transmission.
    pub check_before_data: bool,
    /// Ask the driver about each HELO/EHLO name ([`Action::CheckHelo`](super::Action::CheckHelo)):
    /// the script event OnHELO.
    pub check_helo: bool,
}

impl SessionConfig {
    /// The defaults of a fresh hMailServer installation on a plain port 25.
    pub fn new(hostname: impl Into<String>) -> Self {
        SessionConfig {
            hostname: hostname.into(),
            greeting: String::new(),
            max_message_size: 20_480 * 1024,
            security: PortSecurity::Plain,
            auth_enabled: true,
            auth_requires_tls: false,
            allow_plain_without_tls: false,
            cram_md5_challenge: None,
            allow_null_sender: true,
            allow_bare_line_endings: true,
            default_domain: None,
            max_recipients: MAX_RECIPIENTS_CEILING,
            max_invalid_commands: 0,
            max_command_line: DEFAULT_MAX_COMMAND_LINE,
            max_data_line: DEFAULT_MAX_DATA_LINE,
            log_received: false,
            stream_threshold: DEFAULT_STREAM_THRESHOLD,
            check_before_data: false,
            check_helo: false,
        }
    }

    /// Effective message size cap in octets.
    pub(crate) fn size_cap(&self) -> u64 {
        if self.max_message_size == 0 { UNLIMITED_MESSAGE_CEILING } else { self.max_message_size }
    }

    /// Effective recipient limit.
    pub(crate) fn recipient_cap(&self) -> usize {
        if self.max_recipients == 0 { MAX_RECIPIENTS_CEILING } else { self.max_recipients.min(MAX_RECIPIENTS_CEILING) }
    }
}
