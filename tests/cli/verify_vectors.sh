#!/usr/bin/env bash
# Drives the real `cocoon` binary on the real vectors: verdicts, the JSON
# contract, exit codes 0/1/2 and error messages that name the file.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:?}}
if [ ! -f "$vectors/sgx/quote.bin" ]; then
  echo "SKIP: real vectors not found at $vectors (set COCOON_VECTORS)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE JQ-FILTER -- ARGS...: runs verify --json, checks exit code and a jq predicate.
expect() {
  local code=$1 filter=$2; shift 3
  local out rc
  out=$("$bin" verify --json "$@" 2>"$tmp/err"); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code) for: $*"; cat "$tmp/err"; echo "$out"; return; fi
  if [ -n "$filter" ] && ! echo "$out" | jq -e "$filter" >/dev/null; then bad "jq '$filter' failed for: $*"; echo "$out"; return; fi
  ok
}

sgx=(--evidence "$vectors/sgx/quote.bin" --collateral "$vectors/sgx/collateral.json")
tdx=(--evidence "$vectors/tdx/quote.bin" --collateral "$vectors/tdx/collateral.json")
out5=(--evidence "$vectors/tdx/quote-outdated.bin" --collateral "$vectors/tdx/collateral-outdated.json")

expect 0 '.verdict=="accept" and .status=="ConfigurationAndSWHardeningNeeded" and (.advisory_ids|sort)==["INTEL-SA-00289","INTEL-SA-00615"] and .tee=="sgx" and .claims.debug==false and (.claims.mrenclave|length)==64 and .simulated==false' -- "${sgx[@]}" --at 2025-07-19T10:01:17Z
expect 0 '.verdict=="accept" and .status=="UpToDate" and .tee=="tdx" and (.claims.mrtd|length)==96 and .claims.platform.fmspc=="b0c06f000000"' -- "${tdx[@]}" --at 1752919234
expect 1 '.verdict=="reject" and .failed_check=="tcb_level" and (.reason|test("TCB not supported")) and .claims==null' -- "${out5[@]}" --at 2026-03-20T10:41:14Z
# Expired today, accepted with the override and flagged.
expect 1 '.verdict=="reject" and (.reason|test("expired"))' -- "${sgx[@]}"
expect 0 '.verdict=="accept" and .collateral_expired==true' -- "${sgx[@]}" --allow-expired-collateral
# One second past the window.
expect 1 '.verdict=="reject" and (.reason|test("expired"))' -- "${sgx[@]}" --at 2025-07-19T10:01:19Z

# Tampered evidence: a flipped MRENCLAVE byte.
cp "$vectors/sgx/quote.bin" "$tmp/q.bin"; printf '\x55' | dd of="$tmp/q.bin" bs=1 seek=$((48+64)) conv=notrunc status=none
expect 1 '.failed_check=="quote_signature"' -- --evidence "$tmp/q.bin" --collateral "$vectors/sgx/collateral.json" --at 2025-07-19T10:01:17Z
# Truncated evidence.
head -c 1000 "$vectors/sgx/quote.bin" > "$tmp/t.bin"
expect 1 '.verdict=="reject" and .failed_check=="quote_format" and (.reason|test("sig_data_len"))' -- --evidence "$tmp/t.bin" --collateral "$vectors/sgx/collateral.json" --at 2025-07-19T10:01:17Z

# PCS form: the same collateral as files in a directory.
mkdir "$tmp/pcs"
jq -r '.tcb_info_issuer_chain' "$vectors/sgx/collateral.json" > "$tmp/pcs/tcb_info_issuer_chain.pem"
jq -r '.pck_crl_issuer_chain' "$vectors/sgx/collateral.json" > "$tmp/pcs/pck_crl_issuer_chain.pem"
jq -r '.root_ca_crl' "$vectors/sgx/collateral.json" | xxd -r -p > "$tmp/pcs/root_ca_crl.der"
jq -r '.pck_crl' "$vectors/sgx/collateral.json" | xxd -r -p > "$tmp/pcs/pck_crl.der"
{ printf '{"tcbInfo":'; jq -j '.tcb_info' "$vectors/sgx/collateral.json"; printf ',"signature":"%s"}' "$(jq -r .tcb_info_signature "$vectors/sgx/collateral.json")"; } > "$tmp/pcs/tcb_info.json"
{ printf '{"enclaveIdentity":'; jq -j '.qe_identity' "$vectors/sgx/collateral.json"; printf ',"signature":"%s"}' "$(jq -r .qe_identity_signature "$vectors/sgx/collateral.json")"; } > "$tmp/pcs/qe_identity.json"
expect 0 '.verdict=="accept" and .status=="ConfigurationAndSWHardeningNeeded"' -- --evidence "$vectors/sgx/quote.bin" --collateral "$tmp/pcs" --at 2025-07-19T10:01:17Z
# PEM CRLs are accepted too.
openssl crl -inform DER -in "$tmp/pcs/pck_crl.der" -out "$tmp/pcs/pck_crl.pem" && rm "$tmp/pcs/pck_crl.der"
expect 0 '.verdict=="accept"' -- --evidence "$vectors/sgx/quote.bin" --collateral "$tmp/pcs" --at 2025-07-19T10:01:17Z
# Individually named files.
expect 0 '.verdict=="accept"' -- --evidence "$vectors/sgx/quote.bin" --tcb-info "$tmp/pcs/tcb_info.json" \
  --tcb-info-issuer-chain "$tmp/pcs/tcb_info_issuer_chain.pem" --qe-identity "$tmp/pcs/qe_identity.json" \
  --pck-crl "$tmp/pcs/pck_crl.pem" --pck-crl-issuer-chain "$tmp/pcs/pck_crl_issuer_chain.pem" \
  --root-ca-crl "$tmp/pcs/root_ca_crl.der" --at 2025-07-19T10:01:17Z
# An edited TCB info body in PCS form.
sed -i 's/"tcbEvaluationDataNumber":\([0-9]\)/"tcbEvaluationDataNumber":9\1/' "$tmp/pcs/tcb_info.json"
expect 1 '.failed_check=="tcb_info_signature"' -- --evidence "$vectors/sgx/quote.bin" --collateral "$tmp/pcs" --at 2025-07-19T10:01:17Z

# Usage and input errors: exit 2 with the file named.
expect 2 '' -- --evidence "$tmp/nonexistent.bin" --collateral "$vectors/sgx/collateral.json"
grep -q "nonexistent.bin" "$tmp/err" && ok || bad "error does not name the missing file"
echo '{not json' > "$tmp/bad.json"
expect 2 '' -- --evidence "$vectors/sgx/quote.bin" --collateral "$tmp/bad.json"
grep -q "bad.json" "$tmp/err" && ok || bad "error does not name the malformed collateral file"
expect 2 '' -- --evidence "$vectors/sgx/quote.bin" --collateral "$vectors/sgx/collateral.json" --at yesterday
expect 2 '' -- --collateral "$vectors/sgx/collateral.json"
"$bin" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown command must exit 2"

# inspect decodes every field.
"$bin" inspect --json "$vectors/tdx/quote.bin" > "$tmp/i.json" && ok || bad "inspect exit"
jq -e '.' "$tmp/i.json" >/dev/null && ok || bad "inspect --json is not JSON"
"$bin" inspect "$vectors/sgx/quote.bin" > "$tmp/i.txt"; grep -q "mr_enclave: *33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb" "$tmp/i.txt" && ok || bad "inspect text lacks MRENCLAVE"
"$bin" inspect "$tmp/t.bin" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "inspect of a truncated quote must exit 2"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
