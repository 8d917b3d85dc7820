//! Drives the deep parsers the way the server does, asserting what must hold for any input.
//! Shared by the proptests (`tests/no_panic_deep.rs`) and the cargo-fuzz targets (`fuzz/`,
//! which include this file by path), so both check the same things.

#![allow(dead_code)]

use altimail_imap::command::{CommandBody, SortKey};
use altimail_imap::fetch::SectionText;
use altimail_imap::list_pattern::ListPattern;
use altimail_imap::message::{Decoder, MessageStructure, Scanner, SectionData, convert_binary_parts};
use altimail_imap::parse::parse_command;
use altimail_imap::query::{self, MessageFacts, SearchContext, base_subject, sort, sort_item, thread, thread_item};
use altimail_imap::search::SearchKey;

/// Part paths that reach the first levels, a deep one, and out-of-range numbers.
fn part_paths() -> Vec<Vec<u32>> {
    let mut paths = vec![vec![], vec![0], vec![u32::MAX], vec![1; 80]];
    for a in 1..=3 {
        paths.push(vec![a]);
        for b in 1..=3 {
            paths.push(vec![a, b]);
            paths.push(vec![a, b, 1]);
        }
    }
    paths
}

fn section_texts() -> Vec<Option<SectionText>> {
    vec![
        None,
        Some(SectionText::Header),
        Some(SectionText::Text),
        Some(SectionText::Mime),
        Some(SectionText::HeaderFields(vec!["subject".into(), "From".into(), "".into()])),
        Some(SectionText::HeaderFieldsNot(vec!["Content-Type".into()])),
    ]
}

/// The MIME scanner and everything FETCH builds on it: the structure does not depend on how
/// the file is cut into chunks, every section lies inside the file, and ENVELOPE, BODY,
/// BODYSTRUCTURE, `BODY[…]`, `BINARY[…]` and the binary-part conversion never panic.
pub fn message(data: &[u8], chunk: usize) {
    let whole = MessageStructure::parse(data);
    let mut scanner = Scanner::new();
    for piece in data.chunks(chunk.max(1)) {
        scanner.feed(piece);
    }
    assert_eq!(scanner.finish(), whole, "chunking does not change the structure");
    let size = data.len() as u64;
    assert_eq!(whole.size(), size);
    let mut out = Vec::new();
    whole.envelope(&mut out);
    whole.body_structure(&mut out, false);
    whole.body_structure(&mut out, true);
    let _ = whole.header_value("Subject");
    let _ = whole.header_values("Received");
    for path in part_paths() {
        for text in section_texts() {
            if let Some(SectionData::Range { start, end }) = whole.section(&path, text.as_ref()) {
                assert!(start <= end && end <= size, "{path:?} {text:?}: {start}..{end} of {size}");
            }
        }
        if let Some(b) = whole.binary(&path) {
            assert!(b.start <= b.end && b.end <= size, "{path:?}: {}..{} of {size}", b.start, b.end);
            let body = data.get(b.start as usize..b.end as usize).unwrap_or_default();
            let mut decoder = Decoder::new(b.encoding);
            let mut decoded = Vec::new();
            for piece in body.chunks(chunk.max(1)) {
                decoder.decode(piece, &mut decoded);
            }
            decoder.finish(&mut decoded);
        }
    }
    if let Some(converted) = convert_binary_parts(data) {
        let _ = MessageStructure::parse(&converted);
    }
    search_sort_thread(data);
}

/// Header fields a message is built from, for [`headers`].
pub const HEADER_NAMES: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Sender",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Disposition",
    "Content-Language",
    "Content-Transfer-Encoding",
    "Content-ID",
    "Content-Description",
    "Content-Location",
    "Content-MD5",
];

const SEARCH: &[u8] = b"s SEARCH FROM a TO b CC c BCC d SUBJECT e HEADER Message-ID f HEADER References g \
    SENTBEFORE 1-Jan-2000 SENTON 2-Feb-2010 SENTSINCE 3-Mar-1990 BODY h TEXT i OR KEYWORD x NOT ALL\r\n";
const SORT: &[u8] = b"s SORT (ARRIVAL CC DATE FROM REVERSE SIZE SUBJECT TO DISPLAYFROM DISPLAYTO) UTF-8 ALL\r\n";

fn search_keys() -> Vec<SearchKey> {
    match parse_command(SEARCH).map(|c| c.body) {
        Ok(CommandBody::Search { criteria, .. }) => criteria,
        other => panic!("the search keys parse: {other:?}"),
    }
}

fn sort_keys() -> Vec<SortKey> {
    match parse_command(SORT).map(|c| c.body) {
        Ok(CommandBody::Sort { keys, .. }) => keys,
        other => panic!("the sort keys parse: {other:?}"),
    }
}

/// Every header parser, on a message whose fields take their values from `values` (one value a
/// line, assigned to [`HEADER_NAMES`] in turn): address lists, RFC 2047 words, MIME parameters
/// (RFC 2231 continuations included), dates, message IDs, base subjects; through ENVELOPE and
/// BODYSTRUCTURE, and through SEARCH, SORT and THREAD as the server runs them.
pub fn headers(values: &[u8]) {
    let mut message = Vec::new();
    for (i, value) in values.split(|&b| b == b'\n').enumerate() {
        message.extend_from_slice(HEADER_NAMES[i % HEADER_NAMES.len()].as_bytes());
        message.extend_from_slice(b": ");
        message.extend_from_slice(value);
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b"\r\nbody\r\n");
    self::message(&message, 7);
    let _ = base_subject(&String::from_utf8_lossy(values));
}

/// SEARCH (header, date and text keys), SORT on every key and both THREAD algorithms, on the
/// message parsed as the server parses it.
fn search_sort_thread(message: &[u8]) {
    let parsed = query::parse_message(message);
    let keywords: Vec<String> = Vec::new();
    let facts = MessageFacts {
        seq: 1,
        uid: 1,
        flags: 0,
        keywords: &keywords,
        recent: false,
        size: message.len() as u64,
        internal_date: chrono::NaiveDateTime::default(),
        modseq: 1,
    };
    let ctx = SearchContext { max_seq: 1, max_uid: 1, saved: &[] };
    let keys = search_keys();
    let _ = query::needs(&keys);
    let _ = query::matches(&keys, &facts, parsed.as_deref(), &ctx);
    let sort_keys = sort_keys();
    let items = vec![sort_item(1, &sort_keys, &facts, parsed.as_deref()), sort_item(2, &sort_keys, &facts, None)];
    let _ = sort(&sort_keys, items);
    for algorithm in ["REFERENCES", "ORDEREDSUBJECT"] {
        let items = vec![thread_item(1, &facts, parsed.as_deref()), thread_item(2, &facts, parsed.as_deref())];
        let _ = thread(algorithm, items);
    }
}

/// A simple, obviously right matcher for small inputs (exponential in general): the oracle the
/// automaton in `ListPattern` is checked against.
fn reference_match(p: &[char], s: &[char], delimiter: char) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|i| reference_match(rest, &s[i..], delimiter)),
        Some(('%', rest)) => {
            let stop = s.iter().position(|&c| c == delimiter).unwrap_or(s.len());
            (0..=stop).any(|i| reference_match(rest, &s[i..], delimiter))
        }
        Some((c, rest)) => s.first() == Some(c) && reference_match(rest, &s[1..], delimiter),
    }
}

fn inbox_upper(s: &str, delimiter: char) -> Vec<char> {
    let mut chars: Vec<char> = s.chars().collect();
    let head: String = chars.iter().take(5).collect();
    if head.eq_ignore_ascii_case("INBOX") && chars.get(5).is_none_or(|&c| c == delimiter) {
        chars.splice(0..5, "INBOX".chars());
    }
    chars
}

/// The LIST pattern matcher never panics, costs time in proportion to its input, and agrees
/// with [`reference_match`] where that is cheap enough to run.
pub fn list_pattern(reference: &str, pattern: &str, name: &str, delimiter: char) {
    let compiled = ListPattern::new(reference, pattern, delimiter);
    let matched = compiled.matches(name);
    let full = format!("{reference}{pattern}");
    let wildcards = full.chars().filter(|&c| c == '*' || c == '%').count();
    if wildcards <= 6 && name.chars().count() <= 24 {
        let expected = reference_match(&inbox_upper(&full, delimiter), &inbox_upper(name, delimiter), delimiter);
        assert_eq!(matched, expected, "{full:?} against {name:?}");
    }
}
