#!/usr/bin/env bash
# Regenerates deploy/kubernetes/cocoon.yaml, the chart's default rendering (for kubectl apply
# without Helm), with the helm that tests/helm/helm-install.sh installs. test_chart.sh fails
# when the file and the chart disagree.
# Usage: tests/helm/render-default.sh [HELM_DIR]   (default: $COCOON_HELM_DIR or build/helm-tools)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${COCOON_HELM_DIR:-$repo/build/helm-tools}}
[ -x "$dir/bin/helm" ] || "$repo/tests/helm/helm-install.sh" "$dir"
{
  echo '# cocoon for kubectl apply: the Helm chart deploy/helm/cocoon rendered with its default values.'
  echo '# Generated, do not edit: change the chart, then run tests/helm/render-default.sh.'
  "$dir/bin/helm" template cocoon "$repo/deploy/helm/cocoon" --namespace cocoon-system
} > "$repo/deploy/kubernetes/cocoon.yaml"
echo "render-default.sh: wrote deploy/kubernetes/cocoon.yaml"
