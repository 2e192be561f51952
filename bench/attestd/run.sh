#!/usr/bin/env bash
# Load test of cocoon-attestd on loopback with wrk: SGX quote attestation with ES256 and
# RS256 tokens, peak requests/s, p50/p99 latency at the peak and at half of it, and RSS
# (idle and under load). Compares with bench_verify's in-process "seen platform" rate.
#
# usage: bench/attestd/run.sh [BIN_DIR]   (default build/bin; SECONDS_PER_RUN=10, CONNECTIONS=8)
# Uses the real SGX vector at its pinned time when the vectors exist (as bench_verify
# does), otherwise a simulated quote. Traffic goes to 127.0.0.1 only and stops by itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build/bin}" && pwd)
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-8}
vectors=${COCOON_VECTORS:-$here/../../../shared/vectors}
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

b64url() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

extra=()
if [ -f "$vectors/sgx/quote.bin" ]; then
  quote="$vectors/sgx/quote.bin"
  extra=(--collateral "$vectors/sgx/collateral.json" --test-only-verification-time 2025-07-19T10:00:34Z)
  export COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1
  evidence="real SGX vector (pinned time)"
else
  "$bin/cocoon" sim init "$tmp/sim" 2>/dev/null
  "$bin/cocoon" sim quote --tee sgx --report-data 00 -o "$tmp/q.bin" "$tmp/sim"
  quote="$tmp/q.bin"
  extra=(--trust-sim "$tmp/sim")
  evidence="simulated SGX quote"
fi
printf '{"quote":"%s"}' "$(b64url "$quote")" > "$tmp/body.json"

start() { # start ALG
  rm -rf "$tmp/data"
  "$bin/cocoon-attestd" --listen 127.0.0.1:0 --data-dir "$tmp/data" --signing-alg "$1" "${extra[@]}" 2>"$tmp/log" &
  pid=$!
  for _ in $(seq 100); do grep -q '"port"' "$tmp/log" 2>/dev/null && break; sleep 0.05; done
  port=$(grep -o '"port":[0-9]*' "$tmp/log" | cut -d: -f2)
  url="http://127.0.0.1:$port/attest/SgxEnclave?api-version=2022-08-01"
  code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@$tmp/body.json" "$url")
  [ "$code" = 200 ] || { echo "bench: warm-up request failed: HTTP $code $(head -c 300 "$tmp/out")" >&2; exit 1; }
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }
load() { # load DELAY_MS -> prints the JSON result line
  BODY="$tmp/body.json" DELAY_MS=$1 RESULT="$tmp/r.json" wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s \
    -s "$here/attest.lua" "$url" >/dev/null
  cat "$tmp/r.json"
}

seen=""
if [ -x "$bin/bench_verify" ] && [ -f "$vectors/sgx/quote.bin" ]; then
  seen=$("$bin/bench_verify" --seconds 2 --vectors "$vectors" | awk '/^sgx seen platform/ {print $4}')
fi

echo "cocoon-attestd load test: $evidence, $conns connections, ${secs}s per run, $(nproc) cores"
start ES256
sleep 0.5
idle=$(rss_kib "$pid")
peak=$(load 0)
loaded_rss=$(rss_kib "$pid")
prps=$(echo "$peak" | jq -r .rps)
# Half the peak rate: each connection pauses so that conns connections together send rps/2.
half_delay=$(awk -v c="$conns" -v r="$prps" 'BEGIN { d = c * 1000 / (r / 2); printf "%d", d < 1 ? 1 : d }')
half=$(load "$half_delay")
stop
start RS256
rs=$(load 0)
stop

printf '%-28s %s\n' "ES256 peak" "$peak" "ES256 at half peak" "$half" "RS256 peak" "$rs"
echo "idle RSS: ${idle} KiB; RSS after the peak run: ${loaded_rss} KiB"
if [ -n "$seen" ]; then
  awk -v p="$prps" -v s="$seen" 'BEGIN { printf "in-process seen-platform rate (bench_verify, 1 core): %s/s; attestd ES256 peak = %.2f x that (target >= 0.7)\n", s, p / s }'
fi
echo "$half" | jq -r '"p99 at half peak: \(.p99_ms) ms (target <= 5 ms); achieved \(.rps) req/s"'
awk -v r="$idle" 'BEGIN { printf "idle RSS %.1f MiB (target <= 10 MiB)\n", r / 1024 }'
