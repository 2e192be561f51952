#!/usr/bin/env bash
# The real @azure/attestation npm client against cocoon-attestd: attestSgxEnclave with
# runtime data over loopback HTTP (allowInsecureConnection), token validation through
# /certs, and the admin policy calls over HTTPS with a CA made here. The packages are
# installed by tests/attestd/npm-install.sh (CI) into $COCOON_ATTESTD_NPM_DIR.
. "$(dirname "$0")/lib.sh"
npm_dir=${COCOON_ATTESTD_NPM_DIR:-${COCOON_NPM_DIR:-}}
if ! command -v node >/dev/null; then echo "SKIP: node is not installed"; exit 77; fi
if [ -z "$npm_dir" ] || [ ! -f "$npm_dir/node_modules/@azure/attestation/package.json" ]; then
  echo "SKIP: @azure/attestation is not installed; run tests/attestd/npm-install.sh DIR and set COCOON_ATTESTD_NPM_DIR=DIR"
  exit 77
fi
export COCOON_NPM_MODULES="$npm_dir/node_modules"
client="$(cd "$(dirname "$0")" && pwd)/npm/client.mjs"

"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
rt='enclave public key 0123456789'
rd=$(printf '%s' "$rt" | sha256sum | cut -c1-64)
"$cocoon" sim quote --tee sgx --report-data "$rd" --mrenclave "$(printf '%064x' 0xfeed)" --isv-prod-id 7 --isv-svn 2 \
  -o "$tmp/q.bin" "$tmp/sim"

# 1. attestSgxEnclave over plain HTTP on loopback.
start h --trust-sim "$tmp/sim" || exit 1
timeout 60 node "$client" attest "$h_url" "$tmp/q.bin" "$rt" > "$tmp/h.json" 2>"$tmp/node.err"; rc=$?
[ $rc -eq 0 ] && ok || { bad "npm attestSgxEnclave (rc $rc): $(cat "$tmp/h.json" "$tmp/node.err")"; }
jq -e --arg mre "$(printf '%064x' 0xfeed)" --arg rt "$rt" --arg u "$h_url" '
  .mrEnclave==$mre and .productId==7 and .svn==2 and .isDebuggable==false and .enclaveHeldData==$rt and
  .issuer==$u and .policyHashLength==32 and .tokenAlgorithm=="RS256" and .signers==1 and .signerKeyId==.keyId and
  .jwksUri==($u+"/certs") and .mismatch.status==400 and .mismatch.code=="InvalidParameter" and
  (.mismatch.message|test("runtimeData does not match"))' "$tmp/h.json" >/dev/null && ok || bad "npm attest result: $(cat "$tmp/h.json")"

# 2. The admin client needs HTTPS: a test CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=cocoon test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/tls.key" \
  -out "$tmp/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$tmp/ext.cnf"
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext.cnf" -out "$tmp/tls.pem" 2>/dev/null
admin=$(openssl rand -hex 24); echo "$admin" > "$tmp/admin"
start t --trust-sim "$tmp/sim" --tls-cert "$tmp/tls.pem" --tls-key "$tmp/tls.key" --admin-token-file "$tmp/admin" || exit 1
case "$t_url" in https://*) ok ;; *) bad "TLS listener must be https: $t_url" ;; esac
curl -s --cacert "$tmp/ca.pem" "$t_url/certs" | jq -e '.keys[0].kid' >/dev/null && ok || bad "GET /certs over TLS"
curl -s -o /dev/null "${t_url/https/http}/certs" && bad "plain HTTP to the TLS port must fail" || ok
NODE_EXTRA_CA_CERTS="$tmp/ca.pem" timeout 60 node "$client" admin "$t_url" "$tmp/q.bin" "$admin" > "$tmp/t.json" 2>"$tmp/node.err"; rc=$?
[ $rc -eq 0 ] && ok || bad "npm admin client (rc $rc): $(cat "$tmp/t.json" "$tmp/node.err")"
jq -e '.setResolution=="Updated" and .getMatches==true and .denied.status==401 and .denied.code=="PolicyDenied" and
  (.denied.message|test("line 3")) and .resetResolution=="Removed" and .hashBefore==.hashAfter and
  .wrongToken.status==401' "$tmp/t.json" >/dev/null && ok || bad "npm admin result: $(cat "$tmp/t.json")"
finish
