//! A client that pipelines commands and never reads a reply: once the replies fill the socket
//! buffers, the server's writes block. It must give up on such a session within a bounded time
//! instead of holding it (and its task and buffers) for ever.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::Target;

/// How long the server may keep a session whose client does not read: its write limits are
/// minutes long, plus slack for a loaded machine.
const BOUND: Duration = Duration::from_secs(420);

/// The state of the server's end of the connection to `client_port`, from /proc/net/tcp
/// (`Some(1)` is ESTABLISHED; `None` once the connection is gone).
fn server_side_state(server_port: u16, client_port: u16) -> Option<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{server_port:04X}");
    let remote = format!("0100007F:{client_port:04X}");
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str()))
            .then(|| u8::from_str_radix(fields[3], 16).unwrap())
    })
}

#[test]
#[ignore = "takes up to 7 minutes: the write limit it checks is minutes long and not a setting; .ci/run runs it"]
fn smtp_client_that_never_reads_is_let_go() {
    let mut t = Target::start(|_| {});
    let port = t.ports.smtp;
    // A small receive buffer on the client, so the server's replies back up soon.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&format!("127.0.0.1:{port}").parse::<SocketAddr>().unwrap().into()).unwrap();
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut greeting = String::new();
    BufReader::new(stream.try_clone().unwrap()).read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("220 "), "{greeting}");
    let client_port = stream.local_addr().unwrap().port();

    // Pipeline NOOPs until the server stops taking them (it is blocked writing replies).
    let chunk = "NOOP\r\n".repeat(1000);
    stream.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut sent = 0usize;
    let started = Instant::now();
    loop {
        match stream.write(chunk.as_bytes()) {
            Ok(n) => sent += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(_) => break, // the server closed already
        }
        assert!(sent < 256 << 20, "the server took 256 MB of unread pipelined commands");
    }
    let _ = writeln!(std::io::stderr(), "write timeout: {sent} bytes of NOOPs pipelined in {:?}", started.elapsed());

    let let_go = crate::support::within(BOUND, || server_side_state(port, client_port) != Some(1));
    t.assert_up("a client that never reads");
    assert!(let_go, "the server still holds the session after {BOUND:?}");
    let _ = writeln!(std::io::stderr(), "write timeout: session let go after {:?}", started.elapsed());
    drop(stream);
    t.assert_healthy("after a client that never reads");
}
