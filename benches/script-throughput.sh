#!/usr/bin/env bash
# Script throughput benchmark: accepted messages per second with a typical OnAcceptMessage script
# (crates/vbscript-engine/tests/scripts/spam_tagging.vbs: five spam words looked for in the
# subject, three header reads, a header write, Save on a match) against the same Altimail with
# scripting off (the target: on >= 85 % of off).
#
#   bash benches/script-throughput.sh [messages] [senders]    (from the repository root)
#
# One throw-away Altimail on loopback, SQLite, reconfigured between runs (usescriptserver 1, then
# 0, the order alternating between rounds). The client is Postfix's smtp-source. The benchmark
# fails when a run with the script on delivered a message without the script's X-Script-Score
# header, or a run with it off delivered one with it.
#
# Environment knobs (all optional):
#   BENCH_ROUNDS=3           runs per mode (on / off), alternating; the report gives each and the median
#   BENCH_SIZE=4096          payload bytes per message (smtp-source -l)
#   BENCH_TMPDIR=/var/tmp    where the throw-away directory goes (must be a real disk, not tmpfs)
#   BENCH_KEEP=1             keep the throw-away directory (logs, database, messages) for inspection
#   BENCH_REUSE=1            smtp-source -d: send every message of a sender over one connection
#   BENCH_DRAIN_TIMEOUT=300  seconds to wait for Altimail to deliver what it accepted
#   BENCH_WAIT_IDLE=30       seconds to wait, before each run, for the CPUs to be idle (then it warns)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   ALTIMAIL_PORT            loopback SMTP port (default: first free port from 12525)
set -euo pipefail

MESSAGES=${1:-2000}
SENDERS=${2:-20}
SIZE=${BENCH_SIZE:-4096}
BASE_TMP=${BENCH_TMPDIR:-/var/tmp}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}
WAIT_IDLE=${BENCH_WAIT_IDLE:-30}
ROUNDS=${BENCH_ROUNDS:-3}
FROM=bench@remote.test
TO=sink@bench.test

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"

[[ $MESSAGES =~ ^[1-9][0-9]*$ ]] || die "messages must be a positive number, not '$MESSAGES'"
[[ $SENDERS =~ ^[1-9][0-9]*$ ]] || die "senders must be a positive number, not '$SENDERS'"
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE must be a positive number, not '$SIZE'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number, not '$ROUNDS'"
[[ $WAIT_IDLE =~ ^[0-9]+$ ]] || die "BENCH_WAIT_IDLE must be a number of seconds, not '$WAIT_IDLE'"
[[ $DRAIN_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_DRAIN_TIMEOUT must be a positive number, not '$DRAIN_TIMEOUT'"

cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"
SCRIPT=$ROOT/crates/vbscript-engine/tests/scripts/spam_tagging.vbs
[[ -f $SCRIPT ]] || die "$SCRIPT is missing"

need_root() { [[ $EUID -eq 0 ]] || die "$1 is missing; run as root to have it installed, or install it by hand"; }
if ! command -v smtp-source >/dev/null; then
	need_root "smtp-source (package postfix)"
	install_postfix || die "could not install postfix (for smtp-source)"
fi
command -v smtp-source >/dev/null || die "smtp-source still missing after installing postfix"
if ! command -v sqlite3 >/dev/null; then
	need_root sqlite3
	apt_install sqlite3 || die "could not install sqlite3"
fi
command -v ss >/dev/null || { [[ $EUID -eq 0 ]] && apt_install iproute2; } || say "ss unavailable: waiting for ports by connecting"

cleanup() {
	local rc=$?
	set +e
	altimail_stop
	remove_workdir
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_make_workdir altimail-script-bench "$BASE_TMP" refuse-tmpfs
altimail_binary
SMTP_SOURCE_OPTS=(-c -s "$SENDERS" -m "$MESSAGES" -l "$SIZE" -f "$FROM" -t "$TO" -M bench-client.test)
[[ ${BENCH_REUSE:-} == 1 ]] && SMTP_SOURCE_OPTS+=(-d)

A=$TMP/altimail
ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 12525)}
altimail_setup() { # install directory
	mkdir -p "$1/events"
	# The published script saves only what it tagged as spam; here every message is saved, so that
	# each one shows the script ran (X-Script-Score) and each pays for a Save.
	sed 's/^\(   oMessage.HeaderValue("X-Script-Score") = CStr(iScore)\)\r\{0,1\}$/\1\n   oMessage.Save/' "$SCRIPT" \
		>"$1/events/EventHandlers.vbs"
	grep -q '^   oMessage.Save$' "$1/events/EventHandlers.vbs" || die "could not prepare the script from $SCRIPT"
	alt setting set hostname mx.bench.test >/dev/null || die "altimail setting set hostname failed"
}
altimail_start "$ALTIMAIL_PORT" smtp "$TO" x
alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$A/altimail.toml" "$@"; }

# The server reads settings at most a second old, per session.
set_scripts() { # on|off
	local v=0
	[[ $1 == on ]] && v=1
	alt setting set usescriptserver "$v" >/dev/null || die "altimail setting set usescriptserver $v failed"
	sleep 1.5
}

alt_sql() { sqlite3 -cmd '.timeout 30000' "$A/altimail.db" "$1"; }
alt_queued() { alt_sql "SELECT count(*) FROM hm_messages WHERE messagetype = 1"; }
alt_stored() {
	alt_sql "SELECT count(*) FROM hm_messages m JOIN hm_accounts a ON a.accountid = m.messageaccountid
		WHERE a.accountaddress = '$TO'"
}
wait_drained() { # prints seconds until the queue is empty
	local t0 n
	t0=$(now)
	for _ in $(seq $((DRAIN_TIMEOUT * 10))); do
		n=$(alt_queued)
		if [[ $n == 0 ]]; then
			elapsed "$t0" "$(now)"
			return 0
		fi
		sleep 0.1
	done
	echo "timeout($n left)"
}
# "files with-the-script's-header" among the messages delivered since `marker`
verify_delivered() { # marker
	local files all=0 tagged=0
	files=$(find "$A/data/bench.test" -type f -newer "$1" 2>/dev/null | grep -vE '\.(tmp|part)$' || true)
	if [[ -n $files ]]; then
		all=$(wc -l <<<"$files")
		tagged=$(xargs -d '\n' grep -l '^X-Script-Score: ' <<<"$files" | wc -l || true)
	fi
	echo "$all $tagged"
}

declare -A SECS COUNT RC DRAIN CPU LOAD FILES TAGGED SRVCPU
STATUS=0
bench_one() { # mode round
	local mode=$1 r=$2 secs count rc c0 c1 s0 s1 files tagged
	set_scripts "$mode"
	check_idle
	LOAD[$mode,$r]=$(cut -d' ' -f1 /proc/loadavg)
	touch "$TMP/round.marker"
	sleep 0.01
	c0=$(cpu_ticks)
	s0=$(process_cpu_ms "$ALTIMAIL_PID")
	read -r secs count rc < <(run_smtp_source "$mode" "$ALTIMAIL_PORT")
	c1=$(cpu_ticks)
	SECS[$mode,$r]=$secs COUNT[$mode,$r]=$count RC[$mode,$r]=$rc
	CPU[$mode,$r]=$(busy_pct "$c0" "$c1")
	DRAIN[$mode,$r]=$(wait_drained)
	s1=$(process_cpu_ms "$ALTIMAIL_PID")
	SRVCPU[$mode,$r]=$(awk -v a="${s0:-0}" -v b="${s1:-0}" -v n="$count" 'BEGIN { if (n > 0) printf "%.3f", (b - a) / n; else print "?" }')
	read -r files tagged < <(verify_delivered "$TMP/round.marker")
	FILES[$mode,$r]=$files TAGGED[$mode,$r]=$tagged
	say "round $r scripts $mode: $count accepted in ${secs}s ($(rate "$count" "$secs") msg/s), ${SRVCPU[$mode,$r]} ms of Altimail's CPU a message, load ${LOAD[$mode,$r]}, $files delivered, $tagged with X-Script-Score"
}

for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2 == 1)); then order=(on off); else order=(off on); fi
	for mode in "${order[@]}"; do bench_one "$mode" "$r"; done
done

EXPECTED=$((MESSAGES * ROUNDS * 2))
ALT_STORED=$(alt_stored)
ALT_LEFT=$(alt_queued)
altimail_report_warnings
altimail_stop

echo
echo "Script throughput: $MESSAGES messages x $ROUNDS round(s) per mode, $SENDERS parallel senders, $SIZE-byte"
echo "  messages (smtp-source -l)$([[ ${BENCH_REUSE:-} == 1 ]] && echo ', smtp-source -d: one connection per sender' || echo ', one connection per message');"
echo "  loopback; work directory on $FSTYPE ($(df --output=source "$TMP" | tail -n 1)); $(nproc) CPU(s)"
FMT='%-7s %5s %9s %6s %9s %9s %8s %5s %5s %9s %8s\n'
# shellcheck disable=SC2059
printf "$FMT" scripts round accepted status seconds 'msg/s' 'srv cpu' 'cpu%' load drained tagged
declare -A MED MEDCPU
for mode in on off; do
	rates=() secs=() cpus=()
	for ((r = 1; r <= ROUNDS; r++)); do
		rt=$(rate "${COUNT[$mode,$r]}" "${SECS[$mode,$r]}")
		rates+=("$rt") secs+=("${SECS[$mode,$r]}") cpus+=("${SRVCPU[$mode,$r]}")
		# shellcheck disable=SC2059
		printf "$FMT" "$mode" "$r" "${COUNT[$mode,$r]}" "${RC[$mode,$r]}" "${SECS[$mode,$r]}" "$rt" "${SRVCPU[$mode,$r]}" \
			"${CPU[$mode,$r]}" "${LOAD[$mode,$r]}" "${DRAIN[$mode,$r]}" "${TAGGED[$mode,$r]}"
		if [[ ${RC[$mode,$r]} != 0 || ${COUNT[$mode,$r]} != "$MESSAGES" ]]; then
			say "scripts $mode, round $r: NOT every message was accepted (smtp-source status ${RC[$mode,$r]}, ${COUNT[$mode,$r]} of $MESSAGES)"
			STATUS=1
		fi
		if [[ $mode == on && ${TAGGED[$mode,$r]} != "$MESSAGES" ]] || [[ $mode == off && ${TAGGED[$mode,$r]} != 0 ]]; then
			say "scripts $mode, round $r: ${TAGGED[$mode,$r]} of ${FILES[$mode,$r]} delivered messages carry the script's header"
			STATUS=1
		fi
	done
	MED[$mode]=$(median "${rates[@]}")
	MEDCPU[$mode]=$(median "${cpus[@]}")
	# shellcheck disable=SC2059
	printf "$FMT" "$mode" median "" "" "$(median "${secs[@]}")" "${MED[$mode]}" "${MEDCPU[$mode]}" "" "" "" ""
done
echo
echo "altimail: $ALT_STORED of $EXPECTED messages in $TO's mailbox, $ALT_LEFT left in the queue"
[[ $ALT_STORED == "$EXPECTED" ]] || STATUS=1
RATIO=$(awk -v a="${MED[on]}" -v b="${MED[off]}" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "n/a" }')
printf 'messages/second (median): script on %s, off %s; on/off: %s %% (target: 85 %% or more: %s)\n' \
	"${MED[on]}" "${MED[off]}" "$RATIO" "$([[ $RATIO != n/a ]] && ((RATIO >= 85)) && echo met || echo NOT met)"
echo "srv cpu = Altimail's CPU time from the run's start until its queue was empty, per message."
((BUSY_WARNINGS == 0)) || echo "WARNING: $BUSY_WARNINGS run(s) started on a busy machine (see the messages above): compare with care."
((STATUS == 0)) || say "some checks failed (see above)"
exit "$STATUS"
