//! `CHARSET` of SEARCH, SORT and THREAD (RFC 9051 §6.4.4): search strings are converted to UTF-8
//! once, before evaluation, so matching only ever compares UTF-8 text.

use mail_parser::decoders::charsets::map::charset_decoder;

use crate::search::SearchKey;

/// The client named a charset we cannot decode; answer `NO [BADCHARSET (UTF-8 US-ASCII)]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported search charset {0}")]
pub struct BadCharset(pub String);

/// Converts every string argument of `keys` (HEADER values, BODY, TEXT) from `charset` to UTF-8.
///
/// `None`, `UTF-8` and `US-ASCII` leave the bytes as sent. Any other charset known to
/// mail-parser (ISO-8859-*, Windows-125x, KOI8, and with encoding_rs the CJK ones) is decoded.
///
/// # Errors
///
/// [`BadCharset`] when the charset is unknown.
pub fn search_charset(charset: Option<&str>, keys: Vec<SearchKey>) -> Result<Vec<SearchKey>, BadCharset> {
    let Some(name) = charset else { return Ok(keys) };
    let name = name.trim();
    if ["UTF-8", "UTF8", "US-ASCII", "ASCII"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return Ok(keys);
    }
    let decode = charset_decoder(name.as_bytes()).ok_or_else(|| BadCharset(name.to_owned()))?;
    Ok(keys.into_iter().map(|k| convert(k, decode)).collect())
}

fn convert(key: SearchKey, decode: fn(&[u8]) -> String) -> SearchKey {
    use SearchKey as K;
    let text = |b: Vec<u8>| if b.is_ascii() { b } else { decode(&b).into_bytes() };
    match key {
        K::Header(name, value) => K::Header(name, text(value)),
        K::Body(b) => K::Body(text(b)),
        K::Text(b) => K::Text(text(b)),
        K::Not(k) => K::Not(Box::new(convert(*k, decode))),
        K::Or(a, b) => K::Or(Box::new(convert(*a, decode)), Box::new(convert(*b, decode))),
        K::And(keys) => K::And(keys.into_iter().map(|k| convert(k, decode)).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_nested_strings() {
        let keys = vec![
            SearchKey::Not(Box::new(SearchKey::Body(b"M\xfcller".to_vec()))),
            SearchKey::Or(
                Box::new(SearchKey::Header("SUBJECT".into(), b"\xe9t\xe9".to_vec())),
                Box::new(SearchKey::And(vec![SearchKey::Text(b"\x80".to_vec())])),
            ),
        ];
        let want = vec![
            SearchKey::Not(Box::new(SearchKey::Body("Müller".into()))),
            SearchKey::Or(
                Box::new(SearchKey::Header("SUBJECT".into(), "été".into())),
                Box::new(SearchKey::And(vec![SearchKey::Text("€".into())])),
            ),
        ];
        assert_eq!(search_charset(Some("ISO-8859-1"), keys.clone()).unwrap(), want);
        assert_eq!(search_charset(Some("windows-1252"), keys.clone()).unwrap(), want);
        assert_eq!(search_charset(Some("utf-8"), keys.clone()).unwrap(), keys);
        assert_eq!(search_charset(None, keys.clone()).unwrap(), keys);
        assert_eq!(
            search_charset(Some("KOI8-R"), vec![SearchKey::Body(b"\xf0\xd2\xc9".to_vec())]).unwrap(),
            vec![SearchKey::Body("При".into())]
        );
        assert_eq!(search_charset(Some("X-NOPE"), keys), Err(BadCharset("X-NOPE".into())));
    }
}
