//! Parsing one SMTP command line (RFC 5321 §4.1) into a [`Command`].
//!
//! The input is one line without its CRLF. Verbs are case-insensitive; the argument syntax is
//! strict where a mistake could change meaning (paths, parameters, BDAT sizes) and lenient where
//! real clients are sloppy and nothing depends on it (trailing spaces, a space after `FROM:`, a
//! path without angle brackets, any text after `EHLO`). Parsing never panics: every failure is
//! a [`CommandError`].
//!
//! `Display` writes a command back as it goes on the wire (without CRLF);
//! `parse_command(cmd.to_string())` gives `cmd` back, which the fuzz targets check.

use std::fmt;

use super::error::{CommandError, Verb};
use super::params::{MailParams, RcptParams};
use super::path::{Mailbox, ReversePath, parse_forward_path, parse_reverse_path};

/// One parsed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `EHLO <domain or literal>`; the argument as given.
    Ehlo(String),
    /// `HELO <domain>`; the argument as given.
    Helo(String),
    /// `MAIL FROM:<path> [params]`.
    Mail {
        /// The reverse-path.
        from: ReversePath,
        /// The ESMTP parameters.
        params: MailParams,
    },
    /// `RCPT TO:<path> [params]`.
    Rcpt {
        /// The forward-path, source route dropped.
        to: Mailbox,
        /// The ESMTP parameters.
        params: RcptParams,
    },
    /// `DATA`.
    Data,
    /// `BDAT <size> [LAST]` (RFC 3030).
    Bdat {
        /// Octets in the chunk that follows the command line.
        size: u64,
        /// The last chunk of the message.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `NOOP [string]`; the argument is ignored.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY <string>`.
    Vrfy(String),
    /// `EXPN <string>`.
    Expn(String),
    /// `HELP [topic]`.
    Help(Option<String>),
    /// `STARTTLS`.
    StartTls,
    /// `AUTH <mechanism> [initial-response]` (RFC 4954).
    Auth {
        /// The mechanism name, upper-cased.
        mechanism: String,
        /// The base64 initial response, undecoded (`=` stands for an empty one).
        initial_response: Option<String>,
    },
    /// `ETRN <node>` (RFC 1985): a domain, `@domain` or `#queue`.
    Etrn(String),
}

impl Command {
    /// The command's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Ehlo(_) => Verb::Ehlo,
            Command::Helo(_) => Verb::Helo,
            Command::Mail { .. } => Verb::Mail,
            Command::Rcpt { .. } => Verb::Rcpt,
            Command::Data => Verb::Data,
            Command::Bdat { .. } => Verb::Bdat,
            Command::Rset => Verb::Rset,
            Command::Noop => Verb::Noop,
            Command::Quit => Verb::Quit,
            Command::Vrfy(_) => Verb::Vrfy,
            Command::Expn(_) => Verb::Expn,
            Command::Help(_) => Verb::Help,
            Command::StartTls => Verb::StartTls,
            Command::Auth { .. } => Verb::Auth,
            Command::Etrn(_) => Verb::Etrn,
        }
    }
}

/// Parses one command line (without CRLF).
pub fn parse_command(line: &[u8]) -> Result<Command, CommandError> {
    let line = std::str::from_utf8(line).map_err(|_| CommandError::InvalidUtf8)?;
    let line = line.trim_end_matches([' ', '\t']);
    if line.is_empty() {
        return Err(CommandError::Empty);
    }
    let (word, argument) = match line.split_once(' ') {
        Some((word, argument)) => (word, argument.trim_start_matches(' ')),
        None => (line, ""),
    };
    let verb = Verb::parse(word).ok_or(CommandError::Unrecognized)?;
    let argument = (!argument.is_empty()).then_some(argument);
    match verb {
        Verb::Ehlo => Ok(Command::Ehlo(text_argument(verb, argument)?)),
        Verb::Helo => Ok(Command::Helo(text_argument(verb, argument)?)),
        Verb::Mail => parse_mail(argument.unwrap_or("")),
        Verb::Rcpt => parse_rcpt(argument.unwrap_or("")),
        Verb::Data => no_argument(verb, argument, Command::Data),
        Verb::Bdat => parse_bdat(argument),
        Verb::Rset => no_argument(verb, argument, Command::Rset),
        Verb::Noop => Ok(Command::Noop),
        Verb::Quit => no_argument(verb, argument, Command::Quit),
        Verb::Vrfy => Ok(Command::Vrfy(text_argument(verb, argument)?)),
        Verb::Expn => Ok(Command::Expn(text_argument(verb, argument)?)),
        Verb::Help => Ok(Command::Help(argument.map(|_| text_argument(verb, argument)).transpose()?)),
        Verb::StartTls => no_argument(verb, argument, Command::StartTls),
        Verb::Auth => parse_auth(argument),
        Verb::Etrn => Ok(Command::Etrn(text_argument(verb, argument)?)),
    }
}

fn no_argument(verb: Verb, argument: Option<&str>, command: Command) -> Result<Command, CommandError> {
    match argument {
        None => Ok(command),
        Some(_) => Err(CommandError::UnexpectedArgument(verb)),
    }
}

/// A free-text argument: required, printable (no control characters).
fn text_argument(verb: Verb, argument: Option<&str>) -> Result<String, CommandError> {
    let argument = argument.ok_or(CommandError::MissingArgument(verb))?;
    if argument.chars().any(char::is_control) {
        return Err(CommandError::BadArgument(verb));
    }
    Ok(argument.to_owned())
}

/// Strips a case-insensitive keyword such as `FROM:`.
fn strip_keyword<'a>(argument: &'a str, keyword: &str) -> Option<&'a str> {
    let head = argument.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword).then(|| argument.get(keyword.len()..).unwrap_or(""))
}

fn parse_mail(argument: &str) -> Result<Command, CommandError> {
    let path = strip_keyword(argument, "FROM:").ok_or(CommandError::BadArgument(Verb::Mail))?;
    if path.trim_start_matches(' ').is_empty() {
        return Err(CommandError::MissingArgument(Verb::Mail));
    }
    let (from, rest) = parse_reverse_path(path).map_err(CommandError::BadSender)?;
    Ok(Command::Mail { from, params: MailParams::parse(rest)? })
}

fn parse_rcpt(argument: &str) -> Result<Command, CommandError> {
    let path = strip_keyword(argument, "TO:").ok_or(CommandError::BadArgument(Verb::Rcpt))?;
    if path.trim_start_matches(' ').is_empty() {
        return Err(CommandError::MissingArgument(Verb::Rcpt));
    }
    let (to, rest) = parse_forward_path(path).map_err(CommandError::BadRecipient)?;
    Ok(Command::Rcpt { to, params: RcptParams::parse(rest)? })
}

/// Longest BDAT size accepted, in decimal digits (`u64::MAX` has 20).
const MAX_SIZE_DIGITS: usize = 20;

fn parse_bdat(argument: Option<&str>) -> Result<Command, CommandError> {
    let argument = argument.ok_or(CommandError::MissingArgument(Verb::Bdat))?;
    let mut words = argument.split(' ').filter(|w| !w.is_empty());
    let size = words
        .next()
        .filter(|w| w.len() <= MAX_SIZE_DIGITS && w.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|w| w.parse().ok())
        .ok_or(CommandError::BadArgument(Verb::Bdat))?;
    let last = match words.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(CommandError::BadArgument(Verb::Bdat)),
    };
    match words.next() {
        None => Ok(Command::Bdat { size, last }),
        Some(_) => Err(CommandError::BadArgument(Verb::Bdat)),
    }
}

fn parse_auth(argument: Option<&str>) -> Result<Command, CommandError> {
    let argument = argument.ok_or(CommandError::MissingArgument(Verb::Auth))?;
    let mut words = argument.split(' ').filter(|w| !w.is_empty());
    let mechanism = words.next().ok_or(CommandError::MissingArgument(Verb::Auth))?;
    let valid_name = |w: &str| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name(mechanism) {
        return Err(CommandError::BadArgument(Verb::Auth));
    }
    let initial_response = words.next().map(str::to_owned);
    if initial_response.as_deref().is_some_and(|r| !r.chars().all(|c| c.is_ascii_graphic())) || words.next().is_some() {
        return Err(CommandError::BadArgument(Verb::Auth));
    }
    Ok(Command::Auth { mechanism: mechanism.to_ascii_uppercase(), initial_response })
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = self.verb();
        match self {
            Command::Ehlo(text)
            | Command::Helo(text)
            | Command::Vrfy(text)
            | Command::Expn(text)
            | Command::Etrn(text) => {
                write!(f, "{verb} {text}")
            }
            Command::Mail { from, params } => write!(f, "MAIL FROM:<{from}>{params}"),
            Command::Rcpt { to, params } => write!(f, "RCPT TO:<{to}>{params}"),
            Command::Bdat { size, last: true } => write!(f, "BDAT {size} LAST"),
            Command::Bdat { size, last: false } => write!(f, "BDAT {size}"),
            Command::Help(Some(topic)) => write!(f, "HELP {topic}"),
            Command::Auth { mechanism, initial_response: Some(response) } => write!(f, "AUTH {mechanism} {response}"),
            Command::Auth { mechanism, initial_response: None } => write!(f, "AUTH {mechanism}"),
            Command::Data | Command::Rset | Command::Noop | Command::Quit | Command::Help(None) | Command::StartTls => {
                f.write_str(verb.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests;
