/*
 * JWKs of the KBS protocol (RFC 7517/7518) <-> OpenSSL keys, and the
 * guest's ephemeral key pair. A tee-pubkey is attacker-controlled: every
 * member is checked (curve, coordinate length, point on curve, RSA size).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include "kbs/kbs_int.h"
#include "cocoon/token.h"

typedef struct {
	const char *crv;        /* JWK name */
	const char *group;      /* OpenSSL name */
	size_t size;            /* field size in bytes */
	cocoon_kbs_key_type type;
} curve_info;

static const curve_info curves[] = {
	{ "P-256", "prime256v1", 32, COCOON_KBS_KEY_EC_P256 },
	{ "P-384", "secp384r1", 48, COCOON_KBS_KEY_EC_P384 },
	{ "P-521", "secp521r1", 66, COCOON_KBS_KEY_EC_P521 },
};

#define ALG_EC "ECDH-ES+A256KW"
#define ALG_RSA "RSA-OAEP-256"

static const curve_info *curve_by_type(cocoon_kbs_key_type t)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].type == t)
			return &curves[i];
	return NULL;
}

int cocoon_kbs_key_generate(EVP_PKEY **out, cocoon_kbs_key_type type)
{
	const curve_info *c = curve_by_type(type);

	*out = NULL;
	if (c)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->group);
	else if (type == COCOON_KBS_KEY_RSA)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		return cocoon_error_set(COCOON_EINVAL, "KBS key: unknown key type %d", (int)type);
	if (!*out)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "KBS key: generation failed");
	return 0;
}

int cocoon_kbs_key_type_of(cocoon_kbs_key_type *out, const EVP_PKEY *key)
{
	char group[64];

	if (!key)
		return cocoon_error_set(COCOON_EINVAL, "KBS key: no key");
	if (EVP_PKEY_is_a(key, "RSA")) {
		*out = COCOON_KBS_KEY_RSA;
		return 0;
	}
	if (EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1) {
		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
			if (strcmp(curves[i].group, group) == 0) {
				*out = curves[i].type;
				return 0;
			}
		}
		return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS key: EC curve %s is not P-256, P-384 or P-521", group);
	}
	return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS key: only EC and RSA keys are supported");
}

static int set_b64(int *bad, json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = NULL;
	int err = cocoon_b64url_encode(&s, p, n);
	if (!err) {
		kbs_set(bad, o, k, json_string(s));
		free(s);
	}
	return err;
}

static int bn_member(int *bad, json_t *o, const char *k, const BIGNUM *bn, size_t pad)
{
	size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
	uint8_t *buf = malloc(n ? n : 1);
	int err;

	if (!buf)
		return cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
	if (BN_bn2binpad(bn, buf, (int)n) < 0) {
		free(buf);
		return cocoon_error_set(COCOON_EINTERNAL, "JWK: %s does not fit %zu bytes", k, n);
	}
	err = set_b64(bad, o, k, buf, n);
	free(buf);
	return err;
}

int cocoon_kbs_jwk_from_key(json_t **out, const EVP_PKEY *key)
{
	cocoon_kbs_key_type t;
	BIGNUM *a = NULL, *b = NULL;
	json_t *o = NULL;
	int bad = 0, err;

	*out = NULL;
	if ((err = cocoon_kbs_key_type_of(&t, key)) != 0)
		return err;
	if (!(o = json_object()))
		return cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
	if (t == COCOON_KBS_KEY_RSA) {
		if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &a) ||
		    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &b)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWK: cannot read the RSA key");
			goto done;
		}
		kbs_set(&bad, o, "kty", json_string("RSA"));
		kbs_set(&bad, o, "alg", json_string(ALG_RSA));
		if ((err = bn_member(&bad, o, "n", a, 0)) != 0 || (err = bn_member(&bad, o, "e", b, 0)) != 0)
			goto done;
	} else {
		const curve_info *c = curve_by_type(t);
		if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
		    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &b)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWK: cannot read the EC point");
			goto done;
		}
		kbs_set(&bad, o, "kty", json_string("EC"));
		kbs_set(&bad, o, "crv", json_string(c->crv));
		kbs_set(&bad, o, "alg", json_string(ALG_EC));
		if ((err = bn_member(&bad, o, "x", a, c->size)) != 0 || (err = bn_member(&bad, o, "y", b, c->size)) != 0)
			goto done;
	}
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
		goto done;
	}
	*out = o;
	o = NULL;
done:
	BN_free(a);
	BN_free(b);
	json_decref(o);
	return err;
}

/* Builds a key from OpenSSL parameters and runs OpenSSL's checks on it. */
static int key_fromdata(EVP_PKEY **out, const char *type, OSSL_PARAM_BLD *bld, int selection, const char *what)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL), *check = NULL;
	int err = 0;

	*out = NULL;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: OpenSSL refused the key parameters", what);
		goto done;
	}
	check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
	if (!check || (selection == EVP_PKEY_PUBLIC_KEY ? EVP_PKEY_public_check(check) : EVP_PKEY_check(check)) != 1) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: the key fails OpenSSL's validity check "
		                               "(point not on the curve, or inconsistent parameters)", what);
		EVP_PKEY_free(*out);
		*out = NULL;
	}
done:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return err;
}

static int ec_from_jwk(EVP_PKEY **out, const json_t *jwk, int with_private)
{
	const curve_info *c = NULL;
	uint8_t *x = NULL, *y = NULL, *d = NULL, point[1 + 2 * 66];
	size_t xl, yl, dl = 0;
	BIGNUM *priv = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	const char *crv;
	int err;

	if (!(crv = kbs_string_member(jwk, "crv", "JWK", &err)))
		return err;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(curves[i].crv, crv) == 0)
			c = &curves[i];
	if (!c)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "JWK: crv \"%.32s\" is not P-256, P-384 or P-521", crv);
	if ((err = kbs_b64url_member(&x, &xl, jwk, "x", "JWK")) != 0 ||
	    (err = kbs_b64url_member(&y, &yl, jwk, "y", "JWK")) != 0)
		goto done;
	if (xl != c->size || yl != c->size) {
		err = cocoon_error_set(COCOON_EFORMAT, "JWK: %s coordinates must be %zu bytes (x has %zu, y %zu)", c->crv,
		                       c->size, xl, yl);
		goto done;
	}
	if (with_private) {
		if ((err = kbs_b64url_member(&d, &dl, jwk, "d", "JWK")) != 0)
			goto done;
		if (dl != c->size) {
			err = cocoon_error_set(COCOON_EFORMAT, "JWK: %s \"d\" must be %zu bytes, not %zu", c->crv, c->size, dl);
			goto done;
		}
	}
	point[0] = 0x04;
	memcpy(point + 1, x, c->size);
	memcpy(point + 1 + c->size, y, c->size);
	if (!(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * c->size) ||
	    (d && (!(priv = BN_secure_new()) || !BN_bin2bn(d, (int)dl, priv) ||
	           !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
		goto done;
	}
	err = key_fromdata(out, "EC", bld, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, "JWK");
done:
	if (d)
		cocoon_zeroize(d, dl);
	BN_clear_free(priv);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	free(d);
	return err;
}

static int rsa_from_jwk(EVP_PKEY **out, const json_t *jwk)
{
	uint8_t *n = NULL, *e = NULL;
	size_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int err;

	if ((err = kbs_b64url_member(&n, &nl, jwk, "n", "JWK")) != 0 ||
	    (err = kbs_b64url_member(&e, &el, jwk, "e", "JWK")) != 0)
		goto done;
	if (!(bn = BN_bin2bn(n, (int)nl, NULL)) || !(be = BN_bin2bn(e, (int)el, NULL))) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
		goto done;
	}
	if (BN_num_bits(bn) < COCOON_KBS_RSA_MIN_BITS || BN_num_bits(bn) > 16384) {
		err = cocoon_error_set(COCOON_EREJECT, "JWK: RSA modulus of %d bits; %d to 16384 are accepted",
		                       BN_num_bits(bn), COCOON_KBS_RSA_MIN_BITS);
		goto done;
	}
	if (!BN_is_odd(be) || BN_num_bits(be) < 2 || BN_num_bits(be) > 64) {
		err = cocoon_error_set(COCOON_EFORMAT, "JWK: RSA exponent must be odd, at least 3 and at most 64 bits");
		goto done;
	}
	if (!(bld = OSSL_PARAM_BLD_new()) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWK: out of memory");
		goto done;
	}
	err = key_fromdata(out, "RSA", bld, EVP_PKEY_PUBLIC_KEY, "JWK");
done:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return err;
}

static int jwk_import(EVP_PKEY **out, const json_t *jwk, int with_private)
{
	static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL };
	const char *kty, *alg = NULL;
	json_t *a;
	int err;

	*out = NULL;
	if (!json_is_object(jwk))
		return cocoon_error_set(COCOON_EFORMAT, "JWK: not a JSON object");
	if (!(kty = kbs_string_member(jwk, "kty", "JWK", &err)))
		return err;
	if ((a = json_object_get(jwk, "alg")) && !(alg = json_string_value(a)))
		return cocoon_error_set(COCOON_EFORMAT, "JWK: member \"alg\" must be a string");
	for (const char *const *m = private_members; *m && !with_private; m++) {
		if (json_object_get(jwk, *m))
			return cocoon_error_set(COCOON_EREJECT, "JWK: private member \"%s\" in a public key; a "
			                        "private key must never be sent", *m);
	}
	if (strcmp(kty, "EC") == 0) {
		if (alg && strcmp(alg, ALG_EC) != 0)
			return cocoon_error_set(COCOON_EUNSUPPORTED, "JWK: alg \"%.32s\" for an EC key; only "
			                        ALG_EC " is supported", alg);
		return ec_from_jwk(out, jwk, with_private);
	}
	if (strcmp(kty, "RSA") == 0) {
		if (with_private)
			return cocoon_error_set(COCOON_EUNSUPPORTED, "JWK: private RSA JWKs are not supported");
		if (alg && strcmp(alg, ALG_RSA) != 0)
			return cocoon_error_set(COCOON_EUNSUPPORTED, "JWK: alg \"%.32s\" for an RSA key; only " ALG_RSA
			                        " is supported (RSA1_5 is deprecated)", alg);
		return rsa_from_jwk(out, jwk);
	}
	return cocoon_error_set(COCOON_EUNSUPPORTED, "JWK: kty \"%.16s\" is not EC or RSA", kty);
}

int cocoon_kbs_jwk_to_key(EVP_PKEY **out, const json_t *jwk)
{
	return jwk_import(out, jwk, 0);
}

int cocoon_kbs_jwk_to_private_key(EVP_PKEY **out, const json_t *jwk)
{
	return jwk_import(out, jwk, 1);
}

int cocoon_kbs_jwk_parse(EVP_PKEY **out, const char *json, size_t len)
{
	json_t *v;
	int err;

	*out = NULL;
	if ((err = kbs_json_load(&v, json, len, "JWK")) != 0)
		return err;
	err = cocoon_kbs_jwk_to_key(out, v);
	json_decref(v);
	return err;
}
