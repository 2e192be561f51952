/*
 * Simulated az-snp-vtpm evidence (src/lib/sim/vtpm_sim.c) through the real
 * verifier: every report-data hash type the HCL format defines, the 2048-byte
 * NV bound, the user-data binding with an otherwise valid hardware report,
 * and refusal without trust in the simulation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include "testutil.h"
#include "cocoon/vtpm.h"
#include "sim/vtpm_sim.h"

static cocoon_sim_snp_pki *pki;
static EVP_PKEY *ak;
static char *chain;
static size_t chain_len;
static cocoon_verifier *trusting, *untrusting;
static const uint8_t NONCE[] = "fresh-nonce-for-this-request";

static int setup(void **state)
{
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	(void)state;
	if (cocoon_sim_snp_pki_generate(&pki, NULL) != 0 || !(ak = EVP_RSA_gen(2048)) || !b ||
	    !PEM_write_bio_X509(b, pki->ask_cert) || !PEM_write_bio_X509(b, pki->ark_cert))
		return -1;
	n = BIO_get_mem_data(b, &p);
	chain = malloc((size_t)n);
	memcpy(chain, p, (size_t)n);
	chain_len = (size_t)n;
	BIO_free(b);
	vo.trust_simulation = 1;
	return cocoon_verifier_new(&trusting, &vo) || cocoon_verifier_new(&untrusting, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cocoon_sim_snp_pki_free(pki);
	EVP_PKEY_free(ak);
	free(chain);
	cocoon_verifier_free(trusting);
	cocoon_verifier_free(untrusting);
	return 0;
}

static char *make(uint32_t hash_type)
{
	cocoon_sim_vtpm_params p = { .nonce = NONCE, .nonce_len = sizeof(NONCE) - 1, .hash_type = hash_type,
		                     .secure_boot = 1, .vm_unique_id = "vm-under-test" };
	char *json = NULL;
	if (cocoon_sim_az_snp_evidence(&json, pki, ak, &p) != 0)
		fail_msg("%s", cocoon_error_last()->message);
	return json;
}

static void run(cocoon_result *r, cocoon_vtpm_claims *c, cocoon_verifier *v, const cocoon_vtpm_evidence *ev)
{
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	in.nonce = NONCE;
	in.nonce_len = sizeof(NONCE) - 1;
	in.amd_chain = (const uint8_t *)chain;
	in.amd_chain_len = chain_len;
	if (cocoon_verifier_verify_vtpm(r, c, v, ev, &in, NULL) != 0)
		fail_msg("%s", cocoon_error_last()->message);
}

static void test_hash_types(void **state)
{
	(void)state;
	for (uint32_t h = COCOON_HCL_HASH_SHA256; h <= COCOON_HCL_HASH_SHA512; h++) {
		char *json = make(h), *again = NULL;
		cocoon_vtpm_evidence *ev = NULL;
		cocoon_result r;
		cocoon_vtpm_claims c;

		assert_int_equal(cocoon_vtpm_evidence_parse(&ev, COCOON_VTPM_FORMAT_AZ_SNP, json, strlen(json)), 0);
		assert_int_equal(ev->version, 2);
		assert_true(ev->hcl_report_len <= COCOON_SIM_VTPM_MAX_HCL);
		run(&r, &c, trusting, ev);
		if (!r.accepted)
			fail_msg("hash type %u rejected by %s: %s", h, cocoon_check_name(r.failed_check), r.reason);
		assert_true(r.simulated);
		assert_int_equal(c.hash_type, h);
		assert_true(c.user_data_checked);
		assert_string_equal(c.vm_unique_id, "vm-under-test");
		assert_int_equal(c.n_pcrs, 24);
		/* The writer and the parser agree byte for byte. */
		assert_int_equal(cocoon_vtpm_evidence_to_json(&again, ev), 0);
		assert_string_equal(again, json);
		free(again);
		cocoon_vtpm_evidence_free(ev);
		free(json);
	}
}

static void test_refusals(void **state)
{
	char *json = make(COCOON_HCL_HASH_SHA256);
	cocoon_vtpm_evidence *ev = NULL;
	cocoon_result r;
	static const uint8_t other[] = "another-nonce";
	(void)state;

	assert_int_equal(cocoon_vtpm_evidence_parse(&ev, COCOON_VTPM_FORMAT_AZ_SNP, json, strlen(json)), 0);
	/* A verifier that does not trust the simulation refuses its ARK. */
	run(&r, NULL, untrusting, ev);
	assert_false(r.accepted);
	assert_int_equal(r.failed_check, COCOON_CHECK_SIMULATION_ROOT);
	/* A fresh TPM quote for another nonce on the old HCL report: user-data still holds the old one. */
	free(ev->quote_msg);
	free(ev->quote_sig);
	assert_int_equal(cocoon_sim_vtpm_quote(ev, ak, other, sizeof(other) - 1, (const uint8_t(*)[32])ev->pcrs), 0);
	{
		cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
		in.nonce = other;
		in.nonce_len = sizeof(other) - 1;
		in.amd_chain = (const uint8_t *)chain;
		in.amd_chain_len = chain_len;
		assert_int_equal(cocoon_verifier_verify_vtpm(&r, NULL, trusting, ev, &in, NULL), 0);
		assert_false(r.accepted);
		assert_int_equal(r.failed_check, COCOON_CHECK_VTPM_USER_DATA);
		/* Trustee's v0/v1 rule (no user-data check) would have let it through to the hardware. */
		in.check_user_data = 0;
		assert_int_equal(cocoon_verifier_verify_vtpm(&r, NULL, trusting, ev, &in, NULL), 0);
		assert_true(r.accepted);
	}
	cocoon_vtpm_evidence_free(ev);
	free(json);
}

/* Replaces the runtime claims with var, re-binding REPORT_DATA (the SNP signature is checked later). */
static void set_claims(cocoon_vtpm_evidence *ev, const char *var)
{
	uint8_t hw[COCOON_HCL_HW_REPORT_SIZE], *hcl = NULL;
	size_t len = 0;

	memcpy(hw, ev->hcl_report + 0x20, sizeof(hw));
	EVP_Digest(var, strlen(var), hw + 0x50, NULL, EVP_sha256(), NULL);
	assert_int_equal(cocoon_sim_hcl_report(&hcl, &len, hw, sizeof(hw), COCOON_HCL_REPORT_TYPE_SNP,
	                                       COCOON_HCL_HASH_SHA256, (const uint8_t *)var, strlen(var)), 0);
	free(ev->hcl_report);
	ev->hcl_report = hcl;
	ev->hcl_report_len = len;
}

static void test_runtime_claims(void **state)
{
	static const char *const bad[] = {
		"not json",
		"[]",
		"{\"keys\":[]}",
		"{\"keys\":[{\"kid\":\"HCLEkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AQAB\"}]}",
		"{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\",\"crv\":\"P-256\"}]}",
		"{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AQAB\"}]}", /* 17 bits */
		"{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"!!\"}]}",
		"{\"keys\":[],\"keys\":[]}",
	};
	char *json = make(COCOON_HCL_HASH_SHA256);
	cocoon_vtpm_evidence *ev = NULL;
	cocoon_result r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cocoon_vtpm_evidence_parse(&ev, COCOON_VTPM_FORMAT_AZ_SNP, json, strlen(json)), 0);
		set_claims(ev, bad[i]);
		run(&r, NULL, trusting, ev);
		if (r.accepted || r.failed_check != COCOON_CHECK_HCL_RUNTIME_CLAIMS)
			fail_msg("claims %s: %s by %s (%s)", bad[i], r.accepted ? "accepted" : "rejected",
			         cocoon_check_name(r.failed_check), r.reason);
		cocoon_vtpm_evidence_free(ev);
	}
	/* The sim's own claims with one field broken at a time. */
	{
		cocoon_hcl_report h;
		static const char *const edits[][2] = {
			{ "\"secure-boot\":true", "\"secure-boot\":\"yes\"" },
			{ "\"user-data\":\"", "\"user-data\":\"0" },
			{ "\"kid\":\"HCLAkPub\"", "\"kid\":\"HCLAkPub\",\"kid\":\"x\"" },
		};
		for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
			char *var, *at, *edited;
			assert_int_equal(cocoon_vtpm_evidence_parse(&ev, COCOON_VTPM_FORMAT_AZ_SNP, json, strlen(json)), 0);
			assert_int_equal(cocoon_hcl_report_parse(&h, ev->hcl_report, ev->hcl_report_len), 0);
			var = strndup((const char *)h.var_data, h.var_data_len);
			at = strstr(var, edits[i][0]);
			assert_non_null(at);
			*at = '\0';
			assert_true(asprintf(&edited, "%s%s%s", var, edits[i][1], at + strlen(edits[i][0])) > 0);
			set_claims(ev, edited);
			run(&r, NULL, trusting, ev);
			if (r.accepted || r.failed_check != COCOON_CHECK_HCL_RUNTIME_CLAIMS)
				fail_msg("edit %s: %s by %s (%s)", edits[i][1], r.accepted ? "accepted" : "rejected",
				         cocoon_check_name(r.failed_check), r.reason);
			free(var);
			free(edited);
			cocoon_vtpm_evidence_free(ev);
		}
	}
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_types),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_runtime_claims),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
