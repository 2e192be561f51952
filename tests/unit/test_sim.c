/*
 * The simulated DCAP platform: its PKI must look like Intel's to OpenSSL
 * (chains, CRLs, extensions), and its quotes and collateral must have
 * Intel's exact layout with signatures that verify. Every check here
 * re-derives offsets and signatures independently of the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "testutil.h"
#include "common/util.h"
#include "sim/dcap_sim.h"

#define AT_2026 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

static const uint8_t intel_vendor_id[16] = {
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

static cocoon_sim_pki *gen_pki(const cocoon_sim_pki_options *o)
{
	cocoon_sim_pki *p = NULL;
	if (cocoon_sim_pki_generate(&p, o) != 0)
		fail_msg("cocoon_sim_pki_generate: %s", cocoon_error_last()->message);
	return p;
}

static void expect_error(int rc, int code, const char *part)
{
	assert_int_equal(rc, code);
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("error \"%s\" lacks \"%s\"", cocoon_error_last()->message, part);
}

/* 1 when sig (raw r||s) is a valid ECDSA-P256/SHA-256 signature of msg by key. */
static int verify_raw(EVP_PKEY *key, const uint8_t sig[64], const void *msg, size_t len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int der_len, ok;

	assert_non_null(es);
	assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
	der_len = i2d_ECDSA_SIG(es, &der);
	assert_true(der_len > 0);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	ok = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ok;
}

static void key_raw(uint8_t out[64], EVP_PKEY *key)
{
	uint8_t pub[65];
	size_t len = 0;
	assert_int_equal(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len), 1);
	assert_int_equal(len, 65);
	assert_int_equal(pub[0], 0x04);
	memcpy(out, pub + 1, 64);
}

/* A fresh parse of the certificate's DER, so checks see what a verifier sees. */
static X509 *reparse(X509 *x)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	int len = i2d_X509(x, &der);
	X509 *copy;

	assert_true(len > 0);
	q = der;
	copy = d2i_X509(NULL, &q, len);
	assert_non_null(copy);
	assert_ptr_equal(q, der + len);
	OPENSSL_free(der);
	return copy;
}

static void assert_cn(X509 *x, const char *want)
{
	char cn[128];
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, want);
}

/* Checks one certificate against Intel's profile and its issuer. */
static void check_cert(X509 *cert, X509 *issuer_cert, EVP_PKEY *wrong_key, int ca, int pathlen,
                       const char *cn)
{
	X509 *x = reparse(cert), *issuer = reparse(issuer_cert);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	char group[32];
	size_t glen = 0;

	assert_cn(x, cn);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(EVP_PKEY_get_bits(pub), 256);
	assert_int_equal(EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen), 1);
	assert_string_equal(group, "prime256v1");
	/* 16 random bytes, positive, no sign byte. */
	assert_int_equal(ASN1_STRING_length(serial), 16);
	assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)), 0);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(issuer)), 1);
	assert_true(X509_verify(x, wrong_key) <= 0);

	assert_int_equal(X509_check_ca(x) != 0, ca);
	assert_int_equal(X509_get_pathlen(x), pathlen);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, NID_basic_constraints, -1))), 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	if (ca)
		assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	else
		assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_STRING_length(X509_get0_subject_key_id(x)), 20);
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(issuer)), 0);
	X509_free(issuer);
	X509_free(x);
}

static void test_pki_certificates(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	(void)state;

	check_cert(p->root_cert, p->root_cert, p->tcb_key, 1, 1, "Intel SGX Root CA");
	check_cert(p->pck_ca_cert, p->root_cert, p->pck_ca_key, 1, 0, "Intel SGX PCK Platform CA");
	check_cert(p->pck_cert, p->pck_ca_cert, p->root_key, 0, -1, "Intel SGX PCK Certificate");
	check_cert(p->tcb_cert, p->root_cert, p->tcb_key, 0, -1, "Intel SGX TCB Signing");
	/* The full DN is Intel's, so DN-equality checks against real chains behave alike. */
	char *dn = X509_NAME_oneline(X509_get_subject_name(p->root_cert), NULL, 0);
	assert_string_equal(dn, "/CN=Intel SGX Root CA/O=Intel Corporation/L=Santa Clara/ST=CA/C=US");
	OPENSSL_free(dn);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(p->pck_cert), p->opts.not_before), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(p->pck_cert), p->opts.not_after), 0);
	/* Distinct keys: the attestation key is not any certificate's key. */
	assert_int_equal(EVP_PKEY_eq(p->att_key, X509_get0_pubkey(p->pck_cert)), 0);
	assert_int_equal(EVP_PKEY_eq(p->pck_key, X509_get0_pubkey(p->pck_cert)), 1);
	cocoon_sim_pki_free(p);
}

/* Runs OpenSSL's own chain validation with CRL checks on every level. */
static int chain_verify(cocoon_sim_pki *p, X509 *leaf, int with_pck_ca, int *error)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	assert_int_equal(X509_STORE_add_cert(store, p->root_cert), 1);
	assert_int_equal(X509_STORE_add_crl(store, p->root_crl), 1);
	if (with_pck_ca) {
		assert_int_equal(X509_STORE_add_crl(store, p->pck_crl), 1);
		assert_true(sk_X509_push(untrusted, p->pck_ca_cert) > 0);
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	X509_STORE_CTX_set_time(ctx, 0, AT_2026);
	ok = X509_verify_cert(ctx);
	*error = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return ok;
}

static void test_pki_chains_verify_with_openssl(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	int error = 0;
	(void)state;

	if (chain_verify(p, p->pck_cert, 1, &error) != 1)
		fail_msg("PCK chain: %s", X509_verify_cert_error_string(error));
	if (chain_verify(p, p->tcb_cert, 0, &error) != 1)
		fail_msg("TCB chain: %s", X509_verify_cert_error_string(error));
	cocoon_sim_pki_free(p);
}

/* Decodes a SEQUENCE OF ANY held in an ASN1_TYPE of type SEQUENCE. */
static STACK_OF(ASN1_TYPE) *seq_of(const ASN1_TYPE *t)
{
	const unsigned char *q;
	STACK_OF(ASN1_TYPE) *s;

	assert_int_equal(ASN1_TYPE_get(t), V_ASN1_SEQUENCE);
	q = t->value.sequence->data;
	s = d2i_ASN1_SEQUENCE_ANY(NULL, &q, t->value.sequence->length);
	assert_non_null(s);
	assert_ptr_equal(q, t->value.sequence->data + t->value.sequence->length);
	return s;
}

/* Entry i of an SGX extension sequence: checks its OID and returns the value. */
static const ASN1_TYPE *sgx_entry(STACK_OF(ASN1_TYPE) *seq, int i, const char *oid, STACK_OF(ASN1_TYPE) **keep)
{
	char txt[64];
	STACK_OF(ASN1_TYPE) *pair = seq_of(sk_ASN1_TYPE_value(seq, i));

	assert_int_equal(sk_ASN1_TYPE_num(pair), 2);
	assert_int_equal(ASN1_TYPE_get(sk_ASN1_TYPE_value(pair, 0)), V_ASN1_OBJECT);
	OBJ_obj2txt(txt, sizeof(txt), sk_ASN1_TYPE_value(pair, 0)->value.object, 1);
	assert_string_equal(txt, oid);
	*keep = pair;
	return sk_ASN1_TYPE_value(pair, 1);
}

static void assert_octets(const ASN1_TYPE *t, const uint8_t *want, int len)
{
	assert_int_equal(ASN1_TYPE_get(t), V_ASN1_OCTET_STRING);
	assert_int_equal(t->value.octet_string->length, len);
	assert_memory_equal(t->value.octet_string->data, want, (size_t)len);
}

static void test_pck_sgx_extension(void **state)
{
	static const uint8_t fmspc[6] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
	cocoon_sim_pki_options o;
	cocoon_sim_pki *p;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	STACK_OF(ASN1_TYPE) *top, *pair, *tcb, *tcb_pair;
	const ASN1_OCTET_STRING *data;
	const unsigned char *q;
	char txt[64];
	X509 *x;
	int idx;
	(void)state;

	cocoon_sim_pki_options_init(&o);
	memcpy(o.fmspc, fmspc, 6);
	o.pceid[1] = 0x01;
	for (int i = 0; i < 16; i++)
		o.cpu_svn[i] = (uint8_t)(i * 17);        /* 0x00 .. 0xFF: 0xFF needs a 2-byte INTEGER */
	o.pce_svn = 13;
	p = gen_pki(&o);
	x = reparse(p->pck_cert);

	idx = X509_get_ext_by_OBJ(x, oid, -1);
	assert_true(idx >= 0);
	assert_int_equal(X509_get_ext_by_OBJ(x, oid, idx), -1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 0);
	data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	q = data->data;
	top = d2i_ASN1_SEQUENCE_ANY(NULL, &q, data->length);
	assert_non_null(top);
	assert_ptr_equal(q, data->data + data->length);
	assert_int_equal(sk_ASN1_TYPE_num(top), 5);

	assert_octets(sgx_entry(top, 0, "1.2.840.113741.1.13.1.1", &pair), o.ppid, 16);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);

	tcb = seq_of(sgx_entry(top, 1, "1.2.840.113741.1.13.1.2", &pair));
	assert_int_equal(sk_ASN1_TYPE_num(tcb), 18);
	for (int i = 0; i < 17; i++) {
		const ASN1_TYPE *v;
		snprintf(txt, sizeof(txt), "1.2.840.113741.1.13.1.2.%d", i + 1);
		v = sgx_entry(tcb, i, txt, &tcb_pair);
		assert_int_equal(ASN1_TYPE_get(v), V_ASN1_INTEGER);
		assert_int_equal(ASN1_INTEGER_get(v->value.integer), i < 16 ? o.cpu_svn[i] : o.pce_svn);
		sk_ASN1_TYPE_pop_free(tcb_pair, ASN1_TYPE_free);
	}
	assert_octets(sgx_entry(tcb, 17, "1.2.840.113741.1.13.1.2.18", &tcb_pair), o.cpu_svn, 16);
	sk_ASN1_TYPE_pop_free(tcb_pair, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(tcb, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);

	assert_octets(sgx_entry(top, 2, "1.2.840.113741.1.13.1.3", &pair), o.pceid, 2);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	assert_octets(sgx_entry(top, 3, "1.2.840.113741.1.13.1.4", &pair), fmspc, 6);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	const ASN1_TYPE *type = sgx_entry(top, 4, "1.2.840.113741.1.13.1.5", &pair);
	assert_int_equal(ASN1_TYPE_get(type), V_ASN1_ENUMERATED);
	assert_int_equal(ASN1_ENUMERATED_get(type->value.enumerated), 0);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);

	/* Only the PCK leaf carries it. */
	assert_int_equal(X509_get_ext_by_OBJ(p->pck_ca_cert, oid, -1), -1);
	assert_int_equal(X509_get_ext_by_OBJ(p->tcb_cert, oid, -1), -1);
	sk_ASN1_TYPE_pop_free(top, ASN1_TYPE_free);
	ASN1_OBJECT_free(oid);
	X509_free(x);
	cocoon_sim_pki_free(p);
}

static void test_cn_prefix(void **state)
{
	cocoon_sim_pki_options o;
	cocoon_sim_pki *p = NULL;
	char prefix[64];
	(void)state;

	cocoon_sim_pki_options_init(&o);
	snprintf(prefix, sizeof(prefix), "cocoon Simulated SGX");
	o.cn_prefix = prefix;
	p = gen_pki(&o);
	/* The PKI keeps its own copy of the prefix. */
	memset(prefix, 'x', 10);
	assert_string_equal(p->opts.cn_prefix, "cocoon Simulated SGX");
	assert_cn(p->root_cert, "cocoon Simulated SGX Root CA");
	assert_cn(p->pck_ca_cert, "cocoon Simulated SGX PCK Platform CA");
	assert_cn(p->pck_cert, "cocoon Simulated SGX PCK Certificate");
	assert_cn(p->tcb_cert, "cocoon Simulated SGX TCB Signing");
	cocoon_sim_pki_free(p);

	p = NULL;
	o.cn_prefix = "cocoon simulated";
	expect_error(cocoon_sim_pki_generate(&p, &o), COCOON_EINVAL, "must end with \"SGX\"");
	assert_null(p);
	o.cn_prefix = "a prefix that is far too long to fit into a common name with SGX";
	expect_error(cocoon_sim_pki_generate(&p, &o), COCOON_EINVAL, "64-byte CN");
	o.cn_prefix = "Intel SGX";
	o.not_after = o.not_before;
	expect_error(cocoon_sim_pki_generate(&p, &o), COCOON_EINVAL, "not_before must be earlier");
	assert_null(p);
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	long v;
	assert_non_null(n);
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static void check_crl(X509_CRL *crl, X509 *issuer, EVP_PKEY *wrong_key, long number, time_t this_update,
                      time_t next_update, int n_revoked)
{
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_CRL_get_signature_nid(crl), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)), 0);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
	assert_true(X509_CRL_verify(crl, wrong_key) <= 0);
	assert_int_equal(crl_number(crl), number);
	assert_non_null(akid);
	assert_non_null(akid->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(issuer)), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), this_update), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), next_update), 0);
	/* An empty CRL omits revokedCertificates, which OpenSSL reports as a NULL stack. */
	assert_int_equal(revoked ? sk_X509_REVOKED_num(revoked) : 0, n_revoked);
	AUTHORITY_KEYID_free(akid);
}

static void test_crls_and_reissue(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	const ASN1_INTEGER *revoked[2];
	ASN1_INTEGER *other = ASN1_INTEGER_new();
	X509_REVOKED *entry = NULL;
	int error = 0;
	(void)state;

	check_crl(p->root_crl, p->root_cert, p->pck_ca_key, 1, p->opts.not_before, p->opts.crl_next_update, 0);
	check_crl(p->pck_crl, p->pck_ca_cert, p->root_key, 1, p->opts.not_before, p->opts.crl_next_update, 0);

	/* Revoke the PCK leaf (and an unrelated serial) in the PCK CRL. */
	assert_int_equal(ASN1_INTEGER_set(other, 0x1234567), 1);
	revoked[0] = other;
	revoked[1] = X509_get0_serialNumber(p->pck_cert);
	assert_int_equal(cocoon_sim_pki_reissue_crl(p, 0, revoked, 2, AT_2026 - 86400, AT_2026 + 86400), 0);
	check_crl(p->pck_crl, p->pck_ca_cert, p->root_key, 2, AT_2026 - 86400, AT_2026 + 86400, 2);
	assert_int_equal(X509_CRL_get0_by_serial(p->pck_crl, &entry, X509_get0_serialNumber(p->pck_cert)), 1);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(entry), AT_2026 - 86400), 0);
	assert_int_equal(X509_CRL_get0_by_serial(p->pck_crl, &entry, other), 1);
	assert_int_equal(X509_CRL_get0_by_serial(p->pck_crl, &entry, X509_get0_serialNumber(p->tcb_cert)), 0);
	assert_int_equal(chain_verify(p, p->pck_cert, 1, &error), 0);
	assert_int_equal(error, X509_V_ERR_CERT_REVOKED);

	/* Revoke the PCK CA in the root CRL; the old PCK CRL stays as it was. */
	revoked[0] = X509_get0_serialNumber(p->pck_ca_cert);
	assert_int_equal(cocoon_sim_pki_reissue_crl(p, 1, revoked, 1, AT_2026 - 3600, AT_2026 + 3600), 0);
	check_crl(p->root_crl, p->root_cert, p->pck_ca_key, 2, AT_2026 - 3600, AT_2026 + 3600, 1);
	assert_int_equal(X509_CRL_get0_by_serial(p->root_crl, &entry, X509_get0_serialNumber(p->pck_ca_cert)), 1);
	assert_int_equal(crl_number(p->pck_crl), 2);

	/* Clearing both restores a valid chain, with the CRL numbers still increasing. */
	assert_int_equal(cocoon_sim_pki_reissue_crl(p, 1, NULL, 0, AT_2026 - 3600, AT_2026 + 3600), 0);
	assert_int_equal(cocoon_sim_pki_reissue_crl(p, 0, NULL, 0, AT_2026 - 3600, AT_2026 + 3600), 0);
	check_crl(p->root_crl, p->root_cert, p->pck_ca_key, 3, AT_2026 - 3600, AT_2026 + 3600, 0);
	check_crl(p->pck_crl, p->pck_ca_cert, p->root_key, 3, AT_2026 - 3600, AT_2026 + 3600, 0);
	if (chain_verify(p, p->pck_cert, 1, &error) != 1)
		fail_msg("PCK chain after clearing: %s", X509_verify_cert_error_string(error));

	expect_error(cocoon_sim_pki_reissue_crl(p, 0, NULL, 0, AT_2026, AT_2026), COCOON_EINVAL,
	             "nextUpdate must be later");
	expect_error(cocoon_sim_pki_reissue_crl(p, 0, NULL, 1, AT_2026, AT_2026 + 1), COCOON_EINVAL,
	             "1 revoked serials");
	revoked[0] = NULL;
	expect_error(cocoon_sim_pki_reissue_crl(p, 0, revoked, 1, AT_2026, AT_2026 + 1), COCOON_EINVAL,
	             "revoked serial 0 is NULL");
	assert_int_equal(crl_number(p->pck_crl), 3);
	ASN1_INTEGER_free(other);
	cocoon_sim_pki_free(p);
}

static size_t body_size_of(int body_type)
{
	return body_type == 1 ? 384 : body_type == 2 ? 584 : 648;
}

/* Parses the PEM bundle and compares it to want[] certificate by certificate. */
static void assert_pem_chain(const char *pem, size_t len, X509 *const *want, int n)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int i = 0;

	assert_non_null(bio);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		assert_true(i < n);
		assert_int_equal(X509_cmp(x, want[i]), 0);
		X509_free(x);
		i++;
	}
	ERR_clear_error();
	assert_int_equal(i, n);
	BIO_free(bio);
}

/*
 * Generates a quote and checks every field by offset:
 *   header(48) [u16 type, u32 size] body | u32 sig_len | sig | key | [6, len] qe_report | qe_sig |
 *   u16 auth_len | auth | u16 5 | u32 len | chain+NUL | padding
 */
static void check_quote(cocoon_sim_pki *p, int version, int body_type, size_t auth_len, size_t padding)
{
	cocoon_sim_quote_params qp;
	uint8_t *q = NULL, att[64], digest[32];
	size_t len = 0, body = body_size_of(body_type), pre = version == 5 ? 6 : 0;
	size_t signed_len = 48 + pre + body, rd_off, sig_len, clen;
	const uint8_t *s, *c, *qe, *chain;
	int td = body_type != 1;

	cocoon_sim_quote_params_init(&qp, version, body_type);
	qp.qe_auth_len = auth_len;
	qp.trailing_padding = padding;
	for (int i = 0; i < 64; i++)
		qp.report_data[i] = (uint8_t)(0xa0 + i);
	memset(qp.mr_enclave, 0x11, 32);
	memset(qp.mr_td, 0x22, 48);
	memset(qp.mr_service_td, 0x33, 48);
	if (cocoon_sim_quote(&q, &len, p, &qp) != 0)
		fail_msg("cocoon_sim_quote v%d/%d: %s", version, body_type, cocoon_error_last()->message);

	/* Sizes: 48 + [6] + body + 4 + sig_len (+ padding). */
	assert_true(len >= signed_len + 4);
	sig_len = cocoon_le32(q + signed_len);
	assert_int_equal(len, signed_len + 4 + sig_len + padding);
	assert_true(cocoon_is_zero(q + len - padding, padding));

	/* Header. */
	assert_int_equal(cocoon_le16(q), version);
	assert_int_equal(cocoon_le16(q + 2), 2);
	assert_int_equal(cocoon_le32(q + 4), td ? 0x81u : 0u);
	assert_int_equal(cocoon_le16(q + 8), version == 3 ? 8 : 0);
	assert_int_equal(cocoon_le16(q + 10), version == 3 ? 11 : 0);
	assert_memory_equal(q + 12, intel_vendor_id, 16);
	assert_true(cocoon_is_zero(q + 28, 20));
	if (version == 5) {
		assert_int_equal(cocoon_le16(q + 48), body_type);
		assert_int_equal(cocoon_le32(q + 50), body);
	}

	/* Body fields at Intel's offsets. */
	c = q + 48 + pre;
	rd_off = td ? 520 : 320;
	assert_memory_equal(c + rd_off, qp.report_data, 64);
	if (td) {
		assert_memory_equal(c + 136, qp.mr_td, 48);
		assert_int_equal(c[120 + 3], 0x10);              /* SEPT_VE_DISABLE */
		assert_int_equal(c[1], 0);                       /* TEE_TCB_SVN module version */
		if (body_type == 3)
			assert_memory_equal(c + 600, qp.mr_service_td, 48);
	} else {
		assert_memory_equal(c, p->opts.cpu_svn, 16);
		assert_memory_equal(c + 64, qp.mr_enclave, 32);
		assert_int_equal(c[48], 0x05);                   /* INIT|MODE64, no DEBUG */
		assert_int_equal(c[56], 0x03);
	}

	/* Quote signature by the attestation key over [0, end of body). */
	s = q + signed_len + 4;
	key_raw(att, p->att_key);
	assert_memory_equal(s + 64, att, 64);
	assert_true(verify_raw(X509_get0_pubkey(p->root_cert), s, q, signed_len) == 0);
	assert_int_equal(verify_raw(p->att_key, s, q, signed_len), 1);
	q[signed_len - 1] ^= 1;
	assert_int_equal(verify_raw(p->att_key, s, q, signed_len), 0);
	q[signed_len - 1] ^= 1;

	/* Certification data: v4/v5 wrap everything in type 6. */
	c = s + 128;
	if (version != 3) {
		assert_int_equal(cocoon_le16(c), 6);
		assert_int_equal(cocoon_le32(c + 2), sig_len - 128 - 6);
		c += 6;
	}
	qe = c;
	assert_int_equal(verify_raw(X509_get0_pubkey(p->pck_cert), qe + 384, qe, 384), 1);
	assert_memory_equal(qe, p->opts.cpu_svn, 16);
	assert_memory_equal(qe + 128, td ? cocoon_sim_qe_mrsigner_td : cocoon_sim_qe_mrsigner_sgx, 32);
	assert_int_equal(cocoon_le16(qe + 256), td ? 2 : 1);
	assert_int_equal(cocoon_le16(qe + 258), 8);
	assert_int_equal(qe[48], 0x11);
	c = qe + 448;
	assert_int_equal(cocoon_le16(c), auth_len);
	for (size_t i = 0; i < auth_len; i++)
		assert_int_equal(c[2 + i], (uint8_t)i);
	{
		const void *parts[2] = {att, c + 2};
		size_t lens[2] = {64, auth_len};
		assert_int_equal(cocoon_sha256(digest, 2, parts, lens), 0);
	}
	assert_memory_equal(qe + 320, digest, 32);
	assert_true(cocoon_is_zero(qe + 352, 32));
	c += 2 + auth_len;
	assert_int_equal(cocoon_le16(c), 5);
	clen = cocoon_le32(c + 2);
	chain = c + 6;
	/* The chain ends exactly at the declared end of the signature data, NUL included. */
	assert_ptr_equal(chain + clen, s + sig_len);
	assert_int_equal(chain[clen - 1], 0);
	assert_int_equal(strlen((const char *)chain), clen - 1);
	{
		X509 *const want[3] = {p->pck_cert, p->pck_ca_cert, p->root_cert};
		assert_pem_chain((const char *)chain, clen - 1, want, 3);
	}
	free(q);
}

static void test_quote_layouts(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	(void)state;

	check_quote(p, 3, 1, 32, 0);
	check_quote(p, 4, 2, 32, 0);
	check_quote(p, 5, 1, 32, 0);
	check_quote(p, 5, 2, 32, 0);
	check_quote(p, 5, 3, 32, 0);
	/* Odd auth sizes and trailing bytes, as some QEs write them. */
	check_quote(p, 3, 1, 0, 70);
	check_quote(p, 4, 2, 300, 70);
	check_quote(p, 5, 3, 1, 1);
	cocoon_sim_pki_free(p);
}

static void test_quote_params_defaults_and_errors(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	cocoon_sim_quote_params qp;
	uint8_t *q = (uint8_t *)"untouched";
	size_t len = 99;
	(void)state;

	cocoon_sim_quote_params_init(&qp, 4, 0);
	assert_int_equal(qp.body_type, 2);
	assert_int_equal(qp.qe_isv_prod_id, 2);
	assert_int_equal(qp.td_attributes[3], 0x10);
	assert_int_equal(qp.qe_auth_len, 32);
	cocoon_sim_quote_params_init(&qp, 3, 0);
	assert_int_equal(qp.body_type, 1);
	assert_int_equal(qp.qe_isv_prod_id, 1);
	assert_int_equal(qp.attributes[0] & 0x02, 0);   /* never DEBUG by default */

	cocoon_sim_quote_params_init(&qp, 4, 1);
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "version 4 with body type 1");
	assert_null(q);
	assert_int_equal(len, 0);
	cocoon_sim_quote_params_init(&qp, 3, 2);
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "version 3 with body type 2");
	cocoon_sim_quote_params_init(&qp, 5, 4);
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "not a DCAP layout");
	cocoon_sim_quote_params_init(&qp, 6, 1);
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "version 6");
	cocoon_sim_quote_params_init(&qp, 3, 1);
	qp.qe_auth_len = 65536;
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "exceeds the u16 field");
	qp.qe_auth_len = 32;
	qp.trailing_padding = SIZE_MAX - 10;
	expect_error(cocoon_sim_quote(&q, &len, p, &qp), COCOON_EINVAL, "overflows");
	assert_null(q);
	cocoon_sim_pki_free(p);
}

static void test_sign_tcb(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	static const char body[] = "{\"id\":\"SGX\",\"version\":3}";
	uint8_t sig[64];
	(void)state;

	assert_int_equal(cocoon_sim_sign_tcb(sig, p, body, strlen(body)), 0);
	assert_int_equal(verify_raw(X509_get0_pubkey(p->tcb_cert), sig, body, strlen(body)), 1);
	/* Exact bytes: one more byte (the NUL) is a different message. */
	assert_int_equal(verify_raw(X509_get0_pubkey(p->tcb_cert), sig, body, strlen(body) + 1), 0);
	assert_int_equal(verify_raw(X509_get0_pubkey(p->pck_cert), sig, body, strlen(body)), 0);
	/* Empty input is still a signature. */
	assert_int_equal(cocoon_sim_sign_tcb(sig, p, NULL, 0), 0);
	assert_int_equal(verify_raw(p->tcb_key, sig, "", 0), 1);
	expect_error(cocoon_sim_sign_tcb(sig, NULL, body, 1), COCOON_EINVAL, "needs a PKI");
	expect_error(cocoon_sim_sign_tcb(sig, p, NULL, 5), COCOON_EINVAL, "no data");
	cocoon_sim_pki_free(p);
}

static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		fail_msg("collateral key \"%s\" missing or not a string", key);
	return json_string_value(v);
}

/* The key's value is lowercase hex of exactly der (of the CRL). */
static void assert_hex_crl(json_t *o, const char *key, X509_CRL *crl)
{
	unsigned char *der = NULL;
	int len = i2d_X509_CRL(crl, &der);
	const char *hex = json_str(o, key);
	char *want = malloc(2 * (size_t)len + 1);

	assert_true(len > 0);
	assert_non_null(want);
	cocoon_hex_encode(want, der, (size_t)len);
	assert_int_equal(strlen(hex), 2 * (size_t)len);
	assert_string_equal(hex, want);
	free(want);
	OPENSSL_free(der);
}

static void assert_signed(json_t *o, const char *body_key, const char *sig_key, const char *want_body, EVP_PKEY *key)
{
	const char *body = json_str(o, body_key), *hex = json_str(o, sig_key);
	uint8_t sig[64];

	assert_string_equal(body, want_body);
	assert_int_equal(strlen(hex), 128);
	assert_int_equal(cocoon_hex_decode(sig, 64, hex, 128), 0);
	assert_int_equal(verify_raw(key, sig, body, strlen(body)), 1);
}

static void test_collateral_json(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	/* Escapes, slashes and non-ASCII must survive byte for byte: signatures cover these bytes. */
	static const char tcb_info[] = "{\"id\":\"SGX\",\"version\":3,\"fmspc\":\"00906ED50000\",\"x\":\"a/b\\\"c\\u00e9 \xc3\xa9\"}";
	static const char qe_identity[] = "{\"id\":\"QE\",\"version\":2,\n \"isvprodid\":1}";
	static const char *const keys[] = {
		"pck_crl_issuer_chain", "root_ca_crl", "pck_crl", "tcb_info_issuer_chain", "tcb_info",
		"tcb_info_signature", "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature",
	};
	char *out = NULL;
	json_t *o;
	json_error_t jerr;
	const char *key;
	json_t *value;
	size_t i = 0;
	(void)state;

	assert_int_equal(cocoon_sim_collateral_json(&out, p, tcb_info, qe_identity), 0);
	o = json_loads(out, 0, &jerr);
	if (!o)
		fail_msg("collateral JSON does not parse: %s at %d", jerr.text, jerr.position);
	assert_int_equal(json_object_size(o), 9);
	/* Same key order as the real vectors' collateral.json. */
	json_object_foreach(o, key, value) {
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_hex_crl(o, "root_ca_crl", p->root_crl);
	assert_hex_crl(o, "pck_crl", p->pck_crl);
	assert_signed(o, "tcb_info", "tcb_info_signature", tcb_info, X509_get0_pubkey(p->tcb_cert));
	assert_signed(o, "qe_identity", "qe_identity_signature", qe_identity, X509_get0_pubkey(p->tcb_cert));
	{
		X509 *const pck_issuers[2] = {p->pck_ca_cert, p->root_cert};
		X509 *const tcb_issuers[2] = {p->tcb_cert, p->root_cert};
		const char *pem = json_str(o, "pck_crl_issuer_chain");
		assert_pem_chain(pem, strlen(pem), pck_issuers, 2);
		pem = json_str(o, "tcb_info_issuer_chain");
		assert_pem_chain(pem, strlen(pem), tcb_issuers, 2);
		assert_string_equal(json_str(o, "qe_identity_issuer_chain"), pem);
	}
	json_decref(o);
	free(out);

	out = NULL;
	expect_error(cocoon_sim_collateral_json(&out, p, tcb_info, NULL), COCOON_EINVAL, "\"qe_identity\" JSON is NULL");
	expect_error(cocoon_sim_collateral_json(&out, p, "{\"x\":\"\xff\"}", qe_identity), COCOON_EINVAL, "not UTF-8");
	expect_error(cocoon_sim_collateral_json(&out, NULL, tcb_info, qe_identity), COCOON_EINVAL, "no PKI");
	assert_null(out);
	cocoon_sim_pki_free(p);
}

static void test_pem_certs(void **state)
{
	cocoon_sim_pki *p = gen_pki(NULL);
	X509 *const certs[3] = {p->pck_cert, p->tcb_cert, p->root_cert};
	X509 *const with_null[2] = {p->pck_cert, NULL};
	char *pem = NULL;
	(void)state;

	assert_int_equal(cocoon_sim_pem_certs(&pem, certs, 3), 0);
	assert_pem_chain(pem, strlen(pem), certs, 3);
	assert_int_equal(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28), 0);
	free(pem);
	assert_int_equal(cocoon_sim_pem_certs(&pem, certs, 0), 0);
	assert_string_equal(pem, "");
	free(pem);
	pem = NULL;
	expect_error(cocoon_sim_pem_certs(&pem, with_null, 2), COCOON_EINVAL, "certificate 1 of 2 is NULL");
	assert_null(pem);
	cocoon_sim_pki_free(p);
}

/* The writer mirrors the real QE: the PEM chain in a real quote also ends with one NUL byte. */
static void test_real_quote_chain_ends_with_nul(void **state)
{
	uint8_t *q;
	size_t len = 0, sig_len, clen;
	const uint8_t *c;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	q = cocoon_test_vector("sgx/quote.bin", &len);
	assert_non_null(q);
	assert_true(len > 436);
	sig_len = cocoon_le32(q + 432);
	assert_true(sig_len <= len - 436 && sig_len > 128 + 384 + 64 + 2);
	c = q + 436 + 128 + 384 + 64;
	assert_true(cocoon_le16(c) <= sig_len - (128 + 384 + 64 + 2 + 6));
	c += 2 + cocoon_le16(c);
	assert_int_equal(cocoon_le16(c), 5);
	clen = cocoon_le32(c + 2);
	assert_ptr_equal(c + 6 + clen, q + 436 + sig_len);
	assert_int_equal(c[6 + clen - 1], 0);
	assert_int_equal(c[6 + clen - 2], '\n');
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_certificates),
		cmocka_unit_test(test_pki_chains_verify_with_openssl),
		cmocka_unit_test(test_pck_sgx_extension),
		cmocka_unit_test(test_cn_prefix),
		cmocka_unit_test(test_crls_and_reissue),
		cmocka_unit_test(test_quote_layouts),
		cmocka_unit_test(test_quote_params_defaults_and_errors),
		cmocka_unit_test(test_sign_tcb),
		cmocka_unit_test(test_collateral_json),
		cmocka_unit_test(test_pem_certs),
		cmocka_unit_test(test_real_quote_chain_ends_with_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
