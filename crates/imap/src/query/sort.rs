//! SORT (RFC 5256 §3) with DISPLAYFROM and DISPLAYTO (RFC 5957).
//!
//! Each message is reduced once to a [`SortItem`] holding its keys, so comparisons during the sort
//! never touch the message. Strings compare under i;ascii-casemap (RFC 4790 §9.2): ASCII letters
//! are upper-cased, other octets compare as they are.

use mail_parser::Message;

use super::headers::{self, FirstAddress, first_address};
use super::{MessageFacts, base_subject, internal_timestamp, sent_timestamp, subject_text};
use crate::command::{SortBy, SortKey};

/// One sort key's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Num(i64),
    Text(String),
}

/// A message reduced to the values of the sort keys, and the id the server wants back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortItem {
    id: u32,
    values: Vec<Value>,
}

impl SortItem {
    /// The sequence number or UID this item was built with.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// Whether any key reads a header, so the server must parse the header block.
pub fn sort_needs_headers(keys: &[SortKey]) -> bool {
    keys.iter().any(|k| !matches!(k.key, SortBy::Arrival | SortBy::Size))
}

/// Builds the item for one message. `message` (headers at least) is needed when
/// [`sort_needs_headers`] says so; without it, header keys sort as empty strings and DATE falls
/// back to the internal date.
pub fn sort_item(id: u32, keys: &[SortKey], facts: &MessageFacts<'_>, message: Option<&Message<'_>>) -> SortItem {
    let values = keys
        .iter()
        .map(|k| match k.key {
            SortBy::Arrival => Value::Num(internal_timestamp(facts)),
            SortBy::Size => Value::Num(i64::try_from(facts.size).unwrap_or(i64::MAX)),
            SortBy::Date => Value::Num(sent_timestamp(facts, message)),
            SortBy::Subject => Value::Text(casemap(&base_subject(&subject_text(message)).0)),
            SortBy::From => Value::Text(mailbox_of(message, "From")),
            SortBy::To => Value::Text(mailbox_of(message, "To")),
            SortBy::Cc => Value::Text(mailbox_of(message, "Cc")),
            SortBy::DisplayFrom => Value::Text(display_of(message, "From")),
            SortBy::DisplayTo => Value::Text(display_of(message, "To")),
        })
        .collect();
    SortItem { id, values }
}

/// Sorts `items` by `keys` (the same keys the items were built with) and returns their ids.
/// Messages equal on every key keep mailbox order, that is ascending id (RFC 5256 §3);
/// `REVERSE` does not reverse that final tie-break.
pub fn sort(keys: &[SortKey], mut items: Vec<SortItem>) -> Vec<u32> {
    items.sort_by(|a, b| {
        keys.iter()
            .zip(a.values.iter().zip(&b.values))
            .map(|(k, (x, y))| if k.reverse { y.cmp(x) } else { x.cmp(y) })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.id.cmp(&b.id))
    });
    items.into_iter().map(|i| i.id).collect()
}

fn casemap(s: &str) -> String {
    s.to_ascii_uppercase()
}

fn first(message: Option<&Message<'_>>, header: &str) -> Option<FirstAddress> {
    message.and_then(|m| headers::first(m, header)).and_then(first_address)
}

/// The addr-mailbox (local part) of the first address, or empty (RFC 5256 §3). A group's
/// addr-mailbox is its name.
fn mailbox_of(message: Option<&Message<'_>>, header: &str) -> String {
    match first(message, header) {
        Some(FirstAddress::Mailbox(m)) => {
            let addr = m.address.unwrap_or_default();
            casemap(addr.rsplit_once('@').map_or(addr.as_str(), |(local, _)| local))
        }
        Some(FirstAddress::Group(name)) => casemap(&name),
        None => String::new(),
    }
}

/// The display name of the first address, else its addr-spec, else empty (RFC 5957 §3). A group
/// has no display name, and its addr-spec is its name alone.
fn display_of(message: Option<&Message<'_>>, header: &str) -> String {
    match first(message, header) {
        Some(FirstAddress::Mailbox(m)) => casemap(&m.name.or(m.address).unwrap_or_default()),
        Some(FirstAddress::Group(name)) => casemap(&name),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn facts(seq: u32, size: u64, day: u32) -> MessageFacts<'static> {
        MessageFacts {
            seq,
            uid: seq * 10,
            flags: 0,
            keywords: &[],
            recent: false,
            size,
            internal_date: NaiveDate::from_ymd_opt(2024, 1, day).unwrap().and_hms_opt(12, 0, 0).unwrap(),
            modseq: 1,
        }
    }

    fn key(key: SortBy, reverse: bool) -> SortKey {
        SortKey { reverse, key }
    }

    #[test]
    fn sorts_on_facts_and_headers() {
        let raw = [
            "From: Zed <alice@x.org>\r\nTo: b@x.org\r\nSubject: Re: beta\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n",
            "From: \"Adam\" <Carol@x.org>\r\nSubject: alpha\r\nDate: Mon, 1 Jan 2024 09:00:00 -0200\r\n\r\n",
            "From: bob@x.org\r\nSubject: [list] BETA (fwd)\r\n\r\n",
        ];
        let parsed: Vec<_> =
            raw.iter().map(|r| mail_parser::MessageParser::default().parse(r.as_bytes()).unwrap()).collect();
        let f = [facts(1, 300, 3), facts(2, 100, 2), facts(3, 200, 1)];
        let run = |keys: &[SortKey]| {
            let items = (0..3).map(|i| sort_item(f[i].seq, keys, &f[i], Some(&parsed[i]))).collect();
            sort(keys, items)
        };
        assert_eq!(run(&[key(SortBy::Size, false)]), vec![2, 3, 1]);
        assert_eq!(run(&[key(SortBy::Size, true)]), vec![1, 3, 2]);
        assert_eq!(run(&[key(SortBy::Arrival, false)]), vec![3, 2, 1]);
        assert_eq!(run(&[key(SortBy::From, false)]), vec![1, 3, 2]);
        assert_eq!(run(&[key(SortBy::DisplayFrom, false)]), vec![2, 3, 1]);
        // Missing To sorts as the empty string, first.
        assert_eq!(run(&[key(SortBy::To, false)]), vec![2, 3, 1]);
        // Subjects "beta", "alpha", "BETA": the two betas tie and fall back to sequence order.
        assert_eq!(run(&[key(SortBy::Subject, false)]), vec![2, 1, 3]);
        assert_eq!(run(&[key(SortBy::Subject, true)]), vec![1, 3, 2]);
        assert_eq!(run(&[key(SortBy::Subject, false), key(SortBy::Size, true)]), vec![2, 1, 3]);
        assert_eq!(run(&[key(SortBy::Subject, false), key(SortBy::Size, false)]), vec![2, 3, 1]);
        // 10:00 UTC vs 11:00 UTC; message 3 has no Date and uses its internal date (Jan 1).
        let by_date = run(&[key(SortBy::Date, false)]);
        let pos = |id| by_date.iter().position(|&x| x == id);
        assert!(pos(1) < pos(2), "{by_date:?}");
        assert!(sort_needs_headers(&[key(SortBy::Date, false)]));
        assert!(!sort_needs_headers(&[key(SortBy::Size, false), key(SortBy::Arrival, true)]));
    }
}
