#!/usr/bin/env python3
"""
The export test: libcocoon.so exports exactly the functions declared in
include/cocoon/*.h, and every such declaration carries COCOON_API.

usage: check_exports.py LIBCOCOON_SO INCLUDE_DIR [NM]

Fails (exit 1) naming each symbol that is exported but not declared (an
internal helper leaking into users' link namespace), declared but not exported
(a missing COCOON_API, or a declaration without a definition), or declared
without the marker.
"""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import public_api  # noqa: E402

# What the linker itself defines in every shared object.
LINKER_SYMBOLS = {'_init', '_fini', '_edata', '_end', '__bss_start'}
FUNCTION_TYPES = set('TtWiI')


def exported(lib, nm):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    funcs, data = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[-2], parts[-1].split('@')[0]
        if name in LINKER_SYMBOLS:
            continue
        (funcs if kind in FUNCTION_TYPES else data).add(name)
    return funcs, data


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    lib, include = sys.argv[1], sys.argv[2]
    nm = sys.argv[3] if len(sys.argv) == 4 else 'nm'
    declared, unmarked = {}, []
    for h in public_api.headers(include):
        for name, has_api, _, _ in public_api.declarations(h):
            declared[name] = h.name
            if not has_api:
                unmarked.append(f'{h.name}: {name}')
    funcs, data = exported(lib, nm)
    problems = []
    problems += [f'declared without COCOON_API: {u}' for u in sorted(unmarked)]
    problems += [f'exported but not declared in {include}: {s}' for s in sorted(funcs - declared.keys())]
    problems += [f'exported data symbol (the public API is functions only): {s}' for s in sorted(data)]
    problems += [f'declared in {declared[s]} but not exported: {s}' for s in sorted(declared.keys() - funcs)]
    if not declared:
        problems.append(f'no function declarations found under {include}: header parsing is broken')
    for p in problems:
        print(p)
    print(f'{len(funcs)} exported functions, {len(declared)} declared, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
