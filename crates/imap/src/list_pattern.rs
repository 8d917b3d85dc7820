//! LIST and LSUB patterns (RFC 9051 §6.3.9): `*` matches anything, `%` anything but the
//! hierarchy delimiter, INBOX in any case.
//!
//! Matching simulates the pattern as an automaton over its positions (a bit per position), one
//! step per character of the name: no recursion and no backtracking, so a pattern of thousands
//! of wildcards costs time proportional to its length times the name's, never the stack.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`
    Any,
    /// `%`
    AnyButDelimiter,
}

/// A compiled LIST pattern; see the module documentation.
#[derive(Debug, Clone)]
pub struct ListPattern {
    tokens: Vec<Token>,
    delimiter: char,
    /// Characters the pattern requires (a name with fewer cannot match).
    literals: usize,
    /// Bit `i` set when token `i` is `*` / `%` / a wildcard of either kind.
    any: Vec<u64>,
    any_but_delimiter: Vec<u64>,
    wildcard: Vec<u64>,
    /// Bit `i` set when token `i` is that character.
    chars: HashMap<char, Vec<u64>>,
}

/// `name` with a leading INBOX (the whole name or its first level) in upper case.
fn with_inbox_upper(mut chars: Vec<char>, delimiter: char) -> Vec<char> {
    let is_inbox = chars.len() >= 5
        && chars.iter().take(5).zip("INBOX".chars()).all(|(a, b)| a.eq_ignore_ascii_case(&b))
        && chars.get(5).is_none_or(|&c| c == delimiter);
    if is_inbox {
        chars.splice(0..5, "INBOX".chars());
    }
    chars
}

fn set(bits: &mut [u64], i: usize) {
    if let Some(word) = bits.get_mut(i / 64) {
        *word |= 1 << (i % 64);
    }
}

fn get(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

/// `bits & mask`, shifted one position up, or-ed into `into`.
fn shift_and_into(bits: &[u64], mask: &[u64], into: &mut [u64]) {
    let mut carry = 0;
    for ((b, m), out) in bits.iter().zip(mask).zip(into.iter_mut()) {
        let v = b & m;
        *out |= (v << 1) | carry;
        carry = v >> 63;
    }
}

impl ListPattern {
    /// Combines a reference and a mailbox pattern: the reference is a prefix (clients send it
    /// with its delimiter).
    pub fn new(reference: &str, pattern: &str, delimiter: char) -> ListPattern {
        let chars = with_inbox_upper(reference.chars().chain(pattern.chars()).collect(), delimiter);
        let mut tokens: Vec<Token> = Vec::with_capacity(chars.len());
        for c in chars {
            let token = match c {
                '*' => Token::Any,
                '%' => Token::AnyButDelimiter,
                c => Token::Char(c),
            };
            // A run of wildcards is one wildcard: `*` if it holds one, else `%`.
            match (tokens.last_mut(), token) {
                (Some(last @ (Token::Any | Token::AnyButDelimiter)), Token::Any | Token::AnyButDelimiter) => {
                    if token == Token::Any {
                        *last = Token::Any;
                    }
                }
                _ => tokens.push(token),
            }
        }
        let words = (tokens.len() + 1).div_ceil(64);
        let (mut any, mut any_but_delimiter, mut wildcard) = (vec![0; words], vec![0; words], vec![0; words]);
        let mut chars: HashMap<char, Vec<u64>> = HashMap::new();
        let mut literals = 0;
        for (i, t) in tokens.iter().enumerate() {
            match *t {
                Token::Char(c) => {
                    literals += 1;
                    set(chars.entry(c).or_insert_with(|| vec![0; words]), i);
                }
                Token::Any => {
                    set(&mut any, i);
                    set(&mut wildcard, i);
                }
                Token::AnyButDelimiter => {
                    set(&mut any_but_delimiter, i);
                    set(&mut wildcard, i);
                }
            }
        }
        ListPattern { tokens, delimiter, literals, any, any_but_delimiter, wildcard, chars }
    }

    /// Positions reachable without reading a character: a wildcard may match nothing. Runs of
    /// wildcards were merged, so one step is enough.
    fn close(&self, state: &mut [u64]) {
        let snapshot = state.to_vec();
        shift_and_into(&snapshot, &self.wildcard, state);
    }

    /// Whether the mailbox name `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let name = with_inbox_upper(name.chars().collect(), self.delimiter);
        if name.len() < self.literals {
            return false;
        }
        let words = self.any.len();
        let mut state = vec![0u64; words];
        set(&mut state, 0);
        self.close(&mut state);
        let mut next = vec![0u64; words];
        for c in name {
            next.iter_mut().for_each(|w| *w = 0);
            if let Some(mask) = self.chars.get(&c) {
                shift_and_into(&state, mask, &mut next);
            }
            for (i, out) in next.iter_mut().enumerate() {
                let mut stay = self.any[i];
                if c != self.delimiter {
                    stay |= self.any_but_delimiter[i];
                }
                *out |= state[i] & stay;
            }
            self.close(&mut next);
            std::mem::swap(&mut state, &mut next);
            if state.iter().all(|&w| w == 0) {
                return false;
            }
        }
        get(&state, self.tokens.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(reference: &str, pattern: &str, name: &str) -> bool {
        ListPattern::new(reference, pattern, '.').matches(name)
    }

    #[test]
    fn wildcards() {
        assert!(m("", "*", "INBOX") && m("", "*", "a.b.c") && m("", "*", ""));
        assert!(m("", "%", "INBOX") && !m("", "%", "a.b"));
        assert!(m("a.", "%", "a.b") && !m("a.", "%", "a.b.c") && !m("a.", "%", "a"));
        assert!(m("", "a.%.c", "a.x.c") && !m("", "a.%.c", "a.x.y.c"));
        assert!(m("", "a*c", "abc") && m("", "a*c", "ac") && m("", "a*c", "a.b.c") && !m("", "a*c", "ab"));
        assert!(m("", "%*%", "a.b") && m("", "%%", "ab") && !m("", "%%", "a.b"));
        assert!(m("", "*.%", "a.b.c") && !m("", "*.%", "abc"));
        assert!(m("", "abc", "abc") && !m("", "abc", "abcd") && !m("", "abc", "ab"));
    }

    #[test]
    fn inbox_in_any_case() {
        assert!(m("", "inbox", "INBOX") && m("", "INBOX", "inbox") && m("", "Inbox.%", "INBOX.sub"));
        assert!(!m("", "inboxes", "INBOXES") && m("", "InBoXes", "InBoXes"));
    }

    #[test]
    fn non_ascii_and_short_patterns() {
        assert!(m("", "abcdé", "abcdé") && !m("", "abcdé", "abcde"));
        assert!(m("", "é*", "été") && m("", "inbo", "inbo"));
    }

    #[test]
    fn huge_patterns_are_cheap_and_do_not_recurse() {
        let stars = "*".repeat(100_000) + "x";
        assert!(m("", &stars, "abx") && !m("", &stars, "abc"));
        let alternating = "*a".repeat(30_000);
        assert!(!m("", &alternating, &"a".repeat(100)));
        assert!(m("", &"*a".repeat(60), &"a".repeat(100)));
        assert!(
            m("", &"%".repeat(1000), "abc") && m("", "%.".repeat(64).trim_end_matches('.'), &"a.".repeat(64)[..127])
        );
    }
}
