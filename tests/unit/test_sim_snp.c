/*
 * The simulated SEV-SNP platform: its PKI must look like AMD's KDS to
 * OpenSSL and to the verifier's profile checks, its reports must have the
 * ABI layout with a signature that verifies independently of the writer,
 * and the whole SNP negative matrix must behave the same on simulated
 * evidence as on the real Milan vector. Without trust_simulation the
 * verifier rejects simulated evidence and names the simulation root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "testutil.h"
#include "snp_matrix.h"
#include "cocoon/evidence.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/dcap_sim.h"
#include "sim/snp_sim.h"
#include "snp/snp.h"

#define NOW ((time_t)1767225600)        /* 2026-01-01: sim init issues everything an hour before */
#define CRL_NEXT (NOW + 30 * 86400)      /* --days 30 */
#define CERT_NOT_BEFORE (NOW - 3600)
#define CERT_NOT_AFTER (NOW + 3650L * 86400)
#define AT_REAL ((time_t)1735689600)    /* 2025-01-01, inside the real VCEK's validity */
#define WORKLOAD "cocoon simulated workload"

static char dir[64];
static cocoon_sim_snp_pki *pki, *other;
static uint8_t report[COCOON_SNP_REPORT_SIZE];
static uint8_t *chain, *crl, *vcek, *table, *other_chain;
static size_t chain_len, crl_len, vcek_len, table_len, other_chain_len;
static cocoon_verifier *trusting, *untrusting;

static uint8_t *read_rel(const char *rel, size_t *len)
{
	char *path = cocoon_sim_path(dir, rel);
	uint8_t *data = NULL;
	if (!path || cocoon_file_read(&data, len, path) != 0)
		data = NULL;
	free(path);
	return data;
}

static int pem_pair(uint8_t **out, size_t *len, X509 *a, X509 *b)
{
	X509 *certs[2] = { a, b };
	char *pem = NULL;
	if (cocoon_sim_pem_certs(&pem, certs, 2) != 0)
		return -1;
	*out = (uint8_t *)pem;
	*len = strlen(pem);
	return 0;
}

static int setup(void **state)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_sim_snp_report_params q;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-sim-snp-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	o.now = NOW;
	o.validity_days = 30;
	if (cocoon_sim_init(dir, &o) != 0 || cocoon_sim_snp_pki_load(&pki, dir) != 0 ||
	    cocoon_sim_snp_pki_generate(&other, NULL) != 0) {
		fprintf(stderr, "setup: %s\n", cocoon_error_last()->message);
		return -1;
	}
	if (cocoon_sim_snp_report_params_init(&q, pki, 3) != 0)
		return -1;
	memset(q.report_data, 0x5a, 64);
	memset(q.measurement, 0xa5, 48);
	q.guest_svn = 2;
	if (cocoon_sim_snp_report(report, pki, &q) != 0 || cocoon_sim_snp_certtable(&table, &table_len, pki) != 0 ||
	    pem_pair(&other_chain, &other_chain_len, other->ask_cert, other->ark_cert) != 0)
		return -1;
	chain = read_rel("amd/chain.pem", &chain_len);
	crl = read_rel("amd/crl.der", &crl_len);
	vcek = read_rel("amd/vcek.pem", &vcek_len);
	if (!chain || !crl || !vcek)
		return -1;
	vo.trust_simulation = 1;
	if (cocoon_verifier_new(&trusting, &vo) != 0 || cocoon_verifier_new(&untrusting, NULL) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	cocoon_sim_snp_pki_free(pki);
	cocoon_sim_snp_pki_free(other);
	free(chain);
	free(crl);
	free(vcek);
	free(table);
	free(other_chain);
	cocoon_verifier_free(trusting);
	cocoon_verifier_free(untrusting);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect_error(int rc, int code, const char *part)
{
	assert_int_equal(rc, code);
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("error \"%s\" lacks \"%s\"", cocoon_error_last()->message, part);
}

static int sim_resign(uint8_t *rep, void *ctx)
{
	return cocoon_sim_snp_report_sign(rep, ((cocoon_sim_snp_pki *)ctx)->vcek_key);
}

static void sim_case(cocoon_snp_matrix_case *c)
{
	memset(c, 0, sizeof(*c));
	c->report = report;
	c->vcek = vcek;
	c->vcek_len = vcek_len;
	c->chain = chain;
	c->chain_len = chain_len;
	c->wrong_chain = other_chain;
	c->wrong_chain_len = other_chain_len;
	c->crl = crl;
	c->crl_len = crl_len;
	c->at = NOW;
	c->vcek_not_before = CERT_NOT_BEFORE;
	c->vcek_not_after = CERT_NOT_AFTER;
	c->crl_next_update = CRL_NEXT;
	c->verifier = trusting;
	c->simulated = 1;
	c->resign = sim_resign;
	c->resign_ctx = pki;
}

/* ------------------------------------------------------------------ PKI */

static const char *comment_of(X509 *x)
{
	static char buf[256];
	ASN1_IA5STRING *s = X509_get_ext_d2i(x, NID_netscape_comment, NULL, NULL);
	if (!s)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
	ASN1_IA5STRING_free(s);
	return buf;
}

static void assert_cn(X509 *x, const char *want)
{
	char cn[64];
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, want);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 6);
}

/* RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt, as AMD signs. */
static void assert_pss(X509 *x, X509 *issuer)
{
	int md = 0, pk = 0, bits = 0;
	uint32_t flags = 0;
	assert_int_equal(X509_get_signature_info(x, &md, &pk, &bits, &flags), 1);
	assert_int_equal(pk, EVP_PKEY_RSA_PSS);
	assert_int_equal(md, NID_sha384);
	assert_true(flags & X509_SIG_INFO_TLS);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(issuer)), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)), 0);
}

static const ASN1_OCTET_STRING *kds_ext(X509 *x, const char *suffix)
{
	char oid[64];
	ASN1_OBJECT *o;
	int idx;
	snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3704.1.%s", suffix);
	o = OBJ_txt2obj(oid, 1);
	idx = X509_get_ext_by_OBJ(x, o, -1);
	ASN1_OBJECT_free(o);
	return idx < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, idx));
}

static void test_pki_shape(void **state)
{
	const ASN1_OCTET_STRING *hwid, *name;
	cocoon_snp_vcek_verified *vv = NULL;
	cocoon_failure f = { 0 };
	(void)state;

	assert_cn(pki->ark_cert, "ARK-Milan");
	assert_cn(pki->ask_cert, "SEV-Milan");
	assert_cn(pki->vcek_cert, "SEV-VCEK");
	assert_pss(pki->ark_cert, pki->ark_cert);
	assert_pss(pki->ask_cert, pki->ark_cert);
	assert_pss(pki->vcek_cert, pki->ask_cert);
	assert_int_equal(X509_check_ca(pki->ark_cert) != 0, 1);
	assert_int_equal(X509_get_pathlen(pki->ask_cert), 0);
	assert_int_equal(X509_get_key_usage(pki->ark_cert), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(X509_get_key_usage(pki->ask_cert), KU_KEY_CERT_SIGN);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(pki->ark_cert)), 2048);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(pki->vcek_cert)), 384);
	/* The simulation mark sits on the ARK and ASK only. */
	assert_non_null(comment_of(pki->ark_cert));
	assert_int_equal(strncmp(comment_of(pki->ark_cert), COCOON_SIM_AMD_MARK, strlen(COCOON_SIM_AMD_MARK)), 0);
	assert_non_null(strstr(comment_of(pki->ask_cert), "never trust in production"));
	assert_null(comment_of(pki->vcek_cert));
	/* The VCEK carries the Milan KDS set and nothing else. */
	assert_int_equal(X509_get_ext_count(pki->vcek_cert), 11);
	assert_non_null(name = kds_ext(pki->vcek_cert, "2"));
	assert_int_equal(ASN1_STRING_length(name), 2 + 8);
	assert_memory_equal(ASN1_STRING_get0_data(name) + 2, "Milan-B0", 8);
	assert_null(kds_ext(pki->vcek_cert, "3.9"));
	assert_non_null(hwid = kds_ext(pki->vcek_cert, "4"));
	assert_int_equal(ASN1_STRING_length(hwid), 64);
	assert_memory_equal(ASN1_STRING_get0_data(hwid), pki->hwid, 64);
	assert_false(cocoon_is_zero(pki->hwid, 64));
	assert_int_equal(pki->hwid_len, 64);
	assert_string_equal(pki->product, "Milan");
	/* bl 4, tee 0, snp 22, microcode 213 composed as a Milan TCB_VERSION. */
	assert_int_equal(pki->tcb, (uint64_t)4 | ((uint64_t)22 << 48) | ((uint64_t)213 << 56));

	/* The verifier's own chain, profile and CRL checks accept it, and see the simulation. */
	assert_int_equal(cocoon_snp_vcek_verify(&vv, &f, vcek, vcek_len, chain, chain_len, crl, crl_len, NOW), 0);
	assert_true(vv->simulated);
	assert_true(vv->crl_checked);
	assert_int_equal(vv->ext.tcb, pki->tcb);
	assert_int_equal(vv->valid_until, CRL_NEXT);
	cocoon_snp_vcek_put(vv);
	assert_true(cocoon_snp_cert_is_simulated(pki->ark_cert));
	assert_false(cocoon_snp_cert_is_simulated(pki->vcek_cert));
}

static void test_pki_products(void **state)
{
	cocoon_sim_snp_pki_options o;
	cocoon_sim_snp_pki *p = NULL;
	const ASN1_OCTET_STRING *e;
	(void)state;

	cocoon_sim_snp_pki_options_init(&o);
	o.product = "Turin";
	memset(o.hwid, 0x7e, sizeof(o.hwid));
	assert_int_equal(cocoon_sim_snp_pki_generate(&p, &o), 0);
	assert_cn(p->ark_cert, "ARK-Turin");
	assert_string_equal(p->product, "Turin");
	assert_int_equal(p->hwid_len, 8);
	assert_non_null(e = kds_ext(p->vcek_cert, "4"));
	assert_int_equal(ASN1_STRING_length(e), 8);
	assert_non_null(kds_ext(p->vcek_cert, "3.9"));
	assert_null(kds_ext(p->vcek_cert, "3.4"));
	/* Turin: fmc 1, bl 4, tee 0, snp 22 in bytes 0..3, microcode in byte 7. */
	assert_int_equal(p->tcb, (uint64_t)1 | ((uint64_t)4 << 8) | ((uint64_t)22 << 24) | ((uint64_t)213 << 56));
	cocoon_sim_snp_pki_free(p);

	o.product = "Genoa-B2";
	assert_int_equal(cocoon_sim_snp_pki_generate(&p, &o), 0);
	assert_cn(p->ask_cert, "SEV-Genoa");
	assert_non_null(e = kds_ext(p->vcek_cert, "2"));
	assert_memory_equal(ASN1_STRING_get0_data(e) + 2, "Genoa-B2", 8);
	assert_memory_equal(p->hwid, o.hwid, 64);
	cocoon_sim_snp_pki_free(p);
}

/* --------------------------------------------------------------- report */

static uint64_t le64_at(const uint8_t *p) { return (uint64_t)cocoon_le32(p) | ((uint64_t)cocoon_le32(p + 4) << 32); }

/* ECDSA P-384 over SHA-384 of [0, 0x2A0), re-derived here from the raw fields. */
static int signature_valid(const uint8_t *rep, EVP_PKEY *key)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(rep + 0x2A0, 72, NULL), *s = BN_lebin2bn(rep + 0x2E8, 72, NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int n, ok;

	assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
	n = i2d_ECDSA_SIG(sig, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL, key), 1);
	ok = EVP_DigestVerify(m, der, (size_t)n, rep, 0x2A0) == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(m);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	return ok;
}

static void test_report_layout(void **state)
{
	cocoon_sim_snp_report_params q;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], ff[32];
	EVP_PKEY *pub = X509_get0_pubkey(pki->vcek_cert);
	(void)state;

	assert_int_equal(cocoon_le32(report + 0x000), 3);
	assert_int_equal(cocoon_le32(report + 0x004), 2);
	assert_int_equal(le64_at(report + 0x008), 0x30000);
	assert_int_equal(cocoon_le32(report + 0x034), 1);
	assert_int_equal(le64_at(report + 0x038), pki->tcb);
	assert_int_equal(cocoon_le32(report + 0x048), 0);
	assert_int_equal(report[0x050], 0x5a);
	assert_int_equal(report[0x08F], 0x5a);
	assert_int_equal(report[0x090], 0xa5);
	assert_int_equal(report[0x0BF], 0xa5);
	memset(ff, 0xff, sizeof(ff));
	assert_memory_equal(report + 0x160, ff, 32);
	assert_int_equal(le64_at(report + 0x180), pki->tcb);
	assert_int_equal(report[0x188], 0x19);
	assert_int_equal(report[0x189], 0x01);
	assert_memory_equal(report + 0x1A0, pki->hwid, 64);
	assert_int_equal(le64_at(report + 0x1E0), pki->tcb);
	assert_int_equal(report[0x1EA], 1);
	assert_int_equal(report[0x1E9], 55);
	assert_int_equal(le64_at(report + 0x1F0), pki->tcb);
	assert_true(cocoon_is_zero(report + 0x1F8, 0x2A0 - 0x1F8));
	assert_true(signature_valid(report, pub));
	/* Scalars fill 48 of their 72 bytes; the rest of SIGNATURE is zero. */
	assert_true(cocoon_is_zero(report + 0x2A0 + 48, 24));
	assert_true(cocoon_is_zero(report + 0x2E8 + 48, 24));
	assert_true(cocoon_is_zero(report + 0x330, COCOON_SNP_REPORT_SIZE - 0x330));

	/* v2 has no CPUID; v5 carries the mitigation vectors. */
	assert_int_equal(cocoon_sim_snp_report_params_init(&q, pki, 2), 0);
	assert_int_equal(cocoon_sim_snp_report(rep, pki, &q), 0);
	assert_true(cocoon_is_zero(rep + 0x188, 3));
	assert_true(signature_valid(rep, pub));
	assert_int_equal(cocoon_sim_snp_report_params_init(&q, pki, 5), 0);
	q.launch_mit_vector = 0x3;
	q.current_mit_vector = 0x7;
	assert_int_equal(cocoon_sim_snp_report(rep, pki, &q), 0);
	assert_int_equal(le64_at(rep + 0x1F8), 3);
	assert_int_equal(le64_at(rep + 0x200), 7);
	assert_true(signature_valid(rep, pub));
	/* Another key's signature does not verify. */
	assert_false(signature_valid(rep, X509_get0_pubkey(other->vcek_cert)));
}

static void test_certtable(void **state)
{
	cocoon_snp_certtable t;
	X509 *certs[3] = { pki->vcek_cert, pki->ask_cert, pki->ark_cert };
	const cocoon_snp_cert_kind kinds[3] = { COCOON_SNP_CERT_VCEK, COCOON_SNP_CERT_ASK, COCOON_SNP_CERT_ARK };
	size_t expect = 96;
	(void)state;

	assert_int_equal(cocoon_snp_certtable_parse(&t, table, table_len), 0);
	assert_int_equal(t.n, 3);
	assert_true(cocoon_is_zero(table + 72, 24));
	for (int i = 0; i < 3; i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(certs[i], &der);
		assert_int_equal(t.entries[i].kind, kinds[i]);
		assert_int_equal(t.entries[i].offset, expect);
		assert_int_equal(t.entries[i].length, (uint32_t)n);
		assert_memory_equal(t.entries[i].data, der, (size_t)n);
		expect += (size_t)n;
		OPENSSL_free(der);
	}
	assert_int_equal(table_len, expect);
}

/* ------------------------------------------------------------ directory */

static void copy_rel(const char *to, const char *rel, const char *from_rel)
{
	char *dst = cocoon_sim_path(to, rel);
	size_t len;
	uint8_t *data = read_rel(from_rel, &len);
	assert_non_null(data);
	assert_int_equal(cocoon_file_write(dst, data, len), 0);
	free(dst);
	free(data);
}

static void test_directory(void **state)
{
	static const char *const files[] = { "ark.pem", "ask.pem", "vcek.pem", "ark-key.pem", "ask-key.pem",
		                             "vcek-key.pem", "chain.pem", "crl.der" };
	char other_dir[64], rel[64], *path, cmd[160];
	cocoon_sim_snp_pki *p = NULL;
	uint8_t *meta;
	size_t len;
	struct stat st;
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "amd/%s", files[i]);
		path = cocoon_sim_path(dir, rel);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, strstr(files[i], "-key") ? 0600 : 0644);
		free(path);
	}
	/* ASK first, then ARK, as KDS serves cert_chain. */
	assert_non_null(strstr((const char *)chain, "-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"));
	meta = read_rel("sim.json", &len);
	assert_non_null(meta);
	assert_non_null(strstr((const char *)meta, "\"snp_product\": \"Milan\""));
	free(meta);

	/* A VCEK key that does not match its certificate is refused at load. */
	snprintf(other_dir, sizeof(other_dir), "/tmp/cocoon-sim-snp2-XXXXXX");
	assert_non_null(mkdtemp(other_dir));
	path = cocoon_sim_path(other_dir, "amd");
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "amd/%s", files[i]);
		copy_rel(other_dir, rel, strcmp(files[i], "vcek-key.pem") == 0 ? "intel/pck-key.pem" : rel);
	}
	expect_error(cocoon_sim_snp_pki_load(&p, other_dir), COCOON_EFORMAT, "vcek-key.pem does not match");
	assert_null(p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other_dir);
	assert_int_equal(system(cmd), 0);
	expect_error(cocoon_sim_snp_pki_load(&p, "/nonexistent-cocoon-dir"), COCOON_EIO, "amd/ark.pem: cannot open");
}

/* --------------------------------------------------------------- matrix */

static void test_matrix_on_simulated_evidence(void **state)
{
	cocoon_snp_matrix_case c;
	(void)state;
	sim_case(&c);
	cocoon_snp_matrix_accepts(&c);
	cocoon_snp_matrix_byte_flips(&c);
	cocoon_snp_matrix_format(&c);
	cocoon_snp_matrix_truncation(&c);
	cocoon_snp_matrix_roots(&c);
	cocoon_snp_matrix_time(&c);
	cocoon_snp_matrix_cert_sources(&c);
	cocoon_snp_matrix_expected_values(&c);
	cocoon_snp_matrix_binding(&c);
}

static time_t cert_time(const ASN1_TIME *t)
{
	struct tm tm;
	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

/* The same matrix on the real Milan vector (go-sev-guest), against AMD's embedded roots. */
static void test_matrix_on_real_vector(void **state)
{
	cocoon_snp_matrix_case c;
	uint8_t *rep, *der, *genoa;
	size_t rep_len, der_len, genoa_len;
	const unsigned char *p;
	X509 *x;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	rep = cocoon_test_vector("snp/report.bin", &rep_len);
	der = cocoon_test_vector("snp/vcek.der", &der_len);
	genoa = cocoon_test_vector("roots/amd-ask_ark_genoa.pem", &genoa_len);
	assert_non_null(rep);
	assert_non_null(der);
	assert_non_null(genoa);
	assert_int_equal(rep_len, COCOON_SNP_REPORT_SIZE);
	p = der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)der_len));
	memset(&c, 0, sizeof(c));
	c.report = rep;
	c.vcek = der;
	c.vcek_len = der_len;
	c.wrong_chain = genoa;
	c.wrong_chain_len = genoa_len;
	c.at = AT_REAL;
	c.vcek_not_before = cert_time(X509_get0_notBefore(x));
	c.vcek_not_after = cert_time(X509_get0_notAfter(x));
	c.allow_debug = 1;
	c.verifier = untrusting;
	cocoon_snp_matrix_accepts(&c);
	cocoon_snp_matrix_byte_flips(&c);
	cocoon_snp_matrix_format(&c);
	cocoon_snp_matrix_truncation(&c);
	cocoon_snp_matrix_roots(&c);
	cocoon_snp_matrix_time(&c);
	cocoon_snp_matrix_cert_sources(&c);
	cocoon_snp_matrix_expected_values(&c);
	/* A verifier that trusts a simulation still verifies real evidence, and flags it. */
	c.verifier = trusting;
	c.simulated = 1;
	cocoon_snp_matrix_accepts(&c);
	X509_free(x);
	free(rep);
	free(der);
	free(genoa);
}

/* ----------------------------------------------------- trust and refusal */

static cocoon_result verify_with(cocoon_verifier *v, const uint8_t *rep, const uint8_t *c_vcek, size_t c_vcek_len,
                                 const uint8_t *certs, size_t certs_len, const uint8_t *c_chain, size_t c_chain_len)
{
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	in.vcek = c_vcek;
	in.vcek_len = c_vcek_len;
	in.certs = certs;
	in.certs_len = certs_len;
	in.chain = c_chain;
	in.chain_len = c_chain_len;
	o.at = NOW;
	assert_int_equal(cocoon_verifier_verify_snp(&r, v, rep, COCOON_SNP_REPORT_SIZE, &in, NULL, &o), 0);
	return r;
}

/* A certificate table written here, independently of the simulator's writer. */
static uint8_t *table_of(X509 *v, X509 *ask, X509 *ark, size_t *len)
{
	static const uint8_t guids[3][16] = {
		{ 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd },
		{ 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 },
		{ 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae },
	};
	X509 *certs[3] = { v, ask, ark };
	uint8_t *t = calloc(1, 96 + 3 * 4096);
	size_t pos = 96;

	assert_non_null(t);
	for (int i = 0; i < 3; i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(certs[i], &der);
		assert_true(n > 0 && n <= 4096);
		memcpy(t + 24 * i, guids[i], 16);
		cocoon_put_le32(t + 24 * i + 16, (uint32_t)pos);
		cocoon_put_le32(t + 24 * i + 20, (uint32_t)n);
		memcpy(t + pos, der, (size_t)n);
		pos += (size_t)n;
		OPENSSL_free(der);
	}
	*len = pos;
	return t;
}

static void test_untrusted_simulation(void **state)
{
	cocoon_sim_snp_report_params q;
	uint8_t foreign[COCOON_SNP_REPORT_SIZE], *mixed, *other_table;
	size_t other_table_len, mixed_len;
	cocoon_result r;
	(void)state;

	/* The evidence as `cocoon evidence` hands it over: report + certificate table. */
	r = verify_with(trusting, report, NULL, 0, table, table_len, chain, chain_len);
	assert_true(r.accepted);
	assert_true(r.simulated);
	for (int i = 0; i < 2; i++) {
		r = verify_with(i ? NULL : untrusting, report, NULL, 0, table, table_len, NULL, 0);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SIMULATION_ROOT,
		                                "cocoon simulation root, which is not trusted");
		assert_non_null(strstr(r.reason, "--trust-sim"));
		assert_false(r.simulated);
	}
	/* Passing the simulation's chain as trusted roots is not trusting the simulation. */
	r = verify_with(untrusting, report, vcek, vcek_len, NULL, 0, chain, chain_len);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SIMULATION_ROOT, "ARK marked \"" COCOON_SIM_AMD_MARK "\"");
	r = verify_with(untrusting, report, vcek, vcek_len, NULL, 0, chain, chain_len);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SIMULATION_ROOT, "simulation root");
	/* The VCEK alone says nothing about who signed it. */
	r = verify_with(untrusting, report, vcek, vcek_len, NULL, 0, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain to the trusted ARK");

	/* Another simulation's evidence does not verify under this one's roots, trusted or not. */
	assert_int_equal(cocoon_sim_snp_report_params_init(&q, other, 3), 0);
	assert_int_equal(cocoon_sim_snp_report(foreign, other, &q), 0);
	assert_int_equal(cocoon_sim_snp_certtable(&other_table, &other_table_len, other), 0);
	r = verify_with(trusting, foreign, NULL, 0, other_table, other_table_len, chain, chain_len);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain to the trusted ARK");
	assert_true(r.simulated);
	/* A marked ASK that did not sign the VCEK explains nothing. */
	mixed = table_of(other->vcek_cert, pki->ask_cert, pki->ark_cert, &mixed_len);
	r = verify_with(untrusting, foreign, NULL, 0, mixed, mixed_len, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain to the trusted ARK");
	free(mixed);
	free(other_table);
}

static void test_revocation(void **state)
{
	cocoon_sim_snp_pki *p = NULL;
	unsigned char *der = NULL;
	const ASN1_INTEGER *serial[1];
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	int n;
	(void)state;

	assert_int_equal(cocoon_sim_snp_pki_load(&p, dir), 0);
	in.vcek = vcek;
	in.vcek_len = vcek_len;
	in.chain = chain;
	in.chain_len = chain_len;
	o.at = NOW;
	for (int which = 0; which < 3; which++) {
		if (which < 2) {
			serial[0] = X509_get0_serialNumber(which ? p->ask_cert : p->vcek_cert);
			assert_int_equal(cocoon_sim_snp_reissue_crl(p, serial, 1, NOW - 60, CRL_NEXT), 0);
			n = i2d_X509_CRL(p->crl, &der);
		} else {
			/* A CRL from another ARK. */
			n = i2d_X509_CRL(other->crl, &der);
		}
		assert_true(n > 0);
		in.crl = der;
		in.crl_len = (size_t)n;
		assert_int_equal(cocoon_verifier_verify_snp(&r, trusting, report, sizeof(report), &in, NULL, &o), 0);
		if (which == 0)
			cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CERT_REVOKED, "VCEK certificate (serial 0x");
		else if (which == 1)
			cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CERT_REVOKED, "ASK certificate (serial 0x");
		else
			cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CRL, "not issued and signed by the trusted ARK");
		OPENSSL_free(der);
		der = NULL;
	}
	/* Revocation numbers go up with each reissue. */
	{
		ASN1_INTEGER *num = X509_CRL_get_ext_d2i(p->crl, NID_crl_number, NULL, NULL);
		assert_non_null(num);
		assert_int_equal(ASN1_INTEGER_get(num), 3);
		ASN1_INTEGER_free(num);
	}
	cocoon_sim_snp_pki_free(p);
}

static void test_products_and_versions(void **state)
{
	static const struct {
		const char *product;
		uint32_t version;
	} cases[] = { { "Genoa", 5 }, { "Turin", 3 }, { "Milan", 2 } };
	cocoon_sim_snp_pki_options o;
	cocoon_sim_snp_report_params q;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], *ch = NULL;
	size_t ch_len = 0;
	cocoon_result r;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cocoon_sim_snp_pki *p = NULL;
		cocoon_sim_snp_pki_options_init(&o);
		o.product = cases[i].product;
		assert_int_equal(cocoon_sim_snp_pki_generate(&p, &o), 0);
		assert_int_equal(cocoon_sim_snp_report_params_init(&q, p, cases[i].version), 0);
		assert_int_equal(cocoon_sim_snp_report(rep, p, &q), 0);
		assert_int_equal(pem_pair(&ch, &ch_len, p->ask_cert, p->ark_cert), 0);
		{
			unsigned char *der = NULL;
			int n = i2d_X509(p->vcek_cert, &der);
			assert_true(n > 0);
			r = verify_with(trusting, rep, der, (size_t)n, NULL, 0, ch, ch_len);
			OPENSSL_free(der);
		}
		if (!r.accepted)
			fail_msg("%s v%u rejected: %s", cases[i].product, cases[i].version, r.reason);
		assert_string_equal(r.snp.product, cases[i].product);
		assert_int_equal(r.quote_version, (int)cases[i].version);
		assert_memory_equal(r.snp.chip_id, p->hwid, p->hwid_len);
		assert_int_equal(r.snp.reported_tcb.raw, p->tcb);
		free(ch);
		cocoon_sim_snp_pki_free(p);
	}
}

/* ------------------------------------------------------ evidence provider */

static void test_evidence_provider_snp(void **state)
{
	cocoon_evidence_options o = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_evidence ev;
	cocoon_result r;
	uint8_t want[48];
	unsigned int n = 0;
	(void)state;

	o.provider = "sim";
	o.tee = COCOON_TEE_SNP;
	o.sim_dir = dir;
	o.snp_vmpl = 2;
	for (int i = 0; i < 64; i++)
		o.report_data[i] = (uint8_t)(0xc0 ^ i);
	assert_int_equal(cocoon_evidence_collect(&ev, &o), 0);
	assert_string_equal(ev.provider, "sim");
	assert_int_equal(ev.tee, COCOON_TEE_SNP);
	assert_int_equal(ev.format, COCOON_EVIDENCE_SNP_REPORT);
	assert_int_equal(ev.evidence_len, COCOON_SNP_REPORT_SIZE);
	assert_non_null(ev.aux);
	assert_int_equal(ev.aux_len, table_len);
	r = verify_with(trusting, ev.evidence, NULL, 0, ev.aux, ev.aux_len, chain, chain_len);
	if (!r.accepted)
		fail_msg("rejected: %s", r.reason);
	assert_true(r.simulated);
	assert_memory_equal(r.snp.report_data, o.report_data, 64);
	assert_int_equal(r.snp.vmpl, 2);
	assert_int_equal(EVP_Digest(WORKLOAD, strlen(WORKLOAD), want, &n, EVP_sha384(), NULL), 1);
	assert_memory_equal(r.snp.measurement, want, 48);
	r = verify_with(untrusting, ev.evidence, NULL, 0, ev.aux, ev.aux_len, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SIMULATION_ROOT, "simulation root");
	cocoon_evidence_free(&ev);

	/* Without the certificate table, as SNP_GET_REPORT would give it. */
	o.no_aux = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), 0);
	assert_null(ev.aux);
	assert_int_equal(ev.aux_len, 0);
	cocoon_evidence_free(&ev);
}

static void test_evidence_provider_dcap(void **state)
{
	cocoon_evidence_options o = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_verify_options opt = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_verifier *v = NULL;
	cocoon_collateral *coll = NULL;
	cocoon_evidence ev;
	cocoon_result r;
	uint8_t *root, *json, want[48];
	size_t root_len, json_len;
	(void)state;

	root = read_rel("intel/root.pem", &root_len);
	assert_non_null(root);
	vo.intel_root_der = root;
	vo.intel_root_der_len = root_len;
	vo.trust_simulation = 1;
	assert_int_equal(cocoon_verifier_new(&v, &vo), 0);
	opt.at = NOW;
	o.provider = "sim";
	o.sim_dir = dir;
	memset(o.report_data, 0x3c, 64);
	for (int tee = 0; tee < 3; tee++) {
		/* UNKNOWN produces SGX, the documented default. */
		o.tee = tee == 0 ? COCOON_TEE_UNKNOWN : tee == 1 ? COCOON_TEE_SGX : COCOON_TEE_TDX;
		assert_int_equal(cocoon_evidence_collect(&ev, &o), 0);
		assert_int_equal(ev.format, COCOON_EVIDENCE_DCAP_QUOTE);
		assert_int_equal(ev.tee, tee == 2 ? COCOON_TEE_TDX : COCOON_TEE_SGX);
		assert_null(ev.aux);
		json = read_rel(tee == 2 ? "intel/collateral-tdx.json" : "intel/collateral-sgx.json", &json_len);
		assert_non_null(json);
		assert_int_equal(cocoon_collateral_from_json(&coll, (const char *)json, json_len), 0);
		assert_int_equal(cocoon_verifier_verify_dcap(&r, v, ev.evidence, ev.evidence_len, coll, &opt), 0);
		if (!r.accepted)
			fail_msg("rejected: %s", r.reason);
		assert_true(r.simulated);
		if (tee == 2) {
			unsigned int n = 0;
			assert_int_equal(EVP_Digest(WORKLOAD, strlen(WORKLOAD), want, &n, EVP_sha384(), NULL), 1);
			assert_memory_equal(r.tdx.mrtd, want, 48);
			assert_memory_equal(r.tdx.report_data, o.report_data, 64);
		} else {
			const void *parts[1] = { WORKLOAD };
			size_t lens[1] = { strlen(WORKLOAD) };
			assert_int_equal(cocoon_sha256(want, 1, parts, lens), 0);
			assert_memory_equal(r.sgx.mrenclave, want, 32);
			assert_memory_equal(r.sgx.report_data, o.report_data, 64);
			assert_int_equal(r.sgx.isv_prod_id, 1);
		}
		cocoon_collateral_free(coll);
		coll = NULL;
		free(json);
		cocoon_evidence_free(&ev);
	}
	cocoon_verifier_free(v);
	free(root);
}

static void test_evidence_provider_probe_and_errors(void **state)
{
	cocoon_evidence_options o = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_probe_report pr;
	cocoon_evidence ev;
	const cocoon_probe_entry *sim = NULL;
	(void)state;

	for (int i = 0; i < 3; i++) {
		o.sim_dir = i == 0 ? NULL : i == 1 ? "/nonexistent-cocoon-sim" : dir;
		o.tee = COCOON_TEE_SNP;
		assert_int_equal(cocoon_evidence_probe(&pr, &o), 0);
		for (size_t j = 0; j < pr.count; j++)
			if (strcmp(pr.entries[j].name, "sim") == 0)
				sim = &pr.entries[j];
		assert_non_null(sim);
		assert_int_equal(sim->auto_detect, 0);
		assert_int_equal(sim->state, i == 0 ? COCOON_PROBE_UNUSABLE : i == 1 ? COCOON_PROBE_ABSENT
		                                                                     : COCOON_PROBE_AVAILABLE);
		assert_int_equal(sim->tee, COCOON_TEE_SNP);
		assert_int_equal(sim->format, COCOON_EVIDENCE_SNP_REPORT);
		assert_non_null(strstr(sim->detail, i == 0 ? "--sim DIR" : i == 1 ? "not a 'cocoon sim init' directory"
		                                                                   : "never auto-selected"));
		/* Available or not, auto-detection never picks the simulator. */
		assert_true(pr.selected < 0 || strcmp(pr.entries[pr.selected].name, "sim") != 0);
	}
	o.provider = "sim";
	o.sim_dir = NULL;
	expect_error(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL, "no simulation directory; pass --sim DIR");
	o.sim_dir = "/nonexistent-cocoon-sim";
	expect_error(cocoon_evidence_collect(&ev, &o), COCOON_EIO, "sim: /nonexistent-cocoon-sim/amd/ark.pem");
	assert_null(ev.evidence);
}

/* -------------------------------------------------------------- API */

static void test_api_errors(void **state)
{
	cocoon_sim_snp_pki_options o;
	cocoon_sim_snp_report_params q;
	cocoon_sim_init_options io = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_sim_snp_pki *p = NULL;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], *buf = NULL;
	size_t len = 0;
	char bad_dir[sizeof(dir) + 16];
	EVP_PKEY *p256;
	struct stat st;
	(void)state;

	cocoon_sim_snp_pki_options_init(&o);
	o.rsa_bits = 1024;
	expect_error(cocoon_sim_snp_pki_generate(&p, &o), COCOON_EINVAL, "rsa_bits 1024");
	cocoon_sim_snp_pki_options_init(&o);
	o.product = "Rome";
	expect_error(cocoon_sim_snp_pki_generate(&p, &o), COCOON_EINVAL, "\"Rome\" is not an SEV-SNP product line");
	cocoon_sim_snp_pki_options_init(&o);
	o.not_after = o.not_before;
	expect_error(cocoon_sim_snp_pki_generate(&p, &o), COCOON_EINVAL, "not_before must be earlier");
	assert_null(p);

	assert_int_equal(cocoon_sim_snp_report_params_init(&q, pki, 4), 0);
	expect_error(cocoon_sim_snp_report(rep, pki, &q), COCOON_EINVAL, "version 4; the simulator writes 2, 3 or 5");
	q.version = 3;
	q.vmpl = 4;
	expect_error(cocoon_sim_snp_report(rep, pki, &q), COCOON_EINVAL, "VMPL 4 is outside 0..3");
	p256 = EVP_EC_gen("P-256");
	assert_non_null(p256);
	expect_error(cocoon_sim_snp_report_sign(rep, p256), COCOON_EINVAL, "P-384 key");
	EVP_PKEY_free(p256);
	expect_error(cocoon_sim_snp_certtable(&buf, &len, NULL), COCOON_EINVAL, "no PKI");
	assert_null(buf);

	/* A bad product is refused before anything is written. */
	snprintf(bad_dir, sizeof(bad_dir), "%s-never", dir);
	io.snp_product = "Naples";
	expect_error(cocoon_sim_init(bad_dir, &io), COCOON_EINVAL, "\"Naples\" is not Milan, Genoa or Turin");
	assert_int_equal(stat(bad_dir, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_shape),
		cmocka_unit_test(test_pki_products),
		cmocka_unit_test(test_report_layout),
		cmocka_unit_test(test_certtable),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_matrix_on_simulated_evidence),
		cmocka_unit_test(test_matrix_on_real_vector),
		cmocka_unit_test(test_untrusted_simulation),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_products_and_versions),
		cmocka_unit_test(test_evidence_provider_snp),
		cmocka_unit_test(test_evidence_provider_dcap),
		cmocka_unit_test(test_evidence_provider_probe_and_errors),
		cmocka_unit_test(test_api_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
