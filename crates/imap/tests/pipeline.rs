//! A pipelined stream with every kind of literal, fed split at every byte position (and byte by
//! byte): the frames and parsed commands must not depend on how the bytes arrive.

use altimail_imap::fragment::{Fragmenter, Frame, Limits, NonSyncLiterals};
use altimail_imap::parse::parse_command;

const STREAM: &[u8] = b"a1 LOGIN {3}\r\nbob {4+}\r\np w\n\r\n\
a2 SELECT inbox (CONDSTORE)\r\n\
a3 APPEND Drafts (\\Draft) \" 7-Feb-1994 21:52:25 -0800\" {10+}\r\nhello\r\nbye ~{3}\r\n\0\r\n\r\n\
a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From)])\r\n\
a5 SEARCH TEXT {2}\r\n{}\r\n\
a6 NOOP\n";

fn run(chunks: &[&[u8]]) -> Vec<Frame> {
    let mut f = Fragmenter::new(Limits { non_sync: NonSyncLiterals::Plus, ..Limits::default() });
    let mut out = Vec::new();
    for chunk in chunks {
        f.push(chunk);
        while let Some(frame) = f.poll().expect("within limits") {
            out.push(frame);
        }
    }
    assert_eq!(f.buffered(), 0);
    out
}

fn expected() -> Vec<Frame> {
    run(&[STREAM])
}

#[test]
fn whole_stream() {
    let frames = expected();
    let continues = frames.iter().filter(|f| **f == Frame::Continue).count();
    assert_eq!(continues, 3); // {3}, ~{3}, {2}
    let cmds: Vec<_> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Command(c) => Some(parse_command(c).expect("parses")),
            Frame::Continue => None,
        })
        .collect();
    assert_eq!(cmds.iter().map(|c| c.tag.as_str()).collect::<Vec<_>>(), ["a1", "a2", "a3", "a4", "a5", "a6"]);
}

#[test]
fn every_split_point() {
    let want = expected();
    for i in 0..=STREAM.len() {
        assert_eq!(run(&[&STREAM[..i], &STREAM[i..]]), want, "split at {i}");
    }
    for i in 0..=STREAM.len() {
        for j in (i..=STREAM.len()).step_by(7) {
            assert_eq!(run(&[&STREAM[..i], &STREAM[i..j], &STREAM[j..]]), want, "split at {i},{j}");
        }
    }
}

#[test]
fn byte_by_byte() {
    let chunks: Vec<&[u8]> = STREAM.chunks(1).collect();
    assert_eq!(run(&chunks), expected());
}
