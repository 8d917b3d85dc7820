//! Helpers shared by the IMAP fuzz targets.

/// The checks of the deep parsers, shared with the proptests of `tests/no_panic_deep.rs`.
#[path = "../../tests/exercise/mod.rs"]
pub mod exercise;

use altimail_imap::fragment::{FragmentError, Fragmenter, Frame, Limits, NonSyncLiterals};

/// Pieces of IMAP that reach deep parser states quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b"a ",
    b"UID ",
    b"FETCH ",
    b"STORE ",
    b"SEARCH ",
    b"SORT ",
    b"THREAD ",
    b"APPEND ",
    b"SELECT ",
    b"EXAMINE ",
    b"LIST ",
    b"STATUS ",
    b"COPY ",
    b"MOVE ",
    b"EXPUNGE",
    b"ENABLE ",
    b"IDLE",
    b"DONE",
    b"AUTHENTICATE ",
    b"LOGIN ",
    b"ID ",
    b"INBOX",
    b"(",
    b")",
    b"[",
    b"]",
    b"<",
    b">",
    b"{",
    b"}",
    b"{3}\r\n",
    b"{2+}\r\n",
    b"{5000+}\r\n",
    b"~{1}\r\n",
    b"\"",
    b"\\",
    b"\\Seen",
    b"$Junk",
    b"*",
    b"$",
    b":",
    b",",
    b".",
    b"+",
    b"-",
    b"0",
    b"1",
    b"7",
    b"4294967295",
    b"99999999999",
    b"BODY",
    b".PEEK",
    b"HEADER.FIELDS",
    b"MIME",
    b"TEXT",
    b"BINARY",
    b"FLAGS",
    b"MODSEQ",
    b"CHANGEDSINCE ",
    b"UNCHANGEDSINCE ",
    b"VANISHED",
    b"QRESYNC",
    b"CONDSTORE",
    b"RETURN ",
    b"(SAVE)",
    b"CHARSET ",
    b"NOT ",
    b"OR ",
    b"ALL",
    b"NIL",
    b"7-Feb-1994",
    b"\"01-Jan-2000 00:00:00 +0000\"",
    b"&AOk-",
    b"\xc3\xa9",
    b"\xff",
    b"\0",
];

/// Maps each input byte to a piece of [`ALPHABET`].
pub fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&byte| ALPHABET[usize::from(byte) % ALPHABET.len()].iter().copied()).collect()
}

/// Limits chosen by a control byte: the defaults, or tiny caps that every input breaks.
pub fn limits(control: u8) -> Limits {
    let non_sync = match control % 3 {
        0 => NonSyncLiterals::Off,
        1 => NonSyncLiterals::Minus,
        _ => NonSyncLiterals::Plus,
    };
    if control & 4 == 0 {
        Limits { non_sync, ..Limits::default() }
    } else {
        Limits { max_literal: 8, max_literals: 2, max_command: 64, max_line: 48, non_sync }
    }
}

/// Feeds `data` to a fragmenter in chunks of `chunk` bytes (`usize::MAX`: all at once), polling
/// after each, and returns everything it produced.
pub fn fragments(data: &[u8], chunk: usize, limits: Limits) -> Vec<Result<Frame, FragmentError>> {
    let mut fragmenter = Fragmenter::new(limits);
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        fragmenter.push(piece);
        loop {
            match fragmenter.poll() {
                Ok(None) => break,
                Ok(Some(frame)) => out.push(Ok(frame)),
                Err(e) => out.push(Err(e)),
            }
        }
    }
    out
}
