//! Mail the server writes itself: auto-replies and non-delivery reports (bounces), with
//! hMailServer's texts (`hm_servermessages`) and loop protection.

use chrono::Local;

use altimail_store::Store;
use altimail_store::StoreError;
use altimail_store::files::new_file_name;

use crate::headers::Headers;
use crate::report::{Action, Entry, Report};

/// Reads an `hm_servermessages` text, or `fallback` when the row is missing.
pub async fn server_message(store: &Store, name: &str, fallback: &str) -> Result<String, StoreError> {
    let text = altimail_store::repo::server_messages::text(&store.db, name).await?;
    Ok(text.unwrap_or_else(|| fallback.to_owned()))
}

/// An RFC 5322 date.
pub fn rfc5322_now() -> String {
    Local::now().format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// A Message-ID on our host name.
pub fn message_id(host: &str) -> String {
    let guid = new_file_name();
    format!("<{}@{host}>", guid.trim_start_matches('{').trim_end_matches("}.eml"))
}

/// Removes characters that would break a header line.
pub fn header_safe(s: &str) -> String {
    s.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect()
}

/// An auto-reply to `to` from `from` (RFC 3834: Auto-Submitted, In-Reply-To/References).
pub fn auto_reply(
    host: &str,
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    original: &Headers,
    loop_count: i64,
) -> Vec<u8> {
    let mut m = String::new();
    m.push_str(&format!("From: <{from}>\r\nTo: <{to}>\r\n"));
    m.push_str(&format!("Subject: {}\r\n", header_safe(subject)));
    m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
    if let Some(id) = original.get("Message-ID") {
        let id = header_safe(id);
        m.push_str(&format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"));
    }
    m.push_str("Auto-Submitted: auto-replied\r\n");
    m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", loop_count + 1));
    m.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(&crlf(body));
    m.into_bytes()
}

/// The columns of a rule's reply action, and where it goes.
#[derive(Debug, Clone, Copy)]
pub struct RuleReply<'a> {
    pub from_name: &'a str,
    pub from_address: &'a str,
    /// The envelope sender of the message replied to.
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// Its `X-hMailServer-LoopCount`.
    pub loop_count: i64,
}

/// A rule's reply (hMailServer's `RuleApplier::ApplyAction_Reply`): a new message from
/// `"name" <address>` with the action's subject and body, `Auto-Submitted: auto-replied`, the
/// loop count, and In-Reply-To the original's Message-ID.
pub fn rule_reply(host: &str, reply: RuleReply<'_>, original: &[u8]) -> Vec<u8> {
    let headers = Headers::parse(original);
    let from = if reply.from_name.is_empty() {
        format!("<{}>", header_safe(reply.from_address))
    } else {
        format!("\"{}\" <{}>", header_safe(reply.from_name).replace('"', "'"), header_safe(reply.from_address))
    };
    let mut m = String::new();
    m.push_str(&format!("From: {from}\r\nTo: <{}>\r\n", header_safe(reply.to)));
    m.push_str(&format!("Subject: {}\r\n", encode_header(&header_safe(reply.subject))));
    m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
    if let Some(id) = headers.get("Message-ID") {
        let id = header_safe(id);
        m.push_str(&format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"));
    }
    m.push_str("Auto-Submitted: auto-replied\r\n");
    m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", reply.loop_count));
    m.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(&crlf(reply.body));
    m.into_bytes()
}

/// A header value with RFC 2047 encoding when it is not ASCII.
fn encode_header(value: &str) -> String {
    if value.is_ascii() {
        return value.to_owned();
    }
    use base64::Engine;
    format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(value.as_bytes()))
}

/// hMailServer's SEND_FAILED_NOTIFICATION text, used when the row is missing.
pub const SEND_FAILED_NOTIFICATION: &str = "Your message did not reach some or all of the intended recipients.\r\n\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nThe following recipient(s) could not be reached:\r\n\r\n%MACRO_RECIPIENTS%\r\n";

/// `template` with hMailServer's macros filled in from the original message `raw` and the
/// per-recipient `recipients` text.
pub fn fill_template(template: &str, raw: &[u8], recipients: &str) -> String {
    let headers = Headers::parse(raw);
    template
        .replace("%MACRO_SENT%", headers.get("Date").unwrap_or(""))
        .replace("%MACRO_SUBJECT%", headers.get("Subject").unwrap_or(""))
        .replace("%MACRO_RECIPIENTS%", recipients)
        .replace("%MACRO_ORIGINAL_HEADER%", &headers.text(raw))
}

/// The subject line and readable text of a non-delivery report about `raw`: hMailServer's
/// MESSAGE_UNDELIVERABLE prefix and SEND_FAILED_NOTIFICATION text with the per-recipient
/// `recipients` blocks.
pub async fn undeliverable_text(store: &Store, raw: &[u8], recipients: &str) -> Result<(String, String), StoreError> {
    let prefix = server_message(store, "MESSAGE_UNDELIVERABLE", "Message undeliverable").await?;
    let template = server_message(store, "SEND_FAILED_NOTIFICATION", SEND_FAILED_NOTIFICATION).await?;
    let subject = Headers::parse(raw).get("Subject").unwrap_or("").to_owned();
    Ok((format!("{prefix}: {subject}"), fill_template(&template, raw, recipients)))
}

/// One failed recipient of a local bounce.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The address as given in RCPT TO (shown in the readable part).
    pub recipient: String,
    /// The address delivery was attempted to (Final-Recipient).
    pub address: String,
    /// DSN ORCPT (`rfc822;x@y`), or "".
    pub orcpt: String,
    pub reason: String,
}

/// The RFC 3463 status of a local delivery failure, from hMailServer's reason text.
pub fn local_status(reason: &str) -> &'static str {
    match reason {
        "Inbox is full" => "5.2.2",
        "Unknown user" => "5.1.1",
        "Account is not active." | "Domain has been disabled." => "5.2.1",
        _ => "5.0.0",
    }
}

/// A non-delivery report to `to` about local recipients: an RFC 3464 report whose readable part
/// is hMailServer's SEND_FAILED_NOTIFICATION text with "Error Type: Local delivery" blocks.
pub async fn bounce(
    store: &Store,
    host: &str,
    to: &str,
    original: Original<'_>,
    failures: &[Failure],
) -> Result<Vec<u8>, StoreError> {
    let recipients: String = failures
        .iter()
        .map(|f| format!("{}\r\n   Error Type: Local delivery\r\n   {}\r\n\r\n", f.recipient, f.reason))
        .collect();
    let (subject, text) = undeliverable_text(store, original.raw, &recipients).await?;
    let entries: Vec<Entry> = failures
        .iter()
        .map(|f| Entry {
            final_recipient: f.address.clone(),
            original_recipient: f.orcpt.clone(),
            action: Action::Failed,
            status: local_status(&f.reason).into(),
            diagnostic: Some(f.reason.clone()),
            remote_mta: None,
        })
        .collect();
    Ok(original.report(host, to, &subject, &text, &entries))
}

/// Normalises line ends to CRLF and ends the text with one.
pub fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        out.push_str(line);
        out.push_str("\r\n");
    }
    while out.ends_with("\r\n\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// `data` with every line ending in CRLF (a bare CR or LF becomes CRLF); a final line without
/// one gets it. Bytes, not text: 8-bit messages pass unchanged.
pub fn crlf_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32 + 2);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One recipient of a success report (RFC 3464 per-recipient fields).
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The address the copy went to (Final-Recipient).
    pub recipient: String,
    /// DSN ORCPT (`rfc822;x@y`), or "".
    pub orcpt: String,
    /// [`Action::Delivered`] (stored in the mailbox) or [`Action::Relayed`] (forwarded, no copy kept).
    pub action: Action,
}

/// The envelope facts of the original message a report needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Original<'a> {
    pub raw: &'a [u8],
    /// DSN ENVID, or "".
    pub envid: &'a str,
    /// DSN RET: "HDRS" returns the headers only.
    pub ret: &'a str,
}

impl Original<'_> {
    /// The report about this message (Arrival-Date: its Date header).
    fn report(&self, host: &str, to: &str, subject: &str, text: &str, entries: &[Entry]) -> Vec<u8> {
        let arrival = Headers::parse(self.raw).get("Date").map(str::to_owned).unwrap_or_else(rfc5322_now);
        let report = Report {
            host,
            to,
            subject,
            text,
            envid: self.envid,
            arrival_date: Some(&arrival),
            entries,
            original: self.raw,
            ret: self.ret,
        };
        report.write()
    }
}

/// A delivery status notification to `to` for recipients that asked for NOTIFY=SUCCESS (RFC 3461
/// §4.1): an RFC 3464 `multipart/report` with a readable part, the `message/delivery-status` part
/// and the original (or its headers when RET=HDRS).
pub fn success_report(host: &str, to: &str, original: Original<'_>, delivered: &[Delivered]) -> Vec<u8> {
    let headers = Headers::parse(original.raw);
    let subject = headers.get("Subject").unwrap_or("");
    let list: String = delivered.iter().map(|d| format!("   {}\r\n", d.recipient)).collect();
    let text = format!(
        "Your message was delivered to the following recipient(s):\r\n\r\n{list}\r\n   Subject: {}\r\n",
        header_safe(subject)
    );
    let entries: Vec<Entry> = delivered
        .iter()
        .map(|d| Entry {
            final_recipient: d.recipient.clone(),
            original_recipient: d.orcpt.clone(),
            action: d.action,
            status: "2.0.0".into(),
            diagnostic: None,
            remote_mta: None,
        })
        .collect();
    original.report(host, to, &format!("Delivery Status Notification (Success): {subject}"), &text, &entries)
}
