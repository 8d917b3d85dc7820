//! SASL for SMTP AUTH (RFC 4954): the PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195)
//! mechanisms.
//!
//! Only the decoding lives here; prompts, challenges and replies are the session's, checking the
//! CRAM-MD5 digest is the driver's. Credentials are kept in
//! [`Secret`], whose `Debug` prints `***`, so a stray `{:?}` in a log line cannot leak a password.
//! The base64 framing, [`SaslError`] and [`Secret`] are shared with POP3 and IMAP
//! (`altimail_core::sasl`).

pub use altimail_core::sasl::{SaslError, Secret, decode_response, encode_challenge};

/// An authentication mechanism this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// PLAIN (RFC 4616): `authzid NUL authcid NUL passwd` in one message.
    Plain,
    /// LOGIN (draft-murchison-sasl-login): user name and password in two prompts.
    Login,
    /// CRAM-MD5 (RFC 2195): the client answers the server's challenge with its user name and
    /// the HMAC-MD5 of the challenge keyed with the password, which never crosses the wire.
    CramMd5,
}

impl Mechanism {
    /// Recognises a mechanism name, case-insensitively.
    pub fn parse(name: &str) -> Option<Mechanism> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Mechanism::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Mechanism::Login)
        } else if name.eq_ignore_ascii_case("CRAM-MD5") {
            Some(Mechanism::CramMd5)
        } else {
            None
        }
    }

    /// The name as advertised.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }
}

/// What a client presented to authenticate.
///
/// For PLAIN and LOGIN `password` is the password and `challenge` is `None`. For CRAM-MD5
/// `password` is the client's digest (32 hex digits, as sent) and `challenge` the challenge it
/// answers: the driver checks it against the account's clear-text password with
/// `altimail_core::password::cram_md5_verify`, which only works where the password is stored
/// recoverably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The mechanism used.
    pub mechanism: Mechanism,
    /// The identity to act as, when the client asked for one other than `username`
    /// (PLAIN only). The driver must refuse it unless `username` may act for it.
    pub authzid: Option<String>,
    /// The authentication identity (account address or name).
    pub username: String,
    /// The password; for CRAM-MD5 the hex digest.
    pub password: Secret,
    /// CRAM-MD5 only: the challenge the digest answers, angle brackets included.
    pub challenge: Option<String>,
}

impl Credentials {
    /// Decodes a CRAM-MD5 response line (RFC 2195 §2): base64 of `username SP digest`, the
    /// digest being 32 hex digits; `*` cancels. The user name runs to the last space, so it may
    /// contain spaces itself. `challenge` is the one this session sent.
    pub fn decode_cram_md5(line: &str, challenge: &str) -> Result<Credentials, SaslError> {
        let bytes = decode_response(line)?;
        let text = String::from_utf8(bytes).map_err(|_| SaslError::Malformed)?;
        let (username, digest) = text.rsplit_once(' ').ok_or(SaslError::Malformed)?;
        if username.is_empty()
            || username.contains(['\0', '\r', '\n'])
            || digest.len() != 32
            || !digest.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(SaslError::Malformed);
        }
        Ok(Credentials {
            mechanism: Mechanism::CramMd5,
            authzid: None,
            username: username.to_owned(),
            password: Secret::new(digest),
            challenge: Some(challenge.to_owned()),
        })
    }
}

/// Decodes a PLAIN message (RFC 4616 §2). An empty authzid, or one equal to the authcid
/// (case-insensitively), becomes `None`.
pub fn decode_plain(message: &[u8]) -> Result<Credentials, SaslError> {
    let parts = altimail_core::sasl::split_plain(message).ok_or(SaslError::Malformed)?;
    Ok(Credentials {
        mechanism: Mechanism::Plain,
        authzid: parts.authzid,
        username: parts.username,
        password: Secret::new(parts.password),
        challenge: None,
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
    use base64::Engine as _;

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
    fn decodes_cram_md5() {
        use base64::engine::general_purpose::STANDARD;
        let challenge = "<1896.697170952@postoffice.reston.mci.net>";
        // RFC 2195 §2's example response.
        let line = "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw";
        let creds = Credentials::decode_cram_md5(line, challenge).unwrap();
        assert_eq!(
            (creds.mechanism, creds.username.as_str(), creds.password.expose(), creds.challenge.as_deref()),
            (Mechanism::CramMd5, "tim", "b913a602c7eda7a495b4e6e7334d3890", Some(challenge))
        );
        assert_eq!(creds.authzid, None);
        let spaced = STANDARD.encode("John Smith B913A602C7EDA7A495B4E6E7334D3890");
        assert_eq!(Credentials::decode_cram_md5(&spaced, challenge).unwrap().username, "John Smith");
        assert_eq!(Credentials::decode_cram_md5("*", challenge), Err(SaslError::Cancelled));
        assert_eq!(Credentials::decode_cram_md5("%%%", challenge), Err(SaslError::BadBase64));
        for bad in [
            "",
            "tim",
            "tim b913a602c7eda7a495b4e6e7334d389",
            "tim b913a602c7eda7a495b4e6e7334d3890 ",
            "tim b913a602c7eda7a495b4e6e7334d389g",
            " b913a602c7eda7a495b4e6e7334d3890",
            "t\0m b913a602c7eda7a495b4e6e7334d3890",
        ] {
            let line = STANDARD.encode(bad);
            assert_eq!(Credentials::decode_cram_md5(&line, challenge), Err(SaslError::Malformed), "{bad:?}");
        }
        assert_eq!(
            Credentials::decode_cram_md5(&STANDARD.encode(b"\xff b913a602c7eda7a495b4e6e7334d3890"), challenge),
            Err(SaslError::Malformed)
        );
        assert_eq!(Mechanism::parse("cram-md5"), Some(Mechanism::CramMd5));
        assert_eq!(Mechanism::CramMd5.as_str(), "CRAM-MD5");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let creds = decode_plain(b"\0user\0hunter2").unwrap();
        assert!(!format!("{creds:?}").contains("hunter2"));
    }
}
