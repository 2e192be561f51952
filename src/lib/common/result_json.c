/* The result as the CLI's JSON object (a contract other tools depend on). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "cocoon/verify.h"

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 128 + 1];
	if (n > 128)
		return -1;
	cocoon_hex_encode(buf, p, n);
	return json_object_set_new(o, key, json_string(buf));
}

static int set_time(json_t *o, const char *key, time_t t)
{
	char buf[32];
	if (!t)
		return json_object_set_new(o, key, json_null());
	cocoon_time_format(buf, sizeof(buf), t);
	return json_object_set_new(o, key, json_string(buf));
}

static json_t *sgx_claims(const cocoon_sgx_claims *c)
{
	json_t *o = json_object();
	set_hex(o, "mrenclave", c->mrenclave, 32);
	set_hex(o, "mrsigner", c->mrsigner, 32);
	json_object_set_new(o, "isv_prod_id", json_integer(c->isv_prod_id));
	json_object_set_new(o, "isv_svn", json_integer(c->isv_svn));
	set_hex(o, "attributes", c->attributes, 16);
	json_object_set_new(o, "debug", json_boolean(c->debug));
	set_hex(o, "report_data", c->report_data, 64);
	set_hex(o, "config_id", c->config_id, 64);
	json_object_set_new(o, "config_svn", json_integer(c->config_svn));
	return o;
}

static json_t *tdx_claims(const cocoon_tdx_claims *c)
{
	json_t *o = json_object();
	char key[16];
	set_hex(o, "mrtd", c->mrtd, 48);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "rtmr%d", i);
		set_hex(o, key, c->rtmr[i], 48);
	}
	set_hex(o, "mr_config_id", c->mr_config_id, 48);
	set_hex(o, "mr_owner", c->mr_owner, 48);
	set_hex(o, "mr_owner_config", c->mr_owner_config, 48);
	set_hex(o, "td_attributes", c->td_attributes, 8);
	set_hex(o, "xfam", c->xfam, 8);
	set_hex(o, "tee_tcb_svn", c->tee_tcb_svn, 16);
	set_hex(o, "mr_seam", c->mr_seam, 48);
	set_hex(o, "mr_signer_seam", c->mr_signer_seam, 48);
	set_hex(o, "report_data", c->report_data, 64);
	json_object_set_new(o, "debug", json_boolean(c->debug));
	if (c->has_td15) {
		set_hex(o, "tee_tcb_svn2", c->tee_tcb_svn2, 16);
		set_hex(o, "mr_service_td", c->mr_service_td, 48);
	}
	return o;
}

static json_t *platform_claims(const cocoon_platform_claims *c)
{
	json_t *o = json_object();
	set_hex(o, "fmspc", c->fmspc, 6);
	set_hex(o, "pceid", c->pceid, 2);
	json_object_set_new(o, "pce_svn", json_integer(c->pce_svn));
	set_hex(o, "cpu_svn", c->cpu_svn, 16);
	if (c->has_ppid)
		set_hex(o, "ppid", c->ppid, 16);
	set_time(o, "tcb_date", c->tcb_date);
	json_object_set_new(o, "tcb_eval_data_number", json_integer(c->tcb_eval_data_number));
	json_object_set_new(o, "qe_svn", json_integer(c->qe_svn));
	return o;
}

/* Hook for TEE-specific claims provided by other library areas. */
int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c);

int cocoon_result_to_json(char **out, const cocoon_result *r)
{
	json_t *o = json_object(), *adv = json_array(), *claims = NULL;
	int err = 0;

	if (!out || !r)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_result_to_json: NULL argument");
	*out = NULL;
	if (!o || !adv) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory building result JSON");
		goto done;
	}
	json_object_set_new(o, "verdict", json_string(r->accepted ? "accept" : "reject"));
	json_object_set_new(o, "tee", json_string(cocoon_tee_name(r->tee)));
	if (r->quote_version)
		json_object_set_new(o, "quote_version", json_integer(r->quote_version));
	json_object_set_new(o, "simulated", json_boolean(r->simulated));
	json_object_set_new(o, "status", r->status ? json_string(cocoon_tcb_status_name(r->status)) : json_null());
	if (r->tee != COCOON_TEE_SNP) {
		json_object_set_new(o, "platform_status",
		                    r->platform_status ? json_string(cocoon_tcb_status_name(r->platform_status)) : json_null());
		json_object_set_new(o, "qe_status",
		                    r->qe_status ? json_string(cocoon_tcb_status_name(r->qe_status)) : json_null());
		if (r->tee == COCOON_TEE_TDX)
			json_object_set_new(o, "module_status", r->module_status
			                                                ? json_string(cocoon_tcb_status_name(r->module_status))
			                                                : json_null());
	}
	for (size_t i = 0; i < r->n_advisories; i++)
		json_array_append_new(adv, json_string(r->advisory_ids[i]));
	json_object_set_new(o, "advisory_ids", adv);
	adv = NULL;
	json_object_set_new(o, "collateral_expired", json_boolean(r->collateral_expired));
	set_time(o, "collateral_expiry", r->collateral_earliest_expiry);
	set_time(o, "verified_at", r->verified_at);
	if (!r->accepted) {
		json_object_set_new(o, "failed_check", json_string(cocoon_check_name(r->failed_check)));
		json_object_set_new(o, "reason", json_string(r->reason));
	}
	/* Claims are only reported for evidence that verified: a rejected quote's
	 * fields are attacker-controlled and must not look like facts. */
	if (r->accepted && r->has_claims) {
		if (r->tee == COCOON_TEE_SGX)
			claims = sgx_claims(&r->sgx);
		else if (r->tee == COCOON_TEE_TDX)
			claims = tdx_claims(&r->tdx);
		else if (r->tee == COCOON_TEE_SNP) {
			claims = json_object();
			cocoon_snp_claims_to_json(claims, &r->snp);
		}
		if (claims && r->has_platform)
			json_object_set_new(claims, "platform", platform_claims(&r->platform));
		if (claims)
			json_object_set_new(claims, "simulated", json_boolean(r->simulated));
		json_object_set_new(o, "claims", claims ? claims : json_null());
		claims = NULL;
	} else {
		json_object_set_new(o, "claims", json_null());
	}
	if (!(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory serializing result JSON");
done:
	json_decref(adv);
	json_decref(claims);
	json_decref(o);
	return err;
}
