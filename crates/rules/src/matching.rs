//! The match types of a criterion (hMailServer's `RuleApplier::TestMatch`).

use crate::model::{Criterion, MatchType};

/// Whether `value` (the field's value) matches `criterion`.
pub(crate) fn criterion_matches(criterion: &Criterion, value: &str) -> bool {
    match criterion.match_type {
        MatchType::RegEx => criterion.regex.as_ref().is_some_and(|r| r.is_match(value)),
        other => test_match(other, &criterion.value, value),
    }
}

/// Whether `value` matches `pattern` under `match_type`, as hMailServer tests it: text
/// comparisons ignore case; less/greater than compare numbers (`,` as decimal point, a value
/// that is not a number reads as 0); a regular expression must match all of `value`
/// (compiled here each time: [`Criterion`] compiles it once); a bad one never matches.
pub fn test_match(match_type: MatchType, pattern: &str, value: &str) -> bool {
    match match_type {
        MatchType::Equals => same(pattern, value),
        MatchType::NotEquals => !same(pattern, value),
        MatchType::Contains => value.to_lowercase().contains(&pattern.to_lowercase()),
        MatchType::NotContains => !value.to_lowercase().contains(&pattern.to_lowercase()),
        MatchType::LessThan => number(value) < number(pattern),
        MatchType::GreaterThan => number(value) > number(pattern),
        MatchType::Wildcard => altimail_core::wildcard::matches(pattern, value),
        MatchType::RegEx => {
            let c = Criterion::new(crate::Field::Subject, MatchType::RegEx, pattern);
            criterion_matches(&c, value)
        }
        MatchType::Unknown(_) => false,
    }
}

fn same(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// The number at the start of `s` (C's `atof`: leading blanks skipped, the longest prefix that
/// is a number, 0 when there is none), with `,` read as a decimal point.
fn number(s: &str) -> f64 {
    let s = s.replace(',', ".");
    let s = s.trim_start();
    let b = s.as_bytes();
    let mut end = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if b.get(end) == Some(&b'.') {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    if end == digits_start || &s[digits_start..end] == "." {
        return 0.0;
    }
    let mantissa_end = end;
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = e;
        while b.get(e).is_some_and(u8::is_ascii_digit) {
            e += 1;
        }
        if e > exp_digits {
            end = e;
        }
    }
    s[..end].parse().or_else(|_| s[..mantissa_end].parse()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchType::*;

    #[test]
    fn text_comparisons_ignore_case() {
        assert!(test_match(Equals, "Hello World", "hello world"));
        assert!(test_match(Equals, "ÄRGER", "ärger"));
        assert!(!test_match(Equals, "hello", "hello world"));
        assert!(test_match(NotEquals, "hello", "hello world"));
        assert!(!test_match(NotEquals, "HELLO", "hello"));
        assert!(test_match(Contains, "WORLD", "hello world"));
        assert!(test_match(Contains, "", "anything"));
        assert!(!test_match(Contains, "planet", "hello world"));
        assert!(test_match(NotContains, "planet", "hello world"));
        assert!(!test_match(NotContains, "World", "hello world"));
    }

    #[test]
    fn numbers_compare_as_atof_reads_them() {
        assert!(test_match(LessThan, "1000", "999"));
        assert!(!test_match(LessThan, "1000", "1000"));
        assert!(test_match(GreaterThan, "1000", "1001"));
        assert!(!test_match(GreaterThan, "1000", "1000"));
        assert!(test_match(GreaterThan, "2,5", "2.75"));
        assert!(test_match(LessThan, "2.5", "2,25"));
        assert!(test_match(GreaterThan, "-1", "abc"), "text reads as 0");
        assert!(test_match(GreaterThan, "10", "12 apples"));
        assert!(test_match(LessThan, "1e3", "999"));
        assert_eq!(number("  -3.5e2x"), -350.0);
        assert_eq!(number("."), 0.0);
        assert_eq!(number("7e"), 7.0);
    }

    #[test]
    fn regular_expressions_match_the_whole_value_with_case() {
        assert!(test_match(RegEx, "T*APAT*", "TTTTTAPATTT"));
        assert!(!test_match(RegEx, ".", "TTTTT"), "whole value");
        assert!(test_match(RegEx, ".", "\n"), "dot matches line ends");
        assert!(test_match(RegEx, ".*spam[0-9]+.*", "Hits: 4.5 by spam04\r\nmore\r\n"));
        assert!(!test_match(RegEx, "abc", "ABC"), "case-sensitive as boost's default");
        assert!(test_match(RegEx, "a|b", "b"), "alternation stays inside the anchors");
        assert!(!test_match(RegEx, "(", "("), "a bad expression never matches");
        assert!(!test_match(RegEx, "(a)\\1", "aa"), "back-references are not supported: no match");
    }

    #[test]
    fn wildcards_ignore_case() {
        assert!(test_match(Wildcard, "*@EXAMPLE.com", "john@example.com"));
        assert!(test_match(Wildcard, "report?.doc", "Report1.DOC"));
        assert!(!test_match(Wildcard, "*.exe", "file.exe.txt"));
    }

    #[test]
    fn unknown_match_types_never_match() {
        assert!(!test_match(Unknown(42), "", ""));
    }
}
