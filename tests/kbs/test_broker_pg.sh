#!/usr/bin/env bash
# The key broker on a real PostgreSQL 15 shared by two attestd processes: auth on one,
# attest on the other, the resource from either; the postmaster killed: 503
# StorageUnavailable with a reason; restarted: the broker recovers by itself.
# usage: test_broker_pg.sh PATH/TO/kbs_tool
. "${COCOON_SOURCE_DIR:?}/tests/attestd/lib.sh"
. "$COCOON_SOURCE_DIR/tests/support/pg.sh"
tool=${1:?usage: test_broker_pg.sh PATH/TO/kbs_tool}
trap 'cleanup; pg_stop' EXIT
pg_start || exit 1

"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
head -c 32 /dev/urandom > "$tmp/kek"; chmod 600 "$tmp/kek"
common=(--database "$PG_URL" --secret-key "$tmp/kek" --trust-sim "$tmp/sim" --admin-key "$tmp/admin.pub")
start a "${common[@]}" || exit 1
start b "${common[@]}" || exit 1
jwt=$("$tool" admin-jwt "$tmp/admin.pem")
. "$COCOON_SOURCE_DIR/tests/kbs/kbs_lib.sh"

printf 'pg secret' > "$tmp/one"
code=$(adm POST "$a_url/kbs/v0/resource/cocoon/test/one" --data-binary "@$tmp/one")
expect "resource put on a" 200 "$code"
code=$(adm POST "$b_url/kbs/v0/resource-policy" --data-binary 'version=1.0; authorizationrules { => permit(); };')
expect "policy set on b" 200 "$code"
for tee in sgx snp; do
  code=$(handshake "$a_url" $tee ec "$tee" "$b_url")
  expect "$tee: auth on a, attest on b" 200 "$code"
  for u in "$a_url" "$b_url"; do
    code=$(get "$u" "$tee" cocoon/test/one)
    [ "$code" = 200 ] && "$tool" dec-pem "$tmp/$tee.pem" "$tmp/out" | cmp -s - "$tmp/one" && ok \
      || bad "$tee resource from $u: $code $(head -c 300 "$tmp/out")"
  done
done
# The nonce is consumed in the database: replaying the attest on the other replica fails.
code=$(curl -s -b "$tmp/sgx.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/sgx.body" "$a_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "replayed attest on the other replica"

pg_kill
code=$(kbs_auth "$a_url" "$tmp/d.jar" sgx)
kerr 503 "$code" StorageUnavailable "auth while PostgreSQL is down" "unavailable"
code=$(get "$b_url" sgx cocoon/test/one)
kerr 503 "$code" StorageUnavailable "resource while PostgreSQL is down" "unavailable"
pg_restart || exit 1
ok_after=0
for i in $(seq 1 50); do
  [ "$(get "$b_url" sgx cocoon/test/one)" = 200 ] && { ok_after=1; break; }
  sleep 0.2
done
[ $ok_after = 1 ] && ok || bad "the broker must recover when PostgreSQL returns: $(cat "$tmp/out")"
code=$(handshake "$b_url" tdx rsa tdx "$a_url")
expect "a full handshake after recovery" 200 "$code"
finish
