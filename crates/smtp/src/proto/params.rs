//! ESMTP parameters of MAIL FROM and RCPT TO (RFC 5321 §4.1.2 `Mail-parameters`).
//!
//! MAIL: `SIZE=n` (RFC 1870), `BODY=7BIT|8BITMIME|BINARYMIME` (RFC 6152, RFC 3030), `SMTPUTF8`
//! (RFC 6531), `RET=FULL|HDRS` and `ENVID=xtext` (RFC 3461), `AUTH=xtext|<>` (RFC 4954 §5).
//! RCPT: `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY` and `ORCPT=type;xtext` (RFC 3461).
//!
//! Keywords and enumerated values are case-insensitive. An unknown keyword or one given twice is
//! refused (the session answers `555 5.5.4`, RFC 5321 §4.1.1.11); a known keyword with a bad value
//! is refused as well (`501 5.5.4`).

use std::fmt;

use super::xtext::{decode_xtext, encode_xtext};

/// Longest `ENVID` value in octets, decoded (RFC 3461 §4.4).
pub const MAX_ENVID_LENGTH: usize = 100;
/// Longest `ORCPT` value in octets, decoded (RFC 3461 §4.2).
pub const MAX_ORCPT_LENGTH: usize = 500;

/// Why a parameter was refused. Each variant carries the keyword, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A keyword this server does not implement for this command.
    #[error("unsupported parameter {0}")]
    Unknown(String),
    /// A keyword given twice.
    #[error("duplicate parameter {0}")]
    Duplicate(String),
    /// A known keyword with a missing, unexpected or invalid value.
    #[error("invalid value for parameter {0}")]
    BadValue(String),
    /// Text that is not `keyword[=value]`.
    #[error("malformed parameter")]
    Malformed,
}

/// `BODY=` of MAIL FROM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyType {
    /// `7BIT`.
    SevenBit,
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `BINARYMIME` (RFC 3030): only with BDAT.
    BinaryMime,
}

/// `RET=` of MAIL FROM: what a DSN should return of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    /// `FULL`: the whole message.
    Full,
    /// `HDRS`: the headers only.
    Headers,
}

/// `AUTH=` of MAIL FROM (RFC 4954 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailAuth {
    /// `AUTH=<>`: the submitter is not known or not trusted.
    Unknown,
    /// The decoded identity the client vouches for.
    Identity(String),
}

/// The parameters of MAIL FROM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MailParams {
    /// Declared message size in octets.
    pub size: Option<u64>,
    /// Declared body type.
    pub body: Option<BodyType>,
    /// The transaction uses internationalised addresses and headers.
    pub smtputf8: bool,
    /// DSN return content.
    pub ret: Option<Ret>,
    /// DSN envelope identifier, decoded.
    pub envid: Option<String>,
    /// The submitter's identity.
    pub auth: Option<MailAuth>,
}

/// `NOTIFY=` of RCPT TO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notify {
    /// `NEVER`.
    Never,
    /// Any combination of `SUCCESS`, `FAILURE`, `DELAY` (at least one is set).
    On {
        /// Report successful delivery.
        success: bool,
        /// Report failure.
        failure: bool,
        /// Report delay.
        delay: bool,
    },
}

/// `ORCPT=` of RCPT TO: the original recipient.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Orcpt {
    /// The address type as given, e.g. `rfc822` or `utf-8`.
    pub addr_type: String,
    /// The address, xtext-decoded.
    pub address: String,
}

/// The parameters of RCPT TO.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RcptParams {
    /// When to send a DSN.
    pub notify: Option<Notify>,
    /// The original recipient.
    pub orcpt: Option<Orcpt>,
}

/// Splits `input` into `(KEYWORD, value)` pairs, keywords upper-cased.
fn split_params(input: &str) -> impl Iterator<Item = Result<(String, Option<&str>), ParamError>> {
    input.split(' ').filter(|token| !token.is_empty()).map(|token| {
        let (keyword, value) = match token.split_once('=') {
            Some((keyword, value)) => (keyword, Some(value)),
            None => (token, None),
        };
        let valid = keyword.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && keyword.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if valid { Ok((keyword.to_ascii_uppercase(), value)) } else { Err(ParamError::Malformed) }
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, keyword: &str) -> Result<(), ParamError> {
    if slot.is_some() {
        return Err(ParamError::Duplicate(keyword.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

impl MailParams {
    /// Parses the text after the reverse-path.
    pub fn parse(input: &str) -> Result<MailParams, ParamError> {
        let mut params = MailParams::default();
        for param in split_params(input) {
            let (keyword, value) = param?;
            let bad = || ParamError::BadValue(keyword.clone());
            match keyword.as_str() {
                "SIZE" => {
                    let value =
                        value.filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()));
                    let size = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                    set_once(&mut params.size, size, &keyword)?;
                }
                "BODY" => {
                    let body = match value.map(str::to_ascii_uppercase).as_deref() {
                        Some("7BIT") => BodyType::SevenBit,
                        Some("8BITMIME") => BodyType::EightBitMime,
                        Some("BINARYMIME") => BodyType::BinaryMime,
                        _ => return Err(bad()),
                    };
                    set_once(&mut params.body, body, &keyword)?;
                }
                "SMTPUTF8" => {
                    if value.is_some() {
                        return Err(bad());
                    }
                    if params.smtputf8 {
                        return Err(ParamError::Duplicate(keyword));
                    }
                    params.smtputf8 = true;
                }
                "RET" => {
                    let ret = match value.map(str::to_ascii_uppercase).as_deref() {
                        Some("FULL") => Ret::Full,
                        Some("HDRS") => Ret::Headers,
                        _ => return Err(bad()),
                    };
                    set_once(&mut params.ret, ret, &keyword)?;
                }
                "ENVID" => {
                    let envid = value
                        .and_then(decode_xtext)
                        .filter(|v| !v.is_empty() && v.len() <= MAX_ENVID_LENGTH)
                        .ok_or_else(bad)?;
                    set_once(&mut params.envid, envid, &keyword)?;
                }
                "AUTH" => {
                    let auth = match value {
                        Some("<>") => MailAuth::Unknown,
                        Some(v) => MailAuth::Identity(decode_xtext(v).filter(|v| !v.is_empty()).ok_or_else(bad)?),
                        None => return Err(bad()),
                    };
                    set_once(&mut params.auth, auth, &keyword)?;
                }
                _ => return Err(ParamError::Unknown(keyword)),
            }
        }
        Ok(params)
    }
}

impl RcptParams {
    /// Parses the text after the forward-path.
    pub fn parse(input: &str) -> Result<RcptParams, ParamError> {
        let mut params = RcptParams::default();
        for param in split_params(input) {
            let (keyword, value) = param?;
            let bad = || ParamError::BadValue(keyword.clone());
            match keyword.as_str() {
                "NOTIFY" => {
                    let notify = parse_notify(value.ok_or_else(bad)?).ok_or_else(bad)?;
                    set_once(&mut params.notify, notify, &keyword)?;
                }
                "ORCPT" => {
                    let value = value.filter(|v| v.len() <= MAX_ORCPT_LENGTH * 3).ok_or_else(bad)?;
                    let (addr_type, address) = value.split_once(';').ok_or_else(bad)?;
                    let type_ok = !addr_type.is_empty()
                        && addr_type.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    let address = decode_xtext(address)
                        .filter(|a| type_ok && !a.is_empty() && a.len() <= MAX_ORCPT_LENGTH)
                        .ok_or_else(bad)?;
                    set_once(&mut params.orcpt, Orcpt { addr_type: addr_type.to_owned(), address }, &keyword)?;
                }
                _ => return Err(ParamError::Unknown(keyword)),
            }
        }
        Ok(params)
    }
}

fn parse_notify(value: &str) -> Option<Notify> {
    if value.eq_ignore_ascii_case("NEVER") {
        return Some(Notify::Never);
    }
    let (mut success, mut failure, mut delay) = (false, false, false);
    for item in value.split(',') {
        match item.to_ascii_uppercase().as_str() {
            "SUCCESS" => success = true,
            "FAILURE" => failure = true,
            "DELAY" => delay = true,
            _ => return None,
        }
    }
    Some(Notify::On { success, failure, delay })
}

impl fmt::Display for MailParams {
    /// The parameters as sent on the wire, each preceded by a space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(size) = self.size {
            write!(f, " SIZE={size}")?;
        }
        if let Some(body) = self.body {
            let body = match body {
                BodyType::SevenBit => "7BIT",
                BodyType::EightBitMime => "8BITMIME",
                BodyType::BinaryMime => "BINARYMIME",
            };
            write!(f, " BODY={body}")?;
        }
        if self.smtputf8 {
            f.write_str(" SMTPUTF8")?;
        }
        if let Some(ret) = self.ret {
            f.write_str(if ret == Ret::Full { " RET=FULL" } else { " RET=HDRS" })?;
        }
        if let Some(envid) = &self.envid {
            write!(f, " ENVID={}", encode_xtext(envid))?;
        }
        match &self.auth {
            Some(MailAuth::Unknown) => f.write_str(" AUTH=<>")?,
            Some(MailAuth::Identity(identity)) => write!(f, " AUTH={}", encode_xtext(identity))?,
            None => {}
        }
        Ok(())
    }
}

impl fmt::Display for RcptParams {
    /// The parameters as sent on the wire, each preceded by a space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.notify {
            Some(Notify::Never) => f.write_str(" NOTIFY=NEVER")?,
            Some(Notify::On { success, failure, delay }) => {
                let items: Vec<&str> = [(success, "SUCCESS"), (failure, "FAILURE"), (delay, "DELAY")]
                    .into_iter()
                    .filter_map(|(on, name)| on.then_some(name))
                    .collect();
                write!(f, " NOTIFY={}", items.join(","))?;
            }
            None => {}
        }
        if let Some(orcpt) = &self.orcpt {
            write!(f, " ORCPT={};{}", orcpt.addr_type, encode_xtext(&orcpt.address))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_params_table() {
        let full = MailParams {
            size: Some(1000),
            body: Some(BodyType::EightBitMime),
            smtputf8: true,
            ret: Some(Ret::Headers),
            envid: Some("QQ314159+x".into()),
            auth: Some(MailAuth::Identity("e+e@example.com".into())),
        };
        let cases: Vec<(&str, Result<MailParams, ParamError>)> = vec![
            ("", Ok(MailParams::default())),
            ("  ", Ok(MailParams::default())),
            (" SIZE=1000 body=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ314159+2Bx AUTH=e+2Be@example.com", Ok(full)),
            (" BODY=7BIT", Ok(MailParams { body: Some(BodyType::SevenBit), ..Default::default() })),
            (" BODY=BINARYMIME", Ok(MailParams { body: Some(BodyType::BinaryMime), ..Default::default() })),
            (" AUTH=<>", Ok(MailParams { auth: Some(MailAuth::Unknown), ..Default::default() })),
            (" SIZE=18446744073709551615", Ok(MailParams { size: Some(u64::MAX), ..Default::default() })),
            (" SIZE=18446744073709551616", Err(ParamError::BadValue("SIZE".into()))),
            (" SIZE=", Err(ParamError::BadValue("SIZE".into()))),
            (" SIZE", Err(ParamError::BadValue("SIZE".into()))),
            (" SIZE=-1", Err(ParamError::BadValue("SIZE".into()))),
            (" SIZE=1 SIZE=2", Err(ParamError::Duplicate("SIZE".into()))),
            (" SMTPUTF8 smtputf8", Err(ParamError::Duplicate("SMTPUTF8".into()))),
            (" SMTPUTF8=yes", Err(ParamError::BadValue("SMTPUTF8".into()))),
            (" BODY=9BIT", Err(ParamError::BadValue("BODY".into()))),
            (" RET=ALL", Err(ParamError::BadValue("RET".into()))),
            (" ENVID=a=b", Err(ParamError::BadValue("ENVID".into()))),
            (" ENVID=", Err(ParamError::BadValue("ENVID".into()))),
            (" AUTH=", Err(ParamError::BadValue("AUTH".into()))),
            (" XFOO=1", Err(ParamError::Unknown("XFOO".into()))),
            (" NOTIFY=NEVER", Err(ParamError::Unknown("NOTIFY".into()))),
            (" =1", Err(ParamError::Malformed)),
            (" -X=1", Err(ParamError::Malformed)),
        ];
        for (input, expected) in cases {
            assert_eq!(MailParams::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn rcpt_params_table() {
        let on = |success, failure, delay| Some(Notify::On { success, failure, delay });
        let cases: Vec<(&str, Result<RcptParams, ParamError>)> = vec![
            ("", Ok(RcptParams::default())),
            (" NOTIFY=NEVER", Ok(RcptParams { notify: Some(Notify::Never), orcpt: None })),
            (" notify=success,delay", Ok(RcptParams { notify: on(true, false, true), orcpt: None })),
            (" NOTIFY=FAILURE", Ok(RcptParams { notify: on(false, true, false), orcpt: None })),
            (
                " ORCPT=rfc822;a+2Bb@example.com NOTIFY=SUCCESS,FAILURE,DELAY",
                Ok(RcptParams {
                    notify: on(true, true, true),
                    orcpt: Some(Orcpt { addr_type: "rfc822".into(), address: "a+b@example.com".into() }),
                }),
            ),
            (" NOTIFY=NEVER,SUCCESS", Err(ParamError::BadValue("NOTIFY".into()))),
            (" NOTIFY=", Err(ParamError::BadValue("NOTIFY".into()))),
            (" NOTIFY=SOMETIMES", Err(ParamError::BadValue("NOTIFY".into()))),
            (" NOTIFY=NEVER NOTIFY=NEVER", Err(ParamError::Duplicate("NOTIFY".into()))),
            (" ORCPT=a@b", Err(ParamError::BadValue("ORCPT".into()))),
            (" ORCPT=;a@b", Err(ParamError::BadValue("ORCPT".into()))),
            (" ORCPT=rfc822;", Err(ParamError::BadValue("ORCPT".into()))),
            (" SIZE=10", Err(ParamError::Unknown("SIZE".into()))),
        ];
        for (input, expected) in cases {
            assert_eq!(RcptParams::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        let mail = MailParams::parse(" SIZE=5 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=a+2Bb AUTH=<>").unwrap();
        assert_eq!(MailParams::parse(&mail.to_string()).unwrap(), mail);
        let rcpt = RcptParams::parse(" NOTIFY=DELAY,FAILURE ORCPT=rfc822;x+3Dy@z").unwrap();
        assert_eq!(rcpt.to_string(), " NOTIFY=FAILURE,DELAY ORCPT=rfc822;x+3Dy@z");
        assert_eq!(RcptParams::parse(&rcpt.to_string()).unwrap(), rcpt);
    }
}
