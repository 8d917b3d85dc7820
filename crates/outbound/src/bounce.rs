//! Non-delivery reports for remote recipients: an RFC 3464 `multipart/report` whose readable
//! part is hMailServer's SEND_FAILED_NOTIFICATION text with its per-recipient "Error Type: SMTP"
//! blocks, honouring DSN NOTIFY (RFC 3461 §4.1) and RET (§4.3); and "relayed" DSNs
//! ([`build_relayed`], RFC 3461 §6.2.6.2) for NOTIFY=SUCCESS recipients handed to a server
//! that does not support DSN.

use std::net::IpAddr;

use altimail_delivery::generated::{crlf, message_id, rfc5322_now, server_message};
use altimail_delivery::headers::Headers;
use altimail_store::{Store, StoreError};

/// The default SEND_FAILED_NOTIFICATION text (hMailServer's, used when the row is missing).
const TEMPLATE: &str = "Your message did not reach some or all of the intended recipients.\r\n\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nThe following recipient(s) could not be reached:\r\n\r\n%MACRO_RECIPIENTS%\r\n";

/// One recipient the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The address we tried.
    pub address: String,
    /// DSN ORCPT (`rfc822;x@y`), or "".
    pub orcpt: String,
    /// The server that answered, if one did.
    pub remote: Option<IpAddr>,
    /// The command that failed, or "" when no server was reached.
    pub command: String,
    /// The reply or our description.
    pub reply: String,
    /// How many tries were made when the retries ran out, or 0 for a permanent failure.
    pub tries: i64,
}

/// The envelope facts a report needs.
#[derive(Debug, Clone, Default)]
pub struct Original<'a> {
    pub sender: &'a str,
    pub raw: &'a [u8],
    /// DSN ENVID.
    pub envid: &'a str,
    /// DSN RET: "HDRS" returns headers only.
    pub ret: &'a str,
}

/// Whether a failure of a recipient with DSN `notify` is reported (no NOTIFY = report failures).
pub fn wants_failure_report(notify: &str) -> bool {
    let notify = notify.to_ascii_uppercase();
    notify.is_empty() || notify.split(',').any(|n| n.trim() == "FAILURE")
}

/// Whether the original message may be bounced at all (hMailServer's `SubmitErrorLog_` rules).
pub fn may_bounce(sender: &str, headers: &Headers, loop_limit: i64) -> bool {
    let daemon = sender.to_ascii_lowercase().starts_with("mailer-daemon@");
    let automatic = headers.get("Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    !sender.is_empty() && !daemon && !automatic && headers.loop_count() < loop_limit.max(1)
}

/// The per-recipient block of the readable part, as hMailServer writes it.
fn block(f: &Failed) -> String {
    let mut s = format!("{}\r\n   Error Type: SMTP\r\n", f.address);
    match f.remote {
        Some(ip) if !f.command.is_empty() => s.push_str(&format!(
            "   Remote server ({ip}) issued an error.\r\n   hMailServer sent: {}\r\n   Remote server replied: {}\r\n",
            f.command, f.reply
        )),
        _ => s.push_str(&format!("   {}\r\n", f.reply)),
    }
    if f.tries > 0 {
        s.push_str(&format!("   Tried {} time(s)\r\n", f.tries));
    }
    s.push_str("\r\n");
    s
}

/// Whether a recipient with DSN `notify` wants a success ("delivered"/"relayed") report.
pub fn wants_success_report(notify: &str) -> bool {
    notify.split(',').any(|n| n.trim().eq_ignore_ascii_case("SUCCESS"))
}

fn is_enhanced(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The status code for the delivery-status part: the reply's enhanced code, else 5.0.0 / 4.0.0.
fn status_code(f: &Failed) -> String {
    // Our own decisions start with their enhanced code ("5.6.7 …").
    if let Some(code) = f.reply.split_whitespace().next().filter(|c| is_enhanced(c) && c.starts_with('5')) {
        return code.to_owned();
    }
    let reply_code = f.reply.get(..3).and_then(|c| c.parse::<u16>().ok());
    let enhanced = f.reply.get(4..).and_then(|t| t.split_whitespace().next()).filter(|c| {
        let parts: Vec<&str> = c.split('.').collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    match (enhanced, reply_code) {
        (Some(e), _) if e.starts_with('5') => e.to_owned(),
        // A temporary failure whose retries ran out is reported as failed (5.x.x).
        (Some(e), _) => format!("5{}", &e[1..]),
        (None, Some(c)) if c >= 500 => "5.0.0".into(),
        _ => "5.4.7".into(),
    }
}

fn one_line(s: &str) -> String {
    s.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect()
}

/// The readable text of a relayed DSN (no hMailServer counterpart).
const RELAYED_TEMPLATE: &str = "Your message was relayed to the following recipient(s). Their mail server does not support delivery status notifications, so no further notification will be sent.\r\n\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\n%MACRO_RECIPIENTS%\r\n";

/// Builds the report to `original.sender` about `failed`.
pub async fn build(
    store: &Store,
    host: &str,
    original: &Original<'_>,
    failed: &[Failed],
) -> Result<Vec<u8>, StoreError> {
    let prefix = server_message(store, "MESSAGE_UNDELIVERABLE", "Message undeliverable").await?;
    let template = server_message(store, "SEND_FAILED_NOTIFICATION", TEMPLATE).await?;
    let recipients: String = failed.iter().map(block).collect();
    Ok(report(host, original, failed, &prefix, &template, &recipients, false))
}

/// Builds a "relayed" DSN (RFC 3461 §6.2.6.2, `Action: relayed`, status 2.0.0) to
/// `original.sender` about `relayed`: recipients with NOTIFY=SUCCESS accepted by a server that
/// does not offer DSN (`reply` and `command` are empty; `remote` is that server). Only the
/// headers of the original are returned.
pub fn build_relayed(host: &str, original: &Original<'_>, relayed: &[Failed]) -> Vec<u8> {
    let recipients: String = relayed
        .iter()
        .map(|r| match r.remote {
            Some(ip) => format!("{}\r\n   Relayed to {ip}\r\n\r\n", r.address),
            None => format!("{}\r\n\r\n", r.address),
        })
        .collect();
    let prefix = "Delivery Status Notification (Relayed)";
    report(host, original, relayed, prefix, RELAYED_TEMPLATE, &recipients, true)
}

/// The `multipart/report` of [`build`] and [`build_relayed`].
fn report(
    host: &str,
    original: &Original<'_>,
    failed: &[Failed],
    prefix: &str,
    template: &str,
    recipients: &str,
    relayed: bool,
) -> Vec<u8> {
    let headers = Headers::parse(original.raw);
    let subject = headers.get("Subject").unwrap_or("");
    let text = template
        .replace("%MACRO_SENT%", headers.get("Date").unwrap_or(""))
        .replace("%MACRO_SUBJECT%", subject)
        .replace("%MACRO_RECIPIENTS%", recipients)
        .replace("%MACRO_ORIGINAL_HEADER%", &headers.text(original.raw));
    let boundary = format!("=_altimail_{}", message_id(host).trim_matches(['<', '>']).replace('@', "_"));
    let mut m = String::new();
    m.push_str(&format!("From: Mail Delivery System <mailer-daemon@{host}>\r\nTo: <{}>\r\n", original.sender));
    m.push_str(&format!("Subject: {}\r\n", one_line(&format!("{prefix}: {subject}"))));
    m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
    m.push_str("Auto-Submitted: auto-generated\r\n");
    m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", headers.loop_count() + 1));
    m.push_str(&format!(
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is a MIME-formatted message delivery status notification.\r\n\r\n");
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        crlf(&text)
    ));
    m.push_str(&format!("--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"));
    m.push_str(&format!("Reporting-MTA: dns; {host}\r\n"));
    if !original.envid.is_empty() {
        m.push_str(&format!("Original-Envelope-Id: {}\r\n", one_line(original.envid)));
    }
    for f in failed {
        m.push_str(&format!("\r\nFinal-Recipient: rfc822; {}\r\n", f.address));
        if !f.orcpt.is_empty() {
            m.push_str(&format!("Original-Recipient: {}\r\n", one_line(&f.orcpt)));
        }
        if relayed {
            m.push_str("Action: relayed\r\nStatus: 2.0.0\r\n");
        } else {
            m.push_str(&format!("Action: failed\r\nStatus: {}\r\n", status_code(f)));
        }
        if let Some(ip) = f.remote {
            m.push_str(&format!("Remote-MTA: dns; {ip}\r\n"));
        }
        // A relayed recipient has no reply to show.
        if !f.reply.is_empty() {
            let kind = if f.reply.get(..3).is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit())) {
                "smtp"
            } else {
                "X-Altimail"
            };
            m.push_str(&format!("Diagnostic-Code: {kind}; {}\r\n", one_line(&f.reply)));
        }
    }
    let mut out = m.into_bytes();
    if relayed || original.ret.eq_ignore_ascii_case("HDRS") {
        out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n").as_bytes());
        out.extend_from_slice(crlf(&headers.text(original.raw)).as_bytes());
    } else {
        out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes());
        out.extend_from_slice(&crate::wire::crlf(original.raw));
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_and_status() {
        assert!(wants_failure_report(""));
        assert!(wants_failure_report("success,failure"));
        assert!(!wants_failure_report("NEVER"));
        assert!(!wants_failure_report("DELAY"));
        let f = |reply: &str| Failed {
            address: "x@y".into(),
            orcpt: String::new(),
            remote: None,
            command: String::new(),
            reply: reply.into(),
            tries: 0,
        };
        assert_eq!(status_code(&f("550 5.1.1 no such user")), "5.1.1");
        assert_eq!(status_code(&f("451 4.3.0 later")), "5.3.0");
        assert_eq!(status_code(&f("554 go away")), "5.0.0");
        assert_eq!(status_code(&f("Connection refused")), "5.4.7");
        assert_eq!(status_code(&f("5.6.7 needs SMTPUTF8")), "5.6.7");
        assert!(
            wants_success_report("success,failure") && !wants_success_report("") && !wants_success_report("FAILURE")
        );
    }

    #[test]
    fn blocks_name_the_remote_server() {
        let f = Failed {
            address: "bob@them.test".into(),
            orcpt: String::new(),
            remote: Some("127.0.0.2".parse().unwrap()),
            command: "RCPT TO:<bob@them.test>".into(),
            reply: "550 no such user".into(),
            tries: 0,
        };
        assert_eq!(
            block(&f),
            "bob@them.test\r\n   Error Type: SMTP\r\n   Remote server (127.0.0.2) issued an error.\r\n   hMailServer sent: RCPT TO:<bob@them.test>\r\n   Remote server replied: 550 no such user\r\n\r\n"
        );
    }

    #[test]
    fn no_bounce_for_null_daemon_or_automatic_senders() {
        let plain = Headers::parse(b"Subject: x\r\n\r\n");
        assert!(may_bounce("a@b", &plain, 100));
        assert!(!may_bounce("", &plain, 100));
        assert!(!may_bounce("MAILER-DAEMON@b", &plain, 100));
        assert!(!may_bounce("a@b", &Headers::parse(b"Auto-Submitted: auto-replied\r\n\r\n"), 100));
    }
}
