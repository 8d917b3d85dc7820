//! SORT on address keys, with the messages of imaptest's sort-addresses and sort-display-to
//! groups, whose expected orders match Dovecot's.

use altimail_imap::command::{SortBy, SortKey};
use altimail_imap::query::{MessageFacts, sort, sort_item};
use chrono::NaiveDate;
use mail_parser::MessageParser;

fn facts(seq: u32) -> MessageFacts<'static> {
    MessageFacts {
        seq,
        uid: seq,
        flags: 0,
        keywords: &[],
        recent: false,
        size: 100,
        internal_date: NaiveDate::from_ymd_opt(2008, 2, 22).unwrap().and_hms_opt(0, seq, 0).unwrap(),
        modseq: 1,
    }
}

/// Sorts messages 1..=n (in arrival order) by `keys`.
fn run(raw: &[&str], keys: &[(SortBy, bool)]) -> Vec<u32> {
    let keys: Vec<SortKey> = keys.iter().map(|&(key, reverse)| SortKey { reverse, key }).collect();
    let items = raw
        .iter()
        .zip(1..)
        .map(|(r, seq)| {
            let message = MessageParser::default().parse(r.as_bytes()).unwrap();
            sort_item(seq, &keys, &facts(seq), Some(&message))
        })
        .collect();
    sort(&keys, items)
}

const ADDRESSES: [&str; 3] = [
    "From: user2@domain2.org\r\nTo: foo bar <user2@domain2.org>\r\nCc: user2@domain2.org (foo bar)\r\n\r\n1\r\n",
    "From: user2@domain1.org\r\nTo: user2@domain1.org\r\nCc: user2: blah@domain1.org;\r\n\r\n2\r\n",
    "From: user1@domain1.org\r\nTo: user1@domain1.org\r\nCc: user1@domain1.org\r\n\r\n3\r\n",
];

#[test]
fn address_keys_use_the_local_part_only() {
    for key in [SortBy::From, SortBy::To, SortBy::Cc] {
        assert_eq!(run(&ADDRESSES, &[(key, false)]), [3, 1, 2], "{key:?}");
        // Equal keys stay in mailbox order under REVERSE.
        assert_eq!(run(&ADDRESSES, &[(key, true)]), [1, 2, 3], "{key:?}");
        assert_eq!(run(&ADDRESSES, &[(key, false), (SortBy::Arrival, true)]), [3, 2, 1], "{key:?}");
    }
}

#[test]
fn a_group_sorts_by_its_name() {
    // Message 2's first Cc address is the group "user2", not its member "blah".
    let raw = ["Cc: b@x.org\r\n\r\n", "Cc: c: a@x.org;\r\n\r\n", "Cc: d@x.org\r\n\r\n"];
    assert_eq!(run(&raw, &[(SortBy::Cc, false)]), [1, 2, 3]);
    assert_eq!(run(&raw, &[(SortBy::Cc, true)]), [3, 2, 1]);
}

const DISPLAY_TO: [&str; 8] = [
    "To: foo bar <a@b.c>\r\n\r\n1\r\n",
    "To: b@c.d\r\n\r\n2\r\n",
    "To: d\r\n\r\n3\r\n",
    "To: =?iso-8859-1?q?foo_aar?= <e@f.g>\r\n\r\n4\r\n",
    "To: =?iso-8859-1?q?foo_car?= <f@g.h>\r\n\r\n5\r\n",
    "To: a: xx@xx.org, yy@yy.org;\r\n\r\n6\r\n",
    "To: z: aa@aa.org, bb@bb.org;\r\n\r\n7\r\n",
    "To: empty:;\r\n\r\n8\r\n",
];

#[test]
fn display_to_uses_names_decoded_then_addresses_then_group_names() {
    assert_eq!(run(&DISPLAY_TO, &[(SortBy::DisplayTo, false)]), [6, 2, 3, 8, 4, 1, 5, 7]);
    assert_eq!(run(&DISPLAY_TO, &[(SortBy::DisplayTo, true)]), [7, 5, 1, 4, 8, 3, 2, 6]);
}

#[test]
fn display_from_compares_case_insensitively() {
    let raw = [
        "From: Zed <a@x.org>\r\n\r\n",
        "From: adam <z@x.org>\r\n\r\n",
        "From: b@x.org\r\n\r\n",
        "Subject: no from\r\n\r\n",
    ];
    assert_eq!(run(&raw, &[(SortBy::DisplayFrom, false)]), [4, 2, 3, 1]);
}
