/*
 * Making an RA-TLS key and self-signed certificate with OpenSSL. The tagged
 * extension's evidence has report data SHA-256(claims); the optional legacy
 * extension needs its own evidence, with report data SHA-256(SPKI), exactly
 * as Gramine's ra_tls_attest.c collects two quotes.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include "ratls/ratls_int.h"

#define DEFAULT_CN "cocoon RA-TLS"
#define DEFAULT_LIFETIME (365 * 24 * 3600)

/* Collects evidence over report data hash || zeros. */
static int collect(cocoon_evidence *ev, const cocoon_ratls_make_options *o, const uint8_t hash[32])
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	if (o->evidence)
		eo = *o->evidence;
	memset(eo.report_data, 0, sizeof(eo.report_data));
	memcpy(eo.report_data, hash, 32);
	return cocoon_evidence_collect(ev, &eo);
}

static int add_ext(X509 *x, ASN1_OBJECT *obj, const uint8_t *val, size_t len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = os && len <= INT32_MAX && ASN1_OCTET_STRING_set(os, val, (int)len) &&
	         (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	return ok ? 0 : cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot add an extension");
}

/* Gramine's legacy OID is malformed (its content repeats the 06 09 header), so it is built from DER. */
static ASN1_OBJECT *legacy_oid(void)
{
	uint8_t der[2 + sizeof(cocoon_ratls_oid_gramine_legacy)] = { 0x06, sizeof(cocoon_ratls_oid_gramine_legacy) };
	const unsigned char *p = der;
	memcpy(der + 2, cocoon_ratls_oid_gramine_legacy, sizeof(cocoon_ratls_oid_gramine_legacy));
	return d2i_ASN1_OBJECT(NULL, &p, sizeof(der));
}

/* Name, validity, key and the plain extensions: everything but the evidence. */
static int skeleton(X509 *x, EVP_PKEY *key, const cocoon_ratls_make_options *o)
{
	const char *cn = o->common_name ? o->common_name : DEFAULT_CN;
	time_t nb = o->not_before ? o->not_before : time(NULL);
	time_t na = o->not_after ? o->not_after : nb + DEFAULT_LIFETIME;
	X509_NAME *name = X509_NAME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	X509_EXTENSION *bc = NULL, *ski = NULL;
	uint8_t rnd[16];
	BIGNUM *bn = NULL;
	int ok;

	ok = name && serial && RAND_bytes(rnd, sizeof(rnd)) == 1 && (rnd[0] &= 0x7f, 1) &&
	     (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) && BN_to_ASN1_INTEGER(bn, serial) &&
	     X509_set_version(x, X509_VERSION_3) && X509_set_serialNumber(x, serial) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) && X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) && X509_set_pubkey(x, key);
	if (ok) {
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ok = (bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "CA:FALSE")) &&
		     (ski = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash")) &&
		     X509_add_ext(x, bc, -1) && X509_add_ext(x, ski, -1);
	}
	X509_EXTENSION_free(bc);
	X509_EXTENSION_free(ski);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	return ok ? 0 : cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot build the certificate");
}

/* The tagged extension: claims over the key, evidence over the claims. */
static int add_tagged(X509 *x, cocoon_ratls_credentials *out, const cocoon_ratls_make_options *o,
                      const uint8_t spki_hash[32])
{
	cocoon_evidence ev = { 0 };
	uint8_t *claims = NULL, *value = NULL, claims_hash[32];
	size_t claims_len = 0, value_len = 0;
	ASN1_OBJECT *oid = OBJ_txt2obj(COCOON_RATLS_OID_TAGGED, 1);
	int err;

	if (!oid) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: OID");
		goto done;
	}
	if ((err = cocoon_ratls_claims_build(&claims, &claims_len, spki_hash, o->nonce, o->nonce_len)) != 0 ||
	    (err = cocoon_sha256(claims_hash, 1, (const void *const[]){ claims }, (const size_t[]){ claims_len })) != 0 ||
	    (err = collect(&ev, o, claims_hash)) != 0 ||
	    (err = cocoon_ratls_tagged_build(&value, &value_len, ev.evidence, ev.evidence_len, claims, claims_len)) != 0 ||
	    (err = add_ext(x, oid, value, value_len)) != 0)
		goto done;
	out->tee = ev.tee;
	snprintf(out->provider, sizeof(out->provider), "%s", ev.provider);
done:
	ASN1_OBJECT_free(oid);
	cocoon_evidence_free(&ev);
	free(claims);
	free(value);
	return err;
}

static int add_legacy(X509 *x, const cocoon_ratls_make_options *o, const uint8_t spki_hash[32])
{
	cocoon_evidence ev = { 0 };
	ASN1_OBJECT *oid = legacy_oid();
	int err;

	if (!oid)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: Gramine's legacy OID");
	else if ((err = collect(&ev, o, spki_hash)) == 0)
		err = add_ext(x, oid, ev.evidence, ev.evidence_len);
	ASN1_OBJECT_free(oid);
	cocoon_evidence_free(&ev);
	return err;
}

/* PEM of the key (PKCS#8) and the certificate into malloc'd strings. */
static int to_pem(cocoon_ratls_credentials *out, EVP_PKEY *key, X509 *x)
{
	BIO *kb = BIO_new(BIO_s_secmem()), *cb = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int err = 0;

	if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot write PEM");
		goto done;
	}
	n = BIO_get_mem_data(kb, &p);
	if (n <= 0 || !(out->key_pem = malloc((size_t)n + 1)))
		goto nomem;
	memcpy(out->key_pem, p, (size_t)n);
	out->key_pem[n] = 0;
	out->key_pem_len = (size_t)n;
	n = BIO_get_mem_data(cb, &p);
	if (n <= 0 || !(out->cert_pem = malloc((size_t)n + 1)))
		goto nomem;
	memcpy(out->cert_pem, p, (size_t)n);
	out->cert_pem[n] = 0;
	out->cert_pem_len = (size_t)n;
	goto done;
nomem:
	err = cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory writing PEM");
done:
	BIO_free(kb); /* a secure-heap BIO clears its memory */
	BIO_free(cb);
	return err;
}

int cocoon_ratls_make(cocoon_ratls_credentials *out, const cocoon_ratls_make_options *opts)
{
	static const cocoon_ratls_make_options defaults = COCOON_RATLS_MAKE_OPTIONS_INIT;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	unsigned char *spki = NULL;
	uint8_t spki_hash[32];
	int n, err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS make: NULL argument");
	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if (opts->version != COCOON_RATLS_MAKE_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_ratls_make_options: version %u, expected %u", opts->version,
		                        COCOON_RATLS_MAKE_OPTIONS_VERSION);
	if (opts->key_type != COCOON_RATLS_KEY_P384 && opts->key_type != COCOON_RATLS_KEY_P256)
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS make: unknown key type %d", (int)opts->key_type);
	if (!(key = EVP_EC_gen(opts->key_type == COCOON_RATLS_KEY_P256 ? "P-256" : "P-384")) || !(x = X509_new())) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot generate the key");
		goto done;
	}
	if ((err = skeleton(x, key, opts)) != 0)
		goto done;
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot encode the SubjectPublicKeyInfo");
		goto done;
	}
	if ((err = cocoon_sha256(spki_hash, 1, (const void *const[]){ spki }, (const size_t[]){ (size_t)n })) != 0 ||
	    (err = add_tagged(x, out, opts, spki_hash)) != 0 || (opts->legacy && (err = add_legacy(x, opts, spki_hash)) != 0))
		goto done;
	if (!X509_sign(x, key, opts->key_type == COCOON_RATLS_KEY_P256 ? EVP_sha256() : EVP_sha384())) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: cannot sign the certificate");
		goto done;
	}
	err = to_pem(out, key, x);
done:
	OPENSSL_free(spki);
	X509_free(x);
	EVP_PKEY_free(key);
	if (err)
		cocoon_ratls_credentials_free(out);
	return err;
}

void cocoon_ratls_credentials_free(cocoon_ratls_credentials *c)
{
	if (!c)
		return;
	if (c->key_pem)
		cocoon_zeroize(c->key_pem, c->key_pem_len);
	free(c->key_pem);
	free(c->cert_pem);
	memset(c, 0, sizeof(*c));
}
