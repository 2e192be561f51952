#!/usr/bin/env bash
# The simulated TEE end to end through the real binary: sim init -> evidence ->
# verify --trust-sim accepts with the expected claims and says "simulated";
# the same evidence without --trust-sim is rejected, naming the simulation root.
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
[ "$(stat -c %a "$tmp/sim/intel/root-key.pem")" = 600 ] && ok || bad "private keys must be mode 0600"
"$bin" sim init "$tmp/sim" 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "not empty" "$tmp/err" && ok || bad "sim init must refuse a non-empty directory"

rd=$(printf 'cocoon-e2e-nonce' | xxd -p)
mre=$(printf '%064x' 0xabcdef)
"$bin" sim quote --tee sgx --report-data "$rd" --mrenclave "$mre" --isv-prod-id 7 --isv-svn 3 -o "$tmp/sgx.bin" "$tmp/sim" && ok || bad "sim quote sgx"
"$bin" sim quote --tee tdx --report-data "$rd" --mrtd "$(printf '%096x' 0x1234)" --rtmr0 aa -o "$tmp/tdx.bin" "$tmp/sim" && ok || bad "sim quote tdx"
"$bin" sim quote --tee tdx --quote-version 5 --report-data "$rd" -o "$tmp/tdx5.bin" "$tmp/sim" && ok || bad "sim quote tdx v5"

"$bin" verify --json --evidence "$tmp/sgx.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && ok || bad "sgx verify --trust-sim exit $rc"
grep -q "WARNING: trusting the simulation root" "$tmp/err" && ok || bad "--trust-sim must warn loudly"
check "sgx claims" "$tmp/v.json" ".verdict==\"accept\" and .simulated==true and .claims.simulated==true and .status==\"UpToDate\" and .claims.mrenclave==\"$mre\" and .claims.isv_prod_id==7 and .claims.isv_svn==3 and (.claims.report_data|startswith(\"$rd\"))"
"$bin" verify --json --evidence "$tmp/tdx.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "tdx verify --trust-sim"
check "tdx claims" "$tmp/v.json" '.verdict=="accept" and .tee=="tdx" and .simulated==true and (.claims.mrtd|endswith("1234")) and (.claims.rtmr0|startswith("aa"))'
"$bin" verify --json --evidence "$tmp/tdx5.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null && ok || bad "tdx v5 verify --trust-sim"
check "tdx v5" "$tmp/v.json" '.verdict=="accept" and .quote_version==5 and (.claims.mr_service_td|test("^0+$"))'

# Without --trust-sim: rejected, and the reason names the simulation root.
for q in sgx tdx; do
  "$bin" verify --json --evidence "$tmp/$q.bin" --collateral "$tmp/sim/intel/collateral-$q.json" > "$tmp/v.json" 2>/dev/null
  [ $? -eq 1 ] && ok || bad "$q without --trust-sim must exit 1"
  check "$q untrusted sim" "$tmp/v.json" '.verdict=="reject" and .failed_check=="simulation_root" and (.reason|test("simulation root")) and .simulated==false'
done
# A debug simulated enclave is rejected by the default appraisal.
"$bin" sim quote --tee sgx --report-data 00 --debug -o "$tmp/dbg.bin" "$tmp/sim"
"$bin" verify --json --evidence "$tmp/dbg.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "debug sim enclave" "$tmp/v.json" '.verdict=="reject" and .failed_check=="appraisal_sgx_debug"'
# A simulated platform whose TCB level is revoked.
"$bin" sim init --status Revoked "$tmp/rev" 2>/dev/null
"$bin" sim quote --tee sgx --report-data 00 -o "$tmp/rev.bin" "$tmp/rev"
"$bin" verify --json --evidence "$tmp/rev.bin" --trust-sim "$tmp/rev" > "$tmp/v.json" 2>/dev/null
check "revoked sim" "$tmp/v.json" '.verdict=="reject" and .status=="Revoked" and .failed_check=="tcb_revoked"'
# Evidence from one simulation directory does not verify under another's root.
"$bin" verify --json --evidence "$tmp/sgx.bin" --trust-sim "$tmp/rev" > "$tmp/v.json" 2>/dev/null
check "foreign sim root" "$tmp/v.json" '.verdict=="reject"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
