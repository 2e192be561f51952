#!/usr/bin/env bash
# Load test of cocoon-webhook on loopback with wrk over HTTPS: the AdmissionReview of an
# opted-in pod (tests/webhook/pods/wrapped.json, mutated each time) and of a plain pod
# (untouched): requests/s, p50/p99 latency, and the policy's own time per review from
# /metrics (cocoon_webhook_review_seconds). Traffic goes to 127.0.0.1 only.
# usage: bench/webhook/run.sh [BIN_DIR]   (default build/bin; SECONDS_PER_RUN=10, CONNECTIONS=4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build/bin}" && pwd)
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-4}
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/k.pem" -out "$tmp/c.pem" 2>/dev/null
"$bin/cocoon-webhook" --listen 127.0.0.1:0 --tls-cert "$tmp/c.pem" --tls-key "$tmp/k.pem" \
  --image registry.example.com/cocoon:bench 2>"$tmp/log" &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(grep -o '"port":[0-9]*' "$tmp/log" 2>/dev/null | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "bench: cocoon-webhook did not start: $(cat "$tmp/log")" >&2; exit 1; }
for pod in wrapped plain; do
  jq -c '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {uid: "bench",
    kind: {group: "", version: "v1", kind: "Pod"}, operation: "CREATE", object: .}}' \
    "$here/../../tests/webhook/pods/$pod.json" > "$tmp/$pod.json"
  before=$(curl -sk "https://127.0.0.1:$port/metrics" | awk '/^cocoon_webhook_review_seconds_(sum|count)/ {printf "%s ", $2}')
  BODY="$tmp/$pod.json" RESULT="$tmp/$pod.result" wrk -t1 -c"$conns" -d"${secs}s" \
    -s "$here/../attestd/attest.lua" "https://127.0.0.1:$port/mutate" >/dev/null
  after=$(curl -sk "https://127.0.0.1:$port/metrics" | awk '/^cocoon_webhook_review_seconds_(sum|count)/ {printf "%s ", $2}')
  policy_us=$(echo "$before $after" | awk '{ if ($4 > $2) printf "%.1f", ($3 - $1) / ($4 - $2) * 1e6; else print "0" }')
  echo "{\"pod\":\"$pod\",\"connections\":$conns,\"policy_us_per_review\":$policy_us,\"wrk\":$(cat "$tmp/$pod.result")}"
done
