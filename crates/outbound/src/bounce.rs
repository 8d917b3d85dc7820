//! Non-delivery reports for remote recipients: an RFC 3464 `multipart/report` whose readable
//! part is hMailServer's SEND_FAILED_NOTIFICATION text with its per-recipient "Error Type: SMTP"
//! blocks, honouring DSN NOTIFY (RFC 3461 §4.1) and RET (§4.3); and "relayed" DSNs
//! ([`build_relayed`], RFC 3461 §6.2.6.2) for NOTIFY=SUCCESS recipients handed to a server
//! that does not support DSN.

use std::net::IpAddr;

use altimail_delivery::generated::{fill_template, undeliverable_text};
use altimail_delivery::headers::Headers;
use altimail_delivery::report::{Action, Entry, Report};
use altimail_store::{Store, StoreError};

pub use altimail_delivery::report::may_bounce;

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
    let enhanced = f.reply.get(4..).and_then(|t| t.split_whitespace().next()).filter(|c| is_enhanced(c));
    match (enhanced, reply_code) {
        (Some(e), _) if e.starts_with('5') => e.to_owned(),
        // A temporary failure whose retries ran out is reported as failed (5.x.x).
        (Some(e), _) => format!("5{}", &e[1..]),
        (None, Some(c)) if c >= 500 => "5.0.0".into(),
        _ => "5.4.7".into(),
    }
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
    let recipients: String = failed.iter().map(block).collect();
    let (subject, text) = undeliverable_text(store, original.raw, &recipients).await?;
    let entries: Vec<Entry> = failed.iter().map(|f| entry(f, Action::Failed, status_code(f))).collect();
    Ok(report(host, original, &subject, &text, &entries, original.ret))
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
    let subject = Headers::parse(original.raw).get("Subject").unwrap_or("").to_owned();
    let subject = format!("Delivery Status Notification (Relayed): {subject}");
    let text = fill_template(RELAYED_TEMPLATE, original.raw, &recipients);
    let entries: Vec<Entry> = relayed.iter().map(|r| entry(r, Action::Relayed, "2.0.0".into())).collect();
    report(host, original, &subject, &text, &entries, "HDRS")
}

/// The delivery-status fields of one recipient.
fn entry(f: &Failed, action: Action, status: String) -> Entry {
    Entry {
        final_recipient: f.address.clone(),
        original_recipient: f.orcpt.clone(),
        action,
        status,
        // A relayed recipient has no reply to show.
        diagnostic: Some(f.reply.clone()).filter(|r| !r.is_empty()),
        remote_mta: f.remote.map(|ip| ip.to_string()),
    }
}

/// The report to `original.sender` (no Arrival-Date: the queue does not keep it).
fn report(host: &str, original: &Original<'_>, subject: &str, text: &str, entries: &[Entry], ret: &str) -> Vec<u8> {
    let report = Report {
        host,
        to: original.sender,
        subject,
        text,
        envid: original.envid,
        arrival_date: None,
        entries,
        original: original.raw,
        ret,
    };
    report.write()
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
