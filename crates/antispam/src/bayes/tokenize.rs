//! Words of a message for the Bayesian filter: the decoded Subject, the addresses and names of
//! From, To, Cc and Reply-To and the mailer's name, each with a prefix naming its header; the
//! words of the text and HTML parts; and the hosts of the links. Lower-cased, each token once.
//!
//! Bounded whatever the input: only the first [`MAX_SCAN_BYTES`] of the message are read, at
//! most [`MAX_TOKENS`] tokens are kept, a long word becomes a token naming its length, and
//! nested messages are not descended into.

use std::collections::HashSet;

use mail_parser::{Address, MessageParser, PartType};

/// The part of a message that is read; the rest does not change its tokens.
pub const MAX_SCAN_BYTES: usize = 512 * 1024;
/// Most distinct tokens kept for one message.
pub const MAX_TOKENS: usize = 1500;
/// Longest word kept as itself, in characters; longer ones become `skip:<first char>:<length/10>`.
pub const MAX_TOKEN_CHARS: usize = 40;
/// Shorter words carry too little to be worth their rows.
const MIN_TOKEN_CHARS: usize = 3;
/// Longest host name kept from a link (DNS allows 253).
const MAX_HOST_CHARS: usize = 253;

/// The distinct tokens of a message, in the order first seen.
pub fn tokenize(raw: &[u8]) -> Vec<String> {
    let raw = &raw[..raw.len().min(MAX_SCAN_BYTES)];
    let mut out = Collector::default();
    let Some(message) = MessageParser::default().parse(raw) else { return out.tokens };
    if let Some(subject) = message.subject() {
        out.words("subject:", subject);
    }
    for (prefix, address) in
        [("from:", message.from()), ("to:", message.to()), ("cc:", message.cc()), ("reply-to:", message.reply_to())]
    {
        if let Some(address) = address {
            out.addresses(prefix, address);
        }
    }
    for (prefix, header) in [("x-mailer:", "X-Mailer"), ("user-agent:", "User-Agent")] {
        if let Some(value) = message.header_raw(header) {
            out.words(prefix, value);
        }
    }
    for part in &message.parts {
        if out.full() {
            break;
        }
        match &part.body {
            PartType::Text(text) => {
                out.links(text);
                out.words("", text);
            }
            PartType::Html(html) => {
                out.links(html);
                out.words("", &strip_tags(html));
            }
            // Attachments carry no words; a nested message is left alone (no recursion).
            _ => {}
        }
    }
    out.tokens
}

/// A 64-bit hash of a token (FNV-1a): what the database keeps. Stable across versions and
/// platforms, which the standard library's hasher is not.
pub fn token_hash(token: &str) -> i64 {
    fnv1a(token.as_bytes(), 0xcbf2_9ce4_8422_2325)
}

/// The key under which a message is remembered as learnt: its Message-ID, or its content (the
/// part that is read) when it has none; the same message moved around keeps both.
pub fn message_key(raw: &[u8]) -> i64 {
    let head = &raw[..raw.len().min(MAX_SCAN_BYTES)];
    let id = MessageParser::default().parse_headers(head).and_then(|m| m.message_id().map(str::to_owned));
    match id {
        Some(id) if !id.trim().is_empty() => fnv1a(id.trim().as_bytes(), token_hash("message-id:") as u64),
        _ => fnv1a(head, token_hash("content:") as u64),
    }
}

fn fnv1a(bytes: &[u8], seed: u64) -> i64 {
    let mut h = seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

#[derive(Default)]
struct Collector {
    tokens: Vec<String>,
    seen: HashSet<String>,
}

impl Collector {
    fn full(&self) -> bool {
        self.tokens.len() >= MAX_TOKENS
    }

    fn push(&mut self, token: String) {
        if !self.full() && !self.seen.contains(&token) {
            self.seen.insert(token.clone());
            self.tokens.push(token);
        }
    }

    /// The words of `text`, each with `prefix`.
    fn words(&mut self, prefix: &str, text: &str) {
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !is_word_char(c)) {
            if self.full() {
                return;
            }
            let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '$');
            let chars = word.chars().count();
            if chars < MIN_TOKEN_CHARS {
                continue;
            }
            if chars > MAX_TOKEN_CHARS {
                let first = word.chars().next().unwrap_or('?');
                self.push(format!("{prefix}skip:{first}:{}", chars / 10));
            } else {
                self.push(format!("{prefix}{word}"));
            }
        }
    }

    /// Each address and its domain, and the words of each display name.
    fn addresses(&mut self, prefix: &str, address: &Address<'_>) {
        for addr in address.iter() {
            if let Some(email) = addr.address() {
                let email = email.trim().to_lowercase();
                if !email.is_empty() && email.chars().count() <= 2 * MAX_TOKEN_CHARS {
                    if let Some((_, domain)) = email.rsplit_once('@') {
                        self.push(format!("{prefix}domain:{domain}"));
                    }
                    self.push(format!("{prefix}addr:{email}"));
                }
            }
            if let Some(name) = addr.name() {
                self.words(prefix, name);
            }
        }
    }

    /// `url:<host>` for each http(s) link, and `url:<parent domain>` of longer host names.
    fn links(&mut self, text: &str) {
        let lower = text.to_lowercase();
        for (at, _) in lower.match_indices("http") {
            if self.full() {
                return;
            }
            // `at` is a char boundary: the pattern is ASCII.
            let rest = &lower[at + 4..];
            let Some(rest) = rest.strip_prefix("://").or_else(|| rest.strip_prefix("s://")) else { continue };
            let host: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .take(MAX_HOST_CHARS + 1)
                .collect();
            let host = host.trim_matches('.');
            if host.is_empty() || host.chars().count() > MAX_HOST_CHARS {
                continue;
            }
            self.push(format!("url:{host}"));
            let labels: Vec<&str> = host.split('.').collect();
            if labels.len() > 2 {
                self.push(format!("url:{}", labels[labels.len() - 2..].join(".")));
            }
        }
    }
}

/// Letters, digits and what joins them in prices, contractions, host names and versions.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '\'' | '$' | '-' | '.' | '_' | '@')
}

/// The text of an HTML document: tags dropped (each becomes a space), and the contents of
/// `<style>` and `<script>` with them. One pass over the input.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { return out };
        let tag = after[..close].trim_start().as_bytes();
        rest = &after[close + 1..];
        for skipped in ["style", "script"] {
            if starts_with_ci(tag, skipped.as_bytes()) && !tag.ends_with(b"/") {
                let end = format!("</{skipped}");
                rest = match find_ci(rest, end.as_bytes()) {
                    Some(i) => &rest[i..],
                    None => "",
                };
            }
        }
    }
    out.push_str(rest);
    out
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len()).is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// Where the ASCII `needle` (starting with `<`) first occurs in `hay`, ignoring ASCII case; a
/// char boundary, since `<` is ASCII.
fn find_ci(hay: &str, needle: &[u8]) -> Option<usize> {
    hay.match_indices('<').map(|(i, _)| i).find(|&i| starts_with_ci(&hay.as_bytes()[i..], needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_get_prefixes_and_bodies_their_words() {
        let raw = b"From: \"Cheap Pills\" <offers@pharma.example>\r\nTo: john@example.com\r\n\
            Subject: =?utf-8?q?Gro=C3=9Fe_Rabatte?= today\r\nMessage-ID: <1@x>\r\n\
            Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
            Buy VIAGRA now at https://Shop.Pharma.Example/buy?x=1 for $9.99!\r\n--b\r\n\
            Content-Type: text/html\r\n\r\n<html><style>p {color: red}</style><p>Hello <b>World</b>\
            <a href=\"http://tracker.example.net/t\">x</a></p></html>\r\n--b--\r\n";
        let t = tokenize(raw);
        for want in [
            "subject:große",
            "subject:rabatte",
            "subject:today",
            "from:addr:offers@pharma.example",
            "from:domain:pharma.example",
            "from:cheap",
            "to:addr:john@example.com",
            "viagra",
            "$9.99",
            "url:shop.pharma.example",
            "url:pharma.example",
            "url:tracker.example.net",
            "hello",
            "world",
        ] {
            assert!(t.iter().any(|x| x == want), "{want} missing from {t:?}");
        }
        assert!(!t.iter().any(|x| x.contains("color")), "style contents are not words: {t:?}");
        let distinct: HashSet<&String> = t.iter().collect();
        assert_eq!(distinct.len(), t.len());
    }

    #[test]
    fn tokens_are_capped_in_number_and_length() {
        let mut raw = b"Subject: many\r\n\r\n".to_vec();
        for i in 0..(MAX_TOKENS * 2) {
            raw.extend_from_slice(format!("word{i} ").as_bytes());
        }
        raw.extend_from_slice("é".repeat(300).as_bytes());
        assert_eq!(tokenize(&raw).len(), MAX_TOKENS);

        let long = format!("Subject: x\r\n\r\nabc {} déf {}\r\n", "é".repeat(45), "x".repeat(100_000));
        let t = tokenize(long.as_bytes());
        assert!(t.contains(&"skip:é:4".to_owned()), "{t:?}");
        assert!(t.contains(&"skip:x:10000".to_owned()), "{t:?}");
        assert!(t.iter().all(|x| x.chars().count() <= MAX_TOKEN_CHARS + 20), "{t:?}");
    }

    #[test]
    fn hostile_input_neither_panics_nor_grows() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00garbage",
            b"Content-Type: text/html\r\n\r\n<<<<<<style",
            b"Content-Type: text/html\r\n\r\n<script>never closed http://",
            b"\r\n\r\nhttp://\xc3\xa9.example https:// http:",
        ] {
            let _ = tokenize(raw);
            let _ = message_key(raw);
        }
        let deep = format!(
            "Content-Type: multipart/mixed; boundary=a\r\n\r\n{}",
            "--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n".repeat(20_000)
        );
        assert!(tokenize(deep.as_bytes()).len() <= MAX_TOKENS);
    }

    #[test]
    fn message_keys_follow_the_message_id() {
        let a = message_key(b"Message-ID: <abc@example.com>\r\nSubject: a\r\n\r\nbody");
        let b = message_key(b"Subject: b\r\nMessage-ID: <abc@example.com>\r\n\r\nother body");
        assert_eq!(a, b);
        assert_ne!(message_key(b"Subject: a\r\n\r\nx"), message_key(b"Subject: a\r\n\r\ny"));
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(token_hash("abc"), token_hash("abd"));
    }
}
