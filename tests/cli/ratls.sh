#!/usr/bin/env bash
# RA-TLS through the real binary: `cocoon ratls make` with sim evidence for SGX, TDX and SNP
# (tagged, and tagged + Gramine legacy) checked by `cocoon verify --ratls` with and without
# collateral; OpenSSL reads the certificates and sees Gramine's OIDs; an attacker certificate
# made by the openssl CLI (own key, the victim's extension) is refused with ratls_binding;
# the published interop certificates; `cocoon policy-digest` and a HOST_DATA policy.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:?}}
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # expect CODE JQ -- ARGS (of cocoon verify --json)
  local code=$1 filter=$2; shift 3
  local out rc
  out=$("$bin" verify --json "$@" 2>"$tmp/err"); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code) for: $*"; cat "$tmp/err"; echo "$out"; return; fi
  if [ -n "$filter" ] && ! echo "$out" | jq -e "$filter" >/dev/null; then bad "jq '$filter' failed for: $*"; echo "$out"; return; fi
  ok
}

"$bin" sim init "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
for tee in sgx tdx snp; do
  for legacy in "" --legacy; do
    c="$tmp/$tee$legacy.pem" k="$tmp/$tee$legacy.key"
    if ! "$bin" ratls make --key-out "$k" --cert-out "$c" --provider sim --sim-dir "$tmp/sim" --tee "$tee" $legacy 2>"$tmp/err"; then
      bad "ratls make $tee $legacy"; cat "$tmp/err"; continue
    fi
    [ "$(stat -c %a "$k")" = 600 ] && ok || bad "$k is not mode 0600"
    # The key is the certificate's key.
    [ "$(openssl pkey -in "$k" -pubout 2>/dev/null)" = "$(openssl x509 -in "$c" -noout -pubkey)" ] && ok || bad "key/cert mismatch ($tee)"
    openssl x509 -in "$c" -noout -text | grep -q "2.23.133.5.4.9" && ok || bad "OpenSSL does not see the tagged extension ($tee)"
    want_legacy=absent
    if [ -n "$legacy" ]; then
      want_legacy=holds
      # OpenSSL prints Gramine's malformed legacy OID exactly as it prints Gramine's own certificate.
      openssl x509 -in "$c" -noout -text | grep -q "0.6.9.42.840.113741.1337.6" && ok || bad "no Gramine legacy OID ($tee)"
    fi
    expect 0 '.accepted and .binding_ok and .evidence_verified and .tee=="'$tee'" and .form=="tagged" and .bindings.tagged=="holds" and .bindings.gramine_legacy=="'$want_legacy'" and .evidence.verdict=="accept" and .evidence.simulated' -- --ratls "$c" --trust-sim "$tmp/sim"
    # No collateral: the binding is checked and reported, the evidence is said to be unverified.
    expect 4 '(.accepted|not) and .binding_ok and (.evidence_verified|not) and .failed_check=="collateral" and (.reason|test("unverified"))' -- --ratls "$c"
    # The simulation root is not trusted by default.
    if [ "$tee" != snp ]; then
      expect 1 '(.accepted|not) and .binding_ok and .evidence_verified and .evidence.failed_check=="simulation_root"' -- --ratls "$c" --collateral "$tmp/sim/intel/collateral-$tee.json"
    fi
  done
done
# A real TLS handshake: openssl s_server presents the RA-TLS key and certificate, s_client
# fetches it, and the certificate the peer presented verifies.
: > "$tmp/peer.pem"
for attempt in 1 2 3; do # a random port may be taken: try another
  port=$((20000 + RANDOM % 20000))
  openssl s_server -accept "127.0.0.1:$port" -key "$tmp/snp--legacy.key" -cert "$tmp/snp--legacy.pem" -naccept 1 \
    -quiet >/dev/null 2>"$tmp/server.err" &
  server=$!
  for _ in $(seq 50); do
    kill -0 "$server" 2>/dev/null || break
    openssl s_client -connect "127.0.0.1:$port" -showcerts </dev/null 2>/dev/null |
      sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' > "$tmp/peer.pem"
    [ -s "$tmp/peer.pem" ] && break
    sleep 0.1
  done
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  [ -s "$tmp/peer.pem" ] && break
done
if [ -s "$tmp/peer.pem" ]; then
  expect 0 '.accepted and .tee=="snp" and .bindings.gramine_legacy=="holds"' -- --ratls "$tmp/peer.pem" --trust-sim "$tmp/sim"
else
  bad "no certificate from openssl s_server on port $port"; cat "$tmp/server.err"
fi
# DER works as well as PEM.
openssl x509 -in "$tmp/sgx.pem" -outform DER -out "$tmp/sgx.der"
# Gramine's parser (find_oid_in_cert_extensions) looks for the OID bytes followed directly by a
# non-critical OCTET STRING with a two-byte length: 04 82 LL LL.
openssl x509 -in "$tmp/sgx--legacy.pem" -outform DER | xxd -p | tr -d '\n' > "$tmp/legacy.hex"
grep -q '06066781050504090482' "$tmp/legacy.hex" && ok || bad "tagged extension not in the layout Gramine's parser reads"
grep -q '06092a864886f84d8a39060482' "$tmp/legacy.hex" && ok || bad "legacy extension not in the layout Gramine's parser reads"
expect 0 '.accepted' -- --ratls "$tmp/sgx.der" --trust-sim "$tmp/sim"

# An attacker's certificate: their own key, the victim's tagged extension copied by the openssl CLI.
ext_hex() { "$py" - "$1" "$2" <<'EOF'
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
for e in c.extensions:
    if e.oid.dotted_string == sys.argv[2]:
        print(e.value.value.hex().upper())
EOF
}
if "$py" -c 'import cryptography' 2>/dev/null; then
  for tee in sgx snp; do
    hex=$(ext_hex "$tmp/$tee.pem" 2.23.133.5.4.9)
    openssl ecparam -name secp384r1 -genkey -noout -out "$tmp/att.key" 2>/dev/null
    if openssl req -x509 -new -key "$tmp/att.key" -subj "/CN=attacker" -days 1 \
         -addext "2.23.133.5.4.9=DER:$hex" -out "$tmp/att.pem" 2>"$tmp/err"; then
      expect 1 '(.accepted|not) and (.binding_ok|not) and .failed_check=="ratls_binding" and .bindings.tagged=="broken" and (.reason|test("pubkey-hash"))' -- --ratls "$tmp/att.pem" --trust-sim "$tmp/sim"
      expect 1 '.failed_check=="ratls_binding"' -- --ratls "$tmp/att.pem"
    else
      bad "openssl could not make the attacker certificate"; cat "$tmp/err"
    fi
  done
else
  echo "SKIP: python3-cryptography is missing: the openssl-made attacker certificate is not tested"
fi

# Freshness: a nonce claim written by make must be the one the verifier expects.
"$bin" ratls make --key-out "$tmp/n.key" --cert-out "$tmp/n.pem" --provider sim --sim-dir "$tmp/sim" --nonce 0a0b0c 2>/dev/null
expect 0 '.accepted and .nonce=="0a0b0c"' -- --ratls "$tmp/n.pem" --trust-sim "$tmp/sim" --nonce 0a0b0c
expect 1 '.failed_check=="ratls_binding" and (.reason|test("nonce"))' -- --ratls "$tmp/n.pem" --trust-sim "$tmp/sim" --nonce 0a0b0d

# Refusals with their check.
expect 1 '.failed_check=="ratls_certificate"' -- --ratls /etc/hostname
expect 1 '.failed_check=="ratls_validity" and .binding_ok' -- --ratls "$tmp/sgx.pem" --trust-sim "$tmp/sim" --at 2099-01-01T00:00:00Z
openssl req -x509 -new -key "$tmp/sgx.key" -subj "/CN=plain" -days 1 -out "$tmp/plain.pem" 2>/dev/null
expect 1 '.failed_check=="ratls_extension"' -- --ratls "$tmp/plain.pem"
expect 2 '' -- --ratls "$tmp/sgx.pem" --evidence "$tmp/sgx.pem"
"$bin" ratls make --cert-out "$tmp/x.pem" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "ratls make without --key-out must exit 2"
"$bin" ratls make --key-out "$tmp/x.key" --cert-out "$tmp/x.pem" --provider sim --sim-dir "$tmp/nowhere" >/dev/null 2>&1
[ $? -eq 3 ] && ok || bad "ratls make with a missing sim dir must exit 3"

# ACI policy binding: HOST_DATA = SHA-256 of the policy text (base64 form decoded first).
printf 'package policy\nallow := true\n' > "$tmp/policy.rego"
want=$(sha256sum "$tmp/policy.rego" | cut -d' ' -f1)
[ "$("$bin" policy-digest "$tmp/policy.rego")" = "$want" ] && ok || bad "policy-digest of the text"
base64 -w0 "$tmp/policy.rego" > "$tmp/policy.b64"
[ "$("$bin" policy-digest --base64 "$tmp/policy.b64")" = "$want" ] && ok || bad "policy-digest --base64"
"$bin" policy-digest "$tmp/none" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "policy-digest of a missing file must exit 2"
# The SNP appraisal requires that HOST_DATA: the simulated report's is zero, so it is refused; zeros pass.
echo '{"host_data":"'"$want"'"}' > "$tmp/hd.json"
expect 1 '.failed_check=="snp_host_data" and (.reason|test("'"$want"'"))' -- --ratls "$tmp/snp.pem" --trust-sim "$tmp/sim" --policy "$tmp/hd.json"
echo '{"host_data":"'"$(printf '%064d' 0)"'"}' > "$tmp/hd0.json"
expect 0 '.accepted' -- --ratls "$tmp/snp.pem" --trust-sim "$tmp/sim" --policy "$tmp/hd0.json"

# The published interop certificates (no collateral for their quotes: exit 4 when the binding holds).
if [ -f "$vectors/ratls/gramine-cert.pem" ]; then
  v=$vectors/ratls
  expect 4 '.bindings.tagged=="holds" and .bindings.gramine_legacy=="holds" and .form=="tagged" and .tee=="sgx" and .key=="EC P-384"' -- --ratls "$v/gramine-cert.pem"
  expect 1 '.failed_check=="ratls_validity" and .binding_ok' -- --ratls "$v/rats-tls-cert.pem"
  expect 4 '.bindings.tagged=="holds" and .other_claims==2 and .key=="EC P-256"' -- --ratls "$v/rats-tls-cert.pem" --at 2023-06-01T00:00:00Z
  expect 4 '.bindings.tagged=="holds" and .bindings.intel_sgxsdk=="holds" and .form=="tagged"' -- --ratls "$v/intel-sgxsdk-cert.pem"
else
  echo "SKIP: interop certificates not found at $vectors/ratls (set COCOON_VECTORS)"
fi

echo "ratls: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
