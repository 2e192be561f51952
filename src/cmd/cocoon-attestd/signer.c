/* The token-signing key: loaded from a PEM file or kept in the database, its certificate, JWKS and JWS signing. */
#include <stdlib.h>
#include <string.h>
#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "cocoon/token.h"
#include "attestd.h"

struct attestd_signer {
	char alg[8];
	char *kid;
	json_t *jwk;        /* private JWK: never served, never logged */
	char *jwks;         /* public JWKS text for /certs */
};

const char *attestd_signer_kid(const attestd_signer *s) { return s->kid; }
const char *attestd_signer_alg(const attestd_signer *s) { return s->alg; }
const char *attestd_signer_jwks(const attestd_signer *s) { return s->jwks; }

void attestd_signer_free(attestd_signer *s)
{
	if (!s)
		return;
	free(s->kid);
	json_decref(s->jwk);
	free(s->jwks);
	free(s);
}

static EVP_PKEY *generate_key(const char *alg)
{
	return strcmp(alg, "ES256") == 0 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
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
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"cocoon-attestd", -1, -1, 0) ||
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

static char *pem_key(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		cocoon_zeroize(data, (size_t)n);
	}
	BIO_free(b);
	return out;
}

static char *pem_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;
	if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

static int load_pem(EVP_PKEY **key, X509 **cert, const char *key_pem, const char *cert_pem, const char *where)
{
	BIO *b = NULL;
	int err = 0;
	if (key_pem) {
		if (!(b = BIO_new_mem_buf(key_pem, -1)) || !(*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)))
			err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: no usable PEM private key", where);
		BIO_free(b);
		b = NULL;
	}
	if (!err && cert_pem) {
		if (!(b = BIO_new_mem_buf(cert_pem, -1)) || !(*cert = PEM_read_bio_X509(b, NULL, NULL, NULL)))
			err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: no usable PEM certificate", where);
		BIO_free(b);
	}
	return err;
}

/* Takes the key from the configured file, else the database, else makes one and stores it. */
static int obtain_key(EVP_PKEY **key, X509 **cert, const attestd_config *cfg, cocoon_store *store, const char *cn)
{
	char name[32], *alg = NULL, *kp = NULL, *cp = NULL;
	uint8_t *file = NULL;
	size_t len = 0;
	int err;

	if (cfg->signing_key_file) {
		if ((err = cocoon_file_read(&file, &len, cfg->signing_key_file)) ||
		    (err = load_pem(key, cert, (char *)file, NULL, cfg->signing_key_file)))
			goto done;
		if (cfg->signing_cert_file) {
			cocoon_zeroize(file, len);
			free(file);
			file = NULL;
			if ((err = cocoon_file_read(&file, &len, cfg->signing_cert_file)) ||
			    (err = load_pem(key, cert, NULL, (char *)file, cfg->signing_cert_file)))
				goto done;
			if (X509_check_private_key(*cert, *key) != 1) {
				err = cocoon_error_set(COCOON_EFORMAT, "signing_cert %s does not match signing_key %s",
				                       cfg->signing_cert_file, cfg->signing_key_file);
				goto done;
			}
		}
		goto done;
	}
	snprintf(name, sizeof(name), "token-%s", cfg->signing_alg);
	err = store->ops->key_get(store, name, &alg, &kp, &cp);
	if (err == COCOON_ENOTFOUND) {
		if (!(*key = generate_key(cfg->signing_alg)) || !(*cert = self_signed(*key, cn)) || !(kp = pem_key(*key)) ||
		    !(cp = pem_cert(*cert))) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "generating the %s signing key", cfg->signing_alg);
			goto done;
		}
		if ((err = store->ops->key_put(store, name, cfg->signing_alg, kp, cp)) != 0)
			goto done;
		attestd_logf("info", "generated a new %s token-signing key and self-signed certificate in the database",
		             cfg->signing_alg);
		goto done;
	}
	if (err)
		goto done;
	err = load_pem(key, cert, kp, cp, "database signing key");
done:
	if (kp)
		cocoon_zeroize(kp, strlen(kp));
	if (file)
		cocoon_zeroize(file, len);
	free(file);
	free(alg);
	free(kp);
	free(cp);
	return err;
}

static int build_jwks(attestd_signer *s, X509 *cert)
{
	json_t *pub = json_deep_copy(s->jwk), *keys, *x5c;
	unsigned char *der = NULL;
	char *b64 = NULL;
	int n, err = 0;

	if (!pub || !jose_jwk_pub(NULL, pub)) {
		err = cocoon_error_set(COCOON_EINTERNAL, "signer: public JWK");
		goto done;
	}
	if ((n = i2d_X509(cert, &der)) <= 0 || cocoon_base64_encode(&b64, der, (size_t)n) != 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "signer: certificate encoding");
		goto done;
	}
	/* x5c is standard base64 (RFC 7517 §4.7), not base64url. */
	x5c = json_pack("[s]", b64);
	json_object_set_new(pub, "x5c", x5c);
	json_object_set_new(pub, "kid", json_string(s->kid));
	json_object_del(pub, "key_ops");
	keys = json_pack("{s:[O]}", "keys", pub);
	if (!keys || !(s->jwks = json_dumps(keys, JSON_COMPACT))) {
		json_decref(keys);
		err = cocoon_error_set(COCOON_ENOMEM, "signer: JWKS");
		goto done;
	}
	json_decref(keys);
done:
	json_decref(pub);
	OPENSSL_free(der);
	free(b64);
	return err;
}

int attestd_signer_open(attestd_signer **out, const attestd_config *cfg, cocoon_store *store)
{
	attestd_signer *s = calloc(1, sizeof(*s));
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	json_t *thp = NULL;
	int is_ec, err;

	*out = NULL;
	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	snprintf(s->alg, sizeof(s->alg), "%s", cfg->signing_alg);
	if ((err = obtain_key(&key, &cert, cfg, store, "cocoon-attestd token signing")) != 0)
		goto done;
	is_ec = EVP_PKEY_is_a(key, "EC");
	if (is_ec != (strcmp(s->alg, "ES256") == 0) || (is_ec && EVP_PKEY_get_bits(key) != 256) ||
	    (!is_ec && (!EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_get_bits(key) < 2048))) {
		err = cocoon_error_set(COCOON_EFORMAT, "signing key: %s needs %s", s->alg,
		                       is_ec ? "an EC P-256 key" : "an RSA key of at least 2048 bits");
		goto done;
	}
	if (!cert && !(cert = self_signed(key, "cocoon-attestd token signing"))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "signing key: self-signed certificate");
		goto done;
	}
	if (!(s->jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, key))) {
		err = cocoon_error_set(COCOON_EINTERNAL, "signing key: JWK conversion failed");
		goto done;
	}
	json_object_set_new(s->jwk, "alg", json_string(s->alg));
	/* kid: the RFC 7638 thumbprint, stable for the key's lifetime. */
	if (!(thp = jose_jwk_thp(NULL, s->jwk, "S256")) || !(s->kid = strdup(json_string_value(thp)))) {
		err = cocoon_error_set(COCOON_EINTERNAL, "signing key: thumbprint");
		goto done;
	}
	if ((err = build_jwks(s, cert)) != 0)
		goto done;
	*out = s;
	s = NULL;
done:
	json_decref(thp);
	EVP_PKEY_free(key);
	X509_free(cert);
	attestd_signer_free(s);
	return err;
}

/* Each thread signs with its own copy of the JWK: libjose and jansson objects are not shared across threads. */
static __thread json_t *tl_jwk;
static __thread const attestd_signer *tl_owner;

int attestd_signer_sign(char **out, attestd_signer *s, json_t *claims, const char *jku)
{
	json_t *jws = NULL, *sig = NULL;
	char *payload = NULL;
	const char *prot, *pay, *sg;
	int err = 0;

	*out = NULL;
	if (tl_owner != s) {
		json_decref(tl_jwk);
		tl_jwk = json_deep_copy(s->jwk);
		tl_owner = tl_jwk ? s : NULL;
		if (!tl_jwk)
			return cocoon_error_set(COCOON_ENOMEM, "signer: out of memory");
	}
	if (!(payload = json_dumps(claims, JSON_COMPACT)) ||
	    !(jws = json_pack("{s:o}", "payload", jose_b64_enc(payload, strlen(payload)))) ||
	    !(sig = json_pack("{s:{s:s,s:s,s:s,s:s}}", "protected", "alg", s->alg, "typ", "JWT", "kid", s->kid, "jku",
	                      jku))) {
		err = cocoon_error_set(COCOON_ENOMEM, "signer: out of memory");
		goto done;
	}
	if (!jose_jws_sig(NULL, jws, sig, tl_jwk)) {
		err = cocoon_error_set(COCOON_EINTERNAL, "signer: libjose could not sign the token");
		goto done;
	}
	prot = json_string_value(json_object_get(jws, "protected"));
	pay = json_string_value(json_object_get(jws, "payload"));
	sg = json_string_value(json_object_get(jws, "signature"));
	if (!prot || !pay || !sg || asprintf(out, "%s.%s.%s", prot, pay, sg) < 0) {
		*out = NULL;
		err = cocoon_error_set(COCOON_EINTERNAL, "signer: incomplete JWS from libjose");
	}
done:
	free(payload);
	json_decref(jws);
	json_decref(sig);
	return err;
}

void attestd_signer_thread_exit(void)
{
	json_decref(tl_jwk);
	tl_jwk = NULL;
	tl_owner = NULL;
}
