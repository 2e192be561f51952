#!/usr/bin/env bash
# The guest side against the real broker (cocoon-attestd, simulated evidence,
# --trust-sim): `cocoon kbs` admin commands store resources and policies;
# `cocoon kbs get-resource` (SGX, TDX, SNP) and cocoon-run on the host run the
# RCAR handshake, and every refusal maps to its exit code (83 attestation,
# 84 policy, 85 missing, 82 unreachable after the retry deadline). A broker
# that comes up within the deadline is waited for.
. "${COCOON_SOURCE_DIR:?}/tests/attestd/lib.sh"
shm=$(mktemp -d -p /dev/shm) || { echo "SKIP: no /dev/shm"; exit 77; }
trap 'cleanup; rm -rf "$shm"' EXIT

"$cocoon" sim init "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: cocoon sim init"; exit 1; }
"$cocoon" sim init "$tmp/othersim" >/dev/null 2>&1 || { echo "FAIL: cocoon sim init"; exit 1; }
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
start a --trust-sim "$tmp/sim" --admin-key "$tmp/admin.pub" || exit 1
A=(--url "$a_url" --admin-key "$tmp/admin.pem")

check() { # DESCRIPTION WANT-EXIT PATTERN CMD...
  local d=$1 want=$2 pat=$3; shift 3
  "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
  local msg=""
  [ $rc -eq "$want" ] || msg="exit $rc, want $want"
  [ -z "$pat" ] || grep -q -- "$pat" "$tmp/o" "$tmp/e" || msg="$msg; output lacks '$pat'"
  if [ -z "$msg" ]; then ok; else bad "$d: $msg"; head -c 800 "$tmp/e"; fi
}

printf 's3cr3t-db' > "$tmp/db"; printf 'api-key-42' > "$tmp/api"; printf 'nope' > "$tmp/nope"
check "put db" 0 "" "$cocoon" kbs put-resource "${A[@]}" --path default/db/password --file "$tmp/db"
check "put api" 0 "" "$cocoon" kbs put-resource "${A[@]}" --path default/api/key --file "$tmp/api"
check "put forbidden" 0 "" "$cocoon" kbs put-resource "${A[@]}" --path cocoon/test/forbidden --file "$tmp/nope"
get() { "$cocoon" kbs get-resource --url "$a_url" --sim-dir "$tmp/sim" --timeout 5 "$@"; }
check "no policy: denied (84)" 84 "policy denied" get --tee sgx --path default/db/password
printf '%s\n' 'version=1.0; authorizationrules { [type=="kbs-resource-path", value=="cocoon/test/forbidden"] => deny(); => permit(); };' > "$tmp/pol"
check "set-policy" 0 "" "$cocoon" kbs set-policy "${A[@]}" --kind resource --file "$tmp/pol"
check "get-policy" 0 "cocoon/test/forbidden" "$cocoon" kbs get-policy "${A[@]}"
openssl genpkey -algorithm ed25519 -out "$tmp/wrong.pem" 2>/dev/null
check "another admin key refused" 1 "HTTP 401" "$cocoon" kbs get-policy --url "$a_url" --admin-key "$tmp/wrong.pem"
for t in sgx tdx snp; do
  check "get-resource $t" 0 "^s3cr3t-db$" get --tee $t --path default/db/password
done
check "get-resource --tee sim" 0 "api-key-42" get --tee sim --path default/api/key
check "policy deny names the rule (84)" 84 "PolicyDeny" get --tee sgx --path cocoon/test/forbidden
check "missing resource (85)" 85 "resource missing" get --tee sgx --path default/db/absent
check "another sim root: attestation refused (83)" 83 "attestation refused" \
  "$cocoon" kbs get-resource --url "$a_url" --sim-dir "$tmp/othersim" --tee sgx --path default/db/password
printf 'algorithm = "sha384"\nversion = "0.1.0"\n' > "$tmp/init.toml"
check "init data bound into sim evidence" 0 "s3cr3t-db" get --tee snp --init-data "$tmp/init.toml" --path default/db/password
check "delete-resource" 0 "" "$cocoon" kbs delete-resource "${A[@]}" --path default/api/key
check "deleted is missing (85)" 85 "" get --tee sgx --path default/api/key
check "put api again" 0 "" "$cocoon" kbs put-resource "${A[@]}" --path default/api/key --file "$tmp/api"

# cocoon-run on the host: both secrets delivered, file and env, through one session.
sim='"evidence": {"provider": "sim", "sim_dir": "'$tmp/sim'", "tee": "snp"}'
res='"resources": [{"path": "default/db/password", "file": {"name": "db-password", "mode": "0400", "uid": '$(id -u)', "gid": '$(id -g)'}}, {"path": "default/api/key", "env": "API_KEY"}]'
mk() { # NAME URL DEADLINE [extra resources json]
  printf '%s\n' '{"version": 1, "broker": {"url": "'$2'"}, '"$sim"', '"${4:-$res}"', "secrets_dir": "'$shm'", "retry": {"deadline_seconds": '$3'}, "command": ["/bin/sh", "-c", "touch '$tmp'/ran; cat '$shm'/db-password; echo \" $API_KEY\""]}' > "$tmp/$1.json"
}
mk ok "$a_url" 5
rm -f "$tmp/ran"
check "cocoon-run: file + env secrets" 0 "^s3cr3t-db api-key-42$" "$bin/cocoon-run" --config "$tmp/ok.json"
mk deny "$a_url" 5 '"resources": [{"path": "cocoon/test/forbidden", "env": "X"}]'
rm -f "$tmp/ran"
check "cocoon-run: policy denies (84)" 84 "policy denied (exit 84)" "$bin/cocoon-run" --config "$tmp/deny.json"
[ ! -e "$tmp/ran" ] && ok || bad "the app ran although the policy denied"
mk missing "$a_url" 5 '"resources": [{"path": "default/none/here", "env": "X"}]'
check "cocoon-run: missing (85)" 85 "resource missing (exit 85)" "$bin/cocoon-run" --config "$tmp/missing.json"

# A broker that is down, then comes up on the same port within the deadline.
port=${a_url##*:}
kill "$a_pid"; wait "$a_pid" 2>/dev/null
mk late "http://127.0.0.1:$port" 15
rm -f "$tmp/ran"
"$bin/cocoon-run" --config "$tmp/late.json" >"$tmp/late.out" 2>"$tmp/late.err" & run_pid=$!
sleep 1.5
"$attestd" --listen "127.0.0.1:$port" --data-dir "$tmp/a-data" --workers 2 --trust-sim "$tmp/sim" \
  --admin-key "$tmp/admin.pub" 2>"$tmp/b.log" & pids+=($!)
wait $run_pid; rc=$?
if [ $rc -eq 0 ] && grep -q "s3cr3t-db api-key-42" "$tmp/late.out" && grep -q "broker unreachable (attempt 1" "$tmp/late.err"; then ok
else bad "broker up within the deadline: exit $rc"; cat "$tmp/late.err"; fi
mk never "http://127.0.0.1:1" 1
rm -f "$tmp/ran"
check "cocoon-run: stays down (82 after the deadline)" 82 "broker unreachable (exit 82)" "$bin/cocoon-run" --config "$tmp/never.json"
[ ! -e "$tmp/ran" ] && ok || bad "the app ran although the broker was down"
finish
