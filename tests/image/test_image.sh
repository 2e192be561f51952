#!/usr/bin/env bash
# `make image`: scripts/make-image.sh builds the OCI layout offline with umoci from the built
# binaries. Checks: the org.opencontainers.image.* labels and the non-root user; the
# unpacked root filesystem has the binaries, their libraries and the CA bundle, and no shell
# or package manager; and each binary runs with only that root filesystem visible (chroot).
set -uo pipefail
bin=${COCOON_BIN:?COCOON_BIN must point at the build bin directory}
src=${COCOON_SOURCE_DIR:?COCOON_SOURCE_DIR must point at the source tree}
for tool in umoci jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$src/scripts/make-image.sh" "$bin" "$tmp/layout" 9.9.9 >"$tmp/build.log" 2>&1 && ok || { bad "make-image.sh: $(cat "$tmp/build.log")"; }
[ "$(umoci ls --layout "$tmp/layout" 2>/dev/null)" = 9.9.9 ] && ok || bad "tags: $(umoci ls --layout "$tmp/layout")"

blob() { echo "$tmp/layout/blobs/${1%%:*}/${1#*:}"; }
manifest=$(blob "$(jq -r '.manifests[0].digest' "$tmp/layout/index.json")")
config=$(blob "$(jq -r '.config.digest' "$manifest")")
jq -e '.config.Labels | ."org.opencontainers.image.title" == "cocoon" and ."org.opencontainers.image.version" == "9.9.9" and
  (."org.opencontainers.image.revision" | length) > 0 and (."org.opencontainers.image.created" | length) > 0 and
  (."org.opencontainers.image.source" | startswith("https://"))' "$config" >/dev/null && ok || bad "labels: $(jq .config "$config")"
jq -e '.config.User == "65532:65532" and .os == "linux"' "$config" >/dev/null && ok || bad "user: $(jq .config "$config")"

umoci unpack --rootless --image "$tmp/layout:9.9.9" "$tmp/bundle" >/dev/null 2>&1 && ok || bad "umoci unpack"
root="$tmp/bundle/rootfs"
for f in usr/local/bin/cocoon usr/local/bin/cocoon-webhook usr/local/bin/cocoon-attestd etc/ssl/certs/ca-certificates.crt; do
  [ -s "$root/$f" ] && ok || bad "missing /$f"
done
for f in bin/sh bin/bash usr/bin/sh usr/bin/apt usr/bin/dpkg sbin/apk; do
  [ ! -e "$root/$f" ] && ok || bad "/$f must not be in the image"
done
[ -z "$(find "$root" -type f \( -name '*.sh' -o -name 'busybox' \))" ] && ok || bad "scripts or busybox in the image"

# Every binary runs against the image's own libraries only (not sanitizer builds: ASan needs /proc).
if grep -qa __asan_init "$bin/cocoon-webhook"; then
  echo "NOTE: sanitizer build: binaries not run inside the image"
elif chroot "$root" /usr/local/bin/cocoon-webhook --version >"$tmp/v" 2>&1; then
  grep -q "cocoon-webhook" "$tmp/v" && ok || bad "cocoon-webhook --version: $(cat "$tmp/v")"
  for b in "$root"/usr/local/bin/*; do
    name=$(basename "$b")
    chroot "$root" "/usr/local/bin/$name" --help >"$tmp/h" 2>&1
    ! grep -q "error while loading shared libraries" "$tmp/h" && ok || bad "$name in the image: $(head -3 "$tmp/h")"
  done
else
  grep -q "error while loading shared libraries" "$tmp/v" && bad "cocoon-webhook in the image: $(cat "$tmp/v")" ||
    echo "NOTE: chroot is not permitted here ($(head -1 "$tmp/v")): binaries not run inside the image"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
