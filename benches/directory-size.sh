#!/usr/bin/env bash
# Directory-size benchmark: does the cost of RCPT TO, IMAP LOGIN, POP3 logon and SMTP acceptance
# stay the same when the directory grows from 100 accounts to 100,000?
#
#   bash benches/directory-size.sh            (from the repository root)
#
# Two throw-away Altimail installs (release build, SQLite), both running, measured the same way
# by directory-size.py, side after side:
#   (a) 100 accounts in 1 domain, 10 aliases, 1 distribution list of 10, 1 domain alias;
#   (b) 100,000 accounts in 10,000 domains, 10,000 aliases, 1,000 lists of 10 members each,
#       1,000 domain aliases.
# The directory is written with SQL in one transaction (copies of objects made with the CLI),
# then `serve` starts with one SMTP, one IMAP and one POP3 port on 127.0.0.1 (no TLS). It prints
# both sets of figures and their ratio (b)/(a); the target is (b) within 10 % of (a).
#
# Environment knobs (all optional):
#   BENCH_ROUNDS=3           rounds; each measures both sides, the order alternating
#   BENCH_RCPTS=5000         RCPT commands measured per round and side (after BENCH_WARMUP=500)
#   BENCH_LOGONS=1000        IMAP and POP3 logons measured per run
#   BENCH_MESSAGES=2000      messages of the throughput run, BENCH_SENDERS=20 connections at once
#   BENCH_TMPDIR=/var/tmp    where the throw-away directories go (a disk, not tmpfs)
#   BENCH_KEEP=1             keep them (databases, logs, the measurements as JSON)
#   ALTIMAIL_BIN=path        use this altimail binary instead of building target/release/altimail
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench-lib.sh
source "$ROOT/benches/bench-lib.sh"
HELPER=$ROOT/benches/directory-size.py

command -v python3 >/dev/null || die "python3 is needed"
cd "$ROOT"
[[ -f Cargo.toml && -d crates/altimail ]] || die "$ROOT does not look like the Altimail repository"

declare -A PORTS DBS PIDS SIZES
stop_all() {
	local name
	for name in "${!PIDS[@]}"; do
		ALTIMAIL_PID=${PIDS[$name]}
		altimail_stop
	done
	PIDS=()
}
cleanup() {
	local rc=$?
	set +e
	stop_all
	remove_workdir
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export BENCH_TMPDIR=${BENCH_TMPDIR:-/var/tmp}
bench_make_workdir altimail-directory-bench "" refuse-tmpfs
altimail_binary

SIZES[small]="--domains 1 --per-domain 100 --aliases-per-domain 10 --lists 1 --list-members 10 --domain-aliases 1"
SIZES[large]="--domains 10000 --per-domain 10 --aliases-per-domain 1 --lists 1000 --list-members 10 --domain-aliases 1000"

# Installs $1 in $TMP/$1, fills its directory (SIZES[$1]) and starts `serve` on three ports.
setup() {
	local name=$1 a=$TMP/$1 smtp imap pop3
	mkdir -p "$a"
	cat >"$a/altimail.toml" <<-'EOF'
		# throw-away configuration of a benchmark; paths relative to this file
		[directories]
		data = "data"
		logs = "logs"
		temp = "temp"
		events = "events"

		[database]
		type = "sqlite"
		path = "altimail.db"
	EOF
	alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$a/altimail.toml" "$@"; }
	alt init >/dev/null || die "altimail init failed"
	# The objects the directory is copied from.
	alt domain add template.test >/dev/null
	alt domain alias add template.test tda.test >/dev/null
	alt account add t@template.test --password "$BENCH_PASS" >/dev/null
	alt alias add ta@template.test t@template.test >/dev/null
	alt list add tl@template.test >/dev/null
	alt list member add tl@template.test t@template.test >/dev/null
	say "$name: populating (${SIZES[$name]})"
	# shellcheck disable=SC2086 # the sizes are words
	python3 "$HELPER" populate "$a/altimail.db" ${SIZES[$name]} >"$a/populate.json" || die "populate failed"
	say "$name: $(cat "$a/populate.json")"
	for id in $(alt --json port list | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | grep -oE '[0-9]+$'); do
		alt port remove "$id" >/dev/null
	done
	smtp=$(free_port 12625)
	imap=$(free_port $((smtp + 1)))
	pop3=$(free_port $((imap + 1)))
	alt port add --protocol smtp --port "$smtp" --address 127.0.0.1 --security none >/dev/null
	alt port add --protocol imap --port "$imap" --address 127.0.0.1 --security none >/dev/null
	alt port add --protocol pop3 --port "$pop3" --address 127.0.0.1 --security none >/dev/null
	say "$name: starting altimail serve (SMTP $smtp, IMAP $imap, POP3 $pop3)"
	"$ALTIMAIL_BIN_RESOLVED" --config "$a/altimail.toml" serve 2>"$a/serve.stderr" >/dev/null &
	PIDS[$name]=$!
	wait_listen "$smtp" "${PIDS[$name]}" 30 "altimail serve"
	wait_listen "$imap" "${PIDS[$name]}" 30 "altimail serve"
	wait_listen "$pop3" "${PIDS[$name]}" 30 "altimail serve"
	PORTS[$name]="--smtp $smtp --imap $imap --pop3 $pop3"
	DBS[$name]=$a/altimail.db
}


# One phase of one round against one side; its figures go to $TMP/<side>.json.
measure() { # side phase round
	local before after
	before=$(cpu_ticks)
	# shellcheck disable=SC2086 # ports and sizes are words
	python3 "$HELPER" measure --phase "$2" --round "$3" ${PORTS[$1]} --db "${DBS[$1]}" --pid "${PIDS[$1]}" ${SIZES[$1]} \
		--rcpts "${BENCH_RCPTS:-5000}" --warmup "${BENCH_WARMUP:-500}" --logons "${BENCH_LOGONS:-1000}" \
		--messages "${BENCH_MESSAGES:-2000}" --senders "${BENCH_SENDERS:-20}" --out "$TMP/$1.json" ||
		die "$1: measuring $2 failed (see $TMP/$1/serve.stderr)"
	after=$(cpu_ticks)
	say "round $3, $1: $2 done (machine CPU use $(busy_pct "$before" "$after")%)"
}

setup small
setup large
ROUNDS=${BENCH_ROUNDS:-3}
for round in $(seq "$ROUNDS"); do
	# Both servers run throughout; the order alternates so that drift hits both sides alike.
	if ((round % 2)); then order=(small large); else order=(large small); fi
	for phase in rcpt logons smtp; do
		for side in "${order[@]}"; do measure "$side" "$phase" "$round"; done
	done
done
for side in small large; do
	if grep -qE ' (ERROR|WARN) |panicked' "$TMP/$side/serve.stderr"; then
		say "$side: altimail's stderr has errors or warnings:"
		grep -E ' (ERROR|WARN) |panicked' "$TMP/$side/serve.stderr" | head -n 5 | cut -c1-240 | sed 's/^/    /' >&2
	fi
done
stop_all

echo
echo "Directory size: (a) small vs (b) large; $ALTIMAIL_BIN_RESOLVED, SQLite, loopback, $(nproc) CPU(s)"
python3 "$HELPER" report "$TMP/small.json" "$TMP/large.json"
