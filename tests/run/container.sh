#!/usr/bin/env bash
# cocoon-run in a real OCI runtime (issue #13): a busybox-static image built
# with umoci, wrapped with `cocoon wrap`, unpacked with umoci and run with runc,
# then the same cases with crun. The network namespace is dropped (the broker
# will be on 127.0.0.1), the sim directory is bind-mounted read-only and
# /run/cocoon/secrets is a tmpfs, as a Kubernetes emptyDir{medium: Memory}.
# Cases: the app's exit code and PID (exec keeps PID 1), SIGTERM reaching the
# app, and fail-closed refusals where the app must never run (its marker file
# stays absent): a wrong sim root, no TEE provider, a disk-backed secrets
# directory, resources while the broker step is unavailable, a bad config.
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
{ "version": 1, "broker": {"url": "http://127.0.0.1:9"}, $res,
  "evidence": {"provider": "sim", "sim_dir": "/cocoon-sim"}, "command": ["/bin/touch", "/out/ran"] }
J
echo '{"version": 1, "comand": ["/bin/touch", "/out/ran"]}' > "$tmp/typo.json"

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

case_run() { # RUNTIME DESCRIPTION WANT-EXIT WANT-MARKER(yes|no) STDERR-PATTERN SIM CONF [TERM]
  local rt=$1 d=$2 want=$3 marker=$4 pat=$5 sim=$6 conf=$7 term=${8:-}
  n=$((n + 1)); local out="$tmp/out-$rt-$n" id="cocoon-run-test-$$-$n" rc
  mkdir -p "$out"
  write_config "$sim" "$conf" "$out" "$term"
  if [ -n "$term" ]; then
    start "$rt" "$id" >"$out.stdout" 2>"$out.stderr" & local pid=$!
    for _ in $(seq 100); do [ -e "$out/ran" ] && break; sleep 0.05; done
    "$rt" --root "$tmp/state-$rt" kill "$id" TERM 2>>"$out.stderr"
    wait $pid; rc=$?
  else
    start "$rt" "$id" >"$out.stdout" 2>"$out.stderr"; rc=$?
  fi
  local msg=""
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
  case_run "$rt" "resources without the broker client fail closed" 82 no "broker unreachable (exit 82)" "$tmp/sim" "$tmp/res.json"
  case_run "$rt" "bad launch configuration" 80 no 'unknown key "comand"' "$tmp/sim" "$tmp/typo.json"
done
[ $ran -gt 0 ] || { echo "SKIP: no OCI runtime can run containers here"; exit 77; }
echo "container: $pass passed, $fail failed (runtimes: ${runtimes[*]})"
[ $fail -eq 0 ]
