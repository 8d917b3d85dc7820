//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): `&` shifts to modified base64 of UTF-16.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Why a modified UTF-7 name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mutf7Error {
    /// A `&` run is not terminated by `-`.
    #[error("unterminated shift sequence")]
    Unterminated,
    /// A byte outside the modified base64 alphabet, or a non-printable byte.
    #[error("invalid byte {0:#04x}")]
    InvalidByte(u8),
    /// The decoded UTF-16 is invalid, or the encoding is not canonical.
    #[error("invalid UTF-16 in shift sequence")]
    InvalidUtf16,
}

/// Encode a UTF-8 name as modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    };
    for ch in name.chars() {
        if (' '..='~').contains(&ch) {
            flush(&mut pending, &mut out);
            if ch == '&' { out.push_str("&-") } else { out.push(ch) }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decode a modified UTF-7 name to UTF-8.
pub fn decode(name: &str) -> Result<String, Mutf7Error> {
    let bytes = name.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(0x20..=0x7e).contains(&b) {
            return Err(Mutf7Error::InvalidByte(b));
        }
        if b != b'&' {
            out.push(b as char);
            i += 1;
            continue;
        }
        let start = i + 1;
        let end = start + bytes[start..].iter().position(|&c| c == b'-').ok_or(Mutf7Error::Unterminated)?;
        i = end + 1;
        if end == start {
            out.push('&');
            continue;
        }
        let mut bits: u32 = 0;
        let mut nbits = 0;
        let mut raw = Vec::new();
        for &c in &bytes[start..end] {
            let v = ALPHABET.iter().position(|&a| a == c).ok_or(Mutf7Error::InvalidByte(c))? as u32;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                raw.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        if bits != 0 || raw.len() % 2 != 0 || raw.is_empty() {
            return Err(Mutf7Error::InvalidUtf16);
        }
        let units: Vec<u16> = raw.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
        let s = String::from_utf16(&units).map_err(|_| Mutf7Error::InvalidUtf16)?;
        if s.chars().any(|c| (' '..='~').contains(&c)) {
            return Err(Mutf7Error::InvalidUtf16);
        }
        out.push_str(&s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_examples() {
        assert_eq!(encode("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(), "~peter/mail/台北/日本語");
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode("A&-B").unwrap(), "A&B");
        assert_eq!(decode("Entw&APw-rfe").unwrap(), "Entwürfe");
        assert_eq!(encode("😀"), "&2D3eAA-");
        assert_eq!(decode("&2D3eAA-").unwrap(), "😀");
    }

    #[test]
    fn rejects_bad() {
        assert_eq!(decode("&U,BTFw"), Err(Mutf7Error::Unterminated));
        assert!(decode("&U!-").is_err());
        assert!(decode("&AGE-").is_err()); // encodes printable 'a'
        assert!(decode("&2D0-").is_err()); // lone surrogate
        assert!(decode("é").is_err());
    }

    proptest! {
        #[test]
        fn round_trip(s in "\\PC*") {
            prop_assert_eq!(decode(&encode(&s)).unwrap(), s);
        }
        #[test]
        fn decode_never_panics(s in ".*") {
            let _ = decode(&s);
        }
    }
}
