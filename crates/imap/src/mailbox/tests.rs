use super::*;
use crate::sequence::{SeqBound, SequenceSet};

fn e(uid: u32, flags: i64, modseq: u64) -> Entry {
    Entry { id: i64::from(uid) * 10, uid, flags, keywords: Vec::new(), modseq }
}

fn kw(uid: u32, keywords: &[&str], modseq: u64) -> Entry {
    Entry { keywords: keywords.iter().map(|s| s.to_string()).collect(), ..e(uid, 0, modseq) }
}

fn write(view: &mut SelectedMailbox, opts: UpdateOptions) -> String {
    let mut out = Vec::new();
    view.write_updates(&mut out, opts);
    String::from_utf8(out).unwrap()
}

const ALL: UpdateOptions =
    UpdateOptions { allow_expunge: true, qresync: false, condstore: false, rev2: false, uid_in_fetch: false };

#[test]
fn new_sorts_and_deduplicates() {
    let view = SelectedMailbox::new(1, vec![e(5, 0, 1), e(2, SEEN, 1), e(5, SEEN, 1)], &[5, 9], 7, 3, 1, true);
    assert_eq!(view.uids(), &[2, 5]);
    assert_eq!(view.exists(), 2);
    assert_eq!(view.recent(), 1);
    assert!(view.is_recent(5) && !view.is_recent(2) && !view.is_recent(9));
    assert_eq!(view.first_unseen(), Some(2));
    assert_eq!(view.uid_next(), 6, "UIDNEXT is raised above the last UID");
    assert_eq!(view.entry(2).map(|r| (r.id, r.flags)), Some((50, 0)));
    assert_eq!(view.entry(0), None);
    assert_eq!(view.entry(3), None);
}

#[test]
fn keywords_follow_their_message() {
    let mut view = SelectedMailbox::new(1, vec![kw(1, &["a"], 1), e(2, 0, 1), kw(3, &["c"], 1)], &[], 1, 4, 1, false);
    view.sync(vec![e(1, 0, 2), kw(2, &["b"], 2), kw(3, &["c"], 1), kw(4, &["d"], 2)], &[], 2, 5);
    assert_eq!(view.keywords_of(1), &[] as &[String]);
    assert_eq!(view.keywords_of(2), &["b".to_string()]);
    assert_eq!(view.keywords_of(3), &["c".to_string()]);
    assert_eq!(view.keywords_of(4), &["d".to_string()]);
    assert_eq!(write(&mut view, ALL), "* 4 EXISTS\r\n* 0 RECENT\r\n* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (b))\r\n");
    view.sync(vec![kw(2, &["b"], 2), kw(4, &["d"], 2)], &[], 2, 5);
    assert_eq!(write(&mut view, ALL), "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n");
    assert_eq!(view.keywords, vec![(2, vec!["b".to_string()].into()), (4, vec!["d".to_string()].into())]);
}

#[test]
fn new_message_expunged_before_its_exists_is_never_mentioned() {
    let mut view = SelectedMailbox::new(1, vec![e(1, 0, 1)], &[], 1, 2, 1, false);
    view.sync(vec![e(1, 0, 1), e(2, 0, 2), e(3, 0, 3)], &[2, 3], 3, 4);
    view.sync(vec![e(1, 0, 1), e(3, 0, 3)], &[], 3, 4);
    assert_eq!(write(&mut view, ALL), "* 2 EXISTS\r\n* 1 RECENT\r\n");
    assert_eq!(view.uids(), &[1, 3]);
}

#[test]
fn resolve_merges_overlapping_ranges() {
    let view = SelectedMailbox::new(1, (1..=5).map(|u| e(u * 2, 0, 1)).collect(), &[], 1, 11, 1, false);
    let set = SequenceSet::Ranges(vec![(SeqBound::Num(4), SeqBound::Num(2)), (SeqBound::Star, SeqBound::Num(3))]);
    assert_eq!(view.resolve(&set, false, &[]), Ok(vec![2, 3, 4, 5]));
    let many = SequenceSet::Ranges(vec![(SeqBound::Num(1), SeqBound::Star); 1000]);
    assert_eq!(view.resolve(&many, true, &[]), Ok(vec![1, 2, 3, 4, 5]));
}

#[test]
fn view_costs_thirteen_bytes_per_message() {
    let view = SelectedMailbox::new(1, (1..=10_000).map(|u| e(u, SEEN, 1)).collect(), &[], 1, 1, 1, false);
    let bytes = view.ids.capacity() * 8 + view.uids.capacity() * 4 + view.bits.capacity();
    assert_eq!(bytes, 130_000);
    assert!(view.keywords.is_empty());
}

#[test]
fn snapshot_older_than_own_store_keeps_the_store() {
    let mut view = SelectedMailbox::new(1, vec![e(1, 0, 3)], &[], 1, 2, 3, false);
    view.set_flags(1, SEEN, vec!["x".into()], 4);
    view.sync(vec![e(1, 0, 3)], &[], 3, 2);
    assert_eq!(write(&mut view, ALL), "");
    assert_eq!(view.entry(1).map(|m| (m.flags, m.keywords.len())), Some((SEEN, 1)));
    view.sync(vec![Entry { keywords: vec!["x".into()], ..e(1, SEEN, 4) }], &[], 4, 2);
    assert_eq!(write(&mut view, ALL), "");
    assert!(view.own.is_empty());
}
