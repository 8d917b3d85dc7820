#!/usr/bin/env bash
# Anti-spam throughput benchmark: accepted messages per second with SPF + DKIM + DMARC + DNSBL
# checks on, against the same Altimail with them off (the target: on >= 80 % of off).
#
#   bash benches/antispam-throughput.sh [messages] [senders]    (from the repository root)
#
# One throw-away Altimail on loopback, reconfigured between runs (the checks on, then off, the
# order alternating between rounds); every DNS answer comes from a local DNS server on
# 127.0.0.77 (crates/dns's example bench-dns), which publishes the sending domain's SPF record,
# DKIM key and DMARC record and answers the DNS block list's zone (NXDOMAIN: not listed). The
# client is Postfix's smtp-source sending one message signed beforehand (dkimpy). The benchmark
# fails when a run of the checks on did not show spf=pass, dkim=pass, dmarc=pass and DNSBL=pass
# on every message, or a run of the checks off showed any of them.
#
# Environment knobs (all optional):
#   BENCH_ROUNDS=3           runs per mode (on / off), alternating; the report gives each and the median
#   BENCH_SIZE=4096          payload bytes of the signed message
#   BENCH_TMPDIR=/var/tmp    where the throw-away directory goes (must be a real disk, not tmpfs)
#   BENCH_KEEP=1             keep the throw-away directory (logs, database, messages) for inspection
#   BENCH_REUSE=1            smtp-source -d: send every message of a sender over one connection
#   BENCH_DRAIN_TIMEOUT=300  seconds to wait for Altimail to deliver what it accepted
#   BENCH_WAIT_IDLE=30       seconds to wait, before each run, for the CPUs to be idle (then it warns)
#   BENCH_DNS_IP=127.0.0.77  loopback address of the DNS server (its port: first free from 10053)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   BENCH_DNS_BIN=path       use this bench-dns instead of building target/release/examples/bench-dns
#   ALTIMAIL_PORT            loopback SMTP port (default: first free port from 12525)
set -euo pipefail

MESSAGES=${1:-2000}
SENDERS=${2:-20}
SIZE=${BENCH_SIZE:-4096}
BASE_TMP=${BENCH_TMPDIR:-/var/tmp}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}
WAIT_IDLE=${BENCH_WAIT_IDLE:-30}
ROUNDS=${BENCH_ROUNDS:-3}
DNS_IP=${BENCH_DNS_IP:-127.0.0.77}
DOMAIN=sender.test
SELECTOR=bench
FROM=bench@$DOMAIN
TO=sink@bench.test
DNSBL_ZONE=bl.bench.test

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"

[[ $MESSAGES =~ ^[1-9][0-9]*$ ]] || die "messages must be a positive number, not '$MESSAGES'"
[[ $SENDERS =~ ^[1-9][0-9]*$ ]] || die "senders must be a positive number, not '$SENDERS'"
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE must be a positive number, not '$SIZE'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number, not '$ROUNDS'"
[[ $WAIT_IDLE =~ ^[0-9]+$ ]] || die "BENCH_WAIT_IDLE must be a number of seconds, not '$WAIT_IDLE'"
[[ $DRAIN_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_DRAIN_TIMEOUT must be a positive number, not '$DRAIN_TIMEOUT'"
[[ $DNS_IP =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "BENCH_DNS_IP must be a loopback address (127.x.y.z), not '$DNS_IP'"

cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

# --- what the benchmark needs ------------------------------------------------------------------

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
command -v openssl >/dev/null || { need_root openssl && apt_install openssl; } || die "could not install openssl"
if ! python3 -c 'import dkim' 2>/dev/null; then
	say "installing dkimpy (python3 -m pip), to sign the message"
	python3 -m pip install -q dkimpy >&2 || die "could not install dkimpy (python3 -m pip install dkimpy)"
fi

# --- helpers ------------------------------------------------------------------------------------

DNS_PID=
cleanup() {
	local rc=$?
	set +e
	altimail_stop
	if [[ -n $DNS_PID ]] && kill -0 "$DNS_PID" 2>/dev/null; then
		kill -TERM "$DNS_PID"
		wait "$DNS_PID" 2>/dev/null
	fi
	remove_workdir
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_make_workdir altimail-antispam-bench "$BASE_TMP" refuse-tmpfs

# --- the binaries ---------------------------------------------------------------------------------

altimail_binary
if [[ -n ${BENCH_DNS_BIN:-} ]]; then
	[[ -x $BENCH_DNS_BIN ]] || die "BENCH_DNS_BIN=$BENCH_DNS_BIN is not executable"
	DNS_BIN=$BENCH_DNS_BIN
else
	say "building: cargo build --release -p altimail-dns --example bench-dns"
	(cd "$ROOT" && cargo build --release -p altimail-dns --example bench-dns >&2) || die "cargo build of bench-dns failed"
	DNS_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/bench-dns
fi

# --- the signed message and the DNS server --------------------------------------------------------

openssl genrsa -out "$TMP/dkim.pem" 2048 2>/dev/null || die "openssl genrsa failed"
DKIM_PUBLIC=$(openssl rsa -in "$TMP/dkim.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
python3 "$ROOT/benches/antispam-message.py" "$TMP/message.txt" "$TMP/dkim.pem" "$SELECTOR" "$DOMAIN" \
	"$FROM" "$TO" "$SIZE" "$DKIM_PUBLIC" || die "could not sign the message"
# What run_smtp_source (bench-lib.sh) sends: the signed message, as it is (-F).
SMTP_SOURCE_OPTS=(-c -s "$SENDERS" -m "$MESSAGES" -F "$TMP/message.txt" -f "$FROM" -t "$TO" -M "client.$DOMAIN")
[[ ${BENCH_REUSE:-} == 1 ]] && SMTP_SOURCE_OPTS+=(-d)

DNS_PORT=$(free_port 10053)
say "starting the DNS server on $DNS_IP:$DNS_PORT (UDP and TCP)"
"$DNS_BIN" "$DNS_IP:$DNS_PORT" \
	"txt:$DOMAIN=v=spf1 ip4:127.0.0.0/8 -all" \
	"txt:$SELECTOR._domainkey.$DOMAIN=v=DKIM1; k=rsa; p=$DKIM_PUBLIC" \
	"txt:_dmarc.$DOMAIN=v=DMARC1; p=reject" \
	"a:client.$DOMAIN=127.0.0.1" \
	>"$TMP/dns.stdout" 2>"$TMP/dns.stderr" &
DNS_PID=$!
for _ in $(seq 100); do
	grep -q '^listening on' "$TMP/dns.stdout" 2>/dev/null && break
	kill -0 "$DNS_PID" 2>/dev/null || { cat "$TMP/dns.stderr" >&2; die "the DNS server exited"; }
	sleep 0.1
done
grep -q '^listening on' "$TMP/dns.stdout" || die "the DNS server did not start within 10 s"

# --- Altimail: set up and start -----------------------------------------------------------------

A=$TMP/altimail
ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 12525)}
ALTIMAIL_EXTRA_CONFIG=$(printf '\n[dns]\nservers = ["%s:%s"]' "$DNS_IP" "$DNS_PORT")
alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$A/altimail.toml" "$@"; }
# (altimail_start defines an alt of its own, for its install: the same one)
altimail_setup() {
	alt setting set hostname mx.bench.test >/dev/null || die "altimail setting set hostname failed"
	# A new installation has hMailServer's block lists, inactive; make sure none is on.
	local zone
	for zone in $(alt --json dnsbl list | grep -oE '"zone"[[:space:]]*:[[:space:]]*"[^"]*"' | sed -E 's/.*"([^"]*)"$/\1/'); do
		alt dnsbl set "$zone" --active no >/dev/null
	done
	for zone in $(alt --json surbl list | grep -oE '"zone"[[:space:]]*:[[:space:]]*"[^"]*"' | sed -E 's/.*"([^"]*)"$/\1/'); do
		alt surbl set "$zone" --active no >/dev/null
	done
	alt dnsbl add "$DNSBL_ZONE" --expected 127.0.0.2 --message "Listed by $DNSBL_ZONE" --score 5 --active no >&2 ||
		die "altimail dnsbl add failed"
}
altimail_start "$ALTIMAIL_PORT" smtp "$TO" x
alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$A/altimail.toml" "$@"; }

# checks on or off: SPF, DKIM verification, DMARC (a failure under p=reject refuses) and the
# one DNS block list. The server reads settings at most a second old, per session.
set_checks() { # on|off
	local v=0 active=no
	[[ $1 == on ]] && v=1 active=yes
	for s in usespf ASDKIMVerificationEnabled altimaildmarcenabled altimaildmarcreject; do
		alt setting set "$s" "$v" >/dev/null || die "altimail setting set $s $v failed"
	done
	alt dnsbl set "$DNSBL_ZONE" --active "$active" >/dev/null || die "altimail dnsbl set failed"
	sleep 1.5
}

alt_sql() { sqlite3 -cmd '.timeout 30000' "$A/altimail.db" "$1"; }
alt_queued() { alt_sql "SELECT count(*) FROM hm_messages WHERE messagetype = 1"; }
alt_stored() {
	alt_sql "SELECT count(*) FROM hm_messages m JOIN hm_accounts a ON a.accountid = m.messageaccountid
		WHERE a.accountaddress = '$TO'"
}
# Lines of the application log that say the DNSBL test passed.
dnsbl_passes() { cat "$A"/logs/*.log 2>/dev/null | grep -c 'Anti-spam: DNSBL=pass' || true; }

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

# What the messages delivered since `marker` say: "files with-spf-dkim-dmarc-pass with-any-result"
verify_delivered() { # marker
	local files all=0 passed=0 any=0
	files=$(find "$A/data/bench.test" -type f -newer "$1" 2>/dev/null | grep -vE '\.(tmp|part)$' || true)
	if [[ -n $files ]]; then
		all=$(wc -l <<<"$files")
		passed=$(xargs -d '\n' grep -l 'dmarc=pass' <<<"$files" | xargs -r -d '\n' grep -l 'dkim=pass' |
			xargs -r -d '\n' grep -l 'spf=pass' | wc -l || true)
		any=$(xargs -d '\n' grep -l '^Authentication-Results: ' <<<"$files" | wc -l || true)
	fi
	echo "$all $passed $any"
}

# --- the runs -------------------------------------------------------------------------------------

declare -A SECS COUNT RC DRAIN DURING CPU LOAD FILES PASSED ANY DNSBL SRVCPU
STATUS=0
bench_one() { # mode round
	local mode=$1 r=$2 secs count rc before after c0 c1 d0 files passed any s0 s1
	set_checks "$mode"
	check_idle
	LOAD[$mode,$r]=$(cut -d' ' -f1 /proc/loadavg)
	touch "$TMP/round.marker"
	sleep 0.01
	before=$(alt_stored)
	d0=$(dnsbl_passes)
	c0=$(cpu_ticks)
	s0=$(process_cpu_ms "$ALTIMAIL_PID")
	read -r secs count rc < <(run_smtp_source "$mode" "$ALTIMAIL_PORT")
	c1=$(cpu_ticks)
	after=$(alt_stored)
	SECS[$mode,$r]=$secs COUNT[$mode,$r]=$count RC[$mode,$r]=$rc DURING[$mode,$r]=$((after - before))
	CPU[$mode,$r]=$(busy_pct "$c0" "$c1")
	DRAIN[$mode,$r]=$(wait_drained)
	# Altimail's own CPU time for the run and the delivery of what it accepted, per message:
	# what another process on the machine does not change.
	s1=$(process_cpu_ms "$ALTIMAIL_PID")
	SRVCPU[$mode,$r]=$(awk -v a="${s0:-0}" -v b="${s1:-0}" -v n="$count" 'BEGIN { if (n > 0) printf "%.3f", (b - a) / n; else print "?" }')
	read -r files passed any < <(verify_delivered "$TMP/round.marker")
	FILES[$mode,$r]=$files PASSED[$mode,$r]=$passed ANY[$mode,$r]=$any
	DNSBL[$mode,$r]=$(($(dnsbl_passes) - d0))
	say "round $r checks $mode: $count accepted in ${secs}s ($(rate "$count" "$secs") msg/s), ${SRVCPU[$mode,$r]} ms of Altimail's CPU a message, load ${LOAD[$mode,$r]}," \
		"$files delivered: spf+dkim+dmarc=pass on $passed, Authentication-Results on $any, DNSBL=pass logged ${DNSBL[$mode,$r]}"
}

for ((r = 1; r <= ROUNDS; r++)); do
	# alternate which mode goes first, so neither always gets the warmer (or the colder) machine
	if ((r % 2 == 1)); then order=(on off); else order=(off on); fi
	for mode in "${order[@]}"; do bench_one "$mode" "$r"; done
done

EXPECTED=$((MESSAGES * ROUNDS * 2))
ALT_STORED=$(alt_stored)
ALT_LEFT=$(alt_queued)
altimail_report_warnings
altimail_stop

# --- report ---------------------------------------------------------------------------------------

echo
echo "Anti-spam throughput: $MESSAGES messages x $ROUNDS round(s) per mode, $SENDERS parallel senders,"
echo "  one DKIM-signed message of $(wc -c <"$TMP/message.txt") bytes (smtp-source -F)$([[ ${BENCH_REUSE:-} == 1 ]] && echo ', smtp-source -d: one connection per sender' || echo ', one connection per message');"
echo "  loopback; DNS from $DNS_IP:$DNS_PORT; work directory on $FSTYPE ($(df --output=source "$TMP" | tail -n 1)); $(nproc) CPU(s)"
FMT='%-6s %5s %9s %6s %9s %9s %8s %5s %5s %9s %9s %8s %6s\n'
# shellcheck disable=SC2059
printf "$FMT" checks round accepted status seconds 'msg/s' 'srv cpu' 'cpu%' load delivered drained 'results' DNSBL
# shellcheck disable=SC2059
printf "$FMT" '' '' '' '' '' '' '(ms/msg)' '' '' '(in run)' '(+s)' '(pass)' '(pass)'
declare -A MED MEDCPU
for mode in on off; do
	rates=() secs=() cpus=()
	for ((r = 1; r <= ROUNDS; r++)); do
		rt=$(rate "${COUNT[$mode,$r]}" "${SECS[$mode,$r]}")
		rates+=("$rt") secs+=("${SECS[$mode,$r]}") cpus+=("${SRVCPU[$mode,$r]}")
		# shellcheck disable=SC2059
		printf "$FMT" "$mode" "$r" "${COUNT[$mode,$r]}" "${RC[$mode,$r]}" "${SECS[$mode,$r]}" "$rt" "${SRVCPU[$mode,$r]}" \
			"${CPU[$mode,$r]}" "${LOAD[$mode,$r]}" "${DURING[$mode,$r]}" "${DRAIN[$mode,$r]}" "${PASSED[$mode,$r]}" "${DNSBL[$mode,$r]}"
		if [[ ${RC[$mode,$r]} != 0 || ${COUNT[$mode,$r]} != "$MESSAGES" ]]; then
			say "checks $mode, round $r: NOT every message was accepted (smtp-source status ${RC[$mode,$r]}, ${COUNT[$mode,$r]} of $MESSAGES)"
			STATUS=1
		fi
		if [[ ${FILES[$mode,$r]} != "$MESSAGES" ]]; then
			say "checks $mode, round $r: ${FILES[$mode,$r]} message files delivered, not $MESSAGES"
			STATUS=1
		fi
		if [[ $mode == on ]] && [[ ${PASSED[$mode,$r]} != "$MESSAGES" || ${DNSBL[$mode,$r]} != "$MESSAGES" ]]; then
			say "checks on, round $r: the checks did NOT all run: spf+dkim+dmarc=pass on ${PASSED[$mode,$r]}, DNSBL=pass logged ${DNSBL[$mode,$r]}, of $MESSAGES"
			STATUS=1
		fi
		if [[ $mode == off ]] && [[ ${ANY[$mode,$r]} != 0 || ${DNSBL[$mode,$r]} != 0 ]]; then
			say "checks off, round $r: checks ran anyway: Authentication-Results on ${ANY[$mode,$r]}, DNSBL=pass logged ${DNSBL[$mode,$r]}"
			STATUS=1
		fi
	done
	MED[$mode]=$(median "${rates[@]}")
	MEDCPU[$mode]=$(median "${cpus[@]}")
	# shellcheck disable=SC2059
	printf "$FMT" "$mode" median "" "" "$(median "${secs[@]}")" "${MED[$mode]}" "${MEDCPU[$mode]}" "" "" "" "" "" ""
done
echo
echo "altimail: $ALT_STORED of $EXPECTED messages in $TO's mailbox, $ALT_LEFT left in the queue"
[[ $ALT_STORED == "$EXPECTED" ]] || STATUS=1
RATIO=$(awk -v a="${MED[on]}" -v b="${MED[off]}" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "n/a" }')
CPU_RATIO=$(awk -v a="${MEDCPU[on]}" -v b="${MEDCPU[off]}" 'BEGIN { if (a > 0) printf "%.0f", 100 * b / a; else print "n/a" }')
printf 'messages/second (median): checks on %s, checks off %s; on/off: %s %% (target: 80 %% or more: %s)\n' \
	"${MED[on]}" "${MED[off]}" "$RATIO" "$([[ $RATIO != n/a ]] && ((RATIO >= 80)) && echo met || echo NOT met)"
printf "Altimail's CPU per message (median): checks on %s ms, checks off %s ms; off/on: %s %% (the on/off rate of a CPU-bound server)\n" \
	"${MEDCPU[on]}" "${MEDCPU[off]}" "$CPU_RATIO"
echo
echo "checks on = SPF (usespf), DKIM verification (ASDKIMVerificationEnabled), DMARC (altimaildmarcenabled,"
echo "p=reject refused) and one DNS block list ($DNSBL_ZONE, not listing 127.0.0.1); off = all of them off."
echo "results (pass) = delivered messages whose Authentication-Results say spf=pass, dkim=pass and dmarc=pass;"
echo "DNSBL (pass) = 'Anti-spam: DNSBL=pass' lines in the log. srv cpu = Altimail's CPU time (user + system) from"
echo "the run's start until its queue was empty, per message; it does not depend on what else runs on the machine."
echo "cpu% = the whole machine's CPU use during the run;"
echo "load = the 1-minute load average when the run started; delivered (in run) = messages delivered into the"
echo "mailbox while smtp-source ran; drained = seconds after the run until the queue was empty (not in msg/s)."
((BUSY_WARNINGS == 0)) || echo "WARNING: $BUSY_WARNINGS run(s) started on a busy machine (see the messages above): compare with care."
((STATUS == 0)) || say "some checks failed (see above)"
exit "$STATUS"
