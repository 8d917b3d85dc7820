//! The message on the wire: CRLF line ends everywhere (a bare CR or LF becomes CRLF) and, for
//! DATA, dot-stuffing (RFC 5321 §4.5.2) and the terminating `.` line.

pub use altimail_delivery::generated::crlf_bytes as crlf;

/// The DATA payload: CRLF-normalised, dot-stuffed, ending with `.\r\n` on a line of its own.
pub fn data_payload(data: &[u8]) -> Vec<u8> {
    let normal = crlf(data);
    let mut out = Vec::with_capacity(normal.len() + normal.len() / 64 + 8);
    let mut at_line_start = true;
    for &b in &normal {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_crlf() {
        assert_eq!(crlf(b"a\nb\rc\r\nd"), b"a\r\nb\r\nc\r\nd\r\n");
        assert_eq!(crlf(b""), b"");
        assert_eq!(crlf(b"x\r\n"), b"x\r\n");
    }

    #[test]
    fn dots_are_stuffed_and_the_end_is_marked_once() {
        assert_eq!(data_payload(b".a\n..b\nc.\n."), b"..a\r\n...b\r\nc.\r\n..\r\n.\r\n");
        // A message that already ends in CRLF gains no blank line (mail-send's bug, G7).
        assert_eq!(data_payload(b"body\r\n"), b"body\r\n.\r\n");
        assert_eq!(data_payload(b""), b".\r\n");
    }

    #[test]
    fn no_bare_lf_ever() {
        let out = data_payload(b"a\n\r\n\r\r.\n\n");
        for (i, &b) in out.iter().enumerate() {
            if b == b'\n' {
                assert_eq!(out[i - 1], b'\r');
            }
            if b == b'\r' {
                assert_eq!(out[i + 1], b'\n');
            }
        }
    }
}
