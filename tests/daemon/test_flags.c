/*
 * The daemons' integer flag parser (src/lib/daemon/flags.c): what it accepts,
 * what it refuses, and the message that names the flag, range and value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "cocoon/common.h"
#include "flags.h"

static void test_accepts_decimal_in_range(void **state)
{
	unsigned long v = 7;

	(void)state;
	assert_int_equal(cocoon_flag_uint(&v, "--n", "0", 0, 10), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cocoon_flag_uint(&v, "--n", "86400", 1, 86400), 0);
	assert_int_equal(v, 86400);
	assert_int_equal(cocoon_flag_uint(&v, "--n", "010", 1, 86400), 0); /* decimal, not octal */
	assert_int_equal(v, 10);
}

static void test_refuses_everything_else(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "11",
		                           "99999999999999999999999999" };
	unsigned long v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		assert_int_equal(cocoon_flag_uint(&v, "--n", bad[i], 1, 10), COCOON_EINVAL);
		assert_int_equal(v, 42); /* untouched on failure */
	}
	assert_int_equal(cocoon_flag_uint(&v, "--n", "0", 1, 10), COCOON_EINVAL);
	assert_int_equal(cocoon_flag_uint(&v, "--n", NULL, 1, 10), COCOON_EINVAL);
}

static void test_message_names_flag_range_and_value(void **state)
{
	unsigned long v;

	(void)state;
	assert_int_equal(cocoon_flag_uint(&v, "--workers", "0", 1, 256), COCOON_EINVAL);
	assert_string_equal(cocoon_error_last()->message, "--workers: expected an integer from 1 to 256, got '0'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_decimal_in_range),
		cmocka_unit_test(test_refuses_everything_else),
		cmocka_unit_test(test_message_names_flag_range_and_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
