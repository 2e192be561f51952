#!/usr/bin/env bash
# Simulated Azure CVM evidence end to end through the real binary: sim init ->
# sim az-snp-vtpm -> verify --format az-snp-vtpm --trust-sim accepts with the
# vTPM claims; without --trust-sim, or with another nonce, it is rejected.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION JSON-FILE JQ-FILTER
  if jq -e "$3" "$2" >/dev/null; then ok; else bad "$1"; cat "$2"; fi
}
"$bin" sim init "$tmp/sim" 2>/dev/null && ok || bad "sim init"
nonce=$(printf 'kbs-runtime-data-hash-0123456789abcdef0123456789' | xxd -p -c 256)
m=$(printf '%096x' 0xc0c0)
for h in sha256 sha384 sha512; do
  "$bin" sim az-snp-vtpm --nonce "$nonce" --measurement "$m" --hash $h --vm-id vm-$h -o "$tmp/$h.json" "$tmp/sim" && ok || bad "sim az-snp-vtpm --hash $h"
  "$bin" verify --json --format az-snp-vtpm --evidence "$tmp/$h.json" --nonce "$nonce" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "$h verify --trust-sim"
  check "$h claims" "$tmp/v.json" ".verdict==\"accept\" and .simulated==true and .claims.measurement==\"$m\" and .claims.vtpm.hcl.hash_type==\"$h\" and .claims.vtpm.vm_unique_id==\"vm-$h\" and .claims.vtpm.report_data==\"$nonce\" and .claims.vtpm.user_data_checked and (.claims.vtpm.tpm|length)==24 and .claims.vmpl==0"
done
# The HCL report fits a 2048-byte swtpm NV index.
n=$(jq -r .hcl_report "$tmp/sha256.json" | tr '_-' '/+' | base64 -d | wc -c)
[ "$n" -le 2048 ] && ok || bad "HCL report is $n bytes, over 2048"
[ "$(stat -c %a "$tmp/sim/azure/ak-key.pem")" = 600 ] && ok || bad "the simulated AK must be mode 0600"
# Untrusted simulation, and a replayed quote.
"$bin" verify --json --format az-snp-vtpm --evidence "$tmp/sha256.json" --nonce "$nonce" > "$tmp/v.json" 2>/dev/null
[ $? -eq 1 ] && ok || bad "without --trust-sim must exit 1"
check "untrusted" "$tmp/v.json" '.verdict=="reject" and .simulated==false and (.failed_check|startswith("snp_") or .=="simulation_root")'
"$bin" verify --json --format az-snp-vtpm --evidence "$tmp/sha256.json" --nonce 00 --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "replay" "$tmp/v.json" '.verdict=="reject" and .failed_check=="vtpm_nonce"'
# TDX: the TD quote by the sim QE verifies fully with the sim collateral, so the TCB status is decided.
"$bin" sim az-tdx-vtpm --nonce "$nonce" --measurement "$m" -o "$tmp/tdx.json" "$tmp/sim" && ok || bad "sim az-tdx-vtpm"
"$bin" verify --json --format az-tdx-vtpm --evidence "$tmp/tdx.json" --nonce "$nonce" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "tdx verify --trust-sim"
check "tdx claims" "$tmp/v.json" ".verdict==\"accept\" and .tee==\"tdx\" and .status==\"UpToDate\" and .tcb_status_verified and .claims.mrtd==\"$m\" and .claims.vtpm.format==\"az-tdx-vtpm\" and .claims.vtpm.report_data==\"$nonce\""
"$bin" verify --json --format az-tdx-vtpm --evidence "$tmp/tdx.json" --nonce "$nonce" > "$tmp/v.json" 2>/dev/null
check "tdx untrusted" "$tmp/v.json" '.verdict=="reject" and (.failed_check=="pck_chain" or .failed_check=="simulation_root") and (.tcb_status_verified|not)'
# RTMR0 of the TD quote (body offset 328, after the 48-byte header) no longer matches the TDREPORT.
jq -c --arg q "$(jq -r .td_quote "$tmp/tdx.json" | tr '_-' '/+' | base64 -d | xxd -p -c 100000 | sed -E 's/^(.{752})(.)/\1f/' | xxd -r -p | base64 -w0 | tr '/+' '_-')" '.td_quote=$q' "$tmp/tdx.json" > "$tmp/tdx-bad.json"
"$bin" verify --json --format az-tdx-vtpm --evidence "$tmp/tdx-bad.json" --nonce "$nonce" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "tdx RTMR0 mismatch" "$tmp/v.json" '.verdict=="reject" and .failed_check=="td_report_mismatch" and (.reason|test("RTMR0"))'
"$bin" sim az-snp-vtpm --nonce "$nonce" --hash md5 -o "$tmp/x.json" "$tmp/sim" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--hash md5 is a usage error"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
