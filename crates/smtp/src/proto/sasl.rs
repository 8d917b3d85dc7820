//! SASL for SMTP AUTH (RFC 4954): the PLAIN (RFC 4616) and LOGIN mechanisms.
//!
//! Only the decoding lives here; prompts and replies are the session's. Credentials are kept in
//! [`Secret`], whose `Debug` prints `***`, so a stray `{:?}` in a log line cannot leak a password.

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64, padding optional on input (some clients omit it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An authentication mechanism this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// PLAIN (RFC 4616): `authzid NUL authcid NUL passwd` in one message.
    Plain,
    /// LOGIN (draft-murchison-sasl-login): user name and password in two prompts.
    Login,
}

impl Mechanism {
    /// Recognises a mechanism name, case-insensitively.
    pub fn parse(name: &str) -> Option<Mechanism> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Mechanism::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Mechanism::Login)
        } else {
            None
        }
    }

    /// The name as advertised.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// Why a SASL exchange failed on the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The client sent `*` (RFC 4954 §4).
    #[error("authentication cancelled")]
    Cancelled,
    /// The response is not base64.
    #[error("invalid base64")]
    BadBase64,
    /// The decoded message is not a valid PLAIN message, or not UTF-8.
    #[error("malformed credentials")]
    Malformed,
}

/// A password (or other secret) that never shows in `Debug` output.
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
        f.write_str("***")
    }
}

/// What a client presented to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The mechanism used.
    pub mechanism: Mechanism,
    /// The identity to act as, when the client asked for one other than `username`
    /// (PLAIN only). The driver must refuse it unless `username` may act for it.
    pub authzid: Option<String>,
    /// The authentication identity (account address or name).
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// Decodes one client response line: `*` cancels, `=` is an empty response (RFC 4954 §4).
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

/// Decodes a PLAIN message (RFC 4616 §2). An empty authzid, or one equal to the authcid
/// (case-insensitively), becomes `None`.
pub fn decode_plain(message: &[u8]) -> Result<Credentials, SaslError> {
    let text = std::str::from_utf8(message).map_err(|_| SaslError::Malformed)?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(username), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if username.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    let authzid = (!authzid.is_empty() && !authzid.eq_ignore_ascii_case(username)).then(|| authzid.to_owned());
    Ok(Credentials {
        mechanism: Mechanism::Plain,
        authzid,
        username: username.to_owned(),
        password: Secret::new(password),
    })
}

/// Decodes one LOGIN response (user name or password) into text.
pub fn decode_login_field(line: &str) -> Result<String, SaslError> {
    let bytes = decode_response(line)?;
    let text = String::from_utf8(bytes).map_err(|_| SaslError::Malformed)?;
    if text.is_empty() || text.contains('\0') {
        return Err(SaslError::Malformed);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain() {
        let creds = decode_plain(b"\0user@example.com\0secret").unwrap();
        assert_eq!(
            (creds.authzid, creds.username.as_str(), creds.password.expose()),
            (None, "user@example.com", "secret")
        );
        let creds = decode_plain(b"User@Example.com\0user@example.com\0pw").unwrap();
        assert_eq!(creds.authzid, None);
        let creds = decode_plain(b"admin\0user\0pw").unwrap();
        assert_eq!(creds.authzid.as_deref(), Some("admin"));
        for bad in [&b"user\0pw"[..], b"\0\0pw", b"\0user\0", b"a\0b\0c\0d", b"\0u\0\xff"] {
            assert_eq!(decode_plain(bad), Err(SaslError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn decodes_responses() {
        assert_eq!(decode_response("*"), Err(SaslError::Cancelled));
        assert_eq!(decode_response("="), Ok(Vec::new()));
        assert_eq!(decode_response("dXNlcg=="), Ok(b"user".to_vec()));
        assert_eq!(decode_response("dXNlcg"), Ok(b"user".to_vec()));
        assert_eq!(decode_response("!!!"), Err(SaslError::BadBase64));
        assert_eq!(decode_login_field("dXNlcg=="), Ok("user".to_owned()));
        assert_eq!(decode_login_field("="), Err(SaslError::Malformed));
        assert_eq!(encode_challenge(b"Username:"), "VXNlcm5hbWU6");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let creds = decode_plain(b"\0user\0hunter2").unwrap();
        assert!(!format!("{creds:?}").contains("hunter2"));
    }
}
