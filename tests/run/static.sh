#!/usr/bin/env bash
# cocoon-run must be one static executable: it is injected into images with
# no (or an unknown) libc. readelf -d must find no dynamic section, and none of
# the daemons' libraries (libcurl, libevent, libjose, SQLite, libarchive) may
# have been linked in from libcocoon's archive.
set -uo pipefail
bin=${COCOON_BIN:?}/cocoon-run
[ "${COCOON_RUN_STATIC:-ON}" = ON ] || { echo "SKIP: cocoon-run is not static in this build (sanitizers)"; exit 77; }
command -v readelf >/dev/null && command -v nm >/dev/null || { echo "SKIP: binutils (readelf, nm) missing"; exit 77; }
fail=0
out=$(readelf -d "$bin" 2>&1)
grep -q "There is no dynamic section" <<<"$out" || { echo "FAIL: $bin has a dynamic section:"; echo "$out"; fail=1; }
readelf -l "$bin" | grep -q 'INTERP' && { echo "FAIL: $bin asks for a program interpreter"; fail=1; }
syms=$(nm "$bin" 2>/dev/null | grep -E ' [TtDdBb] (curl_|event_base|evhttp_|sqlite3_|jose_|archive_write)' | head -5)
[ -z "$syms" ] || { echo "FAIL: daemon libraries were linked into cocoon-run:"; echo "$syms"; fail=1; }
# It runs with an empty environment and no library path at all.
env -i "$bin" --version | grep -q '^cocoon-run ' || { echo "FAIL: cocoon-run --version"; fail=1; }
stripped=$(mktemp); strip -o "$stripped" "$bin" 2>/dev/null && echo "cocoon-run: $(stat -c %s "$bin") bytes, $(stat -c %s "$stripped") stripped"
rm -f "$stripped"
[ $fail -eq 0 ] && echo "static: ok"
exit $fail
