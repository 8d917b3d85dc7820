#!/usr/bin/env bash
# SMTP throughput benchmark: accepted messages per second, N parallel senders, Altimail vs Postfix.
#
#   bash benches/smtp-throughput.sh [messages] [senders]      (as root, from the repository root)
#
# Both servers run on this machine, on loopback only, from throw-away directories, each with its
# full durability: a message is acknowledged with 250 only once it is on disk (see benches/README.md).
# This is a benchmark run by hand, not a test: it prints figures and exits 0 when both runs
# completed without an SMTP error.
#
# Environment knobs (all optional):
#   BENCH_ROUNDS=3           runs per server, alternating; the report gives each and the median
#   BENCH_SIZE=4096          payload bytes per message (smtp-source -l)
#   BENCH_POSTFIX_DELIVERY=discard   what Postfix does with what it accepted: discard (discard(8)),
#                            or maildir (virtual(8) into a Maildir, closer to Altimail's own delivery)
#   BENCH_TMPDIR=/var/tmp    where the throw-away directory goes (must be a real disk, not tmpfs)
#   BENCH_KEEP=1             keep the throw-away directory (logs, databases, queues) for inspection
#   BENCH_ONLY=altimail|postfix   run one side only (no ratio)
#   BENCH_REUSE=1            smtp-source -d: send every message of a sender over one connection
#   BENCH_DRAIN_TIMEOUT=300  seconds to wait for the servers to deliver what they accepted
#   BENCH_WAIT_IDLE=30       seconds to wait, before each run, for the CPUs to be idle (then it warns)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
#   ALTIMAIL_PORT / POSTFIX_PORT   loopback ports to use (default: first free port from 12525 / 12526)
set -euo pipefail

MESSAGES=${1:-2000}
SENDERS=${2:-20}
SIZE=${BENCH_SIZE:-4096}
BASE_TMP=${BENCH_TMPDIR:-/var/tmp}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}
WAIT_IDLE=${BENCH_WAIT_IDLE:-30}
ONLY=${BENCH_ONLY:-}
ROUNDS=${BENCH_ROUNDS:-3}
PF_DELIVERY=${BENCH_POSTFIX_DELIVERY:-discard}
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
case "$ONLY" in "" | altimail | postfix) ;; *) die "BENCH_ONLY must be altimail or postfix" ;; esac
case "$PF_DELIVERY" in discard | maildir) ;; *) die "BENCH_POSTFIX_DELIVERY must be discard or maildir" ;; esac
[[ $EUID -eq 0 ]] || die "run as root (Postfix's master must start as root; missing packages are installed with apt-get)"

cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

run_altimail() { [[ -z $ONLY || $ONLY == altimail ]]; }
run_postfix() { [[ -z $ONLY || $ONLY == postfix ]]; }

# --- what the benchmark needs ------------------------------------------------------------------

command -v smtp-source >/dev/null || install_postfix || die "could not install postfix (for smtp-source)"
command -v smtp-source >/dev/null || die "smtp-source still missing after installing postfix"
if run_postfix; then
	for f in /usr/sbin/postfix /usr/sbin/postconf /usr/lib/postfix/sbin/master; do
		[[ -x $f ]] || install_postfix || die "could not install postfix"
	done
	getent passwd postfix >/dev/null || die "user 'postfix' missing (is the postfix package installed completely?)"
	getent group postdrop >/dev/null || die "group 'postdrop' missing (is the postfix package installed completely?)"
fi
command -v sqlite3 >/dev/null || apt_install sqlite3 || say "sqlite3 unavailable: Altimail's counts come from the files"
command -v ss >/dev/null || apt_install iproute2 || say "ss unavailable: waiting for ports by connecting"

# --- helpers ------------------------------------------------------------------------------------

# What run_smtp_source (bench-lib.sh) sends.
SMTP_SOURCE_OPTS=(-c -s "$SENDERS" -m "$MESSAGES" -l "$SIZE" -f "$FROM" -t "$TO" -M bench-client.test)
[[ ${BENCH_REUSE:-} == 1 ]] && SMTP_SOURCE_OPTS+=(-d)

# Postfix instance state. `master -t` exits 0 when no master holds the instance's lock.
postfix_stopped() { /usr/lib/postfix/sbin/master -c "$POSTFIX_ETC" -t 2>/dev/null; }
# The instance's daemons work inside its queue directory; they leave soon after master stops.
# Wait for that (up to 10 s) before the directory is removed; only processes whose working
# directory is in our queue are looked at, so nothing else is touched.
our_postfix_pids() {
	local d pid cwd
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
		[[ $cwd == "$TMP/postfix/queue" || $cwd == "$TMP/postfix/queue/"* ]] && echo "$pid"
	done
	return 0
}
wait_postfix_gone() {
	local pids
	for _ in $(seq 100); do
		pids=$(our_postfix_pids)
		[[ -z $pids ]] && return 0
		sleep 0.1
	done
	say "Postfix processes still running in the queue directory after stop: $pids; sending them SIGTERM"
	kill -TERM $pids 2>/dev/null || true
	sleep 1
}

# --- cleanup ------------------------------------------------------------------------------------

POSTFIX_ETC=
cleanup() {
	local rc=$?
	set +e
	altimail_stop
	if [[ -n $POSTFIX_ETC && -f $POSTFIX_ETC/main.cf ]] && ! postfix_stopped; then
		say "stopping the benchmark's Postfix instance"
		postfix -c "$POSTFIX_ETC" stop >/dev/null 2>&1
	fi
	[[ -n $POSTFIX_ETC ]] && wait_postfix_gone
	remove_workdir
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_make_workdir altimail-bench "$BASE_TMP" refuse-tmpfs

# --- Altimail: set up and start -----------------------------------------------------------------

A=$TMP/altimail
if run_altimail; then
	altimail_binary
	ALTIMAIL_PORT=${ALTIMAIL_PORT:-$(free_port 12525)}
	altimail_start "$ALTIMAIL_PORT" smtp "$TO" x
fi

HAVE_SQLITE=
command -v sqlite3 >/dev/null && HAVE_SQLITE=1
alt_sql() { sqlite3 -cmd '.timeout 30000' "$A/altimail.db" "$1"; }
alt_queued() { # messages accepted but not yet delivered
	if [[ -n $HAVE_SQLITE ]]; then
		alt_sql "SELECT count(*) FROM hm_messages WHERE messagetype = 1"
	else
		find "$A/data" -maxdepth 1 -name '*.eml' | wc -l
	fi
}
alt_stored() { # messages in sink's mailbox
	if [[ -n $HAVE_SQLITE ]]; then
		alt_sql "SELECT count(*) FROM hm_messages m JOIN hm_accounts a ON a.accountid = m.messageaccountid
			WHERE a.accountaddress = '$TO'"
	else
		find "$A/data/bench.test/sink" -name '*.eml' 2>/dev/null | wc -l
	fi
}

# --- Postfix: set up and start ------------------------------------------------------------------

P=$TMP/postfix
if run_postfix; then
	POSTFIX_ETC=$P/etc
	mkdir -p "$POSTFIX_ETC" "$P/queue"
	install -d -o postfix -m 700 "$P/data" # master's lock file and the daemons' caches
	POSTFIX_PORT=${POSTFIX_PORT:-$(free_port 12526 "${ALTIMAIL_PORT:-}")}
	port_in_use "$POSTFIX_PORT" && die "port $POSTFIX_PORT is in use"

	# master.cf: Debian's pristine one (not /etc/postfix's, which an admin may have changed),
	# nothing chrooted (the queue directory is not set up as a chroot), one smtpd on our port.
	if [[ -f /usr/share/postfix/master.cf.dist ]]; then
		cp /usr/share/postfix/master.cf.dist "$POSTFIX_ETC/master.cf"
	else
		cp /etc/postfix/master.cf "$POSTFIX_ETC/master.cf"
	fi
	: >"$POSTFIX_ETC/main.cf"
	pc() { postconf -c "$POSTFIX_ETC" "$@"; }
	pc -e \
		"compatibility_level = 3.6" \
		"queue_directory = $P/queue" \
		"data_directory = $P/data" \
		"mail_owner = postfix" \
		"setgid_group = postdrop" \
		"syslog_name = postfix-bench" \
		"maillog_file = $P/maillog" \
		"myhostname = postfix-bench.localdomain" \
		"mydomain = localdomain" \
		"myorigin = \$myhostname" \
		"inet_interfaces = 127.0.0.1" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"local_transport = discard:bench" \
		"default_transport = discard:bench" \
		"relay_transport = discard:bench" \
		"alias_maps =" \
		"alias_database =" \
		"biff = no" \
		"smtpd_tls_security_level = none" \
		"smtp_tls_security_level = none"
	if [[ $PF_DELIVERY == discard ]]; then
		# bench.test is local; every local address is accepted and handed to discard(8)
		pc -e "mydestination = bench.test" "local_recipient_maps ="
	else
		# bench.test is a virtual mailbox domain; sink's mail goes to a Maildir (virtual(8) fsyncs
		# each file before it reports the delivery)
		install -d -o postfix -g postfix -m 700 "$P/mail"
		pc -e "mydestination =" \
			"virtual_mailbox_domains = bench.test" \
			"virtual_mailbox_base = $P/mail" \
			"virtual_mailbox_maps = inline:{ $TO=bench.test/sink/ }" \
			"virtual_uid_maps = static:$(id -u postfix)" \
			"virtual_gid_maps = static:$(id -g postfix)"
	fi
	pc -F '*/*/chroot = n'
	pc -MX smtp/inet
	pc -M "$POSTFIX_PORT/inet = $POSTFIX_PORT inet n - n - - smtpd"
	say "starting Postfix (postfix -c $POSTFIX_ETC) on 127.0.0.1:$POSTFIX_PORT"
	if ! postfix -c "$POSTFIX_ETC" start >&2; then
		tail -n 20 "$P/maillog" >&2 2>/dev/null
		die "Postfix did not start"
	fi
	wait_listen "$POSTFIX_PORT" "" 30 "Postfix"
fi

pf_queued() { # queue files not yet delivered
	find "$P/queue/incoming" "$P/queue/active" "$P/queue/deferred" "$P/queue/hold" "$P/queue/maildrop" -type f 2>/dev/null | wc -l
}
pf_log_count() { grep -cE "postfix-bench/$1\[[0-9]+\]: $2" "$P/maillog" || true; }

# --- the runs -------------------------------------------------------------------------------------

# wait_drained name: waits until the server has delivered everything it accepted; prints seconds
wait_drained() {
	local fn=${1}_queued t0 n
	t0=$(now)
	for _ in $(seq $((DRAIN_TIMEOUT * 10))); do
		n=$($fn)
		if [[ $n == 0 ]]; then
			elapsed "$t0" "$(now)"
			return 0
		fi
		sleep 0.1
	done
	echo "timeout($n left)"
}

alt_delivered() { alt_stored; }
pf_delivered() { pf_log_count '(discard|virtual)' '.*status=sent'; }

declare -A SECS COUNT RC DRAIN DURING CPU
bench_one() { # name round
	local name=$1 r=$2 port secs count rc pname=pf before after c0 c1
	[[ $name == altimail ]] && pname=alt
	if [[ $name == altimail ]]; then port=$ALTIMAIL_PORT; else port=$POSTFIX_PORT; fi
	check_idle
	before=$("${pname}_delivered")
	c0=$(cpu_ticks)
	read -r secs count rc < <(run_smtp_source "$name" "$port")
	c1=$(cpu_ticks)
	after=$("${pname}_delivered")
	SECS[$name,$r]=$secs COUNT[$name,$r]=$count RC[$name,$r]=$rc DURING[$name,$r]=$((after - before))
	CPU[$name,$r]=$(busy_pct "$c0" "$c1")
	# Altimail delivers into sink's mailbox in the background (during the run too); Postfix hands
	# its queue to discard(8) or virtual(8). Wait for that so the next run starts on an idle machine.
	DRAIN[$name,$r]=$(wait_drained "$pname")
	say "round $r $name: $count accepted in ${secs}s ($(rate "$count" "$secs") msg/s), ${DURING[$name,$r]} delivered meanwhile, queue drained ${DRAIN[$name,$r]}s later"
}

SIDES=()
run_altimail && SIDES+=(altimail)
run_postfix && SIDES+=(postfix)
for ((r = 1; r <= ROUNDS; r++)); do
	# alternate who goes first, so neither always gets the warmer (or the colder) machine
	if ((r % 2 == 1)); then order=("${SIDES[@]}"); else order=(); for ((i = ${#SIDES[@]} - 1; i >= 0; i--)); do order+=("${SIDES[i]}"); done; fi
	for name in "${order[@]}"; do bench_one "$name" "$r"; done
done

# --- what each server has after the runs ---------------------------------------------------------

EXPECTED=$((MESSAGES * ROUNDS))
if run_altimail; then
	ALT_STORED=$(alt_stored)
	ALT_LEFT=$(alt_queued)
	if grep -qE ' (ERROR|WARN) |panicked' "$A/serve.stderr"; then
		say "altimail: its stderr has errors or warnings:"
		grep -E ' (ERROR|WARN) |panicked' "$A/serve.stderr" | head -n 10 | sed 's/^/    /' >&2
	fi
	kill -TERM "$ALTIMAIL_PID"
	wait "$ALTIMAIL_PID" 2>/dev/null || true
	ALTIMAIL_PID=
fi
if run_postfix; then
	sleep 0.5 # let postlogd write its last lines
	PF_QUEUED=$(pf_log_count cleanup '[0-9A-Za-z]+: message-id=')
	PF_STORED=$(pf_log_count '(discard|virtual)' '.*status=sent')
	if grep -qE 'postfix-bench/[a-z-]+\[[0-9]+\]: (fatal|panic|error|warning):' "$P/maillog"; then
		say "postfix: its log has errors or warnings:"
		grep -E 'postfix-bench/[a-z-]+\[[0-9]+\]: (fatal|panic|error|warning):' "$P/maillog" | head -n 10 | sed 's/^/    /' >&2
	fi
	postfix -c "$POSTFIX_ETC" stop >&2 || true
	wait_postfix_gone
fi

# --- report ---------------------------------------------------------------------------------------


STATUS=0
echo
echo "SMTP throughput: $MESSAGES messages x $ROUNDS round(s), ${SIZE}-byte payload (smtp-source -l), $SENDERS parallel senders"
echo "  smtp-source$([[ ${BENCH_REUSE:-} == 1 ]] && echo ' -d: one connection per sender' || echo ': one connection per message'); loopback; work directory on $FSTYPE ($(df --output=source "$TMP" | tail -n 1)); $(nproc) CPU(s)"
printf '%-9s %5s %9s %6s %9s %10s %5s %10s %10s\n' server round accepted status seconds 'msg/s' 'cpu%' delivered 'drained'
printf '%-9s %5s %9s %6s %9s %10s %5s %10s %10s\n' '' '' '' '' '' '' '' '(in run)' '(+s after)'
declare -A MED
for name in "${SIDES[@]}"; do
	rates=() secs=()
	for ((r = 1; r <= ROUNDS; r++)); do
		rt=$(rate "${COUNT[$name,$r]}" "${SECS[$name,$r]}")
		rates+=("$rt") secs+=("${SECS[$name,$r]}")
		printf '%-9s %5s %9s %6s %9s %10s %5s %10s %10s\n' "$name" "$r" "${COUNT[$name,$r]}" "${RC[$name,$r]}" "${SECS[$name,$r]}" "$rt" "${CPU[$name,$r]}" "${DURING[$name,$r]}" "${DRAIN[$name,$r]}"
		if [[ ${RC[$name,$r]} != 0 || ${COUNT[$name,$r]} != "$MESSAGES" ]]; then
			say "$name round $r: NOT every message was accepted (smtp-source status ${RC[$name,$r]}, ${COUNT[$name,$r]} of $MESSAGES)"
			STATUS=1
		fi
	done
	MED[$name]=$(median "${rates[@]}")
	printf '%-9s %5s %9s %6s %9s %10s\n' "$name" median "" "" "$(median "${secs[@]}")" "${MED[$name]}"
done
echo
if run_altimail; then
	echo "altimail: $ALT_STORED of $EXPECTED messages in sink@bench.test's mailbox ($([[ -n $HAVE_SQLITE ]] && echo 'hm_messages rows' || echo '.eml files')), $ALT_LEFT left in the queue"
	[[ $ALT_STORED == "$EXPECTED" ]] || STATUS=1
fi
if run_postfix; then
	echo "postfix:  $PF_QUEUED of $EXPECTED messages queued by cleanup, $PF_STORED delivered by $([[ $PF_DELIVERY == discard ]] && echo 'discard(8)' || echo 'virtual(8) to a Maildir') (from its log)"
	[[ $PF_QUEUED == "$EXPECTED" ]] || STATUS=1
fi
if run_altimail && run_postfix; then
	printf 'messages/second (median): altimail %s, postfix %s; ratio altimail/postfix: %s\n' "${MED[altimail]}" "${MED[postfix]}" \
		"$(awk -v a="${MED[altimail]}" -v b="${MED[postfix]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
fi
echo
echo "status = smtp-source's exit status (0: every transaction got its 2xx; it stops at the first other reply);"
echo "cpu% = the whole machine's CPU use during the run (server + smtp-source + anything else);"
echo "delivered (in run) = messages the server finished delivering while smtp-source ran; drained = seconds"
echo "after smtp-source's end until the server's queue was empty (not part of msg/s)."
echo "Durability: Altimail answers 250 once the message file is on disk (syncfs of its file system) and the"
echo "queue row is committed in SQLite (WAL, synchronous=FULL), batched by group commit; Postfix once"
echo "cleanup(8) has fsynced the queue file. Altimail also delivers every message into sink@bench.test's"
echo "mailbox (a second file and more SQLite writes) in the background, during the run: part of its real"
if [[ $PF_DELIVERY == discard ]]; then
	echo "work. Postfix's queue manager hands its messages to discard(8) (BENCH_POSTFIX_DELIVERY=maildir: to a Maildir)."
else
	echo "work. Postfix delivers into a Maildir with virtual(8), which fsyncs each file."
fi
((BUSY_WARNINGS == 0)) || echo "WARNING: $BUSY_WARNINGS run(s) started on a busy machine (see the messages above): compare with care."
((STATUS == 0)) || say "some checks failed (see above)"
exit "$STATUS"
