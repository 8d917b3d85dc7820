//! Creating a new installation: hMailServer's schema and default rows, then the few defaults a
//! new Altimail installation has on top (an existing hMailServer database is never changed this
//! way).

use std::net::{IpAddr, Ipv4Addr};

use altimail_core::codes::range;
use altimail_core::codes::{Protocol, Security};
use altimail_store::repo::{ports, ranges, settings};
use altimail_store::{Db, StoreError};

/// What a new installation gets beyond hMailServer's defaults:
/// - STARTTLS offered on 25, 587, 110 and 143, and implicit-TLS ports 465, 993 and 995, all on
///   the self-signed certificate until a real one is added;
/// - the web listener on 80 (plain) and 443 (TLS), where mail clients fetch their settings
///   (Thunderbird's autoconfig asks on port 80, Outlook's Autodiscover on 443);
/// - TLS 1.2 and 1.3 (`SslVersions` 24) instead of hMailServer's TLS 1.0–1.2;
/// - logging switched on (SMTP, POP3, IMAP, TCP/IP, application);
/// - IMAP AUTHENTICATE PLAIN and SASL-IR offered;
/// - connection limits (hMailServer's are 0, unlimited): 1000 SMTP, 1000 POP3 and 5000 IMAP
///   sessions at once, and 50 sessions of one protocol from one client address
///   (`altimailmaxconnectionsperip`; 50 is also what a database without the row gets), so that
///   idle connections cannot take the whole machine;
/// - clients from the "Internet" range must use TLS before they authenticate (range option
///   "tls-for-auth"), so passwords never cross the network in clear text.
pub async fn apply_new_installation_defaults(db: &Db) -> Result<(), StoreError> {
    for mut p in ports::list(db).await? {
        if p.security == Security::None {
            p.security = Security::StartTlsOptional;
            ports::update(db, &p).await?;
        }
    }
    for (protocol, port, security) in [
        (Protocol::Smtp, 465, Security::Tls),
        (Protocol::Imap, 993, Security::Tls),
        (Protocol::Pop3, 995, Security::Tls),
        (Protocol::Http, 80, Security::None),
        (Protocol::Http, 443, Security::Tls),
    ] {
        let p = ports::Port {
            id: 0,
            protocol,
            port,
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            security,
            certificate_id: 0,
        };
        ports::create(db, &p).await?;
    }
    if let Some(mut internet) = ranges::find(db, "Internet").await? {
        internet.options |= range::TLS_FOR_AUTH;
        ranges::update(db, &internet).await?;
    }
    settings::set_integer(db, "SslVersions", 8 | 16).await?;
    settings::set_integer(db, "logging", 1 | 2 | 4 | 8 | 16 | 64).await?;
    // IMAP AUTHENTICATE PLAIN with an initial response (RFC 4959): what clients expect today.
    settings::set_integer(db, "EnableImapSASLPlain", 1).await?;
    settings::set_integer(db, "EnableImapSASLInitialResponse", 1).await?;
    // IMAP clients keep several connections per user (IDLE on more than one folder), and an idle
    // session costs about 45 KiB: 5000 of them stay under 250 MiB.
    for (name, limit) in [
        ("maxsmtpconnections", 1000),
        ("maxpop3connections", 1000),
        ("maximapconnections", 5000),
        ("altimailmaxconnectionsperip", 50),
    ] {
        settings::set_integer(db, name, limit).await?;
    }
    Ok(())
}
