#!/usr/bin/env bash
# SEV-SNP through the real binary: the real Milan vector under the default
# policy and --allow-debug, the JSON contract, tampering and input errors.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:?}}
if [ ! -f "$vectors/snp/report.bin" ]; then
  echo "SKIP: real vectors not found at $vectors (set COCOON_VECTORS)"
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
r=(--evidence "$vectors/snp/report.bin" --vcek "$vectors/snp/vcek.der")
expect 1 '.verdict=="reject" and .tee=="snp" and .failed_check=="snp_policy_debug" and (.reason|test("bit 19")) and .claims==null' -- "${r[@]}"
expect 0 '.verdict=="accept" and .tee=="snp" and .claims.product=="Milan" and .claims.signer=="vcek" and .claims.debug==true and (.claims.measurement|length)==96' -- "${r[@]}" --allow-debug
# The vector's own ASK+ARK as the chain, and the same through --root.
expect 0 '.verdict=="accept"' -- "${r[@]}" --allow-debug --chain "$vectors/snp/ask-ark-milan.pem"
expect 0 '.verdict=="accept"' -- "${r[@]}" --allow-debug --root "$vectors/roots/amd-ask_ark_milan.pem"
# The wrong product's roots.
expect 1 '.failed_check=="snp_vcek_chain"' -- "${r[@]}" --allow-debug --chain "$vectors/roots/amd-ask_ark_genoa.pem"
# A policy file: expected measurement mismatch names expected and actual.
echo '{"allow_debug": true, "measurement": "'"$(printf '%096d' 0)"'"}' > "$tmp/policy.json"
expect 1 '.failed_check=="snp_measurement" and (.reason|test("expected"))' -- "${r[@]}" --policy "$tmp/policy.json"
echo '{"allow_debug": true, "no_such_key": 1}' > "$tmp/bad-policy.json"
expect 2 '' -- "${r[@]}" --policy "$tmp/bad-policy.json"
grep -q "no_such_key" "$tmp/err" && ok || bad "policy error must name the unknown key"
# Tampering: a flipped measurement byte breaks the signature.
cp "$vectors/snp/report.bin" "$tmp/r.bin"; printf '\x01' | dd of="$tmp/r.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
expect 1 '.failed_check=="snp_signature"' -- --evidence "$tmp/r.bin" --vcek "$vectors/snp/vcek.der" --allow-debug
# Expired: far in the future, the VCEK is no longer valid.
expect 1 '.verdict=="reject" and .failed_check=="snp_vcek_chain"' -- "${r[@]}" --allow-debug --at 2060-01-01T00:00:00Z
# Input errors.
expect 2 '' -- --evidence "$vectors/snp/report.bin"
grep -q -- "--vcek" "$tmp/err" && ok || bad "missing VCEK error must say what to pass"
expect 2 '' -- "${r[@]}" --collateral "$vectors/sgx/collateral.json"
"$bin" inspect --json "$vectors/snp/report.bin" > "$tmp/i.json" && jq -e '.' "$tmp/i.json" >/dev/null && ok || bad "inspect --json on an SNP report"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
