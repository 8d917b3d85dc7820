#!/usr/bin/env python3
"""Server memory under connection and logon load: two phases against one running server, with its
resident memory (VmRSS of --pid) read before, sampled during (peak) and read after each phase.

    python3 benches/logon-memory.py --imap-port 10143 --pop3-port 10110 --pid 1234 \
        --accounts 1000 --password pw --logons 10000 --parallel 10 --idle 2000

Phase "idle": --idle connections to the IMAP port that read the greeting and stay open without
logging on, all at once; then all are closed.
Phase "logons": --logons logons on fresh connections, --parallel at a time, alternating IMAP
(LOGIN, LOGOUT) and POP3 (USER, PASS, QUIT); logon i uses account i mod --accounts
(user{n}@bench.test), so every account logs on logons/accounts times.

Called by benches/logon-memory.sh; prints a human report on stderr and one line per phase on
stdout:

    RESULT phase count failed seconds rss_before_kib rss_peak_kib rss_after_kib
"""

import argparse
import asyncio
import sys
import time


def log(msg):
    print(f"[logon] {msg}", file=sys.stderr, flush=True)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Peak:
    """Samples the server's VmRSS every 50 ms while a phase runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.task = pid, 0, None

    async def _sample(self):
        while True:
            self.peak = max(self.peak, rss_kib(self.pid))
            await asyncio.sleep(0.05)

    def start(self):
        self.peak = rss_kib(self.pid)
        self.task = asyncio.ensure_future(self._sample())

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        return max(self.peak, rss_kib(self.pid))


async def line(reader, timeout):
    data = await asyncio.wait_for(reader.readline(), timeout)
    if not data:
        raise ConnectionError("connection closed")
    return data.decode("utf-8", "replace").rstrip("\r\n")


async def imap_logon(port, user, password, timeout):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        greeting = await line(reader, timeout)
        if not greeting.startswith("* OK"):
            raise ConnectionError(f"greeting {greeting!r}")
        writer.write(f'a LOGIN "{user}" "{password}"\r\n'.encode())
        while True:
            reply = await line(reader, timeout)
            if reply.startswith("a "):
                break
        if not reply.startswith("a OK"):
            raise ConnectionError(f"LOGIN: {reply!r}")
        writer.write(b"b LOGOUT\r\n")
        while not (await line(reader, timeout)).startswith("b "):
            pass
    finally:
        writer.close()


async def pop3_logon(port, user, password, timeout):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for command in (None, f"USER {user}", f"PASS {password}", "QUIT"):
            if command:
                writer.write(f"{command}\r\n".encode())
            reply = await line(reader, timeout)
            if not reply.startswith("+OK"):
                raise ConnectionError(f"{(command or 'greeting').split()[0]}: {reply!r}")
    finally:
        writer.close()


async def idle_phase(args, peak):
    before = rss_kib(args.pid)
    peak.start()
    started = time.monotonic()
    conns, failed = [], 0

    async def open_one():
        reader, writer = await asyncio.open_connection("127.0.0.1", args.imap_port)
        greeting = await line(reader, args.timeout)
        if not greeting.startswith("* OK"):
            writer.close()
            raise ConnectionError(f"greeting {greeting!r}")
        return writer

    sem = asyncio.Semaphore(200)

    async def guarded():
        async with sem:
            return await open_one()

    for result in await asyncio.gather(*(guarded() for _ in range(args.idle)), return_exceptions=True):
        if isinstance(result, BaseException):
            failed += 1
            if failed <= 3:
                log(f"idle connection failed: {result!r}")
        else:
            conns.append(result)
    log(f"{len(conns)} idle connections open ({failed} failed), RSS {rss_kib(args.pid)} KiB")
    await asyncio.sleep(args.settle)
    for writer in conns:
        writer.close()
    seconds = time.monotonic() - started
    await asyncio.sleep(args.settle)
    top = await peak.stop()
    return ("idle", len(conns), failed, seconds, before, top, rss_kib(args.pid))


async def logon_phase(args, peak):
    before = rss_kib(args.pid)
    peak.start()
    started = time.monotonic()
    queue = asyncio.Queue()
    for i in range(args.logons):
        queue.put_nowait(i)
    failures = []

    async def client():
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            user = f"user{i % args.accounts}@bench.test"
            try:
                if i % 2 == 0:
                    await imap_logon(args.imap_port, user, args.password, args.timeout)
                else:
                    await pop3_logon(args.pop3_port, user, args.password, args.timeout)
            except (OSError, ConnectionError, asyncio.TimeoutError) as e:
                failures.append(e)
                if len(failures) <= 3:
                    log(f"logon {i} ({user}) failed: {e!r}")
            if i and i % 1000 == 0:
                log(f"{i} logons, RSS {rss_kib(args.pid)} KiB")

    await asyncio.gather(*(client() for _ in range(args.parallel)))
    seconds = time.monotonic() - started
    await asyncio.sleep(args.settle)
    top = await peak.stop()
    return ("logons", args.logons - len(failures), len(failures), seconds, before, top, rss_kib(args.pid))


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--imap-port", type=int, required=True)
    p.add_argument("--pop3-port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--password", required=True)
    p.add_argument("--logons", type=int, default=10000)
    p.add_argument("--parallel", type=int, default=10)
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    peak = Peak(args.pid)
    results = []
    if args.idle > 0:
        results.append(await idle_phase(args, peak))
    if args.logons > 0:
        results.append(await logon_phase(args, peak))
    for phase, count, failed, seconds, before, top, after in results:
        log(f"{phase}: {count} ok, {failed} failed in {seconds:.1f}s; RSS {before} -> peak {top} -> {after} KiB")
        print(f"RESULT {phase} {count} {failed} {seconds:.1f} {before} {top} {after}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
