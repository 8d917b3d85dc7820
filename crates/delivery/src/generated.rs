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
