//! Plain listeners: handlers, policy refusals, limits, live port changes, shutdown, auto-ban.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use altimail_core::codes::{Protocol, Security, range};
use altimail_net::{Connection, PER_IP_LIMIT_SETTING};
use altimail_store::repo::{ports, ranges, settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{PATIENCE, connect, connect_from, eventually, greeting, read_line, read_to_end, server};

/// Greets with the session's facts, echoes one line, and ends.
async fn greet_and_echo(mut conn: Connection) {
    let greeting = format!("220 session={} range={} tls={}\r\n", conn.session_id, conn.range.name, conn.is_tls());
    conn.log_line(&format!("SENT: {}", greeting.trim_end()));
    if conn.stream.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    let line = read_line(&mut conn.stream).await;
    let _ = conn.stream.write_all(line.as_bytes()).await;
}

/// Greets, then waits for the client to close.
async fn greet_and_hold(mut conn: Connection) {
    if conn.stream.write_all(b"220 hello\r\n").await.is_ok() {
        let mut sink = Vec::new();
        let _ = conn.stream.read_to_end(&mut sink).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_port_serves_its_handler_and_logs_like_hmailserver() {
    let s = server().await;
    let port = s.add_port(Protocol::Smtp, Security::None).await;
    let listeners = s.listeners().with_handler(Protocol::Smtp, greet_and_echo).start().await;
    assert_eq!(listeners.bound().await.len(), 1);

    let mut client = connect(port.port).await;
    let hello = read_line(&mut client).await;
    assert!(hello.starts_with("220 session="), "{hello}");
    assert!(hello.ends_with(" range=My computer tls=false\r\n"), "{hello}");
    client.write_all(b"NOOP\r\n").await.unwrap();
    assert_eq!(read_line(&mut client).await, "NOOP\r\n");
    assert!(read_to_end(&mut client).await.is_empty(), "closed after the handler returned");

    let log = s.main_log();
    let connected = format!("\"TCP - 127.0.0.1 connected to 127.0.0.1:{}.\"\r\n", port.port);
    assert!(log.lines().any(|l| l.starts_with("\"TCPIP\"\t") && format!("{l}\r\n").ends_with(&connected)), "{log}");
    let session = hello.trim_start_matches("220 session=").split(' ').next().unwrap().to_owned();
    let smtpd = log.lines().find(|l| l.starts_with("\"SMTPD\"\t")).expect("an SMTPD line");
    let fields: Vec<&str> = smtpd.split('\t').collect();
    assert_eq!(fields[2], session);
    assert_eq!(fields[4], "\"127.0.0.1\"");
    assert!(fields[5].starts_with("\"SENT: 220 session="), "{smtpd}");
    assert_eq!(listeners.shutdown(PATIENCE).await, 0);
}

#[tokio::test]
async fn range_without_the_protocol_bit_gets_no_byte() {
    let s = server().await;
    let mut mine = ranges::require(&s.store.db, "My computer").await.unwrap();
    mine.options &= !range::SMTP;
    ranges::update(&s.store.db, &mine).await.unwrap();
    let port = s.add_port(Protocol::Smtp, Security::None).await;
    let called = Arc::new(AtomicBool::new(false));
    let seen = called.clone();
    let listeners = s
        .listeners()
        .with_handler(Protocol::Smtp, move |_conn: Connection| {
            seen.store(true, Ordering::SeqCst);
            async {}
        })
        .start()
        .await;

    let mut client = connect(port.port).await;
    assert!(read_to_end(&mut client).await.is_empty(), "closed without a banner");
    assert!(!called.load(Ordering::SeqCst));
    let log = s.main_log();
    assert!(log.contains("\"TCP - Connection dropped - IP range My computer does not allow SMTP.\""), "{log}");
    assert!(log.contains(
        "\"Client connection from 127.0.0.1 was not accepted. Blocked either by IP range or by connection limit.\""
    ));
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn connection_limit_refuses_until_a_session_ends() {
    let s = server().await;
    settings::set_integer(&s.store.db, "maxsmtpconnections", 1).await.unwrap();
    let port = s.add_port(Protocol::Smtp, Security::None).await;
    let listeners = s.listeners().with_handler(Protocol::Smtp, greet_and_hold).start().await;

    let mut first = connect(port.port).await;
    assert_eq!(read_line(&mut first).await, "220 hello\r\n");
    let mut second = connect(port.port).await;
    assert_eq!(
        String::from_utf8(read_to_end(&mut second).await).unwrap(),
        "421 4.7.0 Too many connections, try again later\r\n",
        "over the limit: told to come back later, then closed"
    );
    assert!(s.main_log().contains("Maximum number of SMTP connections (1) reached."));
    assert_eq!(s.policy.connections(Protocol::Smtp), 1);

    drop(first);
    eventually(PATIENCE, "a slot is free again", || async {
        greeting(port.port).await.as_deref() == Some("220 hello\r\n")
    })
    .await;
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_per_ip_limit_is_told_the_server_is_busy() {
    let s = server().await;
    settings::set_integer(&s.store.db, PER_IP_LIMIT_SETTING, 2).await.unwrap();
    let mut builder = s.listeners();
    let mut ports = Vec::new();
    for protocol in [Protocol::Smtp, Protocol::Pop3, Protocol::Imap] {
        ports.push((protocol, s.add_port(protocol, Security::None).await.port));
        builder = builder.with_handler(protocol, greet_and_hold);
    }
    let listeners = builder.start().await;
    let busy = [
        "421 4.7.0 Too many connections, try again later\r\n",
        "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
        "* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
    ];
    let client: IpAddr = "127.0.0.2".parse().unwrap();
    let mut held = Vec::new();
    for ((protocol, port), busy) in ports.iter().zip(busy) {
        for _ in 0..2 {
            let mut conn = connect_from(client, *port).await;
            assert_eq!(read_line(&mut conn).await, "220 hello\r\n", "{protocol:?}");
            held.push(conn);
        }
        let mut over = connect_from(client, *port).await;
        assert_eq!(String::from_utf8(read_to_end(&mut over).await).unwrap(), busy, "{protocol:?}");
        let mut other = connect_from("127.0.0.3".parse().unwrap(), *port).await;
        assert_eq!(read_line(&mut other).await, "220 hello\r\n", "{protocol:?}: another address still gets in");
        assert_eq!(s.policy.connections_from(*protocol, client), 2);
    }
    let log = s.main_log();
    assert!(
        log.contains("\"TCP - Connection dropped - Maximum number of IMAP connections from 127.0.0.2 (2) reached.\"")
    );
    assert!(
        log.contains("\"127.0.0.2\"\t\"SENT: * BYE [UNAVAILABLE] Too many connections, try again later\""),
        "{log}"
    );
    drop(held);
    let (_, imap) = ports[2];
    eventually(PATIENCE, "the client's slots are free again", || async {
        s.policy.connections_from(Protocol::Imap, client) == 0
    })
    .await;
    let mut again = connect_from(client, imap).await;
    assert_eq!(read_line(&mut again).await, "220 hello\r\n");
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_added_changed_and_removed_in_the_table_apply_within_two_seconds() {
    let s = server().await;
    let first = s.add_port(Protocol::Smtp, Security::None).await;
    let listeners = s.listeners().with_handler(Protocol::Smtp, greet_and_hold).start().await;
    assert!(greeting(first.port).await.is_some());

    let added = s.add_port(Protocol::Smtp, Security::None).await;
    let took = eventually(PATIENCE, "new port bound", || async { greeting(added.port).await.is_some() }).await;
    assert!(took < Duration::from_millis(2500), "took {took:?}");

    ports::delete(&s.store.db, added.id).await.unwrap();
    let took = eventually(PATIENCE, "removed port closed", || async { greeting(added.port).await.is_none() }).await;
    assert!(took < Duration::from_millis(2500), "took {took:?}");

    let mut moved = first.clone();
    moved.port = crate::util::free_port();
    ports::update(&s.store.db, &moved).await.unwrap();
    eventually(PATIENCE, "changed port rebound", || async {
        greeting(moved.port).await.is_some() && greeting(first.port).await.is_none()
    })
    .await;
    let bound = listeners.bound().await;
    assert_eq!(bound.len(), 1);
    assert_eq!(bound[0].0, moved);
    assert_eq!(bound[0].1.port(), moved.port);
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn a_port_that_cannot_be_bound_is_reported_and_retried() {
    let s = server().await;
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap().port();
    let good = s.add_port(Protocol::Imap, Security::None).await;
    s.add_port_with(Protocol::Smtp, Security::None, 0, busy).await;
    let listeners = s.listeners().with_handler(Protocol::Smtp, greet_and_hold).start().await;

    assert!(greeting(good.port).await.is_some(), "other ports are not affected");
    let errors = s.error_log();
    assert_eq!(errors.matches("Code: HM4316").count(), 1, "{errors}");
    assert!(errors.contains(&format!("Port: {busy}")), "{errors}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.error_log().matches("Code: HM4316").count(), 1, "reported once, not every second");
    let problems = listeners.problems().await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].port.port, busy);
    assert_eq!(problems[0].cause, altimail_net::ProblemCause::AddressInUse);
    assert!(problems[0].text.contains("address already in use"), "{}", problems[0].text);
    assert!(!problems[0].is_tolerable());

    drop(blocker);
    eventually(PATIENCE, "bound after the port was freed", || async {
        greeting(busy).await.as_deref() == Some("220 hello\r\n")
    })
    .await;
    assert!(listeners.problems().await.is_empty(), "no problem once bound");
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn protocols_without_a_handler_say_service_not_available() {
    let s = server().await;
    let smtp = s.add_port(Protocol::Smtp, Security::None).await;
    let pop3 = s.add_port(Protocol::Pop3, Security::None).await;
    let imap = s.add_port(Protocol::Imap, Security::None).await;
    let listeners = s.listeners().start().await;
    for (port, expected) in [
        (smtp.port, "421 4.3.2 Service not available\r\n"),
        (pop3.port, "-ERR Service not available\r\n"),
        (imap.port, "* BYE Service not available\r\n"),
    ] {
        let mut client = connect(port).await;
        assert_eq!(String::from_utf8(read_to_end(&mut client).await).unwrap(), expected);
    }
    let log = s.main_log();
    assert!(log.contains("\"SENT: -ERR Service not available\""), "{log}");
    assert!(log.lines().any(|l| l.starts_with("\"POP3D\"\t")));
    listeners.shutdown(PATIENCE).await;
}

#[tokio::test]
async fn graceful_shutdown_signals_sessions_and_waits_for_them() {
    let s = server().await;
    let port = s.add_port(Protocol::Smtp, Security::None).await;
    let listeners = s
        .listeners()
        .with_handler(Protocol::Smtp, |mut conn: Connection| async move {
            let _ = conn.stream.write_all(b"220 hello\r\n").await;
            let shutdown = conn.shutdown_signal();
            let mut byte = [0u8; 1];
            tokio::select! {
                () = shutdown => {
                    assert!(conn.is_shutting_down());
                    let _ = conn.stream.write_all(b"421 4.3.0 Server shutting down\r\n").await;
                    let _ = conn.stream.shutdown().await;
                }
                _ = conn.stream.read(&mut byte) => {}
            }
        })
        .start()
        .await;

    let mut client = connect(port.port).await;
    assert_eq!(read_line(&mut client).await, "220 hello\r\n");
    assert_eq!(listeners.shutdown(PATIENCE).await, 0, "the session ended by itself");
    assert_eq!(read_line(&mut client).await, "421 4.3.0 Server shutting down\r\n");
    assert!(read_to_end(&mut client).await.is_empty());
    assert!(greeting(port.port).await.is_none(), "no longer accepting");
    assert_eq!(s.policy.connections(Protocol::Smtp), 0);
}

#[tokio::test]
async fn shutdown_aborts_sessions_that_do_not_end_in_time() {
    let s = server().await;
    let port = s.add_port(Protocol::Pop3, Security::None).await;
    let listeners = s
        .listeners()
        .with_handler(Protocol::Pop3, |mut conn: Connection| async move {
            let _ = conn.stream.write_all(b"+OK stubborn\r\n").await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .start()
        .await;
    let mut client = connect(port.port).await;
    assert_eq!(read_line(&mut client).await, "+OK stubborn\r\n");
    assert_eq!(listeners.shutdown(Duration::from_millis(200)).await, 1);
    assert!(read_to_end(&mut client).await.is_empty(), "the aborted session closed the socket");
    assert_eq!(s.policy.connections(Protocol::Pop3), 0);
}

#[tokio::test]
async fn failed_logons_ban_the_client_and_the_next_connection_is_refused() {
    let s = server().await;
    settings::set_integer(&s.store.db, "MaxInvalidLogonAttempts", 3).await.unwrap();
    // Loopback is spared unless the trusted set is narrowed: only 127.0.0.1 stays trusted, and
    // the client comes from 127.0.0.4.
    settings::set_string(&s.store.db, ranges::TRUSTED_SETTING, "127.0.0.1").await.unwrap();
    let port = s.add_port(Protocol::Imap, Security::None).await;
    let listeners = s
        .listeners()
        .with_handler(Protocol::Imap, |mut conn: Connection| async move {
            let disconnect = conn.logon_failed("bob@example.com").await;
            let _ = conn.stream.write_all(format!("* BYE disconnect={disconnect}\r\n").as_bytes()).await;
        })
        .start()
        .await;

    let client_ip: IpAddr = "127.0.0.4".parse().unwrap();
    for expected in ["false", "false", "true"] {
        let mut client = connect_from(client_ip, port.port).await;
        assert_eq!(read_line(&mut client).await, format!("* BYE disconnect={expected}\r\n"));
    }
    let ban = ranges::require(&s.store.db, "Auto-ban: bob@example.com").await.unwrap();
    assert_eq!(ban.options, 0);
    let mut client = connect_from(client_ip, port.port).await;
    let told = String::from_utf8(read_to_end(&mut client).await).unwrap();
    assert!(told.starts_with("* BYE [UNAVAILABLE] Your address 127.0.0.4 is temporarily banned"), "{told}");
    let log = s.main_log();
    assert!(
        log.contains("\"TCP - Connection dropped - 127.0.0.4 is banned by IP range Auto-ban: bob@example.com until "),
        "{log}"
    );
    assert!(log.contains("\"SENT: * BYE [UNAVAILABLE] Your address 127.0.0.4 is temporarily banned"), "{log}");
    // 127.0.0.1 is still trusted: its failures are not counted.
    for _ in 0..5 {
        assert_eq!(greeting(port.port).await.unwrap(), "* BYE disconnect=false\r\n");
    }
    listeners.shutdown(PATIENCE).await;
}
