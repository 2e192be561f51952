# A throwaway PostgreSQL 15 for tests: source this file, then
#   pg_start            initdb in a temp dir (as the unprivileged 'postgres' user) and start the
#                       postmaster as this shell's child, unix socket only. Sets PG_DIR, PG_PORT,
#                       PG_PID and PG_URL (postgresql:///postgres?host=PG_DIR&port=PG_PORT&user=postgres).
#   pg_kill             SIGKILL the postmaster and its backends (a crash), and reap them
#   pg_restart          start the postmaster again on the same data directory (crash recovery)
#   pg_stop             kill it and remove the directory (install as an EXIT trap: trap pg_stop EXIT)
#   pg_psql SQL...      run psql against it
# COCOON_PG_TEMPLATE=DIR (ctest sets it in the build tree) keeps one initdb'd cluster to copy.
# Exits 77 (skipped) with a message when PostgreSQL's binaries are absent or we are not root.
# The postmaster is our own child, not pg_ctl's daemon, so kill -9 and wait reap it at once.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg__skip() {
	echo "SKIP: $*" >&2
	exit 77
}

pg__require() {
	[ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] ||
		pg__skip "PostgreSQL 15 is not installed at $PG_BIN (Debian: apt-get install postgresql)"
	[ "$(id -u)" -eq 0 ] || pg__skip "starting PostgreSQL as the 'postgres' user needs root (setpriv)"
	id postgres >/dev/null 2>&1 || pg__skip "no 'postgres' system user (Debian's postgresql package makes it)"
	command -v setpriv >/dev/null || pg__skip "setpriv (util-linux) is missing"
}

pg__as() {
	setpriv --reuid=postgres --regid=postgres --init-groups "$@"
}

# A port nobody listens on: only the socket's file name depends on it, so a collision just retries.
pg__port() {
	echo $((20000 + (RANDOM * 7 + $$) % 30000))
}

pg__launch() {
	# setpriv itself (not a function around it) so that $! is the postmaster.
	setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" -c listen_addresses='' \
		-c max_connections=100 -c recovery_init_sync_method=syncfs >>"$PG_DIR/log" 2>&1 &
	PG_PID=$!
	for _ in $(seq 1 100); do
		if [ -S "$PG_DIR/.s.PGSQL.$PG_PORT" ] &&
			"$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres 2>/dev/null; then
			return 0
		fi
		kill -0 "$PG_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "pg.sh: PostgreSQL did not start; its log:" >&2
	tail -n 20 "$PG_DIR/log" >&2
	return 1
}

# initdb into $1/data (as postgres). Trust auth is safe: the only way in is a socket in a 0700 directory.
pg__initdb() {
	pg__as "$PG_BIN/initdb" -D "$1/data" -U postgres -A trust --no-sync -E UTF8 >"$1/log" 2>&1 || {
		echo "pg.sh: initdb failed:" >&2
		cat "$1/log" >&2
		return 1
	}
}

# With COCOON_PG_TEMPLATE (a path in the build tree), initdb runs once per build and each test
# copies the fresh cluster: a copy takes a tenth of an initdb.
pg__cluster() {
	local tmpl=${COCOON_PG_TEMPLATE:-} t
	if [ -z "$tmpl" ] || ! command -v flock >/dev/null; then
		pg__initdb "$PG_DIR"
		return
	fi
	(
		flock 9
		if [ ! -f "$tmpl/data/PG_VERSION" ]; then
			t=$(mktemp -d /tmp/cocoon-pg-template.XXXXXX)
			chown postgres: "$t"
			pg__initdb "$t" || exit 1
			rm -rf "$tmpl" "$tmpl.new"
			mkdir -p "$tmpl.new"
			cp -a "$t/data" "$tmpl.new/data" && mv "$tmpl.new" "$tmpl"
			rm -rf "$t"
		fi
	) 9>"$tmpl.lock" || return 1
	cp -a "$tmpl/data" "$PG_DIR/data"
}

pg_start() {
	pg__require
	PG_DIR=$(mktemp -d /tmp/cocoon-pg.XXXXXX)
	chown postgres: "$PG_DIR"
	chmod 0700 "$PG_DIR"
	pg__cluster || return 1
	: >>"$PG_DIR/log"
	PG_PORT=$(pg__port)
	pg__launch || return 1
	PG_URL="postgresql:///postgres?host=$PG_DIR&port=$PG_PORT&user=postgres"
	export PG_DIR PG_PORT PG_PID PG_URL
}

pg_kill() {
	[ -n "${PG_PID:-}" ] || return 0
	local kids
	kids=$(pgrep -P "$PG_PID" 2>/dev/null || true)
	kill -9 "$PG_PID" $kids 2>/dev/null || true
	wait "$PG_PID" 2>/dev/null || true
	# Backends are the postmaster's children, not ours: wait until they are gone too.
	for pid in $kids; do
		while pg__alive "$pid"; do sleep 0.02; done
	done
	PG_PID=
}

# Alive and not a zombie waiting for init to reap it.
pg__alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pg_restart() {
	pg_kill
	pg__launch
}

pg_stop() {
	if [ -n "${PG_PID:-}" ]; then
		# Immediate shutdown: the postmaster takes its backends down, then exits.
		kill -QUIT "$PG_PID" 2>/dev/null || true
		wait "$PG_PID" 2>/dev/null || true
		PG_PID=
	fi
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] && rm -rf "$PG_DIR"
	PG_DIR=
}

pg_psql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}
