//! Large messages end to end: a 20 MB body sent with DATA and with BDAT arrives in the mailbox
//! byte for byte (it was streamed to its spool file as it arrived). The memory of concurrent
//! uploads is measured in `crates/smtp/tests/server.rs`, where no delivery runs alongside.

mod common;

use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::ScratchDb;
use common::{Install, python, wait_inbox};

/// `PORT MODE SIZE COUNT`: COUNT clients at once each send a message of about SIZE octets to
/// john@example.com, with DATA (`data`, smtplib) or BDAT (`bdat`, raw chunks of 1 MB). The body
/// is the same for all: lines `line N ...`, some starting with a dot. Prints "ok" per message.
const SEND: &str = r#"
import smtplib, socket, sys, threading
port, mode, size, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines, n, total = [], 0, 0
while total < size:
    line = (".dot line %d\r\n" % n) if n % 500 == 0 else ("line %d of a large message, to fill it up nicely\r\n" % n)
    lines.append(line)
    total += len(line)
    n += 1
body = ("From: <a@remote.test>\r\nTo: <john@example.com>\r\nSubject: large\r\n\r\n" + "".join(lines)).encode()
open(sys.argv[5], "wb").write(body)

def reply(f):
    while True:
        line = f.readline().decode()
        if line[3:4] != "-":
            return line

def bdat():
    s = socket.create_connection(("127.0.0.1", port), timeout=600)
    f = s.makefile("rb")
    reply(f)
    for cmd in [b"EHLO client.test\r\n", b"MAIL FROM:<a@remote.test>\r\n", b"RCPT TO:<john@example.com>\r\n"]:
        s.sendall(cmd)
        assert reply(f).startswith("250"), cmd
    step = 1024 * 1024
    for at in range(0, len(body), step):
        chunk = body[at:at + step]
        last = " LAST" if at + step >= len(body) else ""
        s.sendall(b"BDAT %d%s\r\n" % (len(chunk), last.encode()) + chunk)
        answer = reply(f)
        assert answer.startswith("250"), answer
    s.sendall(b"QUIT\r\n")
    s.close()

def data():
    s = smtplib.SMTP("127.0.0.1", port, timeout=600)
    s.sendmail("a@remote.test", ["john@example.com"], body)
    s.quit()

def one():
    (bdat if mode == "bdat" else data)()
    print("ok", flush=True)

threads = [threading.Thread(target=one) for _ in range(count)]
for t in threads: t.start()
for t in threads: t.join()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn large_messages_arrive_byte_for_byte() {
    let i = Install::new(ScratchDb::sqlite());
    common::example_com(&i, &[]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0].to_string();
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let sent = i.path("sent.eml");

    // 20 MB (the limit is 20 480 KB) with DATA, then with BDAT: each arrives byte for byte.
    for (k, mode) in ["data", "bdat"].into_iter().enumerate() {
        let (code, out, err) = python(SEND, &[&port, mode, "20000000", "1", sent.to_str().unwrap()]);
        assert_eq!((code, out.as_str()), (0, "ok\n"), "{mode}: {err}");
        let body = std::fs::read(&sent).unwrap();
        let john = wait_inbox(&store, "john@example.com", k + 1).await;
        let stored = std::fs::read(&john[k].1).unwrap();
        assert!(stored.len() > body.len(), "{mode}");
        let (head, tail) = stored.split_at(stored.len() - body.len());
        let head = String::from_utf8_lossy(head);
        assert!(head.starts_with("Return-Path: <a@remote.test>\r\n") && head.contains("\r\nReceived: from "), "{head}");
        assert!(tail == body.as_slice(), "{mode}: the body arrives byte for byte");
    }
    let queued = || {
        std::fs::read_dir(i.path("data"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    };
    common::eventually("delivered messages leave the queue folder", || queued() == 0);
    store.db.close().await;
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}
