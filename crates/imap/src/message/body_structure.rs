//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2), in Dovecot's style.
//!
//! Types, subtypes, parameters and encodings are sent as they appear in the message; defaults
//! are lower case. A text part without a charset gets `"charset" "us-ascii"` (RFC 2045 §5.2).
//! With extension data every field is written, `NIL` when absent: for a single part `md5
//! disposition language location`, for a multipart `params disposition language location`.
//! A multipart with no body part gets one empty text part, since the grammar needs one.
//! A `message/rfc822` whose body was not parsed (encoded, or nested too deep) still gets the
//! envelope, body and line count the grammar requires: an empty envelope and an empty text part.

use super::envelope;
use super::header::{self, MimeValue};
use super::{Kind, MessageStructure, Part};
use crate::wire;

const EMPTY_TEXT: &[u8] = br#""text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0"#;

impl MessageStructure {
    /// Appends BODY (`extended` false) or BODYSTRUCTURE (`extended` true) of the message,
    /// parentheses included.
    pub fn body_structure(&self, out: &mut Vec<u8>, extended: bool) {
        self.write_part(out, 0, extended);
    }

    fn write_part(&self, out: &mut Vec<u8>, index: u32, extended: bool) {
        let p = self.part(index);
        out.push(b'(');
        match p.kind {
            Kind::Multipart => {
                if p.children.is_empty() {
                    out.push(b'(');
                    out.extend_from_slice(EMPTY_TEXT);
                    if extended {
                        out.extend_from_slice(b" NIL NIL NIL NIL");
                    }
                    out.push(b')');
                }
                for &c in &p.children {
                    self.write_part(out, c, extended);
                }
                out.push(b' ');
                wire::string(out, &p.content_type.subtype);
                if extended {
                    out.push(b' ');
                    params(out, &p.content_type.params);
                    extension(out, p);
                }
            }
            Kind::Basic | Kind::Message => {
                let ct = &p.content_type;
                wire::string(out, &ct.value);
                out.push(b' ');
                wire::string(out, &ct.subtype);
                out.push(b' ');
                let is_text = ct.value.eq_ignore_ascii_case(b"text");
                if is_text && ct.param("charset").is_none() {
                    let mut with_charset = vec![(b"charset".to_vec(), b"us-ascii".to_vec())];
                    with_charset.extend(ct.params.iter().cloned());
                    params(out, &with_charset);
                } else {
                    params(out, &ct.params);
                }
                for name in ["Content-ID", "Content-Description"] {
                    out.push(b' ');
                    wire::nstring(out, header::first(&p.header, name).as_deref());
                }
                out.push(b' ');
                let encoding =
                    header::first(&p.header, "Content-Transfer-Encoding").and_then(|v| header::token_value(&v));
                wire::string(out, encoding.as_deref().unwrap_or(b"7bit"));
                out.push(b' ');
                wire::number(out, p.body_size());
                if p.kind == Kind::Message {
                    out.push(b' ');
                    match p.children.first() {
                        Some(&c) => {
                            envelope::write(out, &self.part(c).header);
                            out.push(b' ');
                            self.write_part(out, c, extended);
                        }
                        None => {
                            out.extend_from_slice(envelope::EMPTY);
                            out.extend_from_slice(b" (");
                            out.extend_from_slice(EMPTY_TEXT);
                            if extended {
                                out.extend_from_slice(b" NIL NIL NIL NIL");
                            }
                            out.push(b')');
                        }
                    }
                }
                if is_text || p.kind == Kind::Message {
                    out.push(b' ');
                    wire::number(out, p.body_lines);
                }
                if extended {
                    out.push(b' ');
                    wire::nstring(out, header::first(&p.header, "Content-MD5").as_deref());
                    extension(out, p);
                }
            }
        }
        out.push(b')');
    }
}

/// `("name" "value" …)` or `NIL`.
fn params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        wire::string(out, k);
        out.push(b' ');
        wire::string(out, v);
    }
    out.push(b')');
}

/// ` disposition language location`, each `NIL` when absent.
fn extension(out: &mut Vec<u8>, p: &Part) {
    out.push(b' ');
    match header::first(&p.header, "Content-Disposition").and_then(|v| header::disposition(&v)) {
        Some(MimeValue { value, params: ps, .. }) => {
            out.push(b'(');
            wire::string(out, &value);
            out.push(b' ');
            params(out, &ps);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    let languages = header::first(&p.header, "Content-Language").map(|v| header::language_list(&v)).unwrap_or_default();
    if languages.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        for (i, l) in languages.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            wire::string(out, l);
        }
        out.push(b')');
    }
    out.push(b' ');
    wire::nstring(out, header::first(&p.header, "Content-Location").as_deref());
}
