/* The result as the CLI's JSON object (a contract other tools depend on). Every member is set through an
 * accumulator: a member that cannot be built fails the whole object (fail closed under memory pressure). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "cocoon/verify.h"

static void set(int *bad, json_t *o, const char *key, json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v) < 0) {
		*bad = 1;
		if (!o)
			json_decref(v);
	}
}

static void set_hex(int *bad, json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 128 + 1];
	if (n > 128) {
		*bad = 1;
		return;
	}
	cocoon_hex_encode(buf, p, n);
	set(bad, o, key, json_string(buf));
}

static void set_time(int *bad, json_t *o, const char *key, time_t t)
{
	char buf[32];
	if (!t) {
		set(bad, o, key, json_null());
		return;
	}
	cocoon_time_format(buf, sizeof(buf), t);
	set(bad, o, key, json_string(buf));
}

static json_t *sgx_claims(int *bad, const cocoon_sgx_claims *c)
{
	json_t *o = json_object();
	set_hex(bad, o, "mrenclave", c->mrenclave, 32);
	set_hex(bad, o, "mrsigner", c->mrsigner, 32);
	set(bad, o, "isv_prod_id", json_integer(c->isv_prod_id));
	set(bad, o, "isv_svn", json_integer(c->isv_svn));
	set_hex(bad, o, "attributes", c->attributes, 16);
	set(bad, o, "debug", json_boolean(c->debug));
	set_hex(bad, o, "report_data", c->report_data, 64);
	set_hex(bad, o, "config_id", c->config_id, 64);
	set(bad, o, "config_svn", json_integer(c->config_svn));
	return o;
}

static json_t *tdx_claims(int *bad, const cocoon_tdx_claims *c)
{
	json_t *o = json_object();
	char key[16];
	set_hex(bad, o, "mrtd", c->mrtd, 48);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "rtmr%d", i);
		set_hex(bad, o, key, c->rtmr[i], 48);
	}
	set_hex(bad, o, "mr_config_id", c->mr_config_id, 48);
	set_hex(bad, o, "mr_owner", c->mr_owner, 48);
	set_hex(bad, o, "mr_owner_config", c->mr_owner_config, 48);
	set_hex(bad, o, "td_attributes", c->td_attributes, 8);
	set_hex(bad, o, "xfam", c->xfam, 8);
	set_hex(bad, o, "tee_tcb_svn", c->tee_tcb_svn, 16);
	set_hex(bad, o, "mr_seam", c->mr_seam, 48);
	set_hex(bad, o, "mr_signer_seam", c->mr_signer_seam, 48);
	set_hex(bad, o, "report_data", c->report_data, 64);
	set(bad, o, "debug", json_boolean(c->debug));
	if (c->has_td15) {
		set_hex(bad, o, "tee_tcb_svn2", c->tee_tcb_svn2, 16);
		set_hex(bad, o, "mr_service_td", c->mr_service_td, 48);
	}
	return o;
}

static json_t *platform_claims(int *bad, const cocoon_platform_claims *c)
{
	json_t *o = json_object();
	set_hex(bad, o, "fmspc", c->fmspc, 6);
	set_hex(bad, o, "pceid", c->pceid, 2);
	set(bad, o, "pce_svn", json_integer(c->pce_svn));
	set_hex(bad, o, "cpu_svn", c->cpu_svn, 16);
	if (c->has_ppid)
		set_hex(bad, o, "ppid", c->ppid, 16);
	set_time(bad, o, "tcb_date", c->tcb_date);
	set(bad, o, "tcb_eval_data_number", json_integer(c->tcb_eval_data_number));
	set(bad, o, "qe_svn", json_integer(c->qe_svn));
	return o;
}

/* Hook for TEE-specific claims provided by other library areas. */
int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c);

int cocoon_result_json_object(json_t **out, const cocoon_result *r)
{
	json_t *o = NULL, *adv = NULL, *claims = NULL;
	int bad = 0, *b = &bad, err = 0;

	if (!out || !r)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_result_to_json: NULL argument");
	*out = NULL;
	if (!(o = json_object()) || !(adv = json_array())) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory building result JSON");
		goto done;
	}
	set(b, o, "verdict", json_string(r->accepted ? "accept" : "reject"));
	set(b, o, "tee", json_string(cocoon_tee_name(r->tee)));
	if (r->quote_version)
		set(b, o, "quote_version", json_integer(r->quote_version));
	set(b, o, "simulated", json_boolean(r->simulated));
	set(b, o, "status", r->status ? json_string(cocoon_tcb_status_name(r->status)) : json_null());
	if (r->tee != COCOON_TEE_SNP) {
		set(b, o, "platform_status",
		    r->platform_status ? json_string(cocoon_tcb_status_name(r->platform_status)) : json_null());
		set(b, o, "qe_status", r->qe_status ? json_string(cocoon_tcb_status_name(r->qe_status)) : json_null());
		if (r->tee == COCOON_TEE_TDX)
			set(b, o, "module_status",
			    r->module_status ? json_string(cocoon_tcb_status_name(r->module_status)) : json_null());
	}
	for (size_t i = 0; i < r->n_advisories; i++)
		if (json_array_append_new(adv, json_string(r->advisory_ids[i])) < 0)
			bad = 1;
	set(b, o, "advisory_ids", adv);
	adv = NULL;
	set(b, o, "collateral_expired", json_boolean(r->collateral_expired));
	set_time(b, o, "collateral_expiry", r->collateral_earliest_expiry);
	set_time(b, o, "verified_at", r->verified_at);
	if (!r->accepted) {
		set(b, o, "failed_check", json_string(cocoon_check_name(r->failed_check)));
		set(b, o, "reason", json_string(r->reason));
	}
	/* Claims are only reported for evidence that verified: a rejected quote's
	 * fields are attacker-controlled and must not look like facts. */
	if (r->accepted && r->has_claims && r->tee != COCOON_TEE_UNKNOWN) {
		if (r->tee == COCOON_TEE_SGX)
			claims = sgx_claims(b, &r->sgx);
		else if (r->tee == COCOON_TEE_TDX)
			claims = tdx_claims(b, &r->tdx);
		else if ((claims = json_object()) && cocoon_snp_claims_to_json(claims, &r->snp) != 0)
			bad = 1;
		if (r->has_platform)
			set(b, claims, "platform", platform_claims(b, &r->platform));
		set(b, claims, "simulated", json_boolean(r->simulated));
		set(b, o, "claims", claims);
		claims = NULL;
	} else {
		set(b, o, "claims", json_null());
	}
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory building result JSON");
		goto done;
	}
	*out = o;
	o = NULL;
done:
	json_decref(adv);
	json_decref(o);
	return err;
}

int cocoon_result_to_json(char **out, const cocoon_result *r)
{
	json_t *o = NULL;
	int err;

	if (out)
		*out = NULL;
	if ((err = cocoon_result_json_object(&o, r)) != 0)
		return err;
	if (!(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory serializing result JSON");
	json_decref(o);
	return err;
}
