#!/usr/bin/env bash
# The collateral client against a PCS stand-in (tests/cli/pcs_standin.py):
# a local HTTPS server with a CA made here, serving the real Intel PCS
# responses of vectors/pcs with their real issuer-chain headers, plus
# injected failures. Checks that the real responses verify inside their
# validity, that 429 (Retry-After) and 503 are retried and counted
# server-side, that the rest is rejected with the right reason, the cache
# directory, and `cocoon verify --fetch-collateral` end to end.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:?}}
py=/usr/bin/python3
if [ ! -f "$vectors/pcs/sample_tcbInfo_response" ] || [ ! -f "$vectors/tdx/collateral.json" ]; then
  echo "SKIP: PCS vectors not found at $vectors/pcs (set COCOON_VECTORS)"
  exit 77
fi
command -v openssl >/dev/null && command -v jq >/dev/null && [ -x $py ] || { echo "SKIP: needs openssl, jq, $py"; exit 77; }
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# A test CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
  -days 2 -subj /CN=cocoon-test-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/srv.key" -out "$tmp/srv.csr" \
  -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext" -out "$tmp/srv.pem" 2>/dev/null
$py "$(dirname "$0")/pcs_standin.py" "$vectors" "$tmp/srv.pem" "$tmp/srv.key" "$tmp/port" 2>"$tmp/server.log" &
server=$!
for _ in $(seq 50); do [ -f "$tmp/port" ] && break; sleep 0.1; done
[ -f "$tmp/port" ] || { echo "FAIL: the stand-in did not start"; cat "$tmp/server.log"; exit 1; }
base="https://127.0.0.1:$(cat "$tmp/port")"
at=2023-07-01T01:00:00Z
count() { curl -s --cacert "$tmp/ca.pem" "$base/_count" | jq -r --arg k "$1" '.[$k] // 0'; }

# fetch SCENARIO CODE JQ-FILTER STDERR-REGEX [ARGS...]
fetch() {
  local scen=$1 code=$2 filter=$3 re=$4; shift 4
  local out rc
  out=$("$bin" collateral fetch --fmspc 50806f000000 --tee tdx --url "$base/$scen" --ca-file "$tmp/ca.pem" \
        --backoff-ms 50 --at "$at" "$@" 2>"$tmp/err"); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$scen: exit $rc (want $code)"; cat "$tmp/err"; echo "$out"; return; fi
  if [ -n "$filter" ] && ! echo "$out" | jq -e "$filter" >/dev/null; then bad "$scen: jq '$filter': $out"; return; fi
  if [ -n "$re" ] && ! grep -Eq "$re" "$tmp/err"; then bad "$scen: stderr lacks /$re/:"; cat "$tmp/err"; return; fi
  ok
}

# The real responses, fetched and verified at a time inside their validity, then cached.
fetch ok 0 '.verdict=="accept"' '' --cache-dir "$tmp/cache"
[ "$(count ok/tdx/certification/v4/tcb)" = 1 ] && ok || bad "ok: expected one tcb request"
"$bin" collateral show --cache-dir "$tmp/cache" > "$tmp/show" &&
  jq -e 'length==1 and .[0].key=="dcap-tdx-50806f000000-standard" and .[0].expires=="2023-07-08T07:24:59Z" and .[0].fresh==false' "$tmp/show" >/dev/null \
  && ok || { bad "show"; cat "$tmp/show"; }
# The cached file is the vectors' JSON layout and verifies like the fetched one.
jq .data "$tmp/cache/dcap-tdx-50806f000000-standard.json" > "$tmp/cached.json"
"$bin" collateral import --cache-dir "$tmp/cache2" "$tmp/cached.json" | jq -e '.[0].key=="dcap-tdx-50806f000000-standard"' >/dev/null \
  && ok || bad "import"
# The 2026 v5 TCB info comes with the 2023 chain and root CRL: at 2026 that CRL has expired, and it says so.
out=$("$bin" collateral fetch --fmspc 90c06f000000 --tee tdx --url "$base/ok" --ca-file "$tmp/ca.pem" --at 2026-02-10T00:00:00Z 2>/dev/null)
echo "$out" | jq -e '.verdict=="reject" and .failed_check=="root_ca_crl" and (.reason|test("CRL has expired"))' >/dev/null && ok || bad "v5 at 2026: $out"

# Retried: 429 with Retry-After (one retry), 503 twice (two retries).
t0=$(date +%s%N)
fetch r429 0 '.verdict=="accept"' ''
# Retry-After: 1 wins over the 50 ms backoff: a lower bound, which a slow machine cannot break.
[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 1000 ] && ok || bad "r429: Retry-After was not honoured"
[ "$(count r429/tdx/certification/v4/tcb)" = 2 ] && ok || bad "r429: want 2 tcb requests, got $(count r429/tdx/certification/v4/tcb)"
fetch r503 0 '.verdict=="accept"' ''
[ "$(count r503/tdx/certification/v4/tcb)" = 3 ] && ok || bad "r503: want 3 tcb requests"
[ "$(count r503/sgx/certification/v4/rootcacrl)" = 3 ] && ok || bad "r503: want 3 root CRL requests"
# Always 503: bounded attempts, then an error that names the URL and the status.
fetch a503 4 '' "GET https://127\.0\.0\.1:[0-9]+/a503/tdx/certification/v4/tcb\?fmspc=50806f000000&update=standard: HTTP status 503 after 3 attempts" --attempts 3
[ "$(count a503/tdx/certification/v4/tcb)" = 3 ] && ok || bad "a503: want 3 requests"
# Not retried: 400 and 404.
fetch r400 4 '' "HTTP status 400" --attempts 5
[ "$(count r400/tdx/certification/v4/tcb)" = 1 ] && ok || bad "r400: want 1 request"
out=$("$bin" collateral fetch --fmspc 00906ed50000 --tee tdx --url "$base/ok" --ca-file "$tmp/ca.pem" 2>&1); rc=$?
[ $rc = 4 ] && grep -q "fmspc=00906ed50000.*HTTP status 404" <<<"$out" && ok || bad "404: $rc $out"

# Rejected with the right reason.
fetch trunc 4 '' "tcb|JSON|signature"
fetch badchain 1 '.verdict=="reject" and (.failed_check=="tcb_info_signature" or .failed_check=="tcb_info_chain")' ''
fetch ok 1 '.verdict=="reject" and (.failed_check|test("validity|crl"))' '' --at 2023-08-01T00:00:00Z
fetch slow 4 '' "[Tt]imeout|timed out" --timeout-ms 500 --attempts 1
# TLS: a server the CA file does not vouch for is refused, not retried.
out=$("$bin" collateral fetch --fmspc 50806f000000 --tee tdx --url "$base/tls" 2>&1); rc=$?
[ $rc = 4 ] && [ "$(count tls/tdx/certification/v4/tcb)" = 0 ] && ok || bad "untrusted TLS: $rc $out"

# cocoon verify: no network without the flag; with it, the quote's collateral comes from the service.
quote=$vectors/tdx/quote.bin
"$bin" verify --json --evidence "$quote" --at 1752919234 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "no collateral" "$tmp/err" && [ "$(count qvl/tdx/certification/v4/tcb)" = 0 ] && ok || bad "verify without --fetch-collateral: $rc"
out=$("$bin" verify --json --evidence "$quote" --at 1752919234 --fetch-collateral="$base/qvl" --ca-file "$tmp/ca.pem" \
      --cache-dir "$tmp/vcache" 2>"$tmp/err"); rc=$?
[ $rc = 0 ] && echo "$out" | jq -e '.verdict=="accept" and .claims.platform.fmspc=="b0c06f000000"' >/dev/null \
  && ok || { bad "verify --fetch-collateral: $rc $out"; cat "$tmp/err"; }
[ "$(count qvl/tdx/certification/v4/tcb)" = 1 ] && [ -f "$tmp/vcache/dcap-tdx-b0c06f000000-standard.json" ] && ok || bad "verify cache"

# SEV-SNP: the VCEK for the report's CHIP_ID and REPORTED_TCB from the KDS stand-in.
snp=$vectors/snp/report.bin
if [ -f "$snp" ]; then
  out=$("$bin" verify --json --evidence "$snp" --allow-debug --fetch-collateral="$base/kds" --ca-file "$tmp/ca.pem" 2>"$tmp/err"); rc=$?
  [ $rc = 0 ] && echo "$out" | jq -e '.verdict=="accept" and .claims.signer=="vcek"' >/dev/null \
    && [ "$(curl -s --cacert "$tmp/ca.pem" "$base/_count" | jq '[to_entries[] | select(.key|startswith("kds/vcek/v1/Milan/")) | .value] | add')" = 1 ] \
    && ok || { bad "verify SNP --fetch-collateral: $rc $out"; cat "$tmp/err"; }
fi

echo "collateral_fetch: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
