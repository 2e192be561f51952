/*
 * vTPM claims as JSON, with the accumulator pattern: a claim that cannot be
 * built fails the whole object, so a policy never sees a silently missing
 * claim. Names follow Trustee where it has one ("tpm": {"pcr00": ...},
 * "report_data" = the TPM extraData).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "vtpm/vtpm_int.h"

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

static void set_hex(int *bad, json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	if (n > 64) {
		*bad = 1;
		return;
	}
	cocoon_hex_encode(buf, p, n);
	set(bad, o, k, json_string(buf));
}

static json_t *tri(cocoon_vtpm_bool b)
{
	return b == COCOON_VTPM_ABSENT ? json_null() : json_boolean(b == COCOON_VTPM_TRUE);
}

static json_t *vm_config_json(const cocoon_vtpm_claims *c)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	set(&bad, o, "secure_boot", tri(c->secure_boot));
	set(&bad, o, "tpm_enabled", tri(c->tpm_enabled));
	set(&bad, o, "console_enabled", tri(c->console_enabled));
	set(&bad, o, "tpm_persisted", tri(c->tpm_persisted));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *pcrs_json(const cocoon_vtpm_claims *c)
{
	json_t *o = json_object();
	int bad = !o;
	char key[8];

	if (bad)
		return NULL;
	for (size_t i = 0; i < c->n_pcrs && i < COCOON_VTPM_MAX_PCRS; i++) {
		snprintf(key, sizeof(key), "pcr%02u", c->pcr_index[i]);
		set_hex(&bad, o, key, c->pcrs[i], 32);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int cocoon_vtpm_claims_to_json(void *object, const cocoon_vtpm_claims *c)
{
	json_t *o = object, *hcl;
	int bad = 0;

	if (!o || !c || !json_is_object(o))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_claims_to_json: NULL argument or not a JSON object");
	set(&bad, o, "format", json_string(cocoon_vtpm_format_name(c->format)));
	set(&bad, o, "evidence_version", json_integer(c->evidence_version));
	set(&bad, o, "tpm", pcrs_json(c));
	set_hex(&bad, o, "report_data", c->tpm_nonce, c->tpm_nonce_len);
	if (c->has_user_data)
		set_hex(&bad, o, "user_data", c->user_data, c->user_data_len);
	else
		set(&bad, o, "user_data", json_null());
	set(&bad, o, "user_data_checked", json_boolean(c->user_data_checked));
	set(&bad, o, "vm_configuration", vm_config_json(c));
	set(&bad, o, "vm_unique_id", c->vm_unique_id[0] ? json_string(c->vm_unique_id) : json_null());
	set_hex(&bad, o, "ak_pub_sha256", c->ak_pub_sha256, 32);
	if ((hcl = json_object()) != NULL) {
		set(&bad, hcl, "header_version", json_integer(c->hcl_header_version));
		set(&bad, hcl, "hash_type", json_string(c->hash_type == COCOON_HCL_HASH_SHA256   ? "sha256"
		                                        : c->hash_type == COCOON_HCL_HASH_SHA384 ? "sha384"
		                                                                                 : "sha512"));
	}
	set(&bad, o, "hcl", hcl);
	set(&bad, o, "hw_verified", json_boolean(c->hw_verified));
	if (bad)
		return cocoon_error_set(COCOON_ENOMEM, "vTPM claims: out of memory");
	return 0;
}

int cocoon_vtpm_result_to_json(char **out, const cocoon_result *r, const cocoon_vtpm_claims *c)
{
	char *base = NULL;
	json_t *o = NULL, *claims, *vt = NULL;
	json_error_t jerr;
	int bad = 0, err;

	if (!out || !r || !c)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_result_to_json: NULL argument");
	*out = NULL;
	if ((err = cocoon_result_to_json(&base, r)) != 0)
		return err;
	if (!(o = json_loads(base, 0, &jerr))) {
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM result JSON: %s", jerr.text);
		goto done;
	}
	set(&bad, o, "format", json_string(cocoon_vtpm_format_name(c->format)));
	/* Only a TCB level that a verifier actually decided counts as verified. */
	set(&bad, o, "tcb_status_verified", json_boolean(c->hw_verified));
	claims = json_object_get(o, "claims");
	if (r->accepted && json_is_object(claims)) {
		if (!(vt = json_object()) || cocoon_vtpm_claims_to_json(vt, c) != 0)
			bad = 1;
		set(&bad, claims, "vtpm", vt);
		vt = NULL;
	}
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM result JSON: out of memory");
		goto done;
	}
	if (!(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM result JSON: out of memory");
done:
	json_decref(vt);
	json_decref(o);
	free(base);
	return err;
}
