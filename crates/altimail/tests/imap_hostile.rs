//! IMAP against hostile clients, over real sockets to `altimail serve`: every attack gets a
//! protocol answer (a tagged reply, or `* BYE` and a closed connection), the server stays up,
//! and a normal LOGIN works right after.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use altimail_testkit::ScratchDb;
use common::{Install, LineClient};

/// example.com with john, short IMAP deadlines (2 s per command, 4 s to log on), one IMAP port.
fn start() -> (Install, common::Server, u16) {
    let i = Install::new(ScratchDb::sqlite());
    common::example_com(&i, &[("EnableImapSASLPlain", "1")]);
    i.ok(&["setting", "set", "--create", "altimailimapcommandtimeout", "2"]);
    i.ok(&["setting", "set", "--create", "altimailimaplogontimeout", "4"]);
    let (server, ports) = i.serve_on(&[("imap", "none")]);
    (i, server, ports[0])
}

fn login(port: u16) -> LineClient {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let reply = c.ask_all("l LOGIN john@example.com secret-pw");
    assert!(reply.last().unwrap().starts_with("l OK"), "{reply:?}");
    c
}

/// The server is still up and serves a new client normally.
fn still_serves(server: &mut common::Server, port: u16) {
    assert!(server.exited().is_none(), "the server died:\n{}", server.stderr());
    let mut c = login(port);
    let status = c.ask_all("s STATUS INBOX (MESSAGES)");
    assert!(status.last().unwrap().starts_with("s OK"), "{status:?}");
    let bye = c.ask_all("z LOGOUT");
    assert!(bye.last().unwrap().starts_with("z OK"), "{bye:?}");
}

/// Reads until the server closes the connection (a reset too: it may close with input
/// unread); returns everything it sent.
fn rest_until_closed(c: &mut LineClient) -> String {
    let mut all = String::new();
    loop {
        match c.try_line() {
            Ok(line) if line.is_empty() => return all,
            Ok(line) => all.push_str(&line),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("{e} after {all:?}"),
        }
    }
}

/// The tagged reply to `tagged` (a full command line, sent with CRLF).
fn tagged(c: &mut LineClient, command: &str) -> String {
    c.ask_all(command).pop().unwrap()
}

#[test]
fn input_controlled_depth_never_overflows_the_stack() {
    let (_i, mut server, port) = start();
    let mut c = login(port);

    // LIST patterns of many wildcards were matched by recursion.
    let stars = "*".repeat(30_000);
    assert!(tagged(&mut c, &format!("a LIST \"\" \"{stars}x\"")).starts_with("a OK"));
    let listed = c.ask_all(&format!("b LIST \"\" \"{}\"", "*%".repeat(20_000)));
    assert!(listed.iter().any(|l| l.contains("INBOX")), "{listed:?}");
    assert!(tagged(&mut c, &format!("c LSUB \"\" \"{}\"", "*a".repeat(20_000))).starts_with("c OK"));

    // Deeply nested search keys are refused, not recursed into.
    c.ask_all("d SELECT INBOX");
    let nested = format!("e SEARCH {}ALL{}", "(".repeat(20_000), ")".repeat(20_000));
    assert!(tagged(&mut c, &nested).starts_with("e BAD"));
    assert!(tagged(&mut c, &format!("f SEARCH {}ALL", "NOT ".repeat(20_000))).starts_with("f BAD"));
    assert!(tagged(&mut c, &format!("g SEARCH {}ALL ALL", "OR ".repeat(20_000))).starts_with("g BAD"));

    // Messages nested thousands of levels deep: multiparts, and encapsulated messages.
    let mut multipart = String::from("Subject: deep multipart\r\n");
    for level in 0..3000 {
        multipart.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"));
    }
    multipart.push_str("Content-Type: text/plain\r\n\r\nneedle\r\n");
    // mail-parser (SEARCH TEXT) freed nested messages by recursion, one level at a time.
    let mut messages = String::new();
    for _ in 0..20_000 {
        messages.push_str("Subject: deep message\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    messages.push_str("Subject: innermost\r\n\r\nneedle\r\n");
    for (tag, message) in [("h", &multipart), ("i", &messages)] {
        c.send(&format!("{tag} APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len()));
        let appended = c.until(&format!("{tag} "));
        assert!(appended.last().unwrap().starts_with(&format!("{tag} OK")), "{appended:?}");
    }
    c.ask_all("j NOOP");
    for (tag, command) in [
        ("k", "FETCH 1:* (BODYSTRUCTURE BODY ENVELOPE)"),
        ("l", "FETCH 1:* (BODY.PEEK[1.1.1.1.1.1.1.1] BINARY.SIZE[1.1.1.1])"),
        ("m", "SEARCH TEXT needle"),
        ("n", "SEARCH BODY needle"),
        ("o", "THREAD REFERENCES UTF-8 ALL"),
        ("p", "SORT (SUBJECT FROM) UTF-8 ALL"),
    ] {
        let reply = c.ask_all(&format!("{tag} {command}"));
        let last = reply.last().unwrap();
        assert!(last.starts_with(&format!("{tag} OK")), "{command}: {last}");
    }
    still_serves(&mut server, port);
}

#[test]
fn names_that_used_to_panic_get_answers() {
    let (_i, mut server, port) = start();
    let mut c = login(port);
    assert!(tagged(&mut c, "a CREATE x").starts_with("a OK"));
    for (tag, command) in [
        ("b", "CREATE #Public"),
        ("c", "CREATE #public."),
        ("d", "RENAME x #Public"),
        ("e", "DELETE #Public"),
        ("f", "SELECT #Public"),
        ("g", "STATUS #Public (MESSAGES)"),
        ("h", "LIST \"\" \"abcd\u{e9}\""),
        ("i", "LIST \"\u{e9}\u{e9}\u{e9}\" \"\u{e9}\""),
        ("j", "LSUB \"\" \"abcd\u{e9}\""),
        ("k", "LIST \"inbo\" \"\u{e9}*\""),
        ("l", "CREATE \"abcd\u{e9}\""),
        ("m", "RENAME x \"\u{e9}\u{e9}\u{e9}\""),
    ] {
        let reply = tagged(&mut c, &format!("{tag} {command}"));
        assert!([" OK", " NO", " BAD"].iter().any(|s| reply.starts_with(&format!("{tag}{s}"))), "{command}: {reply}");
    }
    assert!(tagged(&mut c, "n NOOP").starts_with("n OK"));
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    still_serves(&mut server, port);
}

#[test]
fn refused_literals_end_the_session_without_being_read() {
    let (_i, mut server, port) = start();

    // Before logon: a 4 GB non-synchronising literal.
    let (mut c, _) = LineClient::connect(port);
    c.send("a LOGIN {4000000000+}\r\n");
    c.writer.write_all(&[b'x'; 4096]).unwrap();
    let answer = rest_until_closed(&mut c);
    assert!(answer.starts_with("a NO [TOOBIG]"), "{answer}");
    assert!(answer.contains("\r\n* BYE "), "{answer}");

    // After logon: APPEND over APPENDLIMIT.
    let mut c = login(port);
    c.send("b APPEND INBOX {4000000000+}\r\nFrom: x\r\n");
    let answer = rest_until_closed(&mut c);
    assert!(answer.starts_with("b NO [TOOBIG]"), "{answer}");
    assert!(answer.contains("* BYE "), "{answer}");

    // A synchronising literal that is too big is simply refused: it is never sent.
    let (mut c, _) = LineClient::connect(port);
    assert!(c.ask("c LOGIN {4000000000}").starts_with("c NO [TOOBIG]"));
    assert!(tagged(&mut c, "d NOOP").starts_with("d OK"));

    // Too many literals, and a line over the cap before logon.
    let (mut c, _) = LineClient::connect(port);
    let mut many = String::from("e ID (");
    for _ in 0..20 {
        many.push_str("{1+}\r\nx ");
    }
    c.send(&format!("{many})\r\n"));
    let answer = rest_until_closed(&mut c);
    assert!(answer.starts_with("e BAD"), "{answer}");
    let (mut c, _) = LineClient::connect(port);
    c.send(&"x".repeat(200 * 1024));
    c.send("\r\n");
    assert!(c.line().contains(" BAD "));
    assert!(tagged(&mut c, "f NOOP").starts_with("f OK"));

    assert!(server.stderr().contains("refused literal"), "{}", server.stderr());
    still_serves(&mut server, port);
}

#[test]
fn trickled_commands_and_slow_logons_time_out() {
    let (_i, mut server, port) = start();

    // One byte every half second never completes a command within its 2 s.
    let (mut c, _) = LineClient::connect(port);
    let started = Instant::now();
    let mut answer = String::new();
    for b in b"a NOOP and more and more and more".iter() {
        c.writer.write_all(&[*b]).unwrap();
        if let Err(got) = c.silent_for(Duration::from_millis(500)) {
            answer = got;
            break;
        }
    }
    assert!(answer.contains("* BYE Command not received in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // The same for the response to an AUTHENTICATE challenge.
    let (mut c, _) = LineClient::connect(port);
    assert!(c.ask("b AUTHENTICATE PLAIN").starts_with("+"));
    c.send("AGpvaG5AZXhhbXBsZS");
    let answer = rest_until_closed(&mut c);
    assert!(answer.contains("* BYE Command not received in time"), "{answer}");

    // Complete commands, one a second, do not keep a client that never logs on.
    let (mut c, _) = LineClient::connect(port);
    let started = Instant::now();
    let mut answer = String::new();
    for n in 0..10 {
        c.send(&format!("n{n} NOOP\r\n"));
        let line = c.line();
        if !line.starts_with(&format!("n{n} OK")) {
            answer = line + &rest_until_closed(&mut c);
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(answer.contains("* BYE Logon not completed in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(7), "{:?}", started.elapsed());

    // After logon, waiting in IDLE is not a slow command; a command sent slowly still is.
    let mut c = login(port);
    c.ask_all("s SELECT INBOX");
    c.send("i IDLE\r\n");
    assert!(c.line().starts_with("+ "));
    std::thread::sleep(Duration::from_secs(5));
    c.send("DONE\r\n");
    assert!(c.until("i ").last().unwrap().starts_with("i OK"));
    c.send("t FETCH 1:* ");
    std::thread::sleep(Duration::from_secs(4));
    let _ = c.writer.write_all(b"(FLAGS)\r\n");
    let answer = rest_until_closed(&mut c);
    assert!(answer.contains("* BYE Command not received in time"), "{answer}");

    still_serves(&mut server, port);
}

/// Message files are found (on a blocking thread) also when hMailServer left the account's
/// folder in another case, as on Windows.
#[test]
fn fetch_finds_files_in_a_folder_of_another_case() {
    let (i, mut server, port) = start();
    let mut c = login(port);
    let message = "Subject: cased\r\n\r\nbody\r\n";
    c.send(&format!("a APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len()));
    assert!(c.until("a ").last().unwrap().starts_with("a OK"));
    let data = i.path("data").join("example.com");
    std::fs::rename(data.join("john"), data.join("JOHN")).unwrap();
    c.ask_all("b SELECT INBOX");
    c.send("c FETCH 1 BODY[]\r\n");
    let mut head = c.line();
    assert!(head.contains(&format!("{{{}}}", message.len())), "{head}");
    let mut body = vec![0; message.len()];
    c.reader.read_exact(&mut body).unwrap();
    assert_eq!(String::from_utf8_lossy(&body), message);
    head = c.until("c ").pop().unwrap();
    assert!(head.starts_with("c OK"), "{head}");
    still_serves(&mut server, port);
}
