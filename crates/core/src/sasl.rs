//! SASL pieces shared by the SMTP, POP3 and IMAP sessions.

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
