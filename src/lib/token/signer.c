/*
 * Token signing: one private key (RS256, PS256 or ES256), its certificate,
 * the public JWKS and compact JWS signatures. The key is decoded once, when
 * the signer is made; each signature copies a prepared digest-sign context,
 * so no per-token key rebuilding happens. A signer is immutable after
 * creation and safe to share between threads.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "cocoon/token.h"

typedef enum { ALG_RS256, ALG_PS256, ALG_ES256 } sig_alg;

struct cocoon_token_signer {
	sig_alg alg;
	char alg_name[8];
	char *kid;
	char *jwks;             /* public JWKS text for /certs */
	EVP_PKEY *key;
	EVP_MD_CTX *tmpl;       /* initialised digest-sign context, copied per signature */
};

static int alg_parse(sig_alg *out, const char *name)
{
	if (name && strcmp(name, "RS256") == 0)
		*out = ALG_RS256;
	else if (name && strcmp(name, "PS256") == 0)
		*out = ALG_PS256;
	else if (name && strcmp(name, "ES256") == 0)
		*out = ALG_ES256;
	else
		return cocoon_error_set(COCOON_EINVAL, "token signer: alg '%.16s' is not supported; use RS256, PS256 or "
		                        "ES256", name ? name : "(null)");
	return 0;
}

const char *cocoon_token_signer_kid(const cocoon_token_signer *s) { return s->kid; }
const char *cocoon_token_signer_alg(const cocoon_token_signer *s) { return s->alg_name; }
const char *cocoon_token_signer_jwks(const cocoon_token_signer *s) { return s->jwks; }

void cocoon_token_signer_free(cocoon_token_signer *s)
{
	if (!s)
		return;
	free(s->kid);
	free(s->jwks);
	EVP_MD_CTX_free(s->tmpl);
	EVP_PKEY_free(s->key);
	free(s);
}

/* A self-signed certificate for the key, as MAA signs with one (the x5c of /certs). */
static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	BIGNUM *serial = BN_new();

	if (!x || !serial || !BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400) || !X509_set_pubkey(x, key))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"cocoon", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto fail;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,digitalSignature")) ||
	    !X509_add_ext(x, ext, -1)) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, key, EVP_sha256()))
		goto fail;
	BN_free(serial);
	return x;
fail:
	BN_free(serial);
	X509_free(x);
	return NULL;
}

static char *bio_text(BIO *b)
{
	char *data, *out = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	if (n > 0)
		cocoon_zeroize(data, (size_t)n);
	return out;
}

int cocoon_token_key_generate(char **key_pem, char **cert_pem, const char *alg, const char *cn)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *kb = NULL, *cb = NULL;
	sig_alg a;
	int err;

	*key_pem = *cert_pem = NULL;
	if ((err = alg_parse(&a, alg)) != 0)
		return err;
	if (!(key = a == ALG_ES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048)) ||
	    !(cert = self_signed(key, cn ? cn : "cocoon token signing")) || !(kb = BIO_new(BIO_s_mem())) ||
	    !(cb = BIO_new(BIO_s_mem())) || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, cert) || !(*key_pem = bio_text(kb)) || !(*cert_pem = bio_text(cb))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "generating the %s signing key", alg);
		if (*key_pem)
			cocoon_zeroize(*key_pem, strlen(*key_pem));
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return err;
}

/* base64url of a big-endian number padded to pad bytes (0: minimal). */
static int bn_b64url(char **out, EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	int n, err = 0;

	if (!EVP_PKEY_get_bn_param(key, param, &bn) || (n = pad ? pad : BN_num_bytes(bn)) > (int)sizeof(buf) ||
	    BN_bn2binpad(bn, buf, n) != n)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: key parameter %s", param);
	else
		err = cocoon_b64url_encode(out, buf, (size_t)n);
	BN_free(bn);
	return err;
}

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

/* The public JWK members in RFC 7638 order, so that their compact JSON is the thumbprint input. */
static int public_jwk(json_t **out, EVP_PKEY *key, int is_ec)
{
	char *a = NULL, *b = NULL;
	json_t *o = json_object();
	int bad = !o, err;

	*out = NULL;
	if (is_ec) {
		if ((err = bn_b64url(&a, key, OSSL_PKEY_PARAM_EC_PUB_X, 32)) ||
		    (err = bn_b64url(&b, key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)))
			goto done;
		set(&bad, o, "crv", json_string("P-256"));
		set(&bad, o, "kty", json_string("EC"));
		set(&bad, o, "x", json_string(a));
		set(&bad, o, "y", json_string(b));
	} else {
		if ((err = bn_b64url(&a, key, OSSL_PKEY_PARAM_RSA_E, 0)) ||
		    (err = bn_b64url(&b, key, OSSL_PKEY_PARAM_RSA_N, 0)))
			goto done;
		set(&bad, o, "e", json_string(a));
		set(&bad, o, "kty", json_string("RSA"));
		set(&bad, o, "n", json_string(b));
	}
	if (bad) {
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory");
		goto done;
	}
	*out = o;
	o = NULL;
done:
	json_decref(o);
	free(a);
	free(b);
	return err;
}

/* kid (the RFC 7638 SHA-256 thumbprint) and the JWKS document with x5c. */
static int build_jwks(cocoon_token_signer *s, X509 *cert, int is_ec)
{
	json_t *jwk = NULL, *keys = NULL;
	char *thp_in = NULL, *x5c = NULL;
	unsigned char *der = NULL;
	uint8_t d[32];
	const void *parts[1];
	size_t lens[1];
	int n, bad = 0, err;

	if ((err = public_jwk(&jwk, s->key, is_ec)) != 0)
		goto done;
	if (!(thp_in = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS))) {
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory");
		goto done;
	}
	parts[0] = thp_in;
	lens[0] = strlen(thp_in);
	if ((err = cocoon_sha256(d, 1, parts, lens)) || (err = cocoon_b64url_encode(&s->kid, d, 32)))
		goto done;
	if ((n = i2d_X509(cert, &der)) <= 0 || cocoon_base64_encode(&x5c, der, (size_t)n) != 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: certificate encoding");
		goto done;
	}
	set(&bad, jwk, "alg", json_string(s->alg_name));
	/* x5c is standard base64 (RFC 7517 §4.7), not base64url. */
	set(&bad, jwk, "x5c", json_pack("[s]", x5c));
	set(&bad, jwk, "kid", json_string(s->kid));
	if (bad || !(keys = json_pack("{s:[O]}", "keys", jwk)) || !(s->jwks = json_dumps(keys, JSON_COMPACT)))
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory building the JWKS");
done:
	json_decref(jwk);
	json_decref(keys);
	free(thp_in);
	free(x5c);
	OPENSSL_free(der);
	return err;
}

static int load_key(EVP_PKEY **key, X509 **cert, const cocoon_token_signer_options *o)
{
	BIO *b = NULL;
	int err = 0;

	if (!(b = BIO_new_mem_buf(o->key_pem, -1)) || !(*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: no usable PEM private key",
		                               o->key_source ? o->key_source : "signing key");
	BIO_free(b);
	if (err || !o->cert_pem)
		return err;
	if (!(b = BIO_new_mem_buf(o->cert_pem, -1)) || !(*cert = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: no usable PEM certificate",
		                               o->cert_source ? o->cert_source : "signing certificate");
	else if (X509_check_private_key(*cert, *key) != 1)
		err = cocoon_error_set(COCOON_EFORMAT, "%s does not match %s",
		                       o->cert_source ? o->cert_source : "the signing certificate",
		                       o->key_source ? o->key_source : "the signing key");
	BIO_free(b);
	ERR_clear_error();
	return err;
}

/* The digest-sign context every signature starts from. */
static int prepare(cocoon_token_signer *s)
{
	EVP_PKEY_CTX *pctx = NULL;

	if (!(s->tmpl = EVP_MD_CTX_new()) || EVP_DigestSignInit_ex(s->tmpl, &pctx, "SHA256", NULL, NULL, s->key,
	                                                           NULL) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: preparing the %s context",
		                                s->alg_name);
	if (s->alg == ALG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	                            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: PSS parameters");
	return 0;
}

int cocoon_token_signer_new(cocoon_token_signer **out, const cocoon_token_signer_options *o)
{
	cocoon_token_signer *s = NULL;
	X509 *cert = NULL;
	int is_ec, err;

	*out = NULL;
	if (!o || o->version != COCOON_TOKEN_SIGNER_OPTIONS_VERSION || !o->key_pem)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_token_signer_new: options with version %d and a key_pem "
		                        "are required", COCOON_TOKEN_SIGNER_OPTIONS_VERSION);
	if (!(s = calloc(1, sizeof(*s))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if ((err = alg_parse(&s->alg, o->alg)) || (err = load_key(&s->key, &cert, o)))
		goto done;
	snprintf(s->alg_name, sizeof(s->alg_name), "%s", o->alg);
	is_ec = EVP_PKEY_is_a(s->key, "EC");
	if (is_ec != (s->alg == ALG_ES256) || (is_ec && EVP_PKEY_get_bits(s->key) != 256) ||
	    (!is_ec && (!EVP_PKEY_is_a(s->key, "RSA") || EVP_PKEY_get_bits(s->key) < 2048))) {
		err = cocoon_error_set(COCOON_EFORMAT, "signing key: %s needs %s", s->alg_name,
		                       s->alg == ALG_ES256 ? "an EC P-256 key" : "an RSA key of at least 2048 bits");
		goto done;
	}
	if (!cert && !(cert = self_signed(s->key, o->cn ? o->cn : "cocoon token signing"))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "signing key: self-signed certificate");
		goto done;
	}
	if ((err = build_jwks(s, cert, is_ec)) || (err = prepare(s)))
		goto done;
	*out = s;
	s = NULL;
done:
	X509_free(cert);
	cocoon_token_signer_free(s);
	return err;
}

/* JWS ES256 carries raw r||s (RFC 7518 §3.4); OpenSSL produces DER. */
static int der_to_raw(uint8_t raw[64], const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int ok;

	if (!sig)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: ECDSA signature decoding");
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : cocoon_error_set(COCOON_EINTERNAL, "token signer: ECDSA signature out of range");
}

static int sign_input(char **sig64, cocoon_token_signer *s, const char *input, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[512], raw[64];
	size_t n = sizeof(sig);
	int err = 0;

	if (!ctx || EVP_MD_CTX_copy_ex(ctx, s->tmpl) != 1 || EVP_DigestSignUpdate(ctx, input, len) != 1 ||
	    EVP_DigestSignFinal(ctx, sig, &n) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signer: %s signature failed", s->alg_name);
		goto done;
	}
	if (s->alg == ALG_ES256) {
		if ((err = der_to_raw(raw, sig, n)) == 0)
			err = cocoon_b64url_encode(sig64, raw, 64);
	} else {
		err = cocoon_b64url_encode(sig64, sig, n);
	}
done:
	EVP_MD_CTX_free(ctx);
	return err;
}

int cocoon_token_signer_sign(char **out, cocoon_token_signer *s, const json_t *claims, const char *jku)
{
	json_t *hdr = NULL;
	char *h = NULL, *payload = NULL, *h64 = NULL, *p64 = NULL, *sig = NULL, *input = NULL;
	int bad = 0, err = 0;

	*out = NULL;
	if (!s || !claims)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_token_signer_sign: NULL argument");
	if (!(hdr = json_object()))
		bad = 1;
	set(&bad, hdr, "alg", json_string(s->alg_name));
	set(&bad, hdr, "typ", json_string("JWT"));
	set(&bad, hdr, "kid", json_string(s->kid));
	if (jku)
		set(&bad, hdr, "jku", json_string(jku));
	if (bad || !(h = json_dumps(hdr, JSON_COMPACT)) || !(payload = json_dumps(claims, JSON_COMPACT))) {
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory");
		goto done;
	}
	if ((err = cocoon_b64url_encode(&h64, (const uint8_t *)h, strlen(h))) ||
	    (err = cocoon_b64url_encode(&p64, (const uint8_t *)payload, strlen(payload))))
		goto done;
	if (asprintf(&input, "%s.%s", h64, p64) < 0) {
		input = NULL;
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory");
		goto done;
	}
	if ((err = sign_input(&sig, s, input, strlen(input))) != 0)
		goto done;
	if (asprintf(out, "%s.%s", input, sig) < 0) {
		*out = NULL;
		err = cocoon_error_set(COCOON_ENOMEM, "token signer: out of memory");
	}
done:
	json_decref(hdr);
	free(h);
	free(payload);
	free(h64);
	free(p64);
	free(sig);
	free(input);
	return err;
}
