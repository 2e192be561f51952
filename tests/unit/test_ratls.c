/*
 * RA-TLS: certificates made from sim evidence (SGX, TDX, SNP; tagged and
 * legacy forms) verify end to end; a swapped key, altered claims, an
 * expired certificate, a missing or malformed extension are each rejected
 * with their check; the published interop certificates (Gramine, rats-tls,
 * Intel SGX SDK) parse and their bindings are what PROVENANCE.md says.
 * Also the tagged-evidence CBOR parser's refusals and the ACI policy digest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "cocoon/cocoon.h"
#include "cocoon/ratls.h"
#include "common/util.h"
#include "ratls/ratls_int.h"

#define RATS_TLS_AT ((time_t)1685577600) /* 2023-06-01, inside the rats-tls certificate's validity */

static char dir[64];
static cocoon_verifier *verifier;
static cocoon_collateral *coll[2]; /* sgx, tdx */
static uint8_t *amd[3];            /* vcek, chain, crl */
static size_t amd_len[3];

static uint8_t *read_rel(const char *rel, size_t *len)
{
	char *p = cocoon_sim_path(dir, rel);
	uint8_t *b = NULL;
	if (!p || cocoon_file_read(&b, len, p) != 0)
		b = NULL;
	free(p);
	return b;
}

static int setup(void **state)
{
	static const char *const amd_rel[3] = { "amd/vcek.pem", "amd/chain.pem", "amd/crl.der" };
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	uint8_t *root, *json;
	size_t len;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-ratls-XXXXXX");
	if (!mkdtemp(dir) || rmdir(dir) != 0 || cocoon_sim_init(dir, NULL) != 0)
		return -1;
	if (!(root = read_rel("intel/root.pem", &len)))
		return -1;
	vo.intel_root_der = root;
	vo.intel_root_der_len = len;
	vo.trust_simulation = 1;
	if (cocoon_verifier_new(&verifier, &vo) != 0)
		return -1;
	free(root);
	for (int tdx = 0; tdx <= 1; tdx++) {
		if (!(json = read_rel(tdx ? "intel/collateral-tdx.json" : "intel/collateral-sgx.json", &len)) ||
		    cocoon_collateral_from_json(&coll[tdx], (const char *)json, len) != 0)
			return -1;
		free(json);
	}
	for (int i = 0; i < 3; i++)
		if (!(amd[i] = read_rel(amd_rel[i], &amd_len[i])))
			return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	cocoon_verifier_free(verifier);
	for (int i = 0; i < 2; i++)
		cocoon_collateral_free(coll[i]);
	for (int i = 0; i < 3; i++)
		free(amd[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void make(cocoon_ratls_credentials *c, cocoon_tee tee, int legacy)
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_ratls_make_options mo = COCOON_RATLS_MAKE_OPTIONS_INIT;
	eo.provider = "sim";
	eo.sim_dir = dir;
	eo.tee = tee;
	mo.evidence = &eo;
	mo.legacy = legacy;
	assert_int_equal(cocoon_ratls_make(c, &mo), 0);
	assert_int_equal(c->tee, tee);
	assert_non_null(strstr(c->key_pem, "BEGIN PRIVATE KEY"));
}

/* Verifies with the trust each TEE needs (or none: collateral = 0). */
static void check(cocoon_ratls_result *r, const uint8_t *cert, size_t len, cocoon_tee tee, int collateral, time_t at)
{
	cocoon_ratls_verify_options o = COCOON_RATLS_VERIFY_OPTIONS_INIT;
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	in.vcek = amd[0];
	in.vcek_len = amd_len[0];
	in.chain = amd[1];
	in.chain_len = amd_len[1];
	in.crl = amd[2];
	in.crl_len = amd_len[2];
	o.at = at;
	if (collateral && tee == COCOON_TEE_SNP)
		o.snp = &in;
	else if (collateral)
		o.collateral = coll[tee == COCOON_TEE_TDX];
	assert_int_equal(cocoon_ratls_verify(r, verifier, cert, len, &o), 0);
}

static void expect(const cocoon_ratls_result *r, cocoon_check c, const char *part)
{
	if (r->failed_check != c || !strstr(r->reason, part))
		fail_msg("expected %s with \"%s\", got %s: %s", cocoon_check_name(c), part,
		         cocoon_check_name(r->failed_check), r->reason);
	assert_false(r->accepted);
}

static void roundtrip(cocoon_tee tee, int legacy)
{
	cocoon_ratls_credentials c;
	cocoon_ratls_result r;
	char *json = NULL;

	make(&c, tee, legacy);
	check(&r, (const uint8_t *)c.cert_pem, c.cert_pem_len, tee, 1, 0);
	if (!r.accepted)
		fail_msg("%s%s rejected: %s: %s", cocoon_tee_name(tee), legacy ? "+legacy" : "",
		         cocoon_check_name(r.failed_check), r.reason);
	assert_true(r.binding_ok && r.evidence_verified && r.evidence_result.simulated);
	assert_int_equal(r.form, COCOON_RATLS_FORM_TAGGED);
	assert_int_equal(r.tee, tee);
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.gramine_legacy, legacy ? COCOON_RATLS_BINDING_HOLDS : COCOON_RATLS_BINDING_ABSENT);
	assert_int_equal(r.hash_alg, COCOON_RATLS_HASH_SHA256);
	assert_string_equal(r.key_type, "EC P-384");
	assert_true(r.self_signed);
	assert_int_equal(cocoon_ratls_result_to_json(&json, &r), 0);
	assert_non_null(strstr(json, "\"binding_ok\": true"));
	free(json);
	cocoon_ratls_result_free(&r);

	/* Without collateral: the binding is still checked and reported, the evidence is not. */
	check(&r, (const uint8_t *)c.cert_pem, c.cert_pem_len, tee, 0, 0);
	expect(&r, COCOON_CHECK_COLLATERAL, "the key binding holds, but the");
	assert_true(r.binding_ok);
	assert_false(r.evidence_verified);
	cocoon_ratls_result_free(&r);
	cocoon_ratls_credentials_free(&c);
}

static void test_roundtrip_sgx(void **s) { (void)s; roundtrip(COCOON_TEE_SGX, 0); roundtrip(COCOON_TEE_SGX, 1); }
static void test_roundtrip_tdx(void **s) { (void)s; roundtrip(COCOON_TEE_TDX, 0); roundtrip(COCOON_TEE_TDX, 1); }
static void test_roundtrip_snp(void **s) { (void)s; roundtrip(COCOON_TEE_SNP, 0); roundtrip(COCOON_TEE_SNP, 1); }

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

/*
 * An attacker's certificate carrying the victim's evidence extensions (those
 * whose OID content is keep; NULL: all) and, when value is set, one more
 * extension oid = value. Its key is new (keep_key: the victim's public key,
 * signed by another key, as a CA could); it is signed by the new key.
 */
typedef struct {
	const uint8_t *keep;
	size_t keep_len;
	int keep_key;
	const char *oid;
	const uint8_t *value;
	size_t value_len;
	EVP_PKEY *key;         /* NULL: a new P-384 key */
} recert_spec;

static uint8_t *recert(size_t *len, X509 *victim, const recert_spec *sp)
{
	EVP_PKEY *k = sp->key ? sp->key : EVP_EC_gen("P-384");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(k);
	assert_true(X509_set_version(x, X509_VERSION_3) && X509_set_subject_name(x, X509_get_subject_name(victim)) &&
	            X509_set_issuer_name(x, X509_get_subject_name(victim)) &&
	            X509_set1_notBefore(x, X509_get0_notBefore(victim)) &&
	            X509_set1_notAfter(x, X509_get0_notAfter(victim)) &&
	            X509_set_pubkey(x, sp->keep_key ? X509_get0_pubkey(victim) : k));
	for (int i = 0; i < X509_get_ext_count(victim); i++) {
		X509_EXTENSION *e = X509_get_ext(victim, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		if (sp->keep && ((size_t)OBJ_length(o) != sp->keep_len || memcmp(OBJ_get0_data(o), sp->keep, sp->keep_len) != 0))
			continue;
		assert_true(X509_add_ext(x, e, -1));
	}
	if (sp->oid) {
		ASN1_OBJECT *obj = OBJ_txt2obj(sp->oid, 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e = NULL;
		assert_true(obj && os && ASN1_OCTET_STRING_set(os, sp->value, (int)sp->value_len));
		assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os));
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	assert_true(X509_sign(x, k, EVP_sha384()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	X509_free(x);
	if (!sp->key)
		EVP_PKEY_free(k);
	*len = (size_t)n;
	return der;
}

static void test_swapped_key(void **s)
{
	static const cocoon_tee tees[3] = { COCOON_TEE_SGX, COCOON_TEE_TDX, COCOON_TEE_SNP };
	(void)s;
	for (int t = 0; t < 3; t++) {
		cocoon_ratls_credentials c;
		cocoon_ratls_result r;
		recert_spec all = { 0 }, legacy = { .keep = cocoon_ratls_oid_gramine_legacy,
			                            .keep_len = sizeof(cocoon_ratls_oid_gramine_legacy) },
			    tagged = { .keep = cocoon_ratls_oid_tagged, .keep_len = sizeof(cocoon_ratls_oid_tagged) };
		uint8_t *der;
		size_t len;
		X509 *victim;

		make(&c, tees[t], 1);
		victim = pem_cert(c.cert_pem);
		/* Both extensions kept: the tagged one is appraised, and its pubkey-hash no longer matches. */
		der = recert(&len, victim, &all);
		check(&r, der, len, tees[t], 1, 0);
		expect(&r, COCOON_CHECK_RATLS_BINDING, "pubkey-hash claim");
		assert_int_equal(r.tagged, COCOON_RATLS_BINDING_BROKEN);
		assert_int_equal(r.gramine_legacy, COCOON_RATLS_BINDING_BROKEN);
		assert_false(r.binding_ok);
		assert_true(r.self_signed);
		cocoon_ratls_result_free(&r);
		OPENSSL_free(der);
		/* Only the legacy extension kept. */
		der = recert(&len, victim, &legacy);
		check(&r, der, len, tees[t], 1, 0);
		expect(&r, COCOON_CHECK_RATLS_BINDING, "Gramine legacy extension: report data");
		assert_int_equal(r.tagged, COCOON_RATLS_BINDING_ABSENT);
		cocoon_ratls_result_free(&r);
		OPENSSL_free(der);
		/* Only the tagged one kept, checked without collateral: still a binding failure. */
		der = recert(&len, victim, &tagged);
		check(&r, der, len, tees[t], 0, 0);
		expect(&r, COCOON_CHECK_RATLS_BINDING, "is not the attested one");
		cocoon_ratls_result_free(&r);
		OPENSSL_free(der);
		/* The victim's key signed by someone else: the binding still holds (TLS proves possession). */
		tagged.keep_key = 1;
		der = recert(&len, victim, &tagged);
		check(&r, der, len, tees[t], 1, 0);
		assert_true(r.accepted && r.binding_ok);
		assert_false(r.self_signed);
		cocoon_ratls_result_free(&r);
		OPENSSL_free(der);
		X509_free(victim);
		cocoon_ratls_credentials_free(&c);
	}
}

/* The attacker writes claims for their own key and reuses the victim's evidence. */
static void test_altered_claims(void **s)
{
	cocoon_ratls_credentials c;
	cocoon_ratls_tagged t;
	cocoon_ratls_result r;
	cocoon_failure f;
	EVP_PKEY *k = EVP_EC_gen("P-384");
	recert_spec sp = { .keep = (const uint8_t *)"", .keep_len = 0, .oid = COCOON_RATLS_OID_TAGGED, .key = k };
	uint8_t spki_hash[32], *claims = NULL, *value = NULL, *der;
	unsigned char *spki = NULL;
	size_t claims_len, value_len, len;
	int n;
	X509 *x;
	(void)s;

	make(&c, COCOON_TEE_SGX, 0);
	x = pem_cert(c.cert_pem);
	ASN1_OBJECT *oid = OBJ_txt2obj(COCOON_RATLS_OID_TAGGED, 1);
	ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, X509_get_ext_by_OBJ(x, oid, -1)));
	ASN1_OBJECT_free(oid);
	assert_int_equal(cocoon_ratls_tagged_parse(&t, &f, ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)), 0);
	assert_true((n = i2d_PUBKEY(k, &spki)) > 0);
	assert_int_equal(cocoon_sha256(spki_hash, 1, (const void *const[]){ spki }, (const size_t[]){ (size_t)n }), 0);
	assert_int_equal(cocoon_ratls_claims_build(&claims, &claims_len, spki_hash, NULL, 0), 0);
	assert_int_equal(cocoon_ratls_tagged_build(&value, &value_len, t.evidence, t.evidence_len, claims, claims_len), 0);
	sp.value = value;
	sp.value_len = value_len;
	der = recert(&len, x, &sp);
	check(&r, der, len, COCOON_TEE_SGX, 1, 0);
	expect(&r, COCOON_CHECK_RATLS_BINDING, "is not SHA-256 of the claims");
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_BROKEN);
	cocoon_ratls_result_free(&r);
	OPENSSL_free(der);
	OPENSSL_free(spki);
	EVP_PKEY_free(k);
	free(claims);
	free(value);
	cocoon_ratls_tagged_free(&t);
	X509_free(x);
	cocoon_ratls_credentials_free(&c);
}

static void test_validity_and_malformed(void **s)
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_ratls_make_options mo = COCOON_RATLS_MAKE_OPTIONS_INIT;
	cocoon_ratls_credentials c;
	cocoon_ratls_result r;
	recert_spec none = { .keep = (const uint8_t *)"", .keep_len = 0 };
	recert_spec bad = { .keep = (const uint8_t *)"", .oid = COCOON_RATLS_OID_TAGGED,
		            .value = (const uint8_t *)"\xd9\xea\x60\x82\x41\x00\x41\x00\x00", .value_len = 9 };
	uint8_t *der;
	size_t len;
	X509 *x;
	(void)s;

	eo.provider = "sim";
	eo.sim_dir = dir;
	mo.evidence = &eo;
	mo.key_type = COCOON_RATLS_KEY_P256;
	mo.not_before = time(NULL) - 60;
	mo.not_after = time(NULL) + 600;
	assert_int_equal(cocoon_ratls_make(&c, &mo), 0);
	check(&r, (const uint8_t *)c.cert_pem, c.cert_pem_len, COCOON_TEE_SGX, 1, time(NULL) + 3600);
	expect(&r, COCOON_CHECK_RATLS_VALIDITY, "expired");
	assert_true(r.binding_ok); /* reported although the verdict names the validity */
	cocoon_ratls_result_free(&r);
	check(&r, (const uint8_t *)c.cert_pem, c.cert_pem_len, COCOON_TEE_SGX, 1, time(NULL) - 3600);
	expect(&r, COCOON_CHECK_RATLS_VALIDITY, "not valid yet");
	cocoon_ratls_result_free(&r);
	check(&r, (const uint8_t *)c.cert_pem, c.cert_pem_len, COCOON_TEE_SGX, 1, 0);
	assert_true(r.accepted);
	assert_string_equal(r.key_type, "EC P-256");
	cocoon_ratls_result_free(&r);

	x = pem_cert(c.cert_pem);
	der = recert(&len, x, &none);
	check(&r, der, len, COCOON_TEE_SGX, 1, 0);
	expect(&r, COCOON_CHECK_RATLS_EXTENSION, "no RA-TLS evidence extension");
	cocoon_ratls_result_free(&r);
	OPENSSL_free(der);
	der = recert(&len, x, &bad);
	check(&r, der, len, COCOON_TEE_SGX, 1, 0);
	expect(&r, COCOON_CHECK_RATLS_EXTENSION, "trailing");
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_MALFORMED);
	cocoon_ratls_result_free(&r);
	OPENSSL_free(der);
	X509_free(x);

	check(&r, (const uint8_t *)"not a certificate", 17, COCOON_TEE_SGX, 1, 0);
	expect(&r, COCOON_CHECK_RATLS_CERTIFICATE, "not an X.509 certificate");
	cocoon_ratls_credentials_free(&c);
}

static void test_nonce(void **s)
{
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_ratls_make_options mo = COCOON_RATLS_MAKE_OPTIONS_INIT;
	cocoon_ratls_verify_options vo = COCOON_RATLS_VERIFY_OPTIONS_INIT;
	cocoon_ratls_credentials with, without;
	cocoon_ratls_result r;
	(void)s;

	eo.provider = "sim";
	eo.sim_dir = dir;
	mo.evidence = &eo;
	mo.nonce = (const uint8_t *)"session-1";
	mo.nonce_len = 9;
	assert_int_equal(cocoon_ratls_make(&with, &mo), 0);
	mo.nonce = NULL;
	mo.nonce_len = 0;
	assert_int_equal(cocoon_ratls_make(&without, &mo), 0);
	vo.collateral = coll[0];
	vo.nonce = (const uint8_t *)"session-1";
	vo.nonce_len = 9;
	assert_int_equal(cocoon_ratls_verify(&r, verifier, (const uint8_t *)with.cert_pem, with.cert_pem_len, &vo), 0);
	assert_true(r.accepted);
	assert_int_equal(r.nonce_len, 9);
	assert_memory_equal(r.nonce, "session-1", 9);
	cocoon_ratls_result_free(&r);
	vo.nonce = (const uint8_t *)"session-2";
	assert_int_equal(cocoon_ratls_verify(&r, verifier, (const uint8_t *)with.cert_pem, with.cert_pem_len, &vo), 0);
	expect(&r, COCOON_CHECK_RATLS_BINDING, "not the expected nonce");
	assert_false(r.binding_ok);
	cocoon_ratls_result_free(&r);
	assert_int_equal(cocoon_ratls_verify(&r, verifier, (const uint8_t *)without.cert_pem, without.cert_pem_len, &vo), 0);
	expect(&r, COCOON_CHECK_RATLS_BINDING, "carries no nonce claim");
	cocoon_ratls_result_free(&r);
	cocoon_ratls_credentials_free(&with);
	cocoon_ratls_credentials_free(&without);
}

/* Hand-made CBOR values the parser must refuse, each with the element named. */
static void test_tagged_parser(void **s)
{
	static const struct { const char *bytes; size_t len; const char *reason; } cases[] = {
		{ "\xd8\x2a\x82\x41\x00\x41\x00", 7, "CBOR tag 42" },
		{ "\xd9\xea\x60\x83\x41\x00\x41\x00\x41\x00", 10, "array of 3 elements" },
		{ "\xd9\xea\x60\x82\x41\x00", 6, "ends before the claims" },
		{ "\xd9\xea\x60\x82\x5f\x41\x00\xff\x41\x00", 10, "indefinite-length" },
		{ "\xd9\xea\x60\x82\x41\x00\x81\x41\x00", 9, "must be a byte string, found an array" },
		{ "\xd9\xea\x60\x82\x42\x00", 6, "truncated" },
		{ "\xd9\xea\x60\x82\x41\x00\x41\xa0", 8, "0 claims" },
		{ "\xd9\xea\x60\x82\x41\x00\x44\xa1\x61\x78\x40", 11, "pubkey-hash claim is missing" },
		{ "\xd9\xea\x60\x82\x41\x00\x47\xa1\x61\x78\xa1\x61\x79\x40", 14, "claim value" },
		/* {"pubkey-hash": bstr([2, h'00'])}: an unknown hash algorithm */
		{ "\xd9\xea\x60\x82\x41\x00\x52\xa1\x6bpubkey-hash\x44\x82\x02\x41\x00", 25, "hash-alg-id 2" },
		/* [1, h'00']: a SHA-256 hash of one byte */
		{ "\xd9\xea\x60\x82\x41\x00\x52\xa1\x6bpubkey-hash\x44\x82\x01\x41\x00", 25, "hash-value is 1 bytes" },
	};
	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cocoon_ratls_tagged t;
		cocoon_failure f = { 0 };
		int err = cocoon_ratls_tagged_parse(&t, &f, (const uint8_t *)cases[i].bytes, cases[i].len);
		if (err != COCOON_EREJECT || f.check != COCOON_CHECK_RATLS_EXTENSION || !strstr(f.reason, cases[i].reason))
			fail_msg("case %zu: err %d, %s: %s (expected \"%s\")", i, err, cocoon_check_name(f.check), f.reason,
			         cases[i].reason);
	}
}

static void vector(cocoon_ratls_result *r, const char *name, time_t at)
{
	char rel[64];
	size_t len;
	uint8_t *pem;
	snprintf(rel, sizeof(rel), "ratls/%s", name);
	if (!(pem = cocoon_test_vector(rel, &len))) {
		print_message("SKIP: %s is absent from %s\n", rel, cocoon_test_vectors_dir());
		skip();
	}
	check(r, pem, len, COCOON_TEE_SGX, 0, at);
	free(pem);
}

static void test_vector_gramine(void **s)
{
	cocoon_ratls_result r;
	(void)s;
	COCOON_REQUIRE_VECTORS();
	vector(&r, "gramine-cert.pem", 0);
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.gramine_legacy, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.intel_sgxsdk, COCOON_RATLS_BINDING_ABSENT);
	assert_int_equal(r.form, COCOON_RATLS_FORM_TAGGED);
	assert_int_equal(r.tee, COCOON_TEE_SGX);
	assert_string_equal(r.key_type, "EC P-384");
	assert_true(r.binding_ok);
	expect(&r, COCOON_CHECK_COLLATERAL, "unverified");
	cocoon_ratls_result_free(&r);
}

static void test_vector_rats_tls(void **s)
{
	cocoon_ratls_result r;
	(void)s;
	COCOON_REQUIRE_VECTORS();
	vector(&r, "rats-tls-cert.pem", 0);
	expect(&r, COCOON_CHECK_RATLS_VALIDITY, "expired"); /* notAfter 2024-02-22 */
	assert_true(r.binding_ok);
	cocoon_ratls_result_free(&r);
	vector(&r, "rats-tls-cert.pem", RATS_TLS_AT);
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.gramine_legacy, COCOON_RATLS_BINDING_ABSENT);
	assert_int_equal(r.n_other_claims, 2);
	assert_string_equal(r.key_type, "EC P-256");
	assert_true(r.binding_ok);
	expect(&r, COCOON_CHECK_COLLATERAL, "unverified");
	cocoon_ratls_result_free(&r);
}

static void test_vector_intel_sgxsdk(void **s)
{
	static const recert_spec only_sdk = { .keep = cocoon_ratls_oid_intel_sgxsdk,
		                              .keep_len = sizeof(cocoon_ratls_oid_intel_sgxsdk), .keep_key = 1 };
	cocoon_ratls_result r;
	uint8_t *pem, *der;
	size_t len;
	X509 *x;
	(void)s;
	COCOON_REQUIRE_VECTORS();
	/* It carries the tagged extension too; the 1.13.1 quote is the same quote, bound through the claims. */
	vector(&r, "intel-sgxsdk-cert.pem", 0);
	assert_int_equal(r.tagged, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.intel_sgxsdk, COCOON_RATLS_BINDING_HOLDS);
	assert_int_equal(r.form, COCOON_RATLS_FORM_TAGGED);
	assert_true(r.binding_ok);
	cocoon_ratls_result_free(&r);
	/* The 1.13.1 extension alone: what its report data binds is not documented. */
	pem = cocoon_test_vector("ratls/intel-sgxsdk-cert.pem", &len);
	x = pem_cert((const char *)pem);
	der = recert(&len, x, &only_sdk);
	check(&r, der, len, COCOON_TEE_SGX, 0, 0);
	assert_int_equal(r.intel_sgxsdk, COCOON_RATLS_BINDING_UNDOCUMENTED);
	assert_int_equal(r.form, COCOON_RATLS_FORM_INTEL_SGXSDK);
	expect(&r, COCOON_CHECK_RATLS_BINDING, "no published rule");
	assert_false(r.binding_ok);
	cocoon_ratls_result_free(&r);
	OPENSSL_free(der);
	X509_free(x);
	free(pem);
}

static void test_policy_host_data(void **s)
{
	static const char abc_sha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	uint8_t d[32];
	char h[65];
	(void)s;
	assert_int_equal(cocoon_snp_host_data_from_policy(d, (const uint8_t *)"abc", 3, 0), 0);
	cocoon_hex_encode(h, d, 32);
	assert_string_equal(h, abc_sha256);
	/* The base64 form, as security-policy-base64 holds it (a trailing newline is allowed). */
	assert_int_equal(cocoon_snp_host_data_from_policy(d, (const uint8_t *)"YWJj\n", 5, 1), 0);
	cocoon_hex_encode(h, d, 32);
	assert_string_equal(h, abc_sha256);
	assert_int_equal(cocoon_snp_host_data_from_policy(d, (const uint8_t *)"YW*j", 4, 1), COCOON_EFORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_sgx),
		cmocka_unit_test(test_roundtrip_tdx),
		cmocka_unit_test(test_roundtrip_snp),
		cmocka_unit_test(test_swapped_key),
		cmocka_unit_test(test_altered_claims),
		cmocka_unit_test(test_validity_and_malformed),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_tagged_parser),
		cmocka_unit_test(test_vector_gramine),
		cmocka_unit_test(test_vector_rats_tls),
		cmocka_unit_test(test_vector_intel_sgxsdk),
		cmocka_unit_test(test_policy_host_data),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
