#!/usr/bin/env python3
"""Memory cost of idle IMAP connections: opens N connections to an IMAP server, each one LOGIN,
SELECT INBOX and IDLE, and reports how much the server's resident memory grew per connection.

    python3 benches/imap-idle-memory.py --port 10143 --user u --password p --pid 1234 [--tree]

--pid is the server's process; with --tree every process below it is counted too (a server that
forks a process per connection, like Dovecot): the sum of their VmRSS (pages shared between the
processes counted in each one) and of their Pss (shared pages divided among the processes).
Called by benches/imap-idle-memory.sh; prints a human report on stderr and one line on stdout:

    RESULT label wanted idling failed seconds procs_before procs_after rss_before_kib rss_after_kib pss_before_kib pss_after_kib
"""

import argparse
import asyncio
import os
import resource
import sys
import time


def log(msg):
    print(f"[idle] {msg}", file=sys.stderr, flush=True)


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def children_map():
    """ppid -> [pid] for every process."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def status_kib(pid, path, key):
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def memory(pid, tree):
    """(process count, VmRSS KiB, Pss KiB) of pid, and with tree of every process below it."""
    pids = [pid]
    if tree:
        kids = children_map()
        i = 0
        while i < len(pids):
            pids.extend(kids.get(pids[i], []))
            i += 1
    rss = sum(status_kib(p, "status", "VmRSS") for p in pids)
    pss = sum(status_kib(p, "smaps_rollup", "Pss") for p in pids)
    return len(pids), rss, pss


class ImapError(Exception):
    pass


async def expect_tagged(reader, tag, timeout):
    """Reads lines until the tagged reply of `tag`; raises unless it is OK."""
    while True:
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise ImapError(f"connection closed before the reply to {tag.decode()}")
        if line.startswith(tag + b" "):
            if line[len(tag) + 1 :].upper().startswith(b"OK"):
                return
            raise ImapError(line.decode("utf-8", "replace").strip())


async def open_idle(args, timeout):
    """One connection: greeting, LOGIN, SELECT INBOX, IDLE; returns (reader, writer) once idling."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), timeout)
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        if not greeting.upper().startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting.decode('utf-8', 'replace').strip()!r}")
        writer.write(f"a LOGIN {quoted(args.user)} {quoted(args.password)}\r\n".encode())
        await expect_tagged(reader, b"a", timeout)
        writer.write(b"b SELECT INBOX\r\n")
        await expect_tagged(reader, b"b", timeout)
        writer.write(b"c IDLE\r\n")
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if not line:
                raise ImapError("connection closed after IDLE")
            if line.startswith(b"+"):
                return reader, writer
            if line.startswith(b"c "):
                raise ImapError(f"IDLE: {line.decode('utf-8', 'replace').strip()}")
    except BaseException:
        writer.close()
        raise


async def run(args):
    timeout = args.timeout
    # warm-up: one complete connection first, so one-time allocations (caches, pools, the first
    # login) are not counted per connection
    try:
        _, w = await open_idle(args, timeout)
        w.close()
    except (OSError, ImapError, asyncio.TimeoutError) as e:
        log(f"{args.label}: the warm-up connection failed: {e!r}")
        print(f"RESULT {args.label} {args.connections} 0 {args.connections} 0 0 0 0 0 0 0")
        return 1
    await asyncio.sleep(args.settle)
    before = memory(args.pid, args.tree)

    sem = asyncio.Semaphore(args.parallel)
    open_conns = []
    errors = {}

    async def one():
        async with sem:
            try:
                open_conns.append(await open_idle(args, timeout))
            except (OSError, ImapError, asyncio.TimeoutError) as e:
                key = type(e).__name__ + ": " + str(e)[:120]
                errors[key] = errors.get(key, 0) + 1

    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one()) for _ in range(args.connections)]
    done = 0
    while done < len(tasks):
        await asyncio.sleep(2)
        done = sum(t.done() for t in tasks)
        log(f"{args.label}: {len(open_conns)} idling, {sum(errors.values())} failed, {done}/{len(tasks)} finished")
    seconds = time.monotonic() - t0

    await asyncio.sleep(args.settle)
    # the connections must still be there when the memory is read
    alive = sum(1 for r, _ in open_conns if not r.at_eof())
    after = memory(args.pid, args.tree)
    for kind, n in sorted(errors.items(), key=lambda kv: -kv[1])[:5]:
        log(f"{args.label}: {n} x {kind}")

    idling = alive
    failed = args.connections - idling
    grow_rss = after[1] - before[1]
    grow_pss = after[2] - before[2]
    per = (lambda kib: f"{kib / idling:.1f} KiB") if idling else (lambda kib: "n/a")
    log(
        f"{args.label}: {idling} of {args.connections} connections idling after {seconds:.1f}s; "
        f"{after[0]} process(es) (before: {before[0]})"
    )
    log(
        f"{args.label}: VmRSS {before[1] / 1024:.1f} MiB -> {after[1] / 1024:.1f} MiB, "
        f"+{per(grow_rss)} per connection; Pss {before[2] / 1024:.1f} MiB -> {after[2] / 1024:.1f} MiB, "
        f"+{per(grow_pss)} per connection"
    )
    print(
        f"RESULT {args.label} {args.connections} {idling} {failed} {seconds:.1f} {before[0]} {after[0]} "
        f"{before[1]} {after[1]} {before[2]} {after[2]}",
        flush=True,
    )
    for _, w in open_conns:
        w.close()
    await asyncio.sleep(0.5)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--pid", type=int, required=True, help="the server's process id")
    p.add_argument("--tree", action="store_true", help="also count every process below --pid")
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--parallel", type=int, default=100, help="connections being set up at the same time")
    p.add_argument("--timeout", type=float, default=60, help="seconds for each step of a connection")
    p.add_argument("--settle", type=float, default=3, help="seconds to wait before each measurement")
    p.add_argument("--label", default="server")
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 64
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard) if hard != resource.RLIM_INFINITY else need, hard))
        except (ValueError, OSError):
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < need:
            log(f"open files limit {soft} < {need}: some connections will fail (raise ulimit -n)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
