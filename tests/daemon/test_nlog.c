/*
 * The daemons' JSON-lines logger (src/lib/daemon/nlog.c): the line format
 * every daemon's tests and operators rely on, level filtering, and that
 * fields can neither replace the fixed keys nor break a line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "nlog.h"

/* Runs fn with stderr redirected to a file and returns what it wrote (caller frees). */
static char *capture(void (*fn)(void))
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out;
	long n;

	assert_non_null(f);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = ftell(f);
	assert_true(n >= 0);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	rewind(f);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return out;
}

/* The single line in text, parsed; fails unless text is exactly one line. */
static json_t *one_line(const char *text)
{
	json_error_t err;
	const char *nl = strchr(text, '\n');
	json_t *o;

	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');
	o = json_loadb(text, (size_t)(nl - text), 0, &err);
	assert_non_null(o);
	assert_true(json_is_object(o));
	return o;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static void log_with_fields(void)
{
	nlog_warn("disk \"full\"\nsoon", "{s:s,s:I}", "path", "/var/x", "bytes", (json_int_t)42);
}

static void test_line_format(void **state)
{
	char *text;
	json_t *o;
	const char *ts;

	(void)state;
	cocoon_nlog_init("test-daemon", COCOON_NLOG_INFO);
	text = capture(log_with_fields);
	/* Fixed keys first, in this order: log shippers and the daemons' tests grep for them. */
	assert_true(strncmp(text, "{\"ts\":\"", 7) == 0);
	assert_non_null(strstr(text, "\",\"level\":\"warn\",\"component\":\"test-daemon\",\"msg\":"));
	o = one_line(text);
	ts = str(o, "ts");
	assert_int_equal(strlen(ts), 24); /* 2025-07-19T10:01:17.123Z */
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[23], 'Z');
	assert_string_equal(str(o, "msg"), "disk \"full\"\nsoon");
	assert_string_equal(str(o, "path"), "/var/x");
	assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 42);
	assert_null(json_object_get(o, "log_error"));
	json_decref(o);
	free(text);
}

static void log_below_and_at_level(void)
{
	nlog_info("dropped", NULL);
	nlog_debug("dropped", NULL);
	cocoon_nlog(7, "dropped: no such level", NULL);
	cocoon_nlog(-1, "dropped: no such level", NULL);
	nlog_error("kept", NULL);
}

static void test_level_filter(void **state)
{
	char *text;
	json_t *o;

	(void)state;
	cocoon_nlog_init("test-daemon", COCOON_NLOG_INFO);
	cocoon_nlog_set_level(COCOON_NLOG_WARN);
	assert_false(cocoon_nlog_enabled(COCOON_NLOG_INFO));
	assert_true(cocoon_nlog_enabled(COCOON_NLOG_WARN));
	assert_false(cocoon_nlog_enabled(7));
	text = capture(log_below_and_at_level);
	o = one_line(text);
	assert_string_equal(str(o, "msg"), "kept");
	assert_string_equal(str(o, "level"), "error");
	json_decref(o);
	free(text);
	assert_int_equal(cocoon_nlog_level_parse("debug"), COCOON_NLOG_DEBUG);
	assert_int_equal(cocoon_nlog_level_parse("error"), COCOON_NLOG_ERROR);
	assert_int_equal(cocoon_nlog_level_parse("verbose"), -1);
}

static void log_overriding_fields(void)
{
	nlog_info("real", "{s:s,s:s,s:s}", "level", "debug", "msg", "forged", "component", "other");
}

static void test_fields_never_replace_fixed_keys(void **state)
{
	char *text;
	json_t *o;

	(void)state;
	cocoon_nlog_init("test-daemon", COCOON_NLOG_INFO);
	text = capture(log_overriding_fields);
	o = one_line(text);
	assert_string_equal(str(o, "level"), "info");
	assert_string_equal(str(o, "msg"), "real");
	assert_string_equal(str(o, "component"), "test-daemon");
	json_decref(o);
	free(text);
}

static void log_bad_format(void)
{
	nlog_info("kept despite a bad format", "{s:s", "a", "b");
}

static void log_json_fields(void)
{
	json_t *f = json_pack("{s:f,s:s}", "ms", 1.25, "path", "/attest/SgxEnclave");
	json_t *not_object = json_array();

	cocoon_nlog_json(COCOON_NLOG_INFO, "request", f);
	cocoon_nlog_json(COCOON_NLOG_INFO, "odd fields", not_object);
	json_decref(f);
	json_decref(not_object);
}

static void test_bad_fields_are_reported(void **state)
{
	char *text, *first, *second;
	json_t *o;

	(void)state;
	cocoon_nlog_init("test-daemon", COCOON_NLOG_INFO);
	text = capture(log_bad_format);
	o = one_line(text);
	assert_string_equal(str(o, "msg"), "kept despite a bad format");
	assert_non_null(json_object_get(o, "log_error"));
	json_decref(o);
	free(text);

	text = capture(log_json_fields);
	second = strchr(text, '\n');
	assert_non_null(second);
	second++;
	first = strndup(text, (size_t)(second - text));
	assert_non_null(first);
	o = one_line(first);
	free(first);
	assert_string_equal(str(o, "path"), "/attest/SgxEnclave");
	assert_true(json_real_value(json_object_get(o, "ms")) == 1.25);
	json_decref(o);
	o = one_line(second);
	assert_string_equal(str(o, "msg"), "odd fields");
	assert_non_null(json_object_get(o, "log_error"));
	json_decref(o);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_fields_never_replace_fixed_keys),
		cmocka_unit_test(test_bad_fields_are_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
