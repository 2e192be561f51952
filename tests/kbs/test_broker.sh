#!/usr/bin/env bash
# cocoon-attestd's Trustee KBS 0.4.0 broker driven with curl and kbs_tool (the
# KBS library for keys, bindings and JWE) over simulated SGX, TDX and SNP
# evidence: the RCAR handshake, resources as JWE to EC and RSA keys, resource
# policies, admin JWTs, and every refusal with its status and error type.
# usage: test_broker.sh PATH/TO/kbs_tool
. "${COCOON_SOURCE_DIR:?}/tests/attestd/lib.sh"
tool=${1:?usage: test_broker.sh PATH/TO/kbs_tool}

"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$tmp/wrong.pem" 2>/dev/null
start a --trust-sim "$tmp/sim" --admin-key "$tmp/admin.pub" || exit 1
grep -q 'generated a key-encryption key' "$a_log" && [ "$(stat -c %a "$tmp/a-data/kek")" = 600 ] && ok \
  || bad "a KEK must be generated (0600) and logged when none is given"
jwt=$("$tool" admin-jwt "$tmp/admin.pem")

. "$COCOON_SOURCE_DIR/tests/kbs/kbs_lib.sh"

# 1. Admin API: no JWT, a wrong key, an expired JWT, Rego.
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST --data-binary 'x' "$a_url/kbs/v0/resource/cocoon/test/one")
kerr 401 "$code" AdminAuthAccess "admin without a JWT"
code=$(AJ=$("$tool" admin-jwt "$tmp/wrong.pem") adm POST "$a_url/kbs/v0/resource/cocoon/test/one" --data-binary 's')
kerr 401 "$code" AdminAuthAccess "admin JWT signed by another key"
code=$(AJ=$("$tool" admin-jwt "$tmp/admin.pem" -400) adm POST "$a_url/kbs/v0/resource/cocoon/test/one" --data-binary 's')
kerr 401 "$code" AdminAuthAccess "expired admin JWT" "exp|expired"
code=$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary $'package policy\ndefault allow = true\n')
kerr 400 "$code" ParsePolicyError "Rego policy" "Rego"
code=$(adm GET "$a_url/policies/SgxEnclave?api-version=2022-08-01")
expect "the MAA admin API accepts the admin JWT" 200 "$code" '.token'
code=$(AJ=$("$tool" admin-jwt "$tmp/wrong.pem") adm GET "$a_url/policies/SgxEnclave?api-version=2022-08-01")
expect "the MAA admin API refuses a JWT of another key" 401 "$code"
printf 'first secret' > "$tmp/one"; printf 'second secret' > "$tmp/two"; printf 'forbidden secret' > "$tmp/forb"
adm POST "$a_url/kbs/v0/resource/cocoon/test/one" --data-binary "@$tmp/one" >/dev/null
adm POST "$a_url/kbs/v0/resource/cocoon/test/two" --data-binary "@$tmp/two" >/dev/null
code=$(adm POST "$a_url/kbs/v0/resource/cocoon/test/forbidden" --data-binary "@$tmp/forb")
expect "admin resource put" 200 "$code"
code=$(adm DELETE "$a_url/kbs/v0/resource/cocoon/test/two")
expect "admin resource delete" 200 "$code"
! grep -q 'first secret' "$tmp/a-data/attestd.db" && ok || bad "a resource must be sealed at rest"

# 2. The handshake with SGX, TDX and SNP simulated evidence, EC and RSA keys; no policy denies.
for tee in sgx tdx snp; do
  for kt in ec rsa; do
    code=$(handshake "$a_url" $tee $kt "$tee-$kt")
    [ "$code" = 200 ] && jq -e '.token|test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")' "$tmp/$tee-$kt.token" >/dev/null \
      && ok || bad "$tee/$kt handshake: HTTP $code $(head -c 600 "$tmp/$tee-$kt.token")"
  done
done
jq -r .token "$tmp/sgx-ec.token" | cut -d. -f2 | b64url_decode > "$tmp/ear.json"
# A simulation root is never genuine hardware: hardware 97, so the status is contraindicated (docs/kbs.md).
jq -e '.submods.cpu0["ear.status"]=="contraindicated" and .submods.cpu0["ear.trustworthiness-vector"].hardware==97 and .submods.cpu0["ear.veraison.annotated-evidence"].simulated==true
  and (.submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims["tee-pubkey"].kty=="EC")' "$tmp/ear.json" >/dev/null \
  && ok || bad "EAR claims: $(head -c 800 "$tmp/ear.json")"
code=$(get "$a_url" sgx-ec cocoon/test/one)
kerr 403 "$code" PolicyDeny "no resource policy: deny" "no resource policy"

# 3. A policy that denies one path and permits the rest.
printf '%s' 'version=1.0; authorizationrules { [type=="kbs-resource-path", value=="cocoon/test/forbidden"] => deny(); => permit(); };' > "$tmp/pol"
code=$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary "@$tmp/pol")
expect "set resource policy" 200 "$code"
code=$(adm GET "$a_url/kbs/v0/resource-policy")
[ "$code" = 200 ] && cmp -s "$tmp/out" "$tmp/pol" && ok || bad "get resource policy: $code $(cat "$tmp/out")"
for tee in sgx tdx snp; do
  for kt in ec rsa; do
    code=$(get "$a_url" "$tee-$kt" cocoon/test/one)
    [ "$code" = 200 ] && "$tool" dec-pem "$tmp/$tee-$kt.pem" "$tmp/out" > "$tmp/plain" && cmp -s "$tmp/plain" "$tmp/one" \
      && ok || bad "$tee/$kt resource: HTTP $code $(head -c 300 "$tmp/out")"
  done
done
jq -e '.protected and .encrypted_key and .iv and .ciphertext and .tag' "$tmp/out" >/dev/null && ok || bad "flattened JWE members"
code=$(get "$a_url" sgx-ec cocoon/test/forbidden)
kerr 403 "$code" PolicyDeny "denied path names the rule" "line 1|deny"
grep -q 'forbidden secret' "$tmp/out" && bad "a denial must not carry the secret" || ok
code=$(get "$a_url" sgx-ec cocoon/test/two)
kerr 404 "$code" InvalidRequestPath "deleted resource"
code=$(get "$a_url" sgx-ec cocoon/test/missing)
kerr 404 "$code" InvalidRequestPath "missing resource"
code=$(get "$a_url" sgx-ec 'cocoon/../one' --path-as-is)
kerr 404 "$code" InvalidRequestPath "'..' in the path"
code=$(get "$a_url" sgx-ec 'cocoon/test' )
kerr 404 "$code" InvalidRequestPath "two segments"

# 3b. The sample policy in deploy/: simulated evidence is contraindicated, so it is denied by the
# status rule; with the status and simulation rules taken out and the TDX measurement pinned, it
# releases to that TD only (the SGX enclave's MRENCLAVE is not pinned).
sample=$COCOON_SOURCE_DIR/deploy/kbs/resource-policy.txt
code=$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary "@$sample")
expect "set the sample policy" 200 "$code"
code=$(get "$a_url" tdx-ec cocoon/test/one)
kerr 403 "$code" PolicyDeny "sample policy denies contraindicated evidence" "ear.status"
grep -v 'ear.status\|"simulated"' "$sample" | sed "/tdx_mrtd/s/value==\"0*\"/value==\"$(printf '%096x' 0x1234)\"/" > "$tmp/pinned"
code=$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary "@$tmp/pinned")
expect "set the pinned policy" 200 "$code"
code=$(get "$a_url" tdx-ec cocoon/test/one)
expect "pinned TDX measurement releases" 200 "$code"
code=$(get "$a_url" sgx-ec cocoon/test/one)
kerr 403 "$code" PolicyDeny "unpinned SGX measurement is denied" "no authorization rule permitted"
# Trustee's body form {"policy": base64url} sets the same policy.
printf '{"policy":"%s"}' "$(b64url_file "$tmp/pol")" > "$tmp/pol.json"
code=$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary "@$tmp/pol.json")
expect "set the policy in Trustee's JSON form" 200 "$code"

# 4. The Bearer token path, and a tampered token.
tok=$(jq -r .token "$tmp/tdx-rsa.token")
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer $tok" "$a_url/kbs/v0/resource/cocoon/test/one")
[ "$code" = 200 ] && "$tool" dec-pem "$tmp/tdx-rsa.pem" "$tmp/out" | cmp -s - "$tmp/one" && ok || bad "Bearer token: $code $(cat "$tmp/out")"
sig=${tok##*.}; [ "${sig:0:1}" = A ] && c=B || c=A
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer ${tok%.*}.$c${sig:1}" "$a_url/kbs/v0/resource/cocoon/test/one")
kerr 401 "$code" TokenVerifierError "tampered Bearer token"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$a_url/kbs/v0/resource/cocoon/test/one")
kerr 401 "$code" TokenNotFound "resource without cookie or token"

# 5. Refusals in the handshake.
code=$(kbs_auth "$a_url" "$tmp/v.jar" sgx 0.3.0)
kerr 401 "$code" AttestationError "wrong protocol version" "Version Mismatch"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -d '{}' "$a_url/kbs/v0/attest")
kerr 401 "$code" TokenNotFound "attest without a cookie"
code=$(curl -s -b "$tmp/sgx-ec.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/sgx-ec.body" "$a_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "second attest on a session (nonce used)" "used|attested"
# evidence bound to another nonce: a fresh session, evidence made for the old nonce
"$tool" keygen ec "$tmp/x.pem" "$tmp/x.jwk"
kbs_auth "$a_url" "$tmp/x.jar" sgx >/dev/null; nonce=$(jq -r .nonce "$tmp/out")
"$tool" attest-body "$nonce" "$tmp/sgx-ec.jwk" sgx "$tmp/sgx-ec.ev" > "$tmp/x.body"
code=$(curl -s -b "$tmp/x.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/x.body" "$a_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "evidence bound to another nonce" "report_data|binding|REPORT_DATA"
evidence sgx "$nonce" "$tmp/sgx-ec.jwk" "$tmp/x.ev"
"$tool" attest-body "$nonce" "$tmp/x.jwk" sgx "$tmp/x.ev" > "$tmp/x.body"
code=$(curl -s -b "$tmp/x.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/x.body" "$a_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "evidence bound to another key" "report_data|binding|REPORT_DATA"
"$tool" attest-body "AAAA$nonce" "$tmp/x.jwk" sgx "$tmp/x.ev" > "$tmp/x.body"
code=$(curl -s -b "$tmp/x.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/x.body" "$a_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "runtime-data with another nonce" "nonce"
head -c 5000000 /dev/zero | tr '\0' 'A' > "$tmp/big"
code=$(curl -s -b "$tmp/x.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/big" "$a_url/kbs/v0/attest")
[ "$code" = 413 ] && ok || bad "oversized body: HTTP $code (want 413)"

# 5b. Init data: its SHA-384 digest must equal TDX MRCONFIGID (SNP HOST_DATA: its first 32 bytes).
printf 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"policy.rego" = "x"\n' > "$tmp/init.toml"
printf 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"policy.rego" = "y"\n' > "$tmp/other.toml"
dig=$(sha384sum "$tmp/init.toml" | cut -c1-96)
for tee in tdx snp; do
  for t in init other; do
    "$tool" keygen ec "$tmp/i.pem" "$tmp/i.jwk"
    kbs_auth "$a_url" "$tmp/i.jar" $tee >/dev/null; nonce=$(jq -r .nonce "$tmp/out")
    rd=$("$tool" rdhash "$nonce" "$tmp/i.jwk")
    if [ $tee = tdx ]; then
      "$cocoon" sim quote --tee tdx --report-data "$rd" --mr-config-id "$dig" -o "$tmp/i.ev" "$tmp/sim"
    else
      "$cocoon" sim snp-report --report-data "$rd" --host-data "${dig:0:64}" -o "$tmp/i.ev" "$tmp/sim"
    fi
    "$tool" attest-body "$nonce" "$tmp/i.jwk" $tee "$tmp/i.ev" "$tmp/$t.toml" > "$tmp/i.body"
    code=$(curl -s -b "$tmp/i.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/i.body" "$a_url/kbs/v0/attest")
    if [ $t = init ]; then expect "$tee: init-data bound" 200 "$code"
    else kerr 401 "$code" AttestationError "$tee: other init-data refused" "init"; fi
  done
done

# 6. An expired session (a broker with 1 s sessions; the cookie is sent by hand, curl drops expired ones).
start s --trust-sim "$tmp/sim" --kbs-session-seconds 1 || exit 1
"$tool" keygen ec "$tmp/e.pem" "$tmp/e.jwk"
kbs_auth "$s_url" "$tmp/e.jar" sgx >/dev/null; nonce=$(jq -r .nonce "$tmp/out")
evidence sgx "$nonce" "$tmp/e.jwk" "$tmp/e.ev"; "$tool" attest-body "$nonce" "$tmp/e.jwk" sgx "$tmp/e.ev" > "$tmp/e.body"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST "$s_url/kbs/v0/resource/cocoon/test/one")
kerr 401 "$code" AdminAuthAccess "admin API without --admin-key answers 401"
sid=$(awk '$6=="kbs-session-id"{print $7}' "$tmp/e.jar")
sleep 2
code=$(curl -s -H "Cookie: kbs-session-id=$sid" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/e.body" "$s_url/kbs/v0/attest")
kerr 401 "$code" TokenNotFound "expired session" "expired"

# 7. Simulated evidence without --trust-sim is refused.
start n || exit 1
"$tool" keygen ec "$tmp/n.pem" "$tmp/n.jwk"
kbs_auth "$n_url" "$tmp/n.jar" sgx >/dev/null; nonce=$(jq -r .nonce "$tmp/out")
evidence sgx "$nonce" "$tmp/n.jwk" "$tmp/n.ev"; "$tool" attest-body "$nonce" "$tmp/n.jwk" sgx "$tmp/n.ev" > "$tmp/n.body"
code=$(curl -s -b "$tmp/n.jar" -o "$tmp/out" -w '%{http_code}' --data-binary "@$tmp/n.body" "$n_url/kbs/v0/attest")
kerr 401 "$code" AttestationError "simulated evidence without --trust-sim"

# 8. Two processes on one SQLite file: auth on a, attest on b, the resource from either.
start b --trust-sim "$tmp/sim" --database "sqlite:$tmp/a-data/attestd.db" --secret-key "$tmp/a-data/kek" || exit 1
code=$(handshake "$a_url" snp ec two "$b_url")
expect "auth on a, attest on b" 200 "$code"
for u in "$a_url" "$b_url"; do
  code=$(get "$u" two cocoon/test/one)
  [ "$code" = 200 ] && "$tool" dec-pem "$tmp/two.pem" "$tmp/out" | cmp -s - "$tmp/one" && ok || bad "resource from $u: $code $(cat "$tmp/out")"
done

# 9. Plain HTTP on a non-loopback address: the broker is off unless --insecure-http.
start w --listen 0.0.0.0:0 || exit 1
grep -q 'key broker (/kbs/v0) is OFF' "$w_log" && ok || bad "plain HTTP on 0.0.0.0 must switch the broker off loudly"
code=$(kbs_auth "$w_url" "$tmp/w.jar" sgx)
kerr 404 "$code" InvalidRequestPath "broker off on plain non-loopback HTTP" "insecure-http"
start i --listen 0.0.0.0:0 --insecure-http || exit 1
grep -q 'INSECURE: --insecure-http' "$i_log" && ok || bad "--insecure-http must be logged loudly"
code=$(kbs_auth "$i_url" "$tmp/i.jar" sgx)
expect "broker on with --insecure-http" 200 "$code"

# Never a secret in a log.
! grep -q 'first secret\|forbidden secret' "$tmp"/*.log && ok || bad "a secret reached a log"
finish
