//! URI block lists (hMailServer's `SpamTestSURBL`): the links in the text and HTML parts of a
//! message are collected, each link's registered domain ([`super::domain`]) is looked up as
//! `<domain>.<zone>` in every active `hm_surblservers` zone, and a zone that lists one of them
//! adds its score with its reject message (once per zone).
//!
//! Bounded: only the first [`Limits::max_message_bytes`] of the message are parsed, at most
//! [`Limits::max_bytes`] of decoded text are scanned and at most [`Limits::max_domains`]
//! distinct domains looked up. The parsed parts are read as one flat list (mail-parser keeps
//! its own nesting on a stack and opens encoded attached messages at most three levels deep),
//! so nothing in the input drives recursion here. Links to IP addresses are not looked up.

use altimail_dns::{Dns, DnsError};
use altimail_store::repo::surbl::Surbl;
use mail_parser::{MessageParser, PartType};

use crate::Finding;

/// Bounds on the work one message causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the raw message parsed (the rest is ignored).
    pub max_message_bytes: usize,
    /// Bytes of decoded text and HTML scanned, over all parts.
    pub max_bytes: usize,
    /// Distinct registered domains looked up per zone.
    pub max_domains: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_message_bytes: 10 * 1024 * 1024, max_bytes: 1024 * 1024, max_domains: 50 }
    }
}

const SCHEMES: [&[u8]; 2] = [b"http://", b"https://"];

/// The registered domains of the `http`/`https` links in `text` (appended to `out`, without
/// duplicates, up to `max` entries).
pub fn domains_in_text(text: &[u8], max: usize, out: &mut Vec<String>) {
    let mut i = 0;
    while i < text.len() && out.len() < max {
        let rest = &text[i..];
        let scheme = SCHEMES.iter().find(|s| rest.len() >= s.len() && rest[..s.len()].eq_ignore_ascii_case(s));
        let Some(scheme) = scheme else {
            i += 1;
            continue;
        };
        let start = i + scheme.len();
        let end = text[start..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@' | b':' | b'%')))
            .map_or(text.len(), |p| start + p);
        // Authority only: drop user information and a port.
        let authority = &text[start..end];
        let host = authority.rsplit(|b| *b == b'@').next().unwrap_or(authority);
        let host = host.split(|b| *b == b':').next().unwrap_or(host);
        if let Ok(host) = std::str::from_utf8(host)
            && let Some(domain) = super::domain::registered(host)
            && !out.contains(&domain)
        {
            out.push(domain);
        }
        i = end.max(start);
    }
}

/// The registered domains of the links in the text and HTML parts of `message` (decoded from
/// quoted-printable or base64 as needed), within `limits`.
pub fn domains_in_message(message: &[u8], limits: Limits) -> Vec<String> {
    let mut out = Vec::new();
    let message = &message[..message.len().min(limits.max_message_bytes)];
    let Some(parsed) = MessageParser::default().parse(message) else { return out };
    let mut budget = limits.max_bytes;
    for part in &parsed.parts {
        let text = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            _ => continue,
        };
        if budget == 0 || out.len() >= limits.max_domains {
            break;
        }
        let take = text.len().min(budget);
        budget -= take;
        domains_in_text(&text[..take], limits.max_domains, &mut out);
    }
    out
}

/// Whether `domain` is listed in `zone` (any A answer). A failed lookup means "not listed".
pub async fn listed(dns: &dyn Dns, domain: &str, zone: &str) -> bool {
    let name = format!("{domain}.{}", zone.trim_end_matches('.'));
    match dns.a(&name).await {
        Ok(answers) => {
            tracing::debug!("SURBL lookup {name}: {answers:?}");
            !answers.is_empty()
        }
        Err(DnsError::NotFound) => false,
        Err(e) => {
            tracing::warn!("SURBL lookup {name} failed ({e}); treated as not listed");
            false
        }
    }
}

/// Runs every active list in `lists` against the links of `message`.
pub async fn check(dns: &dyn Dns, message: &[u8], lists: &[Surbl], limits: Limits) -> Vec<Finding> {
    let active: Vec<&Surbl> = lists.iter().filter(|l| l.active).collect();
    if active.is_empty() {
        return Vec::new();
    }
    let domains = domains_in_message(message, limits);
    let mut findings = Vec::new();
    for list in active {
        for domain in &domains {
            if listed(dns, domain, &list.zone).await {
                findings.push(Finding::new("SURBL", super::score(list.score), list.reject_message.clone()));
                break;
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        domains_in_text(text.as_bytes(), 50, &mut out);
        out
    }

    #[test]
    fn links_in_text() {
        assert_eq!(
            found("see http://www.Example.com/x?y and HTTPS://a.b.example.co.uk:8080/"),
            ["example.com", "example.co.uk"]
        );
        assert_eq!(found("<a href=\"http://user:pw@evil.example/\">x</a> http://evil.example"), ["evil.example"]);
        assert!(found("http://192.0.2.1/ http:// https://localhost/ ftp://x.example/").is_empty());
        let mut capped = Vec::new();
        let many: String = (0..100).map(|i| format!("http://d{i}.example ")).collect();
        domains_in_text(many.as_bytes(), 5, &mut capped);
        assert_eq!(capped.len(), 5);
        // Non-ASCII text around links does not disturb the scan.
        assert_eq!(found("é http://ü.example/ ñ http://ok.example"), ["ok.example"]);
    }

    #[test]
    fn parts_are_decoded_and_bounded() {
        let msg = "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\
            Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            visit http://www.qp-=\r\nsoft.example/x\r\n--b\r\nContent-Type: text/html\r\n\r\n\
            <a href=\"https://html.example/\">y</a>\r\n--b--\r\n";
        assert_eq!(domains_in_message(msg.as_bytes(), Limits::default()), ["qp-soft.example", "html.example"]);
        let tiny = Limits { max_bytes: 10, ..Limits::default() };
        assert!(domains_in_message(msg.as_bytes(), tiny).is_empty());
        let cut = Limits { max_message_bytes: 100, ..Limits::default() };
        assert!(domains_in_message(msg.as_bytes(), cut).is_empty());
    }
}
