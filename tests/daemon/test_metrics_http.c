/*
 * The daemons' metrics endpoint without sockets: the request parser's
 * verdicts (route, or the exact HTTP status for each way a head can be
 * wrong) and the Prometheus rendering of the registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics_http.h"

static int parse(const char *s, cocoon_mhttp_req *req)
{
	return cocoon_mhttp_parse(req, s, strlen(s));
}

static void test_routes(void **state)
{
	cocoon_mhttp_req req;

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &req), 0);
	assert_int_equal(req.route, COCOON_MHTTP_METRICS);
	assert_int_equal(req.head_len, strlen("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
	assert_int_equal(parse("GET /healthz HTTP/1.0\r\n\r\n", &req), 0);
	assert_int_equal(req.route, COCOON_MHTTP_HEALTHZ);
	assert_int_equal(parse("GET /readyz?verbose HTTP/1.1\r\n\r\n", &req), 0);
	assert_int_equal(req.route, COCOON_MHTTP_READYZ);
	assert_int_equal(parse("GET /metricsx HTTP/1.1\r\n\r\n", &req), 0);
	assert_int_equal(req.route, COCOON_MHTTP_NOT_FOUND);
}

static void test_rejections(void **state)
{
	char big[COCOON_MHTTP_MAX_REQUEST + 16], target[COCOON_MHTTP_MAX_TARGET + 40];
	cocoon_mhttp_req req;

	(void)state;
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n", &req), 1); /* incomplete */
	assert_int_equal(parse("", &req), 1);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", &req), 405);
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &req), 405);
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET  /metrics HTTP/1.1\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET /metrics\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: a\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nX: a\rb\r\n\r\n", &req), 400);
	assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n", &req), 505);
	assert_int_equal(parse("GET /metrics FTP/1.1\r\n\r\n", &req), 400);
	assert_int_equal(cocoon_mhttp_parse(&req, "GET /\0 HTTP/1.1", 15), 400);
	snprintf(target, sizeof(target), "GET /%0*d HTTP/1.1\r\n\r\n", COCOON_MHTTP_MAX_TARGET, 0);
	assert_int_equal(parse(target, &req), 414);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(cocoon_mhttp_parse(&req, big, COCOON_MHTTP_MAX_REQUEST), 431);
}

static void test_render(void **state)
{
	cocoon_metrics *m;
	cocoon_metric *a, *b, *g;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(cocoon_metrics_new(&m), 0);
	a = cocoon_metrics_counter(m, "cocoon_t_calls_total", "resource=\"x\"", "Calls.");
	g = cocoon_metrics_gauge(m, "cocoon_t_up", NULL, "Up.");
	b = cocoon_metrics_counter(m, "cocoon_t_calls_total", "resource=\"y\"", "Calls.");
	cocoon_metric_inc(a);
	cocoon_metric_add(b, 5);
	cocoon_metric_set(g, -1);
	cocoon_metric_inc(NULL); /* a full registry hands out NULL; updates ignore it */
	assert_int_equal(cocoon_metrics_render(&text, &len, m), 0);
	assert_string_equal(text, "# HELP cocoon_t_calls_total Calls.\n"
	                          "# TYPE cocoon_t_calls_total counter\n"
	                          "cocoon_t_calls_total{resource=\"x\"} 1\n"
	                          "cocoon_t_calls_total{resource=\"y\"} 5\n"
	                          "# HELP cocoon_t_up Up.\n"
	                          "# TYPE cocoon_t_up gauge\n"
	                          "cocoon_t_up -1\n");
	assert_int_equal(len, strlen(text));
	free(text);
	for (int i = 3; i < COCOON_METRICS_MAX; i++)
		assert_non_null(cocoon_metrics_gauge(m, "cocoon_t_fill", NULL, "Fill."));
	assert_null(cocoon_metrics_gauge(m, "cocoon_t_over", NULL, "Over."));
	cocoon_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
