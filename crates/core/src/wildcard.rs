//! hMailServer's wildcards (`StringParser::WildcardMatchNoCase`: `*.exe`, `report?.doc`,
//! `*.example.com`): `*` any run of characters, `?` one character, every other character
//! literal, compared without regard to case. Used for routes, the anti-spam white list and
//! blocked attachments. Matched iteratively, in time proportional to the pattern times the
//! name, whatever the input.

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let n: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen and the name position it was tried at, to widen it on a mismatch.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_like_hmailserver() {
        assert!(matches("*.exe", "setup.exe"));
        assert!(matches("*.exe", "SETUP.EXE"));
        assert!(matches("*.EXE", "a.b.exe"));
        assert!(!matches("*.exe", "setup.exe.txt"));
        assert!(!matches("*.exe", "setupexe"));
        assert!(matches("report?.doc", "report1.doc"));
        assert!(!matches("report?.doc", "report.doc"));
        assert!(matches("*", ""));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
        assert!(matches("*a*b*c", "xxaxxbxxc"));
        assert!(matches("*.scr", "ÄRGER.SCR"));
    }

    #[test]
    fn hostile_patterns_stay_fast() {
        let name = "a".repeat(5000);
        let pattern = format!("{}b", "*a".repeat(200));
        assert!(!matches(&pattern, &name));
    }
}
