//! Address lists for ENVELOPE (RFC 5322 §3.4 with the obsolete forms of §4.4, RFC 9051 §7.5.2).
//!
//! Parsing is lenient: whatever a header holds, some list comes out, and nothing is decoded.
//! A display name is the phrase with quotes removed; an address with no phrase takes its
//! comment as name (`user@host (Full Name)`, the RFC 822 habit). Groups become the IMAP
//! markers `(NIL NIL "group" NIL)` … `(NIL NIL NIL NIL)`. An address without `@` gets an
//! empty host, so that it cannot be read as a group marker.

use crate::wire;

/// One ENVELOPE address, or a group marker (`host` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) name: Option<Vec<u8>>,
    pub(crate) adl: Option<Vec<u8>>,
    pub(crate) mailbox: Option<Vec<u8>>,
    pub(crate) host: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An atom, a domain literal, or (quoted) the content of a quoted string.
    Word(Vec<u8>, bool),
    Special(u8),
    Comment(Vec<u8>),
}

fn tokenize(s: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let mut w = Vec::new();
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    if s[i] == b'\\' && i + 1 < s.len() {
                        i += 1;
                    }
                    w.push(s[i]);
                    i += 1;
                }
                i += 1;
                toks.push(Tok::Word(w, true));
            }
            b'(' => {
                let mut depth = 0usize;
                let mut c = Vec::new();
                while i < s.len() {
                    match s[i] {
                        b'\\' if i + 1 < s.len() => {
                            i += 1;
                            c.push(s[i]);
                        }
                        b'(' => {
                            if depth > 0 {
                                c.push(b'(');
                            }
                            depth += 1;
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                            c.push(b')');
                        }
                        x => c.push(x),
                    }
                    i += 1;
                }
                toks.push(Tok::Comment(c));
            }
            b'[' => {
                let end = s[i..].iter().position(|&c| c == b']').map_or(s.len(), |p| i + p + 1);
                toks.push(Tok::Word(s[i..end].to_vec(), false));
                i = end;
            }
            b'<' | b'>' | b',' | b':' | b';' | b'@' | b'.' => {
                toks.push(Tok::Special(b));
                i += 1;
            }
            _ => {
                let start = i;
                while i < s.len() && !b" \t\r\n\"(<>,:;@.[".contains(&s[i]) {
                    i += 1;
                }
                toks.push(Tok::Word(s[start..i].to_vec(), false));
            }
        }
    }
    toks
}

/// Words joined by one space; dots stick to the word before (`John Q. Public`).
fn phrase(toks: &[Tok]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Word(w, _) => {
                if !out.is_empty() && out.last() != Some(&b' ') {
                    out.push(b' ');
                }
                out.extend_from_slice(w);
            }
            Tok::Special(c) if *c != b'<' && *c != b'>' => {
                if out.last() == Some(&b' ') {
                    out.pop();
                }
                out.push(*c);
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

fn is_dot_atom(w: &[u8]) -> bool {
    !w.is_empty()
        && w.split(|&b| b == b'.')
            .all(|a| !a.is_empty() && a.iter().all(|&b| b > b' ' && b < 0x7f && !b"()<>[]:;@\\,\"".contains(&b)))
}

/// Tokens without spaces: `local.part` or `domain.example`; a quoted local part that needs its
/// quotes keeps them.
fn concat(toks: &[Tok]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            // RFC 5322 quoted-pairs escape the same two bytes as an IMAP quoted string.
            Tok::Word(w, true) if !is_dot_atom(w) => wire::quoted(&mut out, w),
            Tok::Word(w, _) => out.extend_from_slice(w),
            Tok::Special(c) => out.push(*c),
            Tok::Comment(_) => {}
        }
    }
    out
}

fn addr_spec(toks: &[Tok], name: Option<Vec<u8>>, adl: Option<Vec<u8>>) -> Address {
    let at = toks.iter().rposition(|t| *t == Tok::Special(b'@'));
    let (local, host) = match at {
        Some(a) => (concat(&toks[..a]), concat(&toks[a + 1..])),
        None => (concat(toks), Vec::new()),
    };
    Address { name, adl, mailbox: Some(local), host: Some(host) }
}

fn has_content(toks: &[Tok]) -> bool {
    toks.iter().any(|t| !matches!(t, Tok::Comment(_)))
}

fn last_comment(toks: &[Tok]) -> Option<Vec<u8>> {
    toks.iter().rev().find_map(|t| match t {
        Tok::Comment(c) => Some(super::header::trim(c).to_vec()).filter(|c| !c.is_empty()),
        _ => None,
    })
}

/// Parses an unfolded address-list header value.
pub(crate) fn parse(value: &[u8]) -> Vec<Address> {
    let toks = tokenize(value);
    let mut out = Vec::new();
    let mut in_group = false;
    let mut i = 0;
    while i < toks.len() {
        let start = i;
        while i < toks.len() && !matches!(toks[i], Tok::Special(b',' | b';' | b':' | b'<')) {
            i += 1;
        }
        let seg = &toks[start..i];
        match toks.get(i) {
            Some(Tok::Special(b':')) if !in_group => {
                out.push(Address { name: None, adl: None, mailbox: Some(phrase(seg).unwrap_or_default()), host: None });
                in_group = true;
                i += 1;
                continue;
            }
            Some(Tok::Special(b'<')) => {
                let name = phrase(seg);
                i += 1;
                let inner_start = i;
                while i < toks.len() && toks[i] != Tok::Special(b'>') {
                    i += 1;
                }
                let mut inner = &toks[inner_start..i];
                let mut adl = None;
                // Obsolete source route: `<@a,@b:user@host>` (RFC 5322 §4.4).
                if inner.first() == Some(&Tok::Special(b'@'))
                    && let Some(colon) = inner.iter().position(|t| *t == Tok::Special(b':'))
                {
                    adl = Some(concat(&inner[..colon]));
                    inner = &inner[colon + 1..];
                }
                out.push(addr_spec(inner, name, adl));
                while i < toks.len() && !matches!(toks[i], Tok::Special(b',' | b';')) {
                    i += 1;
                }
            }
            _ => {
                if has_content(seg) {
                    out.push(addr_spec(seg, last_comment(seg), None));
                }
            }
        }
        if toks.get(i) == Some(&Tok::Special(b';')) && in_group {
            out.push(Address { name: None, adl: None, mailbox: None, host: None });
            in_group = false;
        }
        i += 1;
    }
    if in_group {
        out.push(Address { name: None, adl: None, mailbox: None, host: None });
    }
    out
}

/// Writes an address list, or `NIL` when empty.
pub(crate) fn write_list(out: &mut Vec<u8>, list: &[Address]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        wire::nstring(out, a.name.as_deref());
        out.push(b' ');
        wire::nstring(out, a.adl.as_deref());
        out.push(b' ');
        wire::nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        wire::nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> String {
        let mut out = Vec::new();
        write_list(&mut out, &parse(s.as_bytes()));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn address_table() {
        let cases = [
            ("user@example.com", r#"((NIL NIL "user" "example.com"))"#),
            ("\"Doe, John\" <john@example.com>", r#"(("Doe, John" NIL "john" "example.com"))"#),
            ("John Q. Public <jqp@x.org>, b@y.org", r#"(("John Q. Public" NIL "jqp" "x.org")(NIL NIL "b" "y.org"))"#),
            ("a@b.c (Alice A)", r#"(("Alice A" NIL "a" "b.c"))"#),
            ("=?utf-8?q?J=C3=B6rg?= <j@x.de>", r#"(("=?utf-8?q?J=C3=B6rg?=" NIL "j" "x.de"))"#),
            ("<@r1,@r2:u@h>", r#"((NIL "@r1,@r2" "u" "h"))"#),
            ("undisclosed-recipients:;", r#"((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))"#),
            (
                "Team: a@x.org, Bob <b@x.org>; c@y.org",
                r#"((NIL NIL "Team" NIL)(NIL NIL "a" "x.org")("Bob" NIL "b" "x.org")(NIL NIL NIL NIL)(NIL NIL "c" "y.org"))"#,
            ),
            ("\"john doe\"@x.org", r#"((NIL NIL "\"john doe\"" "x.org"))"#),
            ("localonly", r#"((NIL NIL "localonly" ""))"#),
            ("<>", r#"((NIL NIL "" ""))"#),
            ("", "NIL"),
            (" , ,", "NIL"),
            ("Unclosed: a@b", r#"((NIL NIL "Unclosed" NIL)(NIL NIL "a" "b")(NIL NIL NIL NIL))"#),
        ];
        for (input, want) in cases {
            assert_eq!(list(input), want, "input {input:?}");
        }
    }
}
