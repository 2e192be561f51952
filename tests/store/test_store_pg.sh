#!/usr/bin/env bash
# The store against a real PostgreSQL 15 started here (tests/support/pg.sh): the shared backend
# test body, two processes sharing the database, a nonce raced by concurrent consumers, a dump
# that reveals no secret, a newer schema refused, and the postmaster killed and restarted under a
# connection that stays open.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${COCOON_TESTS_BIN:?set COCOON_TESTS_BIN to the build tests directory}
source "$here/../support/pg.sh"
work=$(mktemp -d)
cleanup() { [ -n "${probe_pid:-}" ] && kill "$probe_pid" 2>/dev/null; pg_stop; rm -rf "$work"; }
trap cleanup EXIT
pg_start
fail() { echo "FAIL: $*" >&2; exit 1; }

key=$work/kek
head -c 32 /dev/urandom >"$key"
chmod 600 "$key"
tool() { "$bin/store_tool" "$PG_URL" "$key" "$@"; }

echo "--- the backend test body (tests/unit/test_store.c) against PostgreSQL"
COCOON_TEST_PG_URL=$PG_URL "$bin/test_store"
# The body ran in a database of its own: drop what it made so the next steps start clean.
pg_psql -c "DROP TABLE IF EXISTS meta, signing_keys, policies, collateral, resources, sessions, used_nonces, schema_migrations"

echo "--- two processes share the database"
tool put shared cfg a "written-by-process-A"
[ "$(tool get shared cfg a)" = written-by-process-A ] || fail "process B does not see A's write"
tool put shared cfg a "rewritten-by-B"
[ "$(tool get shared cfg a)" = rewritten-by-B ] || fail "the overwrite is not visible"
[ "$(tool version)" = 2 ] || fail "schema version"

echo "--- a nonce is consumed once under concurrent consumers"
for i in $(seq 1 10); do
	tool session "s$i" "nonce-$i"
done
racers=()
for i in $(seq 1 10); do
	for c in 1 2 3; do
		tool attest "s$i" "nonce-$i" >"$work/race.$i.$c" 2>/dev/null &
		racers+=($!)
	done
done
for p in "${racers[@]}"; do wait "$p" || true; done
for i in $(seq 1 10); do
	won=$(cat "$work"/race."$i".* | grep -c '^won$' || true)
	[ "$won" = 1 ] || fail "session s$i: $won consumers won the nonce (expected exactly 1)"
done
[ "$(pg_psql -tA -c "SELECT count(*) FROM used_nonces")" = 10 ] || fail "used_nonces rows"

echo "--- a dump of the database reveals no secret"
secret="plaintext-secret-$RANDOM-$RANDOM"
tool put dump key x "$secret"
"$PG_BIN/pg_dump" -h "$PG_DIR" -p "$PG_PORT" -U postgres postgres >"$work/dump.sql"
grep -c 'resources' "$work/dump.sql" >/dev/null || fail "the dump has no resources table"
if grep -a -q "$secret" "$work/dump.sql"; then fail "the secret is in the dump"; fi
[ "$(tool get dump key x)" = "$secret" ] || fail "the secret does not read back"
# Rows cannot be swapped: another row's sealed value under this row's name is refused.
pg_psql -c "UPDATE resources SET value = (SELECT value FROM resources WHERE repo = 'shared') WHERE repo = 'dump'"
if tool get dump key x 2>"$work/swap.err"; then fail "a swapped row opened"; fi
grep -q "does not authenticate" "$work/swap.err" || fail "swap: $(cat "$work/swap.err")"

echo "--- the postmaster is killed and restarted under an open connection"
mkfifo "$work/probe.in" "$work/probe.out"
"$bin/store_tool" "$PG_URL" "$key" probe <"$work/probe.in" >"$work/probe.out" &
probe_pid=$!
exec 3>"$work/probe.in" 4<"$work/probe.out"
ask() { echo go >&3; read -r -t 30 answer <&4 || answer="no answer"; echo "$answer"; }
[ "$(ask | cut -d' ' -f1)" = OK ] || fail "probe before the outage"
pg_kill
for i in 1 2; do
	a=$(ask)
	[ "${a%% *}" = EUNAVAILABLE ] || fail "while PostgreSQL is down, call $i answered: $a"
done
echo "while down: $a"
pg__launch
a=$(ask)
[ "${a%% *}" = OK ] || fail "after the restart, the same connection answered: $a"
# The restarted postmaster inherited fd 3, so end the probe rather than wait for its EOF.
exec 3>&- 4<&-
kill "$probe_pid"
wait "$probe_pid" 2>/dev/null || true
probe_pid=

echo "--- a schema newer than this build is refused"
pg_psql -c "INSERT INTO schema_migrations VALUES (99, 0)"
if tool version 2>"$work/newer.err"; then fail "a newer schema was accepted"; fi
grep -q "schema version 99, newer than this build" "$work/newer.err" || fail "newer: $(cat "$work/newer.err")"
echo "PASS"
