//! The `hm_settings` rows outbound delivery reads, as one typed snapshot.

use std::net::IpAddr;

use altimail_core::blowfish::hm_decrypt;
use altimail_store::repo::settings::Settings;

/// Outbound delivery's settings (hMailServer names in the field docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSettings {
    /// Our name in EHLO/HELO (`hostname`, else the machine's name).
    pub helo: String,
    /// `smtpnoofretries`: retries after the first try.
    pub retries: i64,
    /// `smtpminutesbetweenretries`.
    pub minutes_between_retries: i64,
    /// `maxdelivertythreads` (sic).
    pub threads: usize,
    /// `maxsmtprecipientsinbatch`; 0 = unlimited.
    pub batch: usize,
    /// `smtprelayer`: the smart host list, empty for MX delivery.
    pub relayer: String,
    /// `smtprelayerport`.
    pub relayer_port: u16,
    /// `usesmtprelayerauthentication` with `smtprelayerusername` / `smtprelayerpassword` (Blowfish).
    pub relayer_auth: Option<(String, String)>,
    /// `smtprelayerconnectionsecurity`.
    pub relayer_security: i64,
    /// `SmtpDeliveryConnectionSecurity`.
    pub mx_security: i64,
    /// `VerifyRemoteSslCertificate`.
    pub verify_certificates: bool,
    /// `IPv6Preferred`.
    pub ipv6_first: bool,
    /// `MaxNumberOfMXHosts`.
    pub max_mx_hosts: usize,
    /// `smtpdeliverybindtoip`.
    pub bind_ip: Option<IpAddr>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            helo: "localhost".into(),
            retries: 4,
            minutes_between_retries: 60,
            threads: 10,
            batch: 100,
            relayer: String::new(),
            relayer_port: 25,
            relayer_auth: None,
            relayer_security: 0,
            mx_security: 2,
            verify_certificates: true,
            ipv6_first: false,
            max_mx_hosts: 15,
            bind_ip: None,
        }
    }
}

impl OutboundSettings {
    pub fn from_settings(s: &Settings) -> Self {
        let relayer_auth = s.bool("usesmtprelayerauthentication").then(|| {
            (s.string("smtprelayerusername"), hm_decrypt(&s.string("smtprelayerpassword")).unwrap_or_default())
        });
        OutboundSettings {
            helo: altimail_delivery::host_name(s),
            retries: s.int("smtpnoofretries").max(0),
            minutes_between_retries: s.int("smtpminutesbetweenretries").max(1),
            threads: usize::try_from(s.int("maxdelivertythreads")).ok().filter(|&n| n > 0).unwrap_or(10),
            batch: usize::try_from(s.int("maxsmtprecipientsinbatch")).unwrap_or(0),
            relayer: s.string("smtprelayer").trim().to_owned(),
            relayer_port: u16::try_from(s.int("smtprelayerport")).ok().filter(|&p| p > 0).unwrap_or(25),
            relayer_auth,
            relayer_security: s.int("smtprelayerconnectionsecurity"),
            mx_security: s.int("SmtpDeliveryConnectionSecurity"),
            verify_certificates: s.bool("VerifyRemoteSslCertificate"),
            ipv6_first: s.bool("IPv6Preferred"),
            max_mx_hosts: usize::try_from(s.int("MaxNumberOfMXHosts")).ok().filter(|&n| n > 0).unwrap_or(15),
            bind_ip: s.string("smtpdeliverybindtoip").trim().parse().ok(),
        }
    }
}
