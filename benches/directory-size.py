#!/usr/bin/env python3
"""Helper of directory-size.sh: fills an Altimail SQLite database with a directory of a given
size, measures RCPT / IMAP LOGIN / POP3 logon latency and SMTP throughput against a running
server, and prints the comparison of two runs.

  populate DB --domains D --per-domain A [--aliases-per-domain N] [--lists L] [--list-members M]
           [--domain-aliases K]
  measure --phase rcpt|logons|smtp --round N --smtp PORT --imap PORT --pop3 PORT --db DB
          --domains D --per-domain A [...] --out FILE.json      (adds one phase's figures)
  report SMALL.json LARGE.json

Names (the same in populate and measure): domain i is d{i}.bench.test, account j of it
u{j}@d{i}.bench.test, alias k a{k}@d{i}.bench.test (to u{k}@ of its domain), list l
l{l}@d{l}.bench.test with members u0..u{M-1}@ of its domain, domain alias k da{k}.bench.test
(for d{k}.bench.test). Every account's password is PASSWORD, stored as hMailServer's salted
SHA-256 (type 3), so password hashing costs microseconds and the lookups are what is measured.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import sqlite3
import statistics
import sys
import time

PASSWORD = "bench-secret"
SENDER = "someone@remote.test"


def domain(i):
    return f"d{i}.bench.test"


def account(i, j):
    return f"u{j}@{domain(i)}"


# --- populate ----------------------------------------------------------------------------------


def sha256_password(password, salt):
    return salt + hashlib.sha256((salt + password).encode()).hexdigest()


def template_row(db, table, key, value):
    cur = db.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,))
    row = cur.fetchone()
    if row is None:
        sys.exit(f"populate: no template row in {table} with {key} = {value!r}")
    return dict(zip([c[0] for c in cur.description], row))


def insert_many(db, table, pk, template, rows):
    """Inserts one row per dict in `rows`: the template row with those columns changed, a new key."""
    cols = [c for c in template if c != pk]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    db.executemany(sql, ([{**template, **r}[c] for c in cols] for r in rows))


def populate(args):
    """Copies the template objects made with the CLI (domain template.test, account
    t@template.test with its INBOX, alias ta@, list tl@ with one member, domain alias
    tda.test) into the requested directory, in one transaction."""
    t0 = time.monotonic()
    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("BEGIN")
    t_domain = template_row(db, "hm_domains", "domainname", "template.test")
    t_account = template_row(db, "hm_accounts", "accountaddress", "t@template.test")
    t_inbox = template_row(db, "hm_imapfolders", "folderaccountid", t_account["accountid"])
    t_alias = template_row(db, "hm_aliases", "aliasname", "ta@template.test")
    t_list = template_row(db, "hm_distributionlists", "distributionlistaddress", "tl@template.test")
    t_member = template_row(
        db, "hm_distributionlistsrecipients", "distributionlistrecipientlistid", t_list["distributionlistid"]
    )
    t_dalias = template_row(db, "hm_domain_aliases", "daalias", "tda.test")

    insert_many(db, "hm_domains", "domainid", t_domain, ({"domainname": domain(i)} for i in range(args.domains)))
    domain_ids = dict(db.execute("SELECT domainname, domainid FROM hm_domains"))
    rnd = random.Random(7)
    salt = "".join(rnd.choice("0123456789abcdef") for _ in range(6))
    stored = sha256_password(PASSWORD, salt)
    insert_many(
        db,
        "hm_accounts",
        "accountid",
        t_account,
        (
            {
                "accountdomainid": domain_ids[domain(i)],
                "accountaddress": account(i, j),
                "accountpassword": stored,
                "accountpwencryption": 3,
            }
            for i in range(args.domains)
            for j in range(args.per_domain)
        ),
    )
    account_ids = db.execute(
        "SELECT accountid FROM hm_accounts WHERE accountaddress LIKE 'u%@d%.bench.test'"
    ).fetchall()
    insert_many(db, "hm_imapfolders", "folderid", t_inbox, ({"folderaccountid": a} for (a,) in account_ids))
    insert_many(
        db,
        "hm_aliases",
        "aliasid",
        t_alias,
        (
            {"aliasdomainid": domain_ids[domain(i)], "aliasname": f"a{k}@{domain(i)}", "aliasvalue": account(i, k)}
            for i in range(args.domains)
            for k in range(args.aliases_per_domain)
        ),
    )
    insert_many(
        db,
        "hm_distributionlists",
        "distributionlistid",
        t_list,
        (
            {"distributionlistdomainid": domain_ids[domain(l)], "distributionlistaddress": f"l{l}@{domain(l)}"}
            for l in range(args.lists)
        ),
    )
    list_ids = dict(
        db.execute(
            "SELECT distributionlistaddress, distributionlistid FROM hm_distributionlists "
            "WHERE distributionlistaddress LIKE 'l%@d%.bench.test'"
        )
    )
    insert_many(
        db,
        "hm_distributionlistsrecipients",
        "distributionlistrecipientid",
        t_member,
        (
            {
                "distributionlistrecipientlistid": list_ids[f"l{l}@{domain(l)}"],
                "distributionlistrecipientaddress": account(l, m),
            }
            for l in range(args.lists)
            for m in range(args.list_members)
        ),
    )
    insert_many(
        db,
        "hm_domain_aliases",
        "daid",
        t_dalias,
        ({"dadomainid": domain_ids[domain(k)], "daalias": f"da{k}.bench.test"} for k in range(args.domain_aliases)),
    )
    # Logons keep the salted SHA-256 passwords (no re-hashing to Argon2id at the first logon).
    db.execute("DELETE FROM hm_settings WHERE settingname = 'altimailkeepsha256passwords'")
    db.execute(
        "INSERT INTO hm_settings (settingname, settingstring, settinginteger) "
        "VALUES ('altimailkeepsha256passwords', '', 1)"
    )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    counts = {
        t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("hm_domains", "hm_accounts", "hm_aliases", "hm_distributionlists",
                  "hm_distributionlistsrecipients", "hm_domain_aliases")
    }
    db.close()
    print(json.dumps({"seconds": round(time.monotonic() - t0, 1), "rows": counts}))


# --- measuring ----------------------------------------------------------------------------------


class Line:
    """A blocking line-oriented client connection."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def line(self):
        data = self.file.readline()
        if not data:
            raise ConnectionError("connection closed")
        return data.decode("utf-8", "replace").rstrip("\r\n")

    def smtp_reply(self):
        while True:
            line = self.line()
            if line[3:4] != "-":
                return line

    def imap_tagged(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line

    def close(self):
        self.sock.close()


def summary(samples):
    """Median, mean and 95th percentile in microseconds."""
    s = sorted(samples)
    return {
        "n": len(s),
        "median_us": round(statistics.median(s) * 1e6, 1),
        "mean_us": round(statistics.fmean(s) * 1e6, 1),
        "p95_us": round(s[int(len(s) * 0.95) - 1] * 1e6, 1),
    }


def rcpt_kinds(args):
    """The kinds of RCPT measured, each a function giving a random address and the reply class."""
    rnd = random.Random(11 + args.round)
    d, a = args.domains, args.per_domain
    kinds = {
        "account": (lambda: account(rnd.randrange(d), rnd.randrange(a)), "2"),
        "unknown user": (lambda: f"nobody{rnd.randrange(10**6)}@{domain(rnd.randrange(d))}", "5"),
    }
    if args.aliases_per_domain:
        kinds["alias"] = (lambda: f"a{rnd.randrange(args.aliases_per_domain)}@{domain(rnd.randrange(d))}", "2")
    if args.lists:
        kinds[f"list ({args.list_members} members)"] = (
            lambda: (lambda l: f"l{l}@{domain(l)}")(rnd.randrange(args.lists)),
            "2",
        )
    if args.domain_aliases:
        kinds["via domain alias"] = (
            lambda: (lambda k: f"u{rnd.randrange(a)}@da{k}.bench.test")(rnd.randrange(args.domain_aliases)),
            "2",
        )
    return kinds, rnd


def measure_rcpt(args):
    kinds, rnd = rcpt_kinds(args)
    names = list(kinds)
    c = Line(args.smtp)
    c.smtp_reply()
    c.send("EHLO bench.client")
    c.smtp_reply()
    samples = {k: [] for k in names}
    total = args.warmup + args.rcpts
    in_transaction = 0
    for n in range(total):
        if in_transaction == 0:
            c.send(f"MAIL FROM:<{SENDER}>")
            if not c.smtp_reply().startswith("250"):
                sys.exit("MAIL FROM refused")
        kind = names[n % len(names)] if n < args.warmup else rnd.choice(names)
        make, want = kinds[kind]
        address = make()
        t = time.perf_counter()
        c.send(f"RCPT TO:<{address}>")
        reply = c.smtp_reply()
        dt = time.perf_counter() - t
        if not reply.startswith(want):
            sys.exit(f"RCPT TO:<{address}> ({kind}): {reply}")
        if n >= args.warmup:
            samples[kind].append(dt)
        in_transaction += 1
        # A transaction with few recipients: the measurement is the lookup, not a long list.
        if in_transaction == 20:
            c.send("RSET")
            c.smtp_reply()
            in_transaction = 0
    c.send("QUIT")
    c.close()
    return {k: summary(v) for k, v in samples.items()}


def logon_set(args):
    """The accounts logons use: the same number in both runs, spread over the whole directory."""
    rnd = random.Random(5)
    total = args.domains * args.per_domain
    picks = rnd.sample(range(total), min(args.logon_accounts, total))
    return [account(p // args.per_domain, p % args.per_domain) for p in picks], rnd


def imap_login(port, user):
    c = Line(port)
    c.line()
    t = time.perf_counter()
    c.send(f'a LOGIN "{user}" "{PASSWORD}"')
    reply = c.imap_tagged("a")
    dt = time.perf_counter() - t
    if not reply.startswith("a OK"):
        sys.exit(f"IMAP LOGIN {user}: {reply}")
    c.send("b LOGOUT")
    c.imap_tagged("b")
    c.close()
    return dt


def pop3_logon(port, user):
    # The previous session of the same account may still hold its mailbox for a moment after
    # its QUIT was answered: try again (the figure is the logon that got in).
    for _ in range(50):
        dt = pop3_logon_once(port, user)
        if dt is not None:
            return dt
        time.sleep(0.01)
    sys.exit(f"POP3 logon {user}: mailbox still in use after 50 tries")


def pop3_logon_once(port, user):
    c = Line(port)
    c.line()
    t = time.perf_counter()
    c.send(f"USER {user}")
    r1 = c.line()
    c.send(f"PASS {PASSWORD}")
    r2 = c.line()
    dt = time.perf_counter() - t
    if r2.startswith("-ERR [IN-USE]"):
        c.close()
        return None
    if not (r1.startswith("+OK") and r2.startswith("+OK")):
        sys.exit(f"POP3 logon {user}: {r1} / {r2}")
    c.send("QUIT")
    c.line()
    c.close()
    return dt


def measure_logons(args, port, logon):
    users, rnd = logon_set(args)
    # A first logon of each account makes its IMAP folders and writes its logon time: done
    # before measuring, so both runs measure logons that only look up and check.
    for u in users:
        logon(port, u)
    samples = [logon(port, rnd.choice(users)) for _ in range(args.logons)]
    return summary(samples)


async def send_messages(port, recipients, payload):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply():
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("connection closed")
            if line[3:4] != b"-":
                return line

    async def command(line, want=b"2"):
        writer.write(line.encode() + b"\r\n")
        r = await reply()
        if not r.startswith(want):
            raise RuntimeError(f"{line}: {r!r}")

    await reply()
    await command("EHLO bench.client")
    for rcpt in recipients:
        await command(f"MAIL FROM:<{SENDER}>")
        await command(f"RCPT TO:<{rcpt}>")
        await command("DATA", b"354")
        writer.write(payload)
        r = await reply()
        if not r.startswith(b"250"):
            raise RuntimeError(f"end of DATA: {r!r}")
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()


async def throughput(args):
    rnd = random.Random(3 + args.round)
    body = "".join(f"line {i:04d} of a benchmark message, padding to about four kilobytes.......\r\n" for i in range(52))
    payload = f"From: <{SENDER}>\r\nSubject: directory benchmark\r\n\r\n{body}.\r\n".encode()
    total = args.messages
    # The accounts the logons use (as many in both runs, spread over the whole directory): with
    # random accounts of 100,000, most messages of (b) would be a mailbox's first, whose folders
    # delivery makes on disk, so (b) would measure mailbox creation rather than lookups.
    accounts, _ = logon_set(args)
    rcpts = [rnd.choice(accounts) for _ in range(total)]
    # One connection per message, as smtp-source does by default.
    queue = asyncio.Queue()
    for r in rcpts:
        queue.put_nowait(r)

    async def sender():
        while not queue.empty():
            r = queue.get_nowait()
            await send_messages(args.smtp, [r], payload)

    t = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(args.senders)))
    dt = time.perf_counter() - t
    return {"messages": total, "senders": args.senders, "seconds": round(dt, 3), "msg_per_s": round(total / dt, 1)}


def queued(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM hm_messages WHERE messagetype = 1").fetchone()[0]
    finally:
        db.close()


def server_cpu_ms(pid):
    """CPU time (user + system, every thread) the server process has used so far, in ms."""
    if not pid:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def measure(args):
    """One phase of one round against one server; its figures are added to the side's file."""
    try:
        with open(args.out) as f:
            result = json.load(f)
    except FileNotFoundError:
        result = {
            "directory": {
                "domains": args.domains,
                "accounts": args.domains * args.per_domain,
                "aliases": args.domains * args.aliases_per_domain,
                "lists": args.lists,
                "domain_aliases": args.domain_aliases,
            },
            "rounds": [],
        }
    if args.phase == "rcpt":
        figures = {"rcpt": measure_rcpt(args)}
    elif args.phase == "logons":
        figures = {
            "imap_login": measure_logons(args, args.imap, imap_login),
            "pop3_logon": measure_logons(args, args.pop3, pop3_logon),
        }
    else:
        cpu0 = server_cpu_ms(args.pid)
        figures = {"smtp": asyncio.run(throughput(args))}
        # Wait until the accepted messages are delivered, so the next run starts on an idle server.
        t = time.monotonic()
        while queued(args.db) > 0:
            if time.monotonic() - t > 600:
                sys.exit("the queue did not drain within 600 s")
            time.sleep(0.2)
        figures["smtp"]["drained_s"] = round(time.monotonic() - t, 1)
        if cpu0 is not None:
            # What acceptance and delivery of one message cost the server, whatever else the
            # machine was doing: a figure that a busy machine disturbs far less than msg/s.
            figures["smtp"]["server_cpu_ms_per_msg"] = round((server_cpu_ms(args.pid) - cpu0) / args.messages, 3)
    result["rounds"].append({"round": args.round, **figures})
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


# --- report -------------------------------------------------------------------------------------


def combined(side):
    """Per measure, the median over the rounds of each round's median and 95th percentile."""
    out = {}
    for r in side["rounds"]:
        for key, value in r.items():
            if key == "rcpt":
                for kind, fig in value.items():
                    out.setdefault(f"RCPT: {kind}", []).append(fig)
            elif key in ("imap_login", "pop3_logon"):
                out.setdefault({"imap_login": "IMAP LOGIN", "pop3_logon": "POP3 USER+PASS"}[key], []).append(value)
            elif key == "smtp":
                out.setdefault("smtp", []).append(value)
    return out


def report(args):
    a = json.load(open(args.small))
    b = json.load(open(args.large))
    ca, cb = combined(a), combined(b)

    def name(r):
        d = r["directory"]
        return (f"{d['accounts']} accounts in {d['domains']} domains, {d['aliases']} aliases, "
                f"{d['lists']} lists, {d['domain_aliases']} domain aliases")

    rounds = len({r["round"] for r in a["rounds"]})
    print(f"(a) {name(a)}")
    print(f"(b) {name(b)}")
    print(f"{rounds} round(s); latency: median over the rounds of each round's median and 95th percentile")
    print(f"{'measure':28} {'(a) median':>11} {'(b) median':>11} {'(a) p95':>9} {'(b) p95':>9} {'b/a':>6}")
    worst = 0.0
    for label, xs in ca.items():
        ys = cb.get(label)
        if label == "smtp" or not ys:
            continue
        xm = statistics.median(x["median_us"] for x in xs)
        ym = statistics.median(y["median_us"] for y in ys)
        xp = statistics.median(x["p95_us"] for x in xs)
        yp = statistics.median(y["p95_us"] for y in ys)
        ratio = ym / xm
        worst = max(worst, ratio)
        print(f"{label:28} {xm:>9.0f}us {ym:>9.0f}us {xp:>7.0f}us {yp:>7.0f}us {ratio:>6.2f}")
    xs = statistics.median(x["msg_per_s"] for x in ca["smtp"])
    ys = statistics.median(y["msg_per_s"] for y in cb["smtp"])
    tratio = ys / xs
    print(f"{'SMTP accepted msg/s':28} {xs:>11.1f} {ys:>11.1f} {'':>9} {'':>9} {tratio:>6.2f}")
    cpu = [[x.get("server_cpu_ms_per_msg") for x in c["smtp"]] for c in (ca, cb)]
    if all(v is not None for side in cpu for v in side):
        xc, yc = statistics.median(cpu[0]), statistics.median(cpu[1])
        print(f"{'SMTP server CPU ms/msg':28} {xc:>11.3f} {yc:>11.3f} {'':>9} {'':>9} {yc / xc:>6.2f}")
    print(f"(b)/(a): worst latency ratio {worst:.2f}, throughput ratio {tratio:.2f} "
          f"(target: latency at most 1.10, throughput at least 0.90)")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    def sizes(q):
        q.add_argument("--domains", type=int, required=True)
        q.add_argument("--per-domain", type=int, required=True)
        q.add_argument("--aliases-per-domain", type=int, default=0)
        q.add_argument("--lists", type=int, default=0)
        q.add_argument("--list-members", type=int, default=0)
        q.add_argument("--domain-aliases", type=int, default=0)

    q = sub.add_parser("populate")
    q.add_argument("db")
    sizes(q)
    q = sub.add_parser("measure")
    sizes(q)
    q.add_argument("--smtp", type=int, required=True)
    q.add_argument("--imap", type=int, required=True)
    q.add_argument("--pop3", type=int, required=True)
    q.add_argument("--rcpts", type=int, default=5000)
    q.add_argument("--warmup", type=int, default=500)
    q.add_argument("--logons", type=int, default=1000)
    q.add_argument("--logon-accounts", type=int, default=100)
    q.add_argument("--messages", type=int, default=2000)
    q.add_argument("--senders", type=int, default=20)
    q.add_argument("--db", required=True, help="the server's SQLite database (to wait for its queue)")
    q.add_argument("--phase", choices=("rcpt", "logons", "smtp"), required=True)
    q.add_argument("--pid", type=int, help="the server's process id, for its CPU time per message")
    q.add_argument("--round", type=int, default=1)
    q.add_argument("--out", required=True)
    q = sub.add_parser("report")
    q.add_argument("small")
    q.add_argument("large")
    args = p.parse_args()
    {"populate": populate, "measure": measure, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
