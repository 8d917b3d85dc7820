//! hMailServer's numeric codes and bit masks, with the same values it stores in the database.

/// `hm_tcpipports.portprotocol` and the session types of the logs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Smtp = 1,
    Pop3 = 3,
    Imap = 5,
    /// Altimail's own: the web listener (autoconfig, Autodiscover). hMailServer has no such
    /// port type; it never appears in a database hMailServer made.
    Http = 80,
}

impl Protocol {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Protocol::Smtp),
            3 => Some(Protocol::Pop3),
            5 => Some(Protocol::Imap),
            80 => Some(Protocol::Http),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Pop3 => "pop3",
            Protocol::Imap => "imap",
            Protocol::Http => "http",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "smtp" => Some(Protocol::Smtp),
            "pop3" | "pop" => Some(Protocol::Pop3),
            "imap" => Some(Protocol::Imap),
            "http" | "https" => Some(Protocol::Http),
            _ => None,
        }
    }

    /// The IP-range bits that allow this protocol (any one of them does). IP ranges have no
    /// bit for HTTP: a range that lets clients use any mail protocol lets them fetch their
    /// settings too, and one that allows nothing (an auto-ban) does not.
    pub fn range_bit(self) -> i64 {
        match self {
            Protocol::Smtp => range::SMTP,
            Protocol::Pop3 => range::POP3,
            Protocol::Imap => range::IMAP,
            Protocol::Http => range::SMTP | range::POP3 | range::IMAP,
        }
    }
}

/// Connection security of ports, routes, fetch accounts and the smart host. JSON uses the same
/// names as [`Security::name`] and the command line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    None = 0,
    /// TLS from the first byte (ports 465, 993, 995).
    Tls = 1,
    #[serde(rename = "starttls")]
    StartTlsOptional = 2,
    #[serde(rename = "starttls-required")]
    StartTlsRequired = 3,
}

impl Security {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Security::None),
            1 => Some(Security::Tls),
            2 => Some(Security::StartTlsOptional),
            3 => Some(Security::StartTlsRequired),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn name(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::Tls => "tls",
            Security::StartTlsOptional => "starttls",
            Security::StartTlsRequired => "starttls-required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "0" => Some(Security::None),
            "tls" | "ssl" | "implicit" | "1" => Some(Security::Tls),
            "starttls" | "starttls-optional" | "2" => Some(Security::StartTlsOptional),
            "starttls-required" | "3" => Some(Security::StartTlsRequired),
            _ => None,
        }
    }

    /// True when the port needs a certificate.
    pub fn uses_tls(self) -> bool {
        self != Security::None
    }
}

/// `hm_securityranges.rangeoptions` bits.
pub mod range {
    pub const SMTP: i64 = 1;
    pub const POP3: i64 = 2;
    pub const IMAP: i64 = 8;
    pub const RELAY_LOCAL_TO_LOCAL: i64 = 64;
    pub const RELAY_LOCAL_TO_REMOTE: i64 = 128;
    pub const RELAY_REMOTE_TO_LOCAL: i64 = 256;
    pub const RELAY_REMOTE_TO_REMOTE: i64 = 512;
    pub const ANTI_SPAM: i64 = 1024;
    pub const ANTI_VIRUS: i64 = 4096;
    pub const AUTH_LOCAL_TO_LOCAL: i64 = 8192;
    pub const AUTH_LOCAL_TO_EXTERNAL: i64 = 16384;
    pub const AUTH_EXTERNAL_TO_LOCAL: i64 = 32768;
    pub const AUTH_EXTERNAL_TO_EXTERNAL: i64 = 65536;
    pub const TLS_FOR_AUTH: i64 = 131072;

    /// Option names for the CLI and API, in bit order.
    pub const NAMES: &[(&str, i64)] = &[
        ("smtp", SMTP),
        ("pop3", POP3),
        ("imap", IMAP),
        ("relay-local-to-local", RELAY_LOCAL_TO_LOCAL),
        ("relay-local-to-remote", RELAY_LOCAL_TO_REMOTE),
        ("relay-remote-to-local", RELAY_REMOTE_TO_LOCAL),
        ("relay-remote-to-remote", RELAY_REMOTE_TO_REMOTE),
        ("anti-spam", ANTI_SPAM),
        ("anti-virus", ANTI_VIRUS),
        ("auth-local-to-local", AUTH_LOCAL_TO_LOCAL),
        ("auth-local-to-external", AUTH_LOCAL_TO_EXTERNAL),
        ("auth-external-to-local", AUTH_EXTERNAL_TO_LOCAL),
        ("auth-external-to-external", AUTH_EXTERNAL_TO_EXTERNAL),
        ("tls-for-auth", TLS_FOR_AUTH),
    ];

    /// The names of the bits set in `options`.
    pub fn names(options: i64) -> Vec<&'static str> {
        NAMES.iter().filter(|(_, bit)| options & bit != 0).map(|(n, _)| *n).collect()
    }

    /// The bit for an option name.
    pub fn bit(name: &str) -> Option<i64> {
        NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, b)| *b)
    }
}

/// `hm_messages.messagetype`.
pub mod message_type {
    pub const QUEUED: i64 = 1;
    pub const DELIVERED: i64 = 2;
    pub const ETRN_HELD: i64 = 3;
}

/// `hm_messages.messageflags` bits.
pub mod flags {
    pub const SEEN: i64 = 1;
    pub const DELETED: i64 = 2;
    pub const FLAGGED: i64 = 4;
    pub const ANSWERED: i64 = 8;
    pub const DRAFT: i64 = 16;
    pub const RECENT: i64 = 32;
    pub const VIRUS_SCAN: i64 = 64;
}

/// `hm_distributionlists.distributionlistmode`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListMode {
    Public = 0,
    Membership = 1,
    Announcement = 2,
    DomainMembers = 3,
}

impl ListMode {
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(ListMode::Public),
            1 => Some(ListMode::Membership),
            2 => Some(ListMode::Announcement),
            3 => Some(ListMode::DomainMembers),
            _ => None,
        }
    }

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "public" | "0" => Some(ListMode::Public),
            "membership" | "members" | "1" => Some(ListMode::Membership),
            "announcement" | "2" => Some(ListMode::Announcement),
            "domain-members" | "domain" | "3" => Some(ListMode::DomainMembers),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_range_options_decode() {
        // hMailServer's "Internet" range.
        let names = range::names(96203);
        assert!(names.contains(&"smtp") && names.contains(&"auth-external-to-external"));
        assert!(!names.contains(&"auth-external-to-local"));
        let back: i64 = names.iter().map(|n| range::bit(n).unwrap()).sum();
        assert_eq!(back, 96203);
    }
}
