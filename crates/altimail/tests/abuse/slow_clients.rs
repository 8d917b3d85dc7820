//! Slow and idle clients: connections that trickle one byte every two seconds must be closed
//! within a bounded time although bytes keep coming, and idle unauthenticated connections of one
//! protocol from one address are capped (`altimailmaxconnectionsperip`).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::{PER_IP_CAP, Target};

/// How long a trickling session may last: the servers' per-command and logon deadlines are one
/// to three minutes, plus slack for a loaded machine.
const TRICKLE_BOUND: Duration = Duration::from_secs(240);
const TRICKLE_EVERY: Duration = Duration::from_secs(2);

/// How a trickling connection ended.
#[derive(Debug)]
struct Ending {
    /// The last line the server sent, "" if none after the greeting.
    last_line: String,
    /// How long after connect the server closed; `None` when it was still open at the bound.
    closed_after: Option<Duration>,
}

/// Connects, reads the greeting, then sends `command`'s bytes one at a time (repeating its last
/// byte for ever, so the line never ends) until the server closes or the bound passes.
fn trickle(port: u16, command: &str) -> Ending {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    let mut writer = stream;
    writer.set_read_timeout(Some(TRICKLE_EVERY)).unwrap();
    let bytes = command.as_bytes();
    let mut last_line = String::new();
    let mut pending = Vec::new();
    for n in 0.. {
        if started.elapsed() > TRICKLE_BOUND {
            return Ending { last_line, closed_after: None };
        }
        let byte = bytes[n.min(bytes.len() - 1)];
        if writer.write_all(&[byte]).is_err() {
            return Ending { last_line, closed_after: Some(started.elapsed()) };
        }
        // Waiting for the server's word doubles as the pause between bytes.
        let mut buf = [0u8; 4096];
        match reader.get_mut().read(&mut buf) {
            Ok(0) => return Ending { last_line, closed_after: Some(started.elapsed()) },
            Ok(got) => {
                pending.extend_from_slice(&buf[..got]);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    last_line = String::from_utf8_lossy(&pending[..=end]).into_owned();
                    pending.drain(..=end);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Ending { last_line, closed_after: Some(started.elapsed()) },
        }
    }
    unreachable!()
}

#[test]
#[ignore = "takes up to 4 minutes: the deadlines it checks are minutes long and not settings; .ci/run runs it"]
fn trickling_clients_are_closed_with_a_reply() {
    let mut t = Target::start(|_| {});
    let p = t.ports;
    // (what, port, a command that never ends, the reply that must come before the close)
    let cases = [
        ("SMTP", p.smtp, "EHLO slow.client.test", "421 "),
        ("IMAP", p.imap, "a LOGIN john@example.com secret-pw", "* BYE"),
        ("POP3", p.pop3, "USER john@example.com", "-ERR"),
    ];
    let endings = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .flat_map(|&(what, port, command, _)| (0..6).map(move |_| (what, port, command)).collect::<Vec<_>>())
            .map(|(what, port, command)| (what, s.spawn(move || trickle(port, command))))
            .collect();
        handles.into_iter().map(|(what, h)| (what, h.join().unwrap())).collect::<Vec<_>>()
    });
    t.assert_up("trickling clients");
    for (what, ending) in &endings {
        let reply = cases.iter().find(|c| c.0 == *what).unwrap().3;
        assert!(ending.closed_after.is_some(), "{what}: still open after {TRICKLE_BOUND:?}: {ending:?}");
        assert!(ending.last_line.starts_with(reply), "{what}: closed without {reply:?}: {ending:?}");
    }
    let slowest = endings.iter().filter_map(|(_, e)| e.closed_after).max().unwrap();
    let _ = writeln!(std::io::stderr(), "trickling clients: all closed, the last after {slowest:?}");
    t.assert_healthy("after trickling clients");
}

/// Connects from `source` and returns the stream and the server's first line ("" if it closed
/// without one).
fn connect_from(source: &str, port: u16) -> (TcpStream, String) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    socket.connect(&format!("127.0.0.1:{port}").parse::<SocketAddr>().unwrap().into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = String::new();
    let _ = BufReader::new(stream.try_clone().unwrap()).read_line(&mut line);
    (stream, line)
}

#[test]
fn idle_connections_from_one_address_are_capped() {
    const CAP: usize = 10;
    let mut t = Target::start(|i| {
        i.ok(&["setting", "set", PER_IP_CAP, &CAP.to_string()]);
    });
    let p = t.ports;
    // 20 idle unauthenticated connections of each protocol from 127.0.0.2 (the cap counts the
    // sessions of one protocol from one address).
    let mut held = Vec::new();
    for (port, welcome, refusal) in [(p.smtp, "220 ", "421 "), (p.imap, "* OK", "* BYE"), (p.pop3, "+OK", "-ERR")] {
        let mut refused = Vec::new();
        let before = held.len();
        for _ in 0..20 {
            let (stream, line) = connect_from("127.0.0.2", port);
            if line.starts_with(welcome) {
                held.push(stream);
            } else {
                refused.push(line);
            }
        }
        t.assert_up("idle connections");
        let kept = held.len() - before;
        assert!(kept <= CAP, "port {port}: {kept} connections from one address held (cap {CAP})");
        for line in &refused {
            assert!(line.starts_with(refusal), "port {port}: refused without {refusal:?}: {line:?}");
        }
    }
    // Other addresses are not affected while the cap holds.
    t.assert_healthy("while 127.0.0.2 is at its cap");
    // Closed connections make room again.
    drop(held);
    let again =
        crate::support::within(Duration::from_secs(10), || connect_from("127.0.0.2", p.imap).1.starts_with("* OK"));
    assert!(again, "127.0.0.2 still refused after its connections closed");
    t.assert_healthy("after idle connections");
}
