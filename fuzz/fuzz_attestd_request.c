/*
 * libFuzzer target fuzz_attestd_request: one HTTP request as a client sends
 * it, served by attestd_route with a real verifier (Intel root built in) and
 * an ES256 signer over an in-memory store that holds nothing, so every read
 * is "not found" and every write is accepted and forgotten (each input runs
 * alone).
 *
 * Input: "METHOD URI[ ...]\n", then header lines up to an empty line (only
 * Authorization and Cookie are used, as by the daemon), then the body. The key
 * broker (/kbs/) is on; its store has one challenged session for every
 * kbs-session-id, with the nonce FUZZ_NONCE, and no resources. The URI is split
 * by libevent with the flags evhttp uses. The admin token is FUZZ_ADMIN, so
 * seeds reach the policy and collateral handlers. The log functions are
 * stubs here (log.c is not linked into this target).
 * Seeds: fuzz/corpus/attestd_request/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/http.h>
#include "common/util.h"
#include "attestd.h"

#define FUZZ_ADMIN "fuzz-admin-token-0123456789"
#define LINE_MAX_LEN 4096
#define FUZZ_NONCE "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static attestd_config cfg;
static attestd_ctx ctx;
static attestd_env env;

/* ---- a store that keeps nothing ---- */

static void st_close(cocoon_store *s) { (void)s; }
static int st_generation(cocoon_store *s, int64_t *out)
{
	(void)s;
	*out = 0;
	return 0;
}
static int st_key_get(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem)
{
	(void)s;
	(void)alg;
	(void)key_pem;
	(void)cert_pem;
	return cocoon_error_set(COCOON_ENOTFOUND, "no key %s", name);
}
static int st_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem)
{
	(void)s;
	(void)name;
	(void)alg;
	(void)key_pem;
	(void)cert_pem;
	return 0;
}
static int st_policy_get(cocoon_store *s, const char *type, char **text, char **jws, int64_t *version)
{
	(void)s;
	*text = NULL;
	*jws = NULL;
	*version = 0;
	return cocoon_error_set(COCOON_ENOTFOUND, "no policy for %s", type);
}
static int st_policy_put(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor)
{
	(void)s;
	(void)type;
	(void)text;
	(void)jws;
	(void)actor;
	return 0;
}
static int st_count(cocoon_store *s, const char *what, int64_t *out)
{
	(void)s;
	(void)what;
	*out = 0;
	return 0;
}
static int st_collateral_get(cocoon_store *s, const char *kind, const char *key, char **doc)
{
	(void)s;
	*doc = NULL;
	return cocoon_error_set(COCOON_ENOTFOUND, "no %s collateral %s", kind, key);
}
static int st_collateral_put(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next)
{
	(void)s;
	(void)kind;
	(void)key;
	(void)doc;
	(void)next;
	return 0;
}

static int st_resource_get(cocoon_store *s, const char *repo, const char *type, const char *tag, uint8_t **value,
                           size_t *len)
{
	(void)s, (void)repo, (void)type, (void)tag, (void)value, (void)len;
	return cocoon_error_set(COCOON_ENOTFOUND, "no resource");
}

static int st_resource_put(cocoon_store *s, const char *repo, const char *type, const char *tag, const uint8_t *value,
                           size_t len)
{
	(void)s, (void)repo, (void)type, (void)tag, (void)value, (void)len;
	return 0;
}

static int st_resource_delete(cocoon_store *s, const char *repo, const char *type, const char *tag)
{
	(void)s, (void)repo, (void)type, (void)tag;
	return 0;
}

static int st_session_create(cocoon_store *s, const cocoon_store_session *sess)
{
	(void)s, (void)sess;
	return 0;
}

static int st_session_get(cocoon_store *s, const char *id, time_t now, cocoon_store_session *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
	out->id = strdup(id), out->tee = strdup("sgx"), out->nonce = strdup(FUZZ_NONCE);
	out->state = strdup(COCOON_STORE_SESSION_CHALLENGED);
	out->created = now, out->expires = now + 60;
	if (!out->id || !out->tee || !out->nonce || !out->state) {
		cocoon_store_session_clear(out);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	return 0;
}

static int st_session_attest(cocoon_store *s, const char *id, const char *nonce, time_t now, const char *claims,
                             const char *token, const char *tee_pubkey)
{
	(void)s, (void)id, (void)nonce, (void)now, (void)claims, (void)token, (void)tee_pubkey;
	return 0;
}

static const cocoon_store_ops null_ops = {
	.name = "fuzz-null", .close = st_close, .generation = st_generation, .key_get = st_key_get,
	.key_put = st_key_put, .policy_get = st_policy_get, .policy_put = st_policy_put,
	.policy_history_count = st_count, .collateral_get = st_collateral_get, .collateral_put = st_collateral_put,
	.collateral_count = st_count, .resource_get = st_resource_get, .resource_put = st_resource_put,
	.resource_delete = st_resource_delete, .session_create = st_session_create, .session_get = st_session_get,
	.session_attest = st_session_attest,
};
static cocoon_store null_store = { &null_ops };

/* log.c is left out of this target: a JSON line per input would drown libFuzzer's own reports. */
void attestd_log(const char *level, const char *msg, json_t *fields)
{
	(void)level;
	(void)msg;
	(void)fields;
}

void attestd_logf(const char *level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	const void *parts[1] = { FUZZ_ADMIN };
	size_t lens[1] = { strlen(FUZZ_ADMIN) };
	(void)argc;
	(void)argv;

	attestd_config_init(&cfg);
	free(cfg.signing_alg);
	cfg.signing_alg = strdup("ES256"); /* RSA key generation would dominate start-up */
	ctx.cfg = &cfg;
	ctx.issuer = strdup("http://127.0.0.1:8080");
	ctx.jku = strdup("http://127.0.0.1:8080/certs");
	if (!cfg.signing_alg || !ctx.issuer || !ctx.jku || cocoon_verifier_new(&ctx.verifier, &vo) != 0 ||
	    attestd_signer_open(&ctx.signer, &cfg, &null_store) != 0 ||
	    cocoon_sha256(ctx.admin_token_hash, 1, parts, lens) != 0 || attestd_cache_new(&env.cache) != 0) {
		fprintf(stderr, "fuzz_attestd_request: set-up failed: %s\n", cocoon_error_last()->message);
		abort();
	}
	if (cocoon_kbs_key_generate(&ctx.kbs_key, COCOON_KBS_KEY_EC_P256) != 0) {
		fprintf(stderr, "fuzz_attestd_request: broker key: %s\n", cocoon_error_last()->message);
		abort();
	}
	ctx.has_admin_token = 1;
	ctx.kbs_enabled = 1;
	atomic_store(&ctx.ready, 1);
	env.ctx = &ctx;
	env.store = &null_store;
	return 0;
}

/* Copies the next line (without CR LF) into out; returns the offset after it, or 0 if there is no newline. */
static size_t next_line(char *out, size_t out_size, const uint8_t *data, size_t size, size_t at)
{
	const uint8_t *nl = at < size ? memchr(data + at, '\n', size - at) : NULL;
	size_t n;

	if (!nl)
		return 0;
	n = (size_t)(nl - (data + at));
	if (n > 0 && data[at + n - 1] == '\r')
		n--;
	if (n >= out_size)
		n = out_size - 1;
	memcpy(out, data + at, n);
	out[n] = '\0';
	return (size_t)(nl - data) + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *name;
		enum evhttp_cmd_type cmd;
	} methods[] = { { "GET", EVHTTP_REQ_GET }, { "POST", EVHTTP_REQ_POST }, { "PUT", EVHTTP_REQ_PUT },
	                { "DELETE", EVHTTP_REQ_DELETE } };
	char line[LINE_MAX_LEN], auth[LINE_MAX_LEN], cookie[LINE_MAX_LEN], *sp, *uri_text, *end;
	struct evhttp_uri *uri = NULL;
	attestd_reply r = { 0 };
	enum evhttp_cmd_type cmd = EVHTTP_REQ_GET;
	size_t at, n;
	int found = 0, has_auth = 0, has_cookie = 0;
	char *body = NULL;

	if (!(at = next_line(line, sizeof(line), data, size, 0)) || !(sp = strchr(line, ' ')))
		return 0;
	*sp = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(line, methods[i].name) == 0) {
			cmd = methods[i].cmd;
			found = 1;
		}
	}
	if (!found)
		return 0; /* evhttp_set_allowed_methods turns other methods away before attestd sees them */
	uri_text = sp + 1;
	if ((end = strchr(uri_text, ' ')))
		*end = '\0';
	/* Headers up to the blank line; a request without one has no body. */
	for (;;) {
		char hdr[LINE_MAX_LEN];
		size_t next = next_line(hdr, sizeof(hdr), data, size, at);
		if (!next) {
			at = size;
			break;
		}
		at = next;
		if (!hdr[0])
			break;
		/* evhttp_find_header answers with the first one. */
		if (!has_auth && strncasecmp(hdr, "Authorization:", 14) == 0) {
			const char *v = hdr + 14;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(auth, sizeof(auth), "%s", v);
			has_auth = 1;
		}
		if (!has_cookie && strncasecmp(hdr, "Cookie:", 7) == 0) {
			const char *v = hdr + 7;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(cookie, sizeof(cookie), "%s", v);
			has_cookie = 1;
		}
	}
	/* The daemon's body is evbuffer_pullup() of the input: contiguous, not NUL-terminated. */
	n = size - at;
	if (n && !(body = malloc(n)))
		return 0;
	if (n)
		memcpy(body, data + at, n);
	if (!(uri = evhttp_uri_parse_with_flags(uri_text, EVHTTP_URI_NONCONFORMANT))) {
		free(body);
		return 0; /* evhttp answers 400 itself */
	}
	attestd_route(&r, &env, cmd, has_auth ? auth : NULL, has_cookie ? cookie : NULL, evhttp_uri_get_path(uri), evhttp_uri_get_query(uri),
	              n ? body : "", n);
	if (!r.body || r.status < 100 || r.status > 599)
		abort();
	free(r.body);
	free(r.log_detail);
	free(r.set_cookie);
	evhttp_uri_free(uri);
	free(body);
	return 0;
}
