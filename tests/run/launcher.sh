#!/usr/bin/env bash
# cocoon-run on the host, without a container runtime (so it also runs in the
# sanitizer builds and without root): exec keeps the PID and passes the exit
# code and environment through; each refusal exits with its documented code,
# names its cause on one stderr line, and never runs the app (marker absent).
set -uo pipefail
bin=${COCOON_BIN:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
"$bin/cocoon" sim init "$tmp/sim" >/dev/null 2>&1 || { echo "FAIL: cocoon sim init"; exit 1; }
shm=$(mktemp -d -p /dev/shm 2>/dev/null) || shm=""
[ -n "$shm" ] && trap 'rm -rf "$tmp" "$shm"' EXIT

conf() { # NAME JSON
  printf '%s\n' "$2" > "$tmp/$1.json"
}
run() { # DESCRIPTION WANT-EXIT STDERR-PATTERN CONFIG [ARGS...]
  local d=$1 want=$2 pat=$3 c=$4; shift 4
  rm -f "$tmp/ran"
  "$bin/cocoon-run" --config "$tmp/$c.json" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; local rc=$?
  local msg=""
  [ $rc -eq "$want" ] || msg="exit $rc, want $want"
  [ -z "$pat" ] || grep -q -- "$pat" "$tmp/stderr" "$tmp/stdout" || msg="$msg; output lacks '$pat'"
  if [ $want -ge 80 ] && [ $want -le 86 ]; then
    [ -e "$tmp/ran" ] && msg="$msg; the app ran"
    [ "$(wc -l < "$tmp/stderr")" -eq 1 ] || msg="$msg; want exactly one stderr line"
  fi
  if [ -z "$msg" ]; then ok; else bad "$d: $msg"; cat "$tmp/stderr" "$tmp/stdout"; fi
}
sim='"evidence": {"provider": "sim", "tee": "snp", "sim_dir": "'$tmp/sim'"}'
app='touch '$tmp'/ran; echo "pid=$$ v=$V"; exit 7'

conf ok '{"version": 1, '"$sim"', "env": {"V": "from-config"}, "command": ["/bin/sh", "-c", "'"${app//\"/\\\"}"'"]}'
"$bin/cocoon-run" --config "$tmp/ok.json" >"$tmp/stdout" 2>"$tmp/stderr" & pid=$!; wait $pid; rc=$?
[ $rc -eq 7 ] && grep -q "pid=$pid v=from-config" "$tmp/stdout" && [ -e "$tmp/ran" ] && ok \
  || { bad "exec must keep the PID ($pid), the exit code (7, got $rc) and set env"; cat "$tmp/stdout" "$tmp/stderr"; }
run "a command line is refused when the configuration fixes the command" 80 "fixes the command" ok -- /bin/touch "$tmp/ran"

conf free '{"version": 1, '"$sim"'}'
run "without a configured command, the one after -- runs" 0 "" free -- /bin/sh -c "touch $tmp/ran"
[ -e "$tmp/ran" ] && ok || bad "the command after -- did not run"
run "no command at all" 80 "no command" free
run "command not found" 127 "command not found (exit 127)" free -- /nonexistent/app
run "command found on PATH" 0 "" free -- touch "$tmp/ran"

conf auto '{"version": 1, "command": ["/bin/touch", "'$tmp'/ran"]}'
run "auto never picks sim; no TEE here" 81 "no TEE evidence (exit 81)" auto
conf wrongsim '{"version": 1, "evidence": {"provider": "sim", "sim_dir": "'$tmp'"}, "command": ["/bin/touch", "'$tmp'/ran"]}'
run "a directory that is not a sim root" 81 "is this a directory made by 'cocoon sim init'" wrongsim
conf typo '{"version": 1, "comand": ["/bin/touch", "'$tmp'/ran"]}'
run "unknown key" 80 'unknown key "comand"' typo
run "missing configuration file" 80 "cannot open" nonexistent
run "unknown option" 80 "unknown or incomplete option" free --frobnicate

res='"broker": {"url": "http://127.0.0.1:9"}, "resources": [{"path": "default/db/password", "file": {"name": "pw"}}]'
mkdir -p "$tmp/disk"
conf disk '{"version": 1, '"$sim"', '"$res"', "secrets_dir": "'$tmp/disk'", "command": ["/bin/touch", "'$tmp'/ran"]}'
if [ "$(stat -f -c %T "$tmp/disk")" != tmpfs ]; then
  run "a disk-backed secrets directory is refused" 86 "is not memory-backed" disk
else
  echo "NOTE: $tmp is on tmpfs; the disk-backed case runs only in the container test"
fi
conf nodir '{"version": 1, '"$sim"', '"$res"', "secrets_dir": "'$tmp/absent'", "command": ["/bin/touch", "'$tmp'/ran"]}'
run "a missing secrets directory is refused" 86 "mount a tmpfs there" nodir
if [ -n "$shm" ]; then
  conf res '{"version": 1, '"$sim"', '"$res"', "secrets_dir": "'$shm'", "retry": {"deadline_seconds": 0}, "command": ["/bin/touch", "'$tmp'/ran"]}'
  run "a broker that is down, no retry deadline" 82 "broker unreachable (exit 82)" res
  [ -z "$(ls -A "$shm")" ] && ok || bad "nothing may be written to the secrets directory when the fetch fails"
  # With a deadline: one line per attempt, then the final cause after the deadline.
  conf retry '{"version": 1, '"$sim"', '"$res"', "secrets_dir": "'$shm'", "retry": {"deadline_seconds": 2}, "command": ["/bin/touch", "'$tmp'/ran"]}'
  t0=$(date +%s%N)
  "$bin/cocoon-run" --config "$tmp/retry.json" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  n=$(grep -c "broker unreachable (attempt" "$tmp/stderr")
  if [ $rc -eq 82 ] && [ "$n" -ge 3 ] && [ $ms -ge 2000 ] && [ ! -e "$tmp/ran" ] &&
     tail -1 "$tmp/stderr" | grep -q "broker unreachable (exit 82)"; then ok
  else bad "retry until the deadline: exit $rc, $n attempt lines, $ms ms"; cat "$tmp/stderr"; fi
fi

# --install DEST: an exact copy of the executable, mode 0755, no temporary left behind.
mkdir -p "$tmp/inst"
if "$bin/cocoon-run" --install "$tmp/inst/cocoon-run" && cmp -s "$bin/cocoon-run" "$tmp/inst/cocoon-run" &&
   [ "$(stat -c %a "$tmp/inst/cocoon-run")" = 755 ] && [ "$(ls "$tmp/inst" | wc -l)" -eq 1 ] &&
   "$tmp/inst/cocoon-run" --version | grep -q cocoon-run; then ok; else bad "--install"; fi
"$bin/cocoon-run" --install "$tmp/absent/dir/cocoon-run" 2>"$tmp/stderr"; rc=$?
[ $rc -eq 80 ] && grep -q "cannot create" "$tmp/stderr" && ok || bad "--install into a missing directory: exit $rc"
"$bin/cocoon-run" --install 2>/dev/null; [ $? -eq 80 ] && ok || bad "--install without DEST"

echo "launcher: $pass passed, $fail failed"
[ $fail -eq 0 ]
