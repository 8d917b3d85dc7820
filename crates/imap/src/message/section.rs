//! `BODY[section]` and `BINARY[part]` lookup (RFC 9051 §6.4.5, RFC 3516 §4).
//!
//! Part numbers walk the MIME tree: the parts of a multipart are numbered from 1; a message
//! that is not multipart has a single part 1, its body; after a `message/rfc822` part the
//! numbers address the parts of the encapsulated message. `HEADER`, `TEXT` and
//! `HEADER.FIELDS(.NOT)` after part numbers need a `message/rfc822` part and apply to the
//! message inside it; `MIME` is the part's own header. Every range ends where the body ends,
//! so a `<partial>` can be cut from it exactly.

use super::decode::TransferEncoding;
use super::header;
use super::{Kind, MessageStructure, Part};
use crate::fetch::SectionText;

/// Where the data of a section comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionData {
    /// Bytes `start..end` of the message file, sent as they are.
    Range {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// Synthesized bytes: the result of `HEADER.FIELDS` or `HEADER.FIELDS.NOT`.
    Bytes(Vec<u8>),
}

/// A `BINARY[part]` lookup: the file range of the part body and the encoding to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinarySection {
    /// First byte of the encoded body.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
    /// What a [`super::Decoder`] must undo; [`TransferEncoding::Unknown`] is answered with
    /// `NO [UNKNOWN-CTE]`.
    pub encoding: TransferEncoding,
}

/// What the next part number is counted in.
enum Context {
    /// A message: its parts if multipart, else only part 1, its body.
    Message(u32),
    /// The parts of a multipart body part.
    Multipart(u32),
    /// A leaf: there are no further parts.
    Leaf,
}

impl MessageStructure {
    /// Finds the entity addressed by `part` (non-empty).
    fn resolve(&self, part: &[u32]) -> Option<u32> {
        let mut ctx = Context::Message(0);
        let mut found = None;
        for &n in part {
            let index = n.checked_sub(1)? as usize;
            let x = match ctx {
                Context::Message(m) if self.part(m).kind == Kind::Multipart => *self.part(m).children.get(index)?,
                Context::Message(m) if index == 0 => m,
                Context::Multipart(p) => *self.part(p).children.get(index)?,
                Context::Message(_) | Context::Leaf => return None,
            };
            let p = self.part(x);
            ctx = match p.kind {
                Kind::Multipart => Context::Multipart(x),
                Kind::Message => p.children.first().map_or(Context::Leaf, |&c| Context::Message(c)),
                Kind::Basic => Context::Leaf,
            };
            found = Some(x);
        }
        found
    }

    /// The data of `BODY[section]`.
    ///
    /// # Returns
    ///
    /// `None` when the section does not exist (a part number out of range, or `HEADER`/`TEXT`
    /// after a part that is not `message/rfc822`). The server then answers an empty string
    /// `""` for it, as Dovecot does, rather than failing the whole FETCH.
    pub fn section(&self, part: &[u32], text: Option<&SectionText>) -> Option<SectionData> {
        let message = if part.is_empty() {
            0
        } else {
            let x = self.resolve(part)?;
            let p = self.part(x);
            match text {
                None => return Some(range(p.body_start, p.body_end)),
                Some(SectionText::Mime) => return Some(range(p.header_start, p.body_start)),
                Some(_) if p.kind == Kind::Message => *p.children.first()?,
                Some(_) => return None,
            }
        };
        let m = self.part(message);
        Some(match text {
            None if part.is_empty() => range(0, self.size),
            None | Some(SectionText::Mime) => return None,
            Some(SectionText::Header) => range(m.header_start, m.body_start),
            Some(SectionText::Text) => range(m.body_start, m.body_end),
            Some(SectionText::HeaderFields(names)) => SectionData::Bytes(header_fields(m, names, true)),
            Some(SectionText::HeaderFieldsNot(names)) => SectionData::Bytes(header_fields(m, names, false)),
        })
    }

    /// The range and encoding of `BINARY[part]`; an empty `part` is the whole message,
    /// unencoded. `None` when the part does not exist.
    pub fn binary(&self, part: &[u32]) -> Option<BinarySection> {
        if part.is_empty() {
            return Some(BinarySection { start: 0, end: self.size, encoding: TransferEncoding::Identity });
        }
        let p = self.part(self.resolve(part)?);
        let token = header::first(&p.header, "Content-Transfer-Encoding").and_then(|v| header::token_value(&v));
        Some(BinarySection {
            start: p.body_start,
            end: p.body_end,
            encoding: TransferEncoding::from_token(token.as_deref()),
        })
    }
}

fn range(start: u64, end: u64) -> SectionData {
    SectionData::Range { start, end }
}

/// The fields of `m`'s header whose names are (`keep`) or are not in `names`, as stored, then
/// the blank line (RFC 9051 §6.4.5 shows the result ending with it).
fn header_fields(m: &Part, names: &[String], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in header::fields(&m.header) {
        if names.iter().any(|n| f.name.eq_ignore_ascii_case(n.as_bytes())) == keep {
            out.extend_from_slice(f.raw);
            if !f.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}
