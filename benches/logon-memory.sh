#!/usr/bin/env bash
# Altimail's resident memory under connection and logon load: 1,000 accounts with Argon2id
# passwords, 2,000 idle connections opened and closed, then 10,000 logons (IMAP LOGIN and POP3
# USER/PASS alternately, each on a new connection, 10 clients in parallel). Prints the server's
# RSS before, at its peak and after each phase, and once more after the password threads gave
# their working memory back (35 s without logons).
#
#   bash benches/logon-memory.sh [logons] [accounts]     (from the repository root)
#
# The client is benches/logon-memory.py (one Python process, asyncio). A benchmark run by hand:
# it prints figures, no pass/fail.
#
# Environment knobs (all optional):
#   BENCH_PARALLEL=10        logon clients at the same time
#   BENCH_IDLE=2000          idle connections of the first phase (0: skip the phase)
#   BENCH_SETTLE=3           seconds to wait after each phase before reading the memory
#   BENCH_LABEL=altimail     name in the report (e.g. the allocator of ALTIMAIL_BIN)
#   BENCH_TMPDIR=/tmp        where the throw-away directory goes
#   BENCH_KEEP=1             keep it (server logs, database)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   ALTIMAIL_PORT / POP3_PORT   loopback ports (default: first free from 10143 / 10110)
set -euo pipefail

LOGONS=${1:-10000}
ACCOUNTS=${2:-1000}
PARALLEL=${BENCH_PARALLEL:-10}
IDLE=${BENCH_IDLE:-2000}
SETTLE=${BENCH_SETTLE:-3}
LABEL=${BENCH_LABEL:-altimail}
PASSWORD=bench-logon-secret

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"

for n in "$LOGONS" "$ACCOUNTS" "$PARALLEL"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "logons, accounts and BENCH_PARALLEL must be positive numbers, not '$n'"
done
[[ $IDLE =~ ^[0-9]+$ ]] || die "BENCH_IDLE must be a number, not '$IDLE'"
command -v python3 >/dev/null || die "python3 is needed (the client is benches/logon-memory.py)"
cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

# Each idle connection is a descriptor in the client and one in the server.
need=$((IDLE + PARALLEL + 200))
if (($(ulimit -Hn) < need)); then
	ulimit -Hn "$need" 2>/dev/null || say "hard limit of open files $(ulimit -Hn) < $need (not root?)"
fi
ulimit -n "$(ulimit -Hn)"

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_make_workdir altimail-logon-memory

altimail_binary
ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 10143)}
POP3_PORT=${POP3_PORT:-$(free_port 10110 "$ALTIMAIL_PORT")}
altimail_start "$ALTIMAIL_PORT" imap
alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$TMP/altimail/altimail.toml" "$@"; }
port_in_use "$POP3_PORT" && die "port $POP3_PORT is in use"
alt port add --protocol pop3 --port "$POP3_PORT" --address 127.0.0.1 --security none >&2 ||
	die "altimail port add failed"

# Every account gets its own Argon2id hash (what `account add` stores), made by the CLI, as many
# at a time as there are CPUs (the server is idle meanwhile).
say "creating $ACCOUNTS accounts with Argon2id passwords ($(nproc) at a time)"
t0=$SECONDS
seq 0 $((ACCOUNTS - 1)) | xargs -P "$(nproc)" -I{} \
	"$ALTIMAIL_BIN_RESOLVED" --config "$TMP/altimail/altimail.toml" account add "user{}@bench.test" \
	--password "$PASSWORD" >/dev/null || die "creating the accounts failed"
say "accounts created in $((SECONDS - t0)) s"
wait_listen "$POP3_PORT" "$ALTIMAIL_PID" 30 "altimail serve (POP3)"
sleep "$SETTLE"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
start_rss=$(rss "$ALTIMAIL_PID")
say "$LABEL: RSS at start $start_rss KiB; $IDLE idle connections, then $LOGONS logons over $ACCOUNTS accounts, $PARALLEL at a time"
python3 "$ROOT/benches/logon-memory.py" --imap-port "$ALTIMAIL_PORT" --pop3-port "$POP3_PORT" --pid "$ALTIMAIL_PID" \
	--accounts "$ACCOUNTS" --password "$PASSWORD" --logons "$LOGONS" --parallel "$PARALLEL" --idle "$IDLE" \
	--settle "$SETTLE" >"$TMP/results" || die "the client failed"
say "waiting 35 s without logons (the password threads give their memory back after 30 s)"
sleep 35
late_rss=$(rss "$ALTIMAIL_PID")
kill -0 "$ALTIMAIL_PID" 2>/dev/null || say "WARNING: altimail (pid $ALTIMAIL_PID) is no longer running"
altimail_report_warnings

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "$LABEL: RSS at start $(mib "$start_rss") MiB; $(nproc) CPU(s); loopback"
printf '%-8s %7s %7s %8s %11s %11s %11s\n' phase count failed seconds 'RSS before' 'RSS peak' 'RSS after'
while read -r _ phase count failed secs before peak after; do
	printf '%-8s %7s %7s %8s %10sM %10sM %10sM\n' "$phase" "$count" "$failed" "$secs" \
		"$(mib "$before")" "$(mib "$peak")" "$(mib "$after")"
done < <(grep '^RESULT ' "$TMP/results")
echo "RSS 35 s after the last logon: $(mib "$late_rss") MiB"
