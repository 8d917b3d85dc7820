//! The base subject of RFC 5256 §2.1, used by SORT SUBJECT and both THREAD algorithms.

/// Extracts the base subject from a decoded `Subject:` value (RFC 2047 words already decoded).
///
/// Returns the base subject and whether the subject marked a reply or forward (a `Re:`, `Fw:` or
/// `Fwd:` leader, a `(fwd)` trailer or a `[fwd: …]` wrapper), which REFERENCES threading uses
/// (RFC 5256 §3, step 5). Comparisons of the result use i;ascii-casemap, so case is kept.
pub fn base_subject(subject: &str) -> (String, bool) {
    // Step 1: whitespace runs (tabs, folding) become one space.
    let mut s = String::with_capacity(subject.len());
    for word in subject.split(|c: char| c.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(word);
    }
    let mut reply = false;
    let mut cur: &str = &s;
    loop {
        // Step 2: trailing "(fwd)" and whitespace.
        loop {
            cur = cur.trim_end_matches(' ');
            if ends_with_ci(cur, "(fwd)") {
                cur = &cur[..cur.len() - 5];
                reply = true;
            } else {
                break;
            }
        }
        // Steps 3 to 5: leaders, then a leading blob if something remains after it.
        loop {
            let before = cur.len();
            loop {
                if let Some(rest) = cur.strip_prefix(' ') {
                    cur = rest;
                } else if let Some(n) = refwd_leader(cur) {
                    cur = &cur[n..];
                    reply = true;
                } else {
                    break;
                }
            }
            if let Some(n) = blob(cur, 0)
                && !cur[n..].is_empty()
            {
                cur = &cur[n..];
            }
            if cur.len() == before {
                break;
            }
        }
        // Step 6: "[fwd: subject]".
        if starts_with_ci(cur, "[fwd:") && cur.ends_with(']') {
            cur = &cur[5..cur.len() - 1];
            reply = true;
            continue;
        }
        break;
    }
    (cur.to_owned(), reply)
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len() && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP` at `at`: its length.
fn blob(s: &str, at: usize) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(at) != Some(&b'[') {
        return None;
    }
    let close = at + 1 + b[at + 1..].iter().position(|&c| c == b']' || c == b'[')?;
    if b[close] != b']' {
        return None;
    }
    let mut end = close + 1;
    while b.get(end) == Some(&b' ') {
        end += 1;
    }
    Some(end - at)
}

/// `*subj-blob subj-refwd`, where `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`.
fn refwd_leader(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut at = 0;
    while let Some(n) = blob(s, at) {
        at += n;
    }
    let rest = &s[at..];
    at += if starts_with_ci(rest, "re") {
        2
    } else if starts_with_ci(rest, "fwd") {
        3
    } else if starts_with_ci(rest, "fw") {
        2
    } else {
        return None;
    };
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    if let Some(n) = blob(s, at) {
        at += n;
    }
    (b.get(at) == Some(&b':')).then_some(at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        let cases = [
            ("Hello", "Hello", false),
            ("Re: Hello", "Hello", true),
            ("RE: re: Re:Hello", "Hello", true),
            ("Fwd: Hello", "Hello", true),
            ("FW: Hello", "Hello", true),
            ("Re [list]: Hello", "Hello", true),
            ("[list] Re: Hello", "Hello", true),
            ("[list] Hello", "Hello", false),
            ("[list]", "[list]", false),
            ("[a][b] [c] Hello", "Hello", false),
            ("Hello (fwd)", "Hello", true),
            ("Hello (FWD) (fwd)  ", "Hello", true),
            ("[Fwd: Re: Hello]", "Hello", true),
            ("Re: [fwd: [list] Hello (fwd)]", "Hello", true),
            ("  Hello \t  world ", "Hello world", false),
            ("Re:", "", true),
            ("", "", false),
            ("Reply to this", "Reply to this", false),
            ("Fwd: [", "[", true),
            ("Ré: été", "Ré: été", false),
            ("[é] Re: été", "été", true),
        ];
        for (input, want, reply) in cases {
            assert_eq!(base_subject(input), (want.to_owned(), reply), "{input:?}");
        }
    }
}
