/* The collateral client's HTTP layer (libcurl): one GET with retries, backoff and a per-host limit. */
#ifndef COCOON_COLLATERAL_HTTP_H
#define COCOON_COLLATERAL_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *ca_file;
	int max_attempts;
	long timeout_ms, deadline_ms, backoff_ms, max_backoff_ms;
	int per_host;
} coll_http_opts;

typedef struct {
	long status;
	uint8_t *body;
	size_t body_len;
	char *headers;          /* the final response's header block, NUL-terminated */
	size_t headers_len;
	int attempts;
} coll_http_resp;

/*
 * GETs url. Returns 0 with a 200 response; otherwise an error naming the
 * URL and the status (COCOON_ENOTFOUND for 404, COCOON_EUNAVAILABLE for
 * transport errors and 429/5xx after the retries, COCOON_EIO for other
 * statuses). Only 429 and 5xx and transport errors are retried.
 */
int coll_http_get(coll_http_resp *out, const char *url, const coll_http_opts *o);
void coll_http_resp_clear(coll_http_resp *r);

/* Seconds of a Retry-After header (delta-seconds form), or -1. */
long coll_http_retry_after(const char *headers, size_t len);
/* The value of header name in a header block (first match, case-insensitive); NULL when absent. */
int coll_http_header(const char **value, size_t *value_len, const char *headers, size_t len, const char *name);

#endif
