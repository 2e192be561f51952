#!/usr/bin/env bash
# Policy administration with curl: PUT (unsigned and RS256-signed JWS uploads), GET,
# :reset, x-ms-policy-hash following the stored policy, syntax errors with line:column,
# bad signatures, the admin bearer token, and policy history in the database.
. "$(dirname "$0")/lib.sh"
"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
"$cocoon" sim quote --tee sgx --report-data 00 --isv-prod-id 9 -o "$tmp/q.bin" "$tmp/sim"
printf '{"quote":"%s"}' "$(b64url_file "$tmp/q.bin")" > "$tmp/q.json"
admin=$(openssl rand -hex 24); echo "$admin" > "$tmp/admin"
start p --trust-sim "$tmp/sim" --admin-token-file "$tmp/admin" || exit 1
auth=(-H "Authorization: Bearer $admin")

# MAA's x-ms-policy-hash: BASE64URL(SHA256(BASE64URL(policy text))).
policy_hash() { printf '%s' "$(printf '%s' "$1" | b64url)" | openssl dgst -sha256 -binary | b64url; }
# An unsigned policy upload: {"alg":"none"}.{"AttestationPolicy": base64url(text)}.
unsigned_jws() { printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"AttestationPolicy":"%s"}' "$(printf '%s' "$1" | b64url)" | b64url)"; }
put() { curl -s -o "$tmp/out" -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' --data-binary "$2" "${auth[@]}" "$p_url/policies/$1?api-version=2022-08-01"; }
token_hash() { post "$p_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/q.json" >/dev/null; claims "$tmp/out" | jq -r '.["x-ms-policy-hash"]'; }

default_hash=$(token_hash)
[ "$(curl -s -X POST "$p_url/policies/SgxEnclave:reset" -o /dev/null -w '%{http_code}')" = 401 ] && ok || bad "reset without a token must be 401"
pol='version=1.1;
authorizationrules {
  [type=="x-ms-sgx-product-id", value==9] => permit();
};
issuancerules {
  c:[type=="x-ms-sgx-svn"] => issue(type="custom-svn", value=c.value);
};'
code=$(put SgxEnclave "$(unsigned_jws "$pol")")
expect "PUT unsigned policy" 200 "$code" '.token|test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")'
claims "$tmp/out" | jq -e '.["x-ms-policy-result"]=="Updated" and (.["x-ms-policy-token-hash"]|length)==43' >/dev/null \
  && ok || bad "PUT result claims"
new_hash=$(token_hash)
[ "$new_hash" = "$(policy_hash "$pol")" ] && [ "$new_hash" != "$default_hash" ] && ok \
  || bad "x-ms-policy-hash must follow the stored policy ($new_hash vs $(policy_hash "$pol"), default $default_hash)"
claims "$tmp/out" | jq -e '.["custom-svn"]==0' >/dev/null && ok || bad "the stored policy's issuance rules must apply"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "${auth[@]}" "$p_url/policies/SgxEnclave?api-version=2022-08-01")
expect "GET policy" 200 "$code"
got=$(claims "$tmp/out" | jq -r '.["x-ms-policy"]' | cut -d. -f2 | b64url_decode | jq -r .AttestationPolicy | b64url_decode)
[ "$got" = "$pol" ] && ok || bad "GET must return the stored text: $got"

# A policy that no longer permits product 9: 401 naming the rule.
deny='version=1.0;
authorizationrules {
  => permit();
  c:[type=="x-ms-sgx-product-id", value>=9] => deny();
};'
code=$(put sgxenclave "$(unsigned_jws "$deny")")
expect "PUT (type names are case-insensitive)" 200 "$code"
code=$(post "$p_url/attest/SgxEnclave?api-version=2022-08-01" "$tmp/q.json")
expect "denied by the stored policy" 401 "$code" '.error.code=="PolicyDenied" and (.error.message|test("rule at line 4: c:\\[type==\"x-ms-sgx-product-id\", value>=9\\] => deny\\(\\);"))'

# Syntax errors name line and column; nothing is stored.
code=$(put SgxEnclave "$(unsigned_jws 'version=1.0;
authorizationrules {
  [type=="x" value==1] => permit();
};')")
expect "policy syntax error" 400 "$code" '.error.message|test("^policy:3:14: ")'
code=$(put SgxEnclave "not-a-jws")
expect "PUT garbage" 400 "$code" '.error.message|test("JWS")'
code=$(put Tpm "$(unsigned_jws "$pol")")
expect "unsupported type" 400 "$code" '.error.message|test("Tpm")'

# RS256-signed upload: verified with the x5c certificate it carries; a forged signature is refused.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=policy signer" -keyout "$tmp/s.key" -out "$tmp/s.pem" 2>/dev/null
x5c=$(openssl x509 -in "$tmp/s.pem" -outform der | base64 -w0)
h=$(printf '{"alg":"RS256","x5c":["%s"]}' "$x5c" | b64url)
pl=$(printf '{"AttestationPolicy":"%s"}' "$(printf '%s' "$pol" | b64url)" | b64url)
sig=$(printf '%s.%s' "$h" "$pl" | openssl dgst -sha256 -sign "$tmp/s.key" -binary | b64url)
code=$(put SgxEnclave "$h.$pl.$sig")
expect "signed policy" 200 "$code"
claims "$tmp/out" | jq -e --arg x "$x5c" '.["x-ms-policy-signer"].x5c[0]==$x' >/dev/null && ok || bad "x-ms-policy-signer"
pl2=$(printf '{"AttestationPolicy":"%s"}' "$(printf '%s' "$deny" | b64url)" | b64url)
code=$(put SgxEnclave "$h.$pl2.$sig")
expect "signature over other content" 401 "$code" '.error.code=="InvalidSignature"'

# :reset returns to the default policy and its hash; every change is kept as history.
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data-binary 'eyJhbGciOiJub25lIn0..' \
  "${auth[@]}" "$p_url/policies/SgxEnclave:reset?api-version=2022-08-01")
expect "reset" 200 "$code"
claims "$tmp/out" | jq -e '.["x-ms-policy-result"]=="Removed"' >/dev/null && ok || bad "reset result"
[ "$(token_hash)" = "$default_hash" ] && ok || bad "reset must restore the default policy hash"
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 "$tmp/p-data/attestd.db" "select count(*) from policies where type='SgxEnclave'")" = 4 ] && ok \
    || bad "policy history must keep every change"
fi
finish
