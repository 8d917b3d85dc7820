//! The commands of RFC 1939 in order, as a client uses them.

use super::*;

const CAPA_BEFORE_LOGON: &str = "+OK CAPA list follows\r\nTOP\r\nUSER\r\nSASL PLAIN\r\nUIDL\r\nRESP-CODES\r\n\
AUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Altimail\r\n.\r\n";

#[test]
fn a_whole_session() {
    let mut h = Harness::new(config());
    assert_eq!(h.greeting, "+OK POP3\r\n");
    assert_eq!(h.send("CAPA\r\n"), CAPA_BEFORE_LOGON);
    assert_eq!(h.send("STAT\r\n"), "-ERR Invalid command in current state.\r\n");
    assert_eq!(h.send("USER john@example.com\r\n"), "+OK Send your password\r\n");
    assert_eq!(h.send("PASS secret\r\n"), "+OK Mailbox locked and ready\r\n");
    assert_eq!(h.events, ["open john@example.com"]);
    assert_eq!(h.session.authenticated_user(), Some("john@example.com"));

    assert_eq!(h.send("STAT\r\n"), "+OK 4 2078\r\n");
    assert_eq!(h.send("LIST\r\n"), "+OK 4 messages (2078 octets)\r\n1 37\r\n2 43\r\n3 999\r\n4 999\r\n.\r\n");
    assert_eq!(h.send("LIST 2\r\n"), "+OK 2 43\r\n");
    assert_eq!(h.send("UIDL\r\n"), "+OK 4 messages (2078 octets)\r\n1 101\r\n2 102\r\n3 103\r\n4 104\r\n.\r\n");
    assert_eq!(h.send("UIDL 3\r\n"), "+OK 3 103\r\n");
    assert_eq!(h.send("RETR 1\r\n"), "+OK 37 octets\r\nSubject: one\r\n\r\nHello\r\n..dot line\r\nbye\r\n.\r\n");
    assert_eq!(h.send("TOP 2 1\r\n"), "+OK Top of message follows\r\nSubject: two\r\nX: y\r\n\r\nline 1\r\n.\r\n");
    assert_eq!(h.send("TOP 1 0\r\n"), "+OK Top of message follows\r\nSubject: one\r\n\r\n.\r\n");

    assert_eq!(h.send("DELE 1\r\n"), "+OK msg deleted\r\n");
    for again in ["DELE 1", "RETR 1", "TOP 1 5", "LIST 1", "UIDL 1"] {
        assert_eq!(h.send(format!("{again}\r\n")), "-ERR Message 1 already deleted\r\n", "{again}");
    }
    assert_eq!(h.send("STAT\r\n"), "+OK 3 2041\r\n");
    assert_eq!(h.send("LIST\r\n"), "+OK 3 messages (2041 octets)\r\n2 43\r\n3 999\r\n4 999\r\n.\r\n");
    assert_eq!(h.send("RSET\r\n"), "+OK maildrop has 4 messages (2078 octets)\r\n");
    assert_eq!(h.send("DELE 2\r\nDELE 4\r\n"), "+OK msg deleted\r\n+OK msg deleted\r\n");

    assert_eq!(
        h.send("CAPA\r\n"),
        "+OK CAPA list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n\
         IMPLEMENTATION Altimail\r\n.\r\n"
    );
    assert_eq!(h.send("NOOP\r\n"), "+OK\r\n");
    assert_eq!(h.send("HELP\r\n"), "+OK Normal POP3 commands allowed\r\n");
    assert_eq!(h.send("QUIT\r\n"), "+OK POP3 server saying goodbye...\r\n");
    assert_eq!(h.events, ["open john@example.com", "commit [12, 14]", "close"]);
    assert!(h.session.is_closed());
    assert_eq!(h.send("NOOP\r\n"), "", "nothing after QUIT");
}

#[test]
fn quit_before_logon_says_goodbye() {
    let mut h = Harness::new(config());
    assert_eq!(h.send("QUIT\r\n"), "+OK POP3 server saying goodbye...\r\n");
    assert_eq!(h.events, ["close"]);
}

#[test]
fn commands_in_the_wrong_state_are_refused() {
    let mut h = Harness::new(config());
    for command in ["STAT", "LIST", "LIST 1", "RETR 1", "TOP 1 1", "UIDL", "DELE 1", "RSET"] {
        assert_eq!(h.send(format!("{command}\r\n")), "-ERR Invalid command in current state.\r\n", "{command}");
    }
    let mut h = Harness::logged_in();
    for command in ["USER a@b", "PASS x", "APOP a c4c9334bac560ecc979e58001b3e22fb", "AUTH PLAIN", "AUTH", "STLS"] {
        assert_eq!(h.send(format!("{command}\r\n")), "-ERR Invalid command in current state.\r\n", "{command}");
    }
    assert!(h.credentials.len() == 1, "no second logon attempt");
}

#[test]
fn bad_commands_get_err_and_the_session_goes_on() {
    let mut h = Harness::logged_in();
    let cases = [
        ("", "-ERR Empty command."),
        ("XYZZY", "-ERR Unknown command."),
        ("LAST", "-ERR Unknown command."),
        ("RETR", "-ERR Syntax: RETR msg"),
        ("RETR one", "-ERR Syntax: RETR msg"),
        ("TOP 1", "-ERR Syntax: TOP msg lines"),
        ("LIST 1 2", "-ERR Syntax: LIST [msg]"),
        ("DELE -1", "-ERR Syntax: DELE msg"),
        ("STAT now", "-ERR Syntax: STAT"),
        ("RETR 0", "-ERR No such message"),
        ("RETR 5", "-ERR No such message"),
        ("LIST 4294967295", "-ERR No such message"),
        ("UIDL 9", "-ERR No such message"),
        ("DELE 5", "-ERR No such message"),
    ];
    for (line, response) in cases {
        assert_eq!(h.send(format!("{line}\r\n")), format!("{response}\r\n"), "{line:?}");
    }
    let mut binary = Harness::logged_in();
    assert_eq!(binary.send(b"RETR \xff\r\n"), "-ERR Command is not valid UTF-8.\r\n");
    assert_eq!(h.send("STAT\r\n"), "+OK 4 2078\r\n");
}

#[test]
fn commands_are_case_insensitive_and_bare_lf_is_accepted() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.send("user john@example.com\npass secret\nstat\n"),
        "+OK Send your password\r\n+OK Mailbox locked and ready\r\n+OK 4 2078\r\n"
    );
}

#[test]
fn pipelined_commands_answer_in_order() {
    let script = "USER john@example.com\r\nPASS secret\r\nSTAT\r\nRETR 3\r\nRETR 2\r\nTOP 1 0\r\nDELE 1\r\nQUIT\r\n";
    let mut one_by_one = Harness::new(config());
    let sequential: String = script.split_inclusive("\r\n").map(|line| one_by_one.send(line)).collect();
    let mut pipelined = Harness::new(config());
    assert_eq!(pipelined.send(script), sequential);
    assert_eq!(pipelined.events, one_by_one.events);
    assert_eq!(
        statuses(&sequential),
        ["+OK", "+OK", "+OK", "-ERR [SYS/PERM]", "+OK", "+OK", "+OK", "+OK"],
        "{sequential}"
    );
    assert!(pipelined.closed());
}

#[test]
fn the_greeting_follows_the_setting() {
    let mut config = config();
    config.greeting = "  Welcome to mail.example.com ".into();
    assert_eq!(Harness::new(config.clone()).greeting, "+OK Welcome to mail.example.com\r\n");
    config.apop_timestamp = Some(TIMESTAMP.into());
    assert_eq!(Harness::new(config).greeting, format!("+OK Welcome to mail.example.com {TIMESTAMP}\r\n"));
}

#[test]
fn answers_out_of_turn_change_nothing() {
    let mut h = Harness::new(config());
    assert_eq!(h.session.auth_result(Ok("x".into())), Err(UnexpectedAnswer("auth_result")));
    assert_eq!(h.session.mailbox_opened(Ok(Vec::new())), Err(UnexpectedAnswer("mailbox_opened")));
    assert_eq!(h.session.message_opened(Ok(())), Err(UnexpectedAnswer("message_opened")));
    assert_eq!(h.session.committed(Ok(())), Err(UnexpectedAnswer("committed")));
    assert_eq!(h.session.tls_started(), Err(UnexpectedAnswer("tls_started")));
    assert_eq!(h.drive(), "");
    h.session.handle_input(b"USER john@example.com\r\nPASS secret\r\n");
    // The session now waits for `auth_result`; other answers are refused and it keeps waiting.
    let mut actions = Vec::new();
    while let Some(action) = h.session.poll_action() {
        actions.push(action);
    }
    assert!(matches!(actions.last(), Some(Action::Authenticate(_))));
    assert!(!h.session.wants_input());
    assert_eq!(h.session.mailbox_opened(Ok(Vec::new())), Err(UnexpectedAnswer("mailbox_opened")));
    assert_eq!(h.session.auth_result(Ok("john@example.com".into())), Ok(()));
    assert!(matches!(h.session.poll_action(), Some(Action::OpenMailbox(user)) if user == "john@example.com"));
}
