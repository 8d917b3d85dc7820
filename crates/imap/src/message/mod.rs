//! Message structure for FETCH: ENVELOPE, BODY, BODYSTRUCTURE, `BODY[section]` and `BINARY[…]`
//! (RFC 9051 §6.4.5 and §7.5.2, RFC 3501, RFC 3516).
//!
//! A [`Scanner`] is fed the stored message file in chunks of any size and finds its MIME tree:
//! multipart boundaries (RFC 2046 §5.1), nested multiparts, and `message/rfc822` or
//! `message/global` bodies parsed as messages. It keeps only the header blocks and byte
//! offsets, so memory is bounded by header sizes whatever the body size. The result, a
//! [`MessageStructure`], is small enough to cache and answers the FETCH items:
//!
//! * [`MessageStructure::envelope`] and [`MessageStructure::body_structure`] write the
//!   response data;
//! * [`MessageStructure::section`] maps `BODY[section]` to a byte [`SectionData::Range`] of the
//!   file, which the server streams as is (a `<partial>` is cut from that range by the caller),
//!   or to synthesized bytes for `HEADER.FIELDS`;
//! * [`MessageStructure::binary`] gives the range and the transfer encoding that a
//!   [`Decoder`] undoes while streaming, which also yields `BINARY.SIZE`;
//! * [`convert_binary_parts`] re-encodes `binary` parts as base64 when a message is appended
//!   as a `~{n}` literal, so that `BODY[…]` never has to send NUL bytes.
//!
//! Output follows Dovecot where the RFCs leave a choice: media types, parameters and encodings
//! are sent as they appear in the message (defaults in lower case: `"text" "plain"
//! ("charset" "us-ascii")`, `"7bit"`), header strings are sent unfolded but not decoded, and
//! RFC 2231 continuations are joined but not decoded. Sizes and line counts are of the stored
//! bytes, so they always match what a section sends; bare LF files are measured as stored.
//!
//! Hostile nesting is cut off at [`MAX_DEPTH`] levels and [`MAX_PARTS`] parts: beyond those,
//! the rest is opaque body of the innermost part that could still be tracked.

mod address;
mod body_structure;
mod convert;
mod decode;
mod envelope;
mod header;
mod scanner;
mod section;

pub use convert::convert_binary_parts;
pub use decode::{Decoder, TransferEncoding};
pub use scanner::{MAX_DEPTH, MAX_PARTS, Scanner};
pub use section::{BinarySection, SectionData};

use header::MimeValue;

/// The MIME tree of one message: header blocks and byte offsets, no bodies.
///
/// Built by a [`Scanner`]; cheap to clone and to keep in a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStructure {
    /// Parts in file order; index 0 is the message itself.
    parts: Vec<Part>,
    /// Size of the whole file in octets.
    size: u64,
}

/// What kind of entity a part is, which decides how sections and structures descend into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A leaf.
    Basic,
    /// `multipart/*`: `children` are its body parts.
    Multipart,
    /// `message/rfc822` or `message/global`: `children` holds the encapsulated message, or is
    /// empty when the body was not parsed (encoded, or too deep).
    Message,
}

/// One MIME entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The header block as stored, blank line included; may be cut short past the header caps.
    pub(crate) header: Vec<u8>,
    /// Offset of the first header byte.
    pub(crate) header_start: u64,
    /// Offset of the first body byte (the end of the header and its blank line).
    pub(crate) body_start: u64,
    /// Offset just past the body; the line end before a boundary belongs to the boundary.
    pub(crate) body_end: u64,
    /// Line ends (LF) in the body.
    pub(crate) body_lines: u64,
    /// Content-Type, or the default for this position when absent or invalid.
    pub(crate) content_type: MimeValue,
    /// Entity kind.
    pub(crate) kind: Kind,
    /// Indexes of child parts (see [`Kind`]).
    pub(crate) children: Vec<u32>,
}

impl Part {
    /// Size of the body in octets.
    pub(crate) fn body_size(&self) -> u64 {
        self.body_end - self.body_start
    }
}

impl MessageStructure {
    /// Scans a message held in memory.
    pub fn parse(message: &[u8]) -> MessageStructure {
        let mut s = Scanner::new();
        s.feed(message);
        s.finish()
    }

    /// Size of the message file in octets (RFC822.SIZE when stored with CRLF).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of MIME entities found, the message itself included.
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// The first value of a top-level header field (case-insensitive name), unfolded and trimmed
    /// but not decoded; `None` when absent. Meant for SORT and SEARCH on Date, Subject, From,
    /// To, Cc, Message-ID, In-Reply-To, References and the like.
    pub fn header_value(&self, name: &str) -> Option<Vec<u8>> {
        header::first(&self.parts[0].header, name)
    }

    /// Every value of a top-level header field, in order, unfolded and trimmed.
    pub fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        header::fields(&self.parts[0].header)
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| header::unfold(f.value))
            .collect()
    }

    /// The top-level header block as stored (blank line included), for header searches.
    pub fn header_block(&self) -> &[u8] {
        &self.parts[0].header
    }

    pub(crate) fn part(&self, i: u32) -> &Part {
        &self.parts[i as usize]
    }
}
