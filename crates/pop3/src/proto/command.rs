//! POP3 command lines (RFC 1939 §3): a case-insensitive keyword, then arguments separated by
//! spaces.
//!
//! Parsing is lenient where that harms nobody — runs of spaces between arguments, trailing
//! spaces — and strict where a wrong guess would act on the wrong message: message numbers are
//! digits only, `TOP` needs both of its numbers. `PASS` takes everything after the first space,
//! spaces included, as RFC 1939 §7 allows (and hMailServer does), so a password is never cut.

use super::credentials::Secret;
use super::error::{CommandError, Verb};

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `USER name`: the rest of the line, trimmed.
    User(String),
    /// `PASS password`: the rest of the line after the first space, verbatim.
    Pass(Secret),
    /// `APOP name digest` (RFC 1939 §7): the digest is 32 hex digits, kept as sent.
    Apop {
        /// The mailbox name; everything before the last space.
        name: String,
        /// MD5 of the greeting's timestamp followed by the password, in hex.
        digest: String,
    },
    /// `AUTH [mechanism [initial-response]]` (RFC 5034); without a mechanism the client asks
    /// for the list of mechanisms.
    Auth {
        /// The SASL mechanism name, as sent.
        mechanism: Option<String>,
        /// The base64 initial response (`=` for an empty one).
        initial_response: Option<String>,
    },
    /// `CAPA` (RFC 2449).
    Capa,
    /// `STLS` (RFC 2595).
    Stls,
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<u32>),
    /// `RETR msg`.
    Retr(u32),
    /// `TOP msg n`.
    Top {
        /// The message number.
        message: u32,
        /// Body lines to send after the header.
        lines: u32,
    },
    /// `UIDL [msg]`.
    Uidl(Option<u32>),
    /// `DELE msg`.
    Dele(u32),
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `HELP` (hMailServer; any argument is ignored).
    Help,
}

impl Command {
    /// The command's keyword.
    pub fn verb(&self) -> Verb {
        match self {
            Command::User(_) => Verb::User,
            Command::Pass(_) => Verb::Pass,
            Command::Apop { .. } => Verb::Apop,
            Command::Auth { .. } => Verb::Auth,
            Command::Capa => Verb::Capa,
            Command::Stls => Verb::Stls,
            Command::Stat => Verb::Stat,
            Command::List(_) => Verb::List,
            Command::Retr(_) => Verb::Retr,
            Command::Top { .. } => Verb::Top,
            Command::Uidl(_) => Verb::Uidl,
            Command::Dele(_) => Verb::Dele,
            Command::Rset => Verb::Rset,
            Command::Noop => Verb::Noop,
            Command::Quit => Verb::Quit,
            Command::Help => Verb::Help,
        }
    }
}

/// Parses one command line, without its line ending.
///
/// # Errors
///
/// [`CommandError`] says what is wrong; the line is never partly acted on.
pub fn parse_command(line: &[u8]) -> Result<Command, CommandError> {
    let line = std::str::from_utf8(line).map_err(|_| CommandError::InvalidUtf8)?;
    let trimmed = line.trim_start_matches(' ');
    let (keyword, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    if keyword.is_empty() {
        return Err(CommandError::Empty);
    }
    let verb = Verb::parse(keyword).ok_or(CommandError::Unrecognized)?;
    let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
    let command = match verb {
        Verb::User => {
            let name = rest.trim_matches(' ');
            if name.is_empty() {
                return Err(CommandError::MissingArgument(verb));
            }
            Command::User(name.to_owned())
        }
        Verb::Pass => {
            if rest.is_empty() {
                return Err(CommandError::MissingArgument(verb));
            }
            Command::Pass(Secret::new(rest))
        }
        Verb::Apop => parse_apop(rest)?,
        Verb::Auth => match args.as_slice() {
            [] => Command::Auth { mechanism: None, initial_response: None },
            [mechanism] => Command::Auth { mechanism: Some((*mechanism).to_owned()), initial_response: None },
            [mechanism, response] => Command::Auth {
                mechanism: Some((*mechanism).to_owned()),
                initial_response: Some((*response).to_owned()),
            },
            _ => return Err(CommandError::UnexpectedArgument(verb)),
        },
        Verb::List => Command::List(optional_number(verb, &args)?),
        Verb::Uidl => Command::Uidl(optional_number(verb, &args)?),
        Verb::Retr => Command::Retr(one_number(verb, &args)?),
        Verb::Dele => Command::Dele(one_number(verb, &args)?),
        Verb::Top => match args.as_slice() {
            [message, lines] => Command::Top { message: number(verb, message)?, lines: number(verb, lines)? },
            [] | [_] => return Err(CommandError::MissingArgument(verb)),
            _ => return Err(CommandError::UnexpectedArgument(verb)),
        },
        Verb::Help => Command::Help,
        Verb::Capa | Verb::Stls | Verb::Stat | Verb::Rset | Verb::Noop | Verb::Quit => {
            if !args.is_empty() {
                return Err(CommandError::UnexpectedArgument(verb));
            }
            match verb {
                Verb::Capa => Command::Capa,
                Verb::Stls => Command::Stls,
                Verb::Stat => Command::Stat,
                Verb::Rset => Command::Rset,
                Verb::Noop => Command::Noop,
                _ => Command::Quit,
            }
        }
    };
    Ok(command)
}

/// `APOP name digest`: the name runs to the last space (it may contain spaces itself).
fn parse_apop(rest: &str) -> Result<Command, CommandError> {
    let rest = rest.trim_matches(' ');
    let Some((name, digest)) = rest.rsplit_once(' ') else {
        return Err(CommandError::MissingArgument(Verb::Apop));
    };
    let name = name.trim_end_matches(' ');
    if name.is_empty() {
        return Err(CommandError::MissingArgument(Verb::Apop));
    }
    if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CommandError::BadArgument(Verb::Apop));
    }
    Ok(Command::Apop { name: name.to_owned(), digest: digest.to_owned() })
}

/// A message number or line count: digits only (no sign), fitting in 32 bits.
fn number(verb: Verb, text: &str) -> Result<u32, CommandError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CommandError::BadArgument(verb));
    }
    text.parse().map_err(|_| CommandError::BadArgument(verb))
}

fn one_number(verb: Verb, args: &[&str]) -> Result<u32, CommandError> {
    match args {
        [n] => number(verb, n),
        [] => Err(CommandError::MissingArgument(verb)),
        _ => Err(CommandError::UnexpectedArgument(verb)),
    }
}

fn optional_number(verb: Verb, args: &[&str]) -> Result<Option<u32>, CommandError> {
    match args {
        [] => Ok(None),
        [n] => number(verb, n).map(Some),
        _ => Err(CommandError::UnexpectedArgument(verb)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let digest = "c4c9334bac560ecc979e58001b3e22fb";
        let cases: Vec<(&str, Command)> = vec![
            ("USER john@example.com", Command::User("john@example.com".into())),
            ("user  John Smith ", Command::User("John Smith".into())),
            ("PASS secret", Command::Pass(Secret::new("secret"))),
            ("pass  two words ", Command::Pass(Secret::new(" two words "))),
            (
                "APOP mrose c4c9334bac560ecc979e58001b3e22fb",
                Command::Apop { name: "mrose".into(), digest: digest.into() },
            ),
            (
                "APOP John Smith C4C9334BAC560ECC979E58001B3E22FB",
                Command::Apop { name: "John Smith".into(), digest: digest.to_ascii_uppercase() },
            ),
            ("AUTH", Command::Auth { mechanism: None, initial_response: None }),
            ("AUTH PLAIN", Command::Auth { mechanism: Some("PLAIN".into()), initial_response: None }),
            (
                "auth plain AGpvaG4Ac2VjcmV0",
                Command::Auth { mechanism: Some("plain".into()), initial_response: Some("AGpvaG4Ac2VjcmV0".into()) },
            ),
            ("CAPA", Command::Capa),
            ("stls", Command::Stls),
            ("STAT", Command::Stat),
            ("STAT ", Command::Stat),
            ("LIST", Command::List(None)),
            ("LIST 2", Command::List(Some(2))),
            ("RETR 1", Command::Retr(1)),
            ("TOP 1 0", Command::Top { message: 1, lines: 0 }),
            ("TOP  7   10 ", Command::Top { message: 7, lines: 10 }),
            ("UIDL", Command::Uidl(None)),
            ("UIDL 3", Command::Uidl(Some(3))),
            ("DELE 4294967295", Command::Dele(u32::MAX)),
            ("RSET", Command::Rset),
            ("NOOP", Command::Noop),
            ("QUIT", Command::Quit),
            ("HELP me", Command::Help),
            (" NOOP", Command::Noop),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_command(line.as_bytes()), Ok(expected.clone()), "{line}");
            assert_eq!(Verb::parse(expected.verb().as_str()), Some(expected.verb()));
        }
    }

    #[test]
    fn refuses_malformed_commands() {
        use CommandError::*;
        let cases: &[(&[u8], CommandError)] = &[
            (b"", Empty),
            (b"   ", Empty),
            (b"\xff\xfe", InvalidUtf8),
            (b"PASS \xff", InvalidUtf8),
            (b"XTND XMIT", Unrecognized),
            (b"LAST", Unrecognized),
            (b"USER", MissingArgument(Verb::User)),
            (b"USER   ", MissingArgument(Verb::User)),
            (b"PASS", MissingArgument(Verb::Pass)),
            (b"APOP", MissingArgument(Verb::Apop)),
            (b"APOP mrose", MissingArgument(Verb::Apop)),
            (b"APOP mrose c4c9334bac560ecc979e58001b3e22f", BadArgument(Verb::Apop)),
            (b"APOP mrose c4c9334bac560ecc979e58001b3e22fx", BadArgument(Verb::Apop)),
            (b"AUTH PLAIN a b", UnexpectedArgument(Verb::Auth)),
            (b"STAT 1", UnexpectedArgument(Verb::Stat)),
            (b"QUIT now", UnexpectedArgument(Verb::Quit)),
            (b"LIST 1 2", UnexpectedArgument(Verb::List)),
            (b"LIST x", BadArgument(Verb::List)),
            (b"LIST -1", BadArgument(Verb::List)),
            (b"LIST +1", BadArgument(Verb::List)),
            (b"RETR", MissingArgument(Verb::Retr)),
            (b"RETR 4294967296", BadArgument(Verb::Retr)),
            (b"RETR 1x", BadArgument(Verb::Retr)),
            (b"TOP 1", MissingArgument(Verb::Top)),
            (b"TOP 1 2 3", UnexpectedArgument(Verb::Top)),
            (b"TOP 1 -2", BadArgument(Verb::Top)),
            (b"DELE", MissingArgument(Verb::Dele)),
            (b"UIDL \xc3\xa4", BadArgument(Verb::Uidl)),
        ];
        for (line, error) in cases {
            assert_eq!(parse_command(line), Err(*error), "{}", String::from_utf8_lossy(line));
        }
    }
}
