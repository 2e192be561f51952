#!/usr/bin/env python3
"""
Self-test of the header reader behind abi.exports (public_api.py): the
declaration shapes a public header may use are found, with or without
COCOON_API, and nothing else is mistaken for a public function.
"""
import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import public_api  # noqa: E402

HEADER = r'''
/* A comment that looks like a declaration: int cocoon_in_comment(void); */
#ifndef X_H
#define X_H
#include "common.h"
#define COCOON_FAKE_MACRO(x) cocoon_in_macro(x)
#ifdef __cplusplus
extern "C" {
#endif

typedef int (*cocoon_callback)(void *ctx, int n);
typedef struct {
	int (*open)(void *ctx, const char *path);
	void (*sleep_ms)(void *ctx, unsigned ms);
} cocoon_sys;
static inline int cocoon_inline_helper(int a) { return a + 1; }
extern const char cocoon_some_table[];

COCOON_API int cocoon_simple(int a);
COCOON_API const char *cocoon_returns_pointer(const cocoon_sys *s,
                                              cocoon_callback cb);
COCOON_API __attribute__((warn_unused_result)) int cocoon_with_attribute(void);
int cocoon_unmarked(char **out,
                    const char *text);
COCOON_API void cocoon_printf_like(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif
'''


class PublicApiTest(unittest.TestCase):
    def test_declarations(self):
        with tempfile.TemporaryDirectory() as d:
            h = pathlib.Path(d) / 'x.h'
            h.write_text(HEADER)
            found = {name: api for name, api, _, _ in public_api.declarations(h)}
            self.assertEqual(found, {
                'cocoon_simple': True,
                'cocoon_returns_pointer': True,
                'cocoon_with_attribute': True,
                'cocoon_unmarked': False,
                'cocoon_printf_like': True,
            })

    def test_annotate_marks_only_unmarked(self):
        with tempfile.TemporaryDirectory() as d:
            h = pathlib.Path(d) / 'x.h'
            h.write_text(HEADER)
            public_api.annotate(h)
            found = {name: api for name, api, _, _ in public_api.declarations(h)}
            self.assertTrue(all(found.values()))
            self.assertEqual(len(found), 5)
            self.assertIn('COCOON_API int cocoon_unmarked(char **out,\n'
                          '                               const char *text);', h.read_text())
            self.assertEqual(h.read_text().count('COCOON_API'), 5)

    def test_every_header_is_read(self):
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / 'a.h').write_text('COCOON_API int cocoon_a(void);\n')
            (pathlib.Path(d) / 'new_area.h').write_text('int cocoon_b(void);\n')
            self.assertEqual([h.name for h in public_api.headers(d)], ['a.h', 'new_area.h'])


if __name__ == '__main__':
    unittest.main()
