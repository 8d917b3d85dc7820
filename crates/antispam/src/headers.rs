//! Header edits for accepted mail: the RFC 8601 `Authentication-Results` header, removal of
//! forged ones naming our host, hMailServer's spam headers and the subject prefix. They work on
//! a message held in memory, or on the first octets of a streamed one (the header section must
//! end within them for removals and the subject prefix; added headers go first either way).

use crate::context::{Context, spf_word};
use crate::settings::AntiSpamSettings;

/// The `Authentication-Results` header (with CRLF) for what was checked.
pub fn authentication_results(ctx: &Context) -> String {
    let mut parts = Vec::new();
    if let Some(spf) = &ctx.spf {
        let mailfrom = if ctx.sender.is_empty() { format!("postmaster@{}", ctx.helo) } else { ctx.sender.clone() };
        parts.push(format!("spf={} smtp.mailfrom={}", spf_word(spf.result()), sanitize(&mailfrom)));
    }
    if let Some(auth) = &ctx.authentication {
        if auth.dkim.is_empty() {
            parts.push("dkim=none".to_owned());
        }
        for d in &auth.dkim {
            parts.push(format!(
                "dkim={} header.d={} header.s={}",
                d.result,
                sanitize(&d.domain),
                sanitize(&d.selector)
            ));
        }
        if let Some(dmarc) = &auth.dmarc {
            parts.push(format!("dmarc={} header.from={}", dmarc.result, sanitize(&dmarc.from_domain)));
        }
    }
    if parts.is_empty() {
        parts.push("none".to_owned());
    }
    format!("Authentication-Results: {};\r\n\t{}\r\n", sanitize(&ctx.host_name), parts.join(";\r\n\t"))
}

/// Keeps a value on one line and free of characters that would end the header's syntax.
fn sanitize(value: &str) -> String {
    value.chars().filter(|c| !c.is_control() && !matches!(c, ';' | '(' | ')' | '"' | ' ')).collect()
}

/// hMailServer's spam headers (each per its setting), with CRLFs.
pub fn spam_headers(settings: &AntiSpamSettings, ctx: &Context) -> String {
    let mut out = String::new();
    if settings.add_header_spam {
        out.push_str("X-hMailServer-Spam: YES\r\n");
    }
    if settings.add_header_reason {
        for (n, f) in ctx.tally.findings().iter().enumerate() {
            let reason: String = f.reason.chars().filter(|c| !c.is_control()).collect();
            out.push_str(&format!("X-hMailServer-Reason-{}: {} - (Score: {})\r\n", n + 1, reason, f.score));
        }
        out.push_str(&format!("X-hMailServer-Reason-Score: {}\r\n", ctx.tally.total()));
    }
    out
}

/// Where the header section of `message` ends (the offset of the empty line), if within it.
fn header_end(message: &[u8]) -> Option<usize> {
    if message.starts_with(b"\r\n") {
        return Some(0);
    }
    message.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2)
}

/// The header fields of `head` (up to the empty line) as byte ranges, continuation lines
/// included.
fn fields(head: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < head.len() {
        let end = head[start..].windows(2).position(|w| w == b"\r\n").map_or(head.len(), |p| start + p + 2);
        let continuation = matches!(head[start], b' ' | b'\t');
        match out.last_mut() {
            Some(last) if continuation => last.1 = end,
            _ => out.push((start, end)),
        }
        start = end;
    }
    out
}

fn name_is(field: &[u8], name: &str) -> bool {
    field.len() > name.len() && field[..name.len()].eq_ignore_ascii_case(name.as_bytes()) && field[name.len()] == b':'
}

/// Whether an `Authentication-Results` field names `host` as its authserv-id.
fn names_us(field: &[u8], host: &str) -> bool {
    let Some(colon) = field.iter().position(|&b| b == b':') else { return false };
    let value = String::from_utf8_lossy(&field[colon + 1..]);
    let id = value.split(';').next().unwrap_or("");
    // The authserv-id may be followed by a version number and comments.
    let id = id.split_whitespace().next().unwrap_or("");
    id.eq_ignore_ascii_case(host)
}

/// The edits for an accepted message: `prefix` goes before the message, and the message's own
/// header section is rewritten when needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    /// Headers to put first (`Authentication-Results`, the spam headers).
    pub prefix: String,
    /// Remove `Authentication-Results` fields naming this host.
    pub strip_results_of: Option<String>,
    /// Put this before the Subject (with a space).
    pub subject_prefix: Option<String>,
    /// Edit and store this message instead of the one given to [`Edits::apply`] (spamd's
    /// processed message).
    pub replacement: Option<Vec<u8>>,
}

impl Edits {
    /// Applies the edits to `message` (or the first octets of a streamed one), giving the
    /// octets to store in its place, `prefix` first.
    pub fn apply(&self, message: &[u8]) -> Vec<u8> {
        let message = self.replacement.as_deref().unwrap_or(message);
        let mut out = Vec::with_capacity(message.len() + self.prefix.len() + 64);
        out.extend_from_slice(self.prefix.as_bytes());
        let edit_headers = self.strip_results_of.is_some() || self.subject_prefix.is_some();
        let Some(end) = header_end(message).filter(|_| edit_headers) else {
            out.extend_from_slice(message);
            return out;
        };
        let head = &message[..end];
        let mut subject_done = false;
        for (s, e) in fields(head) {
            let field = &head[s..e];
            if let Some(host) = &self.strip_results_of
                && name_is(field, "Authentication-Results")
                && names_us(field, host)
            {
                continue;
            }
            if let Some(prefix) = &self.subject_prefix
                && !subject_done
                && name_is(field, "Subject")
            {
                subject_done = true;
                let value = &field["Subject:".len()..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                out.extend_from_slice(format!("Subject: {prefix} ").as_bytes());
                out.extend_from_slice(value);
                continue;
            }
            out.extend_from_slice(field);
        }
        if let Some(prefix) = &self.subject_prefix
            && !subject_done
        {
            out.extend_from_slice(format!("Subject: {prefix}\r\n").as_bytes());
        }
        out.extend_from_slice(&message[end..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_results_naming_us_are_removed_others_kept() {
        let msg = b"Authentication-Results: mx.example.com; spf=pass\r\n\tsmtp.mailfrom=a@b\r\nAuthentication-Results: other.example; dkim=pass\r\nSubject: hi\r\n\r\nbody\r\nAuthentication-Results: mx.example.com; x\r\n";
        let edits = Edits { strip_results_of: Some("MX.example.com".into()), ..Edits::default() };
        let out = String::from_utf8(edits.apply(msg)).unwrap();
        assert_eq!(
            out,
            "Authentication-Results: other.example; dkim=pass\r\nSubject: hi\r\n\r\nbody\r\nAuthentication-Results: mx.example.com; x\r\n"
        );
    }

    #[test]
    fn subject_gets_the_prefix_or_is_added() {
        let edits = Edits { prefix: "X-A: 1\r\n".into(), subject_prefix: Some("[SPAM]".into()), ..Edits::default() };
        let out = String::from_utf8(edits.apply(b"From: a@b\r\nSubject: hello\r\n\r\nx")).unwrap();
        assert_eq!(out, "X-A: 1\r\nFrom: a@b\r\nSubject: [SPAM] hello\r\n\r\nx");
        let out = String::from_utf8(edits.apply(b"From: a@b\r\n\r\nx")).unwrap();
        assert_eq!(out, "X-A: 1\r\nFrom: a@b\r\nSubject: [SPAM]\r\n\r\nx");
    }

    #[test]
    fn a_replacement_is_edited_instead_of_the_message() {
        let edits = Edits {
            prefix: "X: 1\r\n".into(),
            subject_prefix: Some("[SPAM]".into()),
            replacement: Some(b"X-Spam-Flag: YES\r\nSubject: hi\r\n\r\nb".to_vec()),
            ..Edits::default()
        };
        assert_eq!(edits.apply(b"Subject: hi\r\n\r\nb"), b"X: 1\r\nX-Spam-Flag: YES\r\nSubject: [SPAM] hi\r\n\r\nb");
    }

    #[test]
    fn without_a_header_end_only_the_prefix_is_added() {
        let edits = Edits { prefix: "X: 1\r\n".into(), subject_prefix: Some("[SPAM]".into()), ..Edits::default() };
        assert_eq!(edits.apply(b"Subject: partial"), b"X: 1\r\nSubject: partial");
    }

    #[test]
    fn spam_headers_list_each_reason() {
        let mut ctx = Context::new("192.0.2.1".parse().unwrap(), "h", "a@b", "mx");
        ctx.tally.add(crate::Finding::new("SPF", 3, "Blocked by SPF. (x)"));
        ctx.tally.add(crate::Finding::new("DKIM", 5, "Rejected by DKIM."));
        let s = AntiSpamSettings::from_settings(&Default::default());
        assert_eq!(
            spam_headers(&s, &ctx),
            "X-hMailServer-Spam: YES\r\nX-hMailServer-Reason-1: Blocked by SPF. (x) - (Score: 3)\r\nX-hMailServer-Reason-2: Rejected by DKIM. - (Score: 5)\r\nX-hMailServer-Reason-Score: 8\r\n"
        );
    }

    #[test]
    fn results_header_without_checks_says_none() {
        let ctx = Context::new("192.0.2.1".parse().unwrap(), "h", "a@b", "mx.example.com");
        assert_eq!(authentication_results(&ctx), "Authentication-Results: mx.example.com;\r\n\tnone\r\n");
    }
}
