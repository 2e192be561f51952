#!/usr/bin/env bash
# Installs the npm packages tests/attestd/test_npm.sh needs (@azure/attestation and
# its dependencies) into DIR, outside the source tree; nothing here is committed.
# Usage: tests/attestd/npm-install.sh [DIR]   (default: $COCOON_ATTESTD_NPM_DIR or build/attestd-npm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${COCOON_ATTESTD_NPM_DIR:-$here/../../build/attestd-npm}}
command -v npm >/dev/null || { echo "npm-install.sh: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
cp "$here/npm/package.json" "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error
echo "npm-install.sh: @azure/attestation installed in $dir"
