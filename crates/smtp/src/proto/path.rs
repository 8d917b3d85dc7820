//! Reverse and forward paths of MAIL FROM and RCPT TO (RFC 5321 §4.1.2).
//!
//! Accepted forms, and why:
//!
//! - `<>`, the null reverse-path (bounces); refused as a forward-path.
//! - `<local@domain>` and, as hMailServer tolerates, `local@domain` without angle brackets.
//! - Quoted local parts, `<"a b"@example.com>`: the quotes' content is kept, unescaped. A quoted
//!   local part may contain `@`, `>` and spaces, so the path is scanned with quotes in mind.
//! - Source routes `<@a,@b:user@d>`: accepted and ignored (RFC 5321 §4.1.1.3, §C); the
//!   address is `user@d`.
//! - Address literals `[192.0.2.1]` and `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3).
//! - A local part with no `@` at all (`<postmaster>`): parsed as *unqualified*; the session
//!   decides whether to add a default domain or to refuse it.
//!
//! Domains are checked label by label: no empty label (so no trailing dot), at most 63 octets
//! per label and 255 in all, letters, digits and inner hyphens. Non-ASCII characters are parsed
//! in local parts and domains; whether they are allowed (SMTPUTF8, RFC 6531) is the session's
//! decision, made with [`Mailbox::is_ascii`]. Unquoted local parts are taken leniently as to dots
//! (`a..b`, `a.`), as Postfix does, because such addresses exist in the wild.
//!
//! Limits (RFC 5321 §4.5.3.1): a path is at most 256 octets with its angle brackets, a local
//! part at most 64 octets.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest path in octets, angle brackets included (RFC 5321 §4.5.3.1.3).
pub const MAX_PATH_LENGTH: usize = 256;
/// Longest local part in octets (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART_LENGTH: usize = 64;
/// Longest domain in octets (RFC 5321 §4.5.3.1.2).
pub const MAX_DOMAIN_LENGTH: usize = 255;
/// Longest label of a domain in octets (RFC 1035 §2.3.4).
pub const MAX_LABEL_LENGTH: usize = 63;

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Nothing where the path should be.
    #[error("no address given")]
    Missing,
    /// `<` without its `>`, or a quoted string without its closing quote.
    #[error("unterminated path")]
    Unterminated,
    /// Something directly after the path other than a space and parameters.
    #[error("unexpected characters after the path")]
    TrailingGarbage,
    /// The path is longer than [`MAX_PATH_LENGTH`].
    #[error("path too long")]
    TooLong,
    /// The local part is longer than [`MAX_LOCAL_PART_LENGTH`].
    #[error("local part too long")]
    LocalPartTooLong,
    /// The local part is empty or holds a character that needs quoting.
    #[error("invalid local part")]
    BadLocalPart,
    /// The domain is empty, has an empty label (a trailing dot), a bad character or is too long.
    #[error("invalid domain")]
    BadDomain,
    /// `[...]` that is neither an IPv4 nor an `IPv6:` literal.
    #[error("invalid address literal")]
    BadAddressLiteral,
    /// A source route (`@a,@b:`) that is not a list of `@domain`.
    #[error("invalid source route")]
    BadSourceRoute,
    /// `<>` where a forward-path is needed.
    #[error("the null path is not allowed here")]
    NullNotAllowed,
}

/// The part of an address after the `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A domain name as given (case kept), possibly with UTF-8 labels.
    Name(String),
    /// `[192.0.2.1]`.
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`.
    Ipv6(Ipv6Addr),
}

impl Domain {
    /// Parses a domain name or an address literal.
    pub fn parse(input: &str) -> Result<Domain, PathError> {
        if let Some(literal) = input.strip_prefix('[') {
            let literal = literal.strip_suffix(']').ok_or(PathError::BadAddressLiteral)?;
            return parse_address_literal(literal);
        }
        validate_domain_name(input)?;
        Ok(Domain::Name(input.to_owned()))
    }

    /// `true` unless the name holds non-ASCII characters.
    pub fn is_ascii(&self) -> bool {
        match self {
            Domain::Name(name) => name.is_ascii(),
            Domain::Ipv4(_) | Domain::Ipv6(_) => true,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Name(name) => f.write_str(name),
            Domain::Ipv4(ip) => write!(f, "[{ip}]"),
            Domain::Ipv6(ip) => write!(f, "[IPv6:{ip}]"),
        }
    }
}

/// A mailbox `local@domain`, or a bare local part when the client gave no domain.
///
/// `Display` writes the address as it goes on the wire (without angle brackets), quoting the
/// local part when needed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    local: String,
    domain: Option<Domain>,
}

impl Mailbox {
    /// A mailbox from parts already validated by the caller.
    pub fn new(local: impl Into<String>, domain: Option<Domain>) -> Self {
        Mailbox { local: local.into(), domain }
    }

    /// Parses a mailbox without angle brackets (`user@example.com`, `"a b"@example.com`).
    pub fn parse(input: &str) -> Result<Mailbox, PathError> {
        parse_mailbox(input)
    }

    /// The local part, without quotes or escapes.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain; `None` for an unqualified address.
    pub fn domain(&self) -> Option<&Domain> {
        self.domain.as_ref()
    }

    /// `true` when the client gave a domain.
    pub fn is_qualified(&self) -> bool {
        self.domain.is_some()
    }

    /// `true` when neither the local part nor the domain holds non-ASCII characters.
    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii() && self.domain.as_ref().is_none_or(Domain::is_ascii)
    }

    /// The same mailbox with `domain` when it had none.
    pub fn qualified_with(self, domain: Domain) -> Mailbox {
        Mailbox { domain: Some(self.domain.unwrap_or(domain)), ..self }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if local_needs_quotes(&self.local) {
            f.write_str("\"")?;
            for c in self.local.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        } else {
            f.write_str(&self.local)?;
        }
        match &self.domain {
            Some(domain) => write!(f, "@{domain}"),
            None => Ok(()),
        }
    }
}

/// The argument of MAIL FROM: the null path or a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    /// `<>`: no bounce address (RFC 5321 §4.5.5).
    Null,
    /// A sender address.
    Mailbox(Mailbox),
}

impl ReversePath {
    /// The mailbox, `None` for the null path.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ReversePath::Null => None,
            ReversePath::Mailbox(mailbox) => Some(mailbox),
        }
    }
}

impl fmt::Display for ReversePath {
    /// The address without angle brackets; empty for the null path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => Ok(()),
            ReversePath::Mailbox(mailbox) => mailbox.fmt(f),
        }
    }
}

/// Parses the reverse-path at the start of `input` (leading spaces skipped); returns it and the
/// rest of the line (the parameters, still with their leading space).
pub fn parse_reverse_path(input: &str) -> Result<(ReversePath, &str), PathError> {
    let (inner, rest) = split_path(input)?;
    match inner {
        None => Ok((ReversePath::Null, rest)),
        Some(inner) => Ok((ReversePath::Mailbox(parse_routed_mailbox(inner)?), rest)),
    }
}

/// Parses the forward-path at the start of `input` (leading spaces skipped); returns it and the
/// rest of the line.
pub fn parse_forward_path(input: &str) -> Result<(Mailbox, &str), PathError> {
    let (inner, rest) = split_path(input)?;
    let inner = inner.ok_or(PathError::NullNotAllowed)?;
    Ok((parse_routed_mailbox(inner)?, rest))
}

/// Separates the path from what follows. Returns `None` for `<>`.
fn split_path(input: &str) -> Result<(Option<&str>, &str), PathError> {
    let input = input.trim_start_matches(' ');
    let (inner, rest) = if let Some(after) = input.strip_prefix('<') {
        let close = find_outside_quotes(after, '>').ok_or(PathError::Unterminated)?;
        let (inner, rest) = (after.get(..close).unwrap_or(""), after.get(close + 1..).unwrap_or(""));
        if !rest.is_empty() && !rest.starts_with(' ') {
            return Err(PathError::TrailingGarbage);
        }
        (inner, rest)
    } else {
        let end = find_outside_quotes(input, ' ').unwrap_or(input.len());
        let (inner, rest) = input.split_at(end);
        if inner.is_empty() {
            return Err(PathError::Missing);
        }
        if inner.contains(['<', '>']) {
            return Err(PathError::TrailingGarbage);
        }
        (inner, rest)
    };
    // Counted with its angle brackets even when the client left them out, so that a path
    // accepted here can always be written back (`<path>`) within the limit.
    if inner.len() + 2 > MAX_PATH_LENGTH {
        return Err(PathError::TooLong);
    }
    Ok((if inner.is_empty() { None } else { Some(inner) }, rest))
}

/// Byte index of the first `wanted` that is not inside a quoted string.
fn find_outside_quotes(input: &str, wanted: char) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in input.char_indices() {
        if in_quotes {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
        } else if c == wanted {
            return Some(index);
        } else if c == '"' {
            in_quotes = true;
        }
    }
    None
}

/// Drops a source route (`@a,@b:`) after checking it, then parses the mailbox.
fn parse_routed_mailbox(inner: &str) -> Result<Mailbox, PathError> {
    if !inner.starts_with('@') {
        return parse_mailbox(inner);
    }
    let (route, mailbox) = inner.split_once(':').ok_or(PathError::BadSourceRoute)?;
    for hop in route.split(',') {
        let domain = hop.strip_prefix('@').ok_or(PathError::BadSourceRoute)?;
        Domain::parse(domain).map_err(|_| PathError::BadSourceRoute)?;
    }
    parse_mailbox(mailbox)
}

fn parse_mailbox(input: &str) -> Result<Mailbox, PathError> {
    let (local, raw_local_len, rest) = if let Some(quoted) = input.strip_prefix('"') {
        let (local, consumed) = parse_quoted(quoted)?;
        (local, consumed + 1, quoted.get(consumed..).unwrap_or(""))
    } else {
        let end = input.find('@').unwrap_or(input.len());
        let (local, rest) = input.split_at(end);
        if local.is_empty() || !local.chars().all(is_dot_string_char) {
            return Err(PathError::BadLocalPart);
        }
        (local.to_owned(), local.len(), rest)
    };
    if raw_local_len > MAX_LOCAL_PART_LENGTH {
        return Err(PathError::LocalPartTooLong);
    }
    let domain = match rest.strip_prefix('@') {
        Some(domain) => Some(Domain::parse(domain)?),
        None if rest.is_empty() => None,
        None => return Err(PathError::BadLocalPart),
    };
    Ok(Mailbox { local, domain })
}

/// Parses the body of a quoted string (after the opening quote). Returns the unescaped content
/// and the number of bytes consumed, closing quote included.
fn parse_quoted(input: &str) -> Result<(String, usize), PathError> {
    let mut content = String::new();
    let mut escaped = false;
    for (index, c) in input.char_indices() {
        if escaped {
            if !(c == ' ' || c.is_ascii_graphic() || is_utf8_char(c)) {
                return Err(PathError::BadLocalPart);
            }
            content.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((content, index + 1));
        } else if c == ' ' || c.is_ascii_graphic() || is_utf8_char(c) {
            content.push(c);
        } else {
            return Err(PathError::BadLocalPart);
        }
    }
    Err(PathError::Unterminated)
}

/// `atext` (RFC 5322 §3.2.3), the dot, and non-ASCII characters (RFC 6531 §3.3).
fn is_dot_string_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || is_utf8_char(c)
}

/// A non-ASCII character that may stand in an internationalised address (RFC 6531 §3.3).
fn is_utf8_char(c: char) -> bool {
    !c.is_ascii() && !c.is_control() && !c.is_whitespace()
}

fn local_needs_quotes(local: &str) -> bool {
    local.is_empty() || !local.chars().all(is_dot_string_char)
}

fn validate_domain_name(name: &str) -> Result<(), PathError> {
    if name.is_empty() || name.len() > MAX_DOMAIN_LENGTH {
        return Err(PathError::BadDomain);
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= MAX_LABEL_LENGTH
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || is_utf8_char(c));
        if !valid {
            return Err(PathError::BadDomain);
        }
    }
    Ok(())
}

fn parse_address_literal(literal: &str) -> Result<Domain, PathError> {
    let tag = literal.get(..5).filter(|tag| tag.eq_ignore_ascii_case("IPv6:"));
    match tag {
        Some(_) => literal.get(5..).and_then(|ip| ip.parse().ok()).map(Domain::Ipv6),
        None => literal.parse().ok().map(Domain::Ipv4),
    }
    .ok_or(PathError::BadAddressLiteral)
}

#[cfg(test)]
mod tests;
