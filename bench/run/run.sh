#!/usr/bin/env bash
# cocoon-run start-up latency: from exec of cocoon-run to the app's first
# instruction, against a warm cocoon-attestd on loopback (simulated SNP
# evidence, --trust-sim). The app is a static C program printing the clock, exec'd by cocoon-run,
# so its timestamp is taken right after it starts; the driver takes the start
# time just before the exec. Median and p99 for three configurations, whose
# differences split the time into steps:
#   none   no resources: config, sim evidence (TEE proof), exec
#   one    one resource: config, auth + evidence + attest, one GET/JWE, exec
#   two    two resources: the same plus one more GET/JWE in the same session
# usage: bench/run/run.sh [BIN_DIR]   (N=200 runs per configuration)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build/bin}" && pwd)
n=${N:-200}
py=/usr/bin/python3
tmp=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp" "$shm"' EXIT

"$bin/cocoon" sim init "$tmp/sim" >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out "$tmp/admin.pem" 2>/dev/null
openssl pkey -in "$tmp/admin.pem" -pubout -out "$tmp/admin.pub" 2>/dev/null
"$bin/cocoon-attestd" --listen 127.0.0.1:0 --data-dir "$tmp/data" --workers 2 --trust-sim "$tmp/sim" \
  --admin-key "$tmp/admin.pub" 2>"$tmp/log" & pid=$!
for _ in $(seq 100); do port=$(grep -o '"port":[0-9]*' "$tmp/log" | head -1 | cut -d: -f2 || true); [ -n "$port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$port"
printf 'secret-one' > "$tmp/s1"; printf 'secret-two' > "$tmp/s2"
echo 'version=1.0; authorizationrules { => permit(); };' > "$tmp/pol"
A=(--url "$url" --admin-key "$tmp/admin.pem")
"$bin/cocoon" kbs put-resource "${A[@]}" --path bench/s/one --file "$tmp/s1"
"$bin/cocoon" kbs put-resource "${A[@]}" --path bench/s/two --file "$tmp/s2"
"$bin/cocoon" kbs set-policy "${A[@]}" --kind resource --file "$tmp/pol"
ev='"evidence": {"provider": "sim", "tee": "snp", "sim_dir": "'$tmp/sim'"}'
# The app: prints CLOCK_REALTIME in ns as its first action (busybox date has no %N).
printf '#include <stdio.h>\n#include <time.h>\nint main(void){struct timespec t;clock_gettime(CLOCK_REALTIME,&t);printf("%%lld\\n",(long long)t.tv_sec*1000000000LL+t.tv_nsec);return 0;}\n' > "$tmp/app.c"
cc -O2 -static -o "$tmp/app" "$tmp/app.c"
cmd='"command": ["'$tmp/app'"]'
echo '{"version": 1, '"$ev"', '"$cmd"'}' > "$tmp/none.json"
echo '{"version": 1, "broker": {"url": "'$url'"}, '"$ev"', "resources": [{"path": "bench/s/one", "env": "S1"}], '"$cmd"'}' > "$tmp/one.json"
echo '{"version": 1, "broker": {"url": "'$url'"}, '"$ev"', "secrets_dir": "'$shm'", "resources": [{"path": "bench/s/one", "env": "S1"}, {"path": "bench/s/two", "file": {"name": "two", "uid": '$(id -u)', "gid": '$(id -g)'}}], '"$cmd"'}' > "$tmp/two.json"

$py - "$bin/cocoon-run" "$tmp" "$n" <<'PY'
import subprocess, sys, time, statistics
run, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {}
for name in ("none", "one", "two"):
    xs = []
    for i in range(n + 5):
        t0 = time.time_ns()
        out = subprocess.run([run, "--config", f"{tmp}/{name}.json"], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{name}: cocoon-run exited {out.returncode}: {out.stderr.strip()}")
        if i >= 5:  # warm-up
            xs.append((int(out.stdout.strip()) - t0) / 1e6)
    xs.sort()
    res[name] = (statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.99))])
    print(f"{name:5s} exec -> app start: median {res[name][0]:6.2f} ms  p99 {res[name][1]:6.2f} ms  (n={n})")
print(f"split (medians): launcher+evidence+exec {res['none'][0]:.2f} ms; "
      f"auth + attest + first GET (broker side included) {res['one'][0] - res['none'][0]:.2f} ms; "
      f"each further resource {res['two'][0] - res['one'][0]:.2f} ms")
PY
