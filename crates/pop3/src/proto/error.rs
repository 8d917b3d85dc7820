//! The POP3 command keywords and why a command line did not parse.

use std::fmt;

/// A POP3 command keyword (RFC 1939 §§4–7, RFC 2449, RFC 2595, RFC 5034), plus hMailServer's
/// `HELP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `USER name`
    User,
    /// `PASS password`
    Pass,
    /// `APOP name digest`
    Apop,
    /// `AUTH [mechanism [initial-response]]`
    Auth,
    /// `CAPA`
    Capa,
    /// `STLS`
    Stls,
    /// `STAT`
    Stat,
    /// `LIST [msg]`
    List,
    /// `RETR msg`
    Retr,
    /// `TOP msg n`
    Top,
    /// `UIDL [msg]`
    Uidl,
    /// `DELE msg`
    Dele,
    /// `RSET`
    Rset,
    /// `NOOP`
    Noop,
    /// `QUIT`
    Quit,
    /// `HELP` (hMailServer)
    Help,
}

impl Verb {
    /// Recognises a keyword, case-insensitively (RFC 1939 §3).
    pub fn parse(word: &str) -> Option<Verb> {
        const ALL: [Verb; 16] = [
            Verb::User,
            Verb::Pass,
            Verb::Apop,
            Verb::Auth,
            Verb::Capa,
            Verb::Stls,
            Verb::Stat,
            Verb::List,
            Verb::Retr,
            Verb::Top,
            Verb::Uidl,
            Verb::Dele,
            Verb::Rset,
            Verb::Noop,
            Verb::Quit,
            Verb::Help,
        ];
        ALL.into_iter().find(|verb| verb.as_str().eq_ignore_ascii_case(word))
    }

    /// The keyword in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::User => "USER",
            Verb::Pass => "PASS",
            Verb::Apop => "APOP",
            Verb::Auth => "AUTH",
            Verb::Capa => "CAPA",
            Verb::Stls => "STLS",
            Verb::Stat => "STAT",
            Verb::List => "LIST",
            Verb::Retr => "RETR",
            Verb::Top => "TOP",
            Verb::Uidl => "UIDL",
            Verb::Dele => "DELE",
            Verb::Rset => "RSET",
            Verb::Noop => "NOOP",
            Verb::Quit => "QUIT",
            Verb::Help => "HELP",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command line did not parse. Always the client's fault; the session answers `-ERR` and
/// goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is empty or only spaces.
    #[error("empty command")]
    Empty,
    /// The line is not UTF-8.
    #[error("command is not valid UTF-8")]
    InvalidUtf8,
    /// The keyword is not a POP3 command.
    #[error("unknown command")]
    Unrecognized,
    /// A required argument is missing.
    #[error("{0}: missing argument")]
    MissingArgument(Verb),
    /// More arguments than the command takes.
    #[error("{0}: too many arguments")]
    UnexpectedArgument(Verb),
    /// An argument has the wrong form (a message number that is not a number, an APOP digest
    /// that is not 32 hex digits).
    #[error("{0}: invalid argument")]
    BadArgument(Verb),
}
