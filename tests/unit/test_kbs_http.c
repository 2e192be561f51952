/* The KBS guest client's HTTP pieces (include/cocoon/kbs.h): URL parsing, the loopback rule, the reply parser. */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include "cocoon/kbs.h"

static void expect_msg(const char *part)
{
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("'%s' not in '%s'", part, cocoon_error_last()->message);
}

static int parse(cocoon_kbs_http_response *r, const char *text, size_t max, int eof)
{
	return cocoon_kbs_http_parse_response(r, (const uint8_t *)text, strlen(text), max, eof);
}

static void test_url(void **state)
{
	cocoon_kbs_url u;
	(void)state;
	assert_int_equal(cocoon_kbs_url_parse(&u, "https://kbs.example:8443/prefix/"), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "kbs.example");
	assert_string_equal(u.port, "8443");
	assert_string_equal(u.prefix, "/prefix");
	assert_int_equal(cocoon_kbs_url_parse(&u, "http://[::1]"), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "80");
	assert_int_equal(cocoon_kbs_url_parse(&u, "ftp://x"), COCOON_EINVAL);
	expect_msg("scheme");
	assert_int_equal(cocoon_kbs_url_parse(&u, "http://user@127.0.0.1/"), COCOON_EINVAL);
	expect_msg("user@");
	assert_int_equal(cocoon_kbs_url_parse(&u, "http://127.0.0.1:99999"), COCOON_EINVAL);
	assert_int_equal(cocoon_kbs_url_parse(&u, "http://h/x?y"), COCOON_EINVAL);
	assert_int_equal(cocoon_kbs_url_parse(&u, "http://:80"), COCOON_EINVAL);
	assert_true(cocoon_kbs_host_is_loopback("127.3.4.5"));
	assert_true(cocoon_kbs_host_is_loopback("LOCALHOST"));
	assert_true(cocoon_kbs_host_is_loopback("::1"));
	assert_false(cocoon_kbs_host_is_loopback("128.0.0.1"));
	assert_false(cocoon_kbs_host_is_loopback("localhost.evil.example"));
	assert_false(cocoon_kbs_host_is_loopback("::ffff:10.0.0.1"));
}

static void test_client_rules(void **state)
{
	cocoon_kbs_client_options o = COCOON_KBS_CLIENT_OPTIONS_INIT;
	cocoon_kbs_client *c = NULL;
	uint8_t *v;
	size_t n;
	(void)state;
	o.url = "http://10.0.0.1:8080";
	o.tee = COCOON_TEE_SNP;
	assert_int_equal(cocoon_kbs_client_new(&c, &o), COCOON_EINVAL);
	expect_msg("loopback");
	o.provider = "sim"; /* simulated evidence may use plain http anywhere */
	assert_int_equal(cocoon_kbs_client_new(&c, &o), 0);
	assert_int_equal(cocoon_kbs_client_get_resource(&v, &n, c, "a/../b"), COCOON_EFORMAT);
	assert_int_equal(cocoon_kbs_client_failure(c), COCOON_KBS_FAIL_CONFIG);
	cocoon_kbs_client_free(c);
	o.version = 99;
	assert_int_equal(cocoon_kbs_client_new(&c, &o), COCOON_EINVAL);
}

static void test_reply(void **state)
{
	cocoon_kbs_http_response r;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nset-cookie: kbs-session-id=ab12; Path=/\r\n\r\nhello";
	(void)state;
	assert_int_equal(parse(&r, ok, 100, 0), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal((char *)r.body, "hello");
	assert_string_equal(r.session_cookie, "ab12");
	cocoon_kbs_http_response_clear(&r);
	/* Every proper prefix needs more bytes; at EOF it is a truncation (retryable). */
	for (size_t i = 0; i < strlen(ok); i++) {
		assert_int_equal(cocoon_kbs_http_parse_response(&r, (const uint8_t *)ok, i, 100, 0), 1);
		assert_int_equal(cocoon_kbs_http_parse_response(&r, (const uint8_t *)ok, i, 100, 1), COCOON_EUNAVAILABLE);
	}
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;e=1\r\nde\r\n0\r\nT: x\r\n\r\n",
	                       100, 0), 0);
	assert_string_equal((char *)r.body, "abcde");
	cocoon_kbs_http_response_clear(&r);
	assert_int_equal(parse(&r, "HTTP/1.0 403 Forbidden\r\n\r\n{\"x\":1}", 100, 0), 1);
	assert_int_equal(parse(&r, "HTTP/1.0 403 Forbidden\r\n\r\n{\"x\":1}", 100, 1), 0);
	assert_int_equal(r.status, 403);
	cocoon_kbs_http_response_clear(&r);

	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100, 0), COCOON_EFORMAT);
	expect_msg("exceeds the limit");
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 100, 0), COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 100, 0),
	                 COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 100, 0),
	                 COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 100, 0), COCOON_EUNSUPPORTED);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100, 0), COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 100, 0),
	                 COCOON_EFORMAT);
	assert_int_equal(parse(&r, "SSH-2.0-OpenSSH\r\n\r\n", 100, 0), COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nSet-Cookie: kbs-session-id=a b\r\n\r\n", 100, 1), COCOON_EFORMAT);
	assert_int_equal(parse(&r, "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 100, 1), COCOON_EFORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_client_rules),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
