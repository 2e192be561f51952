#!/usr/bin/env bash
# The simulated TEE end to end through the real binary: sim init -> evidence ->
# verify --trust-sim accepts with the expected claims and says "simulated";
# the same evidence without --trust-sim is rejected, naming the simulation root.
# Evidence comes from `cocoon sim quote|snp-report` and from `cocoon evidence
# --provider sim`, for SGX, TDX and SNP.
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
# The simulation root passed as an ordinary --root is refused: trusting it takes --trust-sim.
"$bin" verify --json --evidence "$tmp/sgx.bin" --root "$tmp/sim/intel/root.pem" \
  --collateral "$tmp/sim/intel/collateral-sgx.json" > "$tmp/v.json" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "simulation root" "$tmp/err" && ok || bad "--root with a simulation root must be refused (exit 2)"

# ---- SEV-SNP: the AMD-shaped half of the simulation directory ----
[ "$(stat -c %a "$tmp/sim/amd/vcek-key.pem")" = 600 ] && [ "$(stat -c %a "$tmp/sim/amd/ark-key.pem")" = 600 ] && ok || bad "AMD keys must be mode 0600"
[ "$(grep -c 'BEGIN CERTIFICATE' "$tmp/sim/amd/chain.pem")" = 2 ] && [ -s "$tmp/sim/amd/crl.der" ] && ok || bad "amd/chain.pem (ASK+ARK) and amd/crl.der"
meas=$(printf '%096x' 0xfeed)
"$bin" sim snp-report --report-data "$rd" --measurement "$meas" --host-data 0102 --vmpl 1 --guest-svn 4 -o "$tmp/snp.bin" --certs "$tmp/snp.certs" "$tmp/sim" && ok || bad "sim snp-report"
"$bin" verify --json --evidence "$tmp/snp.bin" --trust-sim "$tmp/sim" --measurement "$meas" --vmpl 1 > "$tmp/v.json" 2>"$tmp/err" && ok || bad "snp verify --trust-sim (DIR's VCEK)"
grep -q "WARNING: trusting the simulation root" "$tmp/err" && ok || bad "--trust-sim must warn for SNP too"
check "snp-report claims" "$tmp/v.json" ".verdict==\"accept\" and .tee==\"snp\" and .simulated==true and .claims.simulated==true and .claims.measurement==\"$meas\" and (.claims.host_data|startswith(\"0102\")) and .claims.vmpl==1 and .claims.guest_svn==4 and .claims.product==\"Milan\" and (.claims.report_data|startswith(\"$rd\"))"
"$bin" sim snp-report --report-data "$rd" --version 5 --debug -o "$tmp/snpdbg.bin" "$tmp/sim" && ok || bad "sim snp-report --version 5 --debug"
"$bin" verify --json --evidence "$tmp/snpdbg.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "debug sim SNP guest" "$tmp/v.json" '.verdict=="reject" and .failed_check=="snp_policy_debug" and .quote_version==5'
"$bin" sim snp-report --report-data "$rd" --policy 0x10000 -o "$tmp/x.bin" "$tmp/sim" 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "bit 17 is reserved" "$tmp/err" && ok || bad "snp-report must refuse a policy without bit 17"
"$bin" sim snp-report --report-data "$rd" --version 4 -o "$tmp/x.bin" "$tmp/sim" 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "versions 2, 3 and 5" "$tmp/err" && ok || bad "snp-report --version 4"
# The simulation's chain passed as trusted roots without --trust-sim is still refused.
"$bin" verify --json --evidence "$tmp/snp.bin" --certs "$tmp/snp.certs" --chain "$tmp/sim/amd/chain.pem" > "$tmp/v.json" 2>/dev/null
check "sim chain without --trust-sim" "$tmp/v.json" '.verdict=="reject" and .failed_check=="simulation_root" and (.reason|test("simulation root"))'
# Another directory's simulation root does not vouch for this one's evidence.
"$bin" verify --json --evidence "$tmp/snp.bin" --certs "$tmp/snp.certs" --trust-sim "$tmp/rev" > "$tmp/v.json" 2>/dev/null
check "foreign sim AMD root" "$tmp/v.json" '.verdict=="reject" and .failed_check=="snp_vcek_chain"'

# ---- cocoon evidence --provider sim -> verify, for every TEE ----
nohw=(--configfs-root "$tmp/none" --sev-guest "$tmp/none/sev-guest" --tdx-guest "$tmp/none/tdx_guest" --attestation-root "$tmp/none/attestation")
erd=$(printf 'cocoon-evidence-e2e' | xxd -p)
wl256=$(printf 'cocoon simulated workload' | sha256sum | cut -d' ' -f1)
wl384=$(printf 'cocoon simulated workload' | sha384sum | cut -d' ' -f1)
for tee in sgx tdx snp; do
  "$bin" evidence --provider sim --tee "$tee" --sim "$tmp/sim" --report-data "$erd" -o "$tmp/ev-$tee.bin" --certs "$tmp/ev-$tee.certs" --json > "$tmp/e.json" 2>"$tmp/err"
  [ $? -eq 0 ] && ok || { bad "evidence --provider sim --tee $tee"; cat "$tmp/err"; }
  check "$tee evidence summary" "$tmp/e.json" ".provider==\"sim\" and .tee==\"$tee\" and .format==(if \"$tee\"==\"snp\" then \"snp_report\" else \"dcap_quote\" end) and ((.certs_len>0)==(\"$tee\"==\"snp\"))"
  certs=(); [ "$tee" = snp ] && certs=(--certs "$tmp/ev-$tee.certs")
  "$bin" verify --json --evidence "$tmp/ev-$tee.bin" --trust-sim "$tmp/sim" "${certs[@]}" > "$tmp/v.json" 2>/dev/null
  [ $? -eq 0 ] && ok || bad "$tee evidence: verify --trust-sim must accept"
  case $tee in
    sgx) claim=".claims.mrenclave==\"$wl256\" and .claims.isv_prod_id==1" ;;
    tdx) claim=".claims.mrtd==\"$wl384\"" ;;
    snp) claim=".claims.measurement==\"$wl384\" and .claims.vmpl==0 and .claims.signer==\"vcek\"" ;;
  esac
  check "$tee evidence claims" "$tmp/v.json" ".verdict==\"accept\" and .tee==\"$tee\" and .simulated==true and .claims.report_data==(\"$erd\" + (\"0\" * (128 - (\"$erd\"|length)))) and $claim"
  # The same evidence without --trust-sim: rejected, naming the untrusted simulation root.
  if [ "$tee" = snp ]; then
    "$bin" verify --json --evidence "$tmp/ev-$tee.bin" "${certs[@]}" > "$tmp/v.json" 2>/dev/null
  else
    "$bin" verify --json --evidence "$tmp/ev-$tee.bin" --collateral "$tmp/sim/intel/collateral-$tee.json" > "$tmp/v.json" 2>/dev/null
  fi
  [ $? -eq 1 ] && ok || bad "$tee evidence without --trust-sim must exit 1"
  check "$tee evidence untrusted" "$tmp/v.json" '.verdict=="reject" and .failed_check=="simulation_root" and (.reason|test("simulation root")) and (.reason|test("not trusted")) and .simulated==false and .claims==null'
done
# SNP without the certificate table: --trust-sim falls back to DIR's VCEK.
"$bin" evidence --provider sim --tee snp --sim "$tmp/sim" --report-data "$erd" --no-certs -o "$tmp/ev-nc.bin" --certs "$tmp/ev-nc.certs" 2>/dev/null && [ ! -s "$tmp/ev-nc.certs" ] && ok || bad "evidence --no-certs writes an empty certificate file"
"$bin" verify --json --evidence "$tmp/ev-nc.bin" --trust-sim "$tmp/sim" > "$tmp/v.json" 2>/dev/null
check "snp evidence with DIR's VCEK" "$tmp/v.json" '.verdict=="accept" and .simulated==true'
# Errors and exit codes: 2 for usage, 3 when no evidence can be had.
"$bin" evidence --provider sim --tee snp --report-data "$erd" -o "$tmp/x.bin" 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "no simulation directory" "$tmp/err" && ok || bad "sim without --sim must exit 2"
"$bin" evidence --report-data "$erd" -o "$tmp/x.bin" "${nohw[@]}" 2>"$tmp/err"; [ $? -eq 3 ] && grep -q "never uses the simulator" "$tmp/err" && ok || bad "auto-detection without hardware must exit 3 and never use sim"
"$bin" evidence --report-data "$(printf '%0130d' 0)" -o "$tmp/x.bin" 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "more than 128 hex" "$tmp/err" && ok || bad "oversized --report-data must exit 2"
"$bin" evidence --probe --json --sim "$tmp/sim" --tee snp "${nohw[@]}" > "$tmp/p.json" 2>/dev/null; [ $? -eq 3 ] && ok || bad "--probe without hardware must exit 3"
check "probe" "$tmp/p.json" '.selected==null and ([.providers[]|select(.name=="sim")][0]|.state=="available" and .auto_detect==false and .tee=="snp") and ([.providers[]|.name]==["configfs-tsm","sev-guest","gramine","tdx-guest","sim"])'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
