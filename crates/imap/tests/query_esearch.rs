//! ESORT and PARTIAL responses built from a real SORT, with the messages and expected lines of
//! imaptest's esort, sort-partial and search-partial groups.

use altimail_imap::command::{SortBy, SortKey};
use altimail_imap::query::{Esearch, MessageFacts, PartialRange, esearch_reply, sort, sort_item};
use altimail_imap::search::SearchReturn;
use chrono::NaiveDate;

/// Five messages; 3 and 4 arrived in the same second.
fn arrival_sort(reverse: bool) -> Vec<u32> {
    let keys = [SortKey { reverse, key: SortBy::Arrival }];
    let items = [21, 22, 23, 23, 25]
        .into_iter()
        .zip(1..)
        .map(|(second, seq)| {
            let facts = MessageFacts {
                seq,
                uid: seq,
                flags: 0,
                keywords: &[],
                recent: false,
                size: 10,
                internal_date: NaiveDate::from_ymd_opt(2008, 2, 22).unwrap().and_hms_opt(17, 6, second).unwrap(),
                modseq: 1,
            };
            sort_item(seq, &keys, &facts, None)
        })
        .collect();
    sort(&keys, items)
}

fn line(returns: &[SearchReturn], partial: Option<&str>, sorted: bool, results: &[u32]) -> String {
    let partial = partial.map(|p| PartialRange::parse(p).unwrap());
    let mut out = Vec::new();
    esearch_reply(&mut out, &Esearch { tag: "T", uid: false, returns, partial, modseq: None, sorted }, results);
    String::from_utf8(out).unwrap().to_ascii_lowercase()
}

#[test]
fn esort() {
    let order = arrival_sort(false);
    assert_eq!(line(&[SearchReturn::Min], None, true, &order), "* esearch (tag \"t\") min 1\r\n");
    assert_eq!(line(&[SearchReturn::Max], None, true, &order), "* esearch (tag \"t\") max 5\r\n");
    assert_eq!(line(&[SearchReturn::All], None, true, &order), "* esearch (tag \"t\") all 1:5\r\n");
    assert_eq!(line(&[SearchReturn::Count], None, true, &order), "* esearch (tag \"t\") count 5\r\n");
}

#[test]
fn sort_partial() {
    let up = arrival_sort(false);
    let down = arrival_sort(true);
    let cases = [
        (&up, "1:1", "1:1 1"),
        (&up, "2:4", "2:4 2:4"),
        (&up, "4:2", "2:4 2:4"),
        (&down, "2:4", "2:4 3:4,2"),
        (&up, "1:6", "1:6 1:5"),
        (&down, "1:6", "1:6 5,3:4,2,1"),
    ];
    for (order, range, want) in cases {
        assert_eq!(line(&[], Some(range), true, order), format!("* esearch (tag \"t\") partial ({want})\r\n"));
    }
    for bad in ["1", "1:*", "*:1"] {
        assert_eq!(PartialRange::parse(bad), None);
    }
}

#[test]
fn search_partial() {
    let cases = [
        (&[1, 2, 3, 4, 5][..], "6:6", "6:6 nil"),
        (&[1, 2, 4, 5], "1:3", "1:3 1:2,4"),
        (&[1, 2, 4, 5], "2:3", "2:3 2,4"),
        (&[5, 4, 2, 1], "2:10", "2:10 2,4:5"),
    ];
    for (results, range, want) in cases {
        assert_eq!(line(&[], Some(range), false, results), format!("* esearch (tag \"t\") partial ({want})\r\n"));
    }
}
