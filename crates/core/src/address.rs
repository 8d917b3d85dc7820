//! E-mail addresses and domain names as the administration tools accept them.
//!
//! hMailServer splits an address at its **last** `@` and compares addresses case-insensitively;
//! so do we. Validation here is for what an administrator types (accounts, aliases, lists), not a
//! full RFC 5321 parser: protocol code parses paths itself.

use std::fmt;

/// Why an address or domain name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{0:?} is not an e-mail address (expected local@domain)")]
    NotAnAddress(String),
    #[error("{0:?} is not a valid domain name")]
    BadDomain(String),
    #[error("{0:?} has an invalid local part")]
    BadLocalPart(String),
}

/// A validated address `local@domain`, kept with the case it was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    full: String,
    at: usize,
}

impl Address {
    /// Validates `input` (surrounding whitespace and angle brackets are removed).
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim().trim_start_matches('<').trim_end_matches('>').trim();
        let at = s.rfind('@').ok_or_else(|| AddressError::NotAnAddress(input.to_owned()))?;
        let (local, domain) = (&s[..at], &s[at + 1..]);
        if local.is_empty() {
            return Err(AddressError::NotAnAddress(input.to_owned()));
        }
        validate_local(local).map_err(|_| AddressError::BadLocalPart(input.to_owned()))?;
        validate_domain(domain)?;
        Ok(Address { full: s.to_owned(), at })
    }

    pub fn local(&self) -> &str {
        &self.full[..self.at]
    }

    pub fn domain(&self) -> &str {
        &self.full[self.at + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// Splits at the last `@`; `None` when there is none.
pub fn split(address: &str) -> Option<(&str, &str)> {
    address.rfind('@').map(|at| (&address[..at], &address[at + 1..]))
}

fn validate_local(local: &str) -> Result<(), ()> {
    if local.len() > 64 || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(());
    }
    // Printable characters except those that break paths, headers or our own file layout.
    let ok = local.chars().all(|c| {
        !c.is_control()
            && !c.is_whitespace()
            && !matches!(c, '@' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']' | '/')
    });
    if ok { Ok(()) } else { Err(()) }
}

/// Validates a domain name: labels of letters, digits and hyphens (or any non-ASCII letters, for
/// internationalised names), not starting or ending with a hyphen, 1–253 characters.
pub fn validate_domain(domain: &str) -> Result<(), AddressError> {
    let bad = || AddressError::BadDomain(domain.to_owned());
    if domain.is_empty() || domain.len() > 253 || domain.ends_with('.') {
        return Err(bad());
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err(bad());
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') {
            return Err(bad());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_splits_at_last_at() {
        let a = Address::parse(" <John.Doe@Example.com> ").unwrap();
        assert_eq!((a.local(), a.domain()), ("John.Doe", "Example.com"));
        assert_eq!(split("a@b@c"), Some(("a@b", "c")));
    }

    #[test]
    fn refuses_bad_input() {
        for bad in ["", "john", "@example.com", "john@", "john@-x.com", "jo hn@x.com", "john@x..com", "a/b@x.com"] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert!(validate_domain("example.com").is_ok());
        assert!(validate_domain("bücher.de").is_ok());
        assert!(validate_domain("exa mple.com").is_err());
    }
}
