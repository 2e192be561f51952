/*
 * EAR attestation results (draft-ietf-rats-ear) in the shape Trustee's
 * attestation service emits them, the AR4SI trust vector cocoon derives
 * from a verification result, and ES256 signing with "jwk" in the header.
 * Kept self-contained: token issuance for MAA lives in src/lib/token.
 */
#include <stdlib.h>
#include <string.h>
#include "kbs/kbs_int.h"
#include "cocoon/verify.h"

#define EAR_PROFILE "tag:github.com,2024:confidential-containers/Trustee"

const char *cocoon_kbs_ear_status_name(cocoon_kbs_ear_status s)
{
	switch (s) {
	case COCOON_KBS_EAR_NONE: return "none";
	case COCOON_KBS_EAR_AFFIRMING: return "affirming";
	case COCOON_KBS_EAR_WARNING: return "warning";
	case COCOON_KBS_EAR_CONTRAINDICATED: return "contraindicated";
	}
	return "none";
}

static cocoon_kbs_ear_status tier(int v)
{
	int a = v < 0 ? -v - 1 : v;     /* -2..-32 mirror 2..31 (AR4SI §2.3.3) */
	if (v >= -1 && v <= 1)
		return COCOON_KBS_EAR_NONE;
	if (a <= 31)
		return COCOON_KBS_EAR_AFFIRMING;
	if (a <= 95)
		return COCOON_KBS_EAR_WARNING;
	return COCOON_KBS_EAR_CONTRAINDICATED;
}

cocoon_kbs_ear_status cocoon_kbs_ear_status_of(const cocoon_kbs_trust_vector *tv)
{
	const int8_t v[8] = { tv->instance_identity, tv->configuration, tv->executables, tv->file_system, tv->hardware,
	                      tv->runtime_opaque, tv->storage_opaque, tv->sourced_data };
	cocoon_kbs_ear_status s = COCOON_KBS_EAR_NONE;
	for (int i = 0; i < 8; i++)
		if (tier(v[i]) > s)
			s = tier(v[i]);
	return s;
}

static int debug_of(const cocoon_result *r)
{
	switch (r->tee) {
	case COCOON_TEE_SGX: return r->sgx.debug;
	case COCOON_TEE_TDX: return r->tdx.debug;
	case COCOON_TEE_SNP: return r->snp.debug;
	default: return 0;
	}
}

/* The table of docs/kbs.md, section "Trust vector". */
void cocoon_kbs_trust_vector_from_result(cocoon_kbs_trust_vector *out, const struct cocoon_result *r,
                                         int reference_values_matched)
{
	memset(out, 0, sizeof(*out));
	if (!r->accepted) {
		out->hardware = 96;                     /* recognised, trustworthiness contraindicated */
		out->configuration = 96;
		return;
	}
	switch (r->status) {
	case COCOON_TCB_UP_TO_DATE: out->hardware = 2; break;
	case COCOON_TCB_SW_HARDENING_NEEDED:
	case COCOON_TCB_CONFIGURATION_NEEDED:
	case COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
	case COCOON_TCB_OUT_OF_DATE:
	case COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED:
	case COCOON_TCB_TD_RELAUNCH_ADVISED:
	case COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
		out->hardware = 32;                     /* genuine, with known vulnerabilities */
		break;
	case COCOON_TCB_REVOKED: out->hardware = 96; break;
	default: out->hardware = 97;              /* not recognised */
	}
	if (r->collateral_expired && out->hardware < 32)
		out->hardware = 32;
	if (r->simulated)
		out->hardware = 97;                     /* a simulation root is never genuine hardware */
	if (debug_of(r))
		out->configuration = 96;                /* unsafe configuration */
	else if (r->status == COCOON_TCB_CONFIGURATION_NEEDED || r->status == COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	         r->status == COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	         r->status == COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED)
		out->configuration = 32;
	else
		out->configuration = 2;
	out->executables = reference_values_matched ? 2 : 33;
	out->runtime_opaque = r->simulated ? 0 : 2;  /* TEE memory encryption, when real */
}

static json_t *vector_json(const cocoon_kbs_trust_vector *tv)
{
	return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "instance-identity", tv->instance_identity,
	                 "configuration", tv->configuration, "executables", tv->executables, "file-system",
	                 tv->file_system, "hardware", tv->hardware, "runtime-opaque", tv->runtime_opaque,
	                 "storage-opaque", tv->storage_opaque, "sourced-data", tv->sourced_data);
}

static json_t *annotated_evidence(const cocoon_kbs_ear_input *in, int *bad)
{
	json_t *ae = json_object(), *rdc = json_object();
	const char *tee = cocoon_kbs_tee_name(in->tee);

	*bad |= !ae || !rdc || !tee;
	kbs_set(bad, ae, tee ? tee : "unknown", in->claims ? json_deep_copy(in->claims) : json_object());
	kbs_set(bad, ae, "simulated", json_boolean(in->simulated));
	if (in->nonce)
		kbs_set(bad, rdc, "nonce", json_string(in->nonce));
	kbs_set(bad, rdc, "tee-pubkey", json_deep_copy(in->tee_pubkey));
	kbs_set(bad, ae, "runtime_data_claims", rdc);
	if (in->init_data_claims)
		kbs_set(bad, ae, "init_data_claims", json_deep_copy(in->init_data_claims));
	return ae;
}

int cocoon_kbs_ear_claims_build(json_t **out, const cocoon_kbs_ear_input *in)
{
	cocoon_kbs_ear_status status;
	json_t *o, *submods, *cpu0;
	time_t iat;
	int bad;

	*out = NULL;
	if (!in || in->version != COCOON_KBS_EAR_INPUT_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "EAR: cocoon_kbs_ear_input version %u; initialise it with "
		                        "COCOON_KBS_EAR_INPUT_INIT", in ? in->version : 0);
	if (!json_is_object(in->tee_pubkey))
		return cocoon_error_set(COCOON_EINVAL, "EAR: the tee-pubkey JWK is required (the broker reads it back)");
	if (in->claims && !json_is_object(in->claims))
		return cocoon_error_set(COCOON_EINVAL, "EAR: claims must be a JSON object");
	status = in->status_override ? (cocoon_kbs_ear_status)(in->status_override - 1) : cocoon_kbs_ear_status_of(&in->tv);
	iat = in->iat ? in->iat : time(NULL);
	o = json_object();
	submods = json_object();
	cpu0 = json_object();
	bad = !o || !submods || !cpu0;
	kbs_set(&bad, o, "eat_profile", json_string(EAR_PROFILE));
	kbs_set(&bad, o, "iat", json_integer((json_int_t)iat));
	kbs_set(&bad, o, "exp", json_integer((json_int_t)iat + (in->lifetime ? in->lifetime : 300)));
	kbs_set(&bad, o, "iss", json_string(in->issuer ? in->issuer : "cocoon-attestd"));
	kbs_set(&bad, o, "ear.verifier-id", json_pack("{s:s,s:s}", "developer", "https://github.com/cocoon",
	                                              "build", in->verifier_build ? in->verifier_build : "cocoon"));
	kbs_set(&bad, cpu0, "ear.status", json_string(cocoon_kbs_ear_status_name(status)));
	kbs_set(&bad, cpu0, "ear.trustworthiness-vector", vector_json(&in->tv));
	kbs_set(&bad, cpu0, "ear.appraisal-policy-id", json_string(in->policy_id ? in->policy_id : "default"));
	kbs_set(&bad, cpu0, "ear.veraison.annotated-evidence", annotated_evidence(in, &bad));
	kbs_set(&bad, submods, "cpu0", cpu0);
	kbs_set(&bad, o, "submods", submods);
	if (bad) {
		json_decref(o);
		return cocoon_error_set(COCOON_ENOMEM, "EAR: a claim could not be built");
	}
	*out = o;
	return 0;
}

int cocoon_kbs_ear_sign(char **out, const json_t *claims, const EVP_PKEY *p256_private)
{
	cocoon_kbs_key_type t;
	json_t *h = NULL, *jwk = NULL;
	int bad, err;

	*out = NULL;
	if ((err = cocoon_kbs_key_type_of(&t, p256_private)) != 0)
		return err;
	if (t != COCOON_KBS_KEY_EC_P256)
		return cocoon_error_set(COCOON_EINVAL, "EAR: ES256 needs a P-256 signing key");
	if ((err = cocoon_kbs_jwk_from_key(&jwk, p256_private)) != 0)
		return err;
	/* The header jwk names the signature algorithm, not the key-wrap one. */
	bad = json_object_set_new(jwk, "alg", json_string("ES256")) < 0;
	h = json_object();
	bad |= !h;
	kbs_set(&bad, h, "alg", json_string("ES256"));
	kbs_set(&bad, h, "typ", json_string("JWT"));
	kbs_set(&bad, h, "jwk", jwk);
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "EAR: out of memory") : kbs_jws_sign(out, "ES256", h, claims, p256_private);
	json_decref(h);
	return err;
}

const json_t *cocoon_kbs_ear_tee_pubkey(const json_t *claims)
{
	const json_t *v = json_object_get(claims, "submods");
	v = json_object_get(v, "cpu0");
	v = json_object_get(v, "ear.veraison.annotated-evidence");
	v = json_object_get(v, "runtime_data_claims");
	v = json_object_get(v, "tee-pubkey");
	return json_is_object(v) ? v : NULL;
}

int cocoon_kbs_ear_verify(json_t **claims, const char *token, const EVP_PKEY *signer, time_t now, unsigned int leeway)
{
	static const char *const members[] = { "alg", "typ", "jwk", "kid", NULL };
	cocoon_kbs_key_type t;
	json_t *c = NULL, *exp, *iat;
	json_int_t n = now ? (json_int_t)now : (json_int_t)time(NULL);
	int err;

	if (claims)
		*claims = NULL;
	if ((err = cocoon_kbs_key_type_of(&t, signer)) != 0 || t != COCOON_KBS_KEY_EC_P256)
		return cocoon_error_set(COCOON_EINVAL, "EAR token: the signer must be the broker's P-256 key");
	if ((err = kbs_jwt_verify(&c, token, signer, members, "EAR token")) != 0)
		return err;
	exp = json_object_get(c, "exp");
	iat = json_object_get(c, "iat");
	if (!json_is_integer(exp))
		err = cocoon_error_set(COCOON_EREJECT, "EAR token: \"exp\" is missing or not an integer");
	else if (n > json_integer_value(exp) + (json_int_t)leeway)
		err = cocoon_error_set(COCOON_EREJECT, "EAR token: expired at %lld (now %lld); attest again",
		                       (long long)json_integer_value(exp), (long long)n);
	else if (iat && (!json_is_integer(iat) || json_integer_value(iat) > n + (json_int_t)leeway))
		err = cocoon_error_set(COCOON_EREJECT, "EAR token: \"iat\" is not an integer or lies in the future");
	else if (!cocoon_kbs_ear_tee_pubkey(c))
		err = cocoon_error_set(COCOON_EREJECT, "EAR token: no submods.cpu0 runtime_data_claims.tee-pubkey");
	if (!err && claims) {
		*claims = c;
		c = NULL;
	}
	json_decref(c);
	return err;
}
