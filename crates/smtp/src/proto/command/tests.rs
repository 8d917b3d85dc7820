use proptest::prelude::*;

use super::*;
use crate::proto::{Domain, Notify, ParamError, PathError};

fn mailbox(local: &str, domain: &str) -> Mailbox {
    Mailbox::new(local, Some(Domain::parse(domain).unwrap()))
}

#[test]
fn parses_table() {
    let cases: Vec<(&[u8], Result<Command, CommandError>)> = vec![
        (b"EHLO client.example", Ok(Command::Ehlo("client.example".into()))),
        (b"ehlo [192.0.2.1]", Ok(Command::Ehlo("[192.0.2.1]".into()))),
        (b"HELO  x  ", Ok(Command::Helo("x".into()))),
        (b"EHLO", Err(CommandError::MissingArgument(Verb::Ehlo))),
        (b"EHLO   ", Err(CommandError::MissingArgument(Verb::Ehlo))),
        (b"EHLO a\x01", Err(CommandError::BadArgument(Verb::Ehlo))),
        (
            b"MAIL FROM:<a@example.com> SIZE=10",
            Ok(Command::Mail {
                from: ReversePath::Mailbox(mailbox("a", "example.com")),
                params: MailParams { size: Some(10), ..Default::default() },
            }),
        ),
        (b"mail from: <>", Ok(Command::Mail { from: ReversePath::Null, params: MailParams::default() })),
        (
            b"MAIL FROM:a@example.com",
            Ok(Command::Mail {
                from: ReversePath::Mailbox(mailbox("a", "example.com")),
                params: MailParams::default(),
            }),
        ),
        (b"MAIL FROM:", Err(CommandError::MissingArgument(Verb::Mail))),
        (b"MAIL", Err(CommandError::BadArgument(Verb::Mail))),
        (b"MAIL TO:<a@b>", Err(CommandError::BadArgument(Verb::Mail))),
        (b"MAIL FROM:<a@b.>", Err(CommandError::BadSender(PathError::BadDomain))),
        (b"MAIL FROM:<a@b> FOO=1", Err(CommandError::Param(ParamError::Unknown("FOO".into())))),
        (b"MAIL FROM:<a@b> SIZE=1 SIZE=1", Err(CommandError::Param(ParamError::Duplicate("SIZE".into())))),
        (
            b"RCPT TO:<b@example.com> NOTIFY=NEVER",
            Ok(Command::Rcpt {
                to: mailbox("b", "example.com"),
                params: RcptParams { notify: Some(Notify::Never), orcpt: None },
            }),
        ),
        (b"RCPT TO:<>", Err(CommandError::BadRecipient(PathError::NullNotAllowed))),
        (b"RCPT FROM:<a@b>", Err(CommandError::BadArgument(Verb::Rcpt))),
        (b"RCPT TO:<a@b> SIZE=1", Err(CommandError::Param(ParamError::Unknown("SIZE".into())))),
        (b"DATA", Ok(Command::Data)),
        (b"data ", Ok(Command::Data)),
        (b"DATA x", Err(CommandError::UnexpectedArgument(Verb::Data))),
        (b"BDAT 100", Ok(Command::Bdat { size: 100, last: false })),
        (b"BDAT 0 LAST", Ok(Command::Bdat { size: 0, last: true })),
        (b"bdat 007 last", Ok(Command::Bdat { size: 7, last: true })),
        (b"BDAT", Err(CommandError::MissingArgument(Verb::Bdat))),
        (b"BDAT -1", Err(CommandError::BadArgument(Verb::Bdat))),
        (b"BDAT 1 FIRST", Err(CommandError::BadArgument(Verb::Bdat))),
        (b"BDAT 1 LAST x", Err(CommandError::BadArgument(Verb::Bdat))),
        (b"BDAT 99999999999999999999999", Err(CommandError::BadArgument(Verb::Bdat))),
        (b"RSET", Ok(Command::Rset)),
        (b"RSET x", Err(CommandError::UnexpectedArgument(Verb::Rset))),
        (b"NOOP", Ok(Command::Noop)),
        (b"NOOP anything at all", Ok(Command::Noop)),
        (b"QUIT", Ok(Command::Quit)),
        (b"VRFY postmaster", Ok(Command::Vrfy("postmaster".into()))),
        (b"VRFY", Err(CommandError::MissingArgument(Verb::Vrfy))),
        (b"EXPN list", Ok(Command::Expn("list".into()))),
        (b"HELP", Ok(Command::Help(None))),
        (b"HELP MAIL", Ok(Command::Help(Some("MAIL".into())))),
        (b"STARTTLS", Ok(Command::StartTls)),
        (b"STARTTLS now", Err(CommandError::UnexpectedArgument(Verb::StartTls))),
        (b"AUTH plain", Ok(Command::Auth { mechanism: "PLAIN".into(), initial_response: None })),
        (
            b"AUTH PLAIN AGEAYg==",
            Ok(Command::Auth { mechanism: "PLAIN".into(), initial_response: Some("AGEAYg==".into()) }),
        ),
        (b"AUTH", Err(CommandError::MissingArgument(Verb::Auth))),
        (b"AUTH PLAIN a b", Err(CommandError::BadArgument(Verb::Auth))),
        (b"AUTH PL\xc3\xa4IN", Err(CommandError::BadArgument(Verb::Auth))),
        (b"ETRN example.com", Ok(Command::Etrn("example.com".into()))),
        (b"ETRN", Err(CommandError::MissingArgument(Verb::Etrn))),
        (b"", Err(CommandError::Empty)),
        (b"   ", Err(CommandError::Empty)),
        (b"FOO", Err(CommandError::Unrecognized)),
        (b" EHLO x", Err(CommandError::Unrecognized)),
        (b"MAIL\xff", Err(CommandError::InvalidUtf8)),
    ];
    for (line, expected) in cases {
        assert_eq!(parse_command(line), expected, "{:?}", String::from_utf8_lossy(line));
    }
}

#[test]
fn renders_commands() {
    let cases: &[(&[u8], &str)] = &[
        (b"mail from:<a@b.example> size=5 body=8bitmime", "MAIL FROM:<a@b.example> SIZE=5 BODY=8BITMIME"),
        (b"MAIL FROM:<>", "MAIL FROM:<>"),
        (b"rcpt to:<@r.example:\"x y\"@b.example>", "RCPT TO:<\"x y\"@b.example>"),
        (b"bdat 5 last", "BDAT 5 LAST"),
        (b"auth login", "AUTH LOGIN"),
        (b"noop x", "NOOP"),
    ];
    for (line, rendered) in cases {
        assert_eq!(parse_command(line).unwrap().to_string(), *rendered);
    }
}

proptest! {
    /// Parsing never panics, and whatever parses renders to a line that parses to the same command.
    #[test]
    fn parse_render_round_trip(line in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(command) = parse_command(&line) {
            let rendered = command.to_string();
            prop_assert_eq!(parse_command(rendered.as_bytes()), Ok(command));
        }
    }

    #[test]
    fn round_trip_on_smtp_alphabet(line in "(MAIL FROM:|RCPT TO:|EHLO |BDAT |AUTH )[<>@\"a-c. :,\\[\\]=+0-9A-Z\\\\]{0,40}") {
        if let Ok(command) = parse_command(line.as_bytes()) {
            let rendered = command.to_string();
            prop_assert_eq!(parse_command(rendered.as_bytes()), Ok(command));
        }
    }
}
