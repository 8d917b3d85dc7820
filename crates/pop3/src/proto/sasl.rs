//! SASL for POP3 AUTH (RFC 5034): response decoding and the PLAIN mechanism (RFC 4616).
//!
//! Only decoding lives here; the `+ ` continuation and the replies are the session's. The base64
//! framing and [`SaslError`] are shared with SMTP and IMAP (`altimail_core::sasl`).

pub use altimail_core::sasl::{SaslError, decode_response};

use super::credentials::{Credentials, Method, Secret};

/// Decodes a PLAIN message `authzid NUL authcid NUL passwd` (RFC 4616 §2). An empty authzid, or
/// one equal to the authcid (case-insensitively), becomes `None`.
pub fn decode_plain(message: &[u8]) -> Result<Credentials, SaslError> {
    let parts = altimail_core::sasl::split_plain(message).ok_or(SaslError::Malformed)?;
    Ok(Credentials {
        method: Method::Plain,
        authzid: parts.authzid,
        username: parts.username,
        password: Secret::new(parts.password),
        timestamp: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain() {
        let creds = decode_plain(b"\0john@example.com\0secret").unwrap();
        assert_eq!(
            (creds.method, creds.authzid, creds.username.as_str(), creds.password.expose()),
            (Method::Plain, None, "john@example.com", "secret")
        );
        assert_eq!(decode_plain(b"John@Example.com\0john@example.com\0pw").unwrap().authzid, None);
        assert_eq!(decode_plain(b"admin\0john\0pw").unwrap().authzid.as_deref(), Some("admin"));
        for bad in [&b"john\0pw"[..], b"\0\0pw", b"\0john\0", b"a\0b\0c\0d", b"\0u\0\xff", b""] {
            assert_eq!(decode_plain(bad), Err(SaslError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn decodes_responses() {
        assert_eq!(decode_response("*"), Err(SaslError::Cancelled));
        assert_eq!(decode_response("="), Ok(Vec::new()));
        assert_eq!(decode_response("am9obg=="), Ok(b"john".to_vec()));
        assert_eq!(decode_response("am9obg"), Ok(b"john".to_vec()));
        assert_eq!(decode_response("!!!"), Err(SaslError::BadBase64));
    }
}
