//! SEARCH evaluation, SORT, THREAD and ESEARCH output (RFC 9051 §6.4.4, RFC 5256, RFC 5957,
//! RFC 4731, RFC 5182, RFC 5267, RFC 7162 §3.1.5, RFC 9394).
//!
//! The server describes each message with [`MessageFacts`] (index data it already has) and, only
//! when [`needs`] or [`sort_needs_headers`] say so, the parsed message. Loading the file is the
//! expensive part of a search, so keys on flags, sizes, dates and sets never cause it.
//!
//! Text matching ([`fold`]) is a substring test under Unicode simple case folding, on text that
//! mail-parser has already decoded to UTF-8: RFC 2047 words in headers, transfer encodings and
//! charsets in bodies. `BODY` looks at every `text/*` part (HTML reduced to its text), attachments
//! included, and at the headers and text parts of attached messages, as Dovecot does; binary parts are never searched, since a
//! substring of base64 or of a PDF is meaningless to the user.
//!
//! Header values are re-parsed from the raw header bytes with mail-parser's field parsers, so the
//! result does not depend on which header parsers the caller's `MessageParser` enabled.

mod charset;
mod esearch;
mod eval;
pub mod fold;
mod headers;
mod parsed;
mod partial;
mod set;
mod sort;
mod subject;
mod thread;

pub use charset::{BadCharset, search_charset};
pub use esearch::{Esearch, context_update, esearch, esearch_reply, result_diff};
pub use eval::{SearchContext, matches, needs};
pub use parsed::{ParsedMessage, parse_message};
pub use partial::PartialRange;
pub use set::{compact_set, ordered_set};
pub use sort::{SortItem, sort, sort_item, sort_needs_headers};
pub use subject::base_subject;
pub use thread::{ThreadItem, thread, thread_item};

/// What the server knows about a message without opening its file.
#[derive(Debug, Clone)]
pub struct MessageFacts<'a> {
    /// Message sequence number.
    pub seq: u32,
    /// UID.
    pub uid: u32,
    /// hMailServer flag bits: 1 Seen, 2 Deleted, 4 Flagged, 8 Answered, 16 Draft.
    pub flags: i64,
    /// Keywords set on the message.
    pub keywords: &'a [String],
    /// `\Recent` for this session.
    pub recent: bool,
    /// RFC822.SIZE.
    pub size: u64,
    /// INTERNALDATE (arrival), server local time.
    pub internal_date: chrono::NaiveDateTime,
    /// CONDSTORE mod-sequence.
    pub modseq: u64,
}

/// Which parts of the message file a search needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Header keys or `SENT*` dates: the header block must be parsed.
    pub headers: bool,
    /// `BODY` or `TEXT`: the whole message must be parsed.
    pub body: bool,
}

/// hMailServer flag bits.
pub(crate) mod bits {
    pub(crate) const SEEN: i64 = 1;
    pub(crate) const DELETED: i64 = 2;
    pub(crate) const FLAGGED: i64 = 4;
    pub(crate) const ANSWERED: i64 = 8;
    pub(crate) const DRAFT: i64 = 16;
}

/// The internal date as a UTC timestamp, reading it in the server's local zone.
pub(crate) fn internal_timestamp(facts: &MessageFacts<'_>) -> i64 {
    use chrono::TimeZone;
    chrono::Local
        .from_local_datetime(&facts.internal_date)
        .earliest()
        .map_or_else(|| facts.internal_date.and_utc().timestamp(), |t| t.timestamp())
}

/// The `Date:` header as a UTC timestamp, else the internal date (RFC 5256 §2.2 "sent date").
pub(crate) fn sent_timestamp(facts: &MessageFacts<'_>, message: Option<&mail_parser::Message<'_>>) -> i64 {
    message
        .and_then(|m| headers::first(m, "Date"))
        .and_then(headers::date)
        .map_or_else(|| internal_timestamp(facts), |d| d.to_timestamp())
}

/// The decoded `Subject:` of `message`, empty when absent.
pub(crate) fn subject_text(message: Option<&mail_parser::Message<'_>>) -> String {
    message.and_then(|m| headers::first(m, "Subject")).map(headers::unstructured).unwrap_or_default()
}
