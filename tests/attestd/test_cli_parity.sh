#!/usr/bin/env bash
# `cocoon verify` and cocoon-attestd run the same appraisal pipeline
# (cocoon_attest_appraise): for every case here, the real vectors when present
# and simulated evidence with its negatives always, both must reach the same
# verdict and failed check, and on accept attestd's token must carry exactly
# the MAA claims the CLI reports (plus the claims only the issuer sets) and the
# same verifier result in its "cocoon" claim.
. "$(dirname "$0")/lib.sh"

# cli_outcome OUT-JSON: "accept" or "reject:<check>" from cocoon verify --json.
cli_outcome() { jq -r 'if .verdict=="accept" then "accept" else "\(.verdict):\(.failed_check)" end' "$1"; }
# attestd_outcome CODE: the same from attestd's reply in $tmp/out.
attestd_outcome() {
  local code=$1 msg check
  if [ "$code" = 200 ]; then echo accept; return; fi
  msg=$(jq -r '.error.message' "$tmp/out")
  case "$(jq -r '.error.code' "$tmp/out")" in
    EvidenceRejected) check=$(printf '%s' "$msg" | sed -n "s/^evidence rejected by check '\([a-z0-9_]*\)'.*/\1/p"); echo "reject:$check" ;;
    PolicyDenied) echo "deny:policy" ;;
    InvalidParameter)
      if printf '%s' "$msg" | grep -q "^initTimeData does not match the evidence"; then echo "reject:init_data_binding"
      elif printf '%s' "$msg" | grep -q "does not match the evidence"; then echo "reject:report_data_binding"
      else echo "reject:evidence_format"; fi ;;
    *) echo "error:$(jq -r '.error.code' "$tmp/out")" ;;
  esac
}

# parity NAME URL TYPE EVIDENCE RUNTIME-FILE|- -- CLI-ARGS...: one case on both sides
# (with INIT=FILE set, FILE is sent as initTimeData instead of runtimeData).
parity() {
  local name=$1 url=$2 type=$3 ev=$4 rt=$5; shift 6
  local field=quote body code a c
  [ "$type" = SevSnpVm ] || [ "$type" = OpenEnclave ] && field=report
  if [ -n "${INIT:-}" ]; then
    printf '{"%s":"%s","initTimeData":{"data":"%s","dataType":"Binary"}}' "$field" "$(b64url_file "$ev")" \
      "$(b64url_file "$INIT")" > "$tmp/req.json"
    "$cocoon" verify --json --evidence "$ev" --init-data "$INIT" --init-data-hash maa "$@" > "$tmp/cli.json" 2>"$tmp/cli.err"
  elif [ "$rt" = - ]; then
    printf '{"%s":"%s"}' "$field" "$(b64url_file "$ev")" > "$tmp/req.json"
    "$cocoon" verify --json --evidence "$ev" "$@" > "$tmp/cli.json" 2>"$tmp/cli.err"
  else
    printf '{"%s":"%s","runtimeData":{"data":"%s","dataType":"Binary"}}' "$field" "$(b64url_file "$ev")" \
      "$(b64url_file "$rt")" > "$tmp/req.json"
    "$cocoon" verify --json --evidence "$ev" --runtime-data "$rt" --runtime-data-hash maa "$@" > "$tmp/cli.json" 2>"$tmp/cli.err"
  fi
  code=$(post "$url/attest/$type?api-version=2022-08-01" "$tmp/req.json")
  if ! jq -e . "$tmp/cli.json" >/dev/null 2>&1; then bad "$name: cocoon verify gave no JSON: $(cat "$tmp/cli.err")"; return; fi
  c=$(cli_outcome "$tmp/cli.json"); a=$(attestd_outcome "$code")
  if [ "$c" != "$a" ]; then bad "$name: cocoon verify says $c, attestd says $a ($(head -c 300 "$tmp/out"))"; return; fi
  if [ "$c" != accept ]; then ok; return; fi
  claims "$tmp/out" > "$tmp/tok.json"
  if jq -e -n --slurpfile cli "$tmp/cli.json" --slurpfile tok "$tmp/tok.json" '
      ($cli[0].maa_claims) as $m | ($tok[0]) as $t |
      ($m | length) > 5 and
      ($t | with_entries(select(.key as $k | $m | has($k)))) == $m and
      (["iss","iat","nbf","exp","jti","x-ms-policy-hash","cocoon"] | all(. as $k | $t | has($k))) and
      ($t.cocoon | {verdict, tee, status, simulated, advisory_ids, claims}) ==
      ($cli[0] | {verdict, tee, status, simulated, advisory_ids, claims})' >/dev/null; then
    ok
  else
    bad "$name: claims differ"; jq -S .maa_claims "$tmp/cli.json" > "$tmp/a"; jq -S . "$tmp/tok.json" > "$tmp/b"; diff "$tmp/a" "$tmp/b" | head -20
  fi
}

# ---- simulated evidence (always) ----
"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
start s --trust-sim "$tmp/sim" || exit 1
printf 'parity-runtime' > "$tmp/rt.bin"
rd=$(sha256sum "$tmp/rt.bin" | cut -c1-64)
"$cocoon" sim quote --tee sgx --report-data "$rd" --isv-prod-id 5 -o "$tmp/sgx.bin" "$tmp/sim"
"$cocoon" sim quote --tee tdx --report-data "$rd" -o "$tmp/tdx.bin" "$tmp/sim"
"$cocoon" sim quote --tee sgx --report-data "$rd" --debug -o "$tmp/sgx-dbg.bin" "$tmp/sim"
"$cocoon" sim snp-report --report-data "$rd" -o "$tmp/snp.bin" "$tmp/sim"
"$cocoon" sim snp-report --report-data "$rd" --debug -o "$tmp/snp-dbg.bin" "$tmp/sim"
cp "$tmp/sgx.bin" "$tmp/sgx-tampered.bin"; printf '\x55' | dd of="$tmp/sgx-tampered.bin" bs=1 seek=$((48+64)) conv=notrunc status=none
cp "$tmp/snp.bin" "$tmp/snp-tampered.bin"; printf '\x01' | dd of="$tmp/snp-tampered.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
head -c 300 "$tmp/sgx.bin" > "$tmp/sgx-short.bin"
head -c 1000 "$tmp/snp.bin" > "$tmp/snp-short.bin"
cp "$tmp/snp.bin" "$tmp/snp-v1.bin"; printf '\x01' | dd of="$tmp/snp-v1.bin" bs=1 seek=0 conv=notrunc status=none
printf 'other' > "$tmp/rt-other.bin"
sim=(--trust-sim "$tmp/sim")
parity "sim SGX" "$s_url" SgxEnclave "$tmp/sgx.bin" "$tmp/rt.bin" -- "${sim[@]}"
parity "sim SGX, no runtimeData" "$s_url" SgxEnclave "$tmp/sgx.bin" - -- "${sim[@]}"
parity "sim TDX" "$s_url" TdxVm "$tmp/tdx.bin" "$tmp/rt.bin" -- "${sim[@]}"
parity "sim SNP" "$s_url" SevSnpVm "$tmp/snp.bin" "$tmp/rt.bin" -- "${sim[@]}"
parity "sim SGX debug" "$s_url" SgxEnclave "$tmp/sgx-dbg.bin" - -- "${sim[@]}"
parity "sim SNP debug" "$s_url" SevSnpVm "$tmp/snp-dbg.bin" - -- "${sim[@]}"
parity "sim SGX tampered" "$s_url" SgxEnclave "$tmp/sgx-tampered.bin" - -- "${sim[@]}"
parity "sim SNP tampered" "$s_url" SevSnpVm "$tmp/snp-tampered.bin" - -- "${sim[@]}"
parity "sim SGX truncated" "$s_url" SgxEnclave "$tmp/sgx-short.bin" - -- "${sim[@]}" --format sgx
parity "sim SNP truncated" "$s_url" SevSnpVm "$tmp/snp-short.bin" - -- "${sim[@]}"
parity "sim SNP version 1" "$s_url" SevSnpVm "$tmp/snp-v1.bin" - -- "${sim[@]}"
parity "sim SGX runtimeData mismatch" "$s_url" SgxEnclave "$tmp/sgx.bin" "$tmp/rt-other.bin" -- "${sim[@]}"
parity "sim SNP runtimeData mismatch" "$s_url" SevSnpVm "$tmp/snp.bin" "$tmp/rt-other.bin" -- "${sim[@]}"
printf 'init' > "$tmp/init.bin"
"$cocoon" sim snp-report --report-data "$rd" --host-data "$(sha256sum "$tmp/init.bin" | cut -c1-64)" -o "$tmp/snp-hd.bin" "$tmp/sim"
INIT="$tmp/init.bin" parity "sim SNP initTimeData" "$s_url" SevSnpVm "$tmp/snp-hd.bin" - -- "${sim[@]}"
INIT="$tmp/init.bin" parity "sim SNP initTimeData mismatch" "$s_url" SevSnpVm "$tmp/snp.bin" - -- "${sim[@]}"
parity "TDX quote at SgxEnclave" "$s_url" SgxEnclave "$tmp/tdx.bin" - -- "${sim[@]}" --format sgx

# ---- the real vectors (when present), at attestd's pinned test time ----
if [ -z "$vectors" ] || [ ! -f "$vectors/sgx/quote.bin" ]; then
  echo "note: real vectors not found (set COCOON_VECTORS); simulated cases only"
  finish
fi
at=2025-07-19T10:00:34Z
admin=$(openssl rand -hex 24); echo "$admin" > "$tmp/admin-token"
COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 start v --admin-token-file "$tmp/admin-token" --test-only-verification-time "$at" --allow-debug || exit 1
auth=(-H "Authorization: Bearer $admin")
for t in sgx tdx; do
  code=$(post "$v_url/admin/collateral/dcap" "$vectors/$t/collateral.json" "${auth[@]}"); [ "$code" = 200 ] || bad "import $t collateral: $code"
done
jq -n --arg v "$(base64 -w0 "$vectors/snp/vcek.der")" --rawfile c "$vectors/snp/ask-ark-milan.pem" '{vcek:$v, chain:$c}' > "$tmp/vcek.json"
code=$(post "$v_url/admin/collateral/snp" "$tmp/vcek.json" "${auth[@]}"); [ "$code" = 200 ] || bad "import the VCEK: $code"
cp "$vectors/sgx/quote.bin" "$tmp/vq.bin"; printf '\x55' | dd of="$tmp/vq.bin" bs=1 seek=$((48+64)) conv=notrunc status=none
cp "$vectors/snp/report.bin" "$tmp/vr.bin"; printf '\x01' | dd of="$tmp/vr.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
head -c 1000 "$vectors/tdx/quote.bin" > "$tmp/vt.bin"
real=(--at "$at" --allow-debug)
parity "real SGX" "$v_url" SgxEnclave "$vectors/sgx/quote.bin" - -- "${real[@]}" --collateral "$vectors/sgx/collateral.json"
parity "real TDX" "$v_url" TdxVm "$vectors/tdx/quote.bin" - -- "${real[@]}" --collateral "$vectors/tdx/collateral.json"
parity "real SNP" "$v_url" SevSnpVm "$vectors/snp/report.bin" - -- "${real[@]}" --vcek "$vectors/snp/vcek.der" --chain "$vectors/snp/ask-ark-milan.pem"
parity "real SGX tampered" "$v_url" SgxEnclave "$tmp/vq.bin" - -- "${real[@]}" --collateral "$vectors/sgx/collateral.json"
parity "real SNP tampered" "$v_url" SevSnpVm "$tmp/vr.bin" - -- "${real[@]}" --vcek "$vectors/snp/vcek.der" --chain "$vectors/snp/ask-ark-milan.pem"
parity "real TDX truncated" "$v_url" TdxVm "$tmp/vt.bin" - -- "${real[@]}" --collateral "$vectors/tdx/collateral.json"
parity "real SGX runtimeData mismatch" "$v_url" SgxEnclave "$vectors/sgx/quote.bin" "$tmp/rt.bin" -- "${real[@]}" --collateral "$vectors/sgx/collateral.json"
finish
