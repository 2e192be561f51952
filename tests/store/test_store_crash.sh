#!/usr/bin/env bash
# kill -9 durability: concurrent writers print each write only after its commit; the writer
# process is killed with SIGKILL mid-stream, and after a restart every write it reported is
# readable and intact. SQLite always; PostgreSQL too, where its own postmaster is also killed
# (a crash, not a clean stop) before the check. Also on SQLite: the file reveals no secret, and
# a nonce raced by several processes is consumed once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${COCOON_TESTS_BIN:?set COCOON_TESTS_BIN to the build tests directory}
work=$(mktemp -d)
have_pg=0
cleanup() { [ "$have_pg" = 1 ] && pg_stop; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

key=$work/kek
head -c 32 /dev/urandom >"$key"
chmod 600 "$key"

# Writes with THREADS writers for a moment, kills them with SIGKILL, and returns the log.
crash_writes() {
	local url=$1 log=$2 pid
	"$bin/store_tool" "$url" "$key" writers 4 crash >"$log" 2>"$log.err" &
	pid=$!
	# Until a few hundred writes are in, bounded in case the machine is slow.
	for _ in $(seq 1 200); do
		[ "$(wc -l <"$log")" -ge 300 ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log.err" >&2; fail "the writers died on their own"; }
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	echo "killed after $(grep -c '^ok ' "$log") reported commits"
}

echo "--- SQLite"
db=$work/crash.db
crash_writes "sqlite:$db" "$work/sqlite.log"
"$bin/store_tool" "sqlite:$db" "$key" check <"$work/sqlite.log" || fail "SQLite lost a committed write"
[ "$(stat -c %a "$db")" = 600 ] || fail "the database file is not mode 0600"
secret="plaintext-secret-$RANDOM-$RANDOM"
"$bin/store_tool" "sqlite:$db" "$key" put dump key x "$secret"
if cat "$db"* | grep -a -q "$secret"; then fail "the secret is readable in the SQLite files"; fi
if cat "$db"* | grep -a -q "value-of:crash"; then fail "written values are readable in the SQLite files"; fi

echo "--- SQLite: a nonce is consumed once by concurrent consumers in several processes"
for i in 1 2 3 4 5; do "$bin/store_tool" "sqlite:$db" "$key" session "s$i" "nonce-$i"; done
racers=()
for i in 1 2 3 4 5; do
	for c in 1 2 3; do
		"$bin/store_tool" "sqlite:$db" "$key" attest "s$i" "nonce-$i" >"$work/race.$i.$c" 2>/dev/null &
		racers+=($!)
	done
done
for p in "${racers[@]}"; do wait "$p" || true; done
for i in 1 2 3 4 5; do
	won=$(cat "$work"/race."$i".* | grep -c '^won$' || true)
	[ "$won" = 1 ] || fail "session s$i: $won consumers won the nonce (expected exactly 1)"
done

source "$here/../support/pg.sh"
if ! (pg__require) 2>"$work/pg.skip"; then
	echo "PostgreSQL part skipped: $(cat "$work/pg.skip")"
	echo PASS
	exit 0
fi
echo "--- PostgreSQL"
have_pg=1
pg_start
crash_writes "$PG_URL" "$work/pg.log"
# The server crashes too: only what reached its WAL before "ok" was printed may count.
pg_kill
pg__launch
"$bin/store_tool" "$PG_URL" "$key" check <"$work/pg.log" || fail "PostgreSQL lost a committed write"
echo PASS
