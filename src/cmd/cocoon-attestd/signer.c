/*
 * Where attestd's token-signing key comes from: the configured PEM files,
 * else the database, else a new key kept in the database. Signing, the kid
 * and the JWKS are the library's token signer (src/lib/token/signer.c),
 * which decodes the key once.
 */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "cocoon/token.h"
#include "attestd.h"

#define SIGNER_CN "cocoon-attestd token signing"

struct attestd_signer {
	cocoon_token_signer *t;
};

const char *attestd_signer_kid(const attestd_signer *s) { return cocoon_token_signer_kid(s->t); }
const char *attestd_signer_alg(const attestd_signer *s) { return cocoon_token_signer_alg(s->t); }
const char *attestd_signer_jwks(const attestd_signer *s) { return cocoon_token_signer_jwks(s->t); }
cocoon_token_signer *attestd_signer_token(attestd_signer *s) { return s->t; }

void attestd_signer_free(attestd_signer *s)
{
	if (!s)
		return;
	cocoon_token_signer_free(s->t);
	free(s);
}

static void free_secret(char *p, size_t len)
{
	if (p)
		cocoon_zeroize(p, len ? len : strlen(p));
	free(p);
}

/* The PEM key and certificate: from the configured files, else the database, else made and stored. */
static int obtain_pem(char **key, size_t *key_len, char **cert, const attestd_config *cfg, cocoon_store *store)
{
	char name[32], *alg = NULL;
	size_t len;
	int err;

	if (cfg->signing_key_file) {
		if ((err = cocoon_file_read((uint8_t **)key, key_len, cfg->signing_key_file)) != 0)
			return err;
		if (cfg->signing_cert_file && (err = cocoon_file_read((uint8_t **)cert, &len, cfg->signing_cert_file)))
			return err;
		return 0;
	}
	snprintf(name, sizeof(name), "token-%s", cfg->signing_alg);
	err = store->ops->key_get(store, name, &alg, key, cert);
	free(alg);
	if (err != COCOON_ENOTFOUND)
		return err;
	if ((err = cocoon_token_key_generate(key, cert, cfg->signing_alg, SIGNER_CN)) != 0 ||
	    (err = store->ops->key_put(store, name, cfg->signing_alg, *key, *cert)) != 0)
		return err;
	attestd_logf("info", "generated a new %s token-signing key and self-signed certificate in the database",
	             cfg->signing_alg);
	return 0;
}

int attestd_signer_open(attestd_signer **out, const attestd_config *cfg, cocoon_store *store)
{
	cocoon_token_signer_options o = COCOON_TOKEN_SIGNER_OPTIONS_INIT;
	attestd_signer *s = calloc(1, sizeof(*s));
	char *key = NULL, *cert = NULL;
	size_t key_len = 0;
	int err;

	*out = NULL;
	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if ((err = obtain_pem(&key, &key_len, &cert, cfg, store)) != 0)
		goto done;
	o.alg = cfg->signing_alg;
	o.key_pem = key;
	o.cert_pem = cert;
	o.cn = SIGNER_CN;
	o.key_source = cfg->signing_key_file ? cfg->signing_key_file : "database signing key";
	o.cert_source = cfg->signing_cert_file ? cfg->signing_cert_file : "database signing certificate";
	if ((err = cocoon_token_signer_new(&s->t, &o)) != 0)
		goto done;
	*out = s;
	s = NULL;
done:
	free_secret(key, key_len);
	free(cert);
	attestd_signer_free(s);
	return err;
}

int attestd_signer_sign(char **out, attestd_signer *s, json_t *claims, const char *jku)
{
	return cocoon_token_signer_sign(out, s->t, claims, jku);
}

/* Signers hold no per-thread state any more; kept for the worker exit path. */
void attestd_signer_thread_exit(void)
{
}
