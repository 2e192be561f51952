#!/usr/bin/env bash
# cocoon wrap against an independent OCI implementation: a busybox-static image
# built with umoci is wrapped, then umoci (which verifies every digest) unpacks
# the result. Checks: cocoon-run and launch.json are in the rootfs, the
# original layer blobs and descriptors are unchanged, the entrypoint is
# cocoon-run and the original Entrypoint/Cmd are recorded. Negative cases: a
# tampered manifest blob, an unknown tag, a bad launch configuration, a
# malformed digest in index.json, a Docker media type.
set -uo pipefail
. "$(dirname "$0")/common.bash"
need_tools umoci jq file
bin=${COCOON_BIN:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

make_base_image "$tmp/img" 'echo hello' >/dev/null || { echo "FAIL: building the base image with umoci"; exit 1; }
cp -a "$tmp/img" "$tmp/orig"
base_manifest=$(jq -r '.manifests[0].digest' "$tmp/img/index.json")
cat > "$tmp/launch.json" <<'J'
{ "version": 1, "evidence": { "provider": "sim", "sim_dir": "/cocoon-sim" } }
J
"$bin/cocoon" wrap --image "$tmp/img:base" --tag conf --config "$tmp/launch.json" >"$tmp/out" 2>&1 \
  && ok || { bad "cocoon wrap"; cat "$tmp/out"; }

umoci unpack $ROOTLESS --image "$tmp/img:conf" "$tmp/b" >/dev/null 2>"$tmp/err" && ok || { bad "umoci unpack of the wrapped image"; cat "$tmp/err"; }
cmp -s "$tmp/b/rootfs/cocoon/bin/cocoon-run" "$bin/cocoon-run" && ok || bad "rootfs must hold /cocoon/bin/cocoon-run"
[ -x "$tmp/b/rootfs/cocoon/bin/cocoon-run" ] && ok || bad "cocoon-run must be executable"
[ -x "$tmp/b/rootfs/bin/busybox" ] && ok || bad "the base layer must still be there"
jq -e '.command == ["/bin/sh","-c","echo hello"] and .evidence.provider == "sim"' "$tmp/b/rootfs/cocoon/launch.json" >/dev/null \
  && ok || { bad "launch.json must carry the original command"; cat "$tmp/b/rootfs/cocoon/launch.json"; }
jq -e '.process.args == ["/cocoon/bin/cocoon-run","--config","/cocoon/launch.json"]' "$tmp/b/config.json" >/dev/null \
  && ok || bad "runtime args must start cocoon-run"

# Every original blob is still there, byte for byte; the original tag is untouched.
for f in "$tmp/orig/blobs/sha256/"*; do
  cmp -s "$f" "$tmp/img/blobs/sha256/$(basename "$f")" || bad "blob $(basename "$f") changed"
done; ok
[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="base") | .digest' "$tmp/img/index.json")" = "$base_manifest" ] \
  && ok || bad "the base tag must still name the original manifest"
m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="conf") | .digest' "$tmp/img/index.json")
nm="$tmp/img/blobs/sha256/${m#sha256:}"
om="$tmp/orig/blobs/sha256/${base_manifest#sha256:}"
jq -e --slurpfile o "$om" '.layers[0:($o[0].layers|length)] == $o[0].layers and (.layers|length) == ($o[0].layers|length) + 1
  and .layers[-1].mediaType == "application/vnd.oci.image.layer.v1.tar+gzip"' "$nm" >/dev/null \
  && ok || bad "the original layer descriptors must be kept and one gzip layer added"
cfg="$tmp/img/blobs/sha256/$(jq -r '.config.digest' "$nm" | cut -d: -f2)"
jq -e '.config.Entrypoint == ["/cocoon/bin/cocoon-run","--config","/cocoon/launch.json"] and (.config | has("Cmd") | not)
  and .config.Labels["dev.cocoon.run.entrypoint"] == "[\"/bin/sh\"]"
  and .config.Labels["dev.cocoon.run.cmd"] == "[\"-c\",\"echo hello\"]"
  and (.rootfs.diff_ids | length) == 2' "$cfg" >/dev/null && ok || { bad "image config"; jq .config "$cfg"; }
# The same inputs give the same layer (fixed mtime, no gzip timestamp).
"$bin/cocoon" wrap --image "$tmp/img:base" --tag conf2 --config "$tmp/launch.json" >/dev/null 2>&1
[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="conf2") | .digest' "$tmp/img/index.json")" = "$m" ] \
  && ok || bad "wrapping twice must give the same manifest digest"

# --- refusals, each with its reason ---
expect_fail() { # DESCRIPTION PATTERN ARGS...
  local d=$1 p=$2; shift 2
  "$bin/cocoon" wrap "$@" >"$tmp/out" 2>&1; local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$p" "$tmp/out"; then ok; else bad "$d (exit $rc)"; cat "$tmp/out"; fi
}
expect_fail "unknown tag" 'no manifest is tagged "nope"' --image "$tmp/img:nope" --tag x --config "$tmp/launch.json"
echo '{"version":1,"evidence":{"provider":"sim"}}' > "$tmp/bad.json"
expect_fail "bad launch configuration" 'evidence.sim_dir' --image "$tmp/img:base" --tag x --config "$tmp/bad.json"
echo '{"version":1,"comand":["x"]}' > "$tmp/typo.json"
expect_fail "unknown key in the launch configuration" 'unknown key "comand"' --image "$tmp/img:base" --tag x --config "$tmp/typo.json"
expect_fail "bad new tag" 'is not \[A-Za-z0-9_\]' --image "$tmp/img:base" --tag 'a/b' --config "$tmp/launch.json"

cp -a "$tmp/orig" "$tmp/t1"; chmod -R u+w "$tmp/t1"
f="$tmp/t1/blobs/sha256/${base_manifest#sha256:}"
sed -i 's/"schemaVersion":2/"schemaVersion":2 /' "$f"
expect_fail "tampered manifest blob" 'descriptor says\|hashes to' --image "$tmp/t1:base" --tag x --config "$tmp/launch.json"
cp -a "$tmp/orig" "$tmp/t2"; chmod -R u+w "$tmp/t2"
f="$tmp/t2/blobs/sha256/${base_manifest#sha256:}"
# A same-size edit: swap one hex digit of the config digest inside the manifest.
orig_cfg=$(jq -r .config.digest "$f"); c1=${orig_cfg:7:1}; n1=$([ "$c1" = 0 ] && echo 1 || echo 0)
sed -i "s/${orig_cfg}/sha256:${n1}${orig_cfg:8}/" "$f"
expect_fail "same-size tampered manifest" 'hashes to' --image "$tmp/t2:base" --tag x --config "$tmp/launch.json"
cp -a "$tmp/orig" "$tmp/t3"; chmod -R u+w "$tmp/t3"
jq -c '.manifests[0].digest = "sha256:XYZ"' "$tmp/orig/index.json" > "$tmp/t3/index.json"
expect_fail "malformed digest in index.json" 'sha256:<64 lowercase hex digits>' --image "$tmp/t3:base" --tag x --config "$tmp/launch.json"
cp -a "$tmp/orig" "$tmp/t4"; chmod -R u+w "$tmp/t4"
jq -c '.manifests[0].mediaType = "application/vnd.docker.distribution.manifest.v2+json"' "$tmp/orig/index.json" > "$tmp/t4/index.json"
expect_fail "Docker media type" 'skopeo copy --format oci' --image "$tmp/t4:base" --tag x --config "$tmp/launch.json"
[ "$(jq '.manifests|length' "$tmp/t4/index.json")" = 1 ] && ok || bad "a refused wrap must not change index.json"

# An image with neither Entrypoint nor Cmd (and no layers): the configuration must say what to run.
umoci new --image "$tmp/img:empty" >/dev/null 2>&1
expect_fail "nothing to run" 'neither Entrypoint nor Cmd' --image "$tmp/img:empty" --tag x --config "$tmp/launch.json"
echo '{"version":1,"command":["/bin/true"]}' > "$tmp/own.json"
"$bin/cocoon" wrap --image "$tmp/img:empty" --tag own --config "$tmp/own.json" >"$tmp/out" 2>&1 \
  && grep -q "the launch configuration's" "$tmp/out" && ok || { bad "wrap with the configuration's own command"; cat "$tmp/out"; }
umoci unpack $ROOTLESS --image "$tmp/img:own" "$tmp/b2" >/dev/null 2>&1 && jq -e '.command == ["/bin/true"]' "$tmp/b2/rootfs/cocoon/launch.json" >/dev/null \
  && ok || bad "the configuration's own command must be kept"
m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="own") | .digest' "$tmp/img/index.json")
cfg="$tmp/img/blobs/sha256/$(jq -r '.config.digest' "$tmp/img/blobs/sha256/${m#sha256:}" | cut -d: -f2)"
jq -e '.config.Labels["dev.cocoon.run.entrypoint"] == "null" and .config.Labels["dev.cocoon.run.cmd"] == "null"' "$cfg" >/dev/null \
  && ok || bad "absent Entrypoint/Cmd must be recorded as null"

echo "wrap: $pass passed, $fail failed"
[ $fail -eq 0 ]
