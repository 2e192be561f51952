/* Attestation policies: the current compiled policy per type, and the admin API (GET, PUT, :reset). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "cocoon/token.h"
#include "attestd.h"

typedef struct policy_entry {
	struct policy_entry *next;
	char type[16];
	cocoon_policy *policy;
	char hash[44];
} policy_entry;

/* The worker cache keeps one list per process area; policies live in their own small list. */
static __thread policy_entry *tl_policies;
static __thread unsigned long tl_policy_gen;
static __thread int64_t tl_policy_dbgen;

static void flush(void)
{
	while (tl_policies) {
		policy_entry *e = tl_policies;
		tl_policies = e->next;
		cocoon_policy_free(e->policy);
		free(e);
	}
}

void attestd_policy_thread_exit(void)
{
	flush();
}

int attestd_policy_current(attestd_policy_ref *out, attestd_env *env, const char *type, cocoon_tee tee)
{
	char *text = NULL, *jws = NULL;
	const char *src;
	int64_t version;
	policy_entry *e;
	int err;

	if (tl_policy_gen != env->seen_generation || tl_policy_dbgen != env->db_generation) {
		flush();
		tl_policy_gen = env->seen_generation;
		tl_policy_dbgen = env->db_generation;
	}
	for (e = tl_policies; e; e = e->next) {
		if (strcmp(e->type, type) == 0) {
			out->policy = e->policy;
			memcpy(out->hash, e->hash, sizeof(out->hash));
			return 0;
		}
	}
	err = env->store->ops->policy_get(env->store, type, &text, &jws, &version);
	if (err && err != COCOON_ENOTFOUND)
		return err;
	src = text ? text : cocoon_policy_default(tee);
	if (!src) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "no default policy for %s", type);
		goto done;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(e->type, sizeof(e->type), "%s", type);
	if ((err = cocoon_policy_parse(&e->policy, src, strlen(src))) ||
	    (err = cocoon_policy_hash(e->hash, src, strlen(src)))) {
		err = cocoon_error_set(err, "stored policy for %s: %s", type, cocoon_error_last()->message);
		cocoon_policy_free(e->policy);
		free(e);
		goto done;
	}
	e->next = tl_policies;
	tl_policies = e;
	out->policy = e->policy;
	memcpy(out->hash, e->hash, sizeof(out->hash));
	err = 0;
done:
	free(text);
	free(jws);
	return err;
}

/* The standard time claims of every token the service signs. */
static void stamp(json_t *claims, attestd_env *env, int lifetime)
{
	time_t now = time(NULL);
	json_object_set_new(claims, "iss", json_string(env->ctx->issuer));
	json_object_set_new(claims, "iat", json_integer(now));
	json_object_set_new(claims, "nbf", json_integer(now));
	json_object_set_new(claims, "exp", json_integer(now + lifetime));
}

static void reply_signed(attestd_reply *r, attestd_env *env, json_t *claims)
{
	char *token = NULL;
	stamp(claims, env, env->ctx->cfg->token_lifetime_seconds);
	if (attestd_signer_sign(&token, env->ctx->signer, claims, env->ctx->jku) != 0) {
		attestd_reply_error(r, 500, "InternalError", "signing the reply failed: %s", cocoon_error_last()->message);
	} else {
		attestd_reply_json(r, 200, json_pack("{s:s}", "token", token));
	}
	free(token);
	json_decref(claims);
}

/* An unsigned JWS of {"AttestationPolicy": base64url(text)} (MAA's StoredAttestationPolicy). */
static char *unsigned_policy_jws(const char *text)
{
	char *b64 = NULL, *payload = NULL, *p64 = NULL, *out = NULL;
	if (cocoon_b64url_encode(&b64, (const uint8_t *)text, strlen(text)) == 0 &&
	    asprintf(&payload, "{\"AttestationPolicy\":\"%s\"}", b64) >= 0 &&
	    cocoon_b64url_encode(&p64, (const uint8_t *)payload, strlen(payload)) == 0 &&
	    asprintf(&out, "eyJhbGciOiJub25lIn0.%s.", p64) < 0)
		out = NULL;
	free(b64);
	free(payload);
	free(p64);
	return out;
}

/* Reads the policy text out of an uploaded JWS; signed uploads must verify with their own x5c[0]. */
static int policy_from_jws(char **text, json_t **signer, const char *jws, size_t len)
{
	const char *dot = memchr(jws, '.', len);
	uint8_t *hdr = NULL, *payload = NULL, *der = NULL, *pol = NULL;
	size_t hdr_len, payload_len = 0, der_len, pol_len;
	json_t *h = NULL, *p = NULL;
	const char *alg, *x5c0, *ap;
	const unsigned char *dp;
	X509 *cert = NULL;
	int err = 0;

	*text = NULL;
	*signer = NULL;
	if (!dot || cocoon_b64_decode(&hdr, &hdr_len, jws, (size_t)(dot - jws)) != 0 ||
	    !(h = json_loadb((char *)hdr, hdr_len, 0, NULL)) || !(alg = json_string_value(json_object_get(h, "alg")))) {
		err = cocoon_error_set(COCOON_EFORMAT, "policy: the body must be a JWS whose header names \"alg\"");
		goto done;
	}
	if (strcmp(alg, "none") == 0) {
		const char *d2 = memchr(dot + 1, '.', len - (size_t)(dot + 1 - jws));
		if (!d2 || cocoon_b64_decode(&payload, &payload_len, dot + 1, (size_t)(d2 - dot - 1)) != 0) {
			err = cocoon_error_set(COCOON_EFORMAT, "policy: the JWS payload is not base64url");
			goto done;
		}
	} else {
		json_t *x5c = json_object_get(h, "x5c");
		if (!(x5c0 = json_string_value(json_array_get(x5c, 0))) ||
		    cocoon_b64_decode(&der, &der_len, x5c0, strlen(x5c0)) != 0 || !(dp = der) ||
		    !(cert = d2i_X509(NULL, &dp, (long)der_len))) {
			err = cocoon_error_set(COCOON_EFORMAT, "policy: a signed policy needs its certificate in x5c[0]");
			goto done;
		}
		if ((err = cocoon_jws_verify_with_key(&payload, &payload_len, jws, len, X509_get0_pubkey(cert))) != 0) {
			err = cocoon_error_set(COCOON_EREJECT, "policy: %s", cocoon_error_last()->message);
			goto done;
		}
		*signer = json_pack("{s:[s]}", "x5c", x5c0);
	}
	if (!(p = json_loadb((char *)payload, payload_len, 0, NULL)) ||
	    !(ap = json_string_value(json_object_get(p, "AttestationPolicy")))) {
		err = cocoon_error_set(COCOON_EFORMAT, "policy: the JWS payload must be {\"AttestationPolicy\": "
		                       "base64url(policy text)}");
		goto done;
	}
	if (cocoon_b64_decode(&pol, &pol_len, ap, strlen(ap)) != 0 || strlen((char *)pol) != pol_len) {
		err = cocoon_error_set(COCOON_EFORMAT, "policy: AttestationPolicy is not base64url of UTF-8 text");
		goto done;
	}
	*text = (char *)pol;
	pol = NULL;
done:
	if (err) {
		json_decref(*signer);
		*signer = NULL;
	}
	X509_free(cert);
	json_decref(h);
	json_decref(p);
	free(hdr);
	free(payload);
	free(der);
	free(pol);
	return err;
}

static void token_hash(char out[44], const char *jws, size_t len)
{
	uint8_t d[32];
	const void *parts[1] = { jws };
	size_t lens[1] = { len };
	char *b = NULL;
	out[0] = '\0';
	if (cocoon_sha256(d, 1, parts, lens) == 0 && cocoon_b64url_encode(&b, d, 32) == 0)
		snprintf(out, 44, "%s", b);
	free(b);
}

void attestd_handle_policy(attestd_reply *r, attestd_env *env, const char *method, const char *type_in, int reset,
                           const char *body, size_t len)
{
	cocoon_tee tee;
	int idx = attestd_type_tee(type_in, &tee);
	const char *type = attestd_type_name(idx);
	char *text = NULL, *jws = NULL, *owned_body = NULL, hash[44];
	json_t *signer = NULL;
	int64_t version;
	cocoon_policy *compiled = NULL;
	int err;

	if (!type) {
		attestd_reply_error(r, 400, "InvalidParameter", "attestation type '%.40s' is not supported; use "
		                    "SgxEnclave, OpenEnclave, SevSnpVm or TdxVm", type_in);
		return;
	}
	if (strcmp(method, "GET") == 0 && !reset) {
		err = env->store->ops->policy_get(env->store, type, &text, &jws, &version);
		if (err && err != COCOON_ENOTFOUND) {
			attestd_reply_error(r, 500, "InternalError", "%s", cocoon_error_last()->message);
			goto done;
		}
		if (!jws || !text) {
			free(jws);
			jws = unsigned_policy_jws(text ? text : cocoon_policy_default(tee));
		}
		reply_signed(r, env, json_pack("{s:s?}", "x-ms-policy", jws));
		goto done;
	}
	/* text/plain bodies may also arrive as a JSON string. */
	if (len > 1 && body[0] == '"') {
		json_t *s = json_loadb(body, len, JSON_DECODE_ANY, NULL);
		if (json_is_string(s))
			owned_body = strdup(json_string_value(s));
		json_decref(s);
		if (!owned_body) {
			attestd_reply_error(r, 400, "InvalidParameter", "body: a quoted JWS must be a valid JSON string");
			goto done;
		}
		body = owned_body;
		len = strlen(owned_body);
	}
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
		len--;
	token_hash(hash, body, len);
	if (reset) {
		if ((err = env->store->ops->policy_put(env->store, type, NULL, NULL, "admin")) != 0) {
			attestd_reply_error(r, 500, "InternalError", "%s", cocoon_error_last()->message);
			goto done;
		}
		atomic_fetch_add(&env->ctx->generation, 1);
		attestd_logf("info", "policy for %s reset to the default", type);
		reply_signed(r, env, json_pack("{s:s,s:s}", "x-ms-policy-result", "Removed", "x-ms-policy-token-hash", hash));
		goto done;
	}
	if (len == 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "body: expected a JWS holding {\"AttestationPolicy\": "
		                    "base64url(policy text)}");
		goto done;
	}
	if ((err = policy_from_jws(&text, &signer, body, len)) != 0) {
		attestd_reply_error(r, err == COCOON_EREJECT ? 401 : 400, err == COCOON_EREJECT ? "InvalidSignature"
		                    : "InvalidParameter", "%s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_policy_parse(&compiled, text, strlen(text)) != 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s", cocoon_error_last()->message);
		goto done;
	}
	if (!(jws = strndup(body, len)) || (err = env->store->ops->policy_put(env->store, type, text, jws, "admin"))) {
		attestd_reply_error(r, 500, "InternalError", "storing the policy failed: %s", cocoon_error_last()->message);
		goto done;
	}
	atomic_fetch_add(&env->ctx->generation, 1);
	{
		char ph[44];
		cocoon_policy_hash(ph, text, strlen(text));
		json_t *f = json_pack("{s:s,s:s}", "type", type, "policy_hash", ph);
		attestd_log("info", "policy updated", f);
		json_decref(f);
	}
	reply_signed(r, env, json_pack("{s:s,s:s,s:O?}", "x-ms-policy-result", "Updated", "x-ms-policy-token-hash",
	                               hash, "x-ms-policy-signer", signer));
done:
	cocoon_policy_free(compiled);
	json_decref(signer);
	free(owned_body);
	free(text);
	free(jws);
}
