/*
 * POST /attest/{SgxEnclave,OpenEnclave,SevSnpVm,TdxVm}: MAA's wire format
 * only. The request is decoded here; the appraisal (envelopes, collateral,
 * verification, runtimeData binding, claims, policy) and the token are the
 * library's (cocoon_attest_appraise, cocoon_token_issue). This file maps
 * their verdicts and errors to MAA's HTTP replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "cocoon/attest.h"
#include "attestd.h"

#define NONCE_MAX 1024

typedef struct {
	uint8_t *evidence;
	size_t evidence_len;
	uint8_t *rt, *it;           /* runtimeData, initTimeData */
	size_t rt_len, it_len;
	json_t *rt_json, *it_json;  /* when dataType is JSON */
	const char *nonce;
	const char *draft;
} attest_req;

static void req_free(attest_req *q)
{
	free(q->evidence);
	free(q->rt);
	free(q->it);
	json_decref(q->rt_json);
	json_decref(q->it_json);
}

/* Decodes a base64url string member; replies and returns -1 on a problem. */
static int b64_field(uint8_t **out, size_t *len, attestd_reply *r, json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	if (!s) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: expected a base64url string", path);
		return -1;
	}
	if (cocoon_b64_decode(out, len, s, json_string_length(v)) != 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: %s", path, cocoon_error_last()->message);
		return -1;
	}
	if (*len == 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: is empty", path);
		return -1;
	}
	return 0;
}

/* runtimeData / initTimeData: {data: base64url, dataType: "Binary"|"JSON"}. */
static int data_field(uint8_t **out, size_t *len, json_t **as_json, attestd_reply *r, json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name), *dt;
	char path[64];
	const char *type;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: expected an object {data, dataType}", name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s.data", name);
	if (b64_field(out, len, r, json_object_get(v, "data"), path) != 0)
		return -1;
	dt = json_object_get(v, "dataType");
	type = dt ? json_string_value(dt) : "Binary";
	if (!type || (strcmp(type, "Binary") != 0 && strcmp(type, "JSON") != 0)) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s.dataType: expected \"Binary\" or \"JSON\"", name);
		return -1;
	}
	if (strcmp(type, "JSON") == 0) {
		json_error_t jerr;
		if (!(*as_json = json_loadb((const char *)*out, *len, JSON_REJECT_DUPLICATES, &jerr)) ||
		    !json_is_object(*as_json)) {
			attestd_reply_error(r, 400, "InvalidParameter", "%s.data: dataType is JSON but the decoded data is "
			                    "not a JSON object (column %d: %s)", name, jerr.column,
			                    *as_json ? "not an object" : jerr.text);
			return -1;
		}
	}
	return 0;
}

static int parse_request(attest_req *q, attestd_reply *r, cocoon_tee tee, int is_oe, const char *body, size_t len,
                         json_t **root)
{
	json_error_t jerr;
	const char *ev_name = (tee == COCOON_TEE_SNP || is_oe) ? "report" : "quote";
	json_t *o, *v;

	if (!(o = *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr))) {
		attestd_reply_error(r, 400, "InvalidParameter", "body: invalid JSON at line %d column %d: %s", jerr.line,
		                    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		attestd_reply_error(r, 400, "InvalidParameter", "body: expected a JSON object");
		return -1;
	}
	if (!(v = json_object_get(o, ev_name))) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: is required (base64url evidence)", ev_name);
		return -1;
	}
	if (b64_field(&q->evidence, &q->evidence_len, r, v, ev_name) != 0 ||
	    data_field(&q->rt, &q->rt_len, &q->rt_json, r, o, "runtimeData") != 0 ||
	    data_field(&q->it, &q->it_len, &q->it_json, r, o, "initTimeData") != 0)
		return -1;
	if ((v = json_object_get(o, "nonce")) && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) > NONCE_MAX) {
			attestd_reply_error(r, 400, "InvalidParameter", "nonce: expected a string of at most %d bytes",
			                    NONCE_MAX);
			return -1;
		}
		q->nonce = json_string_value(v);
	}
	if ((v = json_object_get(o, "draftPolicyForAttestation")) && !json_is_null(v)) {
		if (!json_is_string(v)) {
			attestd_reply_error(r, 400, "InvalidParameter", "draftPolicyForAttestation: expected policy text");
			return -1;
		}
		q->draft = json_string_value(v);
	}
	(void)is_oe; /* the library unwraps OE and MAA envelopes */
	return 0;
}

static int verdict_slot(int idx)
{
	return idx == 0 ? M_TEE_SGX : idx == 1 ? M_TEE_OE : idx == 2 ? M_TEE_SNP : M_TEE_TDX;
}

static const char *type_route(cocoon_tee tee)
{
	return tee == COCOON_TEE_TDX ? "TdxVm" : tee == COCOON_TEE_SGX ? "SgxEnclave" : "SevSnpVm";
}

/* The policy of this request: the draft (parsed here, never stored) or the type's current one. */
static int request_policy(attestd_policy_ref *pref, cocoon_policy **draft, attestd_reply *r, attestd_env *env,
                          const attest_req *q, int idx, cocoon_tee tee)
{
	if (q->draft) {
		/* Untrusted policy text: the parser and evaluator bound its size and work. */
		if (cocoon_policy_parse(draft, q->draft, strlen(q->draft)) != 0) {
			attestd_reply_error(r, 400, "InvalidParameter", "draftPolicyForAttestation: %s",
			                    cocoon_error_last()->message);
			return -1;
		}
		pref->policy = *draft;
		cocoon_policy_hash(pref->hash, q->draft, strlen(q->draft));
		return 0;
	}
	if (attestd_policy_current(pref, env, attestd_type_name(idx), tee) != 0) {
		attestd_reply_error(r, 500, "InternalError", "policy: %s", cocoon_error_last()->message);
		return -1;
	}
	return 0;
}

/* An error the pipeline returned (it could not reach a verdict). */
static void reply_pipeline_error(attestd_reply *r, int err, int draft)
{
	const char *msg = cocoon_error_last()->message;
	if (err == COCOON_ENOTFOUND)
		attestd_reply_error(r, 400, "CollateralNotFound", "%s", msg);
	else if (err == COCOON_EFORMAT)
		attestd_reply_error(r, 400, "InvalidParameter", "%s", msg);
	else if (strncmp(msg, "policy evaluation failed", 24) == 0)
		attestd_reply_error(r, draft ? 400 : 500, draft ? "InvalidParameter" : "InternalError", "%s", msg);
	else
		attestd_reply_error(r, 500, "InternalError", "verification could not run: %s", msg);
}

/* A verdict other than accept. */
static void reply_verdict(attestd_reply *r, const cocoon_attest_result *res, cocoon_tee tee)
{
	switch (res->failed_check) {
	case COCOON_CHECK_POLICY:
		r->verdict = M_V_DENY;
		attestd_reply_error(r, 401, "PolicyDenied", "the attestation policy denied the evidence: %s", res->reason);
		return;
	case COCOON_CHECK_EVIDENCE_FORMAT:
		r->verdict = M_V_REJECT;
		if (res->tee != COCOON_TEE_UNKNOWN && res->tee != tee)
			attestd_reply_error(r, 400, "InvalidParameter", "the evidence is a %s %s; send it to /attest/%s",
			                    cocoon_tee_name(res->tee), res->tee == COCOON_TEE_SNP ? "report" : "quote",
			                    type_route(res->tee));
		else
			attestd_reply_error(r, 400, "InvalidParameter", "%s", res->reason);
		return;
	case COCOON_CHECK_REPORT_DATA_BINDING:
	case COCOON_CHECK_INIT_DATA_BINDING:
		r->verdict = M_V_REJECT;
		attestd_reply_error(r, 400, "InvalidParameter", "%s", res->reason);
		return;
	default:
		r->verdict = M_V_REJECT;
		attestd_reply_error(r, 400, "EvidenceRejected", "evidence rejected by check '%s': %s",
		                    cocoon_check_name(res->failed_check), res->reason);
	}
}

static const cocoon_attest_format type_format[4] = { COCOON_ATTEST_FORMAT_SGX, COCOON_ATTEST_FORMAT_OE,
	                                               COCOON_ATTEST_FORMAT_MAA_SNP, COCOON_ATTEST_FORMAT_TDX };

/* Appraises the decoded request and, on accept, issues the token into the reply. */
static void appraise(attestd_reply *r, attestd_env *env, const attest_req *q, int idx, cocoon_tee tee)
{
	attestd_ctx *ctx = env->ctx;
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_options o = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_token_issue_options io = COCOON_TOKEN_ISSUE_OPTIONS_INIT;
	cocoon_attest_result *res = NULL;
	cocoon_policy *draft = NULL;
	attestd_policy_ref pref = { 0 };
	char *token = NULL;
	int err;

	if (request_policy(&pref, &draft, r, env, q, idx, tee) != 0)
		goto done;
	in.evidence = q->evidence, in.evidence_len = q->evidence_len, in.format = type_format[idx];
	in.runtime_data = q->rt, in.runtime_data_len = q->rt_len, in.runtime_hash = COCOON_BIND_MAA;
	in.runtime_data_json = q->rt_json != NULL, in.runtime_data_label = "runtimeData";
	in.init_data = q->it, in.init_data_len = q->it_len, in.init_hash = COCOON_BIND_MAA;
	in.init_data_json = q->it_json != NULL, in.init_data_label = "initTimeData";
	in.collateral = attestd_collateral_source(env);
	o.verify.at = ctx->cfg->test_only_verification_time;
	o.verify.allow_debug = ctx->cfg->allow_debug;
	o.policy = pref.policy;
	o.sim_verifier = ctx->sim_verifier;
	o.sim_collateral = ctx->sim_source;
	if (!in.collateral) {
		attestd_reply_error(r, 500, "InternalError", "%s", cocoon_error_last()->message);
		goto done;
	}
	if ((err = cocoon_attest_appraise(&res, ctx->verifier, &in, &o)) != 0) {
		reply_pipeline_error(r, err, q->draft != NULL);
		goto done;
	}
	if (res->verdict != COCOON_VERDICT_ACCEPT) {
		reply_verdict(r, res, tee);
		goto done;
	}
	io.issuer = ctx->issuer, io.jku = ctx->jku, io.nonce = q->nonce, io.policy_hash = pref.hash;
	io.lifetime = ctx->cfg->token_lifetime_seconds;
	if (cocoon_token_issue(&token, q->draft ? NULL : attestd_signer_token(ctx->signer), res, &io) != 0) {
		attestd_reply_error(r, 500, "InternalError", "signing failed: %s", cocoon_error_last()->message);
		goto done;
	}
	r->verdict = M_V_PERMIT;
	atomic_fetch_add(&attestd_m.tokens_issued, 1);
	attestd_reply_json(r, 200, json_pack("{s:s}", "token", token));
	if (res->simulated) {
		free(r->log_detail);
		r->log_detail = strdup("simulated evidence");
	}
done:
	cocoon_attest_result_free(res);
	cocoon_policy_free(draft);
	free(token);
}

void attestd_handle_attest(attestd_reply *r, attestd_env *env, const char *type_in, const char *api_version,
                           const char *body, size_t len)
{
	attest_req q = { 0 };
	cocoon_tee tee;
	json_t *root = NULL;
	int idx = attestd_type_tee(type_in, &tee);

	r->verdict = -1;
	if (idx < 0) {
		attestd_reply_error(r, 404, "NotFound", "attestation type '%.40s' is not supported; use SgxEnclave, "
		                    "OpenEnclave, SevSnpVm or TdxVm", type_in);
		return;
	}
	r->tee_label = attestd_type_name(idx);
	if (!api_version) {
		attestd_reply_error(r, 400, "MissingApiVersionParameter", "the api-version query parameter is required; "
		                    "supported: 2020-10-01, 2022-08-01, 2023-04-01-preview, 2025-06-01");
		return;
	}
	if (!attestd_api_version_ok(api_version)) {
		attestd_reply_error(r, 400, "InvalidApiVersionParameter", "api-version '%.40s' is not supported; use "
		                    "2020-10-01, 2022-08-01, 2023-04-01-preview or 2025-06-01", api_version);
		return;
	}
	if (parse_request(&q, r, tee, idx == 1, body, len, &root) != 0)
		goto done;
	if (q.it && tee == COCOON_TEE_TDX) {
		attestd_reply_error(r, 400, "InvalidParameter", "initTimeData: not supported for TdxVm");
		goto done;
	}
	appraise(r, env, &q, idx, tee);
done:
	if (r->verdict < 0 && r->status >= 500)
		r->verdict = M_V_ERROR;
	else if (r->verdict < 0 && r->status == 400)
		r->verdict = M_V_REJECT;
	if (r->verdict >= 0)
		atomic_fetch_add(&attestd_m.verdicts[verdict_slot(idx)][r->verdict], 1);
	json_decref(root);
	req_free(&q);
}
