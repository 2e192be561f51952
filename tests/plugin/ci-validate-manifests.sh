#!/usr/bin/env bash
# Validates every manifest in deploy/kubernetes offline against the
# Kubernetes schemas (kubectl --dry-run=client needs an API server):
# cocoon.yaml, the Helm chart's default rendering (tests/helm/test_chart.sh
# checks that it is current and validates every values profile), the
# namespace and the sample workloads. The npm
# packages go into a temporary folder, never into the repository. A broken
# manifest is validated first, so a validator that accepts anything fails CI.
# Usage: tests/plugin/ci-validate-manifests.sh   (from .ci/run; needs node and npm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Pinned versions, so that a new release cannot change the verdict under us.
npm install --prefix "$work" --no-audit --no-fund --no-save --loglevel=error \
  kubernetes-models@4.5.1 @kubernetes/client-node@2.0.1 yaml@2.9.1 >/dev/null
modules="$work/node_modules"

cat >"$work/broken.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: broken
spec:
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers:
        - name: c
          image: busybox
          imagePullPolicyy: Always
          resources:
            limits:
              memory: 12 parsecs
YAML
if out=$(node "$here/validate-manifests.mjs" "$modules" "$work/broken.yaml"); then
  echo "validate-manifests: the validator accepted a broken manifest:" >&2
  echo "$out" >&2
  exit 1
fi
grep -q "imagePullPolicyy: unknown field" <<<"$out" && grep -q "limits/memory" <<<"$out" || {
  echo "validate-manifests: the broken manifest failed for the wrong reasons:" >&2
  echo "$out" >&2
  exit 1
}

node "$here/validate-manifests.mjs" "$modules" "$repo"/deploy/kubernetes/*.yaml
