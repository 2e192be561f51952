/* Prometheus metrics and their HTTP endpoint. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include "cocoon/aesm.h"
#include "common/util.h"
#include "metrics.h"

/* Latency buckets in microseconds: 0.25 ms .. 5 s. */
static const uint64_t bucket_us[] = { 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	                              1000000, 2500000, 5000000 };
#define N_BUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))
#define N_STATUS (COCOON_AESM_ERROR_MAX + 2) /* the last slot counts codes outside the table */

static struct {
	_Atomic uint64_t requests[QREQ_COUNT][N_STATUS];
	_Atomic uint64_t buckets[QREQ_COUNT][N_BUCKETS];
	_Atomic uint64_t count[QREQ_COUNT];
	_Atomic uint64_t sum_us[QREQ_COUNT];
	_Atomic uint64_t drops[QDROP_COUNT];
	_Atomic uint64_t connections_total;
	_Atomic int64_t connections_open;
	_Atomic int64_t queued, busy;
	_Atomic int64_t heartbeat;
	time_t started;
	char backend[16], version[32];
} m;

static const char *const req_names[QREQ_COUNT] = {
	"InitQuoteEx", "GetQuoteSizeEx", "GetQuoteEx", "SelectAttKeyID", "GetSupportedAttKeyIDNum",
	"GetSupportedAttKeyIDs", "unsupported", "malformed",
};
static const char *const drop_names[QDROP_COUNT] = { "read_timeout", "bad_length", "truncated", "write_failed" };

const char *quoted_req_type_name(quoted_req_type t)
{
	return (unsigned)t < QREQ_COUNT ? req_names[t] : "unknown";
}

static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void metrics_init(const char *backend, const char *version)
{
	snprintf(m.backend, sizeof(m.backend), "%s", backend);
	snprintf(m.version, sizeof(m.version), "%s", version);
	m.started = time(NULL);
	metrics_heartbeat();
}

void metrics_request(quoted_req_type t, uint32_t aesm_status, uint64_t micros)
{
	size_t s = aesm_status <= COCOON_AESM_ERROR_MAX ? aesm_status : N_STATUS - 1;

	if ((unsigned)t >= QREQ_COUNT)
		return;
	atomic_fetch_add_explicit(&m.requests[t][s], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.count[t], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.sum_us[t], micros, memory_order_relaxed);
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (micros <= bucket_us[i]) {
			atomic_fetch_add_explicit(&m.buckets[t][i], 1, memory_order_relaxed);
			break;
		}
}

void metrics_drop(quoted_drop_reason r)
{
	if ((unsigned)r < QDROP_COUNT)
		atomic_fetch_add_explicit(&m.drops[r], 1, memory_order_relaxed);
}

void metrics_connection_open(void)
{
	atomic_fetch_add_explicit(&m.connections_total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.connections_open, 1, memory_order_relaxed);
}

void metrics_connection_close(void)
{
	atomic_fetch_sub_explicit(&m.connections_open, 1, memory_order_relaxed);
}

void metrics_set_gauges(int64_t queued, int64_t workers_busy)
{
	atomic_store_explicit(&m.queued, queued, memory_order_relaxed);
	atomic_store_explicit(&m.busy, workers_busy, memory_order_relaxed);
}

void metrics_heartbeat(void)
{
	atomic_store(&m.heartbeat, now_s());
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

int metrics_render(char **out, size_t *len)
{
	cocoon_buf b = { 0 };
	int err = 0;

	*out = NULL;
	*len = 0;
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_build_info Version and backend of this cocoon-quoted.\n"
	                             "# TYPE cocoon_quoted_build_info gauge\n"
	                             "cocoon_quoted_build_info{version=\"%s\",backend=\"%s\"} 1\n",
	                         m.version, m.backend);
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_start_time_seconds Unix time the daemon started.\n"
	                             "# TYPE cocoon_quoted_start_time_seconds gauge\n"
	                             "cocoon_quoted_start_time_seconds %lld\n", (long long)m.started);
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_requests_total Requests answered, by type and aesm_error_t.\n"
	                             "# TYPE cocoon_quoted_requests_total counter\n");
	for (int t = 0; t < QREQ_COUNT; t++)
		for (int s = 0; s < (int)N_STATUS; s++) {
			uint64_t v = LOAD(m.requests[t][s]);
			/* Successes always appear so rates start at zero; error series once they occur. */
			if (v || s == 0)
				err |= cocoon_buf_printf(&b, "cocoon_quoted_requests_total{type=\"%s\",status=\"%s\"} %llu\n",
				                         req_names[t],
				                         s < (int)N_STATUS - 1 ? cocoon_aesm_error_name((uint32_t)s)
				                                               : "AESM_UNKNOWN_ERROR",
				                         (unsigned long long)v);
		}
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_request_duration_seconds Time from a whole request to its "
	                             "response, by type.\n# TYPE cocoon_quoted_request_duration_seconds histogram\n");
	for (int t = 0; t < QREQ_COUNT; t++) {
		uint64_t cum = 0;
		for (size_t i = 0; i < N_BUCKETS; i++) {
			cum += LOAD(m.buckets[t][i]);
			err |= cocoon_buf_printf(&b, "cocoon_quoted_request_duration_seconds_bucket{type=\"%s\",le=\"%g\"} "
			                         "%llu\n", req_names[t], (double)bucket_us[i] / 1e6, (unsigned long long)cum);
		}
		err |= cocoon_buf_printf(&b, "cocoon_quoted_request_duration_seconds_bucket{type=\"%s\",le=\"+Inf\"} %llu\n"
		                             "cocoon_quoted_request_duration_seconds_sum{type=\"%s\"} %.6f\n"
		                             "cocoon_quoted_request_duration_seconds_count{type=\"%s\"} %llu\n",
		                         req_names[t], (unsigned long long)LOAD(m.count[t]), req_names[t],
		                         (double)LOAD(m.sum_us[t]) / 1e6, req_names[t],
		                         (unsigned long long)LOAD(m.count[t]));
	}
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_dropped_total Connections closed without a served request.\n"
	                             "# TYPE cocoon_quoted_dropped_total counter\n");
	for (int r = 0; r < QDROP_COUNT; r++)
		err |= cocoon_buf_printf(&b, "cocoon_quoted_dropped_total{reason=\"%s\"} %llu\n", drop_names[r],
		                         (unsigned long long)LOAD(m.drops[r]));
	err |= cocoon_buf_printf(&b, "# HELP cocoon_quoted_connections_total Connections accepted.\n"
	                             "# TYPE cocoon_quoted_connections_total counter\n"
	                             "cocoon_quoted_connections_total %llu\n"
	                             "# HELP cocoon_quoted_connections_open Connections being read, queued or served.\n"
	                             "# TYPE cocoon_quoted_connections_open gauge\n"
	                             "cocoon_quoted_connections_open %lld\n"
	                             "# HELP cocoon_quoted_queue_depth Whole requests waiting for a worker.\n"
	                             "# TYPE cocoon_quoted_queue_depth gauge\n"
	                             "cocoon_quoted_queue_depth %lld\n"
	                             "# HELP cocoon_quoted_workers_busy Workers serving a request.\n"
	                             "# TYPE cocoon_quoted_workers_busy gauge\n"
	                             "cocoon_quoted_workers_busy %lld\n",
	                         (unsigned long long)LOAD(m.connections_total), (long long)LOAD(m.connections_open),
	                         (long long)LOAD(m.queued), (long long)LOAD(m.busy));
	if (err) {
		cocoon_buf_free(&b);
		return -1;
	}
	*out = (char *)b.data;
	*len = b.len;
	return 0;
}

/* ---- HTTP endpoint ---- */

static struct {
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	struct event *tick;
	atomic_int stop;
	int running;
} h;

static void on_metrics(struct evhttp_request *req, void *arg)
{
	char *text = NULL;
	size_t len = 0;
	(void)arg;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	if (metrics_render(&text, &len) != 0) {
		evhttp_send_error(req, 500, "cannot render metrics");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, len);
	evhttp_send_reply(req, 200, "OK", NULL);
	free(text);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	/* The event loop beats at least once a second; five missed beats mean it is stuck. */
	int ok = now_s() - atomic_load(&m.heartbeat) <= 5;
	(void)arg;

	evbuffer_add_printf(evhttp_request_get_output_buffer(req), ok ? "ok\n" : "event loop stalled\n");
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (atomic_load(&h.stop))
		event_base_loopexit(h.base, NULL);
}

static void *http_main(void *arg)
{
	(void)arg;
	event_base_dispatch(h.base);
	return NULL;
}

int metrics_http_start(const char *listen, char *err, size_t err_len)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	struct timeval tv = { 0, 200000 };
	char *end;
	long port;
	size_t hlen;

	if (!colon || colon == listen || !colon[1]) {
		snprintf(err, err_len, "--metrics-listen '%s': expected HOST:PORT, e.g. 127.0.0.1:9464", listen);
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	hlen = (size_t)(colon - listen);
	if (*end || port < 1 || port > 65535 || hlen >= sizeof(host)) {
		snprintf(err, err_len, "--metrics-listen '%s': the port must be 1..65535 after a host", listen);
		return -1;
	}
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') { /* [::1]:9464 */
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	if (!(h.base = event_base_new()) || !(h.http = evhttp_new(h.base)) ||
	    !(h.tick = event_new(h.base, -1, EV_PERSIST, on_tick, NULL)) || event_add(h.tick, &tv) != 0) {
		snprintf(err, err_len, "--metrics-listen: libevent initialisation failed");
		metrics_http_stop();
		return -1;
	}
	evhttp_set_allowed_methods(h.http, EVHTTP_REQ_GET);
	evhttp_set_max_headers_size(h.http, 8192);
	evhttp_set_max_body_size(h.http, 0);
	evhttp_set_timeout(h.http, 5);
	evhttp_set_cb(h.http, "/metrics", on_metrics, NULL);
	evhttp_set_cb(h.http, "/healthz", on_healthz, NULL);
	if (evhttp_bind_socket(h.http, host, (uint16_t)port) != 0) {
		snprintf(err, err_len, "--metrics-listen %s: cannot listen on %s port %ld (in use, or not a local address)",
		         listen, host, port);
		metrics_http_stop();
		return -1;
	}
	if (pthread_create(&h.thread, NULL, http_main, NULL) != 0) {
		snprintf(err, err_len, "--metrics-listen: cannot start the HTTP thread");
		metrics_http_stop();
		return -1;
	}
	h.running = 1;
	return 0;
}

void metrics_http_stop(void)
{
	if (h.running) {
		atomic_store(&h.stop, 1);
		pthread_join(h.thread, NULL);
		h.running = 0;
	}
	if (h.tick)
		event_free(h.tick);
	if (h.http)
		evhttp_free(h.http);
	if (h.base)
		event_base_free(h.base);
	h.tick = NULL;
	h.http = NULL;
	h.base = NULL;
}
