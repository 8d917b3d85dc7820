//! Creating a new installation: hMailServer's schema and default rows, then the few defaults a
//! new Altimail installation has on top (an existing hMailServer database is never changed this
//! way).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
///   "tls-for-auth"), so passwords never cross the network in clear text;
/// - dual stack: every port on `0.0.0.0` has a twin on `::` (hMailServer's schema gives an IPv6
///   listener a row of its own; the server binds `::` IPv6-only, so both coexist), and the IP
///   ranges "Internet (IPv6)" (`::`–`ffff:…:ffff`) and "My computer (IPv6)" (`::1`) copy their
///   IPv4 namesakes (hMailServer has no IPv6 range, so IPv6 clients would be refused).
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
    for p in ports::list(db).await? {
        if p.address == IpAddr::V4(Ipv4Addr::UNSPECIFIED) {
            ports::create(db, &ports::Port { id: 0, address: IpAddr::V6(Ipv6Addr::UNSPECIFIED), ..p }).await?;
        }
    }
    for (v4, v6, lower, upper) in [
        ("Internet", "Internet (IPv6)", Ipv6Addr::UNSPECIFIED, Ipv6Addr::from(u128::MAX)),
        ("My computer", "My computer (IPv6)", Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST),
    ] {
        if let Some(range) = ranges::find(db, v4).await?
            && ranges::find(db, v6).await?.is_none()
        {
            let copy = ranges::Range {
                id: 0,
                name: v6.to_owned(),
                lower: IpAddr::V6(lower),
                upper: IpAddr::V6(upper),
                ..range
            };
            ranges::create(db, &copy).await?;
        }
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
