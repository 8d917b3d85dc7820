//! The UPDATE state: deletions happen at QUIT only, as one request; messages whose files are
//! missing; the driver ending the session.

use super::*;

#[test]
fn quit_without_deletions_commits_nothing() {
    let mut h = Harness::logged_in();
    assert_eq!(h.send("DELE 1\r\nRSET\r\nQUIT\r\n").lines().last(), Some("+OK POP3 server saying goodbye..."));
    assert_eq!(h.events, ["open john@example.com", "close"]);
}

#[test]
fn a_failed_commit_is_reported_and_closes() {
    let mut h = Harness::new(config());
    h.send("USER commitfail@x\r\nPASS secret\r\n");
    assert_eq!(
        h.send("DELE 2\r\nQUIT\r\nNOOP\r\n"),
        "+OK msg deleted\r\n-ERR [SYS/TEMP] Some deleted messages not removed\r\n"
    );
    assert_eq!(h.events, ["open commitfail@x", "commit [12]", "close"]);
}

#[test]
fn timeout_and_shutdown_delete_nothing() {
    for (reason, response) in [
        (CloseReason::Timeout, "-ERR Autologout; idle too long\r\n"),
        (CloseReason::Shutdown, "-ERR [SYS/TEMP] Server shutting down\r\n"),
    ] {
        let mut h = Harness::logged_in();
        h.send("DELE 1\r\nDELE 2\r\n");
        h.session.close_with(reason);
        assert_eq!(h.drive(), response);
        assert_eq!(h.events, ["open john@example.com", "close"], "{reason:?}");
        assert_eq!(h.send("QUIT\r\n"), "");
    }
}

#[test]
fn unreadable_messages_fail_alone() {
    let mut h = Harness::logged_in();
    assert_eq!(h.send("RETR 3\r\n"), "-ERR [SYS/PERM] Message file is missing.\r\n");
    assert_eq!(h.send("TOP 3 0\r\n"), "-ERR [SYS/PERM] Message file is missing.\r\n");
    assert_eq!(h.send("RETR 4\r\n"), "-ERR [SYS/TEMP] Unable to read message.\r\n");
    assert_eq!(statuses(&h.send("RETR 2\r\n")), ["+OK"]);
    assert_eq!(h.send("DELE 3\r\nQUIT\r\n"), "+OK msg deleted\r\n+OK POP3 server saying goodbye...\r\n");
    assert_eq!(h.events, ["open john@example.com", "commit [13]", "close"]);
}
