#!/usr/bin/env bash
# cocoon-attestd with an explicit --database sqlite:PATH and --secret-key: the file is made mode
# 0600, the generated signing key is sealed (no PEM in the file), a restart signs with the same
# key, and a database from a newer build is refused with exit code 3 and the reason.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../attestd/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 CLI is not installed"; exit 77; }

head -c 32 /dev/urandom >"$tmp/kek"
chmod 600 "$tmp/kek"
db=$tmp/state.db
start a --database "sqlite:$db" --secret-key "$tmp/kek" || exit 1
kid=$(curl -s "$a_url/certs" | jq -r '.keys[0].kid')
[ -n "$kid" ] && [ "$kid" != null ] && ok || bad "no JWKS"
[ "$(stat -c %a "$db")" = 600 ] && ok || bad "the database is mode $(stat -c %a "$db"), not 0600"
[ "$(sqlite3 "$db" "SELECT min(key_pem = '' AND length(key_sealed) > 0) FROM signing_keys")" = 1 ] && ok \
  || bad "every signing key (tokens, key broker) must be sealed"
! grep -a -q "PRIVATE KEY" "$db"* && ok || bad "a private key is readable in the database file"
kill "$a_pid"; wait "$a_pid" 2>/dev/null
start b --database "sqlite:$db" --secret-key "$tmp/kek" || exit 1
[ "$(curl -s "$b_url/certs" | jq -r '.keys[0].kid')" = "$kid" ] && ok || bad "the restarted service must keep its key"
kill "$b_pid"; wait "$b_pid" 2>/dev/null

# Without the key, the sealed signing key cannot be used: a clear refusal, exit code 3.
"$attestd" --listen 127.0.0.1:0 --database "sqlite:$db" 2>"$tmp/nokey.log"
rc=$?
[ "$rc" = 3 ] && grep -q -- "--secret-key" "$tmp/nokey.log" && ok || bad "no --secret-key: exit $rc $(cat "$tmp/nokey.log")"

sqlite3 "$db" "INSERT INTO schema_migrations VALUES (99, 0)"
"$attestd" --listen 127.0.0.1:0 --database "sqlite:$db" --secret-key "$tmp/kek" 2>"$tmp/newer.log"
rc=$?
[ "$rc" = 3 ] && grep -q "schema version 99, newer than this build" "$tmp/newer.log" && ok \
  || bad "a newer schema: exit $rc $(cat "$tmp/newer.log")"
"$attestd" --listen 127.0.0.1:0 --database "mysql://x" 2>"$tmp/scheme.log"
rc=$?
[ "$rc" = 2 ] && grep -q "sqlite:PATH, postgresql://" "$tmp/scheme.log" && ok || bad "a bad scheme: exit $rc"
finish
