/* sgx.intel.com/epc node-status reconciler; see reconcile.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "common/util.h"
#include "loop.h"
#include "nlog.h"
#include "reconcile.h"
#include "resource.h"

#define REQUEST_TIMEOUT_S 15
#define MAX_BACKOFF_S 60
#define FAST_STEPS 5

struct cocoon_epcrec {
	cocoon_kube_config kc;
	char *node;
	uint64_t epc_bytes;
	unsigned resync_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop;
	int kicked;
	cocoon_epcrec_stats *stats;
};

static void stats_round(cocoon_epcrec_stats *st, int rc, int patched)
{
	if (!st)
		return;
	cocoon_metric_inc(st->rounds);
	if (rc == 0) {
		cocoon_metric_set(st->last_success, (int64_t)time(NULL));
		if (patched)
			cocoon_metric_inc(st->patches);
	} else {
		cocoon_metric_inc(st->failures);
	}
	atomic_store(&st->last_ok, rc == 0);
	atomic_store(&st->last_round_ms, (int64_t)cocoon_loop_now_ms());
}

/* The API server's Status.message, or the start of the body. */
static void api_message(char *out, size_t len, const cocoon_kube_response *resp)
{
	json_t *root = json_loadb(resp->body, resp->len, 0, NULL);
	const char *m = json_string_value(json_object_get(root, "message"));

	snprintf(out, len, "%.300s", m ? m : (resp->body ? resp->body : ""));
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	json_decref(root);
}

int cocoon_epcrec_http_error(const cocoon_kube_response *resp, const char *what, const char *node)
{
	char msg[320];

	api_message(msg, sizeof(msg), resp);
	if (resp->status == 401 || resp->status == 403)
		return cocoon_error_set(COCOON_EREJECT,
		                        "%s: the API server refused the service account (HTTP %ld: %s); it needs get on "
		                        "nodes and patch on nodes/status (deploy/kubernetes/sgx-plugin-rbac.yaml)",
		                        what, resp->status, msg);
	if (resp->status == 404)
		return cocoon_error_set(COCOON_ENOTFOUND, "%s: node '%s' does not exist (HTTP 404); check NODE_NAME",
		                        what, node);
	return cocoon_error_set(COCOON_EIO, "%s: HTTP %ld: %s", what, resp->status, msg);
}

int cocoon_epcrec_capacity_of(uint64_t *value, int *present, const cocoon_kube_response *resp,
                              const char *what)
{
	json_error_t err;
	json_t *root = json_loadb(resp->body, resp->len, 0, &err);
	json_t *cap = json_object_get(json_object_get(json_object_get(root, "status"), "capacity"),
	                              COCOON_RES_NAME_EPC_BYTES);
	int rc = 0;

	*present = 0;
	if (!root) {
		rc = cocoon_error_set(COCOON_EFORMAT, "%s: the reply is not JSON (line %d: %s)", what, err.line,
		                      err.text);
	} else if (cap) {
		/* A value we cannot read is simply not ours: patching it is the fix. */
		*present = json_is_string(cap) && cocoon_kube_quantity_parse(value, json_string_value(cap)) == 0;
	}
	json_decref(root);
	return rc;
}

int cocoon_epcrec_reconcile(const cocoon_kube_config *kc, const char *node, uint64_t epc_bytes, int *patched,
                            const atomic_int *stop)
{
	cocoon_kube_response resp;
	char path[300], body[256], what[320];
	uint64_t have = 0;
	int present = 0, rc;

	*patched = 0;
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
	snprintf(what, sizeof(what), "GET %s", path);
	if ((rc = cocoon_kube_request(&resp, kc, "GET", path, NULL, NULL, REQUEST_TIMEOUT_S, stop)) != 0)
		return rc;
	rc = resp.status == 200 ? cocoon_epcrec_capacity_of(&have, &present, &resp, what)
	                        : cocoon_epcrec_http_error(&resp, what, node);
	cocoon_kube_response_free(&resp);
	if (rc != 0 || (present && have == epc_bytes))
		return rc;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", node);
	snprintf(what, sizeof(what), "PATCH %s", path);
	snprintf(body, sizeof(body), "{\"status\":{\"capacity\":{\"%s\":\"%llu\"}}}", COCOON_RES_NAME_EPC_BYTES,
	         (unsigned long long)epc_bytes);
	if ((rc = cocoon_kube_request(&resp, kc, "PATCH", path, "application/merge-patch+json", body,
	                              REQUEST_TIMEOUT_S, stop)) != 0)
		return rc;
	if (resp.status != 200) {
		rc = cocoon_epcrec_http_error(&resp, what, node);
	} else if ((rc = cocoon_epcrec_capacity_of(&have, &present, &resp, what)) == 0 &&
	           (!present || have != epc_bytes)) {
		rc = cocoon_error_set(COCOON_EIO, "%s: the patched node still does not show %s=%llu", what,
		                      COCOON_RES_NAME_EPC_BYTES, (unsigned long long)epc_bytes);
	}
	cocoon_kube_response_free(&resp);
	if (rc == 0) {
		*patched = 1;
		nlog_info("patched node status capacity", "{s:s,s:s,s:I,s:s}", "node", node, "resource",
		          COCOON_RES_NAME_EPC_BYTES, "bytes", (json_int_t)epc_bytes, "previous",
		          present ? "other value" : "absent");
	}
	return rc;
}

/* Sleeps up to seconds, or until kicked or stopped; returns 1 when kicked. */
static int wait_for(cocoon_epcrec *r, unsigned seconds)
{
	struct timespec until;
	int kicked;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&r->mu);
	while (!r->stop && !r->kicked)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
			break;
	kicked = r->kicked;
	r->kicked = 0;
	pthread_mutex_unlock(&r->mu);
	return kicked;
}

static void *rec_main(void *arg)
{
	cocoon_epcrec *r = arg;
	unsigned backoff = 1, fast = 0, failures = 0;
	int ok_logged = 0;

	while (!r->stop) {
		int patched = 0, rc = cocoon_epcrec_reconcile(&r->kc, r->node, r->epc_bytes, &patched, &r->stop);
		unsigned next;

		if (r->stop)
			break;
		stats_round(r->stats, rc, patched);
		if (rc == 0) {
			if (failures || !ok_logged)
				nlog_info("node capacity is in place", "{s:s,s:s,s:I,s:i}", "node", r->node, "resource",
				          COCOON_RES_NAME_EPC_BYTES, "bytes", (json_int_t)r->epc_bytes, "after_failures",
				          (int)failures);
			ok_logged = 1;
			failures = 0;
			backoff = 1;
			next = fast ? 1u << (FAST_STEPS - fast) : r->resync_s;
			if (fast)
				fast--;
		} else {
			failures++;
			next = backoff;
			nlog_error("cannot reconcile the EPC capacity; retrying", "{s:s,s:s,s:i,s:i}", "error",
			           cocoon_error_last()->message, "node", r->node, "attempt", (int)failures,
			           "retry_in_seconds", (int)next);
			backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
		}
		if (next > r->resync_s)
			next = r->resync_s;
		if (wait_for(r, next)) {
			/* The kubelet restarted and zeroes the capacity once it has synced:
			 * look now, then at 1, 2, 4, 8 and 16 s. */
			fast = FAST_STEPS;
			backoff = 1;
		}
	}
	return NULL;
}

int cocoon_epcrec_start(cocoon_epcrec **out, cocoon_kube_config *kc, const char *node, uint64_t epc_bytes,
                        unsigned resync_s, cocoon_epcrec_stats *stats)
{
	cocoon_epcrec *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	*out = NULL;
	if (!r || !(r->node = strdup(node))) {
		free(r);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory starting the EPC reconciler");
	}
	r->kc = *kc;
	memset(kc, 0, sizeof(*kc));
	r->epc_bytes = epc_bytes;
	r->resync_s = resync_s;
	r->stats = stats;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->thread, NULL, rec_main, r) != 0) {
		cocoon_kube_config_free(&r->kc);
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r->node);
		free(r);
		return cocoon_error_set(COCOON_EINTERNAL, "cannot start the EPC reconciler thread");
	}
	*out = r;
	return 0;
}

void cocoon_epcrec_kick(cocoon_epcrec *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->kicked = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void cocoon_epcrec_stop(cocoon_epcrec *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	cocoon_kube_config_free(&r->kc);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->node);
	free(r);
}
