//! SEARCH, SORT and THREAD on real MIME messages built here.

use altimail_imap::command::{Date, Flag, SortBy, SortKey};
use altimail_imap::query::{
    MessageFacts, Needs, SearchContext, base_subject, matches, needs, search_charset, sort, sort_item, thread,
    thread_item,
};
use altimail_imap::search::SearchKey;
use altimail_imap::sequence::{SeqBound, SequenceSet};
use chrono::NaiveDate;
use mail_parser::{Message, MessageParser};
use proptest::prelude::*;

const QP_LATIN1: &str = "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n\
To: \"Team, Berlin\" <team@example.de>, other@example.org\r\n\
Subject: =?ISO-8859-1?Q?Caf=E9_=FCber_alles?=\r\n\
Date: Tue, 2 Jul 2024 23:30:00 -0700\r\n\
X-Custom: folded\r\n  value\r\n\
Content-Type: text/plain; charset=ISO-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gr=FC=DFe von M=DCLLER, soft=\r\n\
break here.\r\n";

const B64_UTF8: &str = "From: Alice <alice@example.org>\r\n\
Subject: =?KOI8-R?B?8NLJ18XU?= and =?Shift_JIS?B?k/qWe4zqgsyMj5a8?=\r\n\
Date: garbage\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
0J/RgNC40LLQtdGCLCDQvNC40YAhIFN0cmHDn2Ugw5xuw69jw7Zkw6kgdGV4dA0K\r\n";

const MULTIPART: &str = "From: bob@example.net\r\n\
Subject: Re: [list] Report\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
Plain part words.\r\n\
--alt\r\n\
Content-Type: text/html; charset=us-ascii\r\n\
\r\n\
<p>Hello <b>bold</b> world</p>\r\n\
--alt--\r\n\
--outer\r\n\
Content-Type: text/plain; name=\"notes.txt\"\r\n\
Content-Disposition: attachment; filename=\"notes.txt\"\r\n\
\r\n\
attachedtext inside a text attachment\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"doc.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERiBzZWNyZXR3b3JkIGJpbmFyeQAB\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: inner@example.com\r\n\
Subject: Inner subject\r\n\
\r\n\
Nested body text.\r\n\
--outer--\r\n";

fn parse(raw: &str) -> Message<'_> {
    MessageParser::default().parse(raw.as_bytes()).expect("test message parses")
}

fn facts(seq: u32) -> MessageFacts<'static> {
    MessageFacts {
        seq,
        uid: seq + 100,
        flags: 0,
        keywords: &[],
        recent: false,
        size: 1000,
        internal_date: NaiveDate::from_ymd_opt(2024, 7, 1).unwrap().and_hms_opt(8, 0, 0).unwrap(),
        modseq: 7,
    }
}

const CTX: SearchContext<'static> = SearchContext { max_seq: 10, max_uid: 110, saved: &[103] };

fn hdr(name: &str, v: &str) -> SearchKey {
    SearchKey::Header(name.into(), v.as_bytes().to_vec())
}

fn body(v: &str) -> SearchKey {
    SearchKey::Body(v.as_bytes().to_vec())
}

fn text(v: &str) -> SearchKey {
    SearchKey::Text(v.as_bytes().to_vec())
}

fn check(raw: &str, key: SearchKey) -> bool {
    let m = parse(raw);
    matches(&[key], &facts(1), Some(&m), &CTX)
}

#[test]
fn quoted_printable_latin1() {
    assert!(check(QP_LATIN1, body("grüße")));
    assert!(check(QP_LATIN1, body("Müller")));
    assert!(check(QP_LATIN1, body("softbreak here")));
    assert!(!check(QP_LATIN1, body("=FC")));
    assert!(check(QP_LATIN1, hdr("SUBJECT", "CAFÉ ÜBER")));
    assert!(check(QP_LATIN1, hdr("FROM", "jürgen")));
    assert!(check(QP_LATIN1, hdr("FROM", "jm@example")));
    assert!(check(QP_LATIN1, hdr("TO", "team, berlin")));
    assert!(check(QP_LATIN1, hdr("TO", "other@example.org")));
    assert!(!check(QP_LATIN1, hdr("CC", "")));
    assert!(check(QP_LATIN1, hdr("x-custom", "folded value")));
    assert!(check(QP_LATIN1, hdr("X-CUSTOM", "")));
    assert!(check(QP_LATIN1, text("café")));
    assert!(check(QP_LATIN1, text("soft")));
    assert!(!check(QP_LATIN1, body("café")));
}

#[test]
fn search_string_in_latin1_charset() {
    let keys = search_charset(Some("ISO-8859-1"), vec![SearchKey::Body(b"M\xfcller".to_vec())]).unwrap();
    assert_eq!(keys, vec![body("Müller")]);
    let keys = search_charset(Some("ISO-8859-1"), vec![SearchKey::Body(b"GR\xdc\xdfE".to_vec())]).unwrap();
    let m = parse(QP_LATIN1);
    assert!(matches(&keys, &facts(1), Some(&m), &CTX));
}

#[test]
fn base64_utf8_and_encoded_words() {
    assert!(check(B64_UTF8, body("привет, МИР")));
    // Simple case folding: capital sharp s matches, the two-letter expansion does not.
    assert!(check(B64_UTF8, body("STRAẞE")));
    assert!(!check(B64_UTF8, body("STRASSE")));
    assert!(check(B64_UTF8, body("ünïcödé")));
    assert!(check(B64_UTF8, hdr("SUBJECT", "привет")));
    assert!(check(B64_UTF8, hdr("SUBJECT", "日本語")));
    assert!(check(B64_UTF8, hdr("SUBJECT", "ПРИВЕТ AND")));
}

#[test]
fn multipart_parts() {
    // Both alternatives are searched; the HTML one also as text, across tags.
    assert!(check(MULTIPART, body("plain part")));
    assert!(check(MULTIPART, body("hello bold world")));
    assert!(!check(MULTIPART, body("<b>")));
    // A text/* attachment is searched (as Dovecot does); a binary one is not.
    assert!(check(MULTIPART, body("attachedtext")));
    assert!(!check(MULTIPART, body("secretword")));
    // Attached messages: their headers and text are part of the body.
    assert!(check(MULTIPART, body("nested body")));
    assert!(check(MULTIPART, body("inner subject")));
    // Headers of the outer message are not body, but are text.
    assert!(!check(MULTIPART, body("bob@example")));
    assert!(check(MULTIPART, text("bob@example")));
    assert!(!check(MULTIPART, hdr("SUBJECT", "inner")));
}

#[test]
fn sent_dates_use_the_header_zone_or_fall_back() {
    let d = |day| Date { year: 2024, month: 7, day };
    // 2 Jul 23:30 -0700 is 3 Jul in UTC, but SENTON uses the header's own calendar date.
    assert!(check(QP_LATIN1, SearchKey::SentOn(d(2))));
    assert!(check(QP_LATIN1, SearchKey::SentSince(d(2))));
    assert!(!check(QP_LATIN1, SearchKey::SentBefore(d(2))));
    assert!(check(QP_LATIN1, SearchKey::SentBefore(d(3))));
    // An unparsable Date falls back to the internal date (1 Jul).
    assert!(check(B64_UTF8, SearchKey::SentOn(d(1))));
    assert!(check(B64_UTF8, SearchKey::On(d(1))));
    assert!(check(B64_UTF8, SearchKey::Before(d(2))));
    assert!(!check(B64_UTF8, SearchKey::Since(d(2))));
    assert!(!check(B64_UTF8, SearchKey::On(Date { year: 2024, month: 2, day: 31 })));
}

#[test]
fn facts_only_keys() {
    let keywords = vec!["$Junk".to_string()];
    let f = MessageFacts { flags: 1 | 4, keywords: &keywords, recent: true, ..facts(3) };
    let m = |k: SearchKey| matches(&[k], &f, None, &CTX);
    assert!(m(SearchKey::Flag(Flag::Seen)));
    assert!(m(SearchKey::Flag(Flag::Flagged)));
    assert!(!m(SearchKey::Flag(Flag::Deleted)));
    assert!(m(SearchKey::NotFlag(Flag::Answered)));
    assert!(m(SearchKey::Flag(Flag::Recent)));
    assert!(m(SearchKey::Flag(Flag::Keyword("$junk".into()))));
    assert!(m(SearchKey::NotFlag(Flag::Keyword("$Other".into()))));
    assert!(!m(SearchKey::New));
    assert!(!m(SearchKey::Old));
    let unseen = MessageFacts { flags: 0, ..f.clone() };
    assert!(matches(&[SearchKey::New], &unseen, None, &CTX));
    assert!(m(SearchKey::Larger(999)));
    assert!(!m(SearchKey::Larger(1000)));
    assert!(m(SearchKey::Smaller(1001)));
    assert!(m(SearchKey::ModSeq(None, 7)));
    assert!(!m(SearchKey::ModSeq(None, 8)));
    // Without the message, header and body keys cannot match.
    assert!(!m(hdr("SUBJECT", "")));
    assert!(!m(body("")));
    assert!(m(SearchKey::Not(Box::new(body("x")))));
    assert!(m(SearchKey::Or(Box::new(SearchKey::Flag(Flag::Draft)), Box::new(SearchKey::All))));
    assert!(!m(SearchKey::And(vec![SearchKey::All, SearchKey::Flag(Flag::Draft)])));
}

#[test]
fn sequence_and_uid_sets() {
    use SeqBound::{Num, Star};
    let set = |r: &[(SeqBound, SeqBound)]| SequenceSet::Ranges(r.to_vec());
    let f = facts(3); // uid 103
    let m = |k: SearchKey, ctx: &SearchContext<'_>| matches(&[k], &f, None, ctx);
    assert!(m(SearchKey::Seq(set(&[(Num(1), Num(3))])), &CTX));
    assert!(m(SearchKey::Seq(set(&[(Num(5), Num(2))])), &CTX));
    assert!(!m(SearchKey::Seq(set(&[(Num(4), Star)])), &CTX));
    assert!(m(SearchKey::Uid(set(&[(Num(103), Num(103))])), &CTX));
    assert!(m(SearchKey::Seq(SequenceSet::Saved), &CTX));
    assert!(m(SearchKey::Uid(SequenceSet::Saved), &CTX));
    // `*` is the largest in use; `n:*` past it still includes it.
    let small = SearchContext { max_seq: 3, max_uid: 103, saved: &[] };
    assert!(m(SearchKey::Seq(set(&[(Star, Star)])), &small));
    assert!(m(SearchKey::Seq(set(&[(Num(9), Star)])), &small));
    assert!(m(SearchKey::Uid(set(&[(Num(500), Star)])), &small));
    assert!(!m(SearchKey::Uid(SequenceSet::Saved), &small));
}

#[test]
fn needs_what_keys_look_at() {
    assert_eq!(needs(&[SearchKey::All, SearchKey::Flag(Flag::Seen)]), Needs::default());
    assert_eq!(
        needs(&[SearchKey::SentOn(Date { year: 2024, month: 1, day: 1 })]),
        Needs { headers: true, body: false }
    );
    assert_eq!(
        needs(&[SearchKey::Not(Box::new(SearchKey::Or(Box::new(SearchKey::All), Box::new(text("x")))))]),
        Needs { headers: true, body: true }
    );
}

#[test]
fn rfc5256_base_subjects() {
    let cases = [
        ("Re: Hello world", "Hello world"),
        ("Re: re: RE: Hello world", "Hello world"),
        ("Fwd: Hello world", "Hello world"),
        ("Re[2]: Hello world", "Hello world"),
        ("Re2: Hello world", "Re2: Hello world"),
        ("Re [2]: Hello world", "Hello world"),
        ("[PATCH] Re: Hello world", "Hello world"),
        ("[PATCH v2] [list] Hello world", "Hello world"),
        ("Hello world (fwd)", "Hello world"),
        ("[Fwd: Hello world]", "Hello world"),
        ("Re: [Fwd: Re: Hello world (fwd)]", "Hello world"),
        ("   Hello\t\tworld  ", "Hello world"),
        ("[only-a-blob]", "[only-a-blob]"),
    ];
    for (subject, want) in cases {
        assert_eq!(base_subject(subject).0, want, "{subject:?}");
    }
}

#[test]
fn sort_and_thread_from_headers() {
    let raws = [
        "Message-ID: <1@x>\r\nSubject: Plans\r\nFrom: Zoe <zoe@x.org>\r\nDate: Mon, 1 Jul 2024 10:00:00 +0000\r\n\r\nbody\r\n",
        "Message-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\nSubject: Re: Plans\r\nFrom: adam@x.org\r\nDate: Mon, 1 Jul 2024 11:00:00 +0000\r\n\r\nbody\r\n",
        "Message-ID: <3@x>\r\nReferences: <1@x> <2@x>\r\nSubject: Re: Plans\r\nFrom: Bea <bea@x.org>\r\nDate: Mon, 1 Jul 2024 12:00:00 +0000\r\n\r\nbody\r\n",
        "Message-ID: <4@x>\r\nReferences: <1@x>\r\nSubject: Re: Plans\r\nDate: Mon, 1 Jul 2024 09:30:00 -0300\r\n\r\nbody\r\n",
        "Message-ID: <5@x>\r\nSubject: Another\r\nDate: Sun, 30 Jun 2024 12:00:00 +0000\r\n\r\nbody\r\n",
    ];
    let parsed: Vec<_> = raws.iter().map(|r| parse(r)).collect();
    let f: Vec<_> = (1..=5).map(facts).collect();
    let items = (0..5).map(|i| thread_item(f[i].seq, &f[i], Some(&parsed[i]))).collect();
    // 4 was sent at 12:30 UTC, after 3.
    assert_eq!(String::from_utf8(thread("REFERENCES", items).unwrap()).unwrap(), "(5)(1 (2 3)(4))");
    let items = (0..5).map(|i| thread_item(f[i].seq, &f[i], Some(&parsed[i]))).collect();
    assert_eq!(String::from_utf8(thread("ORDEREDSUBJECT", items).unwrap()).unwrap(), "(5)(1 (2)(3)(4))");

    let keys = [SortKey { reverse: false, key: SortBy::DisplayFrom }];
    let items = (0..5).map(|i| sort_item(f[i].seq, &keys, &f[i], Some(&parsed[i]))).collect();
    assert_eq!(sort(&keys, items), vec![4, 5, 2, 3, 1]);
    let keys = [SortKey { reverse: true, key: SortBy::Date }];
    let items = (0..5).map(|i| sort_item(f[i].uid, &keys, &f[i], Some(&parsed[i]))).collect();
    assert_eq!(sort(&keys, items), vec![104, 103, 102, 101, 105]);
}

fn arb_key() -> impl Strategy<Value = SearchKey> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..8);
    let date = (0u16..3000, 0u8..14, 0u8..33).prop_map(|(year, month, day)| Date { year, month, day });
    let bound = prop_oneof![any::<u32>().prop_map(SeqBound::Num), Just(SeqBound::Star)];
    let set = prop_oneof![
        Just(SequenceSet::Saved),
        proptest::collection::vec((bound.clone(), bound), 1..4).prop_map(SequenceSet::Ranges),
    ];
    let leaf = prop_oneof![
        Just(SearchKey::All),
        Just(SearchKey::New),
        Just(SearchKey::Old),
        "[a-zA-Z$]{1,6}".prop_map(|k| SearchKey::Flag(Flag::Keyword(k))),
        ("[a-zA-Z-]{0,10}", bytes.clone()).prop_map(|(n, v)| SearchKey::Header(n, v)),
        bytes.clone().prop_map(SearchKey::Body),
        bytes.prop_map(SearchKey::Text),
        date.clone().prop_map(SearchKey::SentOn),
        date.clone().prop_map(SearchKey::SentBefore),
        date.prop_map(SearchKey::Since),
        any::<u32>().prop_map(SearchKey::Larger),
        set.clone().prop_map(SearchKey::Seq),
        set.prop_map(SearchKey::Uid),
        any::<u64>().prop_map(|n| SearchKey::ModSeq(None, n)),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| SearchKey::Not(Box::new(k))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| SearchKey::Or(Box::new(a), Box::new(b))),
            proptest::collection::vec(inner, 0..4).prop_map(SearchKey::And),
        ]
    })
}

fn arb_message() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        Just(b"\r\n".to_vec()),
        Just(b"From: ".to_vec()),
        Just(b"Subject: =?utf-8?b?".to_vec()),
        Just(b"Date: ".to_vec()),
        Just(b"References: <".to_vec()),
        Just(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".to_vec()),
        Just(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=".to_vec()),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn never_panics(keys in proptest::collection::vec(arb_key(), 0..4), raw in arb_message(), seq in 0u32..20) {
        let m = MessageParser::default().parse(&raw);
        let f = MessageFacts { seq, uid: seq, ..facts(1) };
        let _ = needs(&keys);
        let _ = matches(&keys, &f, m.as_ref(), &CTX);
        let _ = matches(&keys, &f, None, &CTX);
        let _ = matches(&keys, &f, Some(&Message::default()), &CTX);
        let _ = search_charset(Some("ISO-8859-2"), keys);
        let sort_keys: Vec<_> = [SortBy::Arrival, SortBy::Cc, SortBy::Date, SortBy::From, SortBy::Size,
            SortBy::Subject, SortBy::To, SortBy::DisplayFrom, SortBy::DisplayTo]
            .into_iter().map(|key| SortKey { reverse: seq % 2 == 0, key }).collect();
        let item = sort_item(seq, &sort_keys, &f, m.as_ref());
        let _ = sort(&sort_keys, vec![item.clone(), item]);
        let t = thread_item(seq, &f, m.as_ref());
        let _ = thread("REFERENCES", vec![t.clone(), t]);
        let _ = base_subject(&String::from_utf8_lossy(&raw));
    }
}
