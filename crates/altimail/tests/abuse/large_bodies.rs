//! Large bodies: parallel unauthenticated DATA uploads close to the default size limit (20 MB)
//! must not be held in memory whole, and every message accepted must arrive intact.

use std::io::Write;

use crate::common::python;
use crate::support::Target;

const UPLOADS: usize = 40;
/// Each body's size: 19 MiB, under hMailServer's default limit of 20,480 KB.
const BODY_BYTES: usize = 19 * 1024 * 1024;
/// The resident-memory bound, in MB.
const BOUND_MB: u64 = 300;

/// `SMTP UPLOADS BYTES`: raw-socket SMTP clients in parallel, each sending one message of BYTES
/// to john (one shared body, so the clients themselves stay small); prints the final reply
/// codes.
const UPLOAD: &str = r#"
import socket, sys, threading
port, uploads, size = (int(a) for a in sys.argv[1:4])
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-the-same-body.\r\n"
body = (line * (size // len(line) + 1))[:size - 2] + b"\r\n"
codes = [None] * uploads
def reply(f):
    while True:
        l = f.readline()
        if not l:
            raise ConnectionError("closed")
        if l[3:4] != b"-":
            return int(l[:3])
def upload(k):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=300)
        f = s.makefile("rb")
        reply(f)
        for command in (b"EHLO client.test", b"MAIL FROM:<big%d@remote.test>" % k, b"RCPT TO:<john@example.com>", b"DATA"):
            s.sendall(command + b"\r\n")
            code = reply(f)
        if code != 354:
            codes[k] = code
            return
        s.sendall(b"From: <big%d@remote.test>\r\nTo: <john@example.com>\r\nSubject: big %d\r\n\r\n" % (k, k))
        s.sendall(body)
        s.sendall(b".\r\n")
        codes[k] = reply(f)
        s.sendall(b"QUIT\r\n")
        s.close()
    except Exception as e:
        codes[k] = repr(e).replace(" ", "_")
threads = [threading.Thread(target=upload, args=(k,)) for k in range(uploads)]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join(str(c) for c in codes))
"#;

/// `IMAP BYTES ACCEPTED`: waits until john's INBOX holds every accepted message ("big K"
/// subjects), then checks each body is exactly what was sent.
const CHECK: &str = r#"
import imaplib, sys, time
port, size = int(sys.argv[1]), int(sys.argv[2])
accepted = set(int(k) for k in sys.argv[3].split(",") if k)
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-the-same-body.\r\n"
body = (line * (size // len(line) + 1))[:size - 2] + b"\r\n"
m = imaplib.IMAP4("127.0.0.1", port, timeout=300)
m.login("john@example.com", "secret-pw")
deadline = time.time() + 180
while True:
    m.select("INBOX", readonly=True)
    found = m.search(None, "SUBJECT", '"big "')[1][0].split()
    if len(found) >= len(accepted):
        break
    if time.time() > deadline:
        sys.exit("only %d of %d accepted messages delivered within 180 s" % (len(found), len(accepted)))
    time.sleep(1)
seen, damaged = set(), []
for n in found:
    data = m.fetch(n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")[1]
    parts = [p for p in data if isinstance(p, tuple)]
    subject = parts[0][1].decode().strip()
    k = int(subject.split()[-1])
    seen.add(k)
    if parts[1][1] != body:
        damaged.append((k, len(parts[1][1])))
m.logout()
print("missing", sorted(accepted - seen), "damaged", damaged)
"#;

#[test]
fn forty_parallel_19_mb_uploads_keep_memory_bounded_and_arrive_intact() {
    let mut t = Target::start(|_| {});
    let before = t.rss_mb();
    let (code, out, err) = python(UPLOAD, &[&t.ports.smtp.to_string(), &UPLOADS.to_string(), &BODY_BYTES.to_string()]);
    t.assert_up("parallel large uploads");
    assert_eq!(code, 0, "{out}{err}");
    let codes: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(codes.len(), UPLOADS, "{out}");
    // Refusing some uploads (452, 421: too busy) is fair; dropping them without a reply is not.
    for c in &codes {
        assert!(c.len() == 3 && c.parse::<u16>().is_ok(), "an upload got no reply: {c} (all: {out})");
    }
    let accepted: Vec<String> =
        codes.iter().enumerate().filter(|(_, c)| **c == "250").map(|(k, _)| k.to_string()).collect();
    assert!(!accepted.is_empty(), "no upload accepted: {out}");
    let (code, check, err) = python(CHECK, &[&t.ports.imap.to_string(), &BODY_BYTES.to_string(), &accepted.join(",")]);
    assert_eq!(code, 0, "{check}{err}");
    let (peak, after) = (t.peak_rss_mb(), t.rss_mb());
    let _ = writeln!(
        std::io::stderr(),
        "large bodies: {} of {UPLOADS} uploads of {BODY_BYTES} bytes accepted; RSS before {before} MB, peak {peak} MB, after {after} MB",
        accepted.len()
    );
    assert_eq!(check.trim(), "missing [] damaged []", "accepted messages lost or damaged");
    assert!(
        peak < BOUND_MB,
        "resident memory peaked at {peak} MB (bound {BOUND_MB} MB; before {before} MB, after {after} MB)"
    );
    t.assert_healthy("after parallel large uploads");
}
