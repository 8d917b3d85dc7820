#!/usr/bin/env python3
"""Follows README.md's "Quick start" word for word on this checkout, as a new user would.

Runs every command of the section's shell blocks as written: the `serve` command in the
background, the rest one after the other (the test-suite command is left to .ci/run, which
runs it itself). Then checks that the result is a working mail server: the account quickstart
made receives a message over SMTP submission (STARTTLS, AUTH) and reads it over IMAP (implicit
TLS), and SIGTERM stops the server with status 0.
"""
import imaplib
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)


def fail(msg):
    sys.exit(f"readme walkthrough: {msg}")


def quick_start_commands():
    text = open("README.md", encoding="utf-8").read()
    m = re.search(r"^## Quick start\n(.*?)^## ", text, re.S | re.M)
    if not m:
        fail('README.md has no "## Quick start" section')
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", m.group(1), re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def wait_port(port, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    fail(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


commands = quick_start_commands()
serve = [c for c in commands if c.endswith(" serve")]
if len(serve) != 1:
    fail(f"expected one serve command in Quick start, found {serve}")
if not any(c == "cargo test --workspace" for c in commands):
    fail("Quick start no longer names `cargo test --workspace` (.ci/run runs the suite itself)")
if os.path.exists("altimail-data"):
    fail("altimail-data/ exists already: the walkthrough needs a clean checkout")

print(f"==> {serve[0]} (in the background)", flush=True)
server = subprocess.Popen(["bash", "-c", "exec " + serve[0]], stdout=subprocess.DEVNULL, stderr=open("/tmp/readme-serve.log", "w"))
try:
    wait_port(587, 1800)  # the first `cargo run --release` builds
    outputs = {}
    for c in commands:
        if c in serve or c == "cargo test --workspace":
            continue
        print(f"==> {c}", flush=True)
        r = subprocess.run(["bash", "-c", c], capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            fail(f"`{c}` exited with {r.returncode}: {r.stderr.strip()}")
        outputs[c] = r.stdout
    quick = next((o for c, o in outputs.items() if " quickstart " in c), None)
    if quick is None:
        fail("Quick start has no quickstart command")
    m = re.search(r"address\s+(\S+@\S+)\n\s+login\s+\S+.*\n\s+password\s+(\S+)", quick)
    if not m:
        fail("no address and password in quickstart's output")
    address, password = m.group(1), m.group(2)
    for needle in ["MX", "v=spf1", "v=DKIM1", "_dmarc", "autoconfig", "port 993", "port 465"]:
        if needle not in quick:
            fail(f"quickstart's output lacks {needle!r}")

    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the self-signed certificate of a new installation
    with smtplib.SMTP("127.0.0.1", 587, timeout=30) as smtp:
        smtp.starttls(context=tls)
        smtp.login(address, password)
        smtp.sendmail(address, [address], f"From: <{address}>\r\nTo: <{address}>\r\nSubject: readme walkthrough\r\n\r\nHello.\r\n")
    deadline = time.time() + 60
    while True:
        imap = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=tls, timeout=30)
        imap.login(address, password)
        imap.select("INBOX")
        _, found = imap.search(None, '(SUBJECT "readme walkthrough")')
        imap.logout()
        if found[0].split():
            break
        if time.time() > deadline:
            fail("the message sent over submission did not reach the INBOX within 60s")
        time.sleep(1)
    print(f"==> {address}: sent over 587 (STARTTLS, AUTH), read over 993 (TLS)", flush=True)
finally:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            fail("the server did not stop within 60s of SIGTERM")
    code = server.returncode
    if code != 0:
        sys.stderr.write(open("/tmp/readme-serve.log").read()[-4000:])
        fail(f"the server ended with status {code}")
print("==> README walkthrough: ok")
