//! One or more unit tests per command: parse a complete command into its typed form.

use altimail_imap::ParseError;
use altimail_imap::command::*;
use altimail_imap::fetch::{FetchAttr, FetchModifier, Section, SectionText};
use altimail_imap::parse::{parse_command, parse_idle_done};
use altimail_imap::search::{SearchKey, SearchReturn};
use altimail_imap::sequence::{SeqBound::*, SequenceSet};

fn p(s: &str) -> CommandBody {
    let c = parse_command(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    assert_eq!(c.tag, "a1");
    c.body
}

fn bad(s: &str) -> ParseError {
    parse_command(s.as_bytes()).expect_err(s)
}

fn mb(s: &str) -> Mailbox {
    Mailbox(s.into())
}

fn set(r: &[(u32, u32)]) -> SequenceSet {
    SequenceSet::Ranges(r.iter().map(|&(a, b)| (Num(a), Num(b))).collect())
}

#[test]
fn simple_commands() {
    assert_eq!(p("a1 CAPABILITY\r\n"), CommandBody::Capability);
    assert_eq!(p("a1 noop\r\n"), CommandBody::Noop);
    assert_eq!(p("a1 LOGOUT\n"), CommandBody::Logout);
    assert_eq!(p("a1 STARTTLS\r\n"), CommandBody::StartTls);
    assert_eq!(p("a1 NAMESPACE\r\n"), CommandBody::Namespace);
    assert_eq!(p("a1 IDLE\r\n"), CommandBody::Idle);
    assert_eq!(p("a1 CHECK\r\n"), CommandBody::Check);
    assert_eq!(p("a1 CLOSE\r\n"), CommandBody::Close);
    assert_eq!(p("a1 UNSELECT\r\n"), CommandBody::Unselect);
    assert_eq!(p("a1 EXPUNGE\r\n"), CommandBody::Expunge { uids: None });
    assert_eq!(p("a1 UID EXPUNGE 3:5\r\n"), CommandBody::Expunge { uids: Some(set(&[(3, 5)])) });
    assert!(parse_idle_done(b"done\r\n").is_ok());
    assert!(parse_idle_done(b"DONE x\r\n").is_err());
}

#[test]
fn errors_are_values() {
    assert_eq!(bad("\r\n"), ParseError::MissingTag);
    assert_eq!(bad("a1\r\n"), ParseError::MissingTag);
    assert_eq!(bad("a1 FROB\r\n"), ParseError::UnknownCommand("FROB".into()));
    assert_eq!(bad("a1 UID NOOP\r\n"), ParseError::UnknownCommand("UID NOOP".into()));
    assert!(matches!(bad("a1 NOOP extra\r\n"), ParseError::Trailing(_)));
    assert!(matches!(bad("a1 NOOP"), ParseError::Trailing(_)));
    assert!(matches!(bad("a1 SELECT\r\n"), ParseError::Expected { .. }));
    assert!(matches!(bad("a1 LOGIN \"unterminated\r\n"), ParseError::Expected { .. }));
}

#[test]
fn authenticate_and_login() {
    assert_eq!(
        p("a1 AUTHENTICATE plain\r\n"),
        CommandBody::Authenticate { mechanism: "PLAIN".into(), initial_response: None }
    );
    assert_eq!(
        p("a1 AUTHENTICATE PLAIN AGJvYgBwdw==\r\n"),
        CommandBody::Authenticate { mechanism: "PLAIN".into(), initial_response: Some("AGJvYgBwdw==".into()) }
    );
    assert_eq!(
        p("a1 AUTHENTICATE PLAIN =\r\n"),
        CommandBody::Authenticate { mechanism: "PLAIN".into(), initial_response: Some("=".into()) }
    );
    assert_eq!(
        p("a1 LOGIN bob \"p\\\"w\\\\d\"\r\n"),
        CommandBody::Login { username: b"bob".to_vec(), password: b"p\"w\\d".to_vec() }
    );
    assert_eq!(
        p("a1 LOGIN {3}\r\nbob {4+}\r\np w\n\r\n"),
        CommandBody::Login { username: b"bob".to_vec(), password: b"p w\n".to_vec() }
    );
}

#[test]
fn enable() {
    assert_eq!(
        p("a1 ENABLE CONDSTORE utf8=accept\r\n"),
        CommandBody::Enable(vec!["CONDSTORE".into(), "UTF8=ACCEPT".into()])
    );
    assert!(parse_command(b"a1 ENABLE\r\n").is_err());
}

#[test]
fn select_examine() {
    assert_eq!(
        p("a1 SELECT inbox\r\n"),
        CommandBody::Select { mailbox: mb("INBOX"), read_only: false, params: vec![] }
    );
    assert_eq!(
        p("a1 EXAMINE \"Sent Items\" (CONDSTORE)\r\n"),
        CommandBody::Select { mailbox: mb("Sent Items"), read_only: true, params: vec![SelectParam::CondStore] }
    );
    assert_eq!(
        p("a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1,3,5 10,30,50)))\r\n"),
        CommandBody::Select {
            mailbox: mb("INBOX"),
            read_only: false,
            params: vec![SelectParam::QResync {
                uid_validity: 67890007,
                mod_seq: 20050715194045000,
                known_uids: Some(set(&[(41, 41), (43, 211), (214, 541)])),
                seq_match: Some((set(&[(1, 1), (3, 3), (5, 5)]), set(&[(10, 10), (30, 30), (50, 50)]))),
            }],
        }
    );
    assert_eq!(
        p("a1 SELECT INBOX (QRESYNC (1 2))\r\n"),
        CommandBody::Select {
            mailbox: mb("INBOX"),
            read_only: false,
            params: vec![SelectParam::QResync { uid_validity: 1, mod_seq: 2, known_uids: None, seq_match: None }],
        }
    );
    assert!(parse_command(b"a1 SELECT INBOX (QRESYNC (0 2))\r\n").is_err());
}

#[test]
fn mailbox_management() {
    assert_eq!(p("a1 CREATE Foo/Bar\r\n"), CommandBody::Create { mailbox: mb("Foo/Bar"), special_use: vec![] });
    assert_eq!(
        p("a1 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n"),
        CommandBody::Create { mailbox: mb("MySpecial"), special_use: vec!["\\Drafts".into(), "\\Sent".into()] }
    );
    assert_eq!(p("a1 DELETE \"a b\"\r\n"), CommandBody::Delete(mb("a b")));
    assert_eq!(p("a1 RENAME a {1}\r\nb\r\n"), CommandBody::Rename { from: mb("a"), to: mb("b") });
    assert_eq!(p("a1 SUBSCRIBE &U,BTFw-\r\n"), CommandBody::Subscribe(mb("&U,BTFw-")));
    assert_eq!(p("a1 UNSUBSCRIBE InBoX\r\n"), CommandBody::Unsubscribe(mb("INBOX")));
    assert_eq!(p("a1 DELETE INBOX.sub\r\n"), CommandBody::Delete(mb("INBOX.sub")));
    assert!(matches!(bad("a1 DELETE \"\\xff\"\r\n"), ParseError::Expected { .. }));
    assert!(matches!(parse_command(b"a1 DELETE {1}\r\n\xff\r\n"), Err(ParseError::InvalidUtf8(_))));
}

#[test]
fn list_and_lsub() {
    assert_eq!(
        p("a1 LIST \"\" *\r\n"),
        CommandBody::List { select: vec![], reference: "".into(), patterns: vec!["*".into()], returns: vec![] }
    );
    assert_eq!(
        p(
            "a1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX% \"Other Users/*\") RETURN (CHILDREN SPECIAL-USE SUBSCRIBED STATUS (MESSAGES UNSEEN))\r\n"
        ),
        CommandBody::List {
            select: vec![ListSelect::Subscribed, ListSelect::RecursiveMatch],
            reference: "".into(),
            patterns: vec!["INBOX%".into(), "Other Users/*".into()],
            returns: vec![
                ListReturn::Children,
                ListReturn::SpecialUse,
                ListReturn::Subscribed,
                ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen]),
            ],
        }
    );
    assert_eq!(
        p("a1 LIST () foo % RETURN ()\r\n"),
        CommandBody::List { select: vec![], reference: "foo".into(), patterns: vec!["%".into()], returns: vec![] }
    );
    assert_eq!(
        p("a1 LSUB \"#news.\" comp.%\r\n"),
        CommandBody::Lsub { reference: "#news.".into(), pattern: "comp.%".into() }
    );
    assert!(parse_command(b"a1 LIST \"\" * (FOO)\r\n").is_err());
}

#[test]
fn status() {
    assert_eq!(
        p("a1 STATUS blurdybloop (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ)\r\n"),
        CommandBody::Status {
            mailbox: mb("blurdybloop"),
            items: vec![
                StatusItem::Messages,
                StatusItem::UidNext,
                StatusItem::UidValidity,
                StatusItem::Unseen,
                StatusItem::Deleted,
                StatusItem::Size,
                StatusItem::Recent,
                StatusItem::HighestModSeq,
            ],
        }
    );
    assert!(parse_command(b"a1 STATUS x ()\r\n").is_err());
}

#[test]
fn append() {
    assert_eq!(
        p("a1 APPEND saved-messages (\\Seen $Junk) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n"),
        CommandBody::Append {
            mailbox: mb("saved-messages"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen, Flag::Keyword("$Junk".into())],
                date: Some(DateTime {
                    date: Date { year: 1994, month: 2, day: 7 },
                    hour: 21,
                    minute: 52,
                    second: 25,
                    zone_minutes: -480,
                }),
                data: b"hello".to_vec(),
                binary: false,
            }],
        }
    );
    let CommandBody::Append { messages, .. } = p("a1 APPEND INBOX {1+}\r\nA ~{2}\r\n\0B (\\Draft) {0}\r\n\r\n") else {
        panic!()
    };
    assert_eq!(messages.len(), 3);
    assert!(messages[1].binary);
    assert_eq!(messages[1].data, b"\0B");
    assert_eq!(messages[2].flags, vec![Flag::Draft]);
    assert!(parse_command(b"a1 APPEND INBOX\r\n").is_err());
    assert!(matches!(
        parse_command(b"a1 APPEND INBOX \"31-Foo-1994 21:52:25 -0800\" {0}\r\n\r\n"),
        Err(ParseError::BadDate(_))
    ));
    assert!(parse_command(b"a1 APPEND INBOX \"07-Feb-1994 25:52:25 -0800\" {0}\r\n\r\n").is_err());
    assert!(parse_command(b"a1 APPEND INBOX {5}\r\nhel\r\n").is_err());
}

#[test]
fn search() {
    use SearchKey as K;
    assert_eq!(
        p("a1 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
        CommandBody::Search {
            uid: false,
            returns: None,
            charset: None,
            criteria: vec![
                K::Flag(Flag::Flagged),
                K::Since(Date { year: 1994, month: 2, day: 1 }),
                K::Not(Box::new(K::Header("FROM".into(), b"Smith".to_vec()))),
            ],
        }
    );
    assert_eq!(
        p(
            "a1 UID SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 OR (1:* $) (UID 2,4:*) TEXT {7}\r\nstraße KEYWORD $Junk UNKEYWORD x\r\n"
        ),
        CommandBody::Search {
            uid: true,
            returns: Some(vec![
                SearchReturn::Min,
                SearchReturn::Max,
                SearchReturn::All,
                SearchReturn::Count,
                SearchReturn::Save
            ]),
            charset: Some("UTF-8".into()),
            criteria: vec![
                K::Or(
                    Box::new(K::And(vec![
                        K::Seq(SequenceSet::Ranges(vec![(Num(1), Star)])),
                        K::Seq(SequenceSet::Saved),
                    ])),
                    Box::new(K::And(vec![K::Uid(SequenceSet::Ranges(vec![(Num(2), Num(2)), (Num(4), Star)]))])),
                ),
                K::Text("stra\u{df}e".as_bytes().to_vec()),
                K::Flag(Flag::Keyword("$Junk".into())),
                K::NotFlag(Flag::Keyword("x".into())),
            ],
        }
    );
    assert_eq!(
        p(
            "a1 SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338 LARGER 10 SMALLER 20 HEADER X-Spam yes BODY b ON \"3-Mar-2020\"\r\n"
        ),
        CommandBody::Search {
            uid: false,
            returns: None,
            charset: None,
            criteria: vec![
                K::ModSeq(Some(("/flags/\\draft".into(), "ALL".into())), 620162338),
                K::Larger(10),
                K::Smaller(20),
                K::Header("X-Spam".into(), b"yes".to_vec()),
                K::Body(b"b".to_vec()),
                K::On(Date { year: 2020, month: 3, day: 3 }),
            ],
        }
    );
    for ok in [
        "ALL ANSWERED DELETED DRAFT SEEN RECENT NEW OLD UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
        "BCC a CC b TO c SUBJECT d BEFORE 1-Jan-2000 SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000",
        "MODSEQ 5",
        "RETURN () ALL",
    ] {
        parse_command(format!("a1 SEARCH {ok}\r\n").as_bytes()).unwrap();
    }
    for bad in ["", "FOO", "OR ALL", "NOT", "(ALL", "SINCE 1-Feb-94", "SINCE 32-Feb-1994", "LARGER x"] {
        assert!(parse_command(format!("a1 SEARCH {bad}\r\n").as_bytes()).is_err(), "{bad}");
    }
    let deep = format!("a1 SEARCH {}ALL\r\n", "NOT ".repeat(10_000));
    assert!(parse_command(deep.as_bytes()).is_err());
    let deep = format!("a1 SEARCH {}ALL{}\r\n", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_command(deep.as_bytes()).is_err());
}

#[test]
fn fetch() {
    use FetchAttr as F;
    let f = |s: &str| match p(s) {
        CommandBody::Fetch { attrs, modifiers, .. } => (attrs, modifiers),
        b => panic!("{b:?}"),
    };
    assert_eq!(f("a1 FETCH 1 ALL\r\n").0, vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope]);
    assert_eq!(f("a1 FETCH 1 fast\r\n").0, vec![F::Flags, F::InternalDate, F::Rfc822Size]);
    assert_eq!(f("a1 FETCH 1 FULL\r\n").0, vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope, F::Body]);
    assert_eq!(f("a1 FETCH 1 BODY\r\n").0, vec![F::Body]);
    assert_eq!(
        f("a1 FETCH 2:4 (UID FLAGS BODY[] BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[1.2.MIME] BODY[2.TEXT] BODY[1.HEADER.FIELDS.NOT (X)] BODY[3] RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE ENVELOPE BODYSTRUCTURE INTERNALDATE MODSEQ BINARY[1] BINARY.PEEK[]<5.10> BINARY.SIZE[1.1])\r\n").0,
        vec![
            F::Uid,
            F::Flags,
            F::BodySection { peek: false, section: Section::default(), partial: None },
            F::BodySection {
                peek: true,
                section: Section { part: vec![], text: Some(SectionText::HeaderFields(vec!["From".into(), "To".into()])) },
                partial: Some((0, 100)),
            },
            F::BodySection { peek: false, section: Section { part: vec![1, 2], text: Some(SectionText::Mime) }, partial: None },
            F::BodySection { peek: false, section: Section { part: vec![2], text: Some(SectionText::Text) }, partial: None },
            F::BodySection {
                peek: false,
                section: Section { part: vec![1], text: Some(SectionText::HeaderFieldsNot(vec!["X".into()])) },
                partial: None,
            },
            F::BodySection { peek: false, section: Section { part: vec![3], text: None }, partial: None },
            F::Rfc822,
            F::Rfc822Header,
            F::Rfc822Text,
            F::Rfc822Size,
            F::Envelope,
            F::BodyStructure,
            F::InternalDate,
            F::ModSeq,
            F::Binary { peek: false, part: vec![1], partial: None },
            F::Binary { peek: true, part: vec![], partial: Some((5, 10)) },
            F::BinarySize(vec![1, 1]),
        ]
    );
    assert_eq!(
        p("a1 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"),
        CommandBody::Fetch {
            uid: true,
            set: SequenceSet::Ranges(vec![(Num(300), Num(500))]),
            attrs: vec![F::Flags],
            modifiers: vec![FetchModifier::ChangedSince(12345), FetchModifier::Vanished],
        }
    );
    for bad in [
        "1 ()",
        "1 BODY[MIME]",
        "1 BODY[1.]",
        "1 BODY[]<1>",
        "1 BODY[]<0.0>",
        "1 FOO",
        "x FLAGS",
        "1 BODY[HEADER.FIELDS ()]",
    ] {
        assert!(parse_command(format!("a1 FETCH {bad}\r\n").as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn store() {
    assert_eq!(
        p("a1 STORE 2:4 +FLAGS (\\Deleted)\r\n"),
        CommandBody::Store {
            uid: false,
            set: set(&[(2, 4)]),
            unchanged_since: None,
            mode: StoreMode::Add,
            silent: false,
            flags: vec![Flag::Deleted],
        }
    );
    assert_eq!(
        p("a1 UID STORE 1 (UNCHANGEDSINCE 320162338) -FLAGS.SILENT \\Seen $Foo \\Custom\r\n"),
        CommandBody::Store {
            uid: true,
            set: set(&[(1, 1)]),
            unchanged_since: Some(320162338),
            mode: StoreMode::Remove,
            silent: true,
            flags: vec![Flag::Seen, Flag::Keyword("$Foo".into()), Flag::Extension("Custom".into())],
        }
    );
    assert_eq!(
        p("a1 STORE * FLAGS ()\r\n"),
        CommandBody::Store {
            uid: false,
            set: SequenceSet::Ranges(vec![(Star, Star)]),
            unchanged_since: None,
            mode: StoreMode::Replace,
            silent: false,
            flags: vec![],
        }
    );
    assert!(parse_command(b"a1 STORE 1 FLAGSX (\\Seen)\r\n").is_err());
}

#[test]
fn copy_move() {
    assert_eq!(
        p("a1 COPY 2:4 MEETING\r\n"),
        CommandBody::Copy { uid: false, set: set(&[(2, 4)]), mailbox: mb("MEETING") }
    );
    assert_eq!(
        p("a1 UID MOVE 42 Trash\r\n"),
        CommandBody::Move { uid: true, set: set(&[(42, 42)]), mailbox: mb("Trash") }
    );
    assert_eq!(
        p("a1 MOVE $ inbox\r\n"),
        CommandBody::Move { uid: false, set: SequenceSet::Saved, mailbox: mb("INBOX") }
    );
}

#[test]
fn id() {
    assert_eq!(p("a1 ID NIL\r\n"), CommandBody::Id(None));
    assert_eq!(
        p("a1 ID (\"name\" \"sodr\" \"version\" NIL)\r\n"),
        CommandBody::Id(Some(vec![("name".into(), Some("sodr".into())), ("version".into(), None)]))
    );
    assert_eq!(p("a1 ID ()\r\n"), CommandBody::Id(Some(vec![])));
}

#[test]
fn quota() {
    assert_eq!(p("a1 GETQUOTA \"\"\r\n"), CommandBody::GetQuota("".into()));
    assert_eq!(p("a1 GETQUOTAROOT INBOX\r\n"), CommandBody::GetQuotaRoot(mb("INBOX")));
}

#[test]
fn sort() {
    assert_eq!(
        p("a1 UID SORT (REVERSE DATE subject DISPLAYFROM) UTF-8 UNDELETED SINCE 1-Feb-1994\r\n"),
        CommandBody::Sort {
            uid: true,
            keys: vec![
                SortKey { reverse: true, key: SortBy::Date },
                SortKey { reverse: false, key: SortBy::Subject },
                SortKey { reverse: false, key: SortBy::DisplayFrom },
            ],
            charset: "UTF-8".into(),
            criteria: vec![SearchKey::NotFlag(Flag::Deleted), SearchKey::Since(Date { year: 1994, month: 2, day: 1 }),],
        }
    );
    assert!(parse_command(b"a1 SORT () UTF-8 ALL\r\n").is_err());
}

#[test]
fn thread() {
    assert_eq!(
        p("a1 UID THREAD references UTF-8 SINCE 5-MAR-2000\r\n"),
        CommandBody::Thread {
            uid: true,
            algorithm: "REFERENCES".into(),
            charset: "UTF-8".into(),
            criteria: vec![SearchKey::Since(Date { year: 2000, month: 3, day: 5 })],
        }
    );
    assert!(parse_command(b"a1 THREAD REFERENCES\r\n").is_err());
}

#[test]
fn tags() {
    assert_eq!(parse_command(b"x]1 NOOP\r\n").unwrap().tag, "x]1");
    assert_eq!(parse_command(b"+ NOOP\r\n"), Err(ParseError::MissingTag));
    assert_eq!(parse_command(b"* NOOP\r\n"), Err(ParseError::MissingTag));
}

#[test]
fn acl() {
    assert_eq!(p("a1 GETACL INBOX\r\n"), CommandBody::GetAcl(mb("INBOX")));
    assert_eq!(p("a1 MYRIGHTS \"#Public/x\"\r\n"), CommandBody::MyRights(mb("#Public/x")));
    assert_eq!(
        p("a1 SETACL INBOX fred +rwi\r\n"),
        CommandBody::SetAcl { mailbox: mb("INBOX"), identifier: "fred".into(), rights: "+rwi".into() }
    );
    assert_eq!(
        p("a1 DELETEACL INBOX fred\r\n"),
        CommandBody::DeleteAcl { mailbox: mb("INBOX"), identifier: "fred".into() }
    );
    assert_eq!(
        p("a1 LISTRIGHTS INBOX fred\r\n"),
        CommandBody::ListRights { mailbox: mb("INBOX"), identifier: "fred".into() }
    );
}

#[test]
fn tilde_is_an_atom_char_unless_a_binary_literal_follows() {
    assert_eq!(p("a1 SELECT ~foo\r\n"), CommandBody::Select { mailbox: mb("~foo"), read_only: false, params: vec![] });
    match p("a1 LIST \"\" ~foo\r\n") {
        CommandBody::List { patterns, .. } => assert_eq!(patterns, vec!["~foo".to_owned()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p("a1 SELECT ~{3}\r\nabc\r\n"),
        CommandBody::Select { mailbox: mb("abc"), read_only: false, params: vec![] }
    );
}
