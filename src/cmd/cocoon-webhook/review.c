/*
 * AdmissionReview admission.k8s.io/v1 in, AdmissionReview out. A body that
 * is not a v1 review gets HTTP 400 with the reason (the API server then
 * applies failurePolicy: Fail). A review of a pod CREATE runs the pod policy
 * on a copy of the pod, and the reply carries the difference as a base64
 * JSONPatch, or allowed: false with the reason. Pure: no I/O, no globals.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "webhook.h"

#define API_VERSION "admission.k8s.io/v1"

static void bad_request(webhook_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad_request(webhook_reply *r, const char *fmt, ...)
{
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->status = 400;
	r->outcome = WEBHOOK_OUTCOME_BAD_REQUEST;
	r->type = "application/json";
	o = json_pack("{s:s,s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1", "status", "Failure", "message",
	              r->reason, "code", 400);
	r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
}

void webhook_json_error_text(char *out, size_t n, const char *text)
{
	const char *near = strstr(text, " near ");
	int len = near ? (int)(near - text) : (int)strlen(text);
	snprintf(out, n, "%.*s", len, text);
}

static char *base64(const char *s)
{
	size_t n = strlen(s);
	char *out;

	if (n > (size_t)1 << 28 || !(out = malloc(4 * ((n + 2) / 3) + 1)))
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* The response object for one verdict; NULL on out of memory. */
static json_t *response(const char *uid, const json_t *patch, const char *denial)
{
	json_t *resp = json_pack("{s:s,s:b}", "uid", uid, "allowed", denial == NULL);
	char *text = NULL, *b64 = NULL;
	int bad = !resp;

	if (!bad && denial)
		bad = json_object_set_new(resp, "status", json_pack("{s:s,s:s,s:s,s:i}", "status", "Failure", "reason",
		                                                    "Forbidden", "message", denial, "code", 403)) != 0;
	if (!bad && patch && json_array_size(patch) > 0) {
		bad = !(text = json_dumps(patch, JSON_COMPACT)) || !(b64 = base64(text)) ||
		      json_object_set_new(resp, "patchType", json_string("JSONPatch")) != 0 ||
		      json_object_set_new(resp, "patch", json_string(b64)) != 0;
	}
	free(text);
	free(b64);
	if (bad) {
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* Which requests the pod policy sees: pod CREATE, and new ephemeral containers. */
static int is_pod_request(const json_t *req, int *ephemeral)
{
	const json_t *kind = json_object_get(req, "kind");
	const char *group = json_string_value(json_object_get(kind, "group"));
	const char *version = json_string_value(json_object_get(kind, "version"));
	const char *k = json_string_value(json_object_get(kind, "kind"));
	const char *op = json_string_value(json_object_get(req, "operation"));
	const char *sub = json_string_value(json_object_get(req, "subResource"));

	if (!group || strcmp(group, "") != 0 || !version || strcmp(version, "v1") != 0 || !k || strcmp(k, "Pod") != 0 ||
	    !op)
		return 0;
	*ephemeral = sub && strcmp(sub, "ephemeralcontainers") == 0;
	if (*ephemeral)
		return strcmp(op, "UPDATE") == 0;
	return (!sub || !*sub) && strcmp(op, "CREATE") == 0;
}

/* The verdict for a well-formed review: fills resp or returns -1 on out of memory. */
static int decide(webhook_reply *r, const webhook_config *cfg, const json_t *req, const char *uid, json_t **resp)
{
	json_t *pod = json_object_get(req, "object"), *copy = NULL, *patch = NULL;
	int ephemeral = 0, rc;

	r->outcome = WEBHOOK_OUTCOME_UNTOUCHED;
	if (!is_pod_request(req, &ephemeral))
		return (*resp = response(uid, NULL, NULL)) ? 0 : -1;
	if (!json_is_object(pod)) {
		bad_request(r, "request.object must be the pod (an object)");
		return 1;
	}
	if (ephemeral) {
		const char *v = json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"),
		                                                                  "labels"), WEBHOOK_LABEL_CONFIDENTIAL));
		if (v && strcmp(v, "false") != 0) {
			snprintf(r->reason, sizeof(r->reason), "ephemeral containers would run unwrapped beside the "
			         "confidential app; debug a confidential pod through its own logs and metrics instead");
			r->outcome = WEBHOOK_OUTCOME_DENIED;
			return (*resp = response(uid, NULL, r->reason)) ? 0 : -1;
		}
		return (*resp = response(uid, NULL, NULL)) ? 0 : -1;
	}
	if (!(copy = json_deep_copy(pod)))
		return -1;
	rc = webhook_mutate_pod(copy, cfg, r->reason, sizeof(r->reason));
	if (rc == 1) {
		r->outcome = WEBHOOK_OUTCOME_DENIED;
		*resp = response(uid, NULL, r->reason);
	} else if (rc == 0 && (patch = webhook_diff(pod, copy))) {
		r->outcome = json_array_size(patch) ? WEBHOOK_OUTCOME_MUTATED : WEBHOOK_OUTCOME_UNTOUCHED;
		*resp = response(uid, patch, NULL);
	}
	json_decref(copy);
	json_decref(patch);
	return *resp ? 0 : -1;
}

void webhook_review(webhook_reply *r, const webhook_config *cfg, const char *body, size_t len)
{
	json_error_t e = { 0 };
	json_t *in = NULL, *req, *resp = NULL, *out = NULL;
	const char *av, *kind, *uid;
	int rc;

	memset(r, 0, sizeof(*r));
	r->type = "application/json";
	if (!body || !(in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e))) {
		char why[JSON_ERROR_TEXT_LENGTH];
		webhook_json_error_text(why, sizeof(why), body ? e.text : "empty");
		bad_request(r, "the body is not JSON: %s (line %d, column %d)", why, e.line, e.column);
		goto done;
	}
	av = json_string_value(json_object_get(in, "apiVersion"));
	kind = json_string_value(json_object_get(in, "kind"));
	req = json_object_get(in, "request");
	if (!json_is_object(in) || !av || strcmp(av, API_VERSION) != 0) {
		bad_request(r, "apiVersion must be %s, not \"%.60s\"; set admissionReviewVersions: [v1] in the "
		            "MutatingWebhookConfiguration", API_VERSION, av ? av : "(missing)");
		goto done;
	}
	if (!kind || strcmp(kind, "AdmissionReview") != 0) {
		bad_request(r, "kind must be AdmissionReview, not \"%.60s\"", kind ? kind : "(missing)");
		goto done;
	}
	uid = json_string_value(json_object_get(req, "uid"));
	if (!json_is_object(req) || !uid || !*uid) {
		bad_request(r, "request.uid is missing: the reply must echo it");
		goto done;
	}
	if ((rc = decide(r, cfg, req, uid, &resp)) > 0)
		goto done;
	if (rc < 0 || !(out = json_pack("{s:s,s:s,s:O}", "apiVersion", API_VERSION, "kind", "AdmissionReview",
	                                "response", resp)) ||
	    !(r->body = json_dumps(out, JSON_COMPACT))) {
		r->outcome = WEBHOOK_OUTCOME_ERROR;
		goto done;
	}
	r->status = 200;
done:
	if (!r->body) {
		free(r->body);
		r->body = NULL;
		r->status = 500;
		r->outcome = WEBHOOK_OUTCOME_ERROR;
		snprintf(r->reason, sizeof(r->reason), "out of memory");
	}
	json_decref(in);
	json_decref(resp);
	json_decref(out);
}
