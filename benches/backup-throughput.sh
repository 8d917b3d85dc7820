#!/usr/bin/env bash
# Backup and restore throughput: messages/s and MB/s of `altimail backup` (compressed 7z and
# uncompressed "Raw") and `altimail restore`, on SQLite, with N messages of about 4 KiB spread
# over 10 accounts. See benches/README.md.
#
#   bash benches/backup-throughput.sh [messages]        # default 100000
#
# Knobs: ALTIMAIL_BIN (default: target/release/altimail, built if missing), BENCH_TMPDIR
# (default /var/tmp), BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

MESSAGES=${1:-100000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ALTIMAIL_BIN:-$ROOT/target/release/altimail}
if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -p altimail)
fi
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/altimail-backup-bench.XXXXXX")
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

config() { # config NAME DATA-DIR
    printf '[directories]\ndata = "%s"\nlogs = "logs"\ntemp = "temp"\nevents = "events"\n\n[database]\ntype = "sqlite"\npath = "%s.db"\n' "$2" "$1" > "$1.toml"
}
config src data
config dst data-restored
A="$BIN --config src.toml"
B="$BIN --config dst.toml"
$A init >/dev/null
$A domain add bench.test >/dev/null
for u in $(seq 0 9); do $A account add "user$u@bench.test" --password bench-pw-123 >/dev/null; done

echo "populating $MESSAGES messages..."
python3 - "$MESSAGES" <<'PY'
import os, random, sqlite3, sys, uuid
n = int(sys.argv[1])
db = sqlite3.connect("src.db")
accounts = db.execute("SELECT accountid, accountaddress FROM hm_accounts ORDER BY accountid").fetchall()
inbox = {}
for aid, addr in accounts:
    row = db.execute("SELECT folderid FROM hm_imapfolders WHERE folderaccountid=? AND foldername='INBOX'", (aid,)).fetchone()
    if row is None:
        db.execute("INSERT INTO hm_imapfolders (folderaccountid, folderparentid, foldername, folderissubscribed, foldercreationtime, foldercurrentuid) VALUES (?, -1, 'INBOX', 1, '2026-01-01 00:00:00', 0)", (aid,))
        row = db.execute("SELECT last_insert_rowid()").fetchone()
    inbox[aid] = row[0]
random.seed(1)
words = "mail server backup restore message archive folder account domain lorem ipsum dolor sit amet".split()
uids = {aid: 0 for aid, _ in accounts}
rows = []
for k in range(n):
    aid, addr = accounts[k % len(accounts)]
    local, domain = addr.split("@")
    name = "{%s}.eml" % str(uuid.uuid4()).upper()
    d = os.path.join("data", domain, local, name[1:3])
    os.makedirs(d, exist_ok=True)
    body = "\r\n".join(" ".join(random.choice(words) for _ in range(12)) for _ in range(50))
    text = f"From: sender{k}@remote.test\r\nTo: {addr}\r\nSubject: message {k}\r\nMessage-ID: <{k}@remote.test>\r\n\r\n{body}\r\n"
    with open(os.path.join(d, name), "w", newline="") as f:
        f.write(text)
    uids[aid] += 1
    rows.append((aid, inbox[aid], name, 2, "sender@remote.test", len(text), 0, "1901-01-01 00:00:00", k % 4, "2026-01-01 00:00:00", 0, uids[aid]))
db.executemany("INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, messageuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
for aid, uid in uids.items():
    db.execute("UPDATE hm_imapfolders SET foldercurrentuid=? WHERE folderid=?", (uid, inbox[aid]))
db.commit()
PY
BYTES=$(find data -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")
MB=$(python3 -c "print(round($BYTES/1048576, 1))")
echo "data: $MESSAGES messages, $MB MB of message files"
sync

measure() { # measure LABEL COMMAND...  -> prints seconds, messages/s, MB/s
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$label.rss" "$@" > "$label.out"
    else
        echo 0 > "$label.rss"; "$@" > "$label.out"
    fi
    end=$(date +%s.%N)
    python3 -c "
s = $end - $start
print(f'{\"$label\":<12} {s:8.1f} s  {$MESSAGES/s:9.0f} msg/s  {$BYTES/1048576/s:7.1f} MB/s  peak RSS {$(tail -1 "$label.rss")/1024:6.1f} MB')"
}

mkdir -p out7z outraw
measure backup-7z $A backup --destination out7z --domains --messages --compress
ARCHIVE=$(ls out7z/*.7z)
echo "  archive: $(du -b "$ARCHIVE" | cut -f1) bytes ($(python3 -c "print(round($(du -b "$ARCHIVE" | cut -f1)/$BYTES*100))") % of the data)"
measure verify-7z $A restore --verify "$ARCHIVE"
measure backup-raw $A backup --destination outraw --domains --messages --no-compress
$B init >/dev/null
measure restore-7z $B restore "$ARCHIVE"
grep -h "Restore completed" restore-7z.out
config dst2 data-restored2
C="$BIN --config dst2.toml"
$C init >/dev/null
measure restore-raw $C restore "$(ls outraw/*.7z)"
grep -h "Restore completed" restore-raw.out
