//! The one writer of delivery status notifications (RFC 3464 `multipart/report`): local and
//! remote non-delivery reports and the "delivered"/"relayed" reports of RFC 3461 NOTIFY=SUCCESS.
//! A report has a readable part (hMailServer's texts, chosen by the caller), the
//! `message/delivery-status` part and the original message, or only its headers for RET=HDRS.

use crate::generated::{crlf, crlf_bytes, header_safe, message_id, rfc5322_now};
use crate::headers::Headers;

/// What happened to a recipient (RFC 3464 §2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// The per-recipient fields of one recipient (RFC 3464 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The address delivery was attempted to (Final-Recipient).
    pub final_recipient: String,
    /// DSN ORCPT (`rfc822;x@y`) for Original-Recipient, or "".
    pub original_recipient: String,
    pub action: Action,
    /// The enhanced status code (RFC 3463), e.g. "5.1.1".
    pub status: String,
    /// The reply or our description (Diagnostic-Code): `smtp` when it starts with a reply code,
    /// `X-Altimail` otherwise.
    pub diagnostic: Option<String>,
    /// The server that answered (Remote-MTA).
    pub remote_mta: Option<String>,
}

/// A delivery status notification to write with [`Report::write`].
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Our host name (Reporting-MTA, Message-ID).
    pub host: &'a str,
    /// Who the report goes to.
    pub to: &'a str,
    /// The whole subject line.
    pub subject: &'a str,
    /// The readable part.
    pub text: &'a str,
    /// DSN ENVID (Original-Envelope-Id), or "".
    pub envid: &'a str,
    /// Arrival-Date, when known.
    pub arrival_date: Option<&'a str>,
    pub entries: &'a [Entry],
    /// The original message.
    pub original: &'a [u8],
    /// DSN RET: "HDRS" returns the headers only (`text/rfc822-headers`), anything else the whole
    /// message (`message/rfc822`).
    pub ret: &'a str,
}

impl Report<'_> {
    /// The report as a message from the mailer-daemon, with `Auto-Submitted: auto-generated` and
    /// the original's loop count plus one.
    pub fn write(&self) -> Vec<u8> {
        let headers = Headers::parse(self.original);
        let host = self.host;
        let boundary = format!("=_altimail_{}", message_id(host).trim_matches(['<', '>']).replace('@', "_"));
        let mut m = String::new();
        m.push_str(&format!("From: Mail Delivery System <mailer-daemon@{host}>\r\nTo: <{}>\r\n", self.to));
        m.push_str(&format!("Subject: {}\r\n", header_safe(self.subject)));
        m.push_str(&format!("Date: {}\r\nMessage-ID: {}\r\n", rfc5322_now(), message_id(host)));
        m.push_str("Auto-Submitted: auto-generated\r\n");
        m.push_str(&format!("X-hMailServer-LoopCount: {}\r\n", headers.loop_count() + 1));
        m.push_str(&format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
        ));
        m.push_str("This is a MIME-formatted message delivery status notification.\r\n\r\n");
        m.push_str(&format!(
            "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            crlf(self.text)
        ));
        m.push_str(&format!("--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"));
        m.push_str(&format!("Reporting-MTA: dns; {host}\r\n"));
        if !self.envid.is_empty() {
            m.push_str(&format!("Original-Envelope-Id: {}\r\n", header_safe(self.envid)));
        }
        if let Some(date) = self.arrival_date {
            m.push_str(&format!("Arrival-Date: {}\r\n", header_safe(date)));
        }
        for e in self.entries {
            m.push_str("\r\n");
            if !e.original_recipient.is_empty() {
                m.push_str(&format!("Original-Recipient: {}\r\n", header_safe(&e.original_recipient)));
            }
            m.push_str(&format!("Final-Recipient: rfc822; {}\r\n", header_safe(&e.final_recipient)));
            m.push_str(&format!("Action: {}\r\nStatus: {}\r\n", e.action.as_str(), e.status));
            if let Some(remote) = &e.remote_mta {
                m.push_str(&format!("Remote-MTA: dns; {}\r\n", header_safe(remote)));
            }
            if let Some(text) = e.diagnostic.as_deref().filter(|t| !t.is_empty()) {
                let kind = if text.get(..3).is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit())) {
                    "smtp"
                } else {
                    "X-Altimail"
                };
                m.push_str(&format!("Diagnostic-Code: {kind}; {}\r\n", header_safe(text)));
            }
        }
        let mut out = m.into_bytes();
        if self.ret.eq_ignore_ascii_case("HDRS") {
            out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n").as_bytes());
            out.extend_from_slice(crlf(&headers.text(self.original)).as_bytes());
        } else {
            out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes());
            out.extend_from_slice(&crlf_bytes(self.original));
        }
        out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        out
    }
}

/// Whether the sender of a message may get mail about it at all (hMailServer's
/// `SubmitErrorLog_` rules): not the null sender, not a mailer-daemon, not automatic mail
/// (Auto-Submitted), not past the loop limit.
pub fn may_bounce(sender: &str, headers: &Headers, loop_limit: i64) -> bool {
    let daemon = sender.to_ascii_lowercase().starts_with("mailer-daemon@");
    let automatic = headers.get("Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    !sender.is_empty() && !daemon && !automatic && headers.loop_count() < loop_limit.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: Action, status: &str) -> Entry {
        Entry {
            final_recipient: "b@them.test".into(),
            original_recipient: "rfc822;B@them.test".into(),
            action,
            status: status.into(),
            diagnostic: None,
            remote_mta: None,
        }
    }

    #[test]
    fn fields_in_rfc_3464_order_and_the_original_returned() {
        let original = b"Subject: hi\nX-hMailServer-LoopCount: 3\n\nbody\n";
        let mut failed = entry(Action::Failed, "5.1.1");
        failed.diagnostic = Some("550 5.1.1 no\r\nsuch user".into());
        failed.remote_mta = Some("127.0.0.2".into());
        let mut local = entry(Action::Failed, "5.2.2");
        local.original_recipient.clear();
        local.diagnostic = Some("Inbox is full".into());
        let entries = [failed, local];
        let report = Report {
            host: "mx.us.test",
            to: "a@us.test",
            subject: "Message undeliverable: hi\r\n",
            text: "Readable\n",
            envid: "E-1",
            arrival_date: Some("Mon, 1 Jan 2024 00:00:00 +0000"),
            entries: &entries,
            original,
            ret: "",
        };
        let text = String::from_utf8(report.write()).unwrap();
        for part in [
            "From: Mail Delivery System <mailer-daemon@mx.us.test>\r\nTo: <a@us.test>\r\nSubject: Message undeliverable: hi  \r\n",
            "Auto-Submitted: auto-generated\r\nX-hMailServer-LoopCount: 4\r\n",
            "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nReadable\r\n\r\n--",
            "Reporting-MTA: dns; mx.us.test\r\nOriginal-Envelope-Id: E-1\r\nArrival-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n",
            "Original-Recipient: rfc822;B@them.test\r\nFinal-Recipient: rfc822; b@them.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; 127.0.0.2\r\nDiagnostic-Code: smtp; 550 5.1.1 no  such user\r\n\r\n",
            "\r\n\r\nFinal-Recipient: rfc822; b@them.test\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: X-Altimail; Inbox is full\r\n",
            "Content-Type: message/rfc822\r\n\r\nSubject: hi\r\nX-hMailServer-LoopCount: 3\r\n\r\nbody\r\n\r\n--=_altimail_",
        ] {
            assert!(text.contains(part), "{part:?} missing in {text}");
        }
        assert!(text.ends_with("--\r\n"));
        let headers_only = String::from_utf8(Report { ret: "hdrs", arrival_date: None, ..report }.write()).unwrap();
        assert!(headers_only.contains("Content-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\n"), "{headers_only}");
        assert!(!headers_only.contains("body") && !headers_only.contains("Arrival-Date"), "{headers_only}");
    }
}
