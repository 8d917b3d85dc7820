//! Logon load: POP3 logons from parallel clients on accounts with Argon2id passwords (what
//! `altimail account add` stores). Each check needs 19 MiB of working memory; the server's
//! resident memory must stay bounded however many checks run.

use std::io::Write;

use crate::common::python;
use crate::support::Target;

const ACCOUNTS: usize = 100;
const CLIENTS: usize = 10;
const SECONDS: u64 = 10;
/// The resident-memory bound, in MB.
const BOUND_MB: u64 = 150;

/// `POP3 ACCOUNTS CLIENTS SECONDS`: client c logs on as user{k} for k = c, c + CLIENTS, … in
/// turn (no two clients share a mailbox) until the time is up; prints `logons failures`.
const LOAD: &str = r#"
import poplib, sys, threading, time
port, accounts, clients, seconds = (int(a) for a in sys.argv[1:5])
stop = time.time() + seconds
done, failed = [0] * clients, []
def client(c):
    mine = list(range(c, accounts, clients))
    n = 0
    while time.time() < stop:
        k = mine[n % len(mine)]
        n += 1
        try:
            p = poplib.POP3("127.0.0.1", port, timeout=60)
            p.user("user%d@example.com" % k)
            p.pass_("password-%d" % k)
            p.quit()
            done[c] += 1
        except Exception as e:
            failed.append("user%d: %r" % (k, e))
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(done), len(failed), failed[:5])
"#;

#[test]
fn pop3_logon_load_on_argon2id_accounts_keeps_memory_bounded() {
    let mut t = Target::start(|i| {
        // The CLI hashes each password with Argon2id; two at a time (the machine may have two cores).
        std::thread::scope(|s| {
            for half in 0..2 {
                s.spawn(move || {
                    for k in (half..ACCOUNTS).step_by(2) {
                        let password = format!("password-{k}");
                        i.ok(&["account", "add", &format!("user{k}@example.com"), "--password", &password]);
                    }
                });
            }
        });
    });
    let before = t.rss_mb();
    let (code, out, err) =
        python(LOAD, &[&t.ports.pop3.to_string(), &ACCOUNTS.to_string(), &CLIENTS.to_string(), &SECONDS.to_string()]);
    t.assert_up("POP3 logon load");
    assert_eq!(code, 0, "{out}{err}");
    let mut fields = out.split_whitespace();
    let logons: u64 = fields.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    let failures: u64 = fields.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    let (peak, after) = (t.peak_rss_mb(), t.rss_mb());
    let _ = writeln!(
        std::io::stderr(),
        "logon load: {logons} POP3 logons in {SECONDS} s from {CLIENTS} clients; RSS before {before} MB, peak {peak} MB, after {after} MB"
    );
    assert_eq!(failures, 0, "logons failed: {out}");
    assert!(logons >= CLIENTS as u64, "only {logons} logons in {SECONDS} s: {out}");
    assert!(
        peak < BOUND_MB,
        "resident memory peaked at {peak} MB (bound {BOUND_MB} MB; before {before} MB, after {after} MB)"
    );
    t.assert_healthy("after the logon load");
}
