//! IMAP commands whose text or size is hostile: a mailbox pattern of 30,000 wildcards, names the
//! server once sliced or subtracted wrongly, and a 4 GB literal announced before logon.

use std::time::{Duration, Instant};

use crate::common::LineClient;
use crate::support::Target;

/// An IMAP session logged on as john.
fn logged_on(t: &Target) -> LineClient {
    let (mut c, greeting) = LineClient::connect(t.ports.imap);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let lines = c.ask_all("l LOGIN john@example.com secret-pw");
    assert!(lines.last().unwrap().starts_with("l OK"), "{lines:?}");
    c
}

/// Sends `tag command` and returns the line that ends its answer: the tagged one, a `* BYE`,
/// or "" when the server closed (or said nothing within the client's read timeout).
fn answer(c: &mut LineClient, tag: &str, command: &str) -> String {
    c.send(&format!("{tag} {command}\r\n"));
    loop {
        match c.try_line() {
            Ok(line) if line.starts_with(&format!("{tag} ")) || line.starts_with("* BYE") || line.is_empty() => {
                return line;
            }
            Ok(_) => continue,
            Err(_) => return String::new(),
        }
    }
}

/// A tagged OK, NO or BAD, or a `* BYE`: any answer but silence.
fn is_protocol_answer(line: &str, tag: &str) -> bool {
    ["OK", "NO", "BAD"].iter().any(|s| line.starts_with(&format!("{tag} {s}"))) || line.starts_with("* BYE")
}

#[test]
fn imap_list_pattern_of_30000_wildcards() {
    let mut t = Target::start(|_| {});
    let mut c = logged_on(&t);
    let pattern = format!("{}x", "*".repeat(30_000));
    let started = Instant::now();
    let last = answer(&mut c, "a", &format!("LIST \"\" \"{pattern}\""));
    t.assert_up("LIST with 30,000 wildcards");
    assert!(is_protocol_answer(&last, "a"), "no answer to the LIST: {last:?}\n{}", t.stderr_tail());
    assert!(started.elapsed() < Duration::from_secs(10), "the LIST took {:?}", started.elapsed());
    t.assert_healthy("after LIST with 30,000 wildcards");
}

#[test]
fn imap_public_names_and_multibyte_patterns_get_tagged_answers() {
    let mut t = Target::start(|_| {});
    let mut setup = logged_on(&t);
    assert!(answer(&mut setup, "c", "CREATE x").starts_with("c OK"));
    // One session per command: a command that kills its session must not hide the next one.
    for command in ["CREATE #Public", "RENAME x #Public", "LIST \"\" \"abcdé\"", "LIST \"\" \"é*\"", "CREATE é"] {
        let mut c = logged_on(&t);
        let last = answer(&mut c, "a", command);
        t.assert_up(command);
        assert!(
            ["OK", "NO", "BAD"].iter().any(|s| last.starts_with(&format!("a {s}"))),
            "{command}: no tagged answer: {last:?}\n{}",
            t.stderr_tail()
        );
        // The session goes on.
        assert!(answer(&mut c, "b", "NOOP").starts_with("b OK"), "{command}: the session did not go on");
    }
    t.assert_healthy("after odd mailbox names");
}

#[test]
fn imap_literal_of_4_gb_before_logon_gets_bye() {
    let mut t = Target::start(|_| {});
    // A non-synchronising literal is on its way already: the only answer is to end the session.
    let (mut c, greeting) = LineClient::connect(t.ports.imap);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    c.writer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let last = answer(&mut c, "a", "LOGIN {4000000000+}");
    t.assert_up("LITERAL+ of 4 GB");
    // The command may be refused with its tag first; the BYE must follow at once.
    let bye = if last.starts_with("a NO") { c.try_line().unwrap_or_default() } else { last.clone() };
    assert!(bye.starts_with("* BYE"), "no * BYE within 5 s: {last:?} then {bye:?}");
    assert_eq!(c.try_line().unwrap_or_default(), "", "the session stays open after its BYE");

    // A synchronising one can simply be refused (the client waits for a continuation).
    let (mut c, _) = LineClient::connect(t.ports.imap);
    c.writer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let last = answer(&mut c, "a", "LOGIN {4000000000}");
    t.assert_up("synchronising literal of 4 GB");
    assert!(is_protocol_answer(&last, "a"), "no answer within 5 s: {last:?}");
    t.assert_healthy("after 4 GB literals");
}
