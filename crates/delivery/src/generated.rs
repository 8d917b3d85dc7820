//! Mail the server writes itself: auto-replies and non-delivery reports (bounces), with
//! hMailServer's texts (`hm_servermessages`) and loop protection.

use chrono::Local;

use altimail_store::Store;
use altimail_store::StoreError;
use altimail_store::files::new_file_name;

use crate::headers::Headers;

/// Reads an `hm_servermessages` text, or `fallback` when the row is missing.
pub async fn server_message(store: &Store, name: &str, fallback: &str) -> Result<String, StoreError> {
    let row = store.db.fetch_optional("SELECT smtext FROM hm_servermessages WHERE smname = ?", &[name.into()]).await?;
    Ok(row.map(|r| r.text("smtext")).transpose()?.unwrap_or_else(|| fallback.to_owned()))
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
fn header_safe(s: &str) -> String {
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

/// One failed recipient of a bounce.
#[derive(Debug, Clone)]
pub struct Failure {
    pub recipient: String,
    pub reason: String,
}

/// A non-delivery report to `to`, built from hMailServer's SEND_FAILED_NOTIFICATION template.
pub async fn bounce(
    store: &Store,
    host: &str,
    to: &str,
    raw: &[u8],
    failures: &[Failure],
) -> Result<Vec<u8>, StoreError> {
    let headers = Headers::parse(raw);
    let subject = headers.get("Subject").unwrap_or("");
    let prefix = server_message(store, "MESSAGE_UNDELIVERABLE", "Message undeliverable").await?;
    let template = server_message(
        store,
        "SEND_FAILED_NOTIFICATION",
        "Your message did not reach some or all of the intended recipients.\r\n\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nThe following recipient(s) could not be reached:\r\n\r\n%MACRO_RECIPIENTS%\r\n",
    )
    .await?;
    let recipients: String = failures
        .iter()
        .map(|f| format!("{}\r\n   Error Type: Local delivery\r\n   {}\r\n\r\n", f.recipient, f.reason))
        .collect();
    let body = template
        .replace("%MACRO_SENT%", headers.get("Date").unwrap_or(""))
        .replace("%MACRO_SUBJECT%", subject)
        .replace("%MACRO_RECIPIENTS%", &recipients)
        .replace("%MACRO_ORIGINAL_HEADER%", &headers.text(raw));
    let mut m = String::new();
    m.push_str(&format!("From: Mail Delivery System <mailer-daemon@{host}>\r\nTo: <{to}>\r\n"));
    m.push_str(&format!("Subject: {}\r\n", header_safe(&format!("{prefix}: {subject}"))));
    m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
    m.push_str("Auto-Submitted: auto-generated\r\n");
    m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", headers.loop_count() + 1));
    m.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(&crlf(&body));
    Ok(m.into_bytes())
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

/// One recipient of a success report (RFC 3464 per-recipient fields).
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The address the copy went to (Final-Recipient).
    pub recipient: String,
    /// DSN ORCPT (`rfc822;x@y`), or "".
    pub orcpt: String,
    /// "delivered" (stored in the mailbox) or "relayed" (forwarded, no copy kept).
    pub action: &'static str,
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

/// A delivery status notification to `to` for recipients that asked for NOTIFY=SUCCESS (RFC 3461
/// §4.1): an RFC 3464 `multipart/report` with a readable part, the `message/delivery-status` part
/// and the original (or its headers when RET=HDRS).
pub fn success_report(host: &str, to: &str, original: Original<'_>, delivered: &[Delivered]) -> Vec<u8> {
    let headers = Headers::parse(original.raw);
    let subject = headers.get("Subject").unwrap_or("");
    let boundary = format!("=_altimail_{}", message_id(host).trim_matches(['<', '>']).replace('@', "_"));
    let mut m = String::new();
    m.push_str(&format!("From: Mail Delivery System <mailer-daemon@{host}>\r\nTo: <{to}>\r\n"));
    m.push_str(&format!("Subject: {}\r\n", header_safe(&format!("Delivery Status Notification (Success): {subject}"))));
    m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
    m.push_str("Auto-Submitted: auto-generated\r\n");
    m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", headers.loop_count() + 1));
    m.push_str(&format!(
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str("This is a MIME-formatted message delivery status notification.\r\n\r\n");
    let list: String = delivered.iter().map(|d| format!("   {}\r\n", d.recipient)).collect();
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Your message was delivered to the following recipient(s):\r\n\r\n{list}\r\n   Subject: {}\r\n\r\n",
        header_safe(subject)
    ));
    m.push_str(&format!("--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"));
    m.push_str(&format!("Reporting-MTA: dns; {host}\r\n"));
    if !original.envid.is_empty() {
        m.push_str(&format!("Original-Envelope-Id: {}\r\n", header_safe(original.envid)));
    }
    m.push_str(&format!("Arrival-Date: {}\r\n", headers.get("Date").map(header_safe).unwrap_or_else(rfc5322_now)));
    for d in delivered {
        if !d.orcpt.is_empty() {
            m.push_str(&format!("\r\nOriginal-Recipient: {}\r\n", header_safe(&d.orcpt)));
        } else {
            m.push_str("\r\n");
        }
        m.push_str(&format!("Final-Recipient: rfc822; {}\r\n", header_safe(&d.recipient)));
        m.push_str(&format!("Action: {}\r\nStatus: 2.0.0\r\n", d.action));
    }
    let mut out = m.into_bytes();
    if original.ret.eq_ignore_ascii_case("HDRS") {
        out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n").as_bytes());
        out.extend_from_slice(crlf(&headers.text(original.raw)).as_bytes());
    } else {
        out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes());
        out.extend_from_slice(original.raw);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}
