//! What a client presents to log on, with the password kept out of `Debug` output ([`Secret`],
//! shared with SMTP and IMAP).

pub use altimail_core::sasl::Secret;

/// How the client logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `USER` and `PASS` (RFC 1939 §7).
    User,
    /// `APOP` (RFC 1939 §7): an MD5 digest of the greeting's timestamp and the password.
    Apop,
    /// `AUTH PLAIN` (RFC 5034, RFC 4616).
    Plain,
}

/// Credentials for the driver to check.
///
/// For [`Method::User`] and [`Method::Plain`] `password` is the password and `timestamp` is
/// `None`. For [`Method::Apop`] `password` is the client's digest (32 hex digits, as sent) and
/// `timestamp` the greeting's timestamp it answers (angle brackets included): the driver checks
/// `MD5(timestamp + password)` against the account's clear-text password, which only works
/// where the password is stored recoverably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// How the client logged on.
    pub method: Method,
    /// The identity to act as, when a PLAIN client asked for one other than `username`. The
    /// driver must refuse it unless `username` may act for it.
    pub authzid: Option<String>,
    /// The user name as the client typed it.
    pub username: String,
    /// The password; for APOP the hex digest.
    pub password: Secret,
    /// APOP only: the timestamp the digest answers.
    pub timestamp: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let credentials = Credentials {
            method: Method::User,
            authzid: None,
            username: "john".into(),
            password: Secret::new("hunter2"),
            timestamp: None,
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert_eq!(credentials.password.expose(), "hunter2");
    }
}
