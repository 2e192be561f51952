#!/usr/bin/env bash
# cocoon's small HTTP client (src/lib/kbs/http.c) against a local Python
# server (tests/run/kbs_http.py), driven through `cocoon kbs`: chunked
# replies, the reply size limit, truncation, timeouts, TLS with a test CA,
# an IP that the certificate does not name, plain http only to loopback,
# and the failure categories (exit codes) of the guest client.
set -uo pipefail
bin=${COCOON_BIN:?}
src=${COCOON_SOURCE_DIR:?}
py=/usr/bin/python3
[ -x $py ] || { echo "SKIP: $py is missing"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl CLI missing"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
start() { # PORTVAR [CERT KEY]
  $py "$src/tests/run/kbs_http.py" "${@:2}" > "$tmp/port.$1" 2>>"$tmp/server.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$tmp/port.$1" ] && break; sleep 0.05; done
  printf -v "$1" '%s' "$(head -1 "$tmp/port.$1")"
}
check() { # DESCRIPTION WANT-EXIT PATTERN CMD...
  local d=$1 want=$2 pat=$3; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  local msg=""
  [ $rc -eq "$want" ] || msg="exit $rc, want $want"
  [ -z "$pat" ] || grep -q -- "$pat" "$tmp/out" "$tmp/err" || msg="$msg; output lacks '$pat'"
  if [ -z "$msg" ]; then ok; else bad "$d: $msg"; head -c 600 "$tmp/err"; fi
}

openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
# A test CA and a server certificate for DNS:localhost only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
  -subj /CN=test-ca -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/srv.key" -out "$tmp/srv.csr" \
  -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext" -out "$tmp/srv.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/other.key" \
  -out "$tmp/other.pem" -subj /CN=other -days 2 2>/dev/null

start P
start S "$tmp/srv.pem" "$tmp/srv.key"
k=(--admin-key "$tmp/admin.pem")
g() { "$bin/cocoon" kbs get-policy "${k[@]}" --timeout 2 --url "$@"; }

check "chunked reply" 0 "chunked policy text, several chunks long" g "http://127.0.0.1:$P/chunked"
check "bearer admin token sent" 0 "bearer ok" g "http://127.0.0.1:$P/auth"
check "over the size limit (Content-Length)" 2 "exceeds the limit" g "http://127.0.0.1:$P/big"
check "over the size limit (chunked)" 2 "limit of 4194304" g "http://127.0.0.1:$P/bigchunk"
check "truncated body" 2 "closed after 5 of 100" g "http://127.0.0.1:$P/truncated"
check "timeout" 2 "timed out" g "http://127.0.0.1:$P/slow"
check "404 reported" 1 "HTTP 404" g "http://127.0.0.1:$P/nothing"
check "https with the test CA" 0 "chunked policy text" g "https://localhost:$S/chunked" --ca "$tmp/ca.pem"
check "https, IP not in the certificate" 2 "not trusted" g "https://127.0.0.1:$S/chunked" --ca "$tmp/ca.pem"
check "https, another CA" 2 "not trusted" g "https://localhost:$S/chunked" --ca "$tmp/other.pem"
check "plain http to a non-loopback host" 2 "only to a loopback" g "http://192.0.2.1:$P/chunked"
check "user@ in the URL" 2 "user@" g "http://u@127.0.0.1:$P/chunked"
check "admin put-resource" 0 "" "$bin/cocoon" kbs put-resource "${k[@]}" --url "http://127.0.0.1:$P" \
  --path a/b/c --file "$tmp/ext"
check "admin bad path" 2 "" "$bin/cocoon" kbs delete-resource "${k[@]}" --url "http://127.0.0.1:$P" --path a/../c

"$bin/cocoon" sim init "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: cocoon sim init"; exit 1; }
gr() { "$bin/cocoon" kbs get-resource --tee sim --sim-dir "$tmp/sim" --path a/b/c --timeout 2 --url "$@"; }
check "guest: broker down (connect refused) is 82" 82 "broker unreachable" gr "http://127.0.0.1:1"
check "guest: 503 is 82" 82 "HTTP 503" gr "http://127.0.0.1:$P/down"
check "guest: 401 at auth is 83" 83 "attestation refused" gr "http://127.0.0.1:$P/deny"
check "guest: no sim dir for sim" 80 "sim-dir" "$bin/cocoon" kbs get-resource --tee sim --path a/b/c \
  --url "http://127.0.0.1:$P"
check "guest: plain http to a remote broker without sim" 80 "loopback" "$bin/cocoon" kbs get-resource --tee snp \
  --path a/b/c --url "http://192.0.2.1:8080"

echo "kbs_client: $pass passed, $fail failed"
[ $fail -eq 0 ]
