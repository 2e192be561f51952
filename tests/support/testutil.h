/* Shared helpers for cmocka unit tests. Include after <cmocka.h>'s prerequisites. */
#ifndef COCOON_TESTUTIL_H
#define COCOON_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Directory of the real vectors: $COCOON_VECTORS, else ../shared/vectors beside the source tree. */
const char *cocoon_test_vectors_dir(void);
/* Reads VECTORS/rel into a malloc'd buffer (NUL-terminated); NULL when absent. */
uint8_t *cocoon_test_vector(const char *rel, size_t *len);
/* True when the vectors directory exists; otherwise prints why tests skip. */
int cocoon_test_have_vectors(void);
/* Reads a file or fails the test. */
uint8_t *cocoon_test_read(const char *path, size_t *len);

/* Pinned verification times inside each vector's collateral window
 * (one second before the earliest nextUpdate, as dcap-qvl's tests do). */
#define COCOON_TEST_AT_SGX ((time_t)1752919277)  /* 2025-07-19T10:01:17Z */
#define COCOON_TEST_AT_TDX ((time_t)1752919234)  /* 2025-07-19T10:00:34Z */
#define COCOON_TEST_AT_TDX_OUTDATED ((time_t)1774003274) /* 2026-03-20T10:41:14Z */

/* Skips the current cmocka test with a message when vectors are absent. */
#define COCOON_REQUIRE_VECTORS()                                                              \
	do {                                                                                  \
		if (!cocoon_test_have_vectors()) {                                            \
			skip();                                                               \
		}                                                                             \
	} while (0)

#endif
