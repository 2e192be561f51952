/* JWKS parsing: RSA and EC P-256 public keys from x5c or from JWK parameters. */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "token/token_int.h"

#define JWKS_MAX_KEYS 64

void cocoon_jwks_free(cocoon_jwks *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free(k->keys[i].kid);
		EVP_PKEY_free(k->keys[i].pkey);
	}
	free(k->keys);
	free(k);
}

size_t cocoon_jwks_count(const cocoon_jwks *k)
{
	return k ? k->n : 0;
}

const cocoon_jwk *cocoon_jwks_find(const cocoon_jwks *k, const char *kid)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (strcmp(k->keys[i].kid, kid) == 0)
			return &k->keys[i];
	return NULL;
}

/* Decodes a base64url member into a BIGNUM-ready buffer. */
static int member_bytes(uint8_t **out, size_t *len, json_t *key, const char *name, size_t idx)
{
	const char *s = json_string_value(json_object_get(key, name));
	if (!s)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].%s is missing or not a string", idx, name);
	if (cocoon_b64_decode(out, len, s, strlen(s)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].%s: %s", idx, name, cocoon_error_last()->message);
	return 0;
}

static int rsa_from_params(EVP_PKEY **out, json_t *key, size_t idx)
{
	uint8_t *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int err;

	if ((err = member_bytes(&n, &n_len, key, "n", idx)) || (err = member_bytes(&e, &e_len, key, "e", idx)))
		goto done;
	if (n_len < 256 || n_len > 1024) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].n is %zu bytes; RSA keys of 2048 to 8192 bits "
		                       "are accepted", idx, n_len);
		goto done;
	}
	bn_n = BN_bin2bn(n, (int)n_len, NULL);
	bn_e = BN_bin2bn(e, (int)e_len, NULL);
	if (!bn_n || !bn_e || !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "jwks: keys[%zu]: unusable RSA n/e", idx);
		goto done;
	}
done:
	free(n);
	free(e);
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return err;
}

static int ec_from_params(EVP_PKEY **out, json_t *key, size_t idx)
{
	uint8_t *x = NULL, *y = NULL, point[65];
	size_t x_len = 0, y_len = 0;
	const char *crv = json_string_value(json_object_get(key, "crv"));
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	int err;

	if (!crv || strcmp(crv, "P-256") != 0) {
		return cocoon_error_set(COCOON_EUNSUPPORTED, "jwks: keys[%zu].crv is '%s'; only P-256 (ES256) is "
		                        "accepted", idx, crv ? crv : "(missing)");
	}
	if ((err = member_bytes(&x, &x_len, key, "x", idx)) || (err = member_bytes(&y, &y_len, key, "y", idx)))
		goto done;
	if (x_len != 32 || y_len != 32) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu]: P-256 x and y must be 32 bytes (got %zu and "
		                       "%zu)", idx, x_len, y_len);
		goto done;
	}
	point[0] = 0x04;
	memcpy(point + 1, x, 32);
	memcpy(point + 33, y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "jwks: keys[%zu]: x/y is not a P-256 point", idx);
		goto done;
	}
done:
	free(x);
	free(y);
	EVP_PKEY_CTX_free(ctx);
	return err;
}

static int key_from_x5c(EVP_PKEY **out, json_t *x5c, size_t idx)
{
	const char *b64 = json_string_value(json_array_get(x5c, 0));
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	X509 *cert = NULL;
	int err;

	if (!json_is_array(x5c) || !b64)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].x5c must be an array of base64 certificates", idx);
	if ((err = cocoon_b64_decode(&der, &der_len, b64, strlen(b64))) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].x5c[0]: %s", idx, cocoon_error_last()->message);
		goto done;
	}
	p = der;
	if (!(cert = d2i_X509(NULL, &p, (long)der_len)) || p != der + der_len) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "jwks: keys[%zu].x5c[0] is not one DER certificate", idx);
		goto done;
	}
	if (!(*out = X509_get_pubkey(cert)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "jwks: keys[%zu].x5c[0] has no usable public key", idx);
done:
	X509_free(cert);
	free(der);
	return err;
}

static int parse_key(cocoon_jwk *k, json_t *key, size_t idx)
{
	const char *kty = json_string_value(json_object_get(key, "kty"));
	const char *kid = json_string_value(json_object_get(key, "kid"));
	json_t *x5c = json_object_get(key, "x5c");
	EVP_PKEY *from_params = NULL, *from_cert = NULL;
	int has_params, err = 0;

	if (!json_is_object(key))
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu] is not an object", idx);
	if (!kid || !*kid)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu].kid is missing; tokens are matched by kid", idx);
	if (!kty || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
		return cocoon_error_set(COCOON_EUNSUPPORTED, "jwks: keys[%zu].kty is '%s'; RSA and EC are accepted", idx,
		                        kty ? kty : "(missing)");
	k->is_ec = strcmp(kty, "EC") == 0;
	has_params = json_object_get(key, k->is_ec ? "x" : "n") != NULL;
	if (!has_params && !x5c)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu] (kid '%s') has neither x5c nor key parameters",
		                        idx, kid);
	if (has_params && (err = k->is_ec ? ec_from_params(&from_params, key, idx)
	                                  : rsa_from_params(&from_params, key, idx)))
		goto done;
	if (x5c && (err = key_from_x5c(&from_cert, x5c, idx)))
		goto done;
	if (from_params && from_cert && EVP_PKEY_eq(from_params, from_cert) != 1) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu] (kid '%s'): the x5c certificate's key differs "
		                       "from the JWK parameters", idx, kid);
		goto done;
	}
	k->pkey = from_cert ? from_cert : from_params;
	if (from_cert)
		from_cert = NULL;
	else
		from_params = NULL;
	if (EVP_PKEY_is_a(k->pkey, k->is_ec ? "EC" : "RSA") != 1) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: keys[%zu] (kid '%s'): kty '%s' does not match the key", idx,
		                       kid, kty);
		goto done;
	}
	if (!(k->kid = strdup(kid)))
		err = cocoon_error_set(COCOON_ENOMEM, "jwks: out of memory");
done:
	if (err) {
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
	}
	EVP_PKEY_free(from_params);
	EVP_PKEY_free(from_cert);
	return err;
}

int cocoon_jwks_parse(cocoon_jwks **out, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *root = NULL, *keys;
	cocoon_jwks *k = NULL;
	size_t n;
	int err = 0;

	*out = NULL;
	if (len > COCOON_TOKEN_MAX_LEN)
		return cocoon_error_set(COCOON_EFORMAT, "jwks: %zu bytes exceed the %d-byte limit", len,
		                        COCOON_TOKEN_MAX_LEN);
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return cocoon_error_set(COCOON_EFORMAT, "jwks: invalid JSON at line %d column %d: %s", jerr.line,
		                        jerr.column, jerr.text);
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || (n = json_array_size(keys)) == 0 || n > JWKS_MAX_KEYS) {
		err = cocoon_error_set(COCOON_EFORMAT, "jwks: \"keys\" must be an array of 1 to %d keys", JWKS_MAX_KEYS);
		goto done;
	}
	if (!(k = calloc(1, sizeof(*k))) || !(k->keys = calloc(n, sizeof(*k->keys)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "jwks: out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if ((err = parse_key(&k->keys[i], json_array_get(keys, i), i)) != 0)
			goto done;
		k->n++;
		if (cocoon_jwks_find(k, k->keys[i].kid) != &k->keys[i]) {
			err = cocoon_error_set(COCOON_EFORMAT, "jwks: kid '%s' appears twice", k->keys[i].kid);
			goto done;
		}
	}
	*out = k;
	k = NULL;
done:
	cocoon_jwks_free(k);
	json_decref(root);
	return err;
}
