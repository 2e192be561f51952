/*
 * SEV-SNP verification: the real Milan vector (go-sev-guest attestation.bin)
 * and reports signed by a test AMD PKI built here with OpenSSL (RSA-2048
 * ARK/ASK/ASVK with RSASSA-PSS/SHA-384, P-384 VCEK/VLEK with the KDS
 * extensions) for what the real vector lacks: v3 and v5 reports, Genoa and
 * Turin, VLEK, CRLs, MASK_CHIP_KEY, provisional firmware, binding errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "testutil.h"
#include "cocoon/snp.h"
#include "snp/snp.h"

#define NOT_BEFORE ((time_t)1704067200) /* 2024-01-01 */
#define NOT_AFTER ((time_t)1893456000)  /* 2030-01-01 */
#define AT ((time_t)1748736000)         /* 2025-06-01 */
#define AT_REAL ((time_t)1735689600)    /* 2025-01-01, inside the real VCEK's validity */

#define assert_rejected(r, check, substr)                                                                   \
	do {                                                                                                \
		assert_false((r)->accepted);                                                                \
		if ((int)(r)->failed_check != (check))                                                      \
			fail_msg("failed_check %s, expected %s (reason: %s)",                               \
			         cocoon_snp_check_name((int)(r)->failed_check), cocoon_snp_check_name(check), \
			         (r)->reason);                                                              \
		if (!strstr((r)->reason, (substr)))                                                         \
			fail_msg("reason \"%s\" lacks \"%s\"", (r)->reason, (substr));                      \
	} while (0)

#define assert_accepted(r)                                                                                  \
	do {                                                                                                \
		if (!(r)->accepted)                                                                         \
			fail_msg("rejected by %s: %s", cocoon_snp_check_name((int)(r)->failed_check),       \
			         (r)->reason);                                                              \
		assert_int_equal((r)->status, COCOON_TCB_UP_TO_DATE);                                      \
		assert_int_equal((r)->tee, COCOON_TEE_SNP);                                                 \
	} while (0)

/* ---------------------------------------------------------------- test PKI */

static EVP_PKEY *ark_key, *ask_key, *rogue_rsa;

typedef struct {
	const char *product_name; /* productName extension */
	int vlek;
	uint8_t bl, tee, snp, ucode, fmc;
	uint8_t hwid[64];
	size_t hwid_len;          /* 0: no hwID extension */
	int hwid_wrapped;         /* DER OCTET STRING instead of KDS's raw bytes */
	const char *csp_id;       /* cspID extension, NULL: none */
	const char *cn;           /* subject CN; NULL: SEV-VCEK / SEV-VLEK */
	const char *curve;        /* NULL: P-384 */
	const EVP_MD *md;         /* leaf signature digest; NULL: SHA-384 */
	int extra_ext;            /* add basicConstraints, outside the KDS profile */
	time_t not_after;         /* 0: NOT_AFTER */
} leaf_spec;

typedef struct {
	X509 *ark, *ask, *leaf;
	EVP_PKEY *leaf_key;
	uint8_t *leaf_der;
	size_t leaf_len;
	char *chain;
	size_t chain_len;
} pki;

static X509_NAME *amd_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	assert_non_null(n);
	assert_true(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "L", MBSTRING_ASC, (const unsigned char *)"Santa Clara", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC, (const unsigned char *)"CA", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Advanced Micro Devices",
	                                       -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0));
	return n;
}

static void add_ext_nconf(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void add_ext_der(X509 *x, const char *oid, const uint8_t *der, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;
	assert_non_null(o);
	assert_true(ASN1_OCTET_STRING_set(os, der, len));
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

static void add_ext_int(X509 *x, const char *oid, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	uint8_t *der = NULL;
	int n;
	assert_true(ASN1_INTEGER_set(i, v));
	n = i2d_ASN1_INTEGER(i, &der);
	assert_true(n > 0);
	add_ext_der(x, oid, der, n);
	OPENSSL_free(der);
	ASN1_INTEGER_free(i);
}

static void add_ext_ia5(X509 *x, const char *oid, const char *s)
{
	ASN1_IA5STRING *a = ASN1_IA5STRING_new();
	uint8_t *der = NULL;
	int n;
	assert_true(ASN1_STRING_set(a, s, -1));
	n = i2d_ASN1_IA5STRING(a, &der);
	assert_true(n > 0);
	add_ext_der(x, oid, der, n);
	OPENSSL_free(der);
	ASN1_IA5STRING_free(a);
}

/* RSASSA-PSS, MGF1 with the same digest, salt = digest length: AMD's scheme. */
static EVP_MD_CTX *pss_ctx(EVP_PKEY *key, const EVP_MD *md)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	assert_non_null(m);
	assert_int_equal(EVP_DigestSignInit(m, &pc, md, NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) > 0);
	return m;
}

static X509 *new_cert(const char *subject_cn, const char *issuer_cn, EVP_PKEY *pub, long serial, time_t not_after)
{
	X509 *x = X509_new();
	X509_NAME *s = amd_name(subject_cn), *i = amd_name(issuer_cn);
	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	assert_true(X509_set_subject_name(x, s));
	assert_true(X509_set_issuer_name(x, i));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), NOT_BEFORE));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), not_after ? not_after : NOT_AFTER));
	assert_true(X509_set_pubkey(x, pub));
	X509_NAME_free(s);
	X509_NAME_free(i);
	return x;
}

static void sign_cert(X509 *x, EVP_PKEY *key, const EVP_MD *md)
{
	EVP_MD_CTX *m = pss_ctx(key, md ? md : EVP_sha384());
	assert_true(X509_sign_ctx(x, m) > 0);
	EVP_MD_CTX_free(m);
}

static X509 *make_ca(const char *subject_cn, const char *issuer_cn, EVP_PKEY *pub, EVP_PKEY *signer, long serial)
{
	X509 *x = new_cert(subject_cn, issuer_cn, pub, serial, 0);
	add_ext_nconf(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext_nconf(x, NID_key_usage, "critical,keyCertSign,cRLSign");
	sign_cert(x, signer, NULL);
	return x;
}

#define KDS "1.3.6.1.4.1.3704.1."

static X509 *make_leaf(const leaf_spec *ls, X509 *ask, EVP_PKEY **key_out, long serial)
{
	char issuer_cn[64];
	int turin = strncmp(ls->product_name, "Turin", 5) == 0;
	EVP_PKEY *key = EVP_EC_gen(ls->curve ? ls->curve : "P-384");
	X509 *x;

	assert_non_null(key);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(ask), NID_commonName, issuer_cn,
	                                      sizeof(issuer_cn)) > 0);
	x = new_cert(ls->cn ? ls->cn : ls->vlek ? "SEV-VLEK" : "SEV-VCEK", issuer_cn, key, serial, ls->not_after);
	add_ext_int(x, KDS "1", 1);
	add_ext_ia5(x, KDS "2", ls->product_name);
	add_ext_int(x, KDS "3.1", ls->bl);
	add_ext_int(x, KDS "3.2", ls->tee);
	if (!turin)
		add_ext_int(x, KDS "3.4", 0);
	add_ext_int(x, KDS "3.5", 0);
	add_ext_int(x, KDS "3.6", 0);
	add_ext_int(x, KDS "3.7", 0);
	add_ext_int(x, KDS "3.3", ls->snp);
	add_ext_int(x, KDS "3.8", ls->ucode);
	if (turin)
		add_ext_int(x, KDS "3.9", ls->fmc);
	if (ls->hwid_len) {
		if (ls->hwid_wrapped) {
			ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
			uint8_t *der = NULL;
			int n;
			assert_true(ASN1_OCTET_STRING_set(os, ls->hwid, (int)ls->hwid_len));
			n = i2d_ASN1_OCTET_STRING(os, &der);
			add_ext_der(x, KDS "4", der, n);
			OPENSSL_free(der);
			ASN1_OCTET_STRING_free(os);
		} else {
			add_ext_der(x, KDS "4", ls->hwid, (int)ls->hwid_len);
		}
	}
	if (ls->csp_id)
		add_ext_ia5(x, KDS "5", ls->csp_id);
	if (ls->extra_ext)
		add_ext_nconf(x, NID_basic_constraints, "CA:FALSE");
	sign_cert(x, ask_key, ls->md);
	*key_out = key;
	return x;
}

static char *pem_of(size_t *len, X509 *a, X509 *b)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;
	assert_true(PEM_write_bio_X509(bio, a));
	if (b)
		assert_true(PEM_write_bio_X509(bio, b));
	n = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return out;
}

/* An ARK and an ASK/ASVK over the shared test keys, and a leaf. */
static void pki_build_named(pki *p, const char *ark_cn, const char *ask_cn, const leaf_spec *ls)
{
	unsigned char *der = NULL;
	int n;

	memset(p, 0, sizeof(*p));
	p->ark = make_ca(ark_cn, ark_cn, ark_key, ark_key, 0x10000);
	p->ask = make_ca(ask_cn, ark_cn, ask_key, ark_key, 0x10001);
	p->leaf = make_leaf(ls, p->ask, &p->leaf_key, 0x4242);
	n = i2d_X509(p->leaf, &der);
	assert_true(n > 0);
	p->leaf_der = der;
	p->leaf_len = (size_t)n;
	p->chain = pem_of(&p->chain_len, p->ask, p->ark);
}

/* ARK-<line> and SEV-<line> (or SEV-VLEK-<line>), as AMD names them. */
static void pki_build(pki *p, const char *line, const leaf_spec *ls)
{
	char ark_cn[32], ask_cn[32];
	snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", line);
	snprintf(ask_cn, sizeof(ask_cn), ls->vlek ? "SEV-VLEK-%s" : "SEV-%s", line);
	pki_build_named(p, ark_cn, ask_cn, ls);
}

static void pki_free(pki *p)
{
	X509_free(p->ark);
	X509_free(p->ask);
	X509_free(p->leaf);
	EVP_PKEY_free(p->leaf_key);
	OPENSSL_free(p->leaf_der);
	free(p->chain);
	memset(p, 0, sizeof(*p));
}

static uint8_t *make_crl(size_t *len, X509 *issuer, EVP_PKEY *key, time_t last, time_t next, long *serials, int n)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t_last = ASN1_TIME_set(NULL, last), *t_next = ASN1_TIME_set(NULL, next);
	EVP_MD_CTX *m;
	uint8_t *der = NULL;
	int dlen;

	assert_true(X509_CRL_set_version(crl, 1));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)));
	assert_true(X509_CRL_set1_lastUpdate(crl, t_last));
	assert_true(X509_CRL_set1_nextUpdate(crl, t_next));
	for (int i = 0; i < n; i++) {
		X509_REVOKED *rv = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		assert_true(ASN1_INTEGER_set(s, serials[i]));
		assert_true(X509_REVOKED_set_serialNumber(rv, s));
		assert_true(X509_REVOKED_set_revocationDate(rv, t_last));
		assert_true(X509_CRL_add0_revoked(crl, rv));
		ASN1_INTEGER_free(s);
	}
	assert_true(X509_CRL_sort(crl));
	m = pss_ctx(key, EVP_sha384());
	assert_true(X509_CRL_sign_ctx(crl, m) > 0);
	dlen = i2d_X509_CRL(crl, &der);
	assert_true(dlen > 0);
	*len = (size_t)dlen;
	EVP_MD_CTX_free(m);
	ASN1_TIME_free(t_last);
	ASN1_TIME_free(t_next);
	X509_CRL_free(crl);
	return der;
}

/* ---------------------------------------------------------------- reports */

static uint64_t tcb_milan(uint8_t bl, uint8_t tee, uint8_t snp, uint8_t ucode)
{
	return (uint64_t)bl | ((uint64_t)tee << 8) | ((uint64_t)snp << 48) | ((uint64_t)ucode << 56);
}

static uint64_t tcb_turin(uint8_t fmc, uint8_t bl, uint8_t tee, uint8_t snp, uint8_t ucode)
{
	return (uint64_t)fmc | ((uint64_t)bl << 8) | ((uint64_t)tee << 16) | ((uint64_t)snp << 24) |
	       ((uint64_t)ucode << 56);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A well-formed report; only the signature is missing. */
static void report_init(uint8_t rep[COCOON_SNP_REPORT_SIZE], uint32_t version, uint8_t fam, uint8_t model,
                        uint64_t tcb, int signer, const uint8_t *chip, size_t chip_len)
{
	memset(rep, 0, COCOON_SNP_REPORT_SIZE);
	cocoon_put_le32(rep + 0x000, version);
	cocoon_put_le32(rep + 0x004, 3);                       /* GUEST_SVN */
	put64(rep + 0x008, 0x30000ull | (1u << 8) | 55);       /* SMT, reserved-1, ABI 1.55 */
	memset(rep + 0x010, 0xf1, 16);                         /* FAMILY_ID */
	memset(rep + 0x020, 0x1d, 16);                         /* IMAGE_ID */
	cocoon_put_le32(rep + 0x034, 1);
	put64(rep + 0x038, tcb);
	put64(rep + 0x040, 0x3);                               /* SMT_EN, TSME_EN */
	cocoon_put_le32(rep + 0x048, (uint32_t)signer << 2);
	for (int i = 0; i < 64; i++)
		rep[0x050 + i] = (uint8_t)i;                   /* REPORT_DATA */
	memset(rep + 0x090, 0xa5, 48);                         /* MEASUREMENT */
	memset(rep + 0x0C0, 0x4d, 32);                         /* HOST_DATA */
	memset(rep + 0x140, 0x77, 32);                         /* REPORT_ID */
	memset(rep + 0x160, 0xff, 32);                         /* REPORT_ID_MA */
	put64(rep + 0x180, tcb);
	if (version >= 3) {
		rep[0x188] = fam;
		rep[0x189] = model;
		rep[0x18A] = 1;
	}
	if (chip)
		memcpy(rep + 0x1A0, chip, chip_len);
	put64(rep + 0x1E0, tcb);
	rep[0x1E8] = 21; /* build 21, version 1.55 */
	rep[0x1E9] = 55;
	rep[0x1EA] = 1;
	rep[0x1EC] = 21;
	rep[0x1ED] = 55;
	rep[0x1EE] = 1;
	put64(rep + 0x1F0, tcb);
	if (version >= 5) {
		put64(rep + 0x1F8, 0x3);
		put64(rep + 0x200, 0x7);
	}
}

/* ECDSA P-384/SHA-384 over [0, 0x2A0), R and S little-endian in 72-byte fields. */
static void report_sign(uint8_t rep[COCOON_SNP_REPORT_SIZE], EVP_PKEY *key)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t der[128];
	const uint8_t *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;

	assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(m, der, &dlen, rep, 0x2A0), 1);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	assert_non_null(sig);
	ECDSA_SIG_get0(sig, &r, &s);
	memset(rep + 0x2A0, 0, 144);
	assert_int_equal(BN_bn2lebinpad(r, rep + 0x2A0, 72), 72);
	assert_int_equal(BN_bn2lebinpad(s, rep + 0x2E8, 72), 72);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(m);
}

static int verify(cocoon_result *r, const uint8_t *rep, const pki *p, const uint8_t *crl, size_t crl_len,
                  const cocoon_snp_policy *pol, const char *product)
{
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	in.vcek = p->leaf_der;
	in.vcek_len = p->leaf_len;
	in.chain = (const uint8_t *)p->chain;
	in.chain_len = p->chain_len;
	in.crl = crl;
	in.crl_len = crl_len;
	in.product = product;
	o.at = AT;
	return cocoon_verifier_verify_snp(r, NULL, rep, COCOON_SNP_REPORT_SIZE, &in, pol, &o);
}

/* The fixtures every generated test starts from. */
static const uint8_t milan_hwid[64] = { 0xc1, 0x1b, 0x0d, 0x3e, [63] = 0x9a };
static const uint8_t turin_hwid[8] = { 0x70, 0x72, 0x69, 0x6e, 0x55, 0x44, 0x33, 0x22 };
static pki milan, genoa, turin, milan_vlek;

static leaf_spec milan_spec(void)
{
	leaf_spec ls = { .product_name = "Milan-B0", .bl = 3, .tee = 0, .snp = 8, .ucode = 115, .hwid_len = 64 };
	memcpy(ls.hwid, milan_hwid, 64);
	return ls;
}

static int group_setup(void **state)
{
	leaf_spec ls;
	(void)state;
	ark_key = EVP_RSA_gen(2048);
	ask_key = EVP_RSA_gen(2048);
	rogue_rsa = EVP_RSA_gen(2048);
	if (!ark_key || !ask_key || !rogue_rsa)
		return -1;
	ls = milan_spec();
	pki_build(&milan, "Milan", &ls);
	ls = (leaf_spec){ .product_name = "Genoa-B1", .bl = 9, .tee = 0, .snp = 21, .ucode = 0xd1, .hwid_len = 64,
	                  .hwid_wrapped = 1 };
	memset(ls.hwid, 0x6e, 64);
	pki_build(&genoa, "Genoa", &ls);
	ls = (leaf_spec){ .product_name = "Turin-B0", .bl = 4, .tee = 1, .snp = 3, .ucode = 0x40, .fmc = 2,
	                  .hwid_len = 8 };
	memcpy(ls.hwid, turin_hwid, 8);
	pki_build(&turin, "Turin", &ls);
	ls = (leaf_spec){ .product_name = "Milan", .vlek = 1, .bl = 3, .tee = 0, .snp = 8, .ucode = 115,
	                  .csp_id = "cocoon-test-csp" };
	pki_build(&milan_vlek, "Milan", &ls);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_free(&milan);
	pki_free(&genoa);
	pki_free(&turin);
	pki_free(&milan_vlek);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	EVP_PKEY_free(rogue_rsa);
	return 0;
}

static void milan_report(uint8_t rep[COCOON_SNP_REPORT_SIZE], uint32_t version)
{
	report_init(rep, version, 0x19, 0x01, tcb_milan(3, 0, 8, 115), COCOON_SNP_SIGNER_VCEK, milan_hwid, 64);
}

/* ------------------------------------------------------- real vector tests */

typedef struct {
	uint8_t *report, *vcek, *chain, *genoa_chain;
	size_t report_len, vcek_len, chain_len, genoa_chain_len;
} real_vec;

static void real_load(real_vec *v)
{
	memset(v, 0, sizeof(*v));
	v->report = cocoon_test_vector("snp/report.bin", &v->report_len);
	v->vcek = cocoon_test_vector("snp/vcek.der", &v->vcek_len);
	v->chain = cocoon_test_vector("snp/ask-ark-milan.pem", &v->chain_len);
	v->genoa_chain = cocoon_test_vector("roots/amd-ask_ark_genoa.pem", &v->genoa_chain_len);
	assert_non_null(v->report);
	assert_non_null(v->vcek);
	assert_non_null(v->chain);
	assert_non_null(v->genoa_chain);
}

static void real_free(real_vec *v)
{
	free(v->report);
	free(v->vcek);
	free(v->chain);
	free(v->genoa_chain);
}

static int real_verify(cocoon_result *r, const real_vec *v, const uint8_t *report, size_t len, time_t at,
                       int allow_debug, const uint8_t *chain, size_t chain_len, const char *product)
{
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	in.vcek = v->vcek;
	in.vcek_len = v->vcek_len;
	in.chain = chain;
	in.chain_len = chain_len;
	in.product = product;
	o.at = at;
	o.allow_debug = allow_debug;
	return cocoon_verifier_verify_snp(r, NULL, report, len, &in, NULL, &o);
}

static void test_real_default_policy_rejects_debug(void **state)
{
	real_vec v;
	cocoon_result r;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, AT_REAL, 0, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_POLICY_DEBUG, "DEBUG (bit 19");
	assert_non_null(strstr(r.reason, "expected 0, actual 1"));
	assert_true(r.has_claims);
	assert_true(r.snp.debug);
	real_free(&v);
}

static void test_real_allow_debug_accepts(void **state)
{
	real_vec v;
	cocoon_result r;
	json_t *o;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	/* Embedded Milan roots (chain NULL): the product comes from productName "Milan-B0". */
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, AT_REAL, 1, NULL, 0, NULL), 0);
	assert_accepted(&r);
	assert_string_equal(r.snp.product, "Milan");
	assert_int_equal(r.snp.signer, COCOON_SNP_SIGNER_VCEK);
	assert_int_equal(r.quote_version, 2);
	assert_int_equal(r.verified_at, AT_REAL);
	assert_int_equal(r.snp.reported_tcb.snp_spl, 5);
	assert_int_equal(r.snp.reported_tcb.ucode_spl, 0x44);
	assert_int_equal(r.snp.measurement[0], 0xb0);

	o = json_object();
	assert_int_equal(cocoon_snp_claims_to_json(o, &r.snp), 0);
	assert_string_equal(json_string_value(json_object_get(o, "signer")), "vcek");
	assert_string_equal(json_string_value(json_object_get(o, "product")), "Milan");
	assert_true(json_is_true(json_object_get(json_object_get(o, "policy"), "debug")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "reported_tcb"), "raw")),
	                    "0x4405000000000002");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "current_tcb"), "snp")), 5);
	assert_null(json_object_get(json_object_get(o, "current_tcb"), "fmc"));
	assert_string_equal(json_string_value(json_object_get(o, "measurement")),
	                    "b07af9620f3b839b47996422ddec6058338951d984e31211"
	                    "5131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
	json_decref(o);

	/* The shared result writer carries the SNP claims of an accepted report. */
	{
		char *js = NULL;
		assert_int_equal(cocoon_result_to_json(&js, &r), 0);
		assert_non_null(strstr(js, "\"verdict\": \"accept\""));
		assert_non_null(strstr(js, "\"signer\": \"vcek\""));
		assert_non_null(strstr(js, "\"product\": \"Milan\""));
		free(js);
	}

	/* The same through the caller's policy and an explicit ASK+ARK. */
	{
		cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
		cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
		cocoon_verify_options opt = COCOON_VERIFY_OPTIONS_INIT;
		in.vcek = v.vcek;
		in.vcek_len = v.vcek_len;
		in.chain = v.chain;
		in.chain_len = v.chain_len;
		in.product = "milan";
		pol.allow_debug = 1;
		opt.at = AT_REAL;
		assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, &pol, &opt), 0);
		assert_accepted(&r);
	}
	real_free(&v);
}

static void test_real_tampering_breaks_signature(void **state)
{
	static const struct {
		size_t off;
		const char *what;
	} flips[] = {
		{ 0x090, "MEASUREMENT" }, { 0x180, "REPORTED_TCB" }, { 0x1A0, "CHIP_ID" },
		{ 0x050, "REPORT_DATA" }, { 0x2A0, "signature R" },   { 0x2E8, "signature S" },
	};
	real_vec v;
	cocoon_result r;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		uint8_t copy[COCOON_SNP_REPORT_SIZE];
		memcpy(copy, v.report, sizeof(copy));
		copy[flips[i].off] ^= 0x01;
		assert_int_equal(real_verify(&r, &v, copy, sizeof(copy), AT_REAL, 1, NULL, 0, NULL), 0);
		if ((int)r.failed_check != COCOON_CHECK_SNP_SIGNATURE)
			fail_msg("flipping %s: %s", flips[i].what, r.reason);
		assert_rejected(&r, COCOON_CHECK_SNP_SIGNATURE, "does not verify with the VCEK key");
	}
	/* A non-zero byte above the 48-byte scalar is not a P-384 signature. */
	{
		uint8_t copy[COCOON_SNP_REPORT_SIZE];
		memcpy(copy, v.report, sizeof(copy));
		copy[0x2A0 + 60] = 1;
		assert_int_equal(real_verify(&r, &v, copy, sizeof(copy), AT_REAL, 1, NULL, 0, NULL), 0);
		assert_rejected(&r, COCOON_CHECK_SNP_SIGNATURE, "report signature");
	}
	real_free(&v);
}

static void test_real_truncated_and_extended(void **state)
{
	real_vec v;
	cocoon_result r;
	uint8_t *longer;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len - 1, AT_REAL, 1, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "1183 bytes");
	assert_false(r.has_claims);
	assert_int_equal(real_verify(&r, &v, v.report, 672, AT_REAL, 1, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "672 bytes");
	longer = calloc(1, v.report_len + 24);
	memcpy(longer, v.report, v.report_len);
	assert_int_equal(real_verify(&r, &v, longer, v.report_len + 24, AT_REAL, 1, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "exactly 1184 bytes");
	free(longer);
	real_free(&v);
}

static void test_real_wrong_product_roots(void **state)
{
	real_vec v;
	cocoon_result r;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, AT_REAL, 1, v.genoa_chain, v.genoa_chain_len,
	                             NULL),
	                 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain to the trusted ARK");
	/* Saying "Genoa" for a Milan VCEK is a product mismatch. */
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, AT_REAL, 1, NULL, 0, "Genoa"), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PRODUCT, "expected Genoa (caller), actual Milan");
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, AT_REAL, 1, NULL, 0, "Rome"), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PRODUCT, "\"Rome\"");
	real_free(&v);
}

static void test_real_time(void **state)
{
	real_vec v;
	cocoon_result r;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	/* The VCEK is valid 2022-09-24 .. 2029-09-24. */
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, (time_t)1893456000, 1, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "VCEK certificate: certificate has expired");
	assert_non_null(strstr(r.reason, "2029-09-24"));
	assert_int_equal(real_verify(&r, &v, v.report, v.report_len, (time_t)1640995200, 1, NULL, 0, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "not yet valid");
	real_free(&v);
}

static void test_real_cert_sources(void **state)
{
	real_vec v;
	cocoon_result r;
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	uint8_t *table;
	size_t table_len;
	BIO *bio;
	X509 *x;
	const unsigned char *p;
	char *pem;
	long pem_len;
	static const uint8_t vcek_guid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	o.at = AT_REAL;
	o.allow_debug = 1;

	/* The VCEK shipped in an extended report's certificate table. */
	table_len = 48 + v.vcek_len;
	table = calloc(1, table_len);
	memcpy(table, vcek_guid, 16);
	cocoon_put_le32(table + 16, 48);
	cocoon_put_le32(table + 20, (uint32_t)v.vcek_len);
	memcpy(table + 48, v.vcek, v.vcek_len);
	in.certs = table;
	in.certs_len = table_len;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, NULL, &o), 0);
	assert_accepted(&r);
	/* A table without the VCEK entry. */
	table[0] ^= 0xff;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, NULL, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "no VCEK entry");
	/* A table whose entry runs past the buffer. */
	table[0] ^= 0xff;
	in.certs_len = table_len - 1;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, NULL, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "ends past the");
	free(table);

	/* PEM works as well as DER. */
	p = v.vcek;
	x = d2i_X509(NULL, &p, (long)v.vcek_len);
	assert_non_null(x);
	bio = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_X509(bio, x));
	pem_len = BIO_get_mem_data(bio, &pem);
	memset(&in, 0, sizeof(in));
	in.version = COCOON_SNP_INPUTS_VERSION;
	in.vcek = (const uint8_t *)pem;
	in.vcek_len = (size_t)pem_len;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, NULL, &o), 0);
	assert_accepted(&r);
	BIO_free(bio);
	X509_free(x);

	/* Garbage, and nothing at all. */
	in.vcek = v.report;
	in.vcek_len = 100;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, NULL, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "neither DER nor PEM");
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, NULL, NULL, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "no VCEK/VLEK certificate");
	real_free(&v);
}

static void test_real_expected_values(void **state)
{
	real_vec v;
	cocoon_result r;
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	static const char meas[] =
		"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01";
	(void)state;
	COCOON_REQUIRE_VECTORS();
	real_load(&v);
	in.vcek = v.vcek;
	in.vcek_len = v.vcek_len;
	o.at = AT_REAL;
	pol.allow_debug = 1;
	pol.has_measurement = 1;
	assert_int_equal(cocoon_hex_decode(pol.measurement, 48, meas, 96), 0);
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, &pol, &o), 0);
	assert_accepted(&r);
	pol.measurement[47] ^= 1;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, v.report, v.report_len, &in, &pol, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_MEASUREMENT, "MEASUREMENT (offset 0x090): expected ");
	assert_non_null(strstr(r.reason, "2b00, actual "));
	assert_non_null(strstr(r.reason, meas));
	real_free(&v);
}

/* -------------------------------------------------------- generated tests */

static void test_gen_v3_genoa_accepts(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE], chip[64];
	cocoon_result r;
	(void)state;
	memset(chip, 0x6e, 64);
	report_init(rep, 3, 0x19, 0x11, tcb_milan(9, 0, 21, 0xd1), COCOON_SNP_SIGNER_VCEK, chip, 64);
	report_sign(rep, genoa.leaf_key);
	assert_int_equal(verify(&r, rep, &genoa, NULL, 0, NULL, NULL), 0);
	assert_accepted(&r);
	assert_string_equal(r.snp.product, "Genoa");
	assert_int_equal(r.quote_version, 3);
	assert_true(r.snp.has_cpuid);
	assert_int_equal(r.snp.cpuid_mod_id, 0x11);
	assert_int_equal(r.snp.reported_tcb.ucode_spl, 0xd1);
	assert_int_equal(r.snp.current_major, 1);
	assert_int_equal(r.snp.current_minor, 55);

	/* A v3 report from a Milan CPU with a Genoa VCEK. */
	report_init(rep, 3, 0x19, 0x01, tcb_milan(9, 0, 21, 0xd1), COCOON_SNP_SIGNER_VCEK, chip, 64);
	report_sign(rep, genoa.leaf_key);
	assert_int_equal(verify(&r, rep, &genoa, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PRODUCT, "from a Milan (CPUID family 0x19 model 0x01) but the VCEK is for Genoa");

	/* An unknown CPU model needs the caller to name the product. */
	report_init(rep, 3, 0x19, 0xa0, tcb_milan(9, 0, 21, 0xd1), COCOON_SNP_SIGNER_VCEK, chip, 64);
	report_sign(rep, genoa.leaf_key);
	assert_int_equal(verify(&r, rep, &genoa, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PRODUCT, "model 0xa0");
	assert_int_equal(verify(&r, rep, &genoa, NULL, 0, NULL, "Genoa"), 0);
	assert_accepted(&r);
	assert_int_equal(verify(&r, rep, &genoa, NULL, 0, NULL, "Milan"), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PRODUCT, "VCEK is for Genoa");
}

static void test_gen_v5_turin_accepts(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	uint64_t tcb = tcb_turin(2, 4, 1, 3, 0x40);
	cocoon_result r;
	json_t *o;
	(void)state;
	/* Turin: FMC byte in the TCB, 8-byte hwID matching the start of CHIP_ID. */
	report_init(rep, 5, 0x1A, 0x02, tcb, COCOON_SNP_SIGNER_VCEK, turin_hwid, 8);
	memset(rep + 0x1A0 + 8, 0x5c, 56);
	report_sign(rep, turin.leaf_key);
	assert_int_equal(verify(&r, rep, &turin, NULL, 0, NULL, NULL), 0);
	assert_accepted(&r);
	assert_string_equal(r.snp.product, "Turin");
	assert_true(r.snp.reported_tcb.has_fmc);
	assert_int_equal(r.snp.reported_tcb.fmc_spl, 2);
	assert_int_equal(r.snp.reported_tcb.bl_spl, 4);
	assert_int_equal(r.snp.reported_tcb.snp_spl, 3);
	assert_true(r.snp.has_mit_vectors);
	assert_int_equal(r.snp.current_mit_vector, 7);
	o = json_object();
	assert_int_equal(cocoon_snp_claims_to_json(o, &r.snp), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "launch_tcb"), "fmc")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "current_mit_vector")), "0x0000000000000007");
	json_decref(o);

	/* A different chip: the first 8 bytes are the Turin hwID. */
	rep[0x1A0 + 7] ^= 0x80;
	report_sign(rep, turin.leaf_key);
	assert_int_equal(verify(&r, rep, &turin, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CHIP_ID, "first 8 bytes on Turin");

	/* The minimum FMC SPL applies on Turin. */
	{
		cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
		report_init(rep, 5, 0x1A, 0x02, tcb, COCOON_SNP_SIGNER_VCEK, turin_hwid, 8);
		report_sign(rep, turin.leaf_key);
		pol.min_tcb.fmc = 3;
		assert_int_equal(verify(&r, rep, &turin, NULL, 0, &pol, NULL), 0);
		assert_rejected(&r, COCOON_CHECK_SNP_MIN_TCB, "CURRENT_TCB fmc SPL: expected >= 3, actual 2");
	}
}

static void test_gen_vlek(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	(void)state;
	report_init(rep, 3, 0x19, 0x01, tcb_milan(3, 0, 8, 115), COCOON_SNP_SIGNER_VLEK, NULL, 0);
	report_sign(rep, milan_vlek.leaf_key);
	assert_int_equal(verify(&r, rep, &milan_vlek, NULL, 0, NULL, NULL), 0);
	assert_accepted(&r);
	assert_int_equal(r.snp.signer, COCOON_SNP_SIGNER_VLEK);
	/* A VLEK signature checked against a VCEK, and the reverse. */
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_PROFILE, "SIGNING_KEY (offset 0x048): expected VCEK");
	milan_report(rep, 3);
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan_vlek, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_PROFILE, "expected VLEK");
	/* An unsigned report proves nothing. */
	cocoon_put_le32(rep + 0x048, COCOON_SNP_SIGNER_NONE << 2);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_SIGNATURE, "unsigned");
}

static void test_gen_crl(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	uint8_t *crl;
	size_t crl_len;
	long serials[2];
	(void)state;
	milan_report(rep, 3);
	report_sign(rep, milan.leaf_key);

	/* A fresh CRL listing neither key. */
	serials[0] = 0x777;
	crl = make_crl(&crl_len, milan.ark, ark_key, AT - 86400, AT + 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_accepted(&r);
	OPENSSL_free(crl);

	/* The VCEK revoked. */
	serials[1] = 0x4242;
	crl = make_crl(&crl_len, milan.ark, ark_key, AT - 86400, AT + 86400, serials, 2);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CERT_REVOKED, "VCEK certificate (serial 0x4242) is revoked");
	OPENSSL_free(crl);

	/* The ASK revoked. */
	serials[0] = 0x10001;
	crl = make_crl(&crl_len, milan.ark, ark_key, AT - 86400, AT + 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CERT_REVOKED, "ASK certificate (serial 0x010001) is revoked");
	OPENSSL_free(crl);

	/* Stale, and not yet issued. */
	serials[0] = 0x777;
	crl = make_crl(&crl_len, milan.ark, ark_key, AT - 2 * 86400, AT - 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "stale");
	OPENSSL_free(crl);
	crl = make_crl(&crl_len, milan.ark, ark_key, AT + 86400, AT + 2 * 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "after the verification time");
	OPENSSL_free(crl);

	/* Signed by another key under the ARK's name (go-sev-guest TestCRLRootValidity). */
	crl = make_crl(&crl_len, milan.ark, rogue_rsa, AT - 86400, AT + 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "not issued and signed by the trusted ARK");
	OPENSSL_free(crl);
	/* Issued by the ASK. */
	crl = make_crl(&crl_len, milan.ask, ask_key, AT - 86400, AT + 86400, serials, 1);
	assert_int_equal(verify(&r, rep, &milan, crl, crl_len, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "not issued and signed by the trusted ARK");
	OPENSSL_free(crl);
	/* Not a CRL. */
	assert_int_equal(verify(&r, rep, &milan, (const uint8_t *)"\x30\x03\x02\x01\x01", 5, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "neither a DER nor a PEM");
}

static void test_gen_mask_chip_key(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	json_t *o;
	(void)state;
	report_init(rep, 3, 0x19, 0x01, tcb_milan(3, 0, 8, 115), COCOON_SNP_SIGNER_VCEK, NULL, 0);
	cocoon_put_le32(rep + 0x048, (COCOON_SNP_SIGNER_VCEK << 2) | 2);
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_accepted(&r);
	assert_true(r.snp.chip_id_masked);
	o = json_object();
	assert_int_equal(cocoon_snp_claims_to_json(o, &r.snp), 0);
	assert_true(json_is_null(json_object_get(o, "chip_id")));
	assert_true(json_is_true(json_object_get(o, "chip_id_masked")));
	json_decref(o);
	/* Masked, yet a CHIP_ID is present. */
	rep[0x1A0] = 1;
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "MASK_CHIP_KEY is set but CHIP_ID");
}

static void test_gen_binding(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	(void)state;
	/* Another chip. */
	milan_report(rep, 2);
	rep[0x1A0 + 63] ^= 1;
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CHIP_ID, "CHIP_ID (offset 0x1A0): expected c11b0d3e");
	/* A REPORTED_TCB the VCEK was not issued for. */
	milan_report(rep, 2);
	put64(rep + 0x180, tcb_milan(3, 0, 7, 115));
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_TCB_BINDING,
	                "REPORTED_TCB (offset 0x180): expected 0x7308000000000003 (bl=3 tee=0 snp=8 microcode=115");
	assert_non_null(strstr(r.reason, "actual 0x7307000000000003 (bl=3 tee=0 snp=7 microcode=115)"));
	/* CURRENT_TCB below the reported one. */
	milan_report(rep, 2);
	put64(rep + 0x038, tcb_milan(3, 0, 7, 115));
	put64(rep + 0x1E0, tcb_milan(3, 0, 7, 115));
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_TCB_BINDING, "exceeds CURRENT_TCB");
	/* Signed by a key that is not the VCEK's. */
	milan_report(rep, 2);
	report_sign(rep, genoa.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_SIGNATURE, "does not verify");
}

static void test_gen_provisional_firmware(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	cocoon_result r;
	(void)state;
	/* Running newer firmware than committed: CURRENT above COMMITTED. */
	milan_report(rep, 3);
	put64(rep + 0x038, tcb_milan(3, 0, 9, 115));
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
	                "COMMITTED_TCB (offset 0x1E0): expected CURRENT_TCB 0x7309000000000003");
	pol.allow_provisional_firmware = 1;
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, &pol, NULL), 0);
	assert_accepted(&r);
	/* Same TCB, newer build. */
	milan_report(rep, 3);
	rep[0x1E8] = 22;
	report_sign(rep, milan.leaf_key);
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE, "expected the current 1.55 build 22, actual 1.55 build 21");
	assert_int_equal(verify(&r, rep, &milan, NULL, 0, &pol, NULL), 0);
	assert_accepted(&r);
}

static void profile_case(const leaf_spec *ls, int check, const char *substr)
{
	pki p;
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	pki_build(&p, "Milan", ls);
	milan_report(rep, 3);
	if (ls->vlek)
		cocoon_put_le32(rep + 0x048, COCOON_SNP_SIGNER_VLEK << 2);
	report_sign(rep, p.leaf_key);
	assert_int_equal(verify(&r, rep, &p, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, check, substr);
	pki_free(&p);
}

static void test_gen_vcek_profile(void **state)
{
	leaf_spec ls;
	(void)state;
	ls = milan_spec();
	ls.csp_id = "csp";
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "cspID");
	ls = milan_spec();
	ls.hwid_len = 0;
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "hwID (1.3.6.1.4.1.3704.1.4) is missing");
	ls = milan_spec();
	ls.hwid_len = 32;
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "must hold 64 bytes for Milan");
	ls = milan_spec();
	ls.cn = "SEV-XYZ";
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "subject CN is \"SEV-XYZ\"");
	ls = milan_spec();
	ls.curve = "P-256";
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "P-384");
	ls = milan_spec();
	ls.product_name = "Rome-B0";
	profile_case(&ls, COCOON_CHECK_SNP_PRODUCT, "productName \"Rome-B0\"");
	ls = milan_spec();
	ls.extra_ext = 1;
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "unexpected extension");
	ls = milan_spec();
	ls.md = EVP_sha256();
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_CHAIN, "expected RSASSA-PSS with SHA-384");
	ls = milan_spec();
	ls.not_after = AT - 1;
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_CHAIN, "VCEK certificate: certificate has expired");
	/* VLEKs carry cspID instead of hwID. */
	ls = (leaf_spec){ .product_name = "Milan", .vlek = 1, .bl = 3, .snp = 8, .ucode = 115, .hwid_len = 64 };
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "VLEK certificate: has a hwID extension");
	ls = (leaf_spec){ .product_name = "Milan", .vlek = 1, .bl = 3, .snp = 8, .ucode = 115 };
	profile_case(&ls, COCOON_CHECK_SNP_VCEK_PROFILE, "cspID (1.3.6.1.4.1.3704.1.5) is missing");
}

static void test_gen_chain_profile(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_result r;
	pki p = milan;
	X509 *ark;
	(void)state;
	milan_report(rep, 3);
	report_sign(rep, milan.leaf_key);

	/* Only the ASK (no ARK), and three certificates. */
	p.chain = pem_of(&p.chain_len, milan.ask, NULL);
	assert_int_equal(verify(&r, rep, &p, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "has 1 certificates, expected 2");
	free(p.chain);
	/* An ARK whose key did not sign the ASK. */
	ark = make_ca("ARK-Milan", "ARK-Milan", rogue_rsa, rogue_rsa, 0x10000);
	p.chain = pem_of(&p.chain_len, milan.ask, ark);
	assert_int_equal(verify(&r, rep, &p, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "ASK certificate does not chain to the trusted ARK");
	free(p.chain);
	X509_free(ark);
	/* A consistent chain whose names do not fit the VCEK's product line or kind. */
	{
		leaf_spec ls = milan_spec();
		pki q;
		pki_build_named(&q, "ARK-Genoa", "SEV-Genoa", &ls);
		milan_report(rep, 3);
		report_sign(rep, q.leaf_key);
		assert_int_equal(verify(&r, rep, &q, NULL, 0, NULL, NULL), 0);
		assert_rejected(&r, COCOON_CHECK_SNP_VCEK_PROFILE, "ARK subject CN is \"ARK-Genoa\", expected \"ARK-Milan\"");
		pki_free(&q);
		ls = (leaf_spec){ .product_name = "Milan", .vlek = 1, .bl = 3, .snp = 8, .ucode = 115, .csp_id = "csp" };
		pki_build_named(&q, "ARK-Milan", "SEV-Milan", &ls);
		cocoon_put_le32(rep + 0x048, COCOON_SNP_SIGNER_VLEK << 2);
		report_sign(rep, q.leaf_key);
		assert_int_equal(verify(&r, rep, &q, NULL, 0, NULL, NULL), 0);
		assert_rejected(&r, COCOON_CHECK_SNP_VCEK_PROFILE,
		                "ASVK subject CN is \"SEV-Milan\", expected \"SEV-VLEK-Milan\"");
		pki_free(&q);
	}
	/* Milan-named certificates presented for a Genoa VCEK. */
	p = genoa;
	p.chain = milan.chain;
	p.chain_len = milan.chain_len;
	{
		uint8_t chip[64];
		memset(chip, 0x6e, 64);
		report_init(rep, 3, 0x19, 0x11, tcb_milan(9, 0, 21, 0xd1), COCOON_SNP_SIGNER_VCEK, chip, 64);
		report_sign(rep, genoa.leaf_key);
	}
	assert_int_equal(verify(&r, rep, &p, NULL, 0, NULL, NULL), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain");
}

static void test_gen_cached_path(void **state)
{
	cocoon_snp_vcek_verified *vv = NULL;
	cocoon_failure f = { 0 };
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], k1[32], k2[32], k3[32];
	uint8_t *crl;
	size_t crl_len;
	long serial = 0x777;
	cocoon_result r;
	(void)state;

	crl = make_crl(&crl_len, milan.ark, ark_key, AT - 86400, AT + 86400, &serial, 1);
	assert_int_equal(cocoon_snp_vcek_verify(&vv, &f, milan.leaf_der, milan.leaf_len,
	                                        (const uint8_t *)milan.chain, milan.chain_len, crl, crl_len, AT),
	                 0);
	assert_non_null(vv);
	assert_int_equal(vv->signer, COCOON_SNP_SIGNER_VCEK);
	assert_int_equal(vv->product, COCOON_SNP_PRODUCT_MILAN);
	assert_true(vv->crl_checked);
	/* The window is the intersection of the certificates and the CRL. */
	assert_int_equal(vv->valid_from, AT - 86400);
	assert_int_equal(vv->valid_until, AT + 86400);

	/* Many reports, one chain verification. */
	o.at = AT;
	for (int i = 0; i < 3; i++) {
		milan_report(rep, 2 + (uint32_t)i);
		rep[0x050] = (uint8_t)i;
		report_sign(rep, milan.leaf_key);
		assert_int_equal(cocoon_snp_verify_report_with(&r, vv, rep, sizeof(rep), NULL, NULL, &o), 0);
		assert_accepted(&r);
		assert_int_equal(r.snp.report_data[0], i);
	}
	pol.has_report_data = 1;
	memcpy(pol.report_data, rep + 0x050, 64);
	pol.report_data[1] ^= 0xff;
	assert_int_equal(cocoon_snp_verify_report_with(&r, vv, rep, sizeof(rep), NULL, &pol, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_REPORT_DATA, "REPORT_DATA (offset 0x050): expected 02fe");
	/* A cached entry used after the CRL's nextUpdate is refused. */
	o.at = AT + 2 * 86400;
	assert_int_equal(cocoon_snp_verify_report_with(&r, vv, rep, sizeof(rep), NULL, NULL, &o), 0);
	assert_rejected(&r, COCOON_CHECK_SNP_CRL, "outside the window");
	cocoon_snp_vcek_put(vv);

	/* Cache keys cover the exact bytes of each input. */
	assert_int_equal(cocoon_snp_vcek_cache_key(k1, milan.leaf_der, milan.leaf_len, (const uint8_t *)milan.chain,
	                                           milan.chain_len, crl, crl_len),
	                 0);
	assert_int_equal(cocoon_snp_vcek_cache_key(k2, milan.leaf_der, milan.leaf_len, (const uint8_t *)milan.chain,
	                                           milan.chain_len, crl, crl_len),
	                 0);
	assert_memory_equal(k1, k2, 32);
	assert_int_equal(cocoon_snp_vcek_cache_key(k3, milan.leaf_der, milan.leaf_len, (const uint8_t *)milan.chain,
	                                           milan.chain_len, NULL, 0),
	                 0);
	assert_memory_not_equal(k1, k3, 32);
	assert_int_equal(cocoon_snp_vcek_cache_key(k3, milan.leaf_der, milan.leaf_len, NULL, 0, NULL, 0), 0);
	assert_memory_not_equal(k1, k3, 32);
	OPENSSL_free(crl);

	/* A failed chain yields no entry. */
	assert_int_equal(cocoon_snp_vcek_verify(&vv, &f, milan.leaf_der, milan.leaf_len,
	                                        (const uint8_t *)genoa.chain, genoa.chain_len, NULL, 0, AT),
	                 COCOON_EREJECT);
	assert_null(vv);
	assert_int_equal((int)f.check, COCOON_CHECK_SNP_VCEK_CHAIN);
}

static void test_gen_api_errors(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	(void)state;
	milan_report(rep, 3);
	assert_int_equal(cocoon_verifier_verify_snp(NULL, NULL, rep, sizeof(rep), &in, NULL, &o), COCOON_EINVAL);
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, NULL, 0, &in, NULL, &o), COCOON_EINVAL);
	in.version = 99;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, rep, sizeof(rep), &in, NULL, &o), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "COCOON_SNP_INPUTS_INIT"));
	in.version = COCOON_SNP_INPUTS_VERSION;
	pol.version = 0;
	assert_int_equal(cocoon_verifier_verify_snp(&r, NULL, rep, sizeof(rep), &in, &pol, &o), COCOON_EINVAL);
	assert_string_equal(cocoon_snp_check_name(COCOON_CHECK_SNP_VCEK_CHAIN), "snp_vcek_chain");
	assert_string_equal(cocoon_snp_check_name(COCOON_CHECK_SNP_AUTHOR_KEY), "snp_author_key");
	assert_string_equal(cocoon_snp_check_name(COCOON_CHECK_NONE), "none");
}

/* The cache key attestd files a VCEK under is the report's own CHIP_ID and REPORTED_TCB. */
static void test_vcek_identify(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	cocoon_snp_vcek_id id;
	size_t rlen, vlen;
	uint8_t *report = cocoon_test_vector("snp/report.bin", &rlen);
	uint8_t *vcek = cocoon_test_vector("snp/vcek.der", &vlen);
	uint64_t reported_tcb = 0;

	assert_int_equal(cocoon_snp_vcek_identify(&id, vcek, vlen), 0);
	assert_int_equal(id.chip_id_len, 64);
	assert_memory_equal(id.chip_id, report + 0x1A0, 64);
	for (int i = 7; i >= 0; i--)
		reported_tcb = reported_tcb << 8 | report[0x180 + i];
	assert_int_equal(id.tcb, reported_tcb);
	assert_string_equal(id.product, "Milan");
	/* Not one certificate: truncated, trailing bytes, or not DER at all. */
	assert_int_equal(cocoon_snp_vcek_identify(&id, vcek, vlen - 1), COCOON_EFORMAT);
	assert_int_equal(cocoon_snp_vcek_identify(&id, report, rlen), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "VCEK"));
	free(report);
	free(vcek);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcek_identify),
		cmocka_unit_test(test_real_default_policy_rejects_debug),
		cmocka_unit_test(test_real_allow_debug_accepts),
		cmocka_unit_test(test_real_tampering_breaks_signature),
		cmocka_unit_test(test_real_truncated_and_extended),
		cmocka_unit_test(test_real_wrong_product_roots),
		cmocka_unit_test(test_real_time),
		cmocka_unit_test(test_real_cert_sources),
		cmocka_unit_test(test_real_expected_values),
		cmocka_unit_test(test_gen_v3_genoa_accepts),
		cmocka_unit_test(test_gen_v5_turin_accepts),
		cmocka_unit_test(test_gen_vlek),
		cmocka_unit_test(test_gen_crl),
		cmocka_unit_test(test_gen_mask_chip_key),
		cmocka_unit_test(test_gen_binding),
		cmocka_unit_test(test_gen_provisional_firmware),
		cmocka_unit_test(test_gen_vcek_profile),
		cmocka_unit_test(test_gen_chain_profile),
		cmocka_unit_test(test_gen_cached_path),
		cmocka_unit_test(test_gen_api_errors),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
