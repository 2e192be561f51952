#!/usr/bin/env python3
"""
The public ABI of libcocoon, read from the headers in include/cocoon/ (every
*.h, so a new header is covered without editing this file).

A public function is a top-level declaration in a public header; it must carry
COCOON_API, the only thing that makes it visible in a -fvisibility=hidden
build. Used by check_exports.py (the export test) and by `--annotate`, which
adds the marker to declarations that lack it.
"""
import pathlib
import re
import sys

IDENT_CALL = re.compile(r'\b([A-Za-z_]\w*)\s*\(')
ATTRIBUTE = re.compile(r'\b__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)')


def _blank(m):
    # Keep offsets and line breaks so positions map back to the original text.
    return re.sub(r'[^\n]', ' ', m.group(0))


def _top_level(text):
    """The header's text with comments, preprocessor lines, string literals and
    brace bodies (struct/enum/extern "C" excepted) blanked out, same length."""
    text = re.sub(r'/\*.*?\*/', _blank, text, flags=re.S)
    text = re.sub(r'//[^\n]*', _blank, text)
    # The C++ linkage wrapper opens and closes a brace in separate #ifdefs.
    text = re.sub(r'^[ \t]*#\s*ifdef\s+__cplusplus\b.*?^[ \t]*#\s*endif[^\n]*', _blank, text,
                  flags=re.S | re.M)
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', _blank, text, flags=re.M)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"', _blank, text)
    out, depth = [], 0
    for ch in text:
        if ch == '{':
            depth += 1
            out.append(' ')
        elif ch == '}':
            depth -= 1
            out.append(' ')
        elif depth > 0 and ch != '\n':
            out.append(' ')
        else:
            out.append(ch)
    if depth != 0:
        raise ValueError('unbalanced braces')
    return ''.join(out)


def declarations(path):
    """Yields (name, has_api, start, end) for each top-level function
    declaration: start/end are offsets of the statement in the file."""
    text = path.read_text()
    flat = _top_level(text)
    start = 0
    for m in re.finditer(r';', flat):
        stmt = flat[start:m.end()]
        begin = start + (len(stmt) - len(stmt.lstrip()))
        start = m.end()
        body = stmt.strip()
        if not body or body.startswith('typedef') or re.match(r'(static|extern\s+"C")\b', body):
            continue
        # Attributes have parentheses of their own: never mistake one for the function's name.
        body = ATTRIBUTE.sub(lambda m: ' ' * len(m.group(0)), body)
        call = IDENT_CALL.search(body)
        if not call or re.search(r'\(\s*\*', body[:call.end() + 1]):
            continue  # a variable, or a pointer to a function
        name = call.group(1)
        if name == 'COCOON_API':
            continue
        yield name, re.search(r'\bCOCOON_API\b', body) is not None, begin, m.end()


def headers(include_dir):
    return sorted(pathlib.Path(include_dir).glob('*.h'))


def annotate(path):
    """Prefixes every unmarked declaration with COCOON_API, shifting its
    continuation lines so that aligned parameters stay aligned."""
    text = path.read_text()
    marker = 'COCOON_API '
    for name, has_api, begin, end in sorted(declarations(path), key=lambda d: -d[2]):
        if has_api:
            continue
        stmt = text[begin:end]
        stmt = stmt.replace('\n ', '\n' + ' ' * (len(marker) + 1))
        text = text[:begin] + marker + stmt + text[end:]
    path.write_text(text)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--annotate':
        for h in headers(sys.argv[2]):
            annotate(h)
    elif len(sys.argv) == 2:
        for h in headers(sys.argv[1]):
            for name, has_api, _, _ in declarations(h):
                print(f'{h.name}\t{name}\t{"COCOON_API" if has_api else "-"}')
    else:
        sys.exit('usage: public_api.py [--annotate] INCLUDE_DIR')
