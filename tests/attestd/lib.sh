# Shared helpers for the cocoon-attestd tests: start the real daemon on 127.0.0.1 with
# a free port and a temporary data directory, talk to it with curl, count results.
# Sourced by tests/attestd/test_*.sh.
set -uo pipefail
bin=${COCOON_BIN:?COCOON_BIN must point at the build bin directory}
attestd=$bin/cocoon-attestd
cocoon=$bin/cocoon
vectors=${COCOON_VECTORS:-${COCOON_VECTORS_DEFAULT:-}}
tmp=$(mktemp -d)
pids=()
pass=0 fail=0

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${ATTESTD_KEEP_LOGS:-}" ]; then cat "$tmp"/*.log > "$ATTESTD_KEEP_LOGS" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}

for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

# start NAME [attestd flags...]: starts the daemon, sets NAME_url, NAME_pid, NAME_log.
start() {
  local name=$1; shift
  local log="$tmp/$name.log" port="" i
  "$attestd" --listen 127.0.0.1:0 --data-dir "$tmp/$name-data" --workers 2 "$@" 2>"$log" &
  local pid=$!
  pids+=("$pid")
  for i in $(seq 1 100); do
    port=$(grep -o '"port":[0-9]*' "$log" 2>/dev/null | head -1 | cut -d: -f2)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "attestd $name did not start:"; cat "$log"; return 1
  fi
  local scheme=http
  grep -q '"scheme":"https"' "$log" && scheme=https
  printf -v "${name}_url" '%s://127.0.0.1:%s' "$scheme" "$port"
  printf -v "${name}_pid" '%s' "$pid"
  printf -v "${name}_log" '%s' "$log"
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
b64url_file() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }

# post URL BODY-FILE [curl args...]: prints the HTTP status; the body goes to $tmp/out.
post() {
  local url=$1 body=$2; shift 2
  curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "@$body" "$@" "$url"
}

# expect_status DESC WANT GOT [jq filter on $tmp/out]
expect() {
  local desc=$1 want=$2 got=$3 filter=${4:-}
  if [ "$got" != "$want" ]; then
    bad "$desc: HTTP $got (want $want): $(head -c 400 "$tmp/out")"; return 1
  fi
  if [ -n "$filter" ] && ! jq -e "$filter" "$tmp/out" >/dev/null 2>&1; then
    bad "$desc: jq '$filter' failed on $(head -c 400 "$tmp/out")"; return 1
  fi
  ok
}

# b64url_decode: stdin base64url (no padding) to stdout bytes.
b64url_decode() {
  local p
  p=$(tr '_-' '/+')
  while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done
  printf '%s' "$p" | base64 -d
}

# claims FILE-WITH-TOKEN: decodes the token payload to stdout.
claims() {
  jq -r .token "$1" | cut -d. -f2 | b64url_decode
}
