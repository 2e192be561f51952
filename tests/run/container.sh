#!/usr/bin/env bash
# cocoon-run in a real OCI runtime (issue #13): a busybox-static image built
# with umoci, wrapped with `cocoon wrap`, unpacked with umoci and run with runc,
# then the same cases with crun. The network namespace is dropped (the broker
# will be on 127.0.0.1), the sim directory is bind-mounted read-only and
# /run/cocoon/secrets is a tmpfs, as a Kubernetes emptyDir{medium: Memory}.
# Cases: the app's exit code and PID (exec keeps PID 1), SIGTERM reaching the
# app, and fail-closed refusals where the app must never run (its marker file
# stays absent): a wrong sim root, no TEE provider, a disk-backed secrets
# directory, a broker that is down, a bad config. With a real broker
# (cocoon-attestd --trust-sim on 127.0.0.1): the app prints a file secret and
# an env secret; a policy denial exits 84; a broker that comes up within the
# deadline is waited for, one that stays down exits 82; a broker by name.
set -uo pipefail
. "$(dirname "$0")/common.bash"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the container test needs root (runc run)"; exit 77; }
[ "${COCOON_RUN_STATIC:-ON}" = ON ] || { echo "SKIP: cocoon-run is not static in this build (sanitizers)"; exit 77; }
need_tools umoci jq file
bin=${COCOON_BIN:?}
runtimes=()
command -v runc >/dev/null && runtimes+=(runc)
command -v crun >/dev/null && runtimes+=(crun)
[ ${#runtimes[@]} -gt 0 ] || { echo "SKIP: neither runc nor crun is installed"; exit 77; }
# Disk-backed scratch (the build tree), so the "disk" case really is a disk.
tmp=$(mktemp -d -p "$bin/.."); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

app='touch /out/ran; echo "pid=$$"; [ -z "$COCOON_TERM" ] || { trap "exit 143" TERM; while :; do sleep 0.05; done; }; exit 7'
make_base_image "$tmp/img" "$app" >/dev/null || { echo "FAIL: building the base image"; exit 1; }
"$bin/cocoon" sim init "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: cocoon sim init"; exit 1; }
mkdir -p "$tmp/empty-sim"
cat > "$tmp/launch.json" <<'J'
{ "version": 1, "evidence": { "provider": "sim", "tee": "snp", "sim_dir": "/cocoon-sim" } }
J
"$bin/cocoon" wrap --image "$tmp/img:base" --tag conf --config "$tmp/launch.json" >/dev/null || { echo "FAIL: cocoon wrap"; exit 1; }
umoci unpack --image "$tmp/img:conf" "$tmp/bundle" >/dev/null || { echo "FAIL: umoci unpack"; exit 1; }
cp "$tmp/bundle/config.json" "$tmp/config.base.json"

# Launch configurations that replace the embedded one in some cases.
cat > "$tmp/auto.json" <<J
{ "version": 1, "command": ["/bin/sh", "-c", $(jq -Rn --arg a "$app" '$a')] }
J
res='"resources": [{"path": "default/db/password", "file": {"name": "db-password", "mode": "0400"}}]'
cat > "$tmp/disk.json" <<J
{ "version": 1, "broker": {"url": "http://127.0.0.1:9"}, $res, "secrets_dir": "/out",
  "evidence": {"provider": "sim", "sim_dir": "/cocoon-sim"}, "command": ["/bin/touch", "/out/ran"] }
J
cat > "$tmp/res.json" <<J
{ "version": 1, "broker": {"url": "http://127.0.0.1:9"}, $res, "retry": {"deadline_seconds": 0},
  "evidence": {"provider": "sim", "sim_dir": "/cocoon-sim"}, "command": ["/bin/touch", "/out/ran"] }
J
echo '{"version": 1, "comand": ["/bin/touch", "/out/ran"]}' > "$tmp/typo.json"

# The broker: cocoon-attestd on the host's loopback (the containers share the
# host network), trusting the sim root; secrets and a policy set with `cocoon kbs`.
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
bpid=""
broker_start() { # [PORT]
  "$bin/cocoon-attestd" --listen "127.0.0.1:${1:-0}" --data-dir "$tmp/broker" --workers 2 --trust-sim "$tmp/sim" \
    --admin-key "$tmp/admin.pub" 2>"$tmp/broker.log" & bpid=$!
  for _ in $(seq 100); do
    bport=$(grep -o '"port":[0-9]*' "$tmp/broker.log" 2>/dev/null | head -1 | cut -d: -f2)
    [ -n "$bport" ] && return 0
    sleep 0.05
  done
  echo "FAIL: attestd did not start"; cat "$tmp/broker.log"; return 1
}
broker_stop() { [ -z "$bpid" ] || { kill "$bpid"; wait "$bpid" 2>/dev/null; bpid=""; }; }
trap 'broker_stop; rm -rf "$tmp"' EXIT
broker_start || exit 1
burl="http://127.0.0.1:$bport"
printf 's3cr3t-db' > "$tmp/db"; printf 'api-key-42' > "$tmp/api"
printf '%s\n' 'version=1.0; authorizationrules { [type=="kbs-resource-path", value=="cocoon/test/forbidden"] => deny(); => permit(); };' > "$tmp/pol"
for c in "put-resource --path default/db/password --file $tmp/db" "put-resource --path default/api/key --file $tmp/api" \
         "put-resource --path cocoon/test/forbidden --file $tmp/api" "set-policy --kind resource --file $tmp/pol"; do
  "$bin/cocoon" kbs $c --url "$burl" --admin-key "$tmp/admin.pem" || { echo "FAIL: cocoon kbs $c"; exit 1; }
done
secrets_app='touch /out/ran; cat /run/cocoon/secrets/db-password; echo " $API_KEY"'
broker_conf() { # FILE URL DEADLINE RESOURCES
  cat > "$1" <<J
{ "version": 1, "broker": {"url": "$2"}, "retry": {"deadline_seconds": $3}, $4,
  "evidence": {"provider": "sim", "tee": "snp", "sim_dir": "/cocoon-sim"},
  "command": ["/bin/sh", "-c", $(jq -Rn --arg a "$secrets_app" '$a')] }
J
}
both='"resources": [{"path": "default/db/password", "file": {"name": "db-password", "mode": "0400"}}, {"path": "default/api/key", "env": "API_KEY"}]'
broker_conf "$tmp/secrets.json" "$burl" 5 "$both"
broker_conf "$tmp/deny.json" "$burl" 5 '"resources": [{"path": "cocoon/test/forbidden", "env": "X"}]'
broker_conf "$tmp/late.json" "$burl" 20 "$both"
broker_conf "$tmp/down.json" "http://127.0.0.1:9" 1 "$both"
broker_conf "$tmp/byname.json" "http://kbs.test:$bport" 5 "$both"
printf '127.0.0.1 localhost\n127.0.0.1 kbs.test\n' > "$tmp/hosts"

# config.json for one case: SIM is the host dir mounted at /cocoon-sim, CONF a
# launch configuration bind-mounted over /cocoon/launch.json (or "" for the
# embedded one), OUT the host dir at /out. COCOON_TERM=1 makes the app wait.
write_config() { # SIM CONF OUT TERM
  local m
  m=$(jq -n --arg sim "$1" --arg out "$3" '[
    {destination: "/cocoon-sim", type: "bind", source: $sim, options: ["rbind", "ro"]},
    {destination: "/out", type: "bind", source: $out, options: ["rbind", "rw"]},
    {destination: "/run/cocoon/secrets", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=0700"]}]')
  [ -n "$2" ] && m=$(jq --arg c "$2" '. + [{destination: "/cocoon/launch.json", type: "bind", source: $c, options: ["rbind", "ro"]}]' <<<"$m")
  [ -n "${HOSTS:-}" ] && m=$(jq --arg h "$HOSTS" '. + [{destination: "/etc/hosts", type: "bind", source: $h, options: ["rbind", "ro"]}]' <<<"$m")
  jq --argjson m "$m" --arg term "$4" '.process.terminal = false
      | .linux.namespaces |= map(select(.type != "network"))
      | .mounts += $m
      | .process.env += (if $term == "" then [] else ["COCOON_TERM=1"] end)' \
    "$tmp/config.base.json" > "$tmp/bundle/config.json"
}

n=0
start() { # RUNTIME ID: runs the container in the foreground
  local rt=$1 id=$2
  if [ "$rt" = runc ]; then
    runc --root "$tmp/state-runc" run -b "$tmp/bundle" "$id"
  else
    # crun refuses this host's hybrid cgroup layout: hide cgroup2 in a private mount namespace.
    unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root "$0" --cgroup-manager=disabled run -b "$1" "$2"' \
      "$tmp/state-crun" "$tmp/bundle" "$id"
  fi
}

msg0=""
case_run() { # RUNTIME DESCRIPTION WANT-EXIT WANT-MARKER(yes|no) STDERR-PATTERN SIM CONF [TERM|late]
  local rt=$1 d=$2 want=$3 marker=$4 pat=$5 sim=$6 conf=$7 term=${8:-}
  n=$((n + 1)); local out="$tmp/out-$rt-$n" id="cocoon-run-test-$$-$n" rc
  mkdir -p "$out"
  write_config "$sim" "$conf" "$out" "$term"
  if [ "$term" = late ]; then
    # The broker is down when the container starts and comes up on the same port within the deadline.
    local port=$bport
    broker_stop
    start "$rt" "$id" >"$out.stdout" 2>"$out.stderr" & local pid=$!
    sleep 1.2
    broker_start "$port"
    wait $pid; rc=$?
    grep -q "broker unreachable (attempt 1" "$out.stderr" || msg0="no retry line on stderr"
    term=""
  elif [ -n "$term" ]; then
    start "$rt" "$id" >"$out.stdout" 2>"$out.stderr" & local pid=$!
    for _ in $(seq 100); do [ -e "$out/ran" ] && break; sleep 0.05; done
    "$rt" --root "$tmp/state-$rt" kill "$id" TERM 2>>"$out.stderr"
    wait $pid; rc=$?
  else
    start "$rt" "$id" >"$out.stdout" 2>"$out.stderr"; rc=$?
  fi
  local msg="${msg0:-}"; msg0=""
  [ $rc -eq "$want" ] || msg="exit $rc, want $want"
  if [ "$marker" = yes ]; then [ -e "$out/ran" ] || msg="$msg; the app did not run"
  else [ -e "$out/ran" ] && msg="$msg; the app ran although cocoon-run must have failed closed"; fi
  [ -z "$pat" ] || grep -q -- "$pat" "$out.stderr" "$out.stdout" || msg="$msg; output lacks '$pat'"
  if [ -z "$msg" ]; then ok; else bad "$rt: $d: $msg"; cat "$out.stderr" "$out.stdout"; fi
  "$rt" --root "$tmp/state-$rt" delete -f "$id" >/dev/null 2>&1 || true
}

runtime_works() { # crun may be unable to run here; say exactly why and skip it
  local rt=$1 out="$tmp/probe-$rt"
  mkdir -p "$out"; write_config "$tmp/sim" "" "$out" ""
  start "$rt" "cocoon-run-probe-$$" >"$out.log" 2>&1
  local rc=$?
  "$rt" --root "$tmp/state-$rt" delete -f "cocoon-run-probe-$$" >/dev/null 2>&1 || true
  if [ $rc -ne 7 ] && ! [ -e "$out/ran" ]; then
    echo "NOTE: $rt cannot run containers here (exit $rc): $(tr '\n' ' ' < "$out.log")"
    return 1
  fi
}

ran=0
for rt in "${runtimes[@]}"; do
  runtime_works "$rt" || continue
  ran=$((ran + 1))
  case_run "$rt" "app exit code passes through, PID 1 kept (exec)" 7 yes "pid=1" "$tmp/sim" ""
  case_run "$rt" "SIGTERM reaches the app" 143 yes "" "$tmp/sim" "" term
  case_run "$rt" "wrong sim root fails closed" 81 no "no TEE evidence (exit 81)" "$tmp/empty-sim" ""
  case_run "$rt" "no provider (auto never picks sim) fails closed" 81 no "no TEE evidence provider is available" "$tmp/sim" "$tmp/auto.json"
  case_run "$rt" "disk-backed secrets dir refused" 86 no "is not memory-backed" "$tmp/sim" "$tmp/disk.json"
  case_run "$rt" "broker down, no retry deadline, fails closed" 82 no "broker unreachable (exit 82)" "$tmp/sim" "$tmp/res.json"
  case_run "$rt" "the app prints both secrets (file + env)" 0 yes "^s3cr3t-db api-key-42$" "$tmp/sim" "$tmp/secrets.json"
  case_run "$rt" "policy denies: exit 84, app never ran" 84 no "policy denied (exit 84)" "$tmp/sim" "$tmp/deny.json"
  case_run "$rt" "broker down then up within the deadline" 0 yes "^s3cr3t-db api-key-42$" "$tmp/sim" "$tmp/late.json" late
  case_run "$rt" "broker stays down: 82 after the deadline" 82 no "broker unreachable (exit 82)" "$tmp/sim" "$tmp/down.json"
  HOSTS=$tmp/hosts case_run "$rt" "broker given by name (/etc/hosts)" 0 yes "^s3cr3t-db api-key-42$" "$tmp/sim" "$tmp/byname.json"
  case_run "$rt" "bad launch configuration" 80 no 'unknown key "comand"' "$tmp/sim" "$tmp/typo.json"
done
[ $ran -gt 0 ] || { echo "SKIP: no OCI runtime can run containers here"; exit 77; }
echo "container: $pass passed, $fail failed (runtimes: ${runtimes[*]})"
[ $fail -eq 0 ]
