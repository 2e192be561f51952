#!/usr/bin/env bash
# Installs the npm packages tests/webhook/test_*.sh need (fast-json-patch, kubernetes-models,
# @kubernetes/client-node, yaml: pinned) into DIR, outside the source tree; nothing here is committed.
# Usage: tests/webhook/npm-install.sh [DIR]   (default: $COCOON_WEBHOOK_NPM_DIR or build/webhook-npm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${COCOON_WEBHOOK_NPM_DIR:-$here/../../build/webhook-npm}}
command -v npm >/dev/null || { echo "npm-install.sh: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
cp "$here/npm/package.json" "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-package-lock --loglevel=error
echo "npm-install.sh: webhook test packages installed in $dir"
