#!/usr/bin/env bash
# Builds the cocoon OCI image layout offline with umoci: the cocoon binaries from BIN_DIR,
# the shared libraries they load (found with ldd) and the CA bundle, nothing else: no
# shell, no package manager. The result is an OCI image layout (a directory) with the tag
# `cocoon:VERSION`; docs/kubernetes.md shows how to push it with skopeo.
# Usage: scripts/make-image.sh BIN_DIR OUT_LAYOUT [VERSION]
set -euo pipefail
bin=${1:?usage: make-image.sh BIN_DIR OUT_LAYOUT [VERSION]}
out=${2:?usage: make-image.sh BIN_DIR OUT_LAYOUT [VERSION]}
version=${3:-0.1.0}
ca=/etc/ssl/certs/ca-certificates.crt
command -v umoci >/dev/null || { echo "make-image.sh: umoci is not installed (apt-get install umoci)" >&2; exit 1; }
[ -r "$ca" ] || { echo "make-image.sh: no CA bundle at $ca (apt-get install ca-certificates)" >&2; exit 1; }
mapfile -t bins < <(find "$bin" -maxdepth 1 -type f -name 'cocoon*' -perm -u+x | sort)
[ "${#bins[@]}" -gt 0 ] || { echo "make-image.sh: no cocoon binaries in $bin (build first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$out:cocoon-$version"
umoci unpack --rootless --image "$out:cocoon-$version" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
install -d -m 0755 "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp"
chmod 1777 "$root/tmp"
for b in "${bins[@]}"; do install -m 0755 "$b" "$root/usr/local/bin/"; done
install -m 0644 "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
# The libraries at the paths the dynamic loader looks for them (symlinks resolved).
for lib in $(ldd "${bins[@]}" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
  install -d "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# The nobody user the chart runs as (no shell: /nonexistent, /usr/sbin/nologin is absent on purpose).
printf 'root:x:0:0:root:/root:/nonexistent\nnonroot:x:65532:65532:nonroot:/nonexistent:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
umoci repack --image "$out:cocoon-$version" "$work/bundle" >/dev/null
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git -C "$(dirname "$0")/.." rev-parse HEAD 2>/dev/null || echo unknown)
umoci config --image "$out:cocoon-$version" --tag "$version" \
  --author "cocoon project" --created "$created" --os linux --architecture amd64 \
  --config.user 65532:65532 --config.workingdir / --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.cmd /usr/local/bin/cocoon --config.cmd --help \
  --config.label org.opencontainers.image.title=cocoon \
  --config.label "org.opencontainers.image.description=cocoon confidential containers: binaries and CA bundle, no shell" \
  --config.label org.opencontainers.image.version="$version" \
  --config.label org.opencontainers.image.revision="$rev" \
  --config.label org.opencontainers.image.created="$created" \
  --config.label org.opencontainers.image.source=https://github.com/cocoon-project/cocoon
umoci rm --image "$out:cocoon-$version"
umoci gc --layout "$out"
echo "make-image.sh: $out:$version ($(du -sh "$out" | cut -f1)); push: skopeo copy oci:$out:$version docker://REGISTRY/cocoon:$version"
