//! Address arithmetic exactly as hMailServer does it (`StringParser`, `PlusAddressing`):
//! split at the last `@`, strip plus addressing, compare without case, match `*`/`?` wildcards.

/// The domain: everything after the last `@`, or the whole string when there is none
/// (`StringParser::ExtractDomain`).
pub fn domain_of(address: &str) -> &str {
    address.rfind('@').map_or(address, |at| &address[at + 1..])
}

/// The mailbox (local part): everything before the last `@`, or nothing when there is none
/// (`StringParser::ExtractAddress`).
pub fn mailbox_of(address: &str) -> &str {
    address.rfind('@').map_or("", |at| &address[..at])
}

/// Case-insensitive equality (`String::CompareNoCase`).
pub fn same(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The key hMailServer's `ORDER BY` on a case-insensitive collation sorts by.
pub fn sort_key(s: &str) -> String {
    s.to_uppercase()
}

/// Removes plus addressing (`PlusAddressing::ExtractAccountAddress`): when `separator` is set,
/// the mailbox is cut at its first occurrence. An empty separator means plus addressing is off.
pub fn strip_plus(address: &str, separator: &str) -> String {
    if separator.is_empty() {
        return address.to_owned();
    }
    let mailbox = mailbox_of(address);
    match mailbox.find(separator) {
        Some(pos) => format!("{}@{}", &mailbox[..pos], domain_of(address)),
        None => address.to_owned(),
    }
}

/// Matches `value` against a pattern where `*` is any run of characters and `?` exactly one,
/// ignoring case (`StringParser::WildcardMatchNoCase`); every other character is literal.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    altimail_core::wildcard::matches(pattern, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_last_at_sign() {
        assert_eq!(domain_of("\"t@es@\"@test.co.uk"), "test.co.uk");
        assert_eq!(mailbox_of("\"t@es@\"@test.co.uk"), "\"t@es@\"");
        assert_eq!(domain_of("user@example.com@remote.test"), "remote.test");
        assert_eq!((domain_of("nodomain"), mailbox_of("nodomain")), ("nodomain", ""));
        assert_eq!(domain_of(""), "");
    }

    #[test]
    fn strips_plus_addressing_at_the_first_separator() {
        assert_eq!(strip_plus("john+news+x@example.com", "+"), "john@example.com");
        assert_eq!(strip_plus("john-news@example.com", "-"), "john@example.com");
        assert_eq!(strip_plus("john@example.com", "+"), "john@example.com");
        assert_eq!(strip_plus("+x@example.com", "+"), "@example.com");
        assert_eq!(strip_plus("john+x@example.com", ""), "john+x@example.com");
    }

    #[test]
    fn wildcards_like_hmailserver() {
        // hMailServer's own self-test cases (StringParser.cpp).
        assert!(wildcard_match("Test", "Test"));
        assert!(wildcard_match("", ""));
        assert!(wildcard_match("Test*", "Testar"));
        assert!(wildcard_match("Test*", "Test"));
        assert!(!wildcard_match("Test*", "Te"));
        assert!(wildcard_match("*two*", "one-two-three"));
        assert!(!wildcard_match("*two*", "one-three"));
        assert!(!wildcard_match("?two?", "one-two-three"));
        assert!(wildcard_match("?two?", "-two-"));
        // Case, dots and the empty string.
        assert!(wildcard_match("*.EXAMPLE.com", "mail.example.COM"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(!wildcard_match("example.com", "exampleXcom"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYbc"));
        assert!(!wildcard_match("a*b", "aXXbY"));
    }

    #[test]
    fn compares_without_case() {
        assert!(same("User@Example.COM", "user@example.com"));
        assert!(!same("user@example.com", "user@example.org"));
    }
}
