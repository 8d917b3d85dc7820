#!/usr/bin/env bash
# Memory per idle IMAP connection: N connections (default 10000) each LOGIN, SELECT INBOX and IDLE;
# the report gives the server's resident memory before and after, per connection. Altimail, then
# Dovecot for comparison when it is installed.
#
#   bash benches/imap-idle-memory.sh [connections]     (as root, from the repository root)
#
# The client is benches/imap-idle-memory.py (one Python process, asyncio). Memory is read from
# /proc for the server's process and every process below it: Altimail is one process (its VmRSS);
# Dovecot forks an imap process per session, so the report sums VmRSS (pages shared between
# processes counted once per process: it overstates) and Pss (shared pages divided among their
# processes: the fair figure).
# A benchmark run by hand: it prints figures, no pass/fail.
#
# Environment knobs (all optional):
#   BENCH_ONLY=altimail|dovecot   one side only
#   BENCH_PARALLEL=100       connections being set up at the same time
#   BENCH_SETTLE=3           seconds to wait before each memory reading
#   BENCH_TMPDIR=/tmp        where the throw-away directory goes
#   BENCH_KEEP=1             keep it (server logs, mailboxes)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   ALTIMAIL_PORT / DOVECOT_PORT   loopback ports (default: first free from 10143 / 10144)
set -euo pipefail

CONNECTIONS=${1:-10000}
ONLY=${BENCH_ONLY:-}
PARALLEL=${BENCH_PARALLEL:-100}
SETTLE=${BENCH_SETTLE:-3}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"

[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "connections must be a positive number, not '$CONNECTIONS'"
[[ $PARALLEL =~ ^[1-9][0-9]*$ ]] || die "BENCH_PARALLEL must be a positive number, not '$PARALLEL'"
[[ $SETTLE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "BENCH_SETTLE must be a number of seconds, not '$SETTLE'"
case "$ONLY" in "" | altimail | dovecot) ;; *) die "BENCH_ONLY must be altimail or dovecot" ;; esac
command -v python3 >/dev/null || die "python3 is needed (the client is benches/imap-idle-memory.py)"
cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

# Each connection is a descriptor in the client and one in the server (the client and the servers
# inherit this limit); the hard limit can only be raised by root.
need=$((CONNECTIONS + 200))
if (($(ulimit -Hn) < need)); then
	ulimit -Hn "$need" 2>/dev/null || say "hard limit of open files $(ulimit -Hn) < $need (not root?)"
fi
ulimit -n "$(ulimit -Hn)"
say "open files limit: $(ulimit -n)"
(($(ulimit -n) >= need)) || say "WARNING: $(ulimit -n) open files allowed, $need needed: some connections will fail"

imap_sides ""

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_make_workdir altimail-imap-idle

declare -A RESULT
run_side() { # name port pid [--tree]
	local name=$1 port=$2 pid=$3 greeting line
	shift 3
	greeting=$(imap_greeting "$port")
	say "$name greets: ${greeting:-<nothing>}"
	say "$name: $CONNECTIONS connections, LOGIN + SELECT INBOX + IDLE, $PARALLEL at a time"
	line=$(python3 "$ROOT/benches/imap-idle-memory.py" --port "$port" --user "$BENCH_USER" --password "$BENCH_PASS" \
		--pid "$pid" --connections "$CONNECTIONS" --parallel "$PARALLEL" --settle "$SETTLE" --label "$name" "$@" |
		grep '^RESULT ' || true)
	RESULT[$name]=${line#RESULT }
	kill -0 "$pid" 2>/dev/null || say "WARNING: $name (pid $pid) is no longer running"
}

for name in "${SIDES[@]}"; do
	case $name in
	altimail)
		altimail_binary
		ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 10143)}
		altimail_start "$ALTIMAIL_PORT"
		run_side altimail "$ALTIMAIL_PORT" "$ALTIMAIL_PID" --tree
		altimail_report_warnings
		altimail_stop
		;;
	dovecot)
		DOVECOT_PORT=${DOVECOT_PORT:-$(free_port 10144 "${ALTIMAIL_PORT:-}")}
		dovecot_start "$DOVECOT_PORT" "$CONNECTIONS"
		run_side dovecot "$DOVECOT_PORT" "$DOVECOT_PID" --tree
		dovecot_report_errors
		dovecot_stop
		;;
	esac
done

# --- report ---------------------------------------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }'; }
echo
echo "IMAP idle connections: $CONNECTIONS x (LOGIN, SELECT INBOX, IDLE) of one user; loopback; $(nproc) CPU(s)"
printf '%-9s %8s %7s %8s %11s %11s %11s %10s %11s %11s %10s\n' server idling failed seconds processes \
	'RSS before' 'RSS after' 'KiB/conn' 'Pss before' 'Pss after' 'KiB/conn'
for name in "${SIDES[@]}"; do
	if [[ -z ${RESULT[$name]:-} ]]; then
		printf '%-9s no result (see the messages above)\n' "$name"
		continue
	fi
	read -r _label _wanted idling failed secs pb pa rb ra sb sa <<<"${RESULT[$name]}"
	printf '%-9s %8s %7s %8s %11s %10sM %10sM %10s %10sM %10sM %10s\n' "$name" "$idling" "$failed" "$secs" "$pb -> $pa" \
		"$(mib "$rb")" "$(mib "$ra")" "$(per "$rb" "$ra" "$idling")" "$(mib "$sb")" "$(mib "$sa")" "$(per "$sb" "$sa" "$idling")"
done
echo
echo "Memory is read after a warm-up connection and a pause (before), and again once every connection"
echo "idles (after); KiB/conn = growth / idling connections. RSS of a process tree counts shared pages"
echo "(libraries, Dovecot's config) once per process: for Dovecot, Pss is the figure to compare; for one"
echo "process (Altimail) RSS and Pss differ only by the pages it shares with other processes."
