/*
 * The Trustee KBS 0.4.0 key broker on attestd's listener: the wire side only.
 * Messages, bindings, JWE, EAR and admin JWTs are libcocoon's (cocoon/kbs.h),
 * the appraisal is cocoon_attest_appraise, and every piece of state (sessions,
 * used nonces, resources, policies, the broker key) lives in the store, so any
 * replica sharing the database continues any handshake.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "cocoon/attest.h"
#include "attestd.h"

#define KBS_KEY_NAME "kbs-broker"
#define SESSION_ID_HEX 64
#define RESOURCE_PREFIX "/kbs/v0/resource/"

static void kbs_error(attestd_reply *r, int status, cocoon_kbs_error_type t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void kbs_error(attestd_reply *r, int status, cocoon_kbs_error_type t, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(r->body);
	r->body = NULL;
	r->status = status;
	r->content_type = "application/json";
	free(r->log_detail);
	r->log_detail = strdup(msg);
	if (cocoon_kbs_error_body(&r->body, t, msg) != 0) {
		r->status = 500;
		r->body = strdup("{\"type\":\"" COCOON_KBS_ERROR_TYPE_PREFIX "PluginInternalError\",\"detail\":\"out of memory\"}");
	}
}

/* A store error: 503 when the database is unreachable, 500 otherwise. */
static void store_error(attestd_reply *r, int err, const char *what)
{
	if (err == COCOON_EUNAVAILABLE)
		kbs_error(r, 503, COCOON_KBS_ERR_STORAGE_UNAVAILABLE, "%s: the database is unavailable: %s", what,
		          cocoon_error_last()->message);
	else
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "%s: %s", what, cocoon_error_last()->message);
}

static void reply_body(attestd_reply *r, int status, const char *type, char *body)
{
	free(r->body);
	r->status = status;
	r->content_type = type;
	r->body = body;
	if (!body)
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "out of memory");
}

/* ---- the broker key ---- */

/* Frees a memory BIO that held a private key's PEM, zeroising it first. */
static void wipe_bio(BIO *b)
{
	BUF_MEM *mem = NULL;
	if (!b)
		return;
	if (BIO_get_mem_ptr(b, &mem) > 0 && mem && mem->data && !BIO_test_flags(b, BIO_FLAGS_MEM_RDONLY))
		cocoon_zeroize(mem->data, mem->max);
	BIO_free_all(b);
}

int attestd_kbs_key_open(EVP_PKEY **out, cocoon_store *store)
{
	char *alg = NULL, *pem = NULL, *cert = NULL;
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	BUF_MEM *mem;
	int err;

	err = store->ops->key_get(store, KBS_KEY_NAME, &alg, &pem, &cert);
	if (err == COCOON_ENOTFOUND) {
		/* First start on this database: make the P-256 key every replica will share. */
		if ((err = cocoon_kbs_key_generate(&k, COCOON_KBS_KEY_EC_P256)) != 0)
			goto done;
		if (!(b = BIO_new(BIO_s_mem())) || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) ||
		    BIO_write(b, "", 1) != 1) {
			err = cocoon_error_set(COCOON_EINTERNAL, "cannot encode the broker key");
			goto done;
		}
		BIO_get_mem_ptr(b, &mem);
		if ((err = store->ops->key_put(store, KBS_KEY_NAME, "ES256", mem->data, "")) != 0)
			goto done;
		EVP_PKEY_free(k);
		k = NULL;
		/* Read back what the store kept: a replica that raced us may have won. */
		err = store->ops->key_get(store, KBS_KEY_NAME, &alg, &pem, &cert);
	}
	if (err)
		goto done;
	wipe_bio(b);
	if (!(b = BIO_new_mem_buf(pem, -1)) || !(k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) ||
	    EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
		err = cocoon_error_set(COCOON_EFORMAT, "the stored broker key '%s' is not a P-256 private key", KBS_KEY_NAME);
		goto done;
	}
	*out = k;
	k = NULL;
done:
	wipe_bio(b);
	if (pem)
		cocoon_zeroize(pem, strlen(pem));
	free(pem);
	free(alg);
	free(cert);
	EVP_PKEY_free(k);
	return err;
}

/* ---- sessions ---- */

/* The kbs-session-id cookie's value (64 hex characters), or 0 when absent or malformed. */
static int session_cookie(char out[SESSION_ID_HEX + 1], const char *cookie)
{
	const char *p = cookie;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, "kbs-session-id=", 15) == 0) {
			const char *v = p + 15;
			size_t n = strcspn(v, "; ");
			if (n != SESSION_ID_HEX || strspn(v, "0123456789abcdef") < n)
				return 0;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		p = strchr(p, ';');
	}
	return 0;
}

static void handle_auth(attestd_reply *r, attestd_env *env, const char *body, size_t len)
{
	cocoon_kbs_request req = { 0 };
	cocoon_store_session s = { 0 };
	char nonce[COCOON_KBS_NONCE_B64_LEN + 1], id[SESSION_ID_HEX + 1], *challenge = NULL;
	uint8_t raw[SESSION_ID_HEX / 2];
	time_t now = time(NULL);
	int err, secs = env->ctx->cfg->kbs_session_seconds;

	if ((err = cocoon_kbs_request_parse(&req, body, len)) != 0) {
		kbs_error(r, err == COCOON_EREJECT ? 401 : 400, err == COCOON_EREJECT ? COCOON_KBS_ERR_ATTESTATION
		          : COCOON_KBS_ERR_SERDE, "%s", cocoon_error_last()->message);
		goto done;
	}
	if (req.tee != COCOON_KBS_TEE_SGX && req.tee != COCOON_KBS_TEE_TDX && req.tee != COCOON_KBS_TEE_SNP) {
		kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "tee '%s' is not supported by this broker; use sgx, tdx or snp",
		          cocoon_kbs_tee_name(req.tee));
		goto done;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1 || cocoon_kbs_nonce_new(nonce) != 0) {
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "no randomness for the session");
		goto done;
	}
	cocoon_hex_encode(id, raw, sizeof(raw));
	s.id = id, s.tee = (char *)cocoon_kbs_tee_name(req.tee), s.nonce = nonce;
	s.created = now, s.expires = now + secs, s.state = COCOON_STORE_SESSION_CHALLENGED;
	if ((err = env->store->ops->session_create(env->store, &s)) != 0) {
		store_error(r, err, "session");
		goto done;
	}
	if (cocoon_kbs_challenge_build(&challenge, nonce, 0) != 0 ||
	    asprintf(&r->set_cookie, "kbs-session-id=%s; Max-Age=%d; Path=/kbs; HttpOnly", id, secs) < 0) {
		r->set_cookie = NULL;
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "out of memory");
		goto done;
	}
	reply_body(r, 200, "application/json", challenge);
	challenge = NULL;
done:
	free(challenge);
	cocoon_kbs_request_clear(&req);
}

/* ---- attest ---- */

static cocoon_attest_format tee_format(cocoon_kbs_tee t, size_t *init_field_len)
{
	*init_field_len = t == COCOON_KBS_TEE_SNP ? 32 : t == COCOON_KBS_TEE_TDX ? 48 : 64;
	return t == COCOON_KBS_TEE_SNP ? COCOON_ATTEST_FORMAT_SNP
	       : t == COCOON_KBS_TEE_TDX ? COCOON_ATTEST_FORMAT_TDX : COCOON_ATTEST_FORMAT_SGX;
}

/* The current policy of a KBS type, compiled; *p NULL when none is set. */
static int kbs_policy(cocoon_policy **p, char **text, attestd_env *env, const char *type)
{
	char *jws = NULL;
	int64_t version;
	int err = env->store->ops->policy_get(env->store, type, text, &jws, &version);
	free(jws);
	*p = NULL;
	if (err == COCOON_ENOTFOUND)
		return 0;
	if (err || !*text)
		return err;
	return cocoon_policy_parse(p, *text, strlen(*text));
}

/* Appraises the decoded evidence; replies and returns non-zero on refusal. */
static int appraise(cocoon_attest_result **res, int *ref_matched, attestd_reply *r, attestd_env *env,
                    const cocoon_kbs_attestation *a, const cocoon_kbs_evidence *ev, cocoon_kbs_tee tee)
{
	attestd_ctx *ctx = env->ctx;
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_options o = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_policy *pol = NULL;
	char *ptext = NULL;
	uint8_t rd[64], digest[64], field[64];
	size_t dlen = 0, flen;
	int err;

	if ((err = cocoon_kbs_runtime_data_hash(rd, NULL, COCOON_KBS_HASH_SHA384, a->nonce, a->tee_pubkey,
	                                        a->additional_evidence)) != 0) {
		kbs_error(r, 400, COCOON_KBS_ERR_SERDE, "runtime-data: %s", cocoon_error_last()->message);
		return -1;
	}
	in.evidence = ev->evidence, in.evidence_len = ev->evidence_len, in.format = tee_format(tee, &flen);
	in.runtime_data = rd, in.runtime_data_len = 64, in.runtime_hash = COCOON_BIND_NONE;
	in.runtime_data_label = "runtime-data (nonce, tee-pubkey)";
	if (a->has_init_data) {
		if (cocoon_kbs_init_data_digest(digest, &dlen, &a->init_data) != 0) {
			kbs_error(r, 400, COCOON_KBS_ERR_SERDE, "init-data: %s", cocoon_error_last()->message);
			return -1;
		}
		cocoon_kbs_init_data_regularize(field, flen, digest, dlen);
		in.init_data = field, in.init_data_len = flen, in.init_hash = COCOON_BIND_NONE;
		in.init_data_label = "init-data digest";
	}
	if ((err = kbs_policy(&pol, &ptext, env, COCOON_STORE_POLICY_KBS_ATTESTATION)) != 0) {
		free(ptext);
		store_error(r, err, "attestation policy");
		return -1;
	}
	free(ptext);
	in.collateral = attestd_collateral_source(env);
	o.verify.at = ctx->cfg->test_only_verification_time;
	o.verify.allow_debug = ctx->cfg->allow_debug;
	o.policy = pol;
	o.sim_verifier = ctx->sim_verifier;
	o.sim_collateral = ctx->sim_source;
	if (!in.collateral)
		err = COCOON_ENOMEM;
	else
		err = cocoon_attest_appraise(res, ctx->verifier, &in, &o);
	*ref_matched = pol != NULL;
	cocoon_policy_free(pol);
	if (err) {
		if (err == COCOON_EUNAVAILABLE)
			store_error(r, err, "collateral");
		else
			kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "the evidence could not be appraised: %s",
			          cocoon_error_last()->message);
		return -1;
	}
	if ((*res)->verdict != COCOON_VERDICT_ACCEPT) {
		kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "evidence refused by check '%s': %s",
		          cocoon_check_name((*res)->failed_check), (*res)->reason);
		return -1;
	}
	return 0;
}

/* Builds and signs the EAR token of an accepted appraisal. */
static int ear_token(char **token, char **claims_text, attestd_env *env, const cocoon_attest_result *res,
                     const cocoon_kbs_attestation *a, cocoon_kbs_tee tee, int ref_matched)
{
	cocoon_kbs_ear_input ei = COCOON_KBS_EAR_INPUT_INIT;
	json_t *claims = NULL;
	int err;

	ei.tee = tee;
	ei.claims = res->claims;
	ei.tee_pubkey = a->tee_pubkey;
	ei.nonce = a->nonce;
	ei.simulated = res->simulated;
	ei.issuer = env->ctx->issuer;
	ei.lifetime = (unsigned int)env->ctx->cfg->kbs_session_seconds;
	cocoon_kbs_trust_vector_from_result(&ei.tv, &res->verification, ref_matched);
	if ((err = cocoon_kbs_ear_claims_build(&claims, &ei)) == 0 &&
	    (err = cocoon_kbs_ear_sign(token, claims, env->ctx->kbs_key)) == 0 &&
	    !(*claims_text = json_dumps(claims, JSON_COMPACT)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
	json_decref(claims);
	return err;
}

static void handle_attest(attestd_reply *r, attestd_env *env, const char *cookie, const char *body, size_t len)
{
	cocoon_store_session s = { 0 };
	cocoon_kbs_attestation *a = NULL;
	cocoon_kbs_evidence ev = { 0 };
	cocoon_attest_result *res = NULL;
	cocoon_kbs_tee tee;
	char id[SESSION_ID_HEX + 1], *token = NULL, *claims = NULL, *jwk = NULL, *reply = NULL;
	time_t now = time(NULL);
	int err, ref_matched = 0;

	if (!session_cookie(id, cookie)) {
		kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_NOT_FOUND, "no kbs-session-id cookie: POST /kbs/v0/auth first");
		return;
	}
	if ((err = env->store->ops->session_get(env->store, id, now, &s)) != 0) {
		if (err == COCOON_ENOTFOUND)
			kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_NOT_FOUND, "the session is unknown or expired: start again "
			          "with POST /kbs/v0/auth");
		else
			store_error(r, err, "session");
		goto done;
	}
	if (strcmp(s.state, COCOON_STORE_SESSION_CHALLENGED) != 0) {
		kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "the session has attested already: its nonce is used");
		goto done;
	}
	if ((err = cocoon_kbs_attestation_parse(&a, body, len)) != 0) {
		kbs_error(r, 400, COCOON_KBS_ERR_SERDE, "%s", cocoon_error_last()->message);
		goto done;
	}
	if (strcmp(a->nonce, s.nonce) != 0) {
		kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "runtime-data.nonce is not this session's challenge "
		          "nonce (evidence bound to another nonce)");
		goto done;
	}
	if (cocoon_kbs_tee_parse(&tee, s.tee) != 0 || cocoon_kbs_evidence_decode(&ev, tee, a->primary_evidence) != 0) {
		kbs_error(r, 400, COCOON_KBS_ERR_SERDE, "tee-evidence: %s", cocoon_error_last()->message);
		goto done;
	}
	if (appraise(&res, &ref_matched, r, env, a, &ev, tee) != 0)
		goto done;
	if (res->simulated)
		r->log_detail = strdup("simulated evidence");
	if (ear_token(&token, &claims, env, res, a, tee, ref_matched) != 0 ||
	    !(jwk = json_dumps(a->tee_pubkey, JSON_COMPACT))) {
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "token: %s", cocoon_error_last()->message);
		goto done;
	}
	/* The one atomic step: only one attest per nonce, across every replica. */
	if ((err = env->store->ops->session_attest(env->store, id, s.nonce, now, claims, token, jwk)) != 0) {
		if (err == COCOON_EREJECT || err == COCOON_ENOTFOUND)
			kbs_error(r, 401, COCOON_KBS_ERR_ATTESTATION, "the challenge nonce was used already or the session "
			          "expired: %s", cocoon_error_last()->message);
		else
			store_error(r, err, "session");
		goto done;
	}
	if (cocoon_kbs_token_reply_build(&reply, token) != 0)
		reply = NULL;
	reply_body(r, 200, "application/json", reply);
done:
	cocoon_attest_result_free(res);
	cocoon_kbs_evidence_clear(&ev);
	cocoon_kbs_attestation_free(a);
	cocoon_store_session_clear(&s);
	free(token);
	free(claims);
	free(jwk);
}

/* ---- resources ---- */

/* The claims a resource policy sees: the EAR claims flattened, plus the request. */
static json_t *policy_claims(const json_t *ear, const cocoon_kbs_resource_path *p)
{
	json_t *c = json_object(), *cpu0 = json_object_get(json_object_get(ear, "submods"), "cpu0");
	json_t *ae = json_object_get(cpu0, "ear.veraison.annotated-evidence"), *tv;
	const char *k;
	json_t *v;
	char path[3 * COCOON_KBS_PATH_SEGMENT_MAX + 3];
	int ok = c != NULL;

	snprintf(path, sizeof(path), "%s/%s/%s", p->repo, p->type, p->tag);
	json_object_foreach(ae, k, v) {
		const char *ck;
		json_t *cv;
		if (!json_is_object(v) || strcmp(k, "runtime_data_claims") == 0 || strcmp(k, "init_data_claims") == 0)
			continue;
		ok = ok && json_object_set_new(c, "tee", json_string(k)) == 0;
		json_object_foreach(v, ck, cv)
			ok = ok && json_object_set(c, ck, cv) == 0;
	}
	tv = json_object_get(cpu0, "ear.trustworthiness-vector");
	json_object_foreach(tv, k, v) {
		char name[96];
		snprintf(name, sizeof(name), "ear.trustworthiness-vector.%s", k);
		ok = ok && json_object_set(c, name, v) == 0;
	}
	ok = ok && json_object_set_new(c, "ear.status", json_copy(json_object_get(cpu0, "ear.status"))) == 0;
	ok = ok && json_object_set_new(c, "simulated", json_boolean(json_is_true(json_object_get(ae, "simulated")))) == 0;
	ok = ok && json_object_set_new(c, "kbs-resource-path", json_string(path)) == 0;
	ok = ok && json_object_set_new(c, "kbs-resource-repo", json_string(p->repo)) == 0;
	ok = ok && json_object_set_new(c, "kbs-resource-type", json_string(p->type)) == 0;
	ok = ok && json_object_set_new(c, "kbs-resource-tag", json_string(p->tag)) == 0;
	if (!ok) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* The caller's EAR claims and key: a Bearer EAR token, or the attested session of the cookie. */
static int resource_caller(json_t **claims, EVP_PKEY **key, attestd_reply *r, attestd_env *env, const char *auth,
                           const char *cookie)
{
	cocoon_store_session s = { 0 };
	char id[SESSION_ID_HEX + 1];
	int err = -1;

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		if (cocoon_kbs_ear_verify(claims, auth, env->ctx->kbs_key, 0, 60) != 0) {
			kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_VERIFIER, "the Bearer token is not valid: %s",
			          cocoon_error_last()->message);
			return -1;
		}
	} else if (session_cookie(id, cookie)) {
		if ((err = env->store->ops->session_get(env->store, id, time(NULL), &s)) != 0) {
			if (err == COCOON_ENOTFOUND)
				kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_NOT_FOUND, "the session is unknown or expired");
			else
				store_error(r, err, "session");
			return -1;
		}
		if (strcmp(s.state, COCOON_STORE_SESSION_ATTESTED) != 0 || !s.claims ||
		    !(*claims = json_loads(s.claims, 0, NULL))) {
			cocoon_store_session_clear(&s);
			kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_NOT_FOUND, "the session has not attested: POST /kbs/v0/attest first");
			return -1;
		}
		cocoon_store_session_clear(&s);
	} else {
		kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_NOT_FOUND, "no kbs-session-id cookie and no 'Authorization: Bearer "
		          "<attestation token>'");
		return -1;
	}
	if (cocoon_kbs_jwk_to_key(key, cocoon_kbs_ear_tee_pubkey(*claims)) != 0) {
		kbs_error(r, 401, COCOON_KBS_ERR_TOKEN_VERIFIER, "the token's tee-pubkey is not usable: %s",
		          cocoon_error_last()->message);
		return -1;
	}
	return 0;
}

static void handle_resource_get(attestd_reply *r, attestd_env *env, const cocoon_kbs_resource_path *p,
                                const char *auth, const char *cookie)
{
	json_t *claims = NULL, *incoming = NULL;
	EVP_PKEY *key = NULL;
	cocoon_policy *pol = NULL;
	cocoon_policy_outcome out = { 0 };
	char *ptext = NULL, *jwe = NULL;
	uint8_t *value = NULL;
	size_t vlen = 0;
	int err;

	if (resource_caller(&claims, &key, r, env, auth, cookie) != 0)
		goto done;
	if ((err = kbs_policy(&pol, &ptext, env, COCOON_STORE_POLICY_KBS_RESOURCE)) != 0) {
		store_error(r, err, "resource policy");
		goto done;
	}
	if (!pol) {
		kbs_error(r, 403, COCOON_KBS_ERR_POLICY_DENY, "no resource policy is set, so every resource is denied: "
		          "POST /kbs/v0/resource-policy");
		goto done;
	}
	if (!(incoming = policy_claims(claims, p)) || cocoon_policy_evaluate(&out, pol, incoming) != 0) {
		kbs_error(r, 500, COCOON_KBS_ERR_POLICY_ENGINE, "the resource policy could not be evaluated: %s",
		          cocoon_error_last()->message);
		goto done;
	}
	if (!out.permitted) {
		kbs_error(r, 403, COCOON_KBS_ERR_POLICY_DENY, "the resource policy denied %s/%s/%s: %s", p->repo, p->type,
		          p->tag, out.denied_by[0] ? out.denied_by : "no rule permitted it");
		goto done;
	}
	if ((err = env->store->ops->resource_get(env->store, p->repo, p->type, p->tag, &value, &vlen)) != 0) {
		if (err == COCOON_ENOTFOUND)
			kbs_error(r, 404, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "no resource %s/%s/%s", p->repo, p->type, p->tag);
		else
			store_error(r, err, "resource");
		goto done;
	}
	if (cocoon_kbs_jwe_encrypt(&jwe, key, value, vlen) != 0) {
		kbs_error(r, 500, COCOON_KBS_ERR_JWE, "%s", cocoon_error_last()->message);
		goto done;
	}
	reply_body(r, 200, "application/json", jwe);
done:
	if (value)
		cocoon_zeroize(value, vlen);
	free(value);
	free(ptext);
	cocoon_policy_outcome_free(&out);
	cocoon_policy_free(pol);
	json_decref(incoming);
	json_decref(claims);
	EVP_PKEY_free(key);
}

/* ---- admin ---- */

/* Policy text from a body: Trustee's {"policy": base64url} or the text itself. *out is NUL-terminated. */
static int policy_text(char **out, attestd_reply *r, const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *pv = json_object_get(o, "policy");
	size_t n = 0;
	const char *t;
	int err = 0;

	if (json_is_string(pv)) {
		if (cocoon_b64_decode((uint8_t **)out, &n, json_string_value(pv), json_string_length(pv)) != 0) {
			kbs_error(r, 400, COCOON_KBS_ERR_PARSE_POLICY, "policy: %s", cocoon_error_last()->message);
			err = -1;
		}
	} else if (!(*out = strndup(body, len))) {
		kbs_error(r, 500, COCOON_KBS_ERR_PLUGIN_INTERNAL, "out of memory");
		err = -1;
	}
	json_decref(o);
	if (err)
		return err;
	for (t = *out; *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r';)
		t++;
	if (strncmp(t, "package ", 8) == 0 || strstr(t, "\npackage ")) {
		kbs_error(r, 400, COCOON_KBS_ERR_PARSE_POLICY, "Rego policies are not supported: write the policy in "
		          "cocoon's policy language (docs/kbs.md, docs/policy.md)");
		return -1;
	}
	return 0;
}

static void handle_policy_set(attestd_reply *r, attestd_env *env, const char *type, const char *body, size_t len)
{
	cocoon_policy *p = NULL;
	char *text = NULL;
	int err;

	if (policy_text(&text, r, body, len) != 0)
		goto done;
	if (cocoon_policy_parse(&p, text, strlen(text)) != 0) {
		kbs_error(r, 400, COCOON_KBS_ERR_PARSE_POLICY, "%s", cocoon_error_last()->message);
		goto done;
	}
	if ((err = env->store->ops->policy_put(env->store, type, text, NULL, "admin")) != 0) {
		store_error(r, err, "policy");
		goto done;
	}
	atomic_fetch_add(&env->ctx->generation, 1);
	reply_body(r, 200, "application/json", strdup("{}"));
done:
	cocoon_policy_free(p);
	free(text);
}

static void handle_policy_get(attestd_reply *r, attestd_env *env, const char *type)
{
	char *text = NULL, *jws = NULL;
	int64_t version;
	int err = env->store->ops->policy_get(env->store, type, &text, &jws, &version);

	free(jws);
	if (err == COCOON_ENOTFOUND || (!err && !text))
		kbs_error(r, 404, COCOON_KBS_ERR_POLICY_ENGINE, "no %s policy is set (everything is denied)", type);
	else if (err)
		store_error(r, err, "policy");
	else {
		reply_body(r, 200, "text/plain", text);
		text = NULL;
	}
	free(text);
}

static void handle_admin_resource(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd,
                                  const cocoon_kbs_resource_path *p, const char *body, size_t len)
{
	int err;
	if (cmd == EVHTTP_REQ_DELETE)
		err = env->store->ops->resource_delete(env->store, p->repo, p->type, p->tag);
	else if (!env->ctx->kek)
		err = cocoon_error_set(COCOON_EINVAL, "no key-encryption key: start attestd with --secret-key");
	else
		err = env->store->ops->resource_put(env->store, p->repo, p->type, p->tag, (const uint8_t *)body, len);
	if (err == COCOON_ENOTFOUND)
		kbs_error(r, 404, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "no resource %s/%s/%s", p->repo, p->type, p->tag);
	else if (err)
		store_error(r, err, "resource");
	else
		reply_body(r, 200, "application/json", strdup("{}"));
}

/* ---- routing ---- */

static int admin(attestd_reply *r, attestd_env *env, const char *auth)
{
	char why[512];
	if (attestd_admin_check(env->ctx, auth, why, sizeof(why)) == 0)
		return 1;
	kbs_error(r, 401, COCOON_KBS_ERR_ADMIN_AUTH_ACCESS, "%s", why);
	return 0;
}

void attestd_kbs_route(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd, const char *auth,
                       const char *cookie, const char *path, const char *body, size_t len)
{
	cocoon_kbs_resource_path rp;
	int post = cmd == EVHTTP_REQ_POST;

	if (!env->ctx->kbs_enabled)
		return kbs_error(r, 404, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "the key broker is off: it is not served "
		                 "over plain HTTP on a non-loopback address (use TLS, or --insecure-http)");
	if (len > COCOON_KBS_MAX_BODY)
		return kbs_error(r, 413, COCOON_KBS_ERR_PAYLOAD_TOO_LARGE, "the body exceeds %d bytes", COCOON_KBS_MAX_BODY);
	if (atomic_load(&env->ctx->draining))
		return kbs_error(r, 503, COCOON_KBS_ERR_STORAGE_UNAVAILABLE, "the service is shutting down");
	if (strcmp(path, "/kbs/v0/auth") == 0 && post)
		return handle_auth(r, env, body, len);
	if (strcmp(path, "/kbs/v0/attest") == 0 && post)
		return handle_attest(r, env, cookie, body, len);
	if (strcmp(path, "/kbs/v0/resource-policy") == 0 && (post || cmd == EVHTTP_REQ_GET)) {
		if (!admin(r, env, auth))
			return;
		return post ? handle_policy_set(r, env, COCOON_STORE_POLICY_KBS_RESOURCE, body, len)
		            : handle_policy_get(r, env, COCOON_STORE_POLICY_KBS_RESOURCE);
	}
	if (strcmp(path, "/kbs/v0/attestation-policy") == 0 && post) {
		if (!admin(r, env, auth))
			return;
		return handle_policy_set(r, env, COCOON_STORE_POLICY_KBS_ATTESTATION, body, len);
	}
	if (strncmp(path, RESOURCE_PREFIX, strlen(RESOURCE_PREFIX)) == 0) {
		const char *rest = path + strlen(RESOURCE_PREFIX);
		if (cocoon_kbs_resource_path_parse(&rp, rest, strlen(rest)) != 0)
			return kbs_error(r, 404, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "%s", cocoon_error_last()->message);
		if (cmd == EVHTTP_REQ_GET)
			return handle_resource_get(r, env, &rp, auth, cookie);
		if (post || cmd == EVHTTP_REQ_DELETE) {
			if (!admin(r, env, auth))
				return;
			return handle_admin_resource(r, env, cmd, &rp, body, len);
		}
	}
	kbs_error(r, 404, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "no such key broker endpoint or method: %.200s", path);
}
