#!/usr/bin/env bash
# cocoon-webhook driven like the API server drives it: AdmissionReview v1 over HTTPS with
# the test CA pinned (node https with `ca`, curl --cacert). Each returned JSONPatch is
# applied by npm fast-json-patch and the admitted pods are validated offline against the
# Kubernetes schemas (tests/plugin/validate-manifests.mjs). Also: denials with reasons,
# idempotence, 4xx for malformed input while the webhook keeps serving, /healthz,
# /metrics, certificate reload, and the documented exit codes.
set -uo pipefail
bin=${COCOON_BIN:?COCOON_BIN must point at the build bin directory}
src=${COCOON_SOURCE_DIR:?COCOON_SOURCE_DIR must point at the source tree}
here="$src/tests/webhook"
for tool in curl jq openssl node; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
. "$here/npm-env.sh" || exit $?
tmp=$(mktemp -d)
pid=""
pass=0 fail=0
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESC FILE JQ-FILTER
  if jq -e "$3" "$2" >/dev/null 2>&1; then ok; else bad "$1: jq '$3' on $(head -c 1500 "$2")"; fi
}

# A CA, and a server certificate for 127.0.0.1 signed by it.
mkcert() { # mkcert NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=cocoon webhook test CA $1" \
    -keyout "$tmp/$1-ca.key" -out "$tmp/$1-ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cocoon-webhook" \
    -keyout "$tmp/$1.key" -out "$tmp/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$tmp/ext.cnf"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$1-ca.pem" -CAkey "$tmp/$1-ca.key" -CAcreateserial -days 2 \
    -extfile "$tmp/ext.cnf" -out "$tmp/$1.pem" 2>/dev/null
}
mkcert one
mkcert two
cp "$tmp/one.pem" "$tmp/tls.pem"
cp "$tmp/one.key" "$tmp/tls.key"

image=registry.example.com/cocoon:0.1.0
"$bin/cocoon-webhook" --listen 127.0.0.1:0 --tls-cert "$tmp/tls.pem" --tls-key "$tmp/tls.key" --image "$image" \
  --image-pull-policy IfNotPresent --reload-seconds 1 --max-body-bytes 65536 --drain-seconds 0 2>"$tmp/webhook.log" &
pid=$!
port=""
for _ in $(seq 1 400); do
  port=$(grep -o '"port":[0-9]*' "$tmp/webhook.log" 2>/dev/null | head -1 | cut -d: -f2)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$port" ] || { echo "cocoon-webhook did not start:"; cat "$tmp/webhook.log"; exit 1; }
url="https://127.0.0.1:$port"

# review POD.json OUT.json [operation]: wraps a pod in an AdmissionReview v1 as the API server sends it.
review() {
  jq --arg op "${3:-CREATE}" --arg uid "$(basename "$2" .json)-$RANDOM" '{apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview", request: {uid: $uid, kind: {group: "", version: "v1", kind: "Pod"},
    resource: {group: "", version: "v1", resource: "pods"}, requestKind: {group: "", version: "v1", kind: "Pod"},
    operation: $op, namespace: (.metadata.namespace // "default"), name: .metadata.name,
    userInfo: {username: "system:serviceaccount:default:deployer"}, object: ., oldObject: null, dryRun: false,
    options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}}}' "$1" > "$2"
}
mkdir -p "$tmp/in" "$tmp/out" "$tmp/in2"
for p in "$here"/pods/*.json; do review "$p" "$tmp/in/$(basename "$p")"; done
# kubectl debug on a confidential pod: an UPDATE of pods/ephemeralcontainers.
jq '.request.operation = "UPDATE" | .request.subResource = "ephemeralcontainers"' "$tmp/in/wrapped.json" > "$tmp/in/ephemeral.json"
node "$here/npm/client.mjs" "$url" "$tmp/one-ca.pem" "$tmp/out" "$tmp"/in/*.json 2>"$tmp/node.err" || {
  bad "node client: $(cat "$tmp/node.err")"; }
r() { echo "$tmp/out/$1.result.json"; }
p() { echo "$tmp/out/$1.pod.json"; }

# Every verdict: HTTP 200 and the request's uid echoed.
for f in "$tmp"/out/*.result.json; do check "$(basename "$f")" "$f" '.status == 200 and .uidEchoed == true'; done

# 1. A pod that does not opt in: allowed, no patch.
check plain "$(r plain)" '.allowed == true and .patch == null and .patchType == null'

# 2. An opted-in pod: the install init container first, each app container wrapped, args folded in.
check wrapped "$(r wrapped)" '.allowed == true and .patchType == "JSONPatch" and (.patch | length) > 0'
run='/cocoon/bin/cocoon-run'; cfg='/cocoon/config/launch.json'
check wrapped-init "$(p wrapped)" ".spec.initContainers[0].name == \"cocoon-install\" and
  .spec.initContainers[0].image == \"$image\" and .spec.initContainers[0].imagePullPolicy == \"IfNotPresent\" and
  .spec.initContainers[0].command == [\"/usr/local/bin/cocoon-run\", \"--install\", \"$run\"] and
  .spec.initContainers[0].securityContext.readOnlyRootFilesystem == true and
  .spec.initContainers[0].securityContext.capabilities.drop == [\"ALL\"] and
  .spec.initContainers[1].name == \"migrate\" and .spec.initContainers[1].command == [\"/migrate\"]"
check wrapped-app "$(p wrapped)" ".spec.containers[0].command == [\"$run\", \"--config\", \"$cfg\", \"--\", \"/app\",
  \"--flag\", \"arg one\", \"\$(X)\"] and (.spec.containers[0] | has(\"args\") | not) and
  .spec.containers[1].command == [\"$run\", \"--config\", \"$cfg\", \"--\", \"/side\"]"
check wrapped-mounts "$(p wrapped)" '.spec.containers[0].volumeMounts == [{name: "data", mountPath: "/data"},
  {name: "cocoon-bin", mountPath: "/cocoon/bin", readOnly: true},
  {name: "cocoon-config", mountPath: "/cocoon/config", readOnly: true}] and
  (.spec.containers[1].volumeMounts | map(.name)) == ["cocoon-bin", "cocoon-config"]'
check wrapped-volumes "$(p wrapped)" '(.spec.volumes | map(.name)) == ["data", "cocoon-config", "cocoon-bin"] and
  (.spec.volumes[] | select(.name == "cocoon-bin") | .emptyDir.medium == "Memory") and
  (.spec.volumes[] | select(.name == "cocoon-config") | .configMap ==
     {name: "wrapped-launch", items: [{key: "launch.json", path: "launch.json"}]})'
check wrapped-untouched "$(p wrapped)" '.metadata.annotations["example.com/owner"] == "team-a" and
  .spec.securityContext == {runAsNonRoot: true, runAsUser: 10001} and .spec.containers[0].env == [{name: "X", value: "1"}]'
check wrapped-ops "$(r wrapped)" '[.patch[].op] - ["add", "replace", "remove"] == []'

# 3. Fields the webhook does not know survive; an inline launch config becomes a downward-API file.
check unknown "$(p unknown)" '.spec.futureSpecField == {keep: [1, 2, 3]} and
  .spec.containers[0].futureContainerField == "keep me" and
  (.spec.volumes[] | select(.name == "cocoon-config") | .downwardAPI.items[0].fieldRef.fieldPath ==
     "metadata.annotations['"'"'cocoon.io/launch-config'"'"']")'

# 4. SGX: the EPC limit under a key with '/', so the patch path needs RFC 6901 escaping; the quote helper.
check sgx-patch "$(r sgx)" '[.patch[].path] | index("/spec/containers/0/resources/limits/kubernetes.azure.com~1sgx_epc_mem_in_MiB") != null'
check sgx "$(p sgx)" '.spec.containers[0].resources.limits == {memory: "256Mi", "kubernetes.azure.com/sgx_epc_mem_in_MiB": "16"} and
  .spec.containers[0].resources.requests == {cpu: "100m"} and
  (.spec.containers[0].env | index({name: "SGX_AESM_ADDR", value: "1"})) != null and
  (.spec.containers[0].volumeMounts | index({name: "cocoon-aesmd", mountPath: "/var/run/aesmd", readOnly: true})) != null and
  (.spec.volumes[] | select(.name == "cocoon-aesmd") | .hostPath == {path: "/var/run/aesmd", type: "DirectoryOrCreate"}) and
  .spec.securityContext.supplementalGroups == [5791]'

# 5. Denials, each with the reason the user needs.
deny() { # deny NAME REGEX
  check "$1" "$(r "$1")" ".allowed == false and .code == 403 and .patch == null and (.message | test(\"$2\"))"
  [ ! -e "$(p "$1")" ] && ok || bad "$1: a denied pod must not be applied"
}
deny nocommand 'container \"entrypoint-only\" sets no command.*set command.*cocoon wrap'
deny privileged 'container \"app\" is privileged'
deny hostpid 'hostPID'
deny hostpath 'hostPath volume \"node\" at /run/cocoon, over cocoon.s secrets directory /run/cocoon/secrets'
deny reserved 'init container \"cocoon-install\" is reserved for cocoon'
deny badlabel 'must be \"true\" or \"false\"'
deny noconfig 'names no launch config'
deny ephemeral 'ephemeral containers would run unwrapped'

# 6. Idempotence: a second pass over every admitted pod returns no patch.
for f in "$tmp"/out/*.pod.json; do review "$f" "$tmp/in2/$(basename "$f" .pod.json).json"; done
node "$here/npm/client.mjs" "$url" "$tmp/one-ca.pem" "$tmp/out" "$tmp"/in2/*.json 2>"$tmp/node.err" || {
  bad "node client (second pass): $(cat "$tmp/node.err")"; }
for n in plain wrapped unknown sgx; do
  check "$n-second-pass" "$(r "$n")" '.status == 200 and .allowed == true and .patch == null'
done

# 7. The admitted pods are valid Kubernetes objects (schema and field names). "unknown" has unknown fields on purpose.
node "$src/tests/plugin/validate-manifests.mjs" "$COCOON_NPM_MODULES" "$(p plain)" "$(p wrapped)" "$(p sgx)" \
  > "$tmp/validate.out" 2>&1 && ok || bad "patched pods fail the Kubernetes schemas: $(cat "$tmp/validate.out")"
grep -q "3 objects, 0 invalid" "$tmp/validate.out" && ok || bad "validator count: $(tail -1 "$tmp/validate.out")"
node "$src/tests/plugin/validate-manifests.mjs" "$COCOON_NPM_MODULES" "$(p unknown)" > "$tmp/validate.out" 2>&1 \
  && bad "the validator must reject the unknown fields (else the check above proves nothing)" || ok

# 8. Malformed input gets a 4xx with the reason, and the webhook keeps serving.
post() { curl -s --cacert "$tmp/one-ca.pem" -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
alive() {
  [ "$(curl -s --cacert "$tmp/one-ca.pem" "$url/healthz")" = ok ] && ok || bad "not serving after $1"
  [ "$(post --data-binary "@$tmp/in/plain.json" "$url/mutate")" = 200 ] && ok || bad "no review after $1"
}
code=$(post --data-binary '{"apiVersion": "admission.k8s.io/v1", "kind": ' "$url/mutate")
[ "$code" = 400 ] && jq -e '.message | test("not JSON.*line 1")' "$tmp/body" >/dev/null && ok || bad "malformed: $code $(cat "$tmp/body")"
alive "malformed JSON"
jq '.apiVersion = "admission.k8s.io/v1beta1"' "$tmp/in/wrapped.json" > "$tmp/v1beta1.json"
code=$(post --data-binary "@$tmp/v1beta1.json" "$url/mutate")
[ "$code" = 400 ] && jq -e '.message | test("apiVersion must be admission.k8s.io/v1.*v1beta1")' "$tmp/body" >/dev/null && ok ||
  bad "wrong apiVersion: $code $(cat "$tmp/body")"
alive "a wrong apiVersion"
jq 'del(.request.uid)' "$tmp/in/wrapped.json" > "$tmp/nouid.json"
code=$(post --data-binary "@$tmp/nouid.json" "$url/mutate")
[ "$code" = 400 ] && jq -e '.message | test("uid")' "$tmp/body" >/dev/null && ok || bad "no uid: $code $(cat "$tmp/body")"
head -c 70000 /dev/zero | tr '\0' ' ' > "$tmp/big.json"
code=$(post --data-binary "@$tmp/big.json" "$url/mutate")
[ "$code" = 413 ] && grep -qi "too large\|entity" "$tmp/body" && ok || bad "oversized body: $code $(head -c 300 "$tmp/body")"
alive "an oversized body"
code=$(curl -s --cacert "$tmp/one-ca.pem" -o "$tmp/body" -w '%{http_code}' "$url/mutate")
[ "$code" = 405 ] && grep -q "POST" "$tmp/body" && ok || bad "GET /mutate: $code"
curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && bad "plain HTTP must fail" || ok
curl -s -o /dev/null --cacert "$tmp/two-ca.pem" "$url/healthz" && bad "a client pinning another CA must fail" || ok

# 9. Metrics count what happened.
curl -s --cacert "$tmp/one-ca.pem" "$url/metrics" > "$tmp/metrics"
grep -q '^cocoon_webhook_reviews_total{outcome="denied"} 8$' "$tmp/metrics" && ok || bad "denied count: $(grep reviews "$tmp/metrics")"
grep -q '^cocoon_webhook_reviews_total{outcome="bad_request"} 3$' "$tmp/metrics" && ok || bad "bad_request count: $(grep reviews "$tmp/metrics")"
grep -q '^cocoon_webhook_reviews_total{outcome="mutated"} 3$' "$tmp/metrics" && ok || bad "mutated count: $(grep reviews "$tmp/metrics")"
grep -q '^cocoon_webhook_tls_cert_not_after_seconds [1-9][0-9]*$' "$tmp/metrics" && ok || bad "cert expiry gauge"

# 10. Certificate reload: a broken file keeps the old certificate; a new valid pair is served without a restart.
echo "not a certificate" > "$tmp/tls.pem"
for _ in $(seq 1 100); do
  grep -q 'TLS reload failed' "$tmp/webhook.log" && break
  sleep 0.1
done
curl -s -o /dev/null --cacert "$tmp/one-ca.pem" "$url/healthz" && ok || bad "a broken certificate file must keep the old one"
grep -q 'TLS reload failed, still serving the previous certificate' "$tmp/webhook.log" && ok || bad "reload failure not logged"
cp "$tmp/two.key" "$tmp/tls.key.new" && cp "$tmp/two.pem" "$tmp/tls.pem.new"
mv "$tmp/tls.key.new" "$tmp/tls.key" && mv "$tmp/tls.pem.new" "$tmp/tls.pem"
for _ in $(seq 1 100); do
  curl -s -o /dev/null --cacert "$tmp/two-ca.pem" "$url/healthz" && break
  sleep 0.1
done
curl -s -o /dev/null --cacert "$tmp/two-ca.pem" "$url/healthz" && ok || bad "the new certificate is not served"
curl -s -o /dev/null --cacert "$tmp/one-ca.pem" "$url/healthz" && bad "the old certificate is still served" || ok
curl -s --cacert "$tmp/two-ca.pem" "$url/metrics" | grep -q '^cocoon_webhook_tls_reloads_total{result="ok"} 1$' && ok ||
  bad "reload metric"

# 11. SIGTERM stops it with exit 0.
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" = 0 ] && ok || bad "exit after SIGTERM: $rc"

# 12. Loud failures at start, with the documented exit codes.
expect_exit() { # expect_exit CODE REGEX ARGS...
  local want=$1 re=$2; shift 2
  "$bin/cocoon-webhook" "$@" >"$tmp/start.out" 2>&1; local got=$?
  [ "$got" = "$want" ] && grep -qE -- "$re" "$tmp/start.out" && ok || bad "cocoon-webhook $*: exit $got (want $want): $(cat "$tmp/start.out")"
}
expect_exit 2 'tls-cert and --tls-key are required' --image x
expect_exit 2 '--image is required' --tls-cert "$tmp/two.pem" --tls-key "$tmp/two.key"
expect_exit 2 'image-pull-policy must be' --tls-cert "$tmp/two.pem" --tls-key "$tmp/two.key" --image x --image-pull-policy Sometimes
expect_exit 2 'max-body-bytes must be a whole number' --tls-cert a --tls-key b --image x --max-body-bytes 12k
expect_exit 2 'secrets-dir must be an absolute path' --tls-cert a --tls-key b --image x --secrets-dir rel
expect_exit 3 'cannot use --tls-cert' --tls-cert "$tmp/missing.pem" --tls-key "$tmp/two.key" --image x --listen 127.0.0.1:0
expect_exit 3 'cannot use --tls-cert' --tls-cert "$tmp/one.pem" --tls-key "$tmp/two.key" --image x --listen 127.0.0.1:0
expect_exit 3 'listen' --tls-cert "$tmp/two.pem" --tls-key "$tmp/two.key" --image x --listen nowhere

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
