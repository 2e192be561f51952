#!/usr/bin/env bash
# An independent KBS guest in JavaScript (tests/kbs/js/client.mjs: jose + canonicalize,
# written from docs/kbs.md, no code shared with the server) against cocoon-attestd's
# broker: EC and RSA handshakes over simulated SGX/TDX evidence, the EAR, the JWE, the
# RFC 8785 vectors and the refusals. This script only starts attestd and stores the
# resources and the policy through the admin API; the packages come from
# tests/kbs/npm-install.sh (CI) in $COCOON_KBS_NPM_DIR (default build/kbs-npm).
# usage: test_js_client.sh PATH/TO/kbs_tool
. "${COCOON_SOURCE_DIR:?}/tests/attestd/lib.sh"
tool=${1:?usage: test_js_client.sh PATH/TO/kbs_tool}
npm_dir=${COCOON_KBS_NPM_DIR:-$COCOON_SOURCE_DIR/build/kbs-npm}
if ! command -v node >/dev/null; then echo "SKIP: node is not installed"; exit 77; fi
for p in jose canonicalize; do
  if [ ! -f "$npm_dir/node_modules/$p/package.json" ]; then
    echo "SKIP: npm package $p is not in $npm_dir; run tests/kbs/npm-install.sh DIR and set COCOON_KBS_NPM_DIR=DIR"
    exit 77
  fi
done

"$cocoon" sim init "$tmp/sim" 2>/dev/null || { echo "cocoon sim init failed"; exit 1; }
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
start a --trust-sim "$tmp/sim" --admin-key "$tmp/admin.pub" || exit 1
jwt=$("$tool" admin-jwt "$tmp/admin.pem")
. "$COCOON_SOURCE_DIR/tests/kbs/kbs_lib.sh"

printf 'first secret \x00\xff from the admin' > "$tmp/one"; printf 'forbidden secret' > "$tmp/forb"
expect "store cocoon/test/one" 200 "$(adm POST "$a_url/kbs/v0/resource/cocoon/test/one" --data-binary "@$tmp/one")"
expect "store cocoon/test/forbidden" 200 "$(adm POST "$a_url/kbs/v0/resource/cocoon/test/forbidden" --data-binary "@$tmp/forb")"
printf '%s' 'version=1.0; authorizationrules { [type=="kbs-resource-path", value=="cocoon/test/forbidden"] => deny(); => permit(); };' > "$tmp/pol"
expect "set the resource policy" 200 "$(adm POST "$a_url/kbs/v0/resource-policy" --data-binary "@$tmp/pol")"

COCOON_KBS_NPM_DIR=$npm_dir timeout 120 node "$COCOON_SOURCE_DIR/tests/kbs/js/client.mjs" "$a_url" "$cocoon" "$tmp/sim" "$tmp/one" \
  > "$tmp/js.out" 2>&1; rc=$?
cat "$tmp/js.out"
[ $rc -eq 0 ] && ok || bad "the JS client failed (rc $rc)"
! grep -q 'first secret\|forbidden secret' "$tmp"/*.log && ok || bad "a secret reached a log"
finish
