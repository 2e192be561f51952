#!/usr/bin/env bash
# Instructions per verification for each bench_verify tier, counted by callgrind,
# next to one OpenSSL P-256 (P-384 for SNP) verify counted the same way. Unlike
# wall time, these counts do not move when other processes load the machine.
#
# usage: bench/verify/instructions.sh [BIN_DIR]   (default build/bin; N=100 per tier)
# Each tier runs N and 2N verifications; the difference divided by N cancels the
# start-up cost (verifier creation, vector loading, the first warming verification).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build/bin}" && pwd)
n=${N:-100}
export COCOON_VECTORS=${COCOON_VECTORS:-$here/../../../shared/vectors}
[ -f "$COCOON_VECTORS/sgx/quote.bin" ] || { echo "instructions: no vectors in $COCOON_VECTORS (set COCOON_VECTORS)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # CASE TIER ITERATIONS -> instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin/bench_verify" --profile "$1" "$2" \
    --iterations "$3" 2>&1 >/dev/null | awk '/Collected/ {print $4} /rejected|skipped/ {print "instructions: " $0 > "/dev/stderr"}'
}
per() { # CASE TIER -> instructions per verification
  local a b
  a=$(count "$1" "$2" "$n")
  b=$(count "$1" "$2" $((2 * n)))
  echo $(((b - a) / n))
}
p256=$(per p256 seen)
p384=$(per p384 seen)
printf '%-22s %12s  %s\n' "tier" "instr/verify" "worth"
printf '%-22s %12d  %s\n' "openssl P-256 verify" "$p256" "1 P-256"
for c in sgx tdx; do
  for t in cold warm seen; do
    i=$(per "$c" "$t")
    printf '%-22s %12d  %.2f P-256\n' "$c $t" "$i" "$(echo "$i / $p256" | bc -l)"
  done
done
printf '%-22s %12d  %s\n' "openssl P-384 verify" "$p384" "1 P-384"
for t in cold seen; do
  i=$(per snp "$t")
  printf '%-22s %12d  %.2f P-384\n' "snp $t" "$i" "$(echo "$i / $p384" | bc -l)"
done
