//! Header access for search, sort and thread, re-parsing each field from its raw bytes.
//!
//! Working from the raw bytes makes the result independent of the header parsers enabled on the
//! caller's `MessageParser`, and never indexes into a message with no parts.

use mail_parser::parsers::MessageStream;
use mail_parser::{Address, Header, HeaderValue, Message};

/// Most addresses looked at in one header, so a hostile list cannot make one search slow.
const MAX_ADDRESSES: usize = 1000;

/// The top-level header fields of `message`.
pub(crate) fn top_headers<'m>(message: &'m Message<'_>) -> &'m [Header<'m>] {
    message.parts.first().map(|p| p.headers.as_slice()).unwrap_or(&[])
}

/// The raw value bytes of `header` (after the colon, with folding and line end).
pub(crate) fn raw_value<'m>(message: &'m Message<'_>, header: &Header<'_>) -> &'m [u8] {
    let (start, end) = (header.offset_start as usize, header.offset_end as usize);
    message.raw_message.get(start..end.max(start)).unwrap_or(&[])
}

/// Raw values of every top-level header named `name` (case-insensitive), in order.
pub(crate) fn values<'m>(message: &'m Message<'_>, name: &'m str) -> impl Iterator<Item = &'m [u8]> + 'm {
    top_headers(message)
        .iter()
        .filter(move |h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(move |h| raw_value(message, h))
}

/// The first raw value of `name`.
pub(crate) fn first<'m>(message: &'m Message<'_>, name: &'m str) -> Option<&'m [u8]> {
    values(message, name).next()
}

/// The field parsers stop at a line end not followed by whitespace; make sure there is one.
fn terminated(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if raw.ends_with(b"\n") {
        raw.into()
    } else {
        let mut v = raw.to_vec();
        v.extend_from_slice(b"\r\n");
        v.into()
    }
}

/// Unfolded value with RFC 2047 words decoded and each run of whitespace made one space, so a
/// search for `a b` finds it across a folded line.
pub(crate) fn unstructured(raw: &[u8]) -> String {
    let raw = terminated(raw);
    let text = match MessageStream::new(&raw).parse_unstructured() {
        HeaderValue::Text(t) => t,
        HeaderValue::TextList(l) => l.join(" ").into(),
        _ => return String::new(),
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// One parsed address: display name (decoded) and `local@domain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mailbox {
    pub(crate) name: Option<String>,
    pub(crate) address: Option<String>,
}

/// The mailboxes of an address header, group members flattened.
pub(crate) fn addresses(raw: &[u8]) -> Vec<Mailbox> {
    let raw = terminated(raw);
    match MessageStream::new(&raw).parse_address() {
        HeaderValue::Address(Address::List(list)) => list.iter().take(MAX_ADDRESSES).map(mailbox).collect(),
        HeaderValue::Address(Address::Group(groups)) => {
            groups.iter().flat_map(|g| g.addresses.iter()).take(MAX_ADDRESSES).map(mailbox).collect()
        }
        _ => Vec::new(),
    }
}

/// The first address of an address header as SORT sees it (RFC 5256 §3, RFC 5957 §3).
///
/// A group counts as its own first address, with the group name as addr-mailbox and no host, as
/// in the IMAP ENVELOPE's group syntax (RFC 9051 §7.5.2); Dovecot sorts groups the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FirstAddress {
    /// A plain mailbox.
    Mailbox(Mailbox),
    /// The start of a group, by its (decoded) name.
    Group(String),
}

/// The first address of an address header, or `None` when it has none.
pub(crate) fn first_address(raw: &[u8]) -> Option<FirstAddress> {
    let raw = terminated(raw);
    match MessageStream::new(&raw).parse_address() {
        HeaderValue::Address(Address::List(list)) => list.first().map(|a| FirstAddress::Mailbox(mailbox(a))),
        HeaderValue::Address(Address::Group(groups)) => {
            let group = groups.first()?;
            match group.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(name) => Some(FirstAddress::Group(name.to_owned())),
                // Mailboxes before the first group come as a group without a name.
                None => group.addresses.first().map(|a| FirstAddress::Mailbox(mailbox(a))),
            }
        }
        _ => None,
    }
}

fn mailbox(a: &mail_parser::Addr<'_>) -> Mailbox {
    Mailbox {
        name: a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned),
        address: a.address.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned),
    }
}

/// A `Date:`-style value, if it parses to a real calendar date and time.
pub(crate) fn date(raw: &[u8]) -> Option<mail_parser::DateTime> {
    let raw = terminated(raw);
    match MessageStream::new(&raw).parse_date() {
        HeaderValue::DateTime(d) if valid(&d) => Some(d),
        _ => None,
    }
}

fn valid(d: &mail_parser::DateTime) -> bool {
    chrono::NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)).is_some()
        && d.hour < 24
        && d.minute < 60
        && d.second < 61
        && d.tz_hour < 24
        && d.tz_minute < 60
}

/// Message IDs in a `Message-ID`, `In-Reply-To` or `References` value, without angle brackets.
pub(crate) fn ids(raw: &[u8]) -> Vec<String> {
    let raw = terminated(raw);
    let clean = |s: &str| s.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned();
    match MessageStream::new(&raw).parse_id() {
        HeaderValue::Text(t) => vec![clean(&t)],
        HeaderValue::TextList(l) => l.iter().map(|t| clean(t)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
    .collect()
}

/// Whether `name` is an address header, searched on display names and addresses.
pub(crate) fn is_address_header(name: &str) -> bool {
    ["From", "To", "Cc", "Bcc", "Sender", "Reply-To", "Resent-From", "Resent-To", "Resent-Cc", "Resent-Bcc"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_parsers() {
        assert_eq!(unstructured(b" =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n\t aus  Berlin\r\n"), "Grüße aus Berlin");
        assert_eq!(unstructured(b" plain"), "plain");
        let a = addresses(b" \"M\xc3\xbcller, Hans\" <hans@example.org>, bob@example.net\r\n");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].name.as_deref(), Some("Müller, Hans"));
        assert_eq!(a[0].address.as_deref(), Some("hans@example.org"));
        assert_eq!(a[1].address.as_deref(), Some("bob@example.net"));
        let g = addresses(b" team: a@x.org, B <b@x.org>;\r\n");
        assert_eq!(g.len(), 2);
        let d = date(b" Tue, 1 Jul 2003 10:52:37 +0200\r\n").unwrap();
        assert_eq!((d.year, d.month, d.day, d.hour), (2003, 7, 1, 10));
        assert!(date(b" 31 Feb 2003 10:00:00 +0000").is_none());
        assert!(date(b" garbage").is_none());
        assert_eq!(first_address(b" team: a@x.org, B <b@x.org>;\r\n"), Some(FirstAddress::Group("team".into())));
        assert_eq!(first_address(b" empty:;\r\n"), Some(FirstAddress::Group("empty".into())));
        let before_group = first_address(b" c@x.org, team: a@x.org;\r\n");
        let c = Mailbox { name: None, address: Some("c@x.org".into()) };
        assert_eq!(before_group, Some(FirstAddress::Mailbox(c)));
        assert_eq!(first_address(b" \r\n"), None);
        assert_eq!(ids(b" <a@b> <c@d>\r\n"), vec!["a@b", "c@d"]);
        assert_eq!(ids(b" <only@one>"), vec!["only@one"]);
        assert!(ids(b"").is_empty());
    }
}
