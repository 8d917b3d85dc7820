//! FETCH attributes (RFC 9051 §6.4.5, BINARY RFC 3516, CONDSTORE/QRESYNC modifiers) and their parser.

use crate::cursor::Cursor;
use crate::error::ParseError;

/// What part of a section is wanted after the part numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// `HEADER`
    Header,
    /// `HEADER.FIELDS (names)`
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (names)`
    HeaderFieldsNot(Vec<String>),
    /// `TEXT`
    Text,
    /// `MIME` (only after a part number)
    Mime,
}

/// `section`: part path (e.g. `1.2`) then an optional text specifier. Empty is the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// Part numbers.
    pub part: Vec<u32>,
    /// Specifier.
    pub text: Option<SectionText>,
}

/// One FETCH attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttr {
    /// `ENVELOPE`
    Envelope,
    /// `FLAGS`
    Flags,
    /// `INTERNALDATE`
    InternalDate,
    /// `RFC822` (= BODY[])
    Rfc822,
    /// `RFC822.HEADER` (= BODY.PEEK[HEADER])
    Rfc822Header,
    /// `RFC822.SIZE`
    Rfc822Size,
    /// `RFC822.TEXT` (= BODY[TEXT])
    Rfc822Text,
    /// `BODY` (structure without extension data)
    Body,
    /// `BODYSTRUCTURE`
    BodyStructure,
    /// `UID`
    Uid,
    /// `MODSEQ`
    ModSeq,
    /// `BODY[section]<partial>` / `BODY.PEEK[...]`
    BodySection {
        /// `.PEEK`: don't set \Seen.
        peek: bool,
        /// Section.
        section: Section,
        /// `<offset.length>`
        partial: Option<(u32, u32)>,
    },
    /// `BINARY[part]<partial>` / `BINARY.PEEK[...]`
    Binary {
        /// `.PEEK`
        peek: bool,
        /// Part numbers.
        part: Vec<u32>,
        /// `<offset.length>`
        partial: Option<(u32, u32)>,
    },
    /// `BINARY.SIZE[part]`
    BinarySize(Vec<u32>),
}

/// FETCH modifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchModifier {
    /// `CHANGEDSINCE modseq`
    ChangedSince(u64),
    /// `VANISHED` (QRESYNC, UID FETCH only; the session checks)
    Vanished,
}

fn part_numbers(c: &mut Cursor<'_>) -> Result<Vec<u32>, ParseError> {
    let mut part = Vec::new();
    while matches!(c.peek(), Some(b'1'..=b'9')) {
        part.push(c.nz_number()?);
        if !c.eat(b'.') {
            break;
        }
        if c.peek() == Some(b']') {
            return Err(c.expected("section part"));
        }
    }
    Ok(part)
}

fn header_list(c: &mut Cursor<'_>) -> Result<Vec<String>, ParseError> {
    c.sp()?;
    c.paren_list(false, |c| {
        let at = c.pos();
        String::from_utf8(c.astring()?).map_err(|_| ParseError::InvalidUtf8(at))
    })
}

fn section(c: &mut Cursor<'_>) -> Result<Section, ParseError> {
    c.expect(b'[', "[")?;
    let part = part_numbers(c)?;
    let text = if c.peek() == Some(b']') {
        None
    } else {
        let word = c.take_while(|b| b.is_ascii_alphabetic() || b == b'.').to_ascii_uppercase();
        Some(match word.as_slice() {
            b"HEADER" => SectionText::Header,
            b"HEADER.FIELDS" => SectionText::HeaderFields(header_list(c)?),
            b"HEADER.FIELDS.NOT" => SectionText::HeaderFieldsNot(header_list(c)?),
            b"TEXT" => SectionText::Text,
            b"MIME" if !part.is_empty() => SectionText::Mime,
            _ => return Err(c.expected("section-text")),
        })
    };
    c.expect(b']', "]")?;
    Ok(Section { part, text })
}

fn partial(c: &mut Cursor<'_>) -> Result<Option<(u32, u32)>, ParseError> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let off = c.number()?;
    c.expect(b'.', ".")?;
    let len = c.nz_number()?;
    c.expect(b'>', ">")?;
    Ok(Some((off, len)))
}

fn binary_part(c: &mut Cursor<'_>) -> Result<Vec<u32>, ParseError> {
    c.expect(b'[', "[")?;
    let p = part_numbers(c)?;
    c.expect(b']', "]")?;
    Ok(p)
}

/// Parse one `fetch-att`.
pub fn fetch_att(c: &mut Cursor<'_>) -> Result<FetchAttr, ParseError> {
    let word = c.take_while(|b| b.is_ascii_alphanumeric() || b == b'.').to_ascii_uppercase();
    Ok(match word.as_slice() {
        b"ENVELOPE" => FetchAttr::Envelope,
        b"FLAGS" => FetchAttr::Flags,
        b"INTERNALDATE" => FetchAttr::InternalDate,
        b"RFC822" => FetchAttr::Rfc822,
        b"RFC822.HEADER" => FetchAttr::Rfc822Header,
        b"RFC822.SIZE" => FetchAttr::Rfc822Size,
        b"RFC822.TEXT" => FetchAttr::Rfc822Text,
        b"BODYSTRUCTURE" => FetchAttr::BodyStructure,
        b"UID" => FetchAttr::Uid,
        b"MODSEQ" => FetchAttr::ModSeq,
        b"BODY" if c.peek() != Some(b'[') => FetchAttr::Body,
        b"BODY" | b"BODY.PEEK" => {
            let section = section(c)?;
            FetchAttr::BodySection { peek: word.len() > 4, section, partial: partial(c)? }
        }
        b"BINARY" | b"BINARY.PEEK" => {
            let part = binary_part(c)?;
            FetchAttr::Binary { peek: word.len() > 6, part, partial: partial(c)? }
        }
        b"BINARY.SIZE" => FetchAttr::BinarySize(binary_part(c)?),
        _ => return Err(c.expected("fetch attribute")),
    })
}

/// Parse the attribute part of FETCH: a macro, one attribute or a parenthesised list.
pub fn fetch_atts(c: &mut Cursor<'_>) -> Result<Vec<FetchAttr>, ParseError> {
    use FetchAttr::*;
    if c.eat_keyword("ALL") {
        return Ok(vec![Flags, InternalDate, Rfc822Size, Envelope]);
    }
    if c.eat_keyword("FAST") {
        return Ok(vec![Flags, InternalDate, Rfc822Size]);
    }
    if c.eat_keyword("FULL") {
        return Ok(vec![Flags, InternalDate, Rfc822Size, Envelope, Body]);
    }
    if c.peek() == Some(b'(') { c.paren_list(false, fetch_att) } else { Ok(vec![fetch_att(c)?]) }
}

/// Parse `(CHANGEDSINCE n VANISHED)` after the attributes.
pub fn fetch_modifiers(c: &mut Cursor<'_>) -> Result<Vec<FetchModifier>, ParseError> {
    c.paren_list(false, |c| match c.atom_upper()?.as_str() {
        "CHANGEDSINCE" => {
            c.sp()?;
            Ok(FetchModifier::ChangedSince(c.number64()?))
        }
        "VANISHED" => Ok(FetchModifier::Vanished),
        _ => Err(c.expected("fetch modifier")),
    })
}
