#!/usr/bin/env bash
# cocoon-attestd on PostgreSQL (a throwaway server from tests/support/pg.sh): it starts with
# --database and --secret-key, keeps its policies and signing key there (the key sealed: a
# dump shows no private key), a second instance on the same database signs with the same key,
# and while PostgreSQL is down the admin API answers 503 and recovers once it is back.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../attestd/lib.sh"
source "$here/../support/pg.sh"
trap 'cleanup; pg_stop' EXIT
pg_start || exit 1

head -c 32 /dev/urandom >"$tmp/kek"
chmod 600 "$tmp/kek"
admin=$(openssl rand -hex 24); echo "$admin" >"$tmp/admin"
auth=(-H "Authorization: Bearer $admin")
unsigned_jws() { printf '%s.%s.' "$(printf '{"alg":"none"}' | b64url)" \
  "$(jq -cn --arg p "$(printf '%s' "$1" | b64url)" '{AttestationPolicy:$p}' | b64url)"; }
put() { curl -s -o "$tmp/out" -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' --data-binary "$2" "${auth[@]}" \
  "$1/policies/SgxEnclave?api-version=2022-08-01"; }
get() { curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$1/policies/SgxEnclave?api-version=2022-08-01"; }

# The KEK file's rules are the daemon's too: a world-readable key is refused at start.
chmod 644 "$tmp/kek"
"$attestd" --listen 127.0.0.1:0 --database "$PG_URL" --secret-key "$tmp/kek" 2>"$tmp/bad.log"
rc=$?
[ "$rc" = 3 ] && grep -q "mode 0644: it must be 0600" "$tmp/bad.log" && ok || bad "a 0644 --secret-key: exit $rc $(cat "$tmp/bad.log")"
chmod 600 "$tmp/kek"

start a --database "$PG_URL" --secret-key "$tmp/kek" --admin-token-file "$tmp/admin" || exit 1
pol='version=1.1; authorizationrules { => permit(); };'
expect "PUT a policy into PostgreSQL" 200 "$(put "$a_url" "$(unsigned_jws "$pol")")"
[ "$(pg_psql -tA -c "SELECT count(*) FROM policies WHERE type = 'SgxEnclave'")" = 1 ] && ok || bad "the policy row"
start b --database "$PG_URL" --secret-key "$tmp/kek" --admin-token-file "$tmp/admin" || exit 1
expect "the second instance reads the first one's policy" 200 "$(get "$b_url")"
[ "$(curl -s "$a_url/certs" | jq -r '.keys[0].kid')" = "$(curl -s "$b_url/certs" | jq -r '.keys[0].kid')" ] && ok \
  || bad "both instances must sign with the one key kept in the database"
"$PG_BIN/pg_dump" -h "$PG_DIR" -p "$PG_PORT" -U postgres postgres >"$tmp/dump.sql"
grep -q "signing_keys" "$tmp/dump.sql" && ! grep -q "PRIVATE KEY" "$tmp/dump.sql" && ok \
  || bad "the signing key must be sealed in the database"

pg_kill
code=$(get "$a_url")
expect "PostgreSQL down: 503 with the reason" 503 "$code" '.error.message|test("unavailable")'
pg__launch
ok_after=0
for _ in 1 2 3; do [ "$(get "$a_url")" = 200 ] && { ok_after=1; break; }; done
[ "$ok_after" = 1 ] && ok || bad "attestd did not recover after PostgreSQL came back: $(cat "$tmp/out")"
finish
