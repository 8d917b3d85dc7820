//! SEARCH keys (RFC 9051 §6.4.4, CONDSTORE MODSEQ, ESEARCH RETURN options) and their parser.

use crate::command::{Date, Flag};
use crate::cursor::Cursor;
use crate::error::ParseError;

use crate::sequence::{SequenceSet, sequence_set, starts_sequence};

/// Deepest nesting of NOT/OR/parentheses accepted, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// ESEARCH `RETURN` options (RFC 4731, SAVE from RFC 5182).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchReturn {
    /// `MIN`
    Min,
    /// `MAX`
    Max,
    /// `ALL`
    All,
    /// `COUNT`
    Count,
    /// `SAVE`
    Save,
}

/// One search key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// `ALL`
    All,
    /// A flag is set (`ANSWERED`, `DELETED`, `DRAFT`, `FLAGGED`, `SEEN`, `RECENT`, `KEYWORD k`).
    Flag(Flag),
    /// A flag is not set (`UN...`, `UNKEYWORD k`).
    NotFlag(Flag),
    /// `NEW`: recent and unseen.
    New,
    /// `OLD`: not recent.
    Old,
    /// `BCC`, `CC`, `FROM`, `SUBJECT`, `TO` as `HEADER name value`; and explicit `HEADER`.
    Header(String, Vec<u8>),
    /// `BODY s`
    Body(Vec<u8>),
    /// `TEXT s`
    Text(Vec<u8>),
    /// `BEFORE`
    Before(Date),
    /// `ON`
    On(Date),
    /// `SINCE`
    Since(Date),
    /// `SENTBEFORE`
    SentBefore(Date),
    /// `SENTON`
    SentOn(Date),
    /// `SENTSINCE`
    SentSince(Date),
    /// `LARGER n`
    Larger(u32),
    /// `SMALLER n`
    Smaller(u32),
    /// `UID set`
    Uid(SequenceSet),
    /// A message sequence set.
    Seq(SequenceSet),
    /// `NOT key`
    Not(Box<SearchKey>),
    /// `OR a b`
    Or(Box<SearchKey>, Box<SearchKey>),
    /// `( keys )`
    And(Vec<SearchKey>),
    /// `MODSEQ [entry-name entry-type] n`: the entry (if given) and the modseq.
    ModSeq(Option<(String, String)>, u64),
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/// `date-day "-" date-month "-" date-year`, from `c` (unquoted part).
pub(crate) fn date_text(c: &mut Cursor<'_>, two_digit_day_space: bool) -> Result<Date, ParseError> {
    let at = c.pos();
    if two_digit_day_space {
        c.eat(b' ');
    }
    let day = c.number()?;
    c.expect(b'-', "-")?;
    let m = c.take_while(|b| b.is_ascii_alphabetic());
    let month = MONTHS.iter().position(|x| x.as_bytes().eq_ignore_ascii_case(m)).ok_or(ParseError::BadDate(at))?;
    c.expect(b'-', "-")?;
    let ystart = c.pos();
    let year = c.number()?;
    if c.pos() - ystart != 4 || !(1..=31).contains(&day) {
        return Err(ParseError::BadDate(at));
    }
    Ok(Date { year: year as u16, month: month as u8 + 1, day: day as u8 })
}

/// `date`: plain or in double quotes.
pub(crate) fn date(c: &mut Cursor<'_>) -> Result<Date, ParseError> {
    if c.eat(b'"') {
        let d = date_text(c, false)?;
        c.expect(b'"', "closing quote")?;
        Ok(d)
    } else {
        date_text(c, false)
    }
}

/// Parse one or more space-separated keys until the end of the command or a `)`.
pub fn search_keys(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<SearchKey>, ParseError> {
    let mut keys = vec![search_key(c, depth)?];
    while c.peek() == Some(b' ') {
        c.sp()?;
        keys.push(search_key(c, depth)?);
    }
    Ok(keys)
}

fn sub(c: &mut Cursor<'_>, depth: usize) -> Result<Box<SearchKey>, ParseError> {
    c.sp()?;
    Ok(Box::new(search_key(c, depth + 1)?))
}

/// Parse one search key.
pub fn search_key(c: &mut Cursor<'_>, depth: usize) -> Result<SearchKey, ParseError> {
    use SearchKey as K;
    if depth > MAX_DEPTH {
        return Err(c.expected("less deeply nested search"));
    }
    if c.peek() == Some(b'(') {
        c.expect(b'(', "(")?;
        let keys = search_keys(c, depth + 1)?;
        c.expect(b')', ")")?;
        return Ok(K::And(keys));
    }
    if starts_sequence(c) {
        return sequence_set(c).map(K::Seq);
    }
    let word = c.atom_upper()?;
    let arg = |c: &mut Cursor<'_>| -> Result<Vec<u8>, ParseError> {
        c.sp()?;
        c.astring()
    };
    let dt = |c: &mut Cursor<'_>| -> Result<Date, ParseError> {
        c.sp()?;
        date(c)
    };
    let hdr = |c: &mut Cursor<'_>, name: &str| -> Result<SearchKey, ParseError> { Ok(K::Header(name.into(), arg(c)?)) };
    Ok(match word.as_str() {
        "ALL" => K::All,
        "ANSWERED" => K::Flag(Flag::Answered),
        "DELETED" => K::Flag(Flag::Deleted),
        "DRAFT" => K::Flag(Flag::Draft),
        "FLAGGED" => K::Flag(Flag::Flagged),
        "SEEN" => K::Flag(Flag::Seen),
        "RECENT" => K::Flag(Flag::Recent),
        "UNANSWERED" => K::NotFlag(Flag::Answered),
        "UNDELETED" => K::NotFlag(Flag::Deleted),
        "UNDRAFT" => K::NotFlag(Flag::Draft),
        "UNFLAGGED" => K::NotFlag(Flag::Flagged),
        "UNSEEN" => K::NotFlag(Flag::Seen),
        "NEW" => K::New,
        "OLD" => K::Old,
        "KEYWORD" | "UNKEYWORD" => {
            c.sp()?;
            let k = Flag::Keyword(String::from_utf8_lossy(c.atom()?).into_owned());
            if word == "KEYWORD" { K::Flag(k) } else { K::NotFlag(k) }
        }
        "BCC" => hdr(c, "BCC")?,
        "CC" => hdr(c, "CC")?,
        "FROM" => hdr(c, "FROM")?,
        "SUBJECT" => hdr(c, "SUBJECT")?,
        "TO" => hdr(c, "TO")?,
        "HEADER" => {
            c.sp()?;
            let at = c.pos();
            let name = String::from_utf8(c.astring()?).map_err(|_| ParseError::InvalidUtf8(at))?;
            K::Header(name, arg(c)?)
        }
        "BODY" => K::Body(arg(c)?),
        "TEXT" => K::Text(arg(c)?),
        "BEFORE" => K::Before(dt(c)?),
        "ON" => K::On(dt(c)?),
        "SINCE" => K::Since(dt(c)?),
        "SENTBEFORE" => K::SentBefore(dt(c)?),
        "SENTON" => K::SentOn(dt(c)?),
        "SENTSINCE" => K::SentSince(dt(c)?),
        "LARGER" | "SMALLER" => {
            c.sp()?;
            let n = c.number()?;
            if word == "LARGER" { K::Larger(n) } else { K::Smaller(n) }
        }
        "UID" => {
            c.sp()?;
            K::Uid(sequence_set(c)?)
        }
        "NOT" => K::Not(sub(c, depth)?),
        "OR" => {
            let a = sub(c, depth)?;
            K::Or(a, sub(c, depth)?)
        }
        "MODSEQ" => {
            c.sp()?;
            let entry = if c.peek() == Some(b'"') {
                let at = c.pos();
                let name = String::from_utf8(c.quoted()?).map_err(|_| ParseError::InvalidUtf8(at))?;
                c.sp()?;
                let ty = c.atom_upper()?;
                if !matches!(ty.as_str(), "PRIV" | "SHARED" | "ALL") {
                    return Err(c.expected("entry-type-req"));
                }
                c.sp()?;
                Some((name, ty))
            } else {
                None
            };
            K::ModSeq(entry, c.number64()?)
        }
        _ => return Err(c.expected("search key")),
    })
}

/// Parse `RETURN (opts)` contents after `RETURN `.
pub fn search_return(c: &mut Cursor<'_>) -> Result<Vec<SearchReturn>, ParseError> {
    c.paren_list(true, |c| {
        Ok(match c.atom_upper()?.as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "ALL" => SearchReturn::All,
            "COUNT" => SearchReturn::Count,
            "SAVE" => SearchReturn::Save,
            _ => return Err(c.expected("search return option")),
        })
    })
}
