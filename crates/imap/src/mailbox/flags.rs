//! Message flags as stored (hMailServer bits plus keywords) and as written on the wire.
//!
//! hMailServer keeps the system flags in one integer (`hm_messages.messageflags`):
//! 1 `\Seen`, 2 `\Deleted`, 4 `\Flagged`, 8 `\Answered`, 16 `\Draft`, 32 `\Recent`. Bit 32 is
//! shared by every session in hMailServer; here `\Recent` is per session (RFC 3501 §2.3.2), so
//! the bit is carried through unchanged but never read or written by this module.

use crate::command::{Flag, StoreMode};
use crate::wire;

/// `\Seen`.
pub const SEEN: i64 = 1;
/// `\Deleted`.
pub const DELETED: i64 = 2;
/// `\Flagged`.
pub const FLAGGED: i64 = 4;
/// `\Answered`.
pub const ANSWERED: i64 = 8;
/// `\Draft`.
pub const DRAFT: i64 = 16;
/// The five system flags a client can set.
pub const SYSTEM: i64 = SEEN | DELETED | FLAGGED | ANSWERED | DRAFT;

/// Wire names of the system flags, in the order they are written.
const NAMES: [(i64, &[u8]); 5] = [
    (SEEN, b"\\Seen"),
    (ANSWERED, b"\\Answered"),
    (FLAGGED, b"\\Flagged"),
    (DELETED, b"\\Deleted"),
    (DRAFT, b"\\Draft"),
];

/// Appends a flag list, `(\Seen \Answered $Junk)`, with `\Recent` last when `recent`.
///
/// Keywords that are not valid atoms (possible only through bad database content) are left
/// out: writing them would break the response for the client.
pub fn write_flags(out: &mut Vec<u8>, flags: i64, keywords: &[String], recent: bool) {
    out.push(b'(');
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !first {
            out.push(b' ');
        }
        first = false;
    };
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            sep(out);
            out.extend_from_slice(name);
        }
    }
    for keyword in keywords.iter().filter(|k| is_keyword(k)) {
        sep(out);
        out.extend_from_slice(keyword.as_bytes());
    }
    if recent {
        sep(out);
        out.extend_from_slice(b"\\Recent");
    }
    out.push(b')');
}

/// Whether `s` can be written as a keyword: a non-empty atom (RFC 9051 §9 `flag-keyword`).
pub fn is_keyword(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(wire::is_atom_char)
}

/// Splits parsed flags into hMailServer bits and keywords (deduplicated case-insensitively,
/// first spelling kept).
///
/// `\Recent` and unknown `\`-flags are dropped: the first cannot be stored (RFC 9051 §6.4.6)
/// and the second are not in PERMANENTFLAGS, so there is no place to keep them.
pub fn to_bits(flags: &[Flag]) -> (i64, Vec<String>) {
    let mut bits = 0;
    let mut keywords: Vec<String> = Vec::new();
    for flag in flags {
        match flag {
            Flag::Seen => bits |= SEEN,
            Flag::Answered => bits |= ANSWERED,
            Flag::Flagged => bits |= FLAGGED,
            Flag::Deleted => bits |= DELETED,
            Flag::Draft => bits |= DRAFT,
            Flag::Recent | Flag::Extension(_) => {}
            Flag::Keyword(k) => {
                if is_keyword(k) && !contains(&keywords, k) {
                    keywords.push(k.clone());
                }
            }
        }
    }
    (bits, keywords)
}

/// The flags after a STORE: `FLAGS` replaces, `+FLAGS` adds, `-FLAGS` removes.
///
/// Bits outside the five system flags (hMailServer's shared `\Recent`) are kept as they are.
/// Keywords compare case-insensitively (RFC 9051 §2.3.2); an existing keyword keeps its spelling.
pub fn apply_store(mode: StoreMode, current: (i64, &[String]), given: &[Flag]) -> (i64, Vec<String>) {
    let (cur_bits, cur_keywords) = current;
    let (bits, keywords) = to_bits(given);
    match mode {
        StoreMode::Replace => ((cur_bits & !SYSTEM) | bits, keywords),
        StoreMode::Add => {
            let mut out: Vec<String> = Vec::with_capacity(cur_keywords.len() + keywords.len());
            for k in cur_keywords.iter().chain(&keywords) {
                if !contains(&out, k) {
                    out.push(k.clone());
                }
            }
            (cur_bits | bits, out)
        }
        StoreMode::Remove => {
            let out = cur_keywords.iter().filter(|k| !contains(&keywords, k)).cloned().collect();
            (cur_bits & !bits, out)
        }
    }
}

fn contains(list: &[String], k: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(bits: i64, keywords: &[&str], recent: bool) -> String {
        let keywords: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        write_flags(&mut out, bits, &keywords, recent);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_flag_lists() {
        assert_eq!(flags(0, &[], false), "()");
        assert_eq!(flags(0, &[], true), "(\\Recent)");
        assert_eq!(flags(SEEN | ANSWERED | 32, &["$Junk"], false), "(\\Seen \\Answered $Junk)");
        assert_eq!(
            flags(SYSTEM, &["a", "bad word", ""], true),
            "(\\Seen \\Answered \\Flagged \\Deleted \\Draft a \\Recent)"
        );
    }

    #[test]
    fn converts_flags_to_bits() {
        let given = [
            Flag::Seen,
            Flag::Recent,
            Flag::Extension("Foo".into()),
            Flag::Keyword("$Junk".into()),
            Flag::Keyword("$junk".into()),
            Flag::Draft,
        ];
        assert_eq!(to_bits(&given), (SEEN | DRAFT, vec!["$Junk".to_string()]));
    }

    #[test]
    fn applies_store_modes() {
        let current = vec!["$Junk".to_string(), "Work".to_string()];
        let cur = (SEEN | 32, current.as_slice());
        let given = [Flag::Flagged, Flag::Keyword("$JUNK".into()), Flag::Keyword("New".into())];
        assert_eq!(
            apply_store(StoreMode::Replace, cur, &given),
            (FLAGGED | 32, vec!["$JUNK".to_string(), "New".to_string()])
        );
        assert_eq!(
            apply_store(StoreMode::Add, cur, &given),
            (SEEN | FLAGGED | 32, vec!["$Junk".to_string(), "Work".to_string(), "New".to_string()])
        );
        assert_eq!(
            apply_store(StoreMode::Remove, cur, &[Flag::Seen, Flag::Keyword("work".into())]),
            (32, vec!["$Junk".to_string()])
        );
    }
}
