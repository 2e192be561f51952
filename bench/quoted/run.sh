#!/usr/bin/env bash
# Benchmarks cocoon-quoted with the sim backend: quotes/s and latency at 1 and
# 16 concurrent clients (bench_quoted: GetQuoteEx, one connection per quote),
# and the daemon's resident memory idle and after the load.
# Usage: bench/quoted/run.sh [BUILD_DIR] [SECONDS]   (default: build, 3)
set -euo pipefail
build=${1:-build}
secs=${2:-3}
bin=$build/bin
for f in cocoon cocoon-quoted bench_quoted; do
  [ -x "$bin/$f" ] || { echo "run.sh: $bin/$f is missing; build it first" >&2; exit 2; }
done
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

"$bin/cocoon" sim init "$tmp/sim" 2>/dev/null
"$bin/cocoon" sim report --report-data "$(printf 'bench' | xxd -p)" -o "$tmp/report.bin" "$tmp/sim"
"$bin/cocoon-quoted" --backend sim --sim "$tmp/sim" --socket "$tmp/aesm.socket" --log-level warn 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do
  "$bin/cocoon" quote --target-info --socket "$tmp/aesm.socket" -o "$tmp/ti.bin" 2>/dev/null && break
  sleep 0.05
done
sleep 1
idle=$(rss_kb "$pid")
echo "{\"cpus\":$(nproc),\"idle_rss_kb\":$idle}"
"$bin/bench_quoted" --socket "$tmp/aesm.socket" --report "$tmp/report.bin" --clients 1 --seconds "$secs"
"$bin/bench_quoted" --socket "$tmp/aesm.socket" --report "$tmp/report.bin" --clients 16 --seconds "$secs"
echo "{\"rss_after_load_kb\":$(rss_kb "$pid")}"
kill -TERM "$pid"
wait "$pid"
pid=
