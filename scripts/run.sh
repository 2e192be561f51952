#!/usr/bin/env bash
# The main job on embedded defaults: verify the real hardware vectors with the
# built-in roots (at a time inside each DCAP vector's collateral window) and
# print the verdicts and claims, then run the attestation service,
# cocoon-attestd, with no configuration: HTTP on 127.0.0.1:8080, state in
# build/attestd-data. Point COCOON_VECTORS at another copy of the vectors;
# COCOON_RUN_SERVICE=0 stops after the vectors.
set -uo pipefail
bin=${1:-build/bin}
here=$(cd "$(dirname "$0")/.." && pwd)
vectors=${COCOON_VECTORS:-$here/../shared/vectors}
if [ ! -d "$vectors" ]; then
  echo "run: no vectors at $vectors; set COCOON_VECTORS to the directory holding sgx/, tdx/ and snp/" >&2
  echo "run: skipping the vectors" >&2
  vectors=""
fi
status=0
run() {
  local title=$1; shift
  echo "=== $title"
  echo "\$ cocoon $*"
  "$bin/cocoon" "$@"
  local rc=$?
  echo "(exit $rc)"
  echo
  return 0
}
if [ -n "$vectors" ]; then
  # Pinned times: one second before the earliest nextUpdate in each collateral set.
  run "Intel SGX quote v3 (Phala dcap-qvl sample)" verify --evidence "$vectors/sgx/quote.bin" \
    --collateral "$vectors/sgx/collateral.json" --at 2025-07-19T10:01:17Z
  run "Intel TDX quote v4 (Phala dcap-qvl sample)" verify --evidence "$vectors/tdx/quote.bin" \
    --collateral "$vectors/tdx/collateral.json" --at 2025-07-19T10:00:34Z
  run "Intel TDX quote v5, outdated platform" verify --evidence "$vectors/tdx/quote-outdated.bin" \
    --collateral "$vectors/tdx/collateral-outdated.json" --at 2026-03-20T10:41:14Z
  run "AMD SEV-SNP report v2, Milan (go-sev-guest sample; a debug guest): default policy" verify \
    --evidence "$vectors/snp/report.bin" --vcek "$vectors/snp/vcek.der"
  run "AMD SEV-SNP report v2, Milan, with --allow-debug" verify --evidence "$vectors/snp/report.bin" \
    --vcek "$vectors/snp/vcek.der" --allow-debug
fi

[ "${COCOON_RUN_SERVICE:-1}" = 0 ] && exit $status
data=${COCOON_RUN_DATA:-$here/build/attestd-data}
echo "=== cocoon-attestd on http://127.0.0.1:8080 (state in $data; Ctrl-C stops it)"
echo "    try: curl -s http://127.0.0.1:8080/.well-known/openid-configuration"
echo "         curl -s http://127.0.0.1:8080/certs"
echo "    key broker (Trustee KBS 0.4.0): http://127.0.0.1:8080/kbs/v0/ (docs/kbs.md; admin needs --admin-key)"
echo "         curl -s -d '{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":\"\"}' http://127.0.0.1:8080/kbs/v0/auth"
exec "$bin/cocoon-attestd" --data-dir "$data"
