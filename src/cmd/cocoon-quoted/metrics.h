/*
 * Prometheus metrics for cocoon-quoted: lock-free counters updated by the
 * workers, rendered in the text exposition format, and served over HTTP
 * (libevent's evhttp, its own thread) when --metrics-listen is given.
 */
#ifndef QUOTED_METRICS_H
#define QUOTED_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	QREQ_INIT_QUOTE_EX = 0,
	QREQ_GET_QUOTE_SIZE_EX,
	QREQ_GET_QUOTE_EX,
	QREQ_SELECT_ATT_KEY_ID,
	QREQ_GET_SUPPORTED_ATT_KEY_ID_NUM,
	QREQ_GET_SUPPORTED_ATT_KEY_IDS,
	QREQ_UNSUPPORTED,   /* well-formed, but not the quote-ex family */
	QREQ_MALFORMED,     /* bad framing, garbage, timeout before a whole request */
	QREQ_COUNT
} quoted_req_type;

const char *quoted_req_type_name(quoted_req_type t);

typedef enum {
	QDROP_TIMEOUT = 0,  /* no whole request before --read-timeout-ms */
	QDROP_OVERSIZE,     /* length prefix over --max-message or zero */
	QDROP_TRUNCATED,    /* peer closed mid-request */
	QDROP_WRITE_FAILED, /* the response could not be delivered */
	QDROP_COUNT
} quoted_drop_reason;

void metrics_init(const char *backend, const char *version);
void metrics_request(quoted_req_type t, uint32_t aesm_status, uint64_t micros);
void metrics_drop(quoted_drop_reason r);
void metrics_connection_open(void);
void metrics_connection_close(void);
void metrics_set_gauges(int64_t queued, int64_t workers_busy);
/* The event loop calls this at least every second; /healthz checks it. */
void metrics_heartbeat(void);

/* Renders every metric (caller frees). */
int metrics_render(char **out, size_t *len);

/* Serves /metrics and /healthz on host:port; 0 or -1 with the reason in err. */
int metrics_http_start(const char *listen, char *err, size_t err_len);
void metrics_http_stop(void);

#endif
