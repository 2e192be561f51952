#!/usr/bin/env bash
# Format detection through the real binary: malformed evidence is rejected by
# the parser of the format it most looks like, naming the cause (an SNP report
# that is truncated, of version 1 or with an unknown signature algorithm), and
# never answered with "no collateral"; --format names the format explicitly.
# Uses the simulated TEE, so it needs no vectors.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect CODE JQ -- ARGS: cocoon verify --json ARGS exits CODE and its output satisfies JQ.
expect() {
  local code=$1 filter=$2; shift 3
  local out rc
  out=$("$bin" verify --json "$@" 2>"$tmp/err"); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code) for: $*"; cat "$tmp/err"; echo "$out"; return; fi
  if grep -qi "no collateral" "$tmp/err"; then bad "'no collateral' for: $*"; return; fi
  if [ -n "$filter" ] && ! echo "$out" | jq -e "$filter" >/dev/null; then bad "jq '$filter' failed for: $*"; echo "$out"; return; fi
  ok
}
patch() { # patch FILE OFFSET BYTE-ESCAPE
  printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

"$bin" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
"$bin" sim snp-report --report-data 00 -o "$tmp/snp.bin" "$tmp/sim" || { echo "sim snp-report failed"; exit 1; }
"$bin" sim quote --tee sgx --report-data 00 -o "$tmp/sgx.bin" "$tmp/sim" || { echo "sim quote failed"; exit 1; }
vcek=(--vcek "$tmp/sim/amd/vcek.pem" --trust-sim "$tmp/sim")
expect 0 '.verdict=="accept" and .format=="snp"' -- --evidence "$tmp/snp.bin" "${vcek[@]}"

# Truncated: the length and the expected length.
head -c 1000 "$tmp/snp.bin" > "$tmp/short.bin"
expect 1 '.failed_check=="snp_report_format" and (.reason|test("1000 bytes, want 1184"))' -- --evidence "$tmp/short.bin" "${vcek[@]}"
# Without any endorsement flag too: the parse error comes first, not a missing VCEK or collateral.
expect 1 '.failed_check=="snp_report_format" and (.reason|test("1000 bytes, want 1184"))' -- --evidence "$tmp/short.bin" --format snp --vcek "$tmp/sim/amd/vcek.pem"
# Unsupported version 1.
cp "$tmp/snp.bin" "$tmp/v1.bin"; patch "$tmp/v1.bin" 0 '\x01'
expect 1 '.failed_check=="snp_report_format" and (.reason|test("VERSION \\(offset 0x000\\) is 1"))' -- --evidence "$tmp/v1.bin" "${vcek[@]}"
# Unknown signature algorithm.
cp "$tmp/snp.bin" "$tmp/alg.bin"; patch "$tmp/alg.bin" $((0x34)) '\x02'
expect 1 '.failed_check=="snp_report_format" and (.reason|test("SIGNATURE_ALGO \\(offset 0x034\\) is 2"))' -- --evidence "$tmp/alg.bin" "${vcek[@]}"

# Bytes that are nothing known, and an empty file.
head -c 100 /dev/zero | tr '\0' '\377' > "$tmp/junk.bin"
expect 1 '.failed_check=="evidence_format" and (.reason|test("100 bytes that are no known format"))' -- --evidence "$tmp/junk.bin"
: > "$tmp/empty.bin"
expect 1 '.failed_check=="evidence_format" and (.reason|test("empty"))' -- --evidence "$tmp/empty.bin"
# A truncated quote without collateral: the quote's own parse error.
head -c 300 "$tmp/sgx.bin" > "$tmp/q.bin"
expect 1 '.failed_check=="quote_format"' -- --evidence "$tmp/q.bin"

# --format: an SGX quote named as TDX is refused naming both; an OE envelope is unwrapped.
expect 0 '.verdict=="accept" and .format=="sgx"' -- --evidence "$tmp/sgx.bin" --trust-sim "$tmp/sim" --format sgx
expect 1 '.failed_check=="evidence_format" and (.reason|test("sgx quote, not a tdx one"))' -- --evidence "$tmp/sgx.bin" --trust-sim "$tmp/sim" --format tdx
size=$(stat -c %s "$tmp/sgx.bin")
{ printf '\x01\x00\x00\x00\x02\x00\x00\x00'; printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((size & 255)) $((size >> 8 & 255)) $((size >> 16 & 255)) $((size >> 24)))"; printf '\x00\x00\x00\x00'; cat "$tmp/sgx.bin"; } > "$tmp/oe.bin"
expect 0 '.verdict=="accept" and .format=="oe"' -- --evidence "$tmp/oe.bin" --trust-sim "$tmp/sim"
head -c 40 "$tmp/oe.bin" > "$tmp/oe-short.bin"
expect 1 '.failed_check=="evidence_format" and (.reason|test("offset 8"))' -- --evidence "$tmp/oe-short.bin" --format oe
"$bin" verify --evidence "$tmp/sgx.bin" --format quote 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "auto, sgx, tdx, snp, oe" "$tmp/err" && ok || bad "--format quote must be a usage error naming the formats"

# Runtime data binding: the report data holds SHA-256 of these bytes, or not.
printf 'hello' > "$tmp/rt.bin"
"$bin" sim quote --tee sgx --report-data "$(sha256sum "$tmp/rt.bin" | cut -c1-64)" -o "$tmp/bound.bin" "$tmp/sim"
expect 0 '.verdict=="accept"' -- --evidence "$tmp/bound.bin" --trust-sim "$tmp/sim" --runtime-data "$tmp/rt.bin"
expect 0 '.verdict=="accept"' -- --evidence "$tmp/bound.bin" --trust-sim "$tmp/sim" --runtime-data "$tmp/rt.bin" --runtime-data-hash maa
expect 1 '.failed_check=="report_data_binding" and (.reason|test("SHA-384"))' -- --evidence "$tmp/bound.bin" --trust-sim "$tmp/sim" --runtime-data "$tmp/rt.bin" --runtime-data-hash sha384
expect 1 '.failed_check=="report_data_binding"' -- --evidence "$tmp/sgx.bin" --trust-sim "$tmp/sim" --runtime-data "$tmp/rt.bin"

# Init data binding: HOST_DATA holds SHA-256 of these bytes, or not.
printf 'init' > "$tmp/init.bin"
"$bin" sim snp-report --report-data 00 --host-data "$(sha256sum "$tmp/init.bin" | cut -c1-64)" -o "$tmp/hd.bin" "$tmp/sim"
expect 0 '.verdict=="accept"' -- --evidence "$tmp/hd.bin" "${vcek[@]}" --init-data "$tmp/init.bin"
expect 1 '.failed_check=="init_data_binding" and (.reason|test("HOST_DATA"))' -- --evidence "$tmp/snp.bin" "${vcek[@]}" --init-data "$tmp/init.bin"
expect 1 '.failed_check=="init_data_binding" and (.reason|test("holds only 32"))' -- --evidence "$tmp/hd.bin" "${vcek[@]}" --init-data "$tmp/init.bin" --init-data-hash sha512

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
