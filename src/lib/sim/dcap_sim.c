/*
 * Simulated DCAP platform: raw ECDSA signing, PEM bundles and the collateral
 * JSON in the layout of the real vectors (see PROVENANCE.md there).
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include "common/util.h"
#include "sim/dcap_sim.h"

int cocoon_sim_sign_raw(uint8_t sig[64], EVP_PKEY *key, const void *data, size_t len)
{
	EVP_MD_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[80];
	const unsigned char *q = der;
	size_t der_len = sizeof(der);
	const BIGNUM *r, *s;
	int err = 0;

	if (!key || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 256) {
		err = cocoon_error_set(COCOON_EINVAL, "sim: signing needs a P-256 EC key");
		goto done;
	}
	if (!data && len > 0) {
		err = cocoon_error_set(COCOON_EINVAL, "sim: %zu bytes to sign but no data", len);
		goto done;
	}
	/* Signatures are over the exact bytes; DER goes out, raw r||s comes back as Intel stores it. */
	if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, data ? data : (const void *)"", len) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim: ECDSA-P256 signing failed");
		goto done;
	}
	if (!(es = d2i_ECDSA_SIG(NULL, &q, (long)der_len)) || q != der + der_len) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim: cannot decode our own ECDSA signature");
		goto done;
	}
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) {
		err = cocoon_error_set(COCOON_EINTERNAL, "sim: ECDSA r or s does not fit 32 bytes");
		goto done;
	}
done:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return err;
}

int cocoon_sim_sign_tcb(uint8_t sig[64], const cocoon_sim_pki *p, const void *data, size_t len)
{
	if (!p)
		return cocoon_error_set(COCOON_EINVAL, "sim: sign_tcb needs a PKI");
	return cocoon_sim_sign_raw(sig, p->tcb_key, data, len);
}

int cocoon_sim_pem_certs(char **out, X509 *const *certs, size_t n)
{
	BIO *bio = NULL;
	char *mem = NULL, *pem = NULL;
	long mem_len;
	int err = 0;

	*out = NULL;
	if (n > 0 && !certs) {
		err = cocoon_error_set(COCOON_EINVAL, "sim: %zu certificates requested but none given", n);
		goto done;
	}
	if (!(bio = BIO_new(BIO_s_mem()))) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "sim: cannot allocate a memory BIO");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (!certs[i]) {
			err = cocoon_error_set(COCOON_EINVAL, "sim: certificate %zu of %zu is NULL", i, n);
			goto done;
		}
		if (!PEM_write_bio_X509(bio, certs[i])) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim: cannot PEM-encode certificate %zu", i);
			goto done;
		}
	}
	mem_len = BIO_get_mem_data(bio, &mem);
	if (mem_len < 0 || !(pem = malloc((size_t)mem_len + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim: out of memory for a PEM bundle");
		goto done;
	}
	if (mem_len > 0)
		memcpy(pem, mem, (size_t)mem_len);
	pem[mem_len] = '\0';
	*out = pem;
done:
	BIO_free(bio);
	return err;
}

/* Sets obj[key] to a new string value, failing on invalid UTF-8 or memory. */
static int sim_json_set_str(json_t *obj, const char *key, const char *value)
{
	if (!value || json_object_set_new(obj, key, json_string(value)) != 0)
		return cocoon_error_set(COCOON_EINVAL, "sim collateral: cannot store \"%s\" (NULL or not UTF-8)", key);
	return 0;
}

/* obj[key] = lowercase hex of bytes. */
static int sim_json_set_hex(json_t *obj, const char *key, const uint8_t *bytes, size_t len)
{
	char *hex = NULL;
	int err = 0;

	if (len > (SIZE_MAX - 1) / 2 || !(hex = malloc(2 * len + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim collateral: out of memory for \"%s\"", key);
		goto done;
	}
	cocoon_hex_encode(hex, bytes, len);
	err = sim_json_set_str(obj, key, hex);
done:
	free(hex);
	return err;
}

static int sim_json_set_crl(json_t *obj, const char *key, X509_CRL *crl)
{
	unsigned char *der = NULL;
	int len, err;

	if (!crl || (len = i2d_X509_CRL(crl, &der)) <= 0)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim collateral: cannot DER-encode \"%s\"", key);
	err = sim_json_set_hex(obj, key, der, (size_t)len);
	OPENSSL_free(der);
	return err;
}

static int sim_json_set_signed(json_t *obj, const char *key, const char *sig_key, const cocoon_sim_pki *p,
                               const char *body)
{
	uint8_t sig[64];
	int err;

	if (!body)
		return cocoon_error_set(COCOON_EINVAL, "sim collateral: \"%s\" JSON is NULL", key);
	if ((err = sim_json_set_str(obj, key, body)) != 0 ||
	    (err = cocoon_sim_sign_tcb(sig, p, body, strlen(body))) != 0)
		return err;
	return sim_json_set_hex(obj, sig_key, sig, sizeof(sig));
}

int cocoon_sim_collateral_json(char **out, const cocoon_sim_pki *p, const char *tcb_info_json,
                               const char *qe_identity_json)
{
	json_t *obj = NULL;
	char *pck_chain = NULL, *tcb_chain = NULL;
	X509 *pck_issuers[2], *tcb_issuers[2];
	int err = 0;

	*out = NULL;
	if (!p)
		return cocoon_error_set(COCOON_EINVAL, "sim collateral: no PKI given");
	pck_issuers[0] = p->pck_ca_cert;
	pck_issuers[1] = p->root_cert;
	tcb_issuers[0] = p->tcb_cert;
	tcb_issuers[1] = p->root_cert;
	if ((err = cocoon_sim_pem_certs(&pck_chain, pck_issuers, 2)) != 0 ||
	    (err = cocoon_sim_pem_certs(&tcb_chain, tcb_issuers, 2)) != 0)
		goto done;
	if (!(obj = json_object())) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim collateral: out of memory");
		goto done;
	}
	/* Key order follows the vectors' collateral.json. */
	if ((err = sim_json_set_str(obj, "pck_crl_issuer_chain", pck_chain)) != 0 ||
	    (err = sim_json_set_crl(obj, "root_ca_crl", p->root_crl)) != 0 ||
	    (err = sim_json_set_crl(obj, "pck_crl", p->pck_crl)) != 0 ||
	    (err = sim_json_set_str(obj, "tcb_info_issuer_chain", tcb_chain)) != 0 ||
	    (err = sim_json_set_signed(obj, "tcb_info", "tcb_info_signature", p, tcb_info_json)) != 0 ||
	    (err = sim_json_set_str(obj, "qe_identity_issuer_chain", tcb_chain)) != 0 ||
	    (err = sim_json_set_signed(obj, "qe_identity", "qe_identity_signature", p, qe_identity_json)) != 0)
		goto done;
	if (!(*out = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim collateral: cannot serialise the JSON");
		goto done;
	}
done:
	json_decref(obj);
	free(tcb_chain);
	free(pck_chain);
	return err;
}
