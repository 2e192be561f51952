/*
 * Token issuance for an accepted appraisal: the appraisal's claims plus the
 * claims only the issuer sets (iss, iat, nbf, exp, jti, x-ms-policy-hash,
 * nonce and "cocoon", the verifier's result), signed by a token signer or
 * left unsigned for MAA's draft policies. Every claim goes through an
 * accumulator: a claim that cannot be built fails issuance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "cocoon/attest.h"

#define DEFAULT_LIFETIME (8 * 3600)

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

int cocoon_token_claims(json_t **out, const cocoon_attest_result *r, const cocoon_token_issue_options *opts)
{
	static const cocoon_token_issue_options defaults = COCOON_TOKEN_ISSUE_OPTIONS_INIT;
	json_t *c = NULL, *result = NULL;
	char jti[65];
	uint8_t rnd[32];
	time_t now;
	int lifetime, bad = 0, err = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!r || opts->version != COCOON_TOKEN_ISSUE_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_token_claims: a result and options of version %d are "
		                        "required", COCOON_TOKEN_ISSUE_OPTIONS_VERSION);
	if (r->verdict != COCOON_VERDICT_ACCEPT || !r->claims)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_token_claims: the appraisal did not accept the evidence (%s)",
		                        cocoon_verdict_name(r->verdict));
	now = opts->now ? opts->now : time(NULL);
	lifetime = r->token_lifetime ? r->token_lifetime : opts->lifetime ? opts->lifetime : DEFAULT_LIFETIME;
	if (opts->jti) {
		snprintf(jti, sizeof(jti), "%s", opts->jti);
	} else {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return cocoon_error_set_openssl(COCOON_EINTERNAL, "token: no randomness for jti");
		cocoon_hex_encode(jti, rnd, sizeof(rnd));
	}
	if (!(c = json_deep_copy(r->claims))) {
		err = cocoon_error_set(COCOON_ENOMEM, "token claims: out of memory");
		goto done;
	}
	if (opts->issuer)
		set(&bad, c, "iss", json_string(opts->issuer));
	set(&bad, c, "iat", json_integer(now));
	set(&bad, c, "nbf", json_integer(now));
	set(&bad, c, "exp", json_integer(now + lifetime));
	set(&bad, c, "jti", json_string(jti));
	if (opts->policy_hash)
		set(&bad, c, "x-ms-policy-hash", json_string(opts->policy_hash));
	if (opts->nonce)
		set(&bad, c, "nonce", json_string(opts->nonce));
	/* Built as an object: jansson's parser can drop a byte when an allocation fails. */
	if ((err = cocoon_result_json_object(&result, &r->verification)) != 0)
		goto done;
	set(&bad, c, "cocoon", result);
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "token claims: out of memory");
		goto done;
	}
	*out = c;
	c = NULL;
done:
	json_decref(c);
	return err;
}

/* MAA tokens from draft policies "cannot be validated": unsigned (alg none). */
static int unsigned_token(char **out, const json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT), *p64 = NULL;
	int err = 0;

	if (!payload)
		return cocoon_error_set(COCOON_ENOMEM, "token: out of memory");
	if ((err = cocoon_b64url_encode(&p64, (const uint8_t *)payload, strlen(payload))) == 0 &&
	    asprintf(out, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.", p64) < 0) {
		*out = NULL;
		err = cocoon_error_set(COCOON_ENOMEM, "token: out of memory");
	}
	free(payload);
	free(p64);
	return err;
}

int cocoon_token_issue(char **out, cocoon_token_signer *s, const cocoon_attest_result *r,
                       const cocoon_token_issue_options *opts)
{
	json_t *claims = NULL;
	int err;

	*out = NULL;
	if ((err = cocoon_token_claims(&claims, r, opts)) != 0)
		return err;
	err = s ? cocoon_token_signer_sign(out, s, claims, opts ? opts->jku : NULL) : unsigned_token(out, claims);
	json_decref(claims);
	return err;
}
