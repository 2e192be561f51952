/* X.509 chains and CRLs: a test PKI shaped like Intel's, and the real vectors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <jansson.h>
#include "testutil.h"
#include "common/util.h"
#include "dcap/x509.h"

/* ---- test PKI builder ---------------------------------------------------- */

#define T0 ((time_t)1750000000) /* 2025-06-15T15:06:40Z */
#define DAY ((time_t)86400)
#define YEAR (365 * DAY)

#define CN_ROOT "Intel SGX Root CA"
#define CN_CA "Intel SGX PCK Platform CA"
#define CN_LEAF "Intel SGX PCK Certificate"
#define CN_TCB "Intel SGX TCB Signing"

typedef struct {
	EVP_PKEY *root_key, *ca_key, *leaf_key, *tcb_key;
	X509 *root, *ca, *leaf, *tcb;
	X509_CRL *root_crl, *pck_crl;
} pki;

static EVP_PKEY *key_new(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);
	assert_non_null(k);
	return k;
}

static X509_NAME *intel_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	                                            (const unsigned char *)"Intel Corporation", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "L", MBSTRING_UTF8, (const unsigned char *)"Santa Clara", -1,
	                                            -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_UTF8, (const unsigned char *)"CA", -1, -1, 0),
	                 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8, (const unsigned char *)"US", -1, -1, 0), 1);
	return n;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/*
 * A certificate in Intel's profile. issuer == NULL: self-signed.
 * issuer_name overrides the issuer DN (to forge a mismatch).
 */
static X509 *cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
                       time_t not_before, time_t not_after, int ca, const char *issuer_cn_override)
{
	X509 *x = X509_new();
	X509_NAME *subject = intel_name(cn);

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_set_subject_name(x, subject), 1);
	if (issuer_cn_override) {
		X509_NAME *in = intel_name(issuer_cn_override);
		assert_int_equal(X509_set_issuer_name(x, in), 1);
		X509_NAME_free(in);
	} else {
		assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject), 1);
	}
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &not_before));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &not_after));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	add_ext(x, issuer, NID_key_usage,
	        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation");
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(subject);
	return x;
}

typedef struct {
	int no_number;
	int no_aki;
	EVP_PKEY *sign_key;       /* NULL: the issuer's key */
} crl_opts;

/* A v2 CRL from issuer with CRL Number and AKI (keyid of issuer) unless told otherwise. */
static X509_CRL *crl_make(X509 *issuer, EVP_PKEY *issuer_key, time_t this_update, time_t next_update,
                          const long *revoked, size_t n_revoked, const crl_opts *o)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();

	assert_non_null(crl);
	assert_non_null(t);
	assert_int_equal(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
	assert_non_null(ASN1_TIME_set(t, this_update));
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	assert_non_null(ASN1_TIME_set(t, next_update));
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	for (size_t i = 0; i < n_revoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		assert_non_null(r);
		assert_non_null(sn);
		assert_int_equal(ASN1_INTEGER_set(sn, revoked[i]), 1);
		assert_int_equal(X509_REVOKED_set_serialNumber(r, sn), 1);
		assert_non_null(ASN1_TIME_set(t, this_update));
		assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
		assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
		ASN1_INTEGER_free(sn);
	}
	if (!o || !o->no_number) {
		ASN1_INTEGER *num = ASN1_INTEGER_new();
		assert_non_null(num);
		assert_int_equal(ASN1_INTEGER_set(num, 1), 1);
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0), 1);
		ASN1_INTEGER_free(num);
	}
	if (!o || !o->no_aki) {
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
		assert_non_null(e);
		assert_int_equal(X509_CRL_add_ext(crl, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	assert_int_equal(X509_CRL_sort(crl), 1);
	assert_true(X509_CRL_sign(crl, o && o->sign_key ? o->sign_key : issuer_key, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	return crl;
}

#define SERIAL_ROOT 1
#define SERIAL_CA 2
#define SERIAL_LEAF 3
#define SERIAL_TCB 4

static void pki_build(pki *p)
{
	memset(p, 0, sizeof(*p));
	p->root_key = key_new("P-256");
	p->ca_key = key_new("P-256");
	p->leaf_key = key_new("P-256");
	p->tcb_key = key_new("P-256");
	p->root = cert_make(CN_ROOT, p->root_key, NULL, NULL, SERIAL_ROOT, T0 - 5 * YEAR, T0 + 20 * YEAR, 1, NULL);
	p->ca = cert_make(CN_CA, p->ca_key, p->root, p->root_key, SERIAL_CA, T0 - 4 * YEAR, T0 + 10 * YEAR, 1, NULL);
	p->leaf = cert_make(CN_LEAF, p->leaf_key, p->ca, p->ca_key, SERIAL_LEAF, T0 - YEAR, T0 + 5 * YEAR, 0, NULL);
	p->tcb = cert_make(CN_TCB, p->tcb_key, p->root, p->root_key, SERIAL_TCB, T0 - YEAR, T0 + 5 * YEAR, 0, NULL);
	p->root_crl = crl_make(p->root, p->root_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, NULL);
	p->pck_crl = crl_make(p->ca, p->ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, NULL);
}

static void pki_free(pki *p)
{
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->leaf_key);
	EVP_PKEY_free(p->tcb_key);
	X509_free(p->root);
	X509_free(p->ca);
	X509_free(p->leaf);
	X509_free(p->tcb);
	X509_CRL_free(p->root_crl);
	X509_CRL_free(p->pck_crl);
}

static void replace_cert(X509 **slot, X509 *x)
{
	X509_free(*slot);
	*slot = x;
}

static void replace_crl(X509_CRL **slot, X509_CRL *c)
{
	X509_CRL_free(*slot);
	*slot = c;
}

/* A spec over p's current objects (the chain stack does not own them). */
static void spec_pck(cocoon_chain_spec *s, const pki *p, time_t at)
{
	memset(s, 0, sizeof(*s));
	s->chain = sk_X509_new_null();
	assert_non_null(s->chain);
	assert_true(sk_X509_push(s->chain, p->leaf) > 0);
	assert_true(sk_X509_push(s->chain, p->ca) > 0);
	assert_true(sk_X509_push(s->chain, p->root) > 0);
	s->trusted_root = p->root;
	s->root_crl = p->root_crl;
	s->pck_crl = p->pck_crl;
	s->at = at;
	s->role = COCOON_CHAIN_PCK;
	s->chain_check = COCOON_CHECK_PCK_CHAIN;
}

static void spec_tcb(cocoon_chain_spec *s, const pki *p, time_t at)
{
	memset(s, 0, sizeof(*s));
	s->chain = sk_X509_new_null();
	assert_non_null(s->chain);
	assert_true(sk_X509_push(s->chain, p->tcb) > 0);
	assert_true(sk_X509_push(s->chain, p->root) > 0);
	s->trusted_root = p->root;
	s->root_crl = p->root_crl;
	s->at = at;
	s->role = COCOON_CHAIN_TCB_SIGNING;
	s->chain_check = COCOON_CHECK_TCB_INFO_CHAIN;
}

/* Runs the verification and asserts the rejection's check id and reason. */
static void expect_fail(const cocoon_chain_spec *s, cocoon_check check, const char *needle)
{
	cocoon_chain_result res;
	cocoon_failure f;
	memset(&f, 0, sizeof(f));
	int rc = cocoon_x509_verify_chain(&res, &f, s);
	if (rc != COCOON_EREJECT)
		fail_msg("expected EREJECT (%s), got %d: %s", needle, rc, rc ? cocoon_error_last()->message : "accepted");
	if (f.check != check || !strstr(f.reason, needle))
		fail_msg("expected check %d with \"%s\", got check %d: %s", (int)check, needle, (int)f.check, f.reason);
}

static void expect_ok(const cocoon_chain_spec *s, cocoon_chain_result *res)
{
	cocoon_failure f;
	memset(&f, 0, sizeof(f));
	int rc = cocoon_x509_verify_chain(res, &f, s);
	if (rc != 0)
		fail_msg("expected success, got %d: check %d: %s / %s", rc, (int)f.check, f.reason,
		         cocoon_error_last()->message);
}

static void spec_free(cocoon_chain_spec *s)
{
	sk_X509_free(s->chain);
	s->chain = NULL;
}

/* ---- chain tests --------------------------------------------------------- */

static void test_valid_chains(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	cocoon_chain_result res;

	pki_build(&p);
	spec_pck(&s, &p, T0);
	expect_ok(&s, &res);
	assert_int_equal(res.crl_expired, 0);
	assert_true(res.earliest_expiry == T0 + 30 * DAY);
	spec_free(&s);

	spec_tcb(&s, &p, T0);
	expect_ok(&s, &res);
	assert_true(res.earliest_expiry == T0 + 30 * DAY);
	spec_free(&s);
	pki_free(&p);
}

static void test_wrong_root_pinned(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	EVP_PKEY *k = key_new("P-256");

	pki_build(&p);
	X509 *other = cert_make(CN_ROOT, k, NULL, NULL, SERIAL_ROOT, T0 - YEAR, T0 + YEAR, 1, NULL);
	spec_pck(&s, &p, T0);
	s.trusted_root = other;
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN, "chain root is not the pinned root");
	spec_free(&s);
	X509_free(other);
	EVP_PKEY_free(k);
	pki_free(&p);
}

static void test_chain_length(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	spec_pck(&s, &p, T0);
	(void)sk_X509_delete(s.chain, 1);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN, "PCK chain must have 3 certificates");
	spec_free(&s);
	spec_tcb(&s, &p, T0);
	assert_true(sk_X509_insert(s.chain, p.ca, 1) > 0);
	expect_fail(&s, COCOON_CHECK_TCB_INFO_CHAIN, "TCB signing chain must have 2 certificates");
	spec_free(&s);
	pki_free(&p);
}

static X509 *tamper_signature(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	assert_true(n > 10);
	der[n - 1] ^= 0x01; /* last byte of the signature's s value */
	const unsigned char *q = der;
	X509 *t = d2i_X509(NULL, &q, n);
	assert_non_null(t);
	OPENSSL_free(der);
	return t;
}

static void test_tampered_signature(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	replace_cert(&p.leaf, tamper_signature(p.leaf));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "certificate signature invalid: CN=Intel SGX PCK Certificate (depth 0) does not verify");
	spec_free(&s);
	pki_free(&p);
}

static void test_leaf_validity(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	const time_t nb = T0 + 3600, na = T0 + 10 * DAY;

	pki_build(&p);
	replace_cert(&p.leaf, cert_make(CN_LEAF, p.leaf_key, p.ca, p.ca_key, SERIAL_LEAF, nb, na, 0, NULL));
	spec_pck(&s, &p, na + 1);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "certificate has expired: CN=Intel SGX PCK Certificate (depth 0) notAfter 2025-06-25T15:06:40Z");
	s.at = nb - 1;
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "certificate is not yet valid: CN=Intel SGX PCK Certificate (depth 0) notBefore 2025-06-15T16:06:40Z");
	s.at = nb;
	cocoon_chain_result res;
	expect_ok(&s, &res);
	spec_free(&s);
	pki_free(&p);
}

static void test_missing_crls(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	spec_pck(&s, &p, T0);
	s.root_crl = NULL;
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "unable to get CRL issued by CN=Intel SGX Root CA");
	s.root_crl = p.root_crl;
	s.pck_crl = NULL;
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "unable to get CRL issued by CN=Intel SGX PCK Platform CA");
	spec_free(&s);
	spec_tcb(&s, &p, T0);
	s.root_crl = NULL;
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL,
	            "unable to get CRL issued by CN=Intel SGX Root CA for CN=Intel SGX TCB Signing");
	spec_free(&s);
	pki_free(&p);
}

static void test_garbage_crl(void **state)
{
	(void)state;
	static const uint8_t deadbeef[] = { 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t seq[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	X509_CRL *crl = NULL;

	assert_int_equal(cocoon_crl_parse(&crl, deadbeef, sizeof(deadbeef)), COCOON_EFORMAT);
	assert_null(crl);
	assert_non_null(strstr(cocoon_error_last()->message, "CRL: unexpected data at byte offset 0"));
	assert_int_equal(cocoon_crl_parse(&crl, seq, sizeof(seq)), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "CRL is not a valid DER X.509 CRL"));
	assert_int_equal(cocoon_crl_parse(&crl, seq, 0), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "CRL is empty"));
}

static void test_crl_parse_forms(void **state)
{
	(void)state;
	pki p;
	unsigned char *der = NULL;
	X509_CRL *crl = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;

	pki_build(&p);
	int n = i2d_X509_CRL(p.pck_crl, &der);
	assert_true(n > 0);
	assert_int_equal(cocoon_crl_parse(&crl, der, (size_t)n), 0);
	assert_int_equal(X509_CRL_cmp(crl, p.pck_crl), 0);
	X509_CRL_free(crl);

	uint8_t *longer = malloc((size_t)n + 1);
	assert_non_null(longer);
	memcpy(longer, der, (size_t)n);
	longer[n] = 0;
	assert_int_equal(cocoon_crl_parse(&crl, longer, (size_t)n + 1), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "1 trailing bytes"));
	free(longer);

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509_CRL(b, p.pck_crl), 1);
	long pem_len = BIO_get_mem_data(b, &pem);
	assert_int_equal(cocoon_crl_parse(&crl, (const uint8_t *)pem, (size_t)pem_len), 0);
	assert_int_equal(X509_CRL_cmp(crl, p.pck_crl), 0);
	X509_CRL_free(crl);
	BIO_free(b);
	OPENSSL_free(der);
	pki_free(&p);
}

static void test_crl_wrong_key(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	EVP_PKEY *k = key_new("P-256");
	crl_opts o = { 0, 0, k };

	pki_build(&p);
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, &o));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CRL,
	            "CRL signature invalid: the PCK CRL claiming issuer CN=Intel SGX PCK Platform CA");
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, NULL));
	s.pck_crl = p.pck_crl;
	replace_crl(&p.root_crl, crl_make(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, &o));
	s.root_crl = p.root_crl;
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "CRL signature invalid: the root CA CRL");
	spec_free(&s);
	EVP_PKEY_free(k);
	pki_free(&p);
}

static void test_crl_expired(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	cocoon_chain_result res;

	pki_build(&p);
	spec_pck(&s, &p, T0 + 30 * DAY + 1);
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "CRL has expired: the PCK CRL issued by CN=Intel SGX PCK Platform CA "
	                                      "has nextUpdate 2025-07-15T15:06:40Z");
	s.allow_expired_crl = 1;
	expect_ok(&s, &res);
	assert_int_equal(res.crl_expired, 1);
	assert_true(res.earliest_expiry == T0 + 30 * DAY);

	/* Only the root CRL stale: reported under its own check. */
	s.allow_expired_crl = 0;
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 60 * DAY, NULL, 0, NULL));
	s.pck_crl = p.pck_crl;
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "CRL has expired: the root CA CRL");

	/* thisUpdate in the future. */
	s.at = T0 - 2 * DAY;
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "CRL is not yet valid");
	spec_free(&s);
	pki_free(&p);
}

static void test_crl_wrong_issuer(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	spec_pck(&s, &p, T0);
	s.pck_crl = p.root_crl;
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "PCK CRL issuer CN=Intel SGX Root CA does not match the PCK "
	                                      "certificate's issuer CN=Intel SGX PCK Platform CA");
	s.pck_crl = p.pck_crl;
	s.root_crl = p.pck_crl;
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "root CA CRL issuer CN=Intel SGX PCK Platform CA does not match");
	spec_free(&s);
	pki_free(&p);
}

static void test_revoked(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	const long leaf[] = { 99, SERIAL_LEAF }, ca[] = { SERIAL_CA }, tcb[] = { SERIAL_TCB }, root[] = { SERIAL_ROOT };

	pki_build(&p);
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, leaf, 2, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_CERT_REVOKED, "certificate revoked: CN=Intel SGX PCK Certificate (depth 0) serial "
	                                           "03 is listed in the PCK CRL");
	spec_free(&s);

	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, NULL));
	replace_crl(&p.root_crl, crl_make(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, ca, 1, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_CERT_REVOKED, "certificate revoked: CN=Intel SGX PCK Platform CA (depth 1) serial "
	                                           "02 is listed in the root CA CRL");
	spec_free(&s);

	/* CRL_CHECK_ALL covers the root too: its own CRL may revoke it. */
	replace_crl(&p.root_crl, crl_make(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, root, 1, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_CERT_REVOKED, "certificate revoked: CN=Intel SGX Root CA (depth 2) serial 01");
	spec_free(&s);

	replace_crl(&p.root_crl, crl_make(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, tcb, 1, NULL));
	spec_tcb(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_CERT_REVOKED, "certificate revoked: CN=Intel SGX TCB Signing (depth 0)");
	spec_free(&s);
	pki_free(&p);
}

static void test_leaf_is_ca(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	replace_cert(&p.leaf, cert_make(CN_LEAF, p.leaf_key, p.ca, p.ca_key, SERIAL_LEAF, T0 - YEAR, T0 + YEAR, 1, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "PCK leaf certificate (depth 0, CN=Intel SGX PCK Certificate) must not be a CA");
	spec_free(&s);
	replace_cert(&p.tcb, cert_make(CN_TCB, p.tcb_key, p.root, p.root_key, SERIAL_TCB, T0 - YEAR, T0 + YEAR, 1, NULL));
	spec_tcb(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_TCB_INFO_CHAIN, "TCB signing certificate (depth 0, CN=Intel SGX TCB Signing) must "
	                                             "not be a CA");
	spec_free(&s);
	pki_free(&p);
}

static void test_ca_not_ca(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	replace_cert(&p.ca, cert_make(CN_CA, p.ca_key, p.root, p.root_key, SERIAL_CA, T0 - YEAR, T0 + YEAR, 0, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN, "PCK CA certificate (depth 1, CN=Intel SGX PCK Platform CA) must be a CA");
	spec_free(&s);
	pki_free(&p);
}

static void test_issuer_mismatch(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	replace_cert(&p.leaf, cert_make(CN_LEAF, p.leaf_key, p.ca, p.ca_key, SERIAL_LEAF, T0 - YEAR, T0 + YEAR, 0,
	                                "Intel SGX PCK Processor CA"));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "PCK leaf certificate (depth 0) issuer CN=Intel SGX PCK Processor CA does not match the subject "
	            "CN=Intel SGX PCK Platform CA of the PCK CA certificate (depth 1)");
	spec_free(&s);
	pki_free(&p);
}

static void test_non_p256_key(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	EVP_PKEY *k384 = key_new("P-384");

	pki_build(&p);
	replace_cert(&p.leaf, cert_make(CN_LEAF, k384, p.ca, p.ca_key, SERIAL_LEAF, T0 - YEAR, T0 + YEAR, 0, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN, "PCK leaf certificate (depth 0, CN=Intel SGX PCK Certificate) does not "
	                                        "have an EC P-256 (prime256v1) public key");
	spec_free(&s);
	EVP_PKEY_free(k384);
	pki_free(&p);
}

static void test_cn_phrase(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;

	pki_build(&p);
	replace_cert(&p.leaf, cert_make("Intel SGX Something", p.leaf_key, p.ca, p.ca_key, SERIAL_LEAF, T0 - YEAR,
	                                T0 + YEAR, 0, NULL));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN,
	            "subject CN \"Intel SGX Something\" does not contain \"SGX PCK Certificate\"");
	spec_free(&s);

	/* A PCK CA is no TCB signing certificate, even when issued by the root. */
	pki_free(&p);
	pki_build(&p);
	spec_tcb(&s, &p, T0);
	assert_non_null(sk_X509_set(s.chain, 0, p.ca));
	expect_fail(&s, COCOON_CHECK_TCB_INFO_CHAIN, "subject CN \"Intel SGX PCK Platform CA\" does not contain "
	                                             "\"SGX TCB Signing\"");
	spec_free(&s);

	/* Simulator-style names carry the same phrases and pass. */
	pki_free(&p);
	pki_build(&p);
	EVP_PKEY *rk = key_new("P-256");
	X509 *sim_root = cert_make("cocoon simulated SGX Root CA", rk, NULL, NULL, 1, T0 - YEAR, T0 + YEAR, 1, NULL);
	X509 *sim_tcb = cert_make("cocoon simulated SGX TCB Signing", p.tcb_key, sim_root, rk, 5, T0 - YEAR,
	                          T0 + YEAR, 0, NULL);
	X509_CRL *sim_crl = crl_make(sim_root, rk, T0 - DAY, T0 + DAY, NULL, 0, NULL);
	cocoon_chain_result res;
	spec_tcb(&s, &p, T0);
	assert_non_null(sk_X509_set(s.chain, 0, sim_tcb));
	assert_non_null(sk_X509_set(s.chain, 1, sim_root));
	s.trusted_root = sim_root;
	s.root_crl = sim_crl;
	expect_ok(&s, &res);
	spec_free(&s);
	X509_CRL_free(sim_crl);
	X509_free(sim_tcb);
	X509_free(sim_root);
	EVP_PKEY_free(rk);
	pki_free(&p);
}

static void test_crl_profile(void **state)
{
	(void)state;
	pki p;
	cocoon_chain_spec s;
	crl_opts no_number = { 1, 0, NULL }, no_aki = { 0, 1, NULL };

	pki_build(&p);
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, &no_number));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "PCK CRL has no CRL Number extension");
	spec_free(&s);
	replace_crl(&p.pck_crl, crl_make(p.ca, p.ca_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, NULL));
	replace_crl(&p.root_crl, crl_make(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, &no_aki));
	spec_pck(&s, &p, T0);
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "root CA CRL has no Authority Key Identifier extension");
	spec_free(&s);
	pki_free(&p);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	cocoon_chain_spec s;
	cocoon_failure f;
	memset(&s, 0, sizeof(s));
	assert_int_equal(cocoon_x509_verify_chain(NULL, &f, NULL), COCOON_EINVAL);
	assert_int_equal(cocoon_x509_verify_chain(NULL, &f, &s), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "chain and trusted_root are required"));
}

/* ---- parsing helpers ----------------------------------------------------- */

static char *pem_of(X509 *const *certs, size_t n, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_bio_X509(b, certs[i]), 1);
	long l = BIO_get_mem_data(b, &data);
	char *out = malloc((size_t)l + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)l);
	out[l] = '\0';
	*len = (size_t)l;
	BIO_free(b);
	return out;
}

static void expect_chain_error(const char *pem, size_t len, const char *needle)
{
	STACK_OF(X509) *sk = NULL;
	assert_int_equal(cocoon_pem_chain_parse(&sk, pem, len), COCOON_EFORMAT);
	assert_null(sk);
	if (!strstr(cocoon_error_last()->message, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, cocoon_error_last()->message);
}

static void test_pem_chain_parse(void **state)
{
	(void)state;
	pki p;
	size_t len;
	STACK_OF(X509) *sk = NULL;

	pki_build(&p);
	X509 *certs[] = { p.leaf, p.ca, p.root };
	char *pem = pem_of(certs, 3, &len);

	/* The NUL terminator counts (Intel's certification data carries one). */
	assert_int_equal(cocoon_pem_chain_parse(&sk, pem, len + 1), 0);
	assert_int_equal(sk_X509_num(sk), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(X509_cmp(sk_X509_value(sk, i), certs[i]), 0);
	sk_X509_pop_free(sk, X509_free);

	expect_chain_error("", 0, "PEM chain is empty");
	expect_chain_error(" \n\t\n", 4, "PEM chain contains no certificate");

	/* Junk between the first and second certificate. */
	size_t first = (size_t)(strstr(pem, "-----END CERTIFICATE-----\n") - pem) + 26;
	char *junk = malloc(len + 16);
	assert_non_null(junk);
	memcpy(junk, pem, first);
	memcpy(junk + first, "hello\n", 6);
	memcpy(junk + first + 6, pem + first, len - first);
	char want[96];
	snprintf(want, sizeof(want), "PEM chain certificate 1: unexpected data at byte offset %zu", first);
	expect_chain_error(junk, len + 6, want);

	/* Corrupt base64 inside the second certificate. */
	memcpy(junk, pem, len);
	junk[first + 40] = '*';
	expect_chain_error(junk, len, "PEM chain certificate 1: invalid PEM block at byte offset");

	/* A non-certificate block. */
	const char *key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	expect_chain_error(key_pem, strlen(key_pem), "is \"PUBLIC KEY\", expected \"CERTIFICATE\"");
	free(junk);
	free(pem);
	pki_free(&p);
}

static void test_cert_parse_and_digest(void **state)
{
	(void)state;
	pki p;
	size_t len;
	unsigned char *der = NULL;
	X509 *x = NULL;
	uint8_t d1[32], d2[32];

	pki_build(&p);
	int n = i2d_X509(p.leaf, &der);
	assert_true(n > 0);
	assert_int_equal(cocoon_cert_parse(&x, der, (size_t)n), 0);
	assert_int_equal(X509_cmp(x, p.leaf), 0);
	assert_int_equal(cocoon_cert_digest(d1, x), 0);
	const void *parts[] = { der };
	const size_t lens[] = { (size_t)n };
	assert_int_equal(cocoon_sha256(d2, 1, parts, lens), 0);
	assert_memory_equal(d1, d2, 32);
	X509_free(x);
	x = NULL;
	assert_int_equal(cocoon_cert_parse(&x, der, (size_t)n - 1), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "not a valid DER X.509 certificate"));

	X509 *certs[] = { p.leaf, p.ca };
	char *pem = pem_of(certs, 1, &len);
	assert_int_equal(cocoon_cert_parse(&x, (const uint8_t *)pem, len), 0);
	assert_int_equal(X509_cmp(x, p.leaf), 0);
	X509_free(x);
	x = NULL;
	free(pem);
	pem = pem_of(certs, 2, &len);
	assert_int_equal(cocoon_cert_parse(&x, (const uint8_t *)pem, len), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "more than one PEM block"));
	assert_null(x);
	free(pem);
	OPENSSL_free(der);
	pki_free(&p);
}

/* ---- raw P-256 ---------------------------------------------------------- */

static void raw_point(uint8_t xy[64], EVP_PKEY *k)
{
	uint8_t pt[65];
	size_t n = 0;
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n), 1);
	assert_int_equal(n, 65);
	assert_int_equal(pt[0], 0x04);
	memcpy(xy, pt + 1, 64);
}

static void raw_sign(uint8_t sig[64], EVP_PKEY *k, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t dlen = sizeof(der);
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, der, &dlen, msg, len), 1);
	const unsigned char *q = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
	assert_non_null(es);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32), 32);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32), 32);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
}

static void test_p256_raw(void **state)
{
	(void)state;
	EVP_PKEY *k = key_new("P-256");
	uint8_t xy[64], sig[64];
	static const uint8_t msg[] = "cocoon quote body";

	raw_point(xy, k);
	raw_sign(sig, k, msg, sizeof(msg));
	EVP_PKEY *pub = cocoon_p256_pubkey_from_raw(xy);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	assert_int_equal(cocoon_p256_verify_raw(pub, sig, msg, sizeof(msg)), 1);
	assert_int_equal(cocoon_p256_verify_raw(pub, sig, msg, sizeof(msg) - 1), 0);
	sig[63] ^= 1;
	assert_int_equal(cocoon_p256_verify_raw(pub, sig, msg, sizeof(msg)), 0);
	memset(sig, 0, sizeof(sig)); /* r = s = 0 is never valid */
	assert_int_equal(cocoon_p256_verify_raw(pub, sig, msg, sizeof(msg)), 0);

	xy[63] ^= 1; /* y + 1 (or - 1): off the curve */
	assert_null(cocoon_p256_pubkey_from_raw(xy));
	assert_int_equal(cocoon_error_last()->code, COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "P-256 public key"));
	memset(xy, 0xff, sizeof(xy)); /* coordinates >= p */
	assert_null(cocoon_p256_pubkey_from_raw(xy));
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

/* ---- real vectors ------------------------------------------------------- */

typedef struct {
	STACK_OF(X509) *pck_chain, *tcb_chain;
	X509_CRL *pck_crl, *root_crl;
	X509 *root;
} real_set;

static X509_CRL *crl_from_json_hex(json_t *doc, const char *key)
{
	const char *hex = json_string_value(json_object_get(doc, key));
	uint8_t *der = NULL;
	size_t len = 0;
	X509_CRL *crl = NULL;
	assert_non_null(hex);
	assert_int_equal(cocoon_hex_decode_alloc(&der, &len, hex, strlen(hex)), 0);
	assert_int_equal(cocoon_crl_parse(&crl, der, len), 0);
	free(der);
	return crl;
}

static void real_load(real_set *r, const char *quote_rel, const char *collateral_rel)
{
	size_t qlen = 0, clen = 0;
	json_error_t jerr;
	static const char begin[] = "-----BEGIN CERTIFICATE-----";

	memset(r, 0, sizeof(r[0]));
	uint8_t *q = cocoon_test_vector(quote_rel, &qlen);
	assert_non_null(q);
	const uint8_t *b = memmem(q, qlen, begin, sizeof(begin) - 1);
	assert_non_null(b);
	/* The TDX quote pads the certification data with NULs, which the parser tolerates. */
	assert_int_equal(cocoon_pem_chain_parse(&r->pck_chain, (const char *)b, qlen - (size_t)(b - q)), 0);
	assert_int_equal(sk_X509_num(r->pck_chain), 3);
	free(q);

	uint8_t *c = cocoon_test_vector(collateral_rel, &clen);
	assert_non_null(c);
	json_t *doc = json_loadb((const char *)c, clen, 0, &jerr);
	assert_non_null(doc);
	const char *tcb_pem = json_string_value(json_object_get(doc, "tcb_info_issuer_chain"));
	assert_non_null(tcb_pem);
	assert_int_equal(cocoon_pem_chain_parse(&r->tcb_chain, tcb_pem, strlen(tcb_pem)), 0);
	r->pck_crl = crl_from_json_hex(doc, "pck_crl");
	r->root_crl = crl_from_json_hex(doc, "root_ca_crl");
	json_decref(doc);
	free(c);
	assert_int_equal(cocoon_cert_parse(&r->root, cocoon_intel_sgx_root_der, cocoon_intel_sgx_root_der_len), 0);
}

static void real_free(real_set *r)
{
	sk_X509_pop_free(r->pck_chain, X509_free);
	sk_X509_pop_free(r->tcb_chain, X509_free);
	X509_CRL_free(r->pck_crl);
	X509_CRL_free(r->root_crl);
	X509_free(r->root);
}

static void real_spec(cocoon_chain_spec *s, const real_set *r, int pck, time_t at)
{
	memset(s, 0, sizeof(*s));
	s->chain = pck ? r->pck_chain : r->tcb_chain;
	s->trusted_root = r->root;
	s->root_crl = r->root_crl;
	s->pck_crl = pck ? r->pck_crl : NULL;
	s->at = at;
	s->role = pck ? COCOON_CHAIN_PCK : COCOON_CHAIN_TCB_SIGNING;
	s->chain_check = pck ? COCOON_CHECK_PCK_CHAIN : COCOON_CHECK_TCB_INFO_CHAIN;
}

static void check_real(const char *quote_rel, const char *collateral_rel, time_t at, time_t pck_next_update)
{
	real_set r;
	cocoon_chain_spec s;
	cocoon_chain_result res;

	real_load(&r, quote_rel, collateral_rel);
	real_spec(&s, &r, 1, at);
	expect_ok(&s, &res);
	assert_int_equal(res.crl_expired, 0);
	assert_true(res.earliest_expiry == pck_next_update);

	real_spec(&s, &r, 0, at);
	expect_ok(&s, &res);
	assert_true(res.earliest_expiry == (time_t)1775215317); /* root CA CRL nextUpdate 2026-04-03T11:21:57Z */

	/* Today the collateral is stale: the PCK CRL expired in July 2025. */
	real_spec(&s, &r, 1, time(NULL));
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "CRL has expired");
	real_spec(&s, &r, 1, pck_next_update + 1);
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "CRL has expired");
	real_spec(&s, &r, 0, (time_t)1775215317 + 1);
	expect_fail(&s, COCOON_CHECK_ROOT_CA_CRL, "CRL has expired: the root CA CRL issued by CN=Intel SGX Root CA has "
	                                          "nextUpdate 2026-04-03T11:21:57Z");

	/* Swapped CRLs and a foreign pinned root. */
	real_spec(&s, &r, 1, at);
	s.pck_crl = r.root_crl;
	expect_fail(&s, COCOON_CHECK_PCK_CRL, "does not match the PCK certificate's issuer");
	real_spec(&s, &r, 1, at);
	EVP_PKEY *k = key_new("P-256");
	X509 *fake = cert_make(CN_ROOT, k, NULL, NULL, 1, T0 - YEAR, T0 + YEAR, 1, NULL);
	s.trusted_root = fake;
	expect_fail(&s, COCOON_CHECK_PCK_CHAIN, "chain root is not the pinned root");
	X509_free(fake);
	EVP_PKEY_free(k);
	real_free(&r);
}

static void test_real_sgx(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	check_real("sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX,
	           (time_t)1752920598); /* PCK CRL nextUpdate 2025-07-19T10:23:18Z */
}

static void test_real_tdx(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	check_real("tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX,
	           (time_t)1752919235); /* PCK CRL nextUpdate 2025-07-19T10:00:35Z */
}

static void test_real_tdx_outdated(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	check_real("tdx/quote-outdated.bin", "tdx/collateral-outdated.json", COCOON_TEST_AT_TDX_OUTDATED,
	           (time_t)1774003275); /* PCK CRL nextUpdate 2026-03-20T10:41:15Z */
}

static void test_builtin_root(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	size_t len = 0;
	uint8_t *der = cocoon_test_vector("roots/intel-sgx-root-ca.der", &len);
	assert_non_null(der);
	assert_int_equal(len, cocoon_intel_sgx_root_der_len);
	assert_memory_equal(der, cocoon_intel_sgx_root_der, len);
	free(der);
	X509 *x = NULL;
	uint8_t d[32], want[32];
	assert_int_equal(cocoon_cert_parse(&x, cocoon_intel_sgx_root_der, cocoon_intel_sgx_root_der_len), 0);
	assert_int_equal(cocoon_cert_digest(d, x), 0);
	const char *fp = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";
	assert_int_equal(cocoon_hex_decode(want, 32, fp, strlen(fp)), 0);
	assert_memory_equal(d, want, 32);
	X509_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_chains),
		cmocka_unit_test(test_wrong_root_pinned),
		cmocka_unit_test(test_chain_length),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_leaf_validity),
		cmocka_unit_test(test_missing_crls),
		cmocka_unit_test(test_garbage_crl),
		cmocka_unit_test(test_crl_parse_forms),
		cmocka_unit_test(test_crl_wrong_key),
		cmocka_unit_test(test_crl_expired),
		cmocka_unit_test(test_crl_wrong_issuer),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_leaf_is_ca),
		cmocka_unit_test(test_ca_not_ca),
		cmocka_unit_test(test_issuer_mismatch),
		cmocka_unit_test(test_non_p256_key),
		cmocka_unit_test(test_cn_phrase),
		cmocka_unit_test(test_crl_profile),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_pem_chain_parse),
		cmocka_unit_test(test_cert_parse_and_digest),
		cmocka_unit_test(test_p256_raw),
		cmocka_unit_test(test_real_sgx),
		cmocka_unit_test(test_real_tdx),
		cmocka_unit_test(test_real_tdx_outdated),
		cmocka_unit_test(test_builtin_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
