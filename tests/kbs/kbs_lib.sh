# Helpers for the key broker tests (tests/kbs/test_*.sh), on top of tests/attestd/lib.sh:
# admin requests, the RCAR handshake with kbs_tool and simulated evidence, error checks.
# Needs: $tool (kbs_tool), $jwt (an admin JWT), $tmp/sim (cocoon sim init).
E=https://github.com/confidential-containers/kbs/errors/

# adm METHOD URL [curl args]: an admin request with the admin JWT; prints the status.
adm() { local m=$1 u=$2; shift 2; curl -s -o "$tmp/out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer ${AJ:-$jwt}" "$@" "$u"; }
# kbs_auth URL JAR TEE [VERSION]: the Request; the Challenge goes to $tmp/out, the cookie to JAR.
kbs_auth() {
  curl -s -c "$2" -o "$tmp/out" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"version\":\"${4:-0.4.0}\",\"tee\":\"$3\",\"extra-params\":\"\"}" "$1/kbs/v0/auth"
}
# evidence TEE NONCE PUB.jwk OUT: simulated evidence whose REPORT_DATA binds nonce and key.
evidence() {
  local rd; rd=$("$tool" rdhash "$2" "$3") || return 1
  case $1 in
    sgx) "$cocoon" sim quote --tee sgx --quote-version 3 --report-data "$rd" --mrenclave "$(printf '%064x' 0xabc)" -o "$4" "$tmp/sim" ;;
    tdx) "$cocoon" sim quote --tee tdx --report-data "$rd" --mrtd "$(printf '%096x' 0x1234)" -o "$4" "$tmp/sim" ;;
    snp) "$cocoon" sim snp-report --report-data "$rd" --measurement "$(printf '%096x' 0x77)" -o "$4" "$tmp/sim" ;;
  esac
}
# handshake URL TEE ec|rsa NAME [ATTEST-URL]: auth + attest; sets files $tmp/NAME.{jar,pem,jwk,token}; prints the attest status.
handshake() {
  local url=$1 tee=$2 kt=$3 n=$4 aurl=${5:-$1} nonce
  "$tool" keygen "$kt" "$tmp/$n.pem" "$tmp/$n.jwk" || return 1
  [ "$(kbs_auth "$url" "$tmp/$n.jar" "$tee")" = 200 ] || { echo "auth: $(cat "$tmp/out")" >&2; return 1; }
  nonce=$(jq -r .nonce "$tmp/out")
  evidence "$tee" "$nonce" "$tmp/$n.jwk" "$tmp/$n.ev" || return 1
  "$tool" attest-body "$nonce" "$tmp/$n.jwk" "$tee" "$tmp/$n.ev" > "$tmp/$n.body" || return 1
  curl -s -b "$tmp/$n.jar" -o "$tmp/$n.token" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$tmp/$n.body" "$aurl/kbs/v0/attest"
}
# get URL NAME PATH [curl args]: GET a resource with NAME's cookie; body in $tmp/out.
get() { local u=$1 n=$2 p=$3; shift 3; curl -s -b "$tmp/$n.jar" -o "$tmp/out" -w '%{http_code}' "$@" "$u/kbs/v0/resource/$p"; }
# kerr STATUS-WANT STATUS-GOT VARIANT DESC [detail regex]
kerr() {
  expect "$4" "$1" "$2" ".type==\"$E$3\" and (.detail|test(\"${5:-.}\"))"
}

