#!/usr/bin/env python3
"""Writes the message benches/antispam-throughput.sh sends: a DKIM-signed message (rsa-sha256,
relaxed/relaxed, dkimpy) of about SIZE payload bytes, with LF line ends, the form smtp-source -F
sends (it adds CRLF to each line and the final dot). The signature is checked against the
public key before the file is written, so a bad signature fails here, not in the server.

    antispam-message.py OUT KEY.pem SELECTOR DOMAIN FROM TO SIZE PUBLIC-KEY-BASE64
"""
import random
import sys

import dkim  # dkimpy

out, key_file, selector, domain, sender, to, size, public = sys.argv[1:9]
size = int(size)
rnd = random.Random(20261207)
WORDS = ("mail server queue folder message account domain delivery relay spam filter rule archive "
         "backup invoice meeting report budget project release schedule review draft answer").split()
lines = []
total = 0
while total < size:
    line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 12)))
    lines.append(line)
    total += len(line) + 2
head = (f"From: Bench Sender <{sender}>\r\nTo: <{to}>\r\nSubject: anti-spam benchmark\r\n"
        f"Date: Mon, 07 Dec 2026 12:00:00 +0000\r\nMessage-ID: <antispam-bench@{domain}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n")
message = (head + "\r\n" + "\r\n".join(lines) + "\r\n").encode()
with open(key_file, "rb") as f:
    key = f.read()
signature = dkim.sign(message, selector.encode(), domain.encode(), key,
                      canonicalize=(b"relaxed", b"relaxed"),
                      include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID",
                                       b"MIME-Version", b"Content-Type"])
signed = signature + message
record = f"v=DKIM1; k=rsa; p={public}".encode()
if not dkim.verify(signed, dnsfunc=lambda name, timeout=5: record):
    sys.exit("antispam-message.py: the signature does not verify against the public key")
with open(out, "wb") as f:
    f.write(signed.replace(b"\r\n", b"\n"))
