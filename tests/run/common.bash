# Shared by tests/run/*.sh (sourced; not named *.sh, so not a test itself): a base OCI image built with
# umoci from busybox-static alone (no libc in it), in layout $1, tag "base",
# whose Entrypoint/Cmd run `sh -c "$2"`.
make_base_image() {
  local layout=$1 script=$2 work
  work=$(mktemp -d)
  umoci init --layout "$layout" &&
    umoci new --image "$layout:base" &&
    umoci unpack $ROOTLESS --image "$layout:base" "$work/b" >/dev/null &&
    mkdir -p "$work/b/rootfs/bin" "$work/b/rootfs/out" &&
    cp "$BUSYBOX" "$work/b/rootfs/bin/busybox" &&
    for a in sh cat echo sleep touch ls test true stat id; do ln -s busybox "$work/b/rootfs/bin/$a" || return 1; done &&
    umoci repack --image "$layout:base" "$work/b" &&
    umoci config --image "$layout:base" --config.entrypoint /bin/sh --config.cmd -c --config.cmd "$script"
  local rc=$?
  rm -rf "$work"
  return $rc
}

# A static busybox: Debian's busybox-static installs it as /bin/busybox.
BUSYBOX=${BUSYBOX:-/bin/busybox}
need_tools() {
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
  done
  if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
    echo "SKIP: $BUSYBOX is not a static busybox (install busybox-static)"; exit 77
  fi
}
ROOTLESS=""
[ "$(id -u)" -ne 0 ] && ROOTLESS="--rootless"
