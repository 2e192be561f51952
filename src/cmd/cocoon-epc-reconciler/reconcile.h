/*
 * The sgx.intel.com/epc reconciler: keeps the node's status capacity of that
 * extended resource (bytes of EPC) equal to what this node has, through
 * PATCH of nodes/<name>/status. The kubelet zeroes such capacities when it
 * restarts (kubernetes#64784), so the value is re-checked periodically, and
 * quickly after a restart is seen. API errors are retried with backoff
 * (1 s doubling to 60 s); the reconciler never exits on them.
 */
#ifndef COCOON_RECONCILE_H
#define COCOON_RECONCILE_H

#include <stdatomic.h>
#include <stdint.h>
#include "kube.h"
#include "metrics_http.h"

/* What the reconciler thread reports to /metrics and /healthz (main.c owns it). */
typedef struct {
	cocoon_metric *rounds, *patches, *failures, *last_success;
	_Atomic int64_t last_round_ms; /* monotonic end of the last round, 0 before the first */
	atomic_int last_ok;            /* 1 when the last round succeeded */
} cocoon_epcrec_stats;

typedef struct cocoon_epcrec cocoon_epcrec;

/* Starts the reconciler thread; it takes ownership of *kc. stats may be NULL; it must outlive the thread. */
int cocoon_epcrec_start(cocoon_epcrec **out, cocoon_kube_config *kc, const char *node, uint64_t epc_bytes,
                        unsigned resync_s, cocoon_epcrec_stats *stats);
/* The kubelet restarted: re-check at 1, 2, 4, 8 and 16 s, then as usual. */
void cocoon_epcrec_kick(cocoon_epcrec *r);
/* Stops (aborting a request in flight) and frees. */
void cocoon_epcrec_stop(cocoon_epcrec *r);

/* One check-and-patch round; exposed for tests. *patched says whether a PATCH was sent. */
int cocoon_epcrec_reconcile(const cocoon_kube_config *kc, const char *node, uint64_t epc_bytes, int *patched,
                            const atomic_int *stop);

/* Reply parsing, exposed for the fuzzer. resp->body must be NUL-terminated.
 * capacity_of reads status.capacity["sgx.intel.com/epc"] of a Node (*present
 * = 0 when absent or unreadable; COCOON_EFORMAT when the body is not JSON);
 * http_error turns a non-200 reply into an error that quotes Status.message. */
int cocoon_epcrec_capacity_of(uint64_t *value, int *present, const cocoon_kube_response *resp,
                              const char *what);
int cocoon_epcrec_http_error(const cocoon_kube_response *resp, const char *what, const char *node);

#endif
