#!/usr/bin/env bash
# cocoon-attestd with the real hardware vectors (SGX, TDX, SEV-SNP) at the test-only
# pinned time: collateral missing -> named FMSPC/chip, admin imports (vectors layout,
# PCS format, SNP VCEK), MAA's SevSnpVm report format, persistence across restarts.
. "$(dirname "$0")/lib.sh"
if [ -z "$vectors" ] || [ ! -f "$vectors/sgx/quote.bin" ]; then
  echo "SKIP: real vectors not found (set COCOON_VECTORS)"; exit 77
fi
at=2025-07-19T10:00:34Z   # inside the SGX and TDX collateral windows and the SNP VCEK's validity
admin=$(openssl rand -hex 24)
echo "$admin" > "$tmp/admin-token"
flags=(--admin-token-file "$tmp/admin-token" --test-only-verification-time "$at" --allow-debug)
COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 start v "${flags[@]}" || exit 1
grep -q 'TEST-ONLY: evidence and collateral are judged at the pinned time 2025-07-19T10:00:34Z' "$v_log" \
  && ok || bad "the pinned time must be logged loudly"
auth=(-H "Authorization: Bearer $admin")

# SGX: no collateral yet -> the FMSPC is named; then the vectors' layout is imported.
printf '{"quote":"%s"}' "$(b64url_file "$vectors/sgx/quote.bin")" > "$tmp/sgx.json"
code=$(post "$v_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
expect "SGX without collateral" 400 "$code" '.error.code=="CollateralNotFound" and (.error.message|test("sgx FMSPC 00a067110000"))'
code=$(post "$v_url/admin/collateral/dcap" "$vectors/sgx/collateral.json")
expect "collateral import without a token" 401 "$code" '.error.code=="Unauthorized"'
code=$(post "$v_url/admin/collateral/dcap" "$vectors/sgx/collateral.json" -H "Authorization: Bearer wrong-token-0123456789")
expect "collateral import with a wrong token" 401 "$code"
code=$(post "$v_url/admin/collateral/dcap" "$vectors/sgx/collateral.json" "${auth[@]}")
expect "SGX collateral import" 200 "$code" '.tee=="sgx" and .fmspc=="00a067110000" and .next_update=="2025-07-19T10:56:11Z"'
code=$(post "$v_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
expect "real SGX quote" 200 "$code"
claims "$tmp/out" > "$tmp/c.json"
jq -e '.["x-ms-attestation-type"]=="sgx" and .cocoon.simulated==false and .cocoon.status=="ConfigurationAndSWHardeningNeeded" and (.cocoon.advisory_ids|index("INTEL-SA-00615")) != null and (.["x-ms-sgx-report-data"]|startswith("48656c6c6f2c20776f726c6421"))' \
  "$tmp/c.json" >/dev/null && ok || { bad "real SGX claims"; cat "$tmp/c.json"; }
"$cocoon" token verify --jwks "$v_url/certs" --issuer "$v_url" "$(jq -r .token "$tmp/out")" >/dev/null 2>&1 && ok || bad "real SGX token verify"
printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"Binary"}}' "$(b64url_file "$vectors/sgx/quote.bin")" \
  "$(printf 'Hello, world!' | b64url)" > "$tmp/sgx-rt.json"
code=$(post "$v_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx-rt.json")
expect "runtimeData that does not hash to report_data" 400 "$code" '.error.message|test("SHA-256\\(runtimeData\\) is 315f5bdb")'

# TDX: PCS format (the signed bodies as exact response text) through the admin API.
jq -r '"{\"tcbInfo\":" + .tcb_info + ",\"signature\":\"" + .tcb_info_signature + "\"}"' "$vectors/tdx/collateral.json" > "$tmp/tcb.json"
jq -r '"{\"enclaveIdentity\":" + .qe_identity + ",\"signature\":\"" + .qe_identity_signature + "\"}"' "$vectors/tdx/collateral.json" > "$tmp/qe.json"
jq --rawfile t "$tmp/tcb.json" --rawfile q "$tmp/qe.json" '{tcb_info:$t, qe_identity:$q, tcb_info_issuer_chain, qe_identity_issuer_chain, pck_crl, pck_crl_issuer_chain, root_ca_crl}' \
  "$vectors/tdx/collateral.json" > "$tmp/pcs.json"
printf '{"quote":"%s"}' "$(b64url_file "$vectors/tdx/quote.bin")" > "$tmp/tdx.json"
code=$(post "$v_url/attest/TdxVm?api-version=2023-04-01-preview" "$tmp/tdx.json")
expect "TDX without collateral" 400 "$code" '.error.message|test("tdx FMSPC")'
code=$(post "$v_url/admin/collateral/dcap" "$tmp/pcs.json" "${auth[@]}")
expect "TDX PCS-format import" 200 "$code" '.tee=="tdx"'
code=$(post "$v_url/attest/TdxVm?api-version=2023-04-01-preview" "$tmp/tdx.json")
expect "real TDX quote" 200 "$code"
claims "$tmp/out" | jq -e '.["x-ms-attestation-type"]=="tdxvm" and .attester_tcb_status=="UpToDate" and (.tdx_mrtd|length)==96 and .eat_profile=="https://aka.ms/maa-eat-profile-tdxvm"' >/dev/null \
  && ok || bad "real TDX claims"
echo '{"tcb_info": {"not":"a string"}}' > "$tmp/badpcs.json"
code=$(post "$v_url/admin/collateral/dcap" "$tmp/badpcs.json" "${auth[@]}")
expect "PCS import with an object" 400 "$code" '.error.message|test("tcb_info\" must be a string")'

# SEV-SNP in MAA's report format: base64url of {"SnpReport", "VcekCertChain"}.
{ openssl x509 -inform der -in "$vectors/snp/vcek.der"; cat "$vectors/snp/ask-ark-milan.pem"; } > "$tmp/chain.pem"
jq -n --arg r "$(b64url_file "$vectors/snp/report.bin")" --arg c "$(base64 -w0 "$tmp/chain.pem")" \
  '{SnpReport:$r, VcekCertChain:$c}' | b64url > "$tmp/maa-report.b64"
printf '{"report":"%s"}' "$(cat "$tmp/maa-report.b64")" > "$tmp/snp.json"
code=$(post "$v_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp.json")
expect "SNP (MAA report format)" 200 "$code"
claims "$tmp/out" | jq -e '.["x-ms-attestation-type"]=="sevsnpvm" and .["x-ms-sevsnpvm-is-debuggable"]==true and (.["x-ms-sevsnpvm-launchmeasurement"]|length)==96 and (.["x-ms-sevsnpvm-vmpl"]|type)=="number" and .cocoon.tee=="snp"' >/dev/null \
  && ok || bad "SNP claims"
printf '{"report":"%s","runtimeData":{"data":"AAAA","dataType":"Binary"}}' "$(cat "$tmp/maa-report.b64")" > "$tmp/snp-rt.json"
code=$(post "$v_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp-rt.json")
expect "SNP runtimeData mismatch" 400 "$code" '.error.message|test("REPORT_DATA")'
printf '{"report":"%s"}' "$(b64url_file "$vectors/snp/report.bin")" > "$tmp/snp-raw.json"
code=$(post "$v_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp-raw.json")
expect "bare SNP report without a VCEK" 400 "$code" '.error.code=="CollateralNotFound" and (.error.message|test("SEV-SNP chip .*CHIP_ID [0-9a-f]{128}"))'
jq -n --arg v "$(base64 -w0 "$vectors/snp/vcek.der")" --rawfile c "$vectors/snp/ask-ark-milan.pem" '{vcek:$v, chain:$c}' > "$tmp/vcek.json"
code=$(post "$v_url/admin/collateral/snp" "$tmp/vcek.json" "${auth[@]}")
expect "VCEK import" 200 "$code" '.product=="Milan" and (.chip_id|length)==128'
code=$(post "$v_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp-raw.json")
expect "bare SNP report with the stored VCEK" 200 "$code"
code=$(post "$v_url/attest/SevSnpVm?api-version=2020-10-01" "$tmp/snp.json")
expect "any supported api-version" 200 "$code"

# Restart on the same data directory: the key, kid and collateral persist.
kid1=$(curl -s "$v_url/certs" | jq -r '.keys[0].kid')
kill -TERM "$v_pid"; wait "$v_pid"
COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 start v2 "${flags[@]}" --data-dir "$tmp/v-data" || exit 1
[ "$(curl -s "$v2_url/certs" | jq -r '.keys[0].kid')" = "$kid1" ] && ok || bad "the signing key must persist"
code=$(post "$v2_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
expect "collateral persists across restarts" 200 "$code"
[ "$(stat -c %a "$tmp/v-data/attestd.db")" = 600 ] && ok || bad "the database must be mode 0600"

# Start-up import of a directory of PCS responses (as for cocoon verify --collateral DIR).
mkdir "$tmp/pcsdir"
cp "$tmp/tcb.json" "$tmp/pcsdir/tcb_info.json"; cp "$tmp/qe.json" "$tmp/pcsdir/qe_identity.json"
jq -r .tcb_info_issuer_chain "$vectors/tdx/collateral.json" > "$tmp/pcsdir/tcb_info_issuer_chain.pem"
jq -r .pck_crl_issuer_chain "$vectors/tdx/collateral.json" > "$tmp/pcsdir/pck_crl_issuer_chain.pem"
jq -r .pck_crl "$vectors/tdx/collateral.json" | xxd -r -p > "$tmp/pcsdir/pck_crl.der"
jq -r .root_ca_crl "$vectors/tdx/collateral.json" | xxd -r -p > "$tmp/pcsdir/root_ca_crl.der"
COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 start v3 "${flags[@]}" --collateral "$tmp/pcsdir" || exit 1
grep -q '"msg":"imported collateral from' "$v3_log" && ok || bad "start-up import must be logged"
code=$(post "$v3_url/attest/TdxVm?api-version=2025-06-01" "$tmp/tdx.json")
expect "TDX with collateral from a PCS directory" 200 "$code"
rm "$tmp/pcsdir/pck_crl.der"
COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 "$attestd" --data-dir "$tmp/v4" --collateral "$tmp/pcsdir" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "pck_crl.der or pck_crl.pem is missing" "$tmp/err" && ok || bad "incomplete PCS directory (rc $rc): $(cat "$tmp/err")"
finish
