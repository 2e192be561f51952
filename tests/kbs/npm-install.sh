#!/usr/bin/env bash
# Installs the npm packages tests/kbs/test_js_client.sh needs (jose, canonicalize; pinned in
# tests/kbs/npm/package.json) into DIR, outside the source tree; nothing here is committed.
# Usage: tests/kbs/npm-install.sh [DIR]   (default: $COCOON_KBS_NPM_DIR or build/kbs-npm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${COCOON_KBS_NPM_DIR:-$here/../../build/kbs-npm}}
command -v npm >/dev/null || { echo "npm-install.sh: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
cp "$here/npm/package.json" "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error
echo "npm-install.sh: jose and canonicalize installed in $dir"
