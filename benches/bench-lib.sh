# shellcheck shell=bash
# Shared by the benchmark scripts in benches/ (sourced, not run): ports, a throw-away Altimail
# install, a throw-away Dovecot instance on loopback ports, a generated mbox for imaptest, CPU
# use, and the cleanup that stops the servers.
#
# The sourcing script sets ROOT (repository root) and TMP (its work directory, made by
# bench_make_workdir) and calls `trap bench_cleanup EXIT` (or its own cleanup, which calls
# altimail_stop and remove_workdir).

say() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] error: %s\n' "$*" >&2
	exit 1
}

BENCH_USER=bench@bench.test
BENCH_PASS=bench-secret

port_in_use() {
	if command -v ss >/dev/null; then
		[[ -n $(ss -Hltn "sport = :$1") ]]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

free_port() { # first free port from $1 upwards, skipping $2
	local p=$1
	while port_in_use "$p" || [[ $p == "${2:-}" ]]; do
		p=$((p + 1))
		((p < 65000)) || die "no free port found"
	done
	echo "$p"
}

wait_listen() { # port pid-to-watch(or "") seconds what
	local port=$1 pid=$2 limit=$3 what=$4 t0
	t0=$SECONDS
	until port_in_use "$port"; do
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			die "$what exited before listening on 127.0.0.1:$port"
		fi
		((SECONDS - t0 < limit)) || die "$what is not listening on 127.0.0.1:$port after ${limit}s"
		sleep 0.1
	done
}

# The first line an IMAP server sends on 127.0.0.1:$1 (empty when it sends nothing within 5 s).
imap_greeting() {
	python3 - "$1" <<-'EOF' 2>/dev/null || true
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
		print(s.makefile("rb").readline().decode("utf-8", "replace").strip())
	EOF
}

# machine-wide CPU use from /proc/stat: prints "busy total" in clock ticks
cpu_ticks() {
	local _cpu u n sy i w irq sirq st
	read -r _cpu u n sy i w irq sirq st _ </proc/stat
	echo "$((u + n + sy + irq + sirq + st)) $((u + n + sy + i + w + irq + sirq + st))"
}
busy_pct() { # "busy total" before, "busy total" after
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2];
		if (d > 0) printf "%.0f", 100 * (y[1] - x[1]) / d; else print "?" }'
}

# Prints a process and every process below it, one pid a line.
process_tree() {
	local pids=("$1") i=0 kid
	while ((i < ${#pids[@]})); do
		for kid in $(ps -o pid= --ppid "${pids[i]}" 2>/dev/null); do pids+=("$kid"); done
		i=$((i + 1))
	done
	printf '%s\n' "${pids[@]}"
}

# --- work directory --------------------------------------------------------------------------------

TMP=
FSTYPE=
# Makes TMP below $2 (default: BENCH_TMPDIR, else /tmp) and sets FSTYPE, the type of its file
# system. On tmpfs fsync costs nothing: with "refuse-tmpfs" that is an error, else a warning.
bench_make_workdir() { # prefix [base-directory [refuse-tmpfs]]
	local base=${2:-${BENCH_TMPDIR:-/tmp}}
	mkdir -p "$base"
	TMP=$(mktemp -d "$base/$1.XXXXXX")
	chmod 755 "$TMP" # Dovecot's mail processes (nobody) and Postfix's daemons (postfix) work below it
	FSTYPE=$(stat -f -c %T "$TMP")
	if [[ ${3:-} == refuse-tmpfs ]] && [[ $FSTYPE == tmpfs || $FSTYPE == ramfs ]]; then
		die "$TMP is on $FSTYPE: fsync costs nothing there; set BENCH_TMPDIR to a disk"
	fi
	say "work directory $TMP ($FSTYPE)"
	if [[ $FSTYPE == tmpfs || $FSTYPE == ramfs ]]; then
		say "WARNING: $TMP is on $FSTYPE: fsync costs nothing there (BENCH_TMPDIR chooses another place)"
	fi
}

# Removes TMP, or keeps it when BENCH_KEEP=1.
remove_workdir() {
	if [[ -n $TMP && -d $TMP ]]; then
		if [[ ${BENCH_KEEP:-} == 1 ]]; then
			say "kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
}

# --- Altimail -------------------------------------------------------------------------------------

ALTIMAIL_PID=
ALTIMAIL_BIN_RESOLVED=
altimail_binary() { # sets ALTIMAIL_BIN_RESOLVED: ALTIMAIL_BIN, or a release build of the repository
	if [[ -n ${ALTIMAIL_BIN:-} ]]; then
		[[ -x $ALTIMAIL_BIN ]] || die "ALTIMAIL_BIN=$ALTIMAIL_BIN is not executable"
		ALTIMAIL_BIN_RESOLVED=$ALTIMAIL_BIN
	else
		command -v cargo >/dev/null || die "cargo not found (install Rust with rustup, or set ALTIMAIL_BIN)"
		say "building: cargo build --release -p altimail"
		(cd "$ROOT" && cargo build --release -p altimail >&2) || die "cargo build failed"
		ALTIMAIL_BIN_RESOLVED=${CARGO_TARGET_DIR:-$ROOT/target}/release/altimail
	fi
}

# Installs Altimail in $TMP/altimail (SQLite), with an account (default: $BENCH_USER and
# $BENCH_PASS) and its domain, every default port removed and one port of `protocol` (default
# imap) on 127.0.0.1:$1 without TLS, no connection limits; starts `serve`. ALTIMAIL_EXTRA_CONFIG,
# when set, is appended to altimail.toml (a [dns] section, say); a function altimail_setup, when
# the calling script defines one, is called with the install's directory just before `serve`.
altimail_start() { # port [protocol [account password]]
	local port=$1 protocol=${2:-imap} account=${3:-$BENCH_USER} password=${4:-$BENCH_PASS} a=$TMP/altimail id
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
	[[ -z ${ALTIMAIL_EXTRA_CONFIG:-} ]] || printf '%s\n' "$ALTIMAIL_EXTRA_CONFIG" >>"$a/altimail.toml"
	alt() { "$ALTIMAIL_BIN_RESOLVED" --config "$a/altimail.toml" "$@"; }
	alt init >&2 || die "altimail init failed"
	alt domain add "${account#*@}" >&2 || die "altimail domain add failed"
	alt account add "$account" --password "$password" >&2 || die "altimail account add failed"
	for id in $(alt --json port list | grep -oE '"id"[[:space:]]*:[[:space:]]*[0-9]+' | grep -oE '[0-9]+$'); do
		alt port remove "$id" >/dev/null
	done
	port_in_use "$port" && die "port $port is in use"
	alt port add --protocol "$protocol" --port "$port" --address 127.0.0.1 --security none >&2 || die "altimail port add failed"
	# The benchmarks measure capacity, from one address: no connection limits (a new installation
	# has some: 50 sessions per client address, 1000 SMTP/POP3 and 5000 IMAP sessions).
	# (An older binary without the per-address limit has none to lift: ALTIMAIL_BIN may be one,
	# to compare two versions in the same run.)
	for id in maxsmtpconnections maxpop3connections maximapconnections altimailmaxconnectionsperip; do
		if ! out=$(alt setting set "$id" 0 2>&1); then
			[[ $out == *"no setting $id"* ]] || die "altimail setting set $id 0 failed: $out"
		fi
	done

	# the calling script's own setup, when it has one (settings that must be there at start)
	if declare -F altimail_setup >/dev/null; then altimail_setup "$a"; fi

	say "starting altimail serve on 127.0.0.1:$port"
	"$ALTIMAIL_BIN_RESOLVED" --config "$a/altimail.toml" serve 2>"$a/serve.stderr" >/dev/null &
	ALTIMAIL_PID=$!
	wait_listen "$port" "$ALTIMAIL_PID" 30 "altimail serve"
}

altimail_stop() {
	[[ -n $ALTIMAIL_PID ]] || return 0
	local -
	set +e # stopping goes on whatever fails
	if kill -0 "$ALTIMAIL_PID" 2>/dev/null; then
		say "stopping Altimail (pid $ALTIMAIL_PID)"
		kill -TERM "$ALTIMAIL_PID"
		for _ in $(seq 100); do
			kill -0 "$ALTIMAIL_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$ALTIMAIL_PID" 2>/dev/null && kill -KILL "$ALTIMAIL_PID"
		wait "$ALTIMAIL_PID" 2>/dev/null
	fi
	ALTIMAIL_PID=
	return 0
}

# --- Dovecot --------------------------------------------------------------------------------------

DOVECOT_PID=
have_dovecot() { [[ -x /usr/sbin/dovecot ]] && [[ -x /usr/lib/dovecot/imap ]]; }

# A Dovecot instance of its own in $TMP/dovecot: its own base_dir, state_dir and log, IMAP on
# 127.0.0.1:$1 only, no TLS, plaintext LOGIN allowed, one user ($BENCH_USER) from a passwd-file,
# Maildir under $TMP/dovecot/home owned by nobody (Dovecot refuses to open mail as root).
# Room for $2 simultaneous sessions. A system Dovecot, if one runs, is left alone.
dovecot_start() { # port max-connections
	local port=$1 max=${2:-1000} d=$TMP/dovecot uid gid
	uid=$(id -u nobody) gid=$(id -g nobody)
	mkdir -p "$d/run" "$d/state"
	install -d -o nobody -g "$gid" -m 700 "$d/home"
	printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$BENCH_USER" "$BENCH_PASS" "$uid" "$gid" "$d/home/$BENCH_USER" >"$d/users"
	cat >"$d/dovecot.conf" <<-EOF
		# throw-away Dovecot instance of an IMAP benchmark
		base_dir = $d/run
		state_dir = $d/state
		log_path = $d/dovecot.log
		info_log_path = $d/dovecot.log
		protocols = imap
		listen = 127.0.0.1
		ssl = no
		disable_plaintext_auth = no
		auth_mechanisms = plain login
		mail_location = maildir:~/Maildir
		# every benchmark client is the same user from the same address
		mail_max_userip_connections = $((max + 100))
		first_valid_uid = 1
		default_internal_user = dovecot
		default_login_user = dovenull
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $d/users
		}
		userdb {
		  driver = passwd-file
		  args = username_format=%u $d/users
		}
		service imap-login {
		  inet_listener imap {
		    address = 127.0.0.1
		    port = $port
		  }
		  inet_listener imaps {
		    port = 0
		  }
		  # "high-performance" login processes: each one serves many logins
		  service_count = 0
		  process_min_avail = 2
		  client_limit = 1000
		}
		# one imap process per session (Dovecot's default)
		service imap {
		  process_limit = $((max + 100))
		}
		service anvil {
		  client_limit = $((max + 1000))
		}
		# every imap process keeps a connection to stats
		service stats {
		  client_limit = $((max + 1000))
		  unix_listener stats-reader {
		    mode = 0666
		  }
		}
	EOF
	port_in_use "$port" && die "port $port is in use"
	say "starting Dovecot (dovecot -c $d/dovecot.conf) on 127.0.0.1:$port"
	/usr/sbin/dovecot -c "$d/dovecot.conf" 2>"$d/start.stderr" || {
		cat "$d/start.stderr" "$d/dovecot.log" >&2 2>/dev/null
		die "Dovecot did not start"
	}
	for _ in $(seq 100); do
		[[ -s $d/run/master.pid ]] && break
		sleep 0.1
	done
	DOVECOT_PID=$(cat "$d/run/master.pid" 2>/dev/null) || die "Dovecot wrote no master.pid"
	wait_listen "$port" "$DOVECOT_PID" 30 "Dovecot"
}

dovecot_stop() {
	[[ -n $DOVECOT_PID ]] || return 0
	local pids p left=()
	local -
	set +e # stopping goes on whatever fails
	if kill -0 "$DOVECOT_PID" 2>/dev/null; then
		say "stopping Dovecot (master pid $DOVECOT_PID)"
		pids=$(process_tree "$DOVECOT_PID")
		kill -TERM "$DOVECOT_PID"
		# the master stops its children; wait for all of them (they may hold files in $TMP)
		for _ in $(seq 150); do
			left=()
			for p in $pids; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
			((${#left[@]} == 0)) && break
			sleep 0.1
		done
		((${#left[@]} == 0)) || kill -KILL "${left[@]}" 2>/dev/null
	fi
	DOVECOT_PID=
	return 0
}

# --- cleanup --------------------------------------------------------------------------------------

bench_cleanup() {
	local rc=$?
	set +e
	altimail_stop
	dovecot_stop
	remove_workdir
	exit "$rc"
}

# Sets SIDES from ONLY (BENCH_ONLY): altimail, and dovecot when it is installed. $1 is appended
# to the note given when Dovecot is missing.
imap_sides() { # [note]
	SIDES=()
	[[ -z $ONLY || $ONLY == altimail ]] && SIDES+=(altimail)
	if [[ -z $ONLY || $ONLY == dovecot ]]; then
		if have_dovecot; then
			[[ $EUID -eq 0 ]] || die "run as root (Dovecot's master starts as root), or BENCH_ONLY=altimail"
			SIDES+=(dovecot)
		elif [[ $ONLY == dovecot ]]; then
			die "dovecot is not installed (apt-get install dovecot-imapd)"
		else
			say "dovecot is not installed (apt-get install dovecot-imapd): Altimail only${1:-}"
		fi
	fi
}

# --- the messages imaptest appends ------------------------------------------------------------------

# Writes an mbox of $2 varied messages to $1: plain text of many lengths, quoted-printable UTF-8,
# multipart/alternative, attachments (base64, up to 60 KB), a forwarded message/rfc822,
# encoded-word subjects and names, Cc/Reply-To, folded long headers, reply threads
# (In-Reply-To/References) and body lines that start with "From " (escaped). Same seed, same file.
make_mbox() { # file count
	python3 - "$1" "$2" <<-'PYEOF'
		import base64, random, sys, time
		from email.utils import formatdate

		out, count = sys.argv[1], int(sys.argv[2])
		rnd = random.Random(20240611)
		WORDS = ("mail server queue folder message account domain delivery relay spam filter rule archive "
		         "backup invoice meeting report budget project release schedule review draft answer question "
		         "weekly monthly urgent update notice status ticket customer support order shipping").split()
		NAMES = [("Alice Martin", "alice@example.org"), ("Bob Stone", "bob@example.com"),
		         ("Carla Diaz", "carla@mail.test"), ("Dmitri Ivanov", "dmitri@example.net"),
		         ("Élodie Faure", "elodie@exemple.fr"), ("", "noreply@shop.test"),
		         ("Günther Weiß", "gunther@beispiel.de"), ("李雷", "lilei@example.cn"), ("Zoë O'Neil", "zoe@example.ie")]
		SUBJ_UTF8 = ["Réunion de lundi", "Größenänderung", "会议记录", "Ça marche ✓", "Привет"]

		def words(n):
		    return " ".join(rnd.choice(WORDS) for _ in range(n))

		def para(lines):
		    return "\n".join(words(rnd.randint(6, 14)) for _ in range(lines))

		def enc_word(s):
		    return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="

		def addr(p):
		    name, a = p
		    if not name:
		        return a
		    if not name.isascii():
		        return f"{enc_word(name)} <{a}>"
		    return f'"{name}" <{a}>' if "'" in name else f"{name} <{a}>"

		def b64lines(data):
		    s = base64.b64encode(data).decode()
		    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))

		def qp(text):
		    return "".join(c if c.isascii() and c != "=" else "".join(f"={b:02X}" for b in c.encode()) for c in text)

		def body(kind, i):
		    if kind == 0:
		        return "Content-Type: text/plain; charset=us-ascii\n", para(rnd.randint(1, 40))
		    if kind == 1:
		        text = "Bonjour,\n\n" + para(5) + "\nAccents: é à ü ß, «quotes»\n"
		        return "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n", qp(text)
		    if kind == 2:
		        b, t = f"alt{i}", para(4)
		        html = t.replace("\n", "</p><p>")
		        return (f'Content-Type: multipart/alternative; boundary="{b}"\n',
		                f"--{b}\nContent-Type: text/plain; charset=us-ascii\n\n{t}\n"
		                f"--{b}\nContent-Type: text/html; charset=us-ascii\n\n<html><body><p>{html}</p></body></html>\n--{b}--\n")
		    if kind == 3:
		        b = f"mix{i}"
		        data = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((300, 2000, 12000, 60000))))
		        return (f'Content-Type: multipart/mixed; boundary="{b}"\n',
		                f"This is a multi-part message in MIME format.\n\n--{b}\nContent-Type: text/plain; charset=us-ascii\n\n"
		                f"{para(3)}\n--{b}\nContent-Type: application/octet-stream; name=\"file{i}.bin\"\n"
		                f"Content-Disposition: attachment; filename=\"file{i}.bin\"\nContent-Transfer-Encoding: base64\n\n"
		                f"{b64lines(data)}\n--{b}--\n")
		    if kind == 4:
		        b = f"fwd{i}"
		        inner = (f"From: {addr(rnd.choice(NAMES))}\nTo: {addr(rnd.choice(NAMES))}\nSubject: {words(3)}\n"
		                 f"Date: {formatdate(1600000000 + i * 3600)}\nMessage-ID: <inner{i}@example.org>\n\n{para(5)}\n")
		        return (f'Content-Type: multipart/mixed; boundary="{b}"\n',
		                f"--{b}\nContent-Type: text/plain\n\nForwarded message below.\n"
		                f"--{b}\nContent-Type: message/rfc822\n\n{inner}\n--{b}--\n")
		    return "Content-Type: text/plain; charset=us-ascii\n", para(200) + "\nFrom the desk of the sender\n" + para(3)

		with open(out, "w", encoding="utf-8", newline="\n") as f:
		    for i in range(1, count + 1):
		        sender, to = rnd.choice(NAMES), rnd.choice(NAMES)
		        date = 1700000000 + i * rnd.randint(60, 7200)
		        subject = enc_word(rnd.choice(SUBJ_UTF8)) if i % 7 == 0 else words(rnd.randint(1, 8)).capitalize()
		        thread = ""
		        if i > 10 and i % 4 == 0:
		            ref = rnd.randint(1, i - 1)
		            subject = "Re: " + subject
		            thread = f"In-Reply-To: <msg{ref}@bench.test>\nReferences: <msg{ref}@bench.test>\n"
		        if i % 2:
		            date_hdr = formatdate(date)
		        else:
		            date_hdr = time.strftime("%a, %d %b %Y %H:%M:%S +0200", time.gmtime(date + 7200))
		        ctype, text = body(i % 6, i)
		        h = (f"From: {addr(sender)}\nTo: {addr(to)}\n"
		             + (f"Cc: {addr(rnd.choice(NAMES))}, {addr(rnd.choice(NAMES))}\n" if i % 3 == 0 else "")
		             + (f"Reply-To: {addr(rnd.choice(NAMES))}\n" if i % 5 == 0 else "")
		             + f"Subject: {subject}\nDate: {date_hdr}\nMessage-ID: <msg{i}@bench.test>\n{thread}"
		             + (f"X-Long-Header: {words(30)}\n\t{words(20)}\n" if i % 9 == 0 else "")
		             + f"MIME-Version: 1.0\n{ctype}")
		        # mboxrd: a body line starting with "From " (after any '>') gets one more '>'
		        lines = [">" + l if l.lstrip(">").startswith("From ") else l for l in text.split("\n")]
		        f.write(f"From {sender[1]} {time.asctime(time.gmtime(date))}\n{h}\n" + "\n".join(lines).rstrip("\n") + "\n\n")
	PYEOF
}

# Says which errors or warnings the Altimail under test wrote on its stderr, if any.
altimail_report_warnings() {
	if grep -qE ' (ERROR|WARN) |panicked' "$TMP/altimail/serve.stderr"; then
		say "altimail: its stderr has errors or warnings:"
		grep -E ' (ERROR|WARN) |panicked' "$TMP/altimail/serve.stderr" | head -n 10 | cut -c1-240 | sed 's/^/    /' >&2 || true
	fi
}

# Says which errors the Dovecot under test logged, most frequent first, if any.
dovecot_report_errors() {
	if grep -qE '(Error|Fatal|Panic):' "$TMP/dovecot/dovecot.log"; then
		say "dovecot: its log has errors:"
		grep -E '(Error|Fatal|Panic):' "$TMP/dovecot/dovecot.log" | sed -E 's/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} //' |
			sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /' >&2 || true
	fi
}

# --- SMTP benchmarks (smtp-throughput.sh, antispam-throughput.sh) ------------------------------

# apt-get install, with one `apt-get update` first.
APT_UPDATED=
apt_install() {
	command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
	say "installing $* (apt-get)"
	if [[ -z $APT_UPDATED ]]; then
		apt-get update -qq >&2 || true
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

install_postfix() {
	# "No configuration": the package installs without writing /etc/postfix/main.cf, so the
	# system's own Postfix is not set up (and so not started) by this benchmark.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	# Keep the package's scripts from starting a system service. Only when no policy exists
	# already; ours is removed right after the install.
	local policy=/usr/sbin/policy-rc.d made_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# temporary, from a benchmark in benches/\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	local rc=0
	apt_install postfix || rc=$?
	if [[ -n $made_policy ]]; then rm -f "$policy"; fi
	return "$rc"
}

now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "inf" }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Waits up to BENCH_WAIT_IDLE seconds for the CPUs to be idle (under 15 % busy over a second);
# warns when they are not: something else running makes the figures worth little.
check_idle() {
	local c0 c1 pct t0=$SECONDS
	while :; do
		c0=$(cpu_ticks)
		sleep 1
		c1=$(cpu_ticks)
		pct=$(busy_pct "$c0" "$c1")
		[[ $pct == "?" ]] || ((pct <= 15)) || ((SECONDS - t0 >= WAIT_IDLE)) || continue
		break
	done
	if [[ $pct != "?" ]] && ((pct > 15)); then
		say "WARNING: the machine is ${pct}% busy before this run (other processes); the figures will be noisy. Busiest:"
		top -b -n 1 -o %CPU 2>/dev/null | awk 'NR > 7 && NR <= 10 { print "    " $9 "% " $12 }' >&2 || true
		BUSY_WARNINGS=$((BUSY_WARNINGS + 1))
	fi
}
BUSY_WARNINGS=0

# One smtp-source run against a server with the options in the array SMTP_SOURCE_OPTS: prints
# "seconds acknowledged-count exit-status" and leaves smtp-source's output in
# $TMP/NAME.smtp-source.out/.err
[[ ${BENCH_REUSE:-} == 1 ]] && SMTP_SOURCE_OPTS+=(-d)

run_smtp_source() { # name port
	local name=$1 port=$2 t0 t1 rc=0 count
	say "$name: smtp-source ${SMTP_SOURCE_OPTS[*]} 127.0.0.1:$port"
	t0=$(now)
	smtp-source "${SMTP_SOURCE_OPTS[@]}" "127.0.0.1:$port" >"$TMP/$name.smtp-source.out" 2>"$TMP/$name.smtp-source.err" || rc=$?
	t1=$(now)
	# -c prints a counter ("N\r") each time a DATA command completes with its 2xx reply;
	# without -A any other reply makes smtp-source stop with a fatal error and a non-zero status.
	count=$(tr '\r' '\n' <"$TMP/$name.smtp-source.out" | grep -E '^[0-9]+$' | tail -n 1 || true)
	count=${count:-0}
	if ((rc != 0)) || [[ -s $TMP/$name.smtp-source.err ]]; then
		say "$name: smtp-source exited with status $rc after $count message(s); its stderr:"
		sed 's/^/    /' "$TMP/$name.smtp-source.err" | head -n 20 >&2
	fi
	echo "$(elapsed "$t0" "$t1") $count $rc"
}

# CPU time (user + system) a process has used so far, in milliseconds; empty when it is gone.
process_cpu_ms() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# the fields after the command name (which may hold spaces): utime and stime are 12th and 13th
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($12 + $13) * 1000 / hz }' <<<"${stat##*) }"
}

