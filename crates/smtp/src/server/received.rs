//! The trace header added to every accepted message (RFC 5321 §4.4), in hMailServer's shape,
//! and the `Message-ID`/`Date` a submission gets when the client left them out.

use std::net::IpAddr;

use crate::session::Envelope;

/// `Received: from <helo> ([<ip>])\r\n\tby <host> with <protocol>\r\n\t(<tls>)\r\n\t; <date>\r\n`.
/// The protocol keyword follows RFC 3848 / RFC 6531: ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP….
pub fn received_header(envelope: &Envelope, peer: IpAddr, host: &str, now: &str) -> String {
    let mut protocol = String::from(if envelope.params.smtputf8 {
        "UTF8SMTP"
    } else if envelope.esmtp {
        "ESMTP"
    } else {
        "SMTP"
    });
    if envelope.esmtp || envelope.params.smtputf8 {
        if envelope.tls.is_some() {
            protocol.push('S');
        }
        if envelope.authenticated.is_some() {
            protocol.push('A');
        }
    }
    let helo: String = envelope.helo.chars().filter(|c| !c.is_control()).take(255).collect();
    let ip = altimail_core::ip::normalize(peer);
    let mut h = format!("Received: from {helo} ([{ip}])\r\n\tby {host} with {protocol}\r\n");
    if let Some(tls) = &envelope.tls {
        let bits = tls.bits.map(|b| format!(" bits={b}")).unwrap_or_default();
        h.push_str(&format!("\t(version={} cipher={}{bits})\r\n", tls.version, tls.cipher));
    }
    if envelope.recipients.len() == 1 {
        h.push_str(&format!("\tfor <{}>\r\n", envelope.recipients[0].address));
    }
    h.push_str(&format!("\t; {now}\r\n"));
    h
}

/// Headers a submitted message lacks and should have: `Date` and `Message-ID` (RFC 6409 §8).
pub fn submission_headers(body: &[u8], host: &str, now: &str) -> String {
    let headers = altimail_delivery::headers::Headers::parse(body);
    let mut add = String::new();
    if !headers.has("Date") {
        add.push_str(&format!("Date: {now}\r\n"));
    }
    if !headers.has("Message-ID") {
        add.push_str(&format!("Message-ID: {}\r\n", altimail_delivery::generated::message_id(host)));
    }
    add
}
