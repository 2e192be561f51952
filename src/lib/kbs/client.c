/*
 * The guest side of the KBS protocol: the RCAR handshake (auth, evidence
 * bound to the challenge nonce and an ephemeral key, attest) and resource
 * fetches whose JWE replies are decrypted with that key. Used by cocoon-run
 * and `cocoon kbs get-resource`. Every failure records a category
 * (cocoon_kbs_failure) because the launcher's exit code depends on it.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "kbs_int.h"
#include "cocoon/evidence.h"
#include "cocoon/kbs.h"

#define TOKEN_MAX (64 * 1024)

struct cocoon_kbs_client {
	char *url, *ca_file, *provider, *sim_dir, *init_data;
	cocoon_tee tee;
	cocoon_kbs_key_type key_type;
	cocoon_kbs_http_options http;
	EVP_PKEY *key;                 /* ephemeral; only in memory */
	char cookie[COCOON_KBS_SESSION_COOKIE_MAX];
	char *token;
	cocoon_kbs_failure failure;
};

static const char *const failure_names[] = {
	"none", "configuration", "no TEE evidence", "broker unreachable", "attestation refused", "policy denied",
	"resource missing", "protocol error",
};

const char *cocoon_kbs_failure_name(cocoon_kbs_failure f)
{
	return (unsigned)f < sizeof(failure_names) / sizeof(failure_names[0]) ? failure_names[f] : "unknown";
}

cocoon_kbs_failure cocoon_kbs_client_failure(const cocoon_kbs_client *c)
{
	return c ? c->failure : COCOON_KBS_FAIL_CONFIG;
}

static int fail(cocoon_kbs_client *c, cocoon_kbs_failure f, int err)
{
	c->failure = f;
	return err;
}

static int dup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	return (*dst = strdup(src)) ? 0 : cocoon_error_set(COCOON_ENOMEM, "KBS client: out of memory");
}

static void forget_session(cocoon_kbs_client *c)
{
	if (c->token) {
		cocoon_zeroize(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
	cocoon_zeroize(c->cookie, sizeof(c->cookie));
	EVP_PKEY_free(c->key);
	c->key = NULL;
}

void cocoon_kbs_client_free(cocoon_kbs_client *c)
{
	if (!c)
		return;
	forget_session(c);
	free(c->url);
	free(c->ca_file);
	free(c->provider);
	free(c->sim_dir);
	if (c->init_data) {
		cocoon_zeroize(c->init_data, strlen(c->init_data));
		free(c->init_data);
	}
	free(c);
}

int cocoon_kbs_client_new(cocoon_kbs_client **out, const cocoon_kbs_client_options *o)
{
	cocoon_kbs_http_options h = COCOON_KBS_HTTP_OPTIONS_INIT;
	cocoon_kbs_client *c = NULL;
	cocoon_kbs_url u;
	int err, sim;

	*out = NULL;
	if (!o || o->version != COCOON_KBS_CLIENT_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "KBS client options: missing or version %u (expected %u)",
		                        o ? o->version : 0, COCOON_KBS_CLIENT_OPTIONS_VERSION);
	if ((err = cocoon_kbs_url_parse(&u, o->url)) != 0)
		return err;
	sim = o->provider && strcmp(o->provider, "sim") == 0;
	if (!u.https && !sim && !cocoon_kbs_host_is_loopback(u.host))
		return cocoon_error_set(COCOON_EINVAL, "broker URL %.128s: plain http:// is allowed only to a loopback "
		                        "address (127.x, localhost, [::1]) or with the sim provider; use https:// and a CA "
		                        "bundle", o->url);
	if (o->tee != COCOON_TEE_UNKNOWN && o->tee != COCOON_TEE_SGX && o->tee != COCOON_TEE_TDX &&
	    o->tee != COCOON_TEE_SNP)
		return cocoon_error_set(COCOON_EINVAL, "KBS client: tee must be sgx, tdx or snp");
	if (!(c = calloc(1, sizeof(*c))))
		return cocoon_error_set(COCOON_ENOMEM, "KBS client: out of memory");
	if ((err = dup_opt(&c->url, o->url)) != 0 || (err = dup_opt(&c->ca_file, o->ca_file)) != 0 ||
	    (err = dup_opt(&c->provider, o->provider)) != 0 || (err = dup_opt(&c->sim_dir, o->sim_dir)) != 0 ||
	    (err = dup_opt(&c->init_data, o->init_data)) != 0)
		goto done;
	c->tee = o->tee;
	c->key_type = o->key_type ? o->key_type : COCOON_KBS_KEY_EC_P256;
	h.ca_file = c->ca_file;
	h.allow_insecure_http = sim;
	h.timeout_ms = o->timeout_ms;
	h.max_response = o->max_response;
	c->http = h;
	*out = c;
	c = NULL;
done:
	cocoon_kbs_client_free(c);
	return err;
}

/* The broker's error document, for messages: "<Variant>: <detail>" (truncated, printable). */
static void broker_reason(char *buf, size_t n, const cocoon_kbs_http_response *r)
{
	json_t *doc = NULL;
	const char *type = NULL, *detail = NULL;

	snprintf(buf, n, "HTTP %d", r->status);
	if (!r->body_len || kbs_json_load(&doc, (const char *)r->body, r->body_len, "error") != 0) {
		cocoon_error_clear();
		return;
	}
	if (json_is_object(doc)) {
		type = json_string_value(json_object_get(doc, "type"));
		detail = json_string_value(json_object_get(doc, "detail"));
	}
	if (type && strncmp(type, COCOON_KBS_ERROR_TYPE_PREFIX, strlen(COCOON_KBS_ERROR_TYPE_PREFIX)) == 0)
		type += strlen(COCOON_KBS_ERROR_TYPE_PREFIX);
	snprintf(buf, n, "HTTP %d %.64s: %.300s", r->status, type ? type : "", detail ? detail : "");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	json_decref(doc);
}

/* Maps a transport error or a non-2xx status to a category and a message. */
static int http_failed(cocoon_kbs_client *c, int err, const cocoon_kbs_http_response *r, const char *step,
                       cocoon_kbs_failure on_401)
{
	char reason[512];

	if (err != 0)
		return fail(c, err == COCOON_EINVAL ? COCOON_KBS_FAIL_CONFIG : COCOON_KBS_FAIL_UNREACHABLE,
		            cocoon_error_set(err, "%s: %s", step, cocoon_error_last()->message));
	broker_reason(reason, sizeof(reason), r);
	if (r->status >= 500)
		return fail(c, COCOON_KBS_FAIL_UNREACHABLE,
		            cocoon_error_set(COCOON_EUNAVAILABLE, "%s: the broker answered %s", step, reason));
	switch (r->status) {
	case 401:
		return fail(c, on_401, cocoon_error_set(COCOON_EREJECT, "%s: refused: %s", step, reason));
	case 403:
		return fail(c, COCOON_KBS_FAIL_POLICY,
		            cocoon_error_set(COCOON_EREJECT, "%s: the broker's policy denied it: %s", step, reason));
	case 404:
		return fail(c, COCOON_KBS_FAIL_NOT_FOUND,
		            cocoon_error_set(COCOON_ENOTFOUND, "%s: not found at the broker: %s", step, reason));
	default:
		return fail(c, COCOON_KBS_FAIL_PROTOCOL, cocoon_error_set(COCOON_EFORMAT, "%s: unexpected %s", step, reason));
	}
}

static int post_json(cocoon_kbs_http_response *r, cocoon_kbs_client *c, const char *path, const char *body)
{
	char cookie[COCOON_KBS_SESSION_COOKIE_MAX + 32];
	const char *hdrs[2] = { NULL, NULL };
	int err;

	if (c->cookie[0]) {
		snprintf(cookie, sizeof(cookie), "Cookie: kbs-session-id=%s", c->cookie);
		hdrs[0] = cookie;
	}
	err = cocoon_kbs_http_request(r, &c->http, "POST", c->url, path, hdrs, (const uint8_t *)body, strlen(body),
	                              "application/json");
	cocoon_zeroize(cookie, sizeof(cookie));
	return err;
}

/* Picks the TEE to announce when the options leave it to auto-detection. */
static int resolve_tee(cocoon_kbs_client *c, cocoon_tee *tee)
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_probe_report rep;
	int err;

	*tee = c->tee;
	if (*tee != COCOON_TEE_UNKNOWN)
		return 0;
	if (c->provider && strcmp(c->provider, "sim") == 0) {
		*tee = COCOON_TEE_SGX;
		return 0;
	}
	eo.sim_dir = c->sim_dir;
	if ((err = cocoon_evidence_probe(&rep, &eo)) != 0)
		return fail(c, COCOON_KBS_FAIL_EVIDENCE, err);
	for (size_t i = 0; i < rep.count; i++)
		if (c->provider && strcmp(c->provider, "auto") != 0 ? strcmp(rep.entries[i].name, c->provider) == 0
		                                                     : (int)i == rep.selected) {
			*tee = rep.entries[i].tee;
			break;
		}
	if (*tee == COCOON_TEE_UNKNOWN)
		return fail(c, COCOON_KBS_FAIL_EVIDENCE,
		            cocoon_error_set(COCOON_ENOTFOUND, "evidence: no TEE found to announce to the broker; name the "
		                             "tee (sgx, tdx, snp) or run on a confidential node"));
	return 0;
}

static cocoon_kbs_tee kbs_tee_of(cocoon_tee t)
{
	return t == COCOON_TEE_TDX ? COCOON_KBS_TEE_TDX : t == COCOON_TEE_SNP ? COCOON_KBS_TEE_SNP : COCOON_KBS_TEE_SGX;
}

/* Evidence for report_data, in the guest-components shape for tee. */
static int make_evidence(json_t **primary, cocoon_kbs_client *c, cocoon_tee tee, const uint8_t rd[64])
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_kbs_init_data id = { .format = "toml", .body = c->init_data };
	cocoon_kbs_evidence ke = { 0 };
	cocoon_evidence ev;
	uint8_t digest[64];
	size_t dlen = 0;
	int err;

	eo.provider = c->provider;
	eo.tee = tee;
	eo.sim_dir = c->sim_dir;
	memcpy(eo.report_data, rd, 64);
	if (c->init_data) {
		if ((err = cocoon_kbs_init_data_digest(digest, &dlen, &id)) != 0)
			return fail(c, COCOON_KBS_FAIL_CONFIG, cocoon_error_set(err, "init data: %s",
			                                                        cocoon_error_last()->message));
		eo.sim_init_data_digest = digest;
		eo.sim_init_data_digest_len = dlen;
	}
	if ((err = cocoon_evidence_collect(&ev, &eo)) != 0)
		return fail(c, COCOON_KBS_FAIL_EVIDENCE, err);
	ke.tee = kbs_tee_of(ev.tee);
	ke.evidence = ev.evidence;
	ke.evidence_len = ev.evidence_len;
	ke.aux = ev.aux;
	ke.aux_len = ev.aux_len;
	if (ev.tee != tee)
		err = fail(c, COCOON_KBS_FAIL_EVIDENCE, cocoon_error_set(COCOON_EREJECT, "evidence: the provider made %s "
		                                                         "evidence, not %s", cocoon_tee_name(ev.tee),
		                                                         cocoon_tee_name(tee)));
	else if ((err = cocoon_kbs_evidence_encode(primary, &ke)) != 0)
		err = fail(c, COCOON_KBS_FAIL_EVIDENCE, err);
	cocoon_evidence_free(&ev);
	return err;
}

/* auth: the Request out, the Challenge and the session cookie back. */
static int do_auth(cocoon_kbs_challenge *ch, cocoon_kbs_client *c, cocoon_tee tee)
{
	cocoon_kbs_http_response r;
	char *req = NULL;
	int err;

	if ((err = cocoon_kbs_request_build(&req, kbs_tee_of(tee))) != 0)
		return fail(c, COCOON_KBS_FAIL_PROTOCOL, err);
	err = post_json(&r, c, "/kbs/v0/auth", req);
	free(req);
	if (err != 0 || r.status != 200) {
		err = http_failed(c, err, &r, "auth", COCOON_KBS_FAIL_ATTESTATION);
		goto done;
	}
	if (!r.session_cookie[0]) {
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL,
		           cocoon_error_set(COCOON_EFORMAT, "auth: the broker set no kbs-session-id cookie"));
		goto done;
	}
	if ((err = cocoon_kbs_challenge_parse(ch, (const char *)r.body, r.body_len)) != 0) {
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL, cocoon_error_set(err, "auth: %s", cocoon_error_last()->message));
		goto done;
	}
	memcpy(c->cookie, r.session_cookie, sizeof(c->cookie));
done:
	cocoon_kbs_http_response_clear(&r);
	return err;
}

/* attest: evidence for this nonce and key, the token back. */
static int do_attest(cocoon_kbs_client *c, const cocoon_kbs_challenge *ch, const json_t *jwk, cocoon_tee tee)
{
	cocoon_kbs_init_data id = { .format = "toml", .body = c->init_data };
	cocoon_kbs_http_response r = { 0 };
	json_t *primary = NULL;
	char *body = NULL;
	uint8_t rd[64];
	int err;

	if ((err = cocoon_kbs_runtime_data_hash(rd, NULL, ch->hash, ch->nonce, jwk, "")) != 0) {
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL, err);
		goto done;
	}
	if ((err = make_evidence(&primary, c, tee, rd)) != 0)
		goto done;
	if ((err = cocoon_kbs_attestation_build(&body, ch->nonce, jwk, primary, "", c->init_data ? &id : NULL)) != 0) {
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL, err);
		goto done;
	}
	if ((err = post_json(&r, c, "/kbs/v0/attest", body)) != 0 || r.status != 200) {
		err = http_failed(c, err, &r, "attest", COCOON_KBS_FAIL_ATTESTATION);
		goto done;
	}
	if ((err = cocoon_kbs_token_reply_parse(&c->token, (const char *)r.body, r.body_len)) != 0)
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL, cocoon_error_set(err, "attest: %s", cocoon_error_last()->message));
done:
	cocoon_kbs_http_response_clear(&r);
	json_decref(primary);
	free(body);
	return err;
}

/* The whole RCAR handshake with a fresh ephemeral key. */
static int handshake(cocoon_kbs_client *c)
{
	cocoon_kbs_challenge ch;
	json_t *jwk = NULL;
	cocoon_tee tee;
	int err;

	forget_session(c);
	if ((err = resolve_tee(c, &tee)) != 0)
		return err;
	if ((err = cocoon_kbs_key_generate(&c->key, c->key_type)) != 0 ||
	    (err = cocoon_kbs_jwk_from_key(&jwk, c->key)) != 0)
		return fail(c, COCOON_KBS_FAIL_PROTOCOL, err);
	if ((err = do_auth(&ch, c, tee)) == 0)
		err = do_attest(c, &ch, jwk, tee);
	json_decref(jwk);
	if (err != 0)
		forget_session(c);
	return err;
}

static int fetch_once(uint8_t **out, size_t *len, cocoon_kbs_client *c, const char *path, int *unauthorized)
{
	char route[512], cookie[COCOON_KBS_SESSION_COOKIE_MAX + 32], step[512];
	const char *hdrs[2] = { cookie, NULL };
	cocoon_kbs_http_response r;
	int err;

	*unauthorized = 0;
	snprintf(route, sizeof(route), "/kbs/v0/resource/%s", path);
	snprintf(step, sizeof(step), "resource %s", path);
	snprintf(cookie, sizeof(cookie), "Cookie: kbs-session-id=%s", c->cookie);
	err = cocoon_kbs_http_request(&r, &c->http, "GET", c->url, route, hdrs, NULL, 0, NULL);
	cocoon_zeroize(cookie, sizeof(cookie));
	if (err == 0 && r.status == 401)
		*unauthorized = 1;
	if (err != 0 || r.status != 200) {
		err = http_failed(c, err, &r, step, COCOON_KBS_FAIL_ATTESTATION);
		goto done;
	}
	if ((err = cocoon_kbs_jwe_decrypt(out, len, (const char *)r.body, r.body_len, c->key)) != 0)
		err = fail(c, COCOON_KBS_FAIL_PROTOCOL, cocoon_error_set(err, "%s: the reply does not decrypt with the "
		                                                         "handshake key: %s", step,
		                                                         cocoon_error_last()->message));
done:
	cocoon_kbs_http_response_clear(&r);
	return err;
}

int cocoon_kbs_client_get_resource(uint8_t **out, size_t *len, cocoon_kbs_client *c, const char *path)
{
	cocoon_kbs_resource_path rp;
	int err, unauthorized = 0;

	*out = NULL;
	*len = 0;
	if (!c)
		return cocoon_error_set(COCOON_EINVAL, "KBS client: none given");
	c->failure = COCOON_KBS_FAIL_NONE;
	if (!path || (err = cocoon_kbs_resource_path_parse(&rp, path, strlen(path))) != 0)
		return fail(c, COCOON_KBS_FAIL_CONFIG, path ? err : cocoon_error_set(COCOON_EINVAL, "resource: no path"));
	if (!c->token && (err = handshake(c)) != 0)
		return err;
	err = fetch_once(out, len, c, path, &unauthorized);
	/* The session may have expired between resources: one fresh handshake, as guest-components does. */
	if (err != 0 && unauthorized) {
		if ((err = handshake(c)) != 0)
			return err;
		err = fetch_once(out, len, c, path, &unauthorized);
	}
	if (err == 0)
		c->failure = COCOON_KBS_FAIL_NONE;
	return err;
}
