//! Why a command line was refused, as a value. The session turns each variant into a reply
//! (`session::replies`): 500 for an unknown or unreadable command, 501 for bad arguments,
//! 555 for unknown or duplicate MAIL/RCPT parameters (RFC 5321 §4.1.1.11, §4.2.2).

use std::fmt;

use super::params::ParamError;
use super::path::PathError;

/// The commands this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `EHLO` (RFC 5321 §4.1.1.1).
    Ehlo,
    /// `HELO`.
    Helo,
    /// `MAIL FROM:`.
    Mail,
    /// `RCPT TO:`.
    Rcpt,
    /// `DATA`.
    Data,
    /// `BDAT` (RFC 3030).
    Bdat,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY`.
    Vrfy,
    /// `EXPN`.
    Expn,
    /// `HELP`.
    Help,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH` (RFC 4954).
    Auth,
    /// `ETRN` (RFC 1985).
    Etrn,
}

impl Verb {
    /// Recognises a verb, case-insensitively.
    pub fn parse(word: &str) -> Option<Verb> {
        const VERBS: [(&str, Verb); 15] = [
            ("EHLO", Verb::Ehlo),
            ("HELO", Verb::Helo),
            ("MAIL", Verb::Mail),
            ("RCPT", Verb::Rcpt),
            ("DATA", Verb::Data),
            ("BDAT", Verb::Bdat),
            ("RSET", Verb::Rset),
            ("NOOP", Verb::Noop),
            ("QUIT", Verb::Quit),
            ("VRFY", Verb::Vrfy),
            ("EXPN", Verb::Expn),
            ("HELP", Verb::Help),
            ("STARTTLS", Verb::StartTls),
            ("AUTH", Verb::Auth),
            ("ETRN", Verb::Etrn),
        ];
        VERBS.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|&(_, verb)| verb)
    }

    /// The verb as written on the wire, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Ehlo => "EHLO",
            Verb::Helo => "HELO",
            Verb::Mail => "MAIL",
            Verb::Rcpt => "RCPT",
            Verb::Data => "DATA",
            Verb::Bdat => "BDAT",
            Verb::Rset => "RSET",
            Verb::Noop => "NOOP",
            Verb::Quit => "QUIT",
            Verb::Vrfy => "VRFY",
            Verb::Expn => "EXPN",
            Verb::Help => "HELP",
            Verb::StartTls => "STARTTLS",
            Verb::Auth => "AUTH",
            Verb::Etrn => "ETRN",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// An empty line.
    #[error("empty command")]
    Empty,
    /// The line is not UTF-8.
    #[error("command is not valid UTF-8")]
    InvalidUtf8,
    /// The verb is not one this server knows.
    #[error("unrecognized command")]
    Unrecognized,
    /// The verb needs an argument and has none.
    #[error("{0} needs an argument")]
    MissingArgument(Verb),
    /// The verb takes no argument and got one.
    #[error("{0} takes no argument")]
    UnexpectedArgument(Verb),
    /// The argument is malformed (e.g. `MAIL` without `FROM:`, a control character in `EHLO`).
    #[error("syntax error in {0} argument")]
    BadArgument(Verb),
    /// The reverse-path of MAIL FROM is invalid.
    #[error("invalid sender address: {0}")]
    BadSender(PathError),
    /// The forward-path of RCPT TO is invalid.
    #[error("invalid recipient address: {0}")]
    BadRecipient(PathError),
    /// A MAIL or RCPT parameter was refused.
    #[error("{0}")]
    Param(#[from] ParamError),
}
