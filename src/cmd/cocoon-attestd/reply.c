/* Replies in MAA's shapes, attestation types and api-versions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "attestd.h"

void attestd_reply_json(attestd_reply *r, int status, json_t *body)
{
	free(r->body);
	r->status = status;
	r->content_type = "application/json";
	r->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!r->body) {
		r->status = 500;
		r->body = strdup("{\"error\":{\"code\":\"InternalError\",\"message\":\"out of memory\"}}");
	}
}

/* {"error":{"code","message"}} as MAA's CloudError. */
void attestd_reply_error(attestd_reply *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The database server is down: a retryable 503 with the reason, not a 500. */
	if (status == 500 && cocoon_error_last()->code == COCOON_EUNAVAILABLE) {
		status = 503;
		code = "ServiceUnavailable";
	}
	free(r->log_detail);
	r->log_detail = strdup(msg);
	attestd_reply_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

static const struct {
	const char *name;
	cocoon_tee tee;
} types[] = {
	{ "SgxEnclave", COCOON_TEE_SGX },
	{ "OpenEnclave", COCOON_TEE_SGX },
	{ "SevSnpVm", COCOON_TEE_SNP },
	{ "TdxVm", COCOON_TEE_TDX },
};

/* Returns the index of the canonical type name, or -1 (MAA matches names case-insensitively). */
int attestd_type_tee(const char *type, cocoon_tee *tee)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(type, types[i].name) == 0) {
			if (tee)
				*tee = types[i].tee;
			return (int)i;
		}
	}
	return -1;
}

const char *attestd_type_name(int index)
{
	return index >= 0 && (size_t)index < sizeof(types) / sizeof(types[0]) ? types[index].name : NULL;
}

int attestd_api_version_ok(const char *v)
{
	static const char *const ok[] = { "2020-10-01", "2022-08-01", "2023-04-01-preview", "2025-06-01" };
	for (size_t i = 0; v && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(v, ok[i]) == 0)
			return 1;
	return 0;
}
