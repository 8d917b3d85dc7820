#!/usr/bin/env bash
# IMAP throughput benchmark: imaptest's default mixed workload against Altimail and Dovecot.
#
#   IMAPTEST=/path/to/imaptest bash benches/imap-throughput.sh [seconds] [clients]   (as root)
#
# imaptest (Dovecot's IMAP tester, https://github.com/dovecot/imaptest) is not built here: build
# it apart (see benches/README.md) and give its path in IMAPTEST. Each server runs on loopback,
# from a throw-away directory, one after the other; imaptest runs `clients` simultaneous sessions
# of one user for `seconds` seconds against each and the report gives the commands done per second
# and the ratio. A benchmark run by hand: it prints figures, no pass/fail.
#
# Environment knobs (all optional):
#   IMAPTEST=path            imaptest binary (required)
#   IMAP_MBOX=path           mbox whose messages imaptest APPENDs (default: 500 generated messages)
#   IMAPTEST_ARGS="..."      more imaptest arguments, e.g. "msgs=100" or "- select=100 fetch=100"
#   BENCH_ONLY=altimail|dovecot   one side only (no ratio)
#   BENCH_TMPDIR=/tmp        where the throw-away directory goes
#   BENCH_KEEP=1             keep it (server logs, imaptest output, mailboxes)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   ALTIMAIL_PORT / DOVECOT_PORT   loopback ports (default: first free from 10143 / 10144)
set -euo pipefail

SECS=${1:-30}
CLIENTS=${2:-50}
ONLY=${BENCH_ONLY:-}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"

if [[ -z ${IMAPTEST:-} ]]; then
	die "set IMAPTEST to the imaptest binary (it is not built by this script; see benches/README.md, section IMAP)"
fi
[[ -x $IMAPTEST ]] || die "IMAPTEST=$IMAPTEST is not an executable file"
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "seconds must be a positive number, not '$SECS'"
[[ $CLIENTS =~ ^[1-9][0-9]*$ ]] || die "clients must be a positive number, not '$CLIENTS'"
case "$ONLY" in "" | altimail | dovecot) ;; *) die "BENCH_ONLY must be altimail or dovecot" ;; esac
command -v python3 >/dev/null || die "python3 is needed (generated mbox, greeting check)"
cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

imap_sides ", no ratio"

# imaptest opens a connection per client, the servers one (or a process) per session
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_make_workdir altimail-imap-bench

if [[ -n ${IMAP_MBOX:-} ]]; then
	[[ -r $IMAP_MBOX ]] || die "IMAP_MBOX=$IMAP_MBOX is not readable"
	MBOX=$IMAP_MBOX
else
	MBOX=$TMP/bench.mbox
	make_mbox "$MBOX" 500
fi
say "messages to append: $MBOX ($(grep -c '^From ' "$MBOX") messages)"

# imaptest's "Totals:" block: a line of command names, one or two lines of probabilities, then
# the counts. Prints "name=count" pairs.
totals() { # imaptest stdout file
	awk '/^Totals:/ { t = 1; next }
		t == 1 { n = split($0, names, " "); t = 2; next }
		t == 2 && $0 ~ /^[ 0-9]+$/ { for (i = 1; i <= n; i++) printf "%s=%s ", names[i], $i; print ""; exit }' "$1"
}

declare -A SUM LOGINS ERRORS CPU HEAD ROW RC
run_side() { # name port
	local name=$1 port=$2 out err greeting c0 c1 rc=0 pairs
	out=$TMP/$name.imaptest.out err=$TMP/$name.imaptest.err
	greeting=$(imap_greeting "$port")
	say "$name greets: ${greeting:-<nothing>}"
	[[ $greeting == "* OK"* ]] || say "WARNING: $name does not greet with * OK: its figures will be errors only"
	say "$name: imaptest host=127.0.0.1 port=$port user=$BENCH_USER mbox=… secs=$SECS clients=$CLIENTS${IMAPTEST_ARGS:+ $IMAPTEST_ARGS}"
	c0=$(cpu_ticks)
	# shellcheck disable=SC2086 # IMAPTEST_ARGS is a list of key=value words
	timeout $((SECS + 120)) "$IMAPTEST" host=127.0.0.1 port="$port" user="$BENCH_USER" pass="$BENCH_PASS" \
		mbox="$MBOX" secs="$SECS" clients="$CLIENTS" ${IMAPTEST_ARGS:-} >"$out" 2>"$err" || rc=$?
	c1=$(cpu_ticks)
	CPU[$name]=$(busy_pct "$c0" "$c1")
	RC[$name]=$rc
	pairs=$(totals "$out")
	if [[ -z $pairs ]]; then
		say "$name: no totals in imaptest's output (exit status $rc); its last lines:"
		tail -n 10 "$out" "$err" | sed 's/^/    /' >&2
	fi
	HEAD[$name]=$(awk '/^Totals:/ { getline; print; exit }' "$out")
	ROW[$name]=$(printf '%s\n' "$pairs" | tr ' ' '\n' | awk -F= 'NF == 2 { printf "%4s ", $2 }')
	SUM[$name]=$(printf '%s\n' "$pairs" | tr ' ' '\n' | awk -F= 'NF == 2 { s += $2 } END { print s + 0 }')
	LOGINS[$name]=$(printf '%s\n' "$pairs" | tr ' ' '\n' | awk -F= '$1 == "Logi" { print $2; exit }')
	LOGINS[$name]=${LOGINS[$name]:-0}
	# imaptest reports what it finds wrong in the server's replies as "Error: ..." lines
	ERRORS[$name]=$(cat "$out" "$err" | grep -c 'Error:' || true)
	if ((ERRORS[$name] > 0)); then
		say "$name: ${ERRORS[$name]} error line(s) from imaptest; the most frequent kinds:"
		# grouped by kind: without the client's name, the numbers and the echoed reply
		grep -h 'Error:' "$out" "$err" | sed -E 's/^.*Error: //; s/^[^ ]+\[[0-9]+\]: //; s/: \* .*//; s/[0-9]+/N/g' |
			cut -c1-110 | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/    /' >&2 || true
	fi
}

for name in "${SIDES[@]}"; do
	case $name in
	altimail)
		altimail_binary
		ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 10143)}
		altimail_start "$ALTIMAIL_PORT"
		run_side altimail "$ALTIMAIL_PORT"
		altimail_report_warnings
		altimail_stop
		;;
	dovecot)
		DOVECOT_PORT=${DOVECOT_PORT:-$(free_port 10144 "${ALTIMAIL_PORT:-}")}
		dovecot_start "$DOVECOT_PORT" $((CLIENTS * 2))
		run_side dovecot "$DOVECOT_PORT"
		dovecot_report_errors
		dovecot_stop
		;;
	esac
done

# --- report ---------------------------------------------------------------------------------------

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
echo
echo "IMAP throughput: imaptest default mixed workload, $CLIENTS clients of one user, ${SECS}s per server"
echo "  loopback; $(nproc) CPU(s); mbox $(basename "$MBOX") ($(grep -c '^From ' "$MBOX") messages)${IMAPTEST_ARGS:+; extra imaptest arguments: $IMAPTEST_ARGS}"
for name in "${SIDES[@]}"; do
	echo
	printf '%-9s %s\n' "$name" "${HEAD[$name]}"
	printf '%-9s %s\n' "" "${ROW[$name]}"
	printf '%-9s commands %s (%s/s), sessions (LOGIN) %s (%s/s), imaptest errors %s, cpu %s%%, imaptest exit %s\n' \
		"" "${SUM[$name]}" "$(rate "${SUM[$name]}" "$SECS")" "${LOGINS[$name]}" "$(rate "${LOGINS[$name]}" "$SECS")" \
		"${ERRORS[$name]}" "${CPU[$name]}" "${RC[$name]}"
done
echo
if [[ ${#SIDES[@]} == 2 ]]; then
	printf 'commands/second: altimail %s, dovecot %s; ratio altimail/dovecot: %s\n' \
		"$(rate "${SUM[altimail]}" "$SECS")" "$(rate "${SUM[dovecot]}" "$SECS")" \
		"$(awk -v a="${SUM[altimail]}" -v b="${SUM[dovecot]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
fi
echo "Counts are commands completed (tagged reply received) over the whole run, per command: Logi LOGIN,"
echo "List LIST, Stat STATUS, Sele SELECT, Fetc FETCH of metadata (FLAGS ENVELOPE BODYSTRUCTURE header fields...),"
echo "Fet2 FETCH of headers and bodies (BODY.PEEK[...]),"
echo "Stor STORE of flags, Dele STORE +FLAGS \\Deleted, Expu EXPUNGE, Appe APPEND, Logo LOGOUT. imaptest errors are"
echo "replies it found wrong (protocol or state tracking): a server with errors is not comparable."
echo "cpu% = the whole machine during the run (server + imaptest); Dovecot fsyncs as its defaults say"
echo "(mail_fsync=optimized, Maildir), Altimail as it always does."
