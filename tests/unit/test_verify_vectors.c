/*
 * DCAP verification on the real hardware vectors, and the negative matrix
 * built from them: byte flips, edited collateral, dates one second outside
 * the window, bad or swapped CRLs, mismatched collateral, truncation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "cocoon/cocoon.h"
#include "common/util.h"
#include "dcap/quote.h"
#include "dcap_matrix.h"

typedef struct {
	uint8_t *quote;
	size_t quote_len;
	json_t *coll;     /* the collateral JSON, editable */
	time_t at;
} vec;

static cocoon_verifier *verifier;

static int setup(void **state)
{
	(void)state;
	return cocoon_verifier_new(&verifier, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cocoon_verifier_free(verifier);
	return 0;
}

static void vec_load(vec *v, const char *quote, const char *coll, time_t at)
{
	size_t len;
	char *json = (char *)cocoon_test_vector(coll, &len);
	json_error_t e;
	v->quote = cocoon_test_vector(quote, &v->quote_len);
	assert_non_null(v->quote);
	assert_non_null(json);
	v->coll = json_loadb(json, len, 0, &e);
	assert_non_null(v->coll);
	free(json);
	v->at = at;
}

static void vec_free(vec *v)
{
	free(v->quote);
	json_decref(v->coll);
}

/* Runs a verification with options; returns the result by value. */
static cocoon_result run_opts(const vec *v, const cocoon_verify_options *o)
{
	cocoon_result r;
	cocoon_collateral *c = NULL;
	char *json = json_dumps(v->coll, 0);
	assert_int_equal(cocoon_collateral_from_json(&c, json, strlen(json)), 0);
	assert_int_equal(cocoon_verifier_verify_dcap(&r, verifier, v->quote, v->quote_len, c, o), 0);
	cocoon_collateral_free(c);
	free(json);
	return r;
}

static cocoon_result run(const vec *v)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	o.at = v->at;
	return run_opts(v, &o);
}

static void expect_reject(const cocoon_result *r, cocoon_check check, const char *reason_part)
{
	if (r->accepted || r->failed_check != check || !strstr(r->reason, reason_part))
		fail_msg("expected reject %s containing \"%s\", got %s %s: %s", cocoon_check_name(check), reason_part,
		         r->accepted ? "accept" : "reject", cocoon_check_name(r->failed_check), r->reason);
}

static int has_advisory(const cocoon_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_advisories; i++)
		if (strcmp(r->advisory_ids[i], id) == 0)
			return 1;
	return 0;
}

static void test_sgx_accepts(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	cocoon_result r = run(&v);
	if (!r.accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	assert_int_equal(r.tee, COCOON_TEE_SGX);
	assert_int_equal(r.quote_version, 3);
	assert_string_equal(cocoon_tcb_status_name(r.status), "ConfigurationAndSWHardeningNeeded");
	assert_true(has_advisory(&r, "INTEL-SA-00289"));
	assert_true(has_advisory(&r, "INTEL-SA-00615"));
	assert_int_equal(r.n_advisories, 2);
	assert_int_equal(r.simulated, 0);
	assert_int_equal(r.collateral_expired, 0);
	assert_true(r.has_platform);
	assert_int_equal(r.sgx.debug, 0);
	/* The claims are the quote's own bytes. */
	assert_memory_equal(r.sgx.mrenclave, v.quote + 48 + 64, 32);
	assert_memory_equal(r.sgx.report_data, v.quote + 48 + 320, 64);

	/* The second run is served by both cache tiers and agrees. */
	cocoon_result r2 = run(&v);
	assert_true(r2.accepted);
	assert_true(r2.cache_collateral_hit);
	assert_true(r2.cache_platform_hit);
	assert_int_equal(r2.status, r.status);

	char *json = NULL;
	assert_int_equal(cocoon_result_to_json(&json, &r), 0);
	assert_non_null(strstr(json, "\"verdict\": \"accept\""));
	assert_non_null(strstr(json, "\"status\": \"ConfigurationAndSWHardeningNeeded\""));
	free(json);
	vec_free(&v);
}

static void test_tdx_accepts(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX);
	cocoon_result r = run(&v);
	if (!r.accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	assert_int_equal(r.tee, COCOON_TEE_TDX);
	assert_int_equal(r.quote_version, 4);
	assert_string_equal(cocoon_tcb_status_name(r.status), "UpToDate");
	assert_int_equal(r.module_status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(r.qe_status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(r.n_advisories, 0);
	assert_memory_equal(r.tdx.mrtd, v.quote + 48 + 136, 48);
	vec_free(&v);
}

static void test_tdx_outdated_not_supported(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "tdx/quote-outdated.bin", "tdx/collateral-outdated.json", COCOON_TEST_AT_TDX_OUTDATED);
	cocoon_result r = run(&v);
	assert_int_equal(r.quote_version, 5);
	expect_reject(&r, COCOON_CHECK_TCB_LEVEL, "TCB not supported");
	assert_int_equal(r.status, COCOON_TCB_NOT_SUPPORTED);
	vec_free(&v);
}

/* The shared negative matrix (tests/support/dcap_matrix.c) on the real vectors. */
static void matrix_case(cocoon_matrix_case *c, vec *v, const char *quote, const char *coll, time_t at, int tdx,
                        cocoon_check expiry_check)
{
	vec_load(v, quote, coll, at);
	memset(c, 0, sizeof(*c));
	c->quote = v->quote;
	c->quote_len = v->quote_len;
	c->collateral = json_dumps(v->coll, 0);
	c->at = at;
	c->first_expiry = at + 1; /* the pinned time is one second before the earliest nextUpdate */
	c->expiry_check = expiry_check;
	c->verifier = verifier;
	c->tdx = tdx;
}

static void matrix_free(cocoon_matrix_case *c, vec *v)
{
	free((char *)c->collateral);
	vec_free(v);
}

static void test_matrix(void **state)
{
	cocoon_matrix_case sgx, tdx;
	vec vs, vt;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	/* SGX: the QE identity expires first; TDX: the PCK CRL. */
	matrix_case(&sgx, &vs, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX, 0,
	            COCOON_CHECK_QE_IDENTITY_VALIDITY);
	matrix_case(&tdx, &vt, "tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX, 1, COCOON_CHECK_PCK_CRL);
	for (int i = 0; i < 2; i++) {
		const cocoon_matrix_case *c = i ? &tdx : &sgx;
		cocoon_matrix_accepts(c);
		cocoon_matrix_byte_flips(c);
		cocoon_matrix_edited_collateral(c);
		cocoon_matrix_dates(c);
		cocoon_matrix_bad_crls(c);
		cocoon_matrix_truncation(c);
	}
	cocoon_matrix_swapped_tee(&sgx, &tdx);
	matrix_free(&sgx, &vs);
	matrix_free(&tdx, &vt);
}

/* Real collateral from the other TEE: its PCK CRL comes from the other PCK CA. */
static void test_other_tees_collateral(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX);
	cocoon_result r = run(&v);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "does not match the PCK certificate's issuer");
	vec_free(&v);
	vec_load(&v, "tdx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	r = run(&v);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "does not match the PCK certificate's issuer");
	vec_free(&v);
}

static void test_today_rejects_expired(void **state)
{
	vec v;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX);
	cocoon_result r = run_opts(&v, &o); /* at = now */
	assert_false(r.accepted);
	assert_non_null(strstr(r.reason, "expired"));
	vec_free(&v);
}

static void test_missing_crl_is_input_error(void **state)
{
	vec v;
	cocoon_collateral *c = NULL;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	json_object_del(v.coll, "pck_crl");
	char *json = json_dumps(v.coll, 0);
	assert_int_equal(cocoon_collateral_from_json(&c, json, strlen(json)), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "pck_crl"));
	free(json);
	vec_free(&v);
}

static void test_wrong_root(void **state)
{
	vec v;
	cocoon_verifier *other = NULL;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_collateral *c = NULL;
	cocoon_result r;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	/* Pin the PCK Platform CA (a valid self-contained certificate) instead of the root. */
	const char *chain = json_string_value(json_object_get(v.coll, "pck_crl_issuer_chain"));
	vo.intel_root_der = (const uint8_t *)chain;
	vo.intel_root_der_len = strlen(chain);
	/* Not self-signed: the verifier refuses it as an anchor. */
	assert_int_equal(cocoon_verifier_new(&other, &vo), COCOON_EFORMAT);
	/* A self-signed anchor that is not Intel's: everything fails to chain. */
	{
		EVP_PKEY *k = EVP_EC_gen("P-256");
		X509 *x = X509_new();
		uint8_t *der = NULL;
		int len;
		X509_set_version(x, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
		                           (const unsigned char *)"Intel SGX Root CA", -1, -1, 0);
		X509_set_issuer_name(x, X509_get_subject_name(x));
		X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 3650);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
		X509_set_pubkey(x, k);
		X509_sign(x, k, EVP_sha256());
		len = i2d_X509(x, &der);
		vo.intel_root_der = der;
		vo.intel_root_der_len = (size_t)len;
		assert_int_equal(cocoon_verifier_new(&other, &vo), 0);
		char *json = json_dumps(v.coll, 0);
		cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
		o.at = v.at;
		assert_int_equal(cocoon_collateral_from_json(&c, json, strlen(json)), 0);
		assert_int_equal(cocoon_verifier_verify_dcap(&r, other, v.quote, v.quote_len, c, &o), 0);
		assert_false(r.accepted);
		assert_int_equal(r.failed_check, COCOON_CHECK_TCB_INFO_CHAIN);
		free(json);
		OPENSSL_free(der);
		X509_free(x);
		EVP_PKEY_free(k);
		cocoon_collateral_free(c);
		cocoon_verifier_free(other);
	}
	vec_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx_accepts),
		cmocka_unit_test(test_tdx_accepts),
		cmocka_unit_test(test_tdx_outdated_not_supported),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_other_tees_collateral),
		cmocka_unit_test(test_today_rejects_expired),
		cmocka_unit_test(test_missing_crl_is_input_error),
		cmocka_unit_test(test_wrong_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
