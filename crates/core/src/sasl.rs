//! SASL pieces shared by the SMTP, POP3 and IMAP sessions: the base64 framing of client
//! responses ([`decode_response`], [`encode_challenge`]), the PLAIN message ([`split_plain`]),
//! and [`Secret`], which keeps a password out of `Debug` output.
//!
//! Mechanisms and the credentials each protocol hands its driver stay in the protocol crates.
//!
//! ```
//! use altimail_core::sasl::{SaslError, decode_response, split_plain};
//!
//! let message = decode_response("AHRpbQB0YW5zdGFhZg==")?;
//! assert_eq!(split_plain(&message).map(|p| p.username).as_deref(), Some("tim"));
//! assert_eq!(decode_response("*"), Err(SaslError::Cancelled));
//! # Ok::<(), SaslError>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::redact::REDACTED;

/// Standard base64, padding optional on input (some clients omit it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a SASL exchange failed on the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The client sent `*` (SMTP: RFC 4954 §4; POP3: RFC 5034 §4; IMAP: RFC 9051 §6.2.2).
    #[error("authentication cancelled")]
    Cancelled,
    /// The response is not base64.
    #[error("invalid base64")]
    BadBase64,
    /// The decoded message is not valid for the mechanism, or not UTF-8.
    #[error("malformed credentials")]
    Malformed,
}

/// A password (or digest, or other secret) that never shows in `Debug` output, so a stray
/// `{:?}` in a log line cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for checking it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Decodes one client response (a continuation line or an initial response): `*` cancels, `=`
/// or nothing is an empty response, trailing spaces are ignored.
pub fn decode_response(line: &str) -> Result<Vec<u8>, SaslError> {
    match line.trim_end_matches(' ') {
        "*" => Err(SaslError::Cancelled),
        "=" | "" => Ok(Vec::new()),
        encoded => BASE64.decode(encoded).map_err(|_| SaslError::BadBase64),
    }
}

/// Encodes a server challenge.
pub fn encode_challenge(challenge: &[u8]) -> String {
    BASE64.encode(challenge)
}

/// The parts of a SASL PLAIN message `authzid NUL authcid NUL passwd` (RFC 4616 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainParts {
    /// The authorisation identity; `None` when empty or equal to the user name (ignoring case).
    pub authzid: Option<String>,
    pub username: String,
    pub password: String,
}

/// Splits a decoded PLAIN message; `None` when it is not UTF-8, does not have exactly three
/// parts, or has an empty user name or password.
pub fn split_plain(message: &[u8]) -> Option<PlainParts> {
    let text = std::str::from_utf8(message).ok()?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(username), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if username.is_empty() || password.is_empty() {
        return None;
    }
    let authzid = (!authzid.is_empty() && !authzid.eq_ignore_ascii_case(username)).then(|| authzid.to_owned());
    Some(PlainParts { authzid, username: username.to_owned(), password: password.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_responses() {
        assert_eq!(decode_response("*"), Err(SaslError::Cancelled));
        assert_eq!(decode_response("* "), Err(SaslError::Cancelled));
        assert_eq!(decode_response("="), Ok(Vec::new()));
        assert_eq!(decode_response(""), Ok(Vec::new()));
        assert_eq!(decode_response("dXNlcg=="), Ok(b"user".to_vec()));
        assert_eq!(decode_response("dXNlcg"), Ok(b"user".to_vec()));
        assert_eq!(decode_response("!!!"), Err(SaslError::BadBase64));
        assert_eq!(encode_challenge(b"Username:"), "VXNlcm5hbWU6");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn splits_plain_messages() {
        let p = split_plain(b"\0tim\0tanstaaf").unwrap();
        assert_eq!((p.authzid, p.username.as_str(), p.password.as_str()), (None, "tim", "tanstaaf"));
        assert_eq!(split_plain(b"TIM\0tim\0x").unwrap().authzid, None);
        assert_eq!(split_plain(b"admin\0tim\0x").unwrap().authzid.as_deref(), Some("admin"));
        for bad in [&b"tim\0x"[..], b"\0\0x", b"\0tim\0", b"a\0b\0c\0d", b"\0\xff\0x"] {
            assert!(split_plain(bad).is_none(), "{bad:?}");
        }
    }
}
