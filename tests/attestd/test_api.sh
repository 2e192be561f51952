#!/usr/bin/env bash
# cocoon-attestd's MAA API with simulated SGX and TDX evidence: tokens, /certs,
# runtimeData binding, draft policies, Open Enclave reports, our own token checks
# (alg none, unknown kid, expired, wrong jku), bad input, metrics and shutdown.
. "$(dirname "$0")/lib.sh"

"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
start a --trust-sim "$tmp/sim" || exit 1
grep -q 'DEVELOPMENT ONLY: trusting the simulation root' "$a_log" && ok || bad "--trust-sim must be logged loudly"

rt='{"pubkey":"cocoon-test"}'
rd=$(printf '%s' "$rt" | sha256sum | cut -c1-64)
mre=$(printf '%064x' 0xabcdef)
"$cocoon" sim quote --tee sgx --report-data "$rd" --mrenclave "$mre" --isv-prod-id 7 --isv-svn 3 -o "$tmp/sgx.bin" "$tmp/sim"
"$cocoon" sim quote --tee tdx --report-data "$rd" --mrtd "$(printf '%096x' 0x1234)" -o "$tmp/tdx.bin" "$tmp/sim"
"$cocoon" sim quote --tee sgx --report-data "$rd" --debug -o "$tmp/dbg.bin" "$tmp/sim"
q=$(b64url_file "$tmp/sgx.bin")
rt64=$(printf '%s' "$rt" | b64url)
printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"JSON"},"nonce":"nonce-123"}' "$q" "$rt64" > "$tmp/sgx.json"

# 1. SGX: a signed token with MAA's claims, the nonce and the cocoon claim.
for v in 2020-10-01 2022-08-01 2023-04-01-preview 2025-06-01; do
  code=$(post "$a_url/attest/SgxEnclave?api-version=$v" "$tmp/sgx.json")
  expect "SgxEnclave api-version $v" 200 "$code" '.token | test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")'
done
cp "$tmp/out" "$tmp/sgx-token.json"
claims "$tmp/sgx-token.json" > "$tmp/c.json"
jq -e --arg mre "$mre" --arg rd "$rd" --arg iss "$a_url" '
  .["x-ms-attestation-type"]=="sgx" and .["x-ms-ver"]=="1.0" and .["x-ms-sgx-mrenclave"]==$mre and
  .["x-ms-sgx-product-id"]==7 and .["x-ms-sgx-svn"]==3 and .["x-ms-sgx-is-debuggable"]==false and
  (.["x-ms-sgx-report-data"]|startswith($rd)) and (.["x-ms-sgx-report-data"]|length)==128 and
  .["x-ms-runtime"].pubkey=="cocoon-test" and (.["x-ms-sgx-ehd"]|length>0) and .nonce=="nonce-123" and
  .iss==$iss and (.exp > .iat) and .nbf==.iat and (.jti|length)==64 and (.["x-ms-policy-hash"]|length)==43 and
  .cocoon.simulated==true and .cocoon.claims.simulated==true and .cocoon.tee=="sgx" and
  (.["x-ms-sgx-collateral"].quotehash|length)==64 and .["sgx-mrenclave"]==$mre' "$tmp/c.json" >/dev/null \
  && ok || { bad "SGX token claims"; cat "$tmp/c.json"; }
jq -r .token "$tmp/sgx-token.json" | cut -d. -f1 | b64url_decode > "$tmp/h.json"
jq -e --arg jku "$a_url/certs" '.alg=="RS256" and .typ=="JWT" and (.kid|length>0) and .jku==$jku' "$tmp/h.json" \
  >/dev/null 2>&1 && ok || bad "token header: $(cat "$tmp/h.json")"

# 2. /certs (and /certs/) is a JWKS with kty, kid and x5c; the token verifies against it.
curl -s "$a_url/certs" > "$tmp/jwks.json"
jq -e '.keys[0].kty=="RSA" and (.keys[0].kid|length>0) and (.keys[0].x5c[0]|test("^[A-Za-z0-9+/=]+$"))' "$tmp/jwks.json" \
  >/dev/null && ok || bad "/certs: $(cat "$tmp/jwks.json")"
[ "$(curl -s "$a_url/certs/")" = "$(cat "$tmp/jwks.json")" ] && ok || bad "/certs/ must equal /certs"
curl -s "$a_url/.well-known/openid-configuration" > "$tmp/oidc.json"
jq -e --arg u "$a_url" '.issuer==$u and .jwks_uri==($u+"/certs")' "$tmp/oidc.json" >/dev/null && ok || bad "openid metadata"
tok=$(jq -r .token "$tmp/sgx-token.json")
"$cocoon" token verify --jwks "$a_url/certs" --issuer "$a_url" "$tok" > "$tmp/v.json" 2>"$tmp/err" \
  && jq -e '.nonce=="nonce-123"' "$tmp/v.json" >/dev/null && ok || bad "token verify (URL): $(cat "$tmp/err")"
"$cocoon" token verify --jwks "$tmp/jwks.json" --issuer "$a_url" "$tok" >/dev/null 2>"$tmp/err" && ok \
  || bad "token verify (file): $(cat "$tmp/err")"

# 3. Our checks reject what the npm client accepts: alg none, unknown kid, expiry, wrong jku.
none="eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.$(echo "$tok" | cut -d. -f2)."
"$cocoon" token verify --jwks "$tmp/jwks.json" "$none" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "alg 'none' is not accepted" "$tmp/err" && ok || bad "alg none must be rejected (rc $rc): $(cat "$tmp/err")"
start e --signing-alg ES256 --trust-sim "$tmp/sim" || exit 1
code=$(post "$e_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
expect "ES256 token" 200 "$code"
etok=$(jq -r .token "$tmp/out")
echo "$etok" | cut -d. -f1 | b64url_decode | grep -q '"alg":"ES256"' && ok || bad "ES256 header"
curl -s "$e_url/certs" | jq -e '.keys[0].kty=="EC" and .keys[0].crv=="P-256"' >/dev/null && ok || bad "ES256 /certs"
"$cocoon" token verify --jwks "$e_url/certs" "$etok" >/dev/null 2>"$tmp/err" && ok || bad "ES256 verify: $(cat "$tmp/err")"
start p --signing-alg PS256 --trust-sim "$tmp/sim" || exit 1
code=$(post "$p_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
expect "PS256 token" 200 "$code"
ptok=$(jq -r .token "$tmp/out")
echo "$ptok" | cut -d. -f1 | b64url_decode | grep -q '"alg":"PS256"' && ok || bad "PS256 header"
"$cocoon" token verify --jwks "$p_url/certs" "$ptok" >/dev/null 2>"$tmp/err" && ok || bad "PS256 verify: $(cat "$tmp/err")"
"$cocoon" token verify --jwks "$tmp/jwks.json" "$etok" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "is not in the trusted JWKS" "$tmp/err" && ok || bad "unknown kid must be rejected: $(cat "$tmp/err")"
"$cocoon" token verify --jwks "$tmp/jwks.json" --at "$(( $(date +%s) + 9 * 3600 ))" "$tok" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "token expired at" "$tmp/err" && ok || bad "expired token must be rejected: $(cat "$tmp/err")"
"$cocoon" token verify --jwks "$tmp/jwks.json" --jku "https://evil.example/certs" "$tok" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "jku" "$tmp/err" && ok || bad "wrong jku must be rejected: $(cat "$tmp/err")"
"$cocoon" token verify --jwks "$tmp/jwks.json" --jku "$a_url/certs" --issuer "http://other" "$tok" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "issuer" "$tmp/err" && ok || bad "wrong issuer must be rejected"
tampered="$(echo "$tok" | cut -d. -f1).$(echo '{"iss":"x","exp":9999999999}' | b64url).$(echo "$tok" | cut -d. -f3)"
"$cocoon" token verify --jwks "$tmp/jwks.json" "$tampered" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "signature does not verify" "$tmp/err" && ok || bad "tampered token must be rejected"

# 4. runtimeData binding, api-version, TEE routing, debug appraisal.
printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"Binary"}}' "$q" "$(printf 'other' | b64url)" > "$tmp/b.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/b.json")
expect "runtimeData mismatch" 400 "$code" '.error.code=="InvalidParameter" and (.error.message|test("runtimeData does not match.*report_data"))'
code=$(post "$a_url/attest/SgxEnclave?api-version=2019-01-01" "$tmp/sgx.json")
expect "unknown api-version" 400 "$code" '.error.code=="InvalidApiVersionParameter" and (.error.message|test("2019-01-01"))'
code=$(post "$a_url/attest/SgxEnclave" "$tmp/sgx.json")
expect "missing api-version" 400 "$code" '.error.code=="MissingApiVersionParameter"'
printf '{"quote":"%s"}' "$(b64url_file "$tmp/tdx.bin")" > "$tmp/tdx.json"
code=$(post "$a_url/attest/TdxVm?api-version=2023-04-01-preview" "$tmp/tdx.json")
expect "TdxVm" 200 "$code"
claims "$tmp/out" | jq -e '.["x-ms-attestation-type"]=="tdxvm" and (.tdx_mrtd|endswith("1234")) and .attester_tcb_status=="UpToDate" and .dbgstat=="disabled-since-boot" and (.tdx_report_data|length)==128 and .cocoon.simulated==true' >/dev/null \
  && ok || bad "TDX claims"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/tdx.json")
expect "TDX quote at SgxEnclave" 400 "$code" '.error.message|test("TdxVm")'
printf '{"quote":"%s"}' "$(b64url_file "$tmp/dbg.bin")" > "$tmp/d.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/d.json")
expect "debug enclave" 400 "$code" '.error.code=="EvidenceRejected" and (.error.message|test("appraisal_sgx_debug"))'
# Open Enclave: oe_report_header_t (version 1, type 2, size) + the SGX quote.
size=$(stat -c %s "$tmp/sgx.bin")
{ printf '\x01\x00\x00\x00\x02\x00\x00\x00'; printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((size & 255)) $((size >> 8 & 255)) $((size >> 16 & 255)) $((size >> 24)))"; printf '\x00\x00\x00\x00'; cat "$tmp/sgx.bin"; } > "$tmp/oe.bin"
printf '{"report":"%s","runtimeData":{"data":"%s","dataType":"JSON"}}' "$(b64url_file "$tmp/oe.bin")" "$rt64" > "$tmp/oe.json"
code=$(post "$a_url/attest/OpenEnclave?api-version=2020-10-01" "$tmp/oe.json")
expect "OpenEnclave" 200 "$code"
head -c 20 "$tmp/oe.bin" > "$tmp/oe-bad.bin"
printf '{"report":"%s"}' "$(b64url_file "$tmp/oe-bad.bin")" > "$tmp/oe-bad.json"
code=$(post "$a_url/attest/OpenEnclave?api-version=2020-10-01" "$tmp/oe-bad.json")
expect "truncated OE report" 400 "$code" '.error.message|test("offset 8")'

# SEV-SNP from the simulated TEE: a bare report (the VCEK comes from the simulation
# directory) and MAA's {SnpReport, VcekCertChain}; refused by a service without --trust-sim.
if "$cocoon" sim snp-report --report-data "$rd" -o "$tmp/snp.bin" "$tmp/sim" 2>/dev/null; then
  printf '{"report":"%s","runtimeData":{"data":"%s","dataType":"JSON"}}' "$(b64url_file "$tmp/snp.bin")" "$rt64" > "$tmp/snp.json"
  code=$(post "$a_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp.json")
  expect "simulated SNP report" 200 "$code"
  claims "$tmp/out" | jq -e --arg rd "$rd" '.["x-ms-attestation-type"]=="sevsnpvm" and .cocoon.simulated==true and (.["x-ms-sevsnpvm-reportdata"]|startswith($rd)) and .["x-ms-sevsnpvm-is-debuggable"]==false and .["x-ms-runtime"].pubkey=="cocoon-test"' >/dev/null \
    && ok || bad "simulated SNP claims"
  cat "$tmp/sim/amd/vcek.pem" "$tmp/sim/amd/chain.pem" > "$tmp/snp-chain.pem"
  jq -n --arg r "$(b64url_file "$tmp/snp.bin")" --arg c "$(base64 -w0 "$tmp/snp-chain.pem")" '{SnpReport:$r, VcekCertChain:$c}' | b64url > "$tmp/maa.b64"
  printf '{"report":"%s"}' "$(cat "$tmp/maa.b64")" > "$tmp/snp-maa.json"
  code=$(post "$a_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp-maa.json")
  expect "simulated SNP report, MAA format" 200 "$code"
  start n || exit 1
  code=$(post "$n_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/snp-maa.json")
  expect "simulated SNP without --trust-sim" 400 "$code" '.error.code=="EvidenceRejected" and (.error.message|test("simulation_root"))'
  code=$(post "$n_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
  expect "simulated SGX without --trust-sim" 400 "$code" '.error.code=="CollateralNotFound"'
else
  echo "note: cocoon sim snp-report is unavailable; SNP is covered by test_vectors.sh"
fi

# 5. Draft policies: evaluated, never stored; a denial is 401 naming the rule; the token is unsigned.
jq -n --arg q "$q" '{quote:$q, draftPolicyForAttestation:"version=1.0;\nauthorizationrules {\n  [type==\"x-ms-sgx-product-id\", value==7] => deny();\n  => permit();\n};"}' > "$tmp/deny.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/deny.json")
expect "draft policy deny" 401 "$code" '.error.code=="PolicyDenied" and (.error.message|test("line 3"))'
jq -n --arg q "$q" '{quote:$q, draftPolicyForAttestation:"version=1.0; authorizationrules { => permit(); }; issuancerules { c:[type==\"x-ms-sgx-svn\"] => issue(type=\"my-svn\", value=c.value); c:[type==\"x-ms-sgx-svn\"] => issue(type=\"iss\", value=\"forged\"); };"}' > "$tmp/draft.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/draft.json")
expect "draft policy permit" 200 "$code" '.token|endswith(".")'
claims "$tmp/out" | jq -e --arg iss "$a_url" '.["my-svn"]==3 and .iss==$iss' >/dev/null && ok || bad "draft claims; iss must stay reserved"
"$cocoon" token verify --jwks "$tmp/jwks.json" "$(jq -r .token "$tmp/out")" 2>/dev/null; [ $? -eq 1 ] && ok || bad "a draft token must not verify"
jq -n --arg q "$q" '{quote:$q, draftPolicyForAttestation:"version=1.0; authorizationrules { [type==\"x\" value==1] => permit(); };"}' > "$tmp/draft-bad.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/draft-bad.json")
expect "draft policy syntax error" 400 "$code" '.error.message|test("draftPolicyForAttestation: policy:1:")'
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json")
claims "$tmp/out" | jq -e 'has("my-svn")|not' >/dev/null && ok || bad "a draft policy must not be stored"

# 6. Bad input: JSON, base64, missing fields, unknown paths and methods, oversized bodies.
printf '{"quote": "abc", ' > "$tmp/j.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/j.json")
expect "malformed JSON" 400 "$code" '.error.message|test("^body: invalid JSON at line 1")'
printf '{"quote":"!!!notbase64"}' > "$tmp/j.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/j.json")
expect "bad base64" 400 "$code" '.error.message|test("^quote: base64: invalid character 0x21 at offset 0")'
printf '{"quote":"%s","runtimeData":{"data":"a b"}}' "$q" > "$tmp/j.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/j.json")
expect "bad runtimeData base64" 400 "$code" '.error.message|test("^runtimeData.data: base64")'
printf '{"runtimeData":{"data":"AA"}}' > "$tmp/j.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/j.json")
expect "missing quote" 400 "$code" '.error.message|test("^quote: is required")'
printf '{"quote":"%s"}' "$(head -c 300 "$tmp/sgx.bin" | b64url)" > "$tmp/j.json"
code=$(post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/j.json")
expect "truncated quote" 400 "$code" '.error.code=="EvidenceRejected" and (.error.message|test("quote_format"))'
# Regression (found by fuzz_attestd_request): a SevSnpVm report that decodes to JSON that is
# not an object was freed twice. It must be a clean 400, and the daemon must stay up.
printf '{"report":"eyJTbnBSZXBvcnQiOg"}' > "$tmp/j.json"
code=$(post "$a_url/attest/SevSnpVm?api-version=2022-08-01" "$tmp/j.json")
expect "SevSnpVm report that is not a JSON object" 400 "$code" '.error.code=="InvalidParameter"'
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$a_url/healthz")
expect "alive after the malformed SevSnpVm report" 200 "$code"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$a_url/no/such/path")
expect "unknown path" 404 "$code" '.error.code=="NotFound"'
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$a_url/attest/Tpm?api-version=2022-08-01" -X POST -d '{}')
expect "unsupported type" 404 "$code"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$a_url/attest/SgxEnclave?api-version=2022-08-01")
expect "GET on attest" 405 "$code"
head -c 1100000 /dev/zero | tr '\0' 'A' > "$tmp/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$tmp/big.json" "$a_url/attest/SgxEnclave?api-version=2022-08-01")
[ "$code" = 413 ] && ok || bad "oversized body: HTTP $code (want 413)"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X PUT "$a_url/policies/SgxEnclave" -d 'x')
expect "admin API without a token configured" 401 "$code" '.error.message|test("admin_token_file")'
printf '{"quote":"%s"}' "$(b64url_file "$tmp/sgx.bin")" > "$tmp/nocoll.json"

# 7. Slow clients time out; the service stays responsive meanwhile.
start s --trust-sim "$tmp/sim" --config <(echo '{"request_timeout_seconds": 1}') || exit 1
python3 - "$s_url" <<'PY' && ok || bad "a slow client must be disconnected after the request timeout"
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.create_connection((u.hostname, u.port)); s.settimeout(5)
s.sendall(b"POST /attest/SgxEnclave?api-version=2022-08-01 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
t = time.time()
try:
    data = s.recv(4096)
    while data:
        data = s.recv(4096)
except socket.timeout:
    sys.exit(1)
sys.exit(0 if time.time() - t < 4 else 1)
PY
[ "$(curl -s "$s_url/healthz")" = "ok" ] && ok || bad "healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$s_url/readyz")" = 200 ] && ok || bad "readyz"

# 8. Metrics: requests, verdicts by type, latency histogram, cache hit rates.
curl -s "$a_url/metrics" > "$tmp/m.txt"
grep -q 'attestd_attestations_total{type="SgxEnclave",verdict="permitted"} [1-9]' "$tmp/m.txt" && \
grep -q 'attestd_attestations_total{type="SgxEnclave",verdict="rejected"} [1-9]' "$tmp/m.txt" && \
grep -q 'attestd_attestations_total{type="SgxEnclave",verdict="denied"} 1' "$tmp/m.txt" && \
grep -q 'attestd_request_duration_seconds_bucket{le="+Inf"} [1-9]' "$tmp/m.txt" && \
grep -q 'cocoon_verifier_cache_hits_total{tier="platform"} [1-9]' "$tmp/m.txt" && \
grep -q 'attestd_http_requests_total{code="4xx"} [1-9]' "$tmp/m.txt" && ok || { bad "metrics"; cat "$tmp/m.txt"; }

# 9. Logs are JSON lines without tokens or evidence.
jq -e . "$a_log" >/dev/null 2>&1 && ok || bad "every log line must be JSON"
grep -q "$(echo "$q" | cut -c1-40)" "$a_log" && bad "evidence must not be logged" || ok
grep -q "$(echo "$tok" | cut -d. -f3 | cut -c1-30)" "$a_log" && bad "tokens must not be logged" || ok

# 10. Configuration errors and test-only options fail loudly with exit 2.
echo '{"listen": "127.0.0.1:0", "no_such_key": 1}' > "$tmp/bad.conf"
"$attestd" --config "$tmp/bad.conf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'unknown key \\"no_such_key\\"' "$tmp/err" && ok || bad "unknown config key (rc $rc): $(cat "$tmp/err")"
echo '{"trust_sim": "/tmp"}' > "$tmp/bad.conf"
"$attestd" --config "$tmp/bad.conf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'command-line flags only' "$tmp/err" && ok || bad "trust_sim must not be a config key"
echo '{"tls_cert": "/nonexistent/cert.pem", "tls_key": "/nonexistent/key.pem"}' > "$tmp/bad.conf"
"$attestd" --config "$tmp/bad.conf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "tls_cert '/nonexistent/cert.pem' is not readable" "$tmp/err" && ok || bad "unreadable tls_cert: $(cat "$tmp/err")"
"$attestd" --config "$tmp/nonexistent.conf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "cannot read the configuration file" "$tmp/err" && ok || bad "missing config file: $(cat "$tmp/err")"
env -u COCOON_ATTESTD_ALLOW_TEST_OPTIONS "$attestd" --test-only-verification-time 2025-07-19T10:00:00Z 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1" "$tmp/err" && ok || bad "test-only option must be refused"
"$attestd" --listen 127.0.0.1:notaport --data-dir "$tmp/x" 2>"$tmp/err"; rc=$?
[ $rc -eq 4 ] && ok || bad "bad listen address must exit 4 (rc $rc)"

if [ -n "${COCOON_SOURCE_DIR:-}" ] && [ -f "$COCOON_SOURCE_DIR/deploy/attestd/attestd.json" ]; then
  # The documented example uses only known keys: it fails on its first missing file instead.
  "$attestd" --config "$COCOON_SOURCE_DIR/deploy/attestd/attestd.json" 2>"$tmp/err"; rc=$?
  [ $rc -eq 2 ] && grep -q "tls_cert '/etc/cocoon-attestd/tls/tls.crt' is not readable" "$tmp/err" && ok \
    || bad "deploy/attestd/attestd.json must parse: $(cat "$tmp/err")"
fi

# 11. SIGTERM drains in-flight requests and exits 0.
( for i in $(seq 1 20); do post "$a_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/sgx.json" >/dev/null; done ) &
load=$!
sleep 0.2
kill -TERM "$a_pid"
wait "$a_pid"; rc=$?
wait "$load"
[ $rc -eq 0 ] && grep -q '"msg":"stopped"' "$a_log" && ok || bad "SIGTERM must stop cleanly (rc $rc)"
finish
