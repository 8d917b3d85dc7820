//! Re-encoding of `binary` parts when a message is appended as a `~{n}` literal (RFC 3516 §4.4).
//!
//! A message with `Content-Transfer-Encoding: binary` parts may hold NUL bytes, which a `BODY[]`
//! literal cannot carry (RFC 9051 §4.3). Like Dovecot, the server stores such parts as base64
//! instead: `BINARY[…]` then gives back the original bytes, and `BODY[…]` sends clean text.

use super::header;
use super::{Kind, MessageStructure};

/// Base64 characters per encoded line (RFC 2045 §6.8 allows at most 76).
const LINE_CHARS: usize = 76;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Rewrites every leaf part whose Content-Transfer-Encoding is `binary` as base64.
///
/// The `Content-Transfer-Encoding` field is replaced by `Content-Transfer-Encoding: base64`
/// in place; the body becomes CRLF-separated lines of 76 characters, and every other byte of
/// the message is kept. Multiparts and parsed `message/rfc822` parts are never re-encoded
/// (some clients label them `binary`); their leaves are.
///
/// # Returns
///
/// The converted message, or `None` when no part needs converting.
///
/// ```
/// use altimail_imap::message::convert_binary_parts;
/// let msg = b"Content-Transfer-Encoding: binary\r\n\r\n\0\xff";
/// let out = convert_binary_parts(msg).unwrap();
/// assert_eq!(out, b"Content-Transfer-Encoding: base64\r\n\r\nAP8=");
/// ```
pub fn convert_binary_parts(message: &[u8]) -> Option<Vec<u8>> {
    let structure = MessageStructure::parse(message);
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0usize;
    for p in &structure.parts {
        if p.kind != Kind::Basic {
            continue;
        }
        let (Ok(header_start), Ok(body_start), Ok(body_end)) =
            (usize::try_from(p.header_start), usize::try_from(p.body_start), usize::try_from(p.body_end))
        else {
            continue;
        };
        let Some(block) = message.get(header_start..body_start) else { continue };
        let Some(body) = message.get(body_start..body_end) else { continue };
        // The first field decides the encoding, as in `MessageStructure::binary`.
        let Some(field) = header::fields(block).find(|f| f.name.eq_ignore_ascii_case(b"Content-Transfer-Encoding"))
        else {
            continue;
        };
        let is_binary =
            header::token_value(&header::unfold(field.value)).is_some_and(|t| t.eq_ignore_ascii_case(b"binary"));
        if !is_binary || header_start < copied {
            continue;
        }
        // The field lies inside `block`, so the offset is in range.
        let field_start = header_start + (field.raw.as_ptr() as usize - block.as_ptr() as usize);
        let field_end = field_start + field.raw.len();
        let buf = out.get_or_insert_with(|| Vec::with_capacity(message.len() + message.len() / 3 + 64));
        buf.extend_from_slice(&message[copied..field_start]);
        buf.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n");
        buf.extend_from_slice(&message[field_end..body_start]);
        encode_lines(body, buf);
        copied = body_end;
    }
    let mut buf = out?;
    buf.extend_from_slice(&message[copied..]);
    Some(buf)
}

/// Appends `data` as base64 lines of [`LINE_CHARS`] characters, CRLF between lines but not
/// after the last (the line end before a boundary, if any, follows in the message).
fn encode_lines(data: &[u8], out: &mut Vec<u8>) {
    for (i, line) in data.chunks(LINE_CHARS / 4 * 3).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        for group in line.chunks(3) {
            let b = [group[0], group.get(1).copied().unwrap_or(0), group.get(2).copied().unwrap_or(0)];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            let sextet = |shift: u32| ALPHABET[(n >> shift & 0x3f) as usize];
            out.extend_from_slice(&[sextet(18), sextet(12)]);
            out.push(if group.len() > 1 { sextet(6) } else { b'=' });
            out.push(if group.len() > 2 { sextet(0) } else { b'=' });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Decoder, TransferEncoding};

    fn decode_base64(data: &[u8]) -> Vec<u8> {
        let mut d = Decoder::new(TransferEncoding::Base64);
        let mut out = Vec::new();
        d.decode(data, &mut out);
        d.finish(&mut out);
        out
    }

    #[test]
    fn nothing_to_convert() {
        assert_eq!(convert_binary_parts(b"Subject: x\r\n\r\nbody\r\n"), None);
        assert_eq!(convert_binary_parts(b"Content-Transfer-Encoding: 8bit\r\n\r\n\xff\r\n"), None);
        // A multipart labelled binary is left alone, and so are its 7bit parts.
        let msg = b"Content-Type: multipart/mixed; boundary=b\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                    --b\r\n\r\ntext\r\n--b--\r\n";
        assert_eq!(convert_binary_parts(msg), None);
    }

    #[test]
    fn imaptest_append_binary() {
        let msg = b"From: user@domain.org\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nMime-Version: 1.0\r\n\
                    Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                    \0-\xe4\n\r\n\n";
        let out = convert_binary_parts(msg).unwrap();
        let want: &[u8] = b"From: user@domain.org\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nMime-Version: 1.0\r\n\
                     Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3kCg0KCg==";
        assert_eq!(out, want);
        let s = MessageStructure::parse(&out);
        let bin = s.binary(&[1]).unwrap();
        assert_eq!(bin.encoding, TransferEncoding::Base64);
        assert_eq!(decode_base64(&out[bin.start as usize..bin.end as usize]), b"\0-\xe4\n\r\n\n");
    }

    #[test]
    fn multipart_keeps_boundaries_and_other_parts() {
        let payload: Vec<u8> = (0..=255u8).cycle().take(200).collect();
        let mut msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\
                        Content-Transfer-Encoding: BINARY\r\nContent-Type: application/x\r\n\r\n"
            .to_vec();
        msg.extend_from_slice(&payload);
        msg.extend_from_slice(b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\nepi\r\n");
        let out = convert_binary_parts(&msg).unwrap();
        assert!(!out.contains(&0));
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n"));
        assert!(text.contains("Content-Transfer-Encoding: base64\r\nContent-Type: application/x\r\n\r\n"));
        assert!(text.ends_with("\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\nepi\r\n"));
        assert!(text.lines().all(|l| l.len() <= 76));
        let s = MessageStructure::parse(&out);
        assert_eq!(s.part_count(), 3);
        let bin = s.binary(&[1]).unwrap();
        assert_eq!(decode_base64(&out[bin.start as usize..bin.end as usize]), payload);
        let plain = s.binary(&[2]).unwrap();
        assert_eq!(&out[plain.start as usize..plain.end as usize], b"plain");
    }

    #[test]
    fn line_lengths() {
        let mut out = Vec::new();
        encode_lines(&[0u8; 57], &mut out);
        assert_eq!(out.len(), 76);
        out.clear();
        encode_lines(&[0u8; 58], &mut out);
        assert_eq!(out, [&[b'A'; 76][..], b"\r\nAA=="].concat());
        out.clear();
        encode_lines(b"", &mut out);
        assert!(out.is_empty());
    }
}
