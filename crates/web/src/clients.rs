//! What a mail client needs to know: for IMAP, POP3 and submission, the host, port and
//! security it should use, chosen from the configured ports; and the two documents clients
//! fetch to configure themselves, Thunderbird's autoconfig (`config-v1.1.xml`) and Microsoft's
//! Autodiscover (the Outlook "POX" schema of 2006a).

use altimail_core::codes::{Protocol, Security};
use altimail_store::repo::ports::Port;

/// One service a client connects to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endpoint {
    /// `imap`, `pop3` or `smtp` (submission).
    pub protocol: Protocol,
    /// The host name clients connect to (the server's `hostname` setting).
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// How clients name the security: `TLS` (implicit, from the first byte), `STARTTLS`, or
    /// `none`.
    pub fn security_label(&self) -> &'static str {
        match self.security {
            Security::Tls => "TLS",
            Security::StartTlsOptional | Security::StartTlsRequired => "STARTTLS",
            Security::None => "none",
        }
    }

    /// Thunderbird's `socketType`.
    fn socket_type(&self) -> &'static str {
        match self.security {
            Security::Tls => "SSL",
            Security::StartTlsOptional | Security::StartTlsRequired => "STARTTLS",
            Security::None => "plain",
        }
    }
}

/// The endpoints a client should use; a protocol without a configured port is `None`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientSettings {
    pub imap: Option<Endpoint>,
    pub pop3: Option<Endpoint>,
    /// Submission: never port 25 while another SMTP port exists (25 is for other servers).
    pub smtp: Option<Endpoint>,
}

impl ClientSettings {
    /// Picks, per protocol, the port a client should use: implicit TLS first, then STARTTLS
    /// (required, then optional), plain only when nothing else is configured; for SMTP, port
    /// 25 only when it is the only SMTP port. Ties go to the lower port number.
    pub fn from_ports(host: &str, ports: &[Port]) -> ClientSettings {
        let pick = |protocol: Protocol| -> Option<Endpoint> {
            ports
                .iter()
                .filter(|p| p.protocol == protocol)
                .min_by_key(|p| {
                    let relay_port = protocol == Protocol::Smtp && p.port == 25;
                    let security = match p.security {
                        Security::Tls => 0,
                        Security::StartTlsRequired => 1,
                        Security::StartTlsOptional => 2,
                        Security::None => 3,
                    };
                    (relay_port, security, p.port)
                })
                .map(|p| Endpoint { protocol, host: host.to_owned(), port: p.port, security: p.security })
        };
        ClientSettings { imap: pick(Protocol::Imap), pop3: pick(Protocol::Pop3), smtp: pick(Protocol::Smtp) }
    }

    /// The endpoints in the order clients list them: IMAP, POP3, SMTP.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        [&self.imap, &self.pop3, &self.smtp].into_iter().flatten()
    }

    /// Thunderbird's `config-v1.1.xml` for `domain`; the login name is the full address.
    pub fn autoconfig_xml(&self, domain: &str) -> String {
        let domain = escape(domain);
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
             <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
             <displayName>{domain}</displayName>\n    <displayShortName>{domain}</displayShortName>\n"
        );
        for e in self.endpoints() {
            let (element, kind) = match e.protocol {
                Protocol::Smtp => ("outgoingServer", "smtp"),
                Protocol::Pop3 => ("incomingServer", "pop3"),
                _ => ("incomingServer", "imap"),
            };
            xml.push_str(&format!(
                "    <{element} type=\"{kind}\">\n      <hostname>{}</hostname>\n      <port>{}</port>\n      \
                 <socketType>{}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
                 <username>%EMAILADDRESS%</username>\n    </{element}>\n",
                escape(&e.host),
                e.port,
                e.socket_type()
            ));
        }
        xml.push_str("  </emailProvider>\n</clientConfig>\n");
        xml
    }

    /// The Autodiscover answer (Outlook response schema 2006a) for `address`.
    pub fn autodiscover_xml(&self, address: &str) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
             <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
             <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n",
        );
        for e in self.endpoints() {
            let kind = match e.protocol {
                Protocol::Smtp => "SMTP",
                Protocol::Pop3 => "POP3",
                _ => "IMAP",
            };
            let (ssl, encryption) = match e.security {
                Security::Tls => ("on", "SSL"),
                Security::StartTlsOptional | Security::StartTlsRequired => ("off", "TLS"),
                Security::None => ("off", "None"),
            };
            xml.push_str(&format!(
                "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{}</Server>\n        \
                 <Port>{}</Port>\n        <LoginName>{}</LoginName>\n        <DomainRequired>off</DomainRequired>\n        \
                 <SPA>off</SPA>\n        <SSL>{ssl}</SSL>\n        <Encryption>{encryption}</Encryption>\n        \
                 <AuthRequired>on</AuthRequired>\n",
                escape(&e.host),
                e.port,
                escape(address)
            ));
            if e.protocol == Protocol::Smtp {
                xml.push_str("        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n");
            }
            xml.push_str("      </Protocol>\n");
        }
        xml.push_str("    </Account>\n  </Response>\n</Autodiscover>\n");
        xml
    }
}

/// Why an Autodiscover request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not UTF-8, has a DTD, or has no `EMailAddress` element.
    Malformed(&'static str),
    /// The client accepts only a response schema other than Outlook's (ActiveSync's, say).
    UnsupportedSchema,
}

/// The Outlook response schema, the only one served.
const OUTLOOK_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The e-mail address of an Autodiscover request (Outlook's request schema 2006).
///
/// Deliberately not an XML parser: the body is capped by the caller, a DTD (and with it any
/// entity expansion) is refused, and only the text of the `EMailAddress` and
/// `AcceptableResponseSchema` elements (with or without a namespace prefix) is read.
pub fn autodiscover_address(body: &[u8]) -> Result<String, RequestError> {
    let text = std::str::from_utf8(body).map_err(|_| RequestError::Malformed("the request is not UTF-8"))?;
    if text.contains("<!") {
        return Err(RequestError::Malformed("the request has a DTD or CDATA section"));
    }
    if let Some(schema) = element_text(text, "AcceptableResponseSchema")
        && !schema.trim().is_empty()
        && schema.trim() != OUTLOOK_SCHEMA
    {
        return Err(RequestError::UnsupportedSchema);
    }
    let address = element_text(text, "EMailAddress").ok_or(RequestError::Malformed("no EMailAddress element"))?;
    let address = unescape(address.trim());
    if address.is_empty() {
        return Err(RequestError::Malformed("the EMailAddress element is empty"));
    }
    Ok(address)
}

/// The text between `<name>` (or `<prefix:name>`) and the next `<`, for the first such element.
fn element_text<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let gt = after.find('>')?;
        let tag = &after[..gt];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        if local == name {
            let content = &after[gt + 1..];
            let end = content.find('<').unwrap_or(content.len());
            return Some(&content[..end]);
        }
        rest = &after[gt + 1..];
    }
    None
}

/// The five predefined XML entities; anything else is left as it is.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Text for an XML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn port(protocol: Protocol, port: u16, security: Security) -> Port {
        Port { id: 0, protocol, port, address: IpAddr::V4(Ipv4Addr::UNSPECIFIED), security, certificate_id: 0 }
    }

    #[test]
    fn new_installation_ports_give_the_usual_client_settings() {
        let ports = [
            port(Protocol::Smtp, 25, Security::StartTlsOptional),
            port(Protocol::Smtp, 587, Security::StartTlsOptional),
            port(Protocol::Smtp, 465, Security::Tls),
            port(Protocol::Pop3, 110, Security::StartTlsOptional),
            port(Protocol::Pop3, 995, Security::Tls),
            port(Protocol::Imap, 143, Security::StartTlsOptional),
            port(Protocol::Imap, 993, Security::Tls),
            port(Protocol::Http, 80, Security::None),
        ];
        let s = ClientSettings::from_ports("mail.example.com", &ports);
        let got: Vec<(u16, &str)> = s.endpoints().map(|e| (e.port, e.security_label())).collect();
        assert_eq!(got, [(993, "TLS"), (995, "TLS"), (465, "TLS")]);
        let only_25 = ClientSettings::from_ports("h", &[port(Protocol::Smtp, 25, Security::None)]);
        assert_eq!(only_25.smtp.map(|e| e.port), Some(25));
        let starttls = ClientSettings::from_ports(
            "h",
            &[
                port(Protocol::Smtp, 25, Security::StartTlsOptional),
                port(Protocol::Smtp, 587, Security::StartTlsOptional),
            ],
        );
        assert_eq!(starttls.smtp.map(|e| e.port), Some(587));
    }

    #[test]
    fn documents_name_the_host_ports_and_address() {
        let ports = [port(Protocol::Imap, 993, Security::Tls), port(Protocol::Smtp, 587, Security::StartTlsRequired)];
        let s = ClientSettings::from_ports("mail.ex&ample.com", &ports);
        let ac = s.autoconfig_xml("example.com");
        assert!(ac.contains("<hostname>mail.ex&amp;ample.com</hostname>"), "{ac}");
        assert!(ac.contains("<port>993</port>\n      <socketType>SSL</socketType>"), "{ac}");
        assert!(ac.contains("<outgoingServer type=\"smtp\">") && ac.contains("<socketType>STARTTLS</socketType>"));
        let ad = s.autodiscover_xml("a<b@example.com");
        assert!(ad.contains("<LoginName>a&lt;b@example.com</LoginName>"), "{ad}");
        assert!(ad.contains("<Type>SMTP</Type>") && ad.contains("<Encryption>TLS</Encryption>"), "{ad}");
        assert!(!ad.contains("POP3"));
    }

    #[test]
    fn autodiscover_requests() {
        let outlook = br#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>john@example.com</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;
        assert_eq!(autodiscover_address(outlook), Ok("john@example.com".to_owned()));
        let prefixed = b"<a:Autodiscover xmlns:a='x'><a:Request><a:EMailAddress> j&amp;k@example.com </a:EMailAddress></a:Request></a:Autodiscover>";
        assert_eq!(autodiscover_address(prefixed), Ok("j&k@example.com".to_owned()));
        let mobile = b"<Autodiscover><Request><EMailAddress>j@e.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>";
        assert_eq!(autodiscover_address(mobile), Err(RequestError::UnsupportedSchema));
        let bomb =
            b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><Autodiscover><EMailAddress>&lol;</EMailAddress></Autodiscover>";
        assert!(matches!(autodiscover_address(bomb), Err(RequestError::Malformed(_))));
        for bad in [&b""[..], b"<EMailAddress>", b"<EMailAddress></EMailAddress>", b"\xff\xfe", b"<<<>>>", b"<a"] {
            assert!(autodiscover_address(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_body_gets_an_answer_without_panicking(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = autodiscover_address(&body);
        }
    }
}
