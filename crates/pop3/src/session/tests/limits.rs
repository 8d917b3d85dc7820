//! Line length, buffering and logging limits.

use super::*;

#[test]
fn long_lines_are_refused_and_the_session_stays_in_step() {
    let mut h = Harness::logged_in();
    let long = format!("NOOP {}\r\n", "x".repeat(MAX_COMMAND_LINE));
    assert_eq!(h.send(&long), "-ERR Line too long.\r\n");
    let huge = format!("NOOP {}\r\nSTAT\r\n", "x".repeat(MAX_AUTH_LINE * 3));
    assert_eq!(h.send(&huge), "-ERR Line too long.\r\n+OK 4 2078\r\n");
    let at_limit = format!("NOOP {}\r\n", "x".repeat(MAX_COMMAND_LINE - 5));
    assert_eq!(h.send(&at_limit), "-ERR Syntax: NOOP\r\n");
}

#[test]
fn a_line_without_end_does_not_grow_the_buffer() {
    let mut h = Harness::new(config());
    for _ in 0..100 {
        assert_eq!(h.send(vec![b'x'; 10_000]), "");
        assert!(h.session.input.pending().len() <= MAX_AUTH_LINE);
    }
    assert_eq!(h.send("\r\nNOOP\r\n"), "-ERR Line too long.\r\n+OK\r\n");
}

#[test]
fn auth_lines_may_be_long() {
    let mut h = Harness::new(config());
    let padding = "A".repeat(MAX_COMMAND_LINE);
    assert_eq!(h.send(format!("AUTH PLAIN {padding}\r\n")), "-ERR Invalid authentication data.\r\n");
}

#[test]
fn flooding_while_waiting_closes() {
    let mut session = Session::new(config());
    let mut input = b"USER john@example.com\r\nPASS secret\r\n".to_vec();
    input.extend(b"NOOP\r\n".repeat(MAX_BUFFERED_INPUT / 6 + 10));
    session.handle_input(&input);
    let actions: Vec<Action> = std::iter::from_fn(|| session.poll_action()).collect();
    let flooding = Action::Reply(replies::flooding());
    assert_eq!(actions.get(actions.len() - 2), Some(&flooding));
    assert_eq!(actions.last(), Some(&Action::Close));
    assert!(session.is_closed());
}

#[test]
fn pipelined_commands_are_taken_one_at_a_time() {
    let mut session = Session::new(config());
    assert!(matches!(session.poll_action(), Some(Action::Reply(_))), "the greeting");
    session.handle_input(&b"NOOP\r\n".repeat(1000));
    assert_eq!(session.actions.len(), 1, "one response queued, the rest still input");
    let responses = std::iter::from_fn(|| session.poll_action()).count();
    assert_eq!(responses, 1000);
    assert!(session.input.pending().is_empty());
}

#[test]
fn logged_lines_hide_secrets() {
    let mut config = config();
    config.log_received = true;
    let mut h = Harness::new(config);
    h.send("USER john@example.com\r\nPASS secret\r\nQUIT\r\n");
    h.send("AUTH PLAIN\r\n");
    let mut h2 = Harness::new(h.session.config.clone());
    h2.send("AUTH PLAIN\r\nAGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0\r\nAUTH PLAIN AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0\r\n");
    assert_eq!(
        h.events,
        ["recv USER john@example.com", "recv PASS ***", "open john@example.com", "recv QUIT", "close"]
    );
    assert_eq!(h2.events[..3], ["recv AUTH PLAIN", "recv ***", "open john@example.com"]);
    assert!(!h2.events.iter().any(|e| e.contains("AGpvaG")));
}
