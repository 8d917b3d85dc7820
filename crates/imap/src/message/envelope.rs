//! ENVELOPE (RFC 9051 §7.5.2): `(date subject from sender reply-to to cc bcc in-reply-to
//! message-id)` from a header block.
//!
//! Strings are sent unfolded and trimmed, not decoded, and `NIL` when the field is absent.
//! Sender and Reply-To fall back to From when absent or empty, as the RFC requires.

use super::MessageStructure;
use super::address;
use super::header;
use crate::wire;

/// Writes the ENVELOPE of a header block.
pub(crate) fn write(out: &mut Vec<u8>, block: &[u8]) {
    let value = |name: &str| header::first(block, name);
    let list = |name: &str| value(name).map(|v| address::parse(&v)).unwrap_or_default();
    out.push(b'(');
    wire::nstring(out, value("Date").as_deref());
    out.push(b' ');
    wire::nstring(out, value("Subject").as_deref());
    let from = list("From");
    for name in ["From", "Sender", "Reply-To", "To", "Cc", "Bcc"] {
        out.push(b' ');
        let mut l = if name == "From" { from.clone() } else { list(name) };
        if l.is_empty() && (name == "Sender" || name == "Reply-To") {
            l.clone_from(&from);
        }
        address::write_list(out, &l);
    }
    out.push(b' ');
    wire::nstring(out, value("In-Reply-To").as_deref());
    out.push(b' ');
    wire::nstring(out, value("Message-ID").as_deref());
    out.push(b')');
}

/// ENVELOPE of a message that could not be parsed: every field `NIL`.
pub(crate) const EMPTY: &[u8] = b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";

impl MessageStructure {
    /// Appends the ENVELOPE of the message (RFC 9051 §7.5.2), parentheses included.
    pub fn envelope(&self, out: &mut Vec<u8>) {
        write(out, &self.part(0).header);
    }
}
