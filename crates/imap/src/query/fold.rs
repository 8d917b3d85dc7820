//! Case-insensitive substring search with Unicode simple case folding.
//!
//! IMAP SEARCH compares strings case-insensitively (RFC 9051 §6.4.4). For non-ASCII text we use
//! the one-to-one ("simple") folding of Unicode's CaseFolding.txt, approximated from the standard
//! library's mappings: a character folds to the lower case of its upper case when both are single
//! characters (so `ς`, `σ` and `Σ` meet, and `ẞ` meets `ß`), else to its lower case when that is a
//! single character, else to itself. One-to-many mappings (`ß` → `ss`) are not applied, as in
//! simple folding.

/// Folds one character (see the module doc).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut upper = c.to_uppercase();
    if let (Some(u), None) = (upper.next(), upper.next()) {
        let mut lower = u.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next()) {
            return l;
        }
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Appends the folded form of `s` to `out`.
pub fn fold_into(out: &mut String, s: &str) {
    out.reserve(s.len());
    out.extend(s.chars().map(fold_char));
}

/// The folded form of `s`.
pub fn fold(s: &str) -> String {
    let mut out = String::new();
    fold_into(&mut out, s);
    out
}

/// A search string, folded once and tested against many texts.
#[derive(Debug, Clone)]
pub struct Needle {
    folded: String,
}

impl Needle {
    /// Builds a needle from search-key bytes (UTF-8 after [`super::search_charset`]; other bytes
    /// are read lossily so that a stray octet matches nothing rather than failing).
    pub fn new(bytes: &[u8]) -> Self {
        Needle { folded: fold(&String::from_utf8_lossy(bytes)) }
    }

    /// True for the empty string, which every text contains.
    pub fn is_empty(&self) -> bool {
        self.folded.is_empty()
    }

    /// Whether `text` contains the needle, ignoring case.
    pub fn found_in(&self, text: &str) -> bool {
        if self.folded.is_empty() {
            return true;
        }
        if text.is_ascii() && self.folded.is_ascii() {
            return contains_ascii_ci(text.as_bytes(), self.folded.as_bytes());
        }
        fold(text).contains(self.folded.as_str())
    }
}

/// `needle` is already lower-case ASCII.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay.windows(needle.len()).any(|w| w.iter().zip(needle).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert!(Needle::new("Müller".as_bytes()).found_in("Herr MÜLLER schreibt"));
        assert!(Needle::new(b"hello").found_in("Say HeLLo"));
        assert!(!Needle::new(b"hello").found_in("Say HeLL o"));
        assert!(Needle::new("ΣΟΦΟΣ".as_bytes()).found_in("σοφος"));
        assert!(Needle::new("ς".as_bytes()).found_in("Σ"));
        assert!(Needle::new("ẞ".as_bytes()).found_in("straße"));
        assert!(Needle::new("привет".as_bytes()).found_in("ПРИВЕТ, мир"));
        assert!(Needle::new(b"").found_in(""));
        assert!(!Needle::new(b"abc").found_in("ab"));
        assert!(!Needle::new(b"\xff").found_in("abc"));
        assert_eq!(fold_char('İ'), 'İ');
    }
}
