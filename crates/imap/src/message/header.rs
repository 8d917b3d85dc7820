//! Reading a stored header block: fields, unfolding, and MIME values with parameters
//! (RFC 5322 §2.2, RFC 2045 §5.1, RFC 2231 §3).
//!
//! Everything works on the raw bytes kept by the scanner, so nothing is decoded: IMAP sends
//! header strings as they are (RFC 9051 §7.5.2), and Dovecot sends parameters raw, only joining
//! RFC 2231 continuations.

/// One header field of a block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    /// Field name as sent (without the colon and any whitespace before it).
    pub(crate) name: &'a [u8],
    /// The whole field, folding and line endings included.
    pub(crate) raw: &'a [u8],
    /// The value after the colon, still folded.
    pub(crate) value: &'a [u8],
}

/// Iterates the fields of a header block, stopping at the blank line.
pub(crate) fn fields(block: &[u8]) -> impl Iterator<Item = Field<'_>> {
    let mut rest = block;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() || rest[0] == b'\n' || rest.starts_with(b"\r\n") {
                return None;
            }
            let mut end = 0;
            // A field runs until a line end that is not followed by WSP (RFC 5322 §2.2.3).
            loop {
                match rest[end..].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        end += i + 1;
                        if !matches!(rest.get(end), Some(b' ' | b'\t')) {
                            break;
                        }
                    }
                    None => {
                        end = rest.len();
                        break;
                    }
                }
            }
            let raw = &rest[..end];
            rest = &rest[end..];
            if let Some(colon) = raw.iter().position(|&b| b == b':') {
                let name = trim_end(&raw[..colon]);
                if !name.is_empty() && !name.contains(&b'\n') {
                    return Some(Field { name, raw, value: &raw[colon + 1..] });
                }
            }
        }
    })
}

/// The first value of field `name` (case-insensitive), unfolded and trimmed.
pub(crate) fn first(block: &[u8], name: &str) -> Option<Vec<u8>> {
    fields(block).find(|f| f.name.eq_ignore_ascii_case(name.as_bytes())).map(|f| unfold(f.value))
}

/// Removes the CR and LF of folding (RFC 5322 §2.2.3) and trims surrounding whitespace.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = value.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    trim(&v).to_vec()
}

pub(crate) fn trim(s: &[u8]) -> &[u8] {
    trim_end(trim_start(s))
}

fn trim_start(s: &[u8]) -> &[u8] {
    let i = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    &s[i..]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let i = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &s[..i]
}

/// A MIME value with parameters, e.g. `text/plain; charset=us-ascii`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MimeValue {
    /// The leading token (`inline`) or `type/subtype` split in two.
    pub(crate) value: Vec<u8>,
    /// The subtype, for Content-Type.
    pub(crate) subtype: Vec<u8>,
    /// Parameters in order, names as sent, values unquoted; RFC 2231 continuations joined.
    pub(crate) params: Vec<(Vec<u8>, Vec<u8>)>,
}

impl MimeValue {
    /// The value of a parameter, matched case-insensitively.
    pub(crate) fn param(&self, name: &str) -> Option<&[u8]> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v.as_slice())
    }
}

/// Parses `type/subtype *(; param)`. `None` when the type is not valid (RFC 2045 §5.2 then
/// says to assume `text/plain; charset=us-ascii`).
pub(crate) fn content_type(value: &[u8]) -> Option<MimeValue> {
    let mut lx = Lexer { s: value, i: 0 };
    lx.skip_cfws();
    let kind = lx.token()?;
    lx.skip_cfws();
    if !lx.eat(b'/') {
        return None;
    }
    lx.skip_cfws();
    let subtype = lx.token()?;
    Some(MimeValue { value: kind.to_vec(), subtype: subtype.to_vec(), params: lx.params() })
}

/// Parses `token *(; param)`, as in Content-Disposition (RFC 2183).
pub(crate) fn disposition(value: &[u8]) -> Option<MimeValue> {
    let mut lx = Lexer { s: value, i: 0 };
    lx.skip_cfws();
    let kind = lx.token()?;
    Some(MimeValue { value: kind.to_vec(), subtype: Vec::new(), params: lx.params() })
}

/// The single token of Content-Transfer-Encoding, `None` when absent or not a token.
pub(crate) fn token_value(value: &[u8]) -> Option<Vec<u8>> {
    let mut lx = Lexer { s: value, i: 0 };
    lx.skip_cfws();
    let t = lx.token()?.to_vec();
    lx.skip_cfws();
    lx.at_end().then_some(t)
}

/// The comma-separated tokens of Content-Language (RFC 3282).
pub(crate) fn language_list(value: &[u8]) -> Vec<Vec<u8>> {
    let mut lx = Lexer { s: value, i: 0 };
    let mut out = Vec::new();
    loop {
        lx.skip_cfws();
        if lx.at_end() {
            break;
        }
        match lx.token() {
            Some(t) => out.push(t.to_vec()),
            None => lx.i += 1,
        }
    }
    out
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_token_byte(b: u8) -> bool {
    // RFC 2045 §5.1 token; 8-bit bytes are accepted, as senders put them there.
    b > b' ' && b != 0x7f && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

impl<'a> Lexer<'a> {
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Skips whitespace and (nested) comments.
    fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() {
                self.i += 1;
            } else if b == b'(' {
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        b'\\' => self.i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            } else {
                break;
            }
        }
        // An escape at the very end may step one past it.
        self.i = self.i.min(self.s.len());
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while self.peek().is_some_and(is_token_byte) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    fn quoted(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(c) = self.peek() {
                        out.push(c);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        out
    }

    fn skip_past_semicolon(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'"' {
                self.quoted();
            } else {
                self.i += 1;
                if b == b';' {
                    return;
                }
            }
        }
    }

    /// `*(";" attribute "=" value)`, leniently: a bad parameter is skipped up to the next `;`,
    /// and an unquoted value runs to the next `;` (senders put spaces in file names).
    fn params(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut raw = Vec::new();
        loop {
            self.skip_cfws();
            if self.at_end() {
                break;
            }
            if !self.eat(b';') {
                self.skip_past_semicolon();
            }
            self.skip_cfws();
            let Some(name) = self.token() else { continue };
            self.skip_cfws();
            if !self.eat(b'=') {
                continue;
            }
            self.skip_cfws();
            let value = if self.peek() == Some(b'"') {
                self.quoted()
            } else {
                let start = self.i;
                while self.peek().is_some_and(|b| b != b';') {
                    self.i += 1;
                }
                trim(&self.s[start..self.i]).to_vec()
            };
            raw.push((name.to_vec(), value));
        }
        join_continuations(raw)
    }
}

/// Joins RFC 2231 §3 continuations `name*0`, `name*1*`… in order into one parameter, named
/// `name*` when the first segment is extended (its value keeps the `charset'lang'` prefix and
/// percent-encoding) and `name` otherwise. Numbering must start at 0 and have no gaps; segments
/// past a gap are dropped.
fn join_continuations(raw: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let split = |name: &[u8]| -> Option<(Vec<u8>, u32, bool)> {
        let star = name.iter().position(|&b| b == b'*')?;
        let rest = &name[star + 1..];
        let (digits, extended) = match rest.strip_suffix(b"*") {
            Some(d) => (d, true),
            None => (rest, false),
        };
        if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = std::str::from_utf8(digits).ok()?.parse().ok()?;
        Some((name[..star].to_ascii_lowercase(), n, extended))
    };
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(raw.len());
    let mut done: Vec<Vec<u8>> = Vec::new();
    for (i, (name, value)) in raw.iter().enumerate() {
        let Some((base, _, _)) = split(name) else {
            out.push((name.clone(), value.clone()));
            continue;
        };
        if done.contains(&base) {
            continue;
        }
        let segs: Vec<(u32, bool, &[u8])> = raw[i..]
            .iter()
            .filter_map(|(n, v)| split(n).filter(|(b, _, _)| *b == base).map(|(_, k, e)| (k, e, v.as_slice())))
            .collect();
        let mut joined = Vec::new();
        let mut first_extended = None;
        for k in 0u32.. {
            let Some(&(_, ext, v)) = segs.iter().find(|(n, _, _)| *n == k) else { break };
            first_extended.get_or_insert(ext);
            joined.extend_from_slice(v);
        }
        let Some(ext) = first_extended else { continue };
        let star = name.iter().position(|&b| b == b'*').unwrap_or(name.len());
        let mut key = name[..star].to_vec();
        if ext {
            key.push(b'*');
        }
        out.push((key, joined));
        done.push(base);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_unfold() {
        let h = b"Subject: a\r\n b\r\nX-Y : z\r\nbad line\r\n\r\nBody: no\r\n";
        let f: Vec<_> = fields(h).map(|f| (f.name.to_vec(), unfold(f.value))).collect();
        assert_eq!(f, vec![(b"Subject".to_vec(), b"a b".to_vec()), (b"X-Y".to_vec(), b"z".to_vec())]);
        assert_eq!(first(h, "x-y").as_deref(), Some(&b"z"[..]));
    }

    #[test]
    fn content_types() {
        let ct = content_type(b" text/plain (c) ; charset=\"us-ascii\"; foo=\"a\\\"b\"; format=flowed").unwrap();
        assert_eq!((&ct.value[..], &ct.subtype[..]), (&b"text"[..], &b"plain"[..]));
        assert_eq!(ct.param("CHARSET"), Some(&b"us-ascii"[..]));
        assert_eq!(ct.param("foo"), Some(&b"a\"b"[..]));
        assert_eq!(ct.param("format"), Some(&b"flowed"[..]));
        assert!(content_type(b"text").is_none());
        assert!(content_type(b"").is_none());
    }

    #[test]
    fn rfc2231_continuations() {
        let d = disposition(b"attachment; filename*0*=utf-8''%E2%82%AC; filename*1*=%20rates.txt; size=3").unwrap();
        assert_eq!(
            d.params,
            vec![(b"filename*".to_vec(), b"utf-8''%E2%82%AC%20rates.txt".to_vec()), (b"size".to_vec(), b"3".to_vec())]
        );
        let d = disposition(b"inline; name*1=\"b\"; name*0=\"a\"; name*3=x").unwrap();
        assert_eq!(d.params, vec![(b"name".to_vec(), b"ab".to_vec())]);
    }
}
