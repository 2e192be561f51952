/*
 * Prometheus metrics and health endpoints for the node daemons: a fixed,
 * lock-free registry of counters and gauges rendered in the text exposition
 * format, and a tiny HTTP/1.1 server (GET only, one request per connection)
 * that runs on the daemon's own event loop. Serving on that loop is the
 * point: when the loop hangs, /healthz stops answering and the kubelet's
 * probe fails. Internal to the daemons; not part of libcocoon.
 */
#ifndef COCOON_METRICS_HTTP_H
#define COCOON_METRICS_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "loop.h"

#define COCOON_METRICS_MAX 64
#define COCOON_MHTTP_MAX_REQUEST 4096 /* request line plus headers */
#define COCOON_MHTTP_MAX_TARGET 256

typedef struct {
	_Atomic int64_t v;
} cocoon_metric;

typedef struct cocoon_metrics cocoon_metrics;

int cocoon_metrics_new(cocoon_metrics **out);
void cocoon_metrics_free(cocoon_metrics *m);
/*
 * Registration happens before the daemon starts threads or serving. name is
 * the full metric name (cocoon_<daemon>_...); labels is NULL or a rendered
 * label set without braces (resource="x"). All strings must outlive m.
 * Returns NULL when the registry is full (COCOON_METRICS_MAX); the update
 * functions accept NULL, and the caller logs the error once.
 */
cocoon_metric *cocoon_metrics_counter(cocoon_metrics *m, const char *name, const char *labels, const char *help);
cocoon_metric *cocoon_metrics_gauge(cocoon_metrics *m, const char *name, const char *labels, const char *help);

/* Safe from any thread. */
void cocoon_metric_add(cocoon_metric *c, int64_t n);
void cocoon_metric_set(cocoon_metric *c, int64_t v);
int64_t cocoon_metric_get(const cocoon_metric *c);
#define cocoon_metric_inc(c) cocoon_metric_add((c), 1)

/* Renders every metric, HELP and TYPE once per name (caller frees *out). */
int cocoon_metrics_render(char **out, size_t *len, const cocoon_metrics *m);

/* The request parser, exposed for the fuzzer. */
typedef enum {
	COCOON_MHTTP_METRICS = 1,
	COCOON_MHTTP_HEALTHZ,
	COCOON_MHTTP_READYZ,
	COCOON_MHTTP_NOT_FOUND
} cocoon_mhttp_route;

typedef struct {
	cocoon_mhttp_route route;
	size_t head_len; /* bytes up to and including the blank line */
} cocoon_mhttp_req;

/*
 * Parses the head of one request in buf[0..len). Returns 0 with *req filled,
 * 1 when more bytes are needed, or the HTTP status to answer with: 400 (bad
 * request line, control bytes), 405 (not GET), 414 (target too long), 431
 * (head over COCOON_MHTTP_MAX_REQUEST), 505 (not HTTP/1.0 or 1.1).
 */
int cocoon_mhttp_parse(cocoon_mhttp_req *req, const char *buf, size_t len);

/*
 * Health: 0 when healthy (ready when ready != 0), otherwise nonzero with a
 * one-line reason in why. NULL check: /healthz answers 200 while the loop
 * runs and /readyz is 404.
 */
typedef int (*cocoon_health_fn)(void *ctx, int ready, char *why, size_t why_len);

typedef struct cocoon_mhttp cocoon_mhttp;

/*
 * Listens on HOST:PORT (IPv4, or [IPv6]; port 0 picks one, see
 * cocoon_mhttp_port) and serves /metrics, /healthz and /readyz on loop.
 * COCOON_EINVAL for a malformed address, COCOON_EIO when it cannot bind.
 */
int cocoon_mhttp_start(cocoon_mhttp **out, cocoon_loop *loop, const char *listen, cocoon_metrics *reg,
                       cocoon_health_fn check, void *ctx);
int cocoon_mhttp_port(const cocoon_mhttp *s);
void cocoon_mhttp_stop(cocoon_mhttp *s);

/*
 * For a daemon idling on a node without its hardware (--wait-without-sgx):
 * serves reg with /healthz and /readyz always 200 until SIGTERM or SIGINT
 * (which the caller has blocked). addr NULL just waits. Returns 0, or the
 * cocoon_mhttp_start error.
 */
int cocoon_mhttp_idle(const char *addr, cocoon_metrics *reg);

#endif
