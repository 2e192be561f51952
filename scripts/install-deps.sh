#!/usr/bin/env bash
# Installs the Debian packages cocoon needs to build and test, only when one is missing.
# Usage: scripts/install-deps.sh [build|test|ci]
set -euo pipefail
mode=${1:-build}
pkgs=(build-essential cmake pkg-config libssl-dev libjansson-dev openssl)
case "$mode" in
  build) ;;
  test) pkgs+=(libcmocka-dev jq xxd) ;;
  ci) pkgs+=(libcmocka-dev jq xxd clang libclang-rt-14-dev) ;;
  *) echo "install-deps.sh: unknown mode '$mode' (expected build, test or ci)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
