#!/usr/bin/env bash
# Azure vTPM evidence through the real binary: every SNP layout accepted at a
# pinned time, TDX rejected for its unverified TCB status (and saying so),
# tampered layers rejected by their own check, and input errors.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:?}}
V=$vectors/azure-vtpm
if [ ! -f "$V/snp/evidence-v2.json" ]; then
  echo "SKIP: Azure vTPM vectors not found at $V (set COCOON_VECTORS)"
  exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # expect CODE JQ -- ARGS
  local code=$1 filter=$2; shift 3
  local out rc
  out=$("$bin" verify --json "$@" 2>"$tmp/err"); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code) for: $*"; cat "$tmp/err"; echo "$out"; return; fi
  if [ -n "$filter" ] && ! echo "$out" | jq -e "$filter" >/dev/null; then bad "jq '$filter' failed for: $*"; echo "$out"; return; fi
  ok
}
at=2025-06-15T00:00:00Z
challenge=6368616c6c656e6765
v2nonce=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
genoa=0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f
snp=(--format az-snp-vtpm --at "$at")
expect 0 '.verdict=="accept" and .format=="az-snp-vtpm" and .tcb_status_verified and .claims.vtpm.evidence_version==0 and .claims.vtpm.tpm.pcr00=="e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced" and .claims.vtpm.report_data=="'$challenge'"' -- "${snp[@]}" --evidence "$V/snp/evidence-v0.json" --nonce $challenge
expect 0 '.verdict=="accept" and .claims.vtpm.evidence_version==1 and .claims.product=="Milan"' -- "${snp[@]}" --evidence "$V/snp/evidence-v1.json" --nonce $challenge
expect 0 '.verdict=="accept" and .claims.vtpm.user_data_checked and .claims.vtpm.vm_configuration.secure_boot==true and (.claims.vtpm.vm_unique_id|length)>0' -- "${snp[@]}" --evidence "$V/snp/evidence-v2.json" --nonce $v2nonce
expect 0 '.verdict=="accept" and .claims.product=="Genoa" and .claims.vtpm.tpm.pcr00=="afd689d0bb1c5f36f023fbaf574135f555a28a10c1f6b938d2a25e70c7783338"' -- "${snp[@]}" --evidence "$V/snp/evidence-genoa.json" --nonce $genoa
expect 0 '.verdict=="accept"' -- "${snp[@]}" --evidence "$V/snp/evidence-genoa.json" --nonce $genoa --chain "$vectors/roots/amd-ask_ark_genoa.pem"
# Another nonce (a replay), forced user-data on v1, the wrong roots, a time before the VCEK.
expect 1 '.failed_check=="vtpm_nonce" and .claims==null and (.tcb_status_verified|not)' -- "${snp[@]}" --evidence "$V/snp/evidence-v2.json" --nonce $challenge
expect 1 '.failed_check=="vtpm_user_data"' -- "${snp[@]}" --evidence "$V/snp/evidence-v1.json" --nonce $challenge --check-user-data
expect 1 '.failed_check=="snp_vcek_chain"' -- "${snp[@]}" --evidence "$V/snp/evidence-v1.json" --nonce $challenge --chain "$vectors/roots/amd-ask_ark_genoa.pem"
expect 1 '.failed_check=="snp_vcek_chain"' -- --format az-snp-vtpm --at 2025-01-01T00:00:00Z --evidence "$V/snp/evidence-v1.json" --nonce $challenge
# Tampering, on a v0 copy (byte arrays are easy to edit with jq).
tamper() { jq -c "$1" "$V/snp/evidence-v0.json" > "$tmp/t.json"; }
tamper '.report[1760] = ((.report[1760] + 1) % 256)'
expect 1 '.failed_check=="hcl_report_data"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.report[0] = 0'
expect 1 '.failed_check=="hcl_report_format"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.report[1224] = 4'
expect 1 '.failed_check=="hcl_report_type"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.report[1228] = 9'
expect 1 '.failed_check=="hcl_hash_type"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.quote.signature[0] = ((.quote.signature[0] + 1) % 256)'
expect 1 '.failed_check=="vtpm_quote_signature"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.quote.message[44] = 0'
expect 1 '.failed_check=="vtpm_quote_signature"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.quote.message[0] = 0'
expect 1 '.failed_check=="vtpm_quote_format"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.quote.message[84] = 9'   # pcrSelect.sizeofSelect: libtss2-mu refuses it (and must not log)
expect 1 '.failed_check=="vtpm_quote_format"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
grep -q "ERROR:marshal" "$tmp/err" && bad "libtss2-mu logging must be silenced" || ok
tamper '.quote.pcrs[0][0] = ((.quote.pcrs[0][0] + 1) % 256)'
expect 1 '.failed_check=="vtpm_pcr_digest"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
tamper '.report[422] = 0'
expect 1 '.failed_check=="snp_signature"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
echo '{"quote": 1}' > "$tmp/t.json"
expect 1 '.failed_check=="vtpm_evidence_format" and .format=="az-snp-vtpm"' -- "${snp[@]}" --evidence "$tmp/t.json" --nonce $challenge
# TDX: every offline layer passes; the TCB status is unverified and the verdict says so.
for f in evidence-v0.json evidence-v1.json; do
  expect 1 '.verdict=="reject" and .tee=="tdx" and .format=="az-tdx-vtpm" and .failed_check=="collateral" and (.reason|test("TCB status unverified")) and (.tcb_status_verified|not)' -- --format az-tdx-vtpm --at "$at" --evidence "$V/tdx/$f" --nonce $challenge
done
jq -c '.td_quote[48+136] = ((.td_quote[48+136] + 1) % 256)' "$V/tdx/evidence-v0.json" > "$tmp/t.json"
expect 1 '.failed_check=="td_report_mismatch" and (.reason|test("MRTD"))' -- --format az-tdx-vtpm --at "$at" --evidence "$tmp/t.json" --nonce $challenge
expect 1 '.failed_check=="fmspc"' -- --format az-tdx-vtpm --at 1752919234 --evidence "$V/tdx/evidence-v1.json" --nonce $challenge --collateral "$vectors/tdx/collateral.json"
# Input errors.
expect 2 '' -- --format az-snp-vtpm --evidence "$V/snp/evidence-v2.json"
grep -q -- "--nonce" "$tmp/err" && ok || bad "a missing nonce must say what to pass"
expect 2 '' -- --format az-sev-vtpm --evidence "$V/snp/evidence-v2.json" --nonce 00
expect 2 '' -- --format az-snp-vtpm --evidence "$V/snp/evidence-v2.json" --nonce xyz
expect 2 '' -- --format az-snp-vtpm --evidence "$tmp/missing.json" --nonce 00
"$bin" verify --format az-snp-vtpm --help | grep -q -- "--nonce" && ok || bad "--help lists --nonce"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
