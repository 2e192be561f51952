/* RA-TLS names and the JSON form of a check result (what `cocoon verify --ratls --json` prints). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ratls/ratls_int.h"

const char *cocoon_ratls_form_name(cocoon_ratls_form f)
{
	switch (f) {
	case COCOON_RATLS_FORM_TAGGED: return "tagged";
	case COCOON_RATLS_FORM_GRAMINE_LEGACY: return "gramine-legacy";
	case COCOON_RATLS_FORM_INTEL_SGXSDK: return "intel-sgxsdk";
	default: return "none";
	}
}

const char *cocoon_ratls_binding_name(cocoon_ratls_binding b)
{
	switch (b) {
	case COCOON_RATLS_BINDING_HOLDS: return "holds";
	case COCOON_RATLS_BINDING_BROKEN: return "broken";
	case COCOON_RATLS_BINDING_UNDOCUMENTED: return "undocumented";
	case COCOON_RATLS_BINDING_MALFORMED: return "malformed";
	default: return "absent";
	}
}

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

static json_t *hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;
	if (!s)
		return NULL;
	cocoon_hex_encode(s, p, n);
	j = json_string(s);
	free(s);
	return j;
}

static const char *hash_name(int alg)
{
	return alg == COCOON_RATLS_HASH_SHA256   ? "sha-256"
	       : alg == COCOON_RATLS_HASH_SHA384 ? "sha-384"
	       : alg == COCOON_RATLS_HASH_SHA512 ? "sha-512"
	                                         : NULL;
}

/* The verifier's own result, parsed back so it nests as an object. */
static json_t *evidence_json(const cocoon_ratls_result *r, int *err)
{
	char *text = NULL;
	json_t *j;
	if ((*err = cocoon_result_to_json(&text, &r->evidence_result)) != 0)
		return NULL;
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

int cocoon_ratls_result_to_json(char **out, const cocoon_ratls_result *r)
{
	json_t *o = json_object(), *b = json_object(), *ev = NULL;
	int bad = !o || !b, err = 0;

	if (!out || !r) {
		json_decref(o);
		json_decref(b);
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS JSON: NULL argument");
	}
	*out = NULL;
	set(&bad, o, "accepted", json_boolean(r->accepted));
	set(&bad, o, "binding_ok", json_boolean(r->binding_ok));
	set(&bad, o, "evidence_verified", json_boolean(r->evidence_verified));
	set(&bad, o, "form", json_string(cocoon_ratls_form_name(r->form)));
	set(&bad, o, "tee", json_string(cocoon_tee_name(r->tee)));
	set(&bad, o, "evidence_format", json_string(cocoon_evidence_format_name(r->format)));
	set(&bad, b, "tagged", json_string(cocoon_ratls_binding_name(r->tagged)));
	set(&bad, b, "gramine_legacy", json_string(cocoon_ratls_binding_name(r->gramine_legacy)));
	set(&bad, b, "intel_sgxsdk", json_string(cocoon_ratls_binding_name(r->intel_sgxsdk)));
	set(&bad, o, "bindings", b);
	b = NULL;
	if (hash_name(r->hash_alg))
		set(&bad, o, "pubkey_hash_alg", json_string(hash_name(r->hash_alg)));
	if (r->nonce)
		set(&bad, o, "nonce", hex(r->nonce, r->nonce_len));
	set(&bad, o, "other_claims", json_integer((json_int_t)r->n_other_claims));
	set(&bad, o, "key", json_string(r->key_type));
	set(&bad, o, "spki_sha256", hex(r->spki_sha256, 32));
	set(&bad, o, "self_signed", json_boolean(r->self_signed));
	set(&bad, o, "failed_check", json_string(cocoon_check_name(r->failed_check)));
	set(&bad, o, "reason", json_string(r->reason));
	if (r->evidence_verified) {
		if (!(ev = evidence_json(r, &err)) && err)
			goto done;
		set(&bad, o, "evidence", ev);
		ev = NULL;
	}
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "RA-TLS JSON: out of memory");
		goto done;
	}
	if (!(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "RA-TLS JSON: out of memory");
done:
	json_decref(o);
	return err;
}
