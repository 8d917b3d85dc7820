//! Evaluating SEARCH keys against one message (RFC 9051 §6.4.4, RFC 7162 §3.1.5, RFC 5182).

use chrono::NaiveDate;
use mail_parser::{Message, PartType};

use super::fold::Needle;
use super::headers::{self, addresses, is_address_header, raw_value, top_headers, unstructured};
use super::{MessageFacts, Needs, bits};
use crate::command::{Date, Flag};
use crate::search::SearchKey;
use crate::sequence::{SeqBound, SequenceSet};

/// Deepest chain of attached messages (`message/rfc822` inside `message/rfc822`) searched by BODY.
const MAX_NESTED_MESSAGES: usize = 8;

/// Mailbox state that sequence sets are resolved against.
#[derive(Debug, Clone, Copy)]
pub struct SearchContext<'a> {
    /// Highest message sequence number (the mailbox's message count); `*` in a sequence set.
    pub max_seq: u32,
    /// Highest UID in use; `*` in a UID set.
    pub max_uid: u32,
    /// UIDs saved by `SEARCH RETURN (SAVE)`, referenced as `$` (RFC 5182).
    pub saved: &'a [u32],
}

/// Which parts of the message `keys` look at, so the file is read only when needed.
pub fn needs(keys: &[SearchKey]) -> Needs {
    let mut n = Needs::default();
    for k in keys {
        need(k, &mut n);
    }
    n
}

fn need(key: &SearchKey, n: &mut Needs) {
    use SearchKey as K;
    match key {
        K::Header(..) | K::SentBefore(_) | K::SentOn(_) | K::SentSince(_) => n.headers = true,
        K::Body(_) | K::Text(_) => {
            n.headers = true;
            n.body = true;
        }
        K::Not(k) => need(k, n),
        K::Or(a, b) => {
            need(a, n);
            need(b, n);
        }
        K::And(keys) => keys.iter().for_each(|k| need(k, n)),
        _ => {}
    }
}

/// Whether the message satisfies every key in `keys` (they are ANDed).
///
/// `message` is the parsed message when [`needs`] asked for it; without it, header and body keys
/// do not match, and `SENT*` dates use the internal date. Never panics.
pub fn matches(
    keys: &[SearchKey],
    facts: &MessageFacts<'_>,
    message: Option<&Message<'_>>,
    ctx: &SearchContext<'_>,
) -> bool {
    keys.iter().all(|k| key_matches(k, facts, message, ctx))
}

fn key_matches(
    key: &SearchKey,
    facts: &MessageFacts<'_>,
    message: Option<&Message<'_>>,
    ctx: &SearchContext<'_>,
) -> bool {
    use SearchKey as K;
    let internal = facts.internal_date.date();
    match key {
        K::All => true,
        K::Flag(f) => has_flag(f, facts),
        K::NotFlag(f) => !has_flag(f, facts),
        K::New => facts.recent && facts.flags & bits::SEEN == 0,
        K::Old => !facts.recent,
        K::Header(name, value) => message.is_some_and(|m| header_matches(m, name, &Needle::new(value))),
        K::Body(s) => message.is_some_and(|m| body_matches(m, &Needle::new(s), 0)),
        K::Text(s) => message.is_some_and(|m| {
            let needle = Needle::new(s);
            top_headers(m).iter().any(|h| needle.found_in(&header_text(m, h))) || body_matches(m, &needle, 0)
        }),
        K::Before(d) => day(d).is_some_and(|d| internal < d),
        K::On(d) => day(d).is_some_and(|d| internal == d),
        K::Since(d) => day(d).is_some_and(|d| internal >= d),
        K::SentBefore(d) => day(d).is_some_and(|d| sent_day(facts, message) < d),
        K::SentOn(d) => day(d).is_some_and(|d| sent_day(facts, message) == d),
        K::SentSince(d) => day(d).is_some_and(|d| sent_day(facts, message) >= d),
        K::Larger(n) => facts.size > u64::from(*n),
        K::Smaller(n) => facts.size < u64::from(*n),
        K::Uid(set) => in_set(set, facts.uid, ctx.max_uid, facts.uid, ctx.saved),
        K::Seq(set) => in_set(set, facts.seq, ctx.max_seq, facts.uid, ctx.saved),
        K::Not(k) => !key_matches(k, facts, message, ctx),
        K::Or(a, b) => key_matches(a, facts, message, ctx) || key_matches(b, facts, message, ctx),
        K::And(keys) => matches(keys, facts, message, ctx),
        // Per-message metadata entries are not kept apart; every entry has the message's modseq.
        K::ModSeq(_, n) => facts.modseq >= *n,
    }
}

fn has_flag(flag: &Flag, facts: &MessageFacts<'_>) -> bool {
    let bit = |b: i64| facts.flags & b != 0;
    match flag {
        Flag::Seen => bit(bits::SEEN),
        Flag::Answered => bit(bits::ANSWERED),
        Flag::Flagged => bit(bits::FLAGGED),
        Flag::Deleted => bit(bits::DELETED),
        Flag::Draft => bit(bits::DRAFT),
        Flag::Recent => facts.recent,
        // Unknown system flags cannot be stored, so no message has one.
        Flag::Extension(_) => false,
        Flag::Keyword(k) => facts.keywords.iter().any(|have| have.eq_ignore_ascii_case(k)),
    }
}

/// `*` is the largest number in use; a range is unordered (`5:2` is `2:5`), so `n:*` with `n`
/// beyond the largest still contains the largest (RFC 9051 §9, seq-range). `$` holds UIDs.
fn in_set(set: &SequenceSet, n: u32, max: u32, uid: u32, saved: &[u32]) -> bool {
    match set {
        SequenceSet::Saved => saved.contains(&uid),
        SequenceSet::Ranges(ranges) => ranges.iter().any(|&(a, b)| {
            let v = |x: SeqBound| match x {
                SeqBound::Num(x) => x,
                SeqBound::Star => max,
            };
            let (lo, hi) = (v(a).min(v(b)), v(a).max(v(b)));
            (lo..=hi).contains(&n)
        }),
    }
}

fn day(d: &Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
}

/// The calendar date of the `Date:` header in its own zone, else of the internal date.
fn sent_day(facts: &MessageFacts<'_>, message: Option<&Message<'_>>) -> NaiveDate {
    message
        .and_then(|m| headers::first(m, "Date"))
        .and_then(headers::date)
        .and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)))
        .unwrap_or_else(|| facts.internal_date.date())
}

/// The decoded value of one header; for address headers also `name <address>` of each mailbox,
/// so display names with quoting or comments match as the user sees them.
fn decoded_value(raw: &[u8], name: &str) -> String {
    let mut text = unstructured(raw);
    if is_address_header(name) {
        for a in addresses(raw) {
            text.push('\n');
            if let Some(n) = &a.name {
                text.push_str(n);
                text.push(' ');
            }
            if let Some(addr) = &a.address {
                text.push('<');
                text.push_str(addr);
                text.push('>');
            }
        }
    }
    text
}

/// `Name: value` as TEXT sees a header line.
fn header_text(message: &Message<'_>, h: &mail_parser::Header<'_>) -> String {
    let name = h.name.as_str();
    format!("{name}: {}", decoded_value(raw_value(message, h), name))
}

/// `HEADER name value`: any field of that name contains `value`; an empty value asks only that
/// the field be present (RFC 9051 §6.4.4).
fn header_matches(message: &Message<'_>, name: &str, needle: &Needle) -> bool {
    headers::values(message, name).any(|raw| needle.is_empty() || needle.found_in(&decoded_value(raw, name)))
}

/// BODY: decoded text of every `text/*` part, HTML reduced to its text, and the headers and text
/// parts of attached messages.
fn body_matches(message: &Message<'_>, needle: &Needle, depth: usize) -> bool {
    message.parts.iter().any(|part| match &part.body {
        PartType::Text(t) => needle.found_in(t),
        // Markup is not text: a search for `div` should not find every HTML message.
        PartType::Html(h) => needle.found_in(&mail_parser::decoders::html::html_to_text(h)),
        PartType::Message(inner) if depth < MAX_NESTED_MESSAGES => {
            top_headers(inner).iter().any(|h| needle.found_in(&header_text(inner, h)))
                || body_matches(inner, needle, depth + 1)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SeqBound::{Num, Star};

    #[test]
    fn sets() {
        let r = |v: &[(SeqBound, SeqBound)]| SequenceSet::Ranges(v.to_vec());
        assert!(in_set(&r(&[(Num(2), Num(4))]), 3, 10, 0, &[]));
        assert!(in_set(&r(&[(Num(4), Num(2))]), 2, 10, 0, &[]));
        assert!(!in_set(&r(&[(Num(4), Star)]), 3, 10, 0, &[]));
        assert!(in_set(&r(&[(Num(40), Star)]), 10, 10, 0, &[]));
        assert!(!in_set(&r(&[(Star, Star)]), 9, 10, 0, &[]));
        assert!(in_set(&SequenceSet::Saved, 1, 10, 77, &[5, 77]));
        assert!(!in_set(&SequenceSet::Saved, 1, 10, 78, &[5, 77]));
    }

    #[test]
    fn needs_walks_nested_keys() {
        let body = SearchKey::Body(b"x".to_vec());
        let n = needs(&[SearchKey::And(vec![SearchKey::All, SearchKey::Not(Box::new(body))])]);
        assert_eq!(n, Needs { headers: true, body: true });
        assert_eq!(needs(&[SearchKey::Larger(1)]), Needs::default());
    }
}
