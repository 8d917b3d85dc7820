//! The notice hMailServer sends when it deletes a message with a virus (`avnotifysender`,
//! `avnotifyreceiver`): from the mailer daemon, subject `Virus found: <subject>`, the
//! VIRUS_NOTIFICATION text with the original's From, To, Date and Subject.

use mail_parser::MessageParser;

use crate::settings::{AvSettings, Texts};

/// Who gets a notice for a deleted message: the envelope sender (`avnotifysender`) and every
/// recipient (`avnotifyreceiver`). None at all when the envelope sender is empty (a bounce
/// has nowhere to answer to, as in hMailServer).
pub fn notice_recipients(settings: &AvSettings, envelope_sender: &str, recipients: &[String]) -> Vec<String> {
    if envelope_sender.trim().is_empty() {
        return Vec::new();
    }
    let mut to = Vec::new();
    if settings.notify_receiver {
        to.extend(recipients.iter().cloned());
    }
    if settings.notify_sender {
        to.push(envelope_sender.to_owned());
    }
    to
}

/// The raw header value of `name` in `original` (unfolded, undecoded), or "".
fn raw_header(original: &[u8], name: &str) -> String {
    MessageParser::default()
        .parse_headers(original)
        .and_then(|m| m.header_raw(name).map(|v| v.trim().replace("\r\n", "").replace('\n', "")))
        .unwrap_or_default()
}

/// The notice to `to` about `original`. `date` (RFC 5322) and `message_id` (without angle
/// brackets) come from the caller; the envelope sender of the notice is empty.
pub fn virus_notice(
    texts: &Texts,
    original: &[u8],
    mailer_daemon: &str,
    to: &str,
    date: &str,
    message_id: &str,
) -> Vec<u8> {
    let subject = raw_header(original, "Subject");
    let body = texts
        .virus_notification
        .replace("%MACRO_FROM%", &raw_header(original, "From"))
        .replace("%MACRO_TO%", &raw_header(original, "To"))
        .replace("%MACRO_SENT%", &raw_header(original, "Date"))
        .replace("%MACRO_SUBJECT%", &subject);
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let mut out = String::new();
    out.push_str(&format!("From: <{}>\r\n", one_line(mailer_daemon)));
    out.push_str(&format!("To: <{}>\r\n", one_line(to)));
    out.push_str(&format!("Subject: {}: {}\r\n", one_line(&texts.virus_found), one_line(&subject)));
    out.push_str(&format!("Date: {}\r\n", one_line(date)));
    out.push_str(&format!("Message-ID: <{}>\r\n", one_line(message_id)));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Auto-Submitted: auto-generated\r\n");
    out.push_str("X-hMailServer-LoopCount: 1\r\n");
    if body.is_ascii() {
        out.push_str("Content-Type: text/plain; charset=\"us-ascii\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
    } else {
        out.push_str("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    }
    out.push_str(&body);
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.into_bytes()
}
