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

static void set_str(vec *v, const char *key, const char *value)
{
	json_object_set_new(v->coll, key, json_string(value));
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

/* Flips one byte of the quote at offset and expects the given check. */
static void flip_expect(const char *quote, const char *coll, time_t at, size_t offset, cocoon_check check,
                        const char *part)
{
	vec v;
	vec_load(&v, quote, coll, at);
	assert_true(offset < v.quote_len);
	v.quote[offset] ^= 0x01;
	cocoon_result r = run(&v);
	expect_reject(&r, check, part);
	vec_free(&v);
}

/* Offsets inside the v3 SGX quote's signature data. */
#define SGX_SIG (48 + 384 + 4)
#define SGX_KEY (SGX_SIG + 64)
#define SGX_QE_REPORT (SGX_KEY + 64)
#define SGX_QE_SIG (SGX_QE_REPORT + 384)
#define SGX_AUTH (SGX_QE_SIG + 64 + 2)

static void test_sgx_byte_flips(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	const char *q = "sgx/quote.bin", *c = "sgx/collateral.json";
	time_t at = COCOON_TEST_AT_SGX;
	flip_expect(q, c, at, 30, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");        /* header user data */
	flip_expect(q, c, at, 12, COCOON_CHECK_QE_VENDOR_ID, "not Intel's");                /* QE vendor ID */
	flip_expect(q, c, at, 48 + 64, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");   /* MRENCLAVE */
	flip_expect(q, c, at, 48 + 320, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");  /* report data */
	flip_expect(q, c, at, SGX_SIG + 5, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");
	flip_expect(q, c, at, SGX_KEY + 5, COCOON_CHECK_QE_REPORT_DATA, "attestation key");
	flip_expect(q, c, at, SGX_QE_REPORT + 64, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(q, c, at, SGX_QE_SIG + 7, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(q, c, at, SGX_AUTH + 1, COCOON_CHECK_QE_REPORT_DATA, "QE auth data");
	flip_expect(q, c, at, 0, COCOON_CHECK_QUOTE_VERSION, "version");
	flip_expect(q, c, at, 2, COCOON_CHECK_ATTESTATION_KEY_TYPE, "");
}

static void test_tdx_byte_flips(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	const char *q = "tdx/quote.bin", *c = "tdx/collateral.json";
	time_t at = COCOON_TEST_AT_TDX;
	const size_t sig = 48 + 584 + 4;
	flip_expect(q, c, at, 40, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");
	flip_expect(q, c, at, 48 + 136, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature"); /* MRTD */
	flip_expect(q, c, at, sig + 3, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");
	flip_expect(q, c, at, sig + 64 + 9, COCOON_CHECK_QE_REPORT_DATA, "attestation key");
	/* outer type 6 header is 6 bytes, then the QE report */
	flip_expect(q, c, at, sig + 128 + 6 + 100, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(q, c, at, sig + 128 + 6 + 384 + 10, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(q, c, at, sig + 128 + 6 + 384 + 64 + 2 + 3, COCOON_CHECK_QE_REPORT_DATA, "QE auth data");
	flip_expect(q, c, at, sig + 128, COCOON_CHECK_CERTIFICATION_DATA, "");  /* outer cert type 6 -> 7 */
}

static void test_edited_collateral(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();

	/* TCB info JSON edited: one status changed. */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		char *ti = strdup(json_string_value(json_object_get(v.coll, "tcb_info")));
		char *p = strstr(ti, "OutOfDate");
		assert_non_null(p);
		memcpy(p, "UpToDate\"", 9); /* keeps the length, changes the bytes */
		set_str(&v, "tcb_info", ti);
		free(ti);
		cocoon_result r = run(&v);
		expect_reject(&r, COCOON_CHECK_TCB_INFO_SIGNATURE, "TCB info signature");
	}
	vec_free(&v);

	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		char *s = strdup(json_string_value(json_object_get(v.coll, "tcb_info_signature")));
		s[10] = s[10] == '0' ? '1' : '0';
		set_str(&v, "tcb_info_signature", s);
		free(s);
		cocoon_result r = run(&v);
		expect_reject(&r, COCOON_CHECK_TCB_INFO_SIGNATURE, "signature");
	}
	vec_free(&v);

	/* QE identity edited: isvprodid 1 -> 2 style edit of a digit. */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		char *qe = strdup(json_string_value(json_object_get(v.coll, "qe_identity")));
		char *p = strstr(qe, "\"isvprodid\":");
		assert_non_null(p);
		p += strlen("\"isvprodid\":");
		*p = *p == '1' ? '2' : '1';
		set_str(&v, "qe_identity", qe);
		free(qe);
		cocoon_result r = run(&v);
		expect_reject(&r, COCOON_CHECK_QE_IDENTITY_SIGNATURE, "QE identity signature");
	}
	vec_free(&v);

	vec_load(&v, "tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX);
	{
		char *s = strdup(json_string_value(json_object_get(v.coll, "qe_identity_signature")));
		s[70] = s[70] == 'a' ? 'b' : 'a';
		set_str(&v, "qe_identity_signature", s);
		free(s);
		cocoon_result r = run(&v);
		expect_reject(&r, COCOON_CHECK_QE_IDENTITY_SIGNATURE, "signature");
	}
	vec_free(&v);
}

static void test_dates_outside_window(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	const struct { const char *q, *c; time_t at; } cases[] = {
		{ "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX },
		{ "tdx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX },
	};
	for (size_t i = 0; i < 2; i++) {
		cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
		vec_load(&v, cases[i].q, cases[i].c, cases[i].at);
		/* The pinned time is one second before the earliest nextUpdate:
		 * two seconds later, something has expired. */
		v.at = cases[i].at + 2;
		cocoon_result r = run(&v);
		/* SGX: the QE identity expires first; TDX: the PCK CRL. */
		if (i == 0)
			expect_reject(&r, COCOON_CHECK_QE_IDENTITY_VALIDITY, "QE identity has expired");
		else
			expect_reject(&r, COCOON_CHECK_PCK_CRL, "CRL has expired");

		/* The same with the expiry override: accepted and flagged. */
		o.at = v.at;
		o.allow_expired_collateral = 1;
		r = run_opts(&v, &o);
		if (!r.accepted)
			fail_msg("allow-expired still rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
		assert_true(r.collateral_expired);

		/* Today the collateral has long expired. */
		o.at = 0;
		o.allow_expired_collateral = 0;
		r = run_opts(&v, &o);
		assert_false(r.accepted);
		assert_non_null(strstr(r.reason, "expired"));
		vec_free(&v);
	}
}

static void test_issue_date_in_future(void **state)
{
	vec v;
	time_t issue;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		json_t *ti = json_loads(json_string_value(json_object_get(v.coll, "tcb_info")), 0, NULL);
		assert_non_null(ti);
		assert_int_equal(cocoon_time_parse(&issue, json_string_value(json_object_get(ti, "issueDate"))), 0);
		json_decref(ti);
	}
	v.at = issue - 1;
	cocoon_result r = run(&v);
	expect_reject(&r, COCOON_CHECK_TCB_INFO_VALIDITY, "issued in the future");
	vec_free(&v);
}

static void test_bad_crls(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();

	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	set_str(&v, "root_ca_crl", "deadbeef");
	cocoon_result r = run(&v);
	expect_reject(&r, COCOON_CHECK_ROOT_CA_CRL, "unparsable");
	vec_free(&v);

	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	set_str(&v, "pck_crl", "deadbeef");
	r = run(&v);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "unparsable");
	vec_free(&v);

	/* An empty CRL is refused when the collateral is loaded (input error, field named). */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	set_str(&v, "pck_crl", "");
	{
		cocoon_collateral *c = NULL;
		char *json = json_dumps(v.coll, 0);
		assert_int_equal(cocoon_collateral_from_json(&c, json, strlen(json)), COCOON_EFORMAT);
		assert_non_null(strstr(cocoon_error_last()->message, "pck_crl"));
		free(json);
	}
	vec_free(&v);

	/* Swapped: the root CRL where the PCK CRL belongs, and the reverse. */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		char *root = strdup(json_string_value(json_object_get(v.coll, "root_ca_crl")));
		char *pck = strdup(json_string_value(json_object_get(v.coll, "pck_crl")));
		set_str(&v, "pck_crl", root);
		r = run(&v);
		expect_reject(&r, COCOON_CHECK_PCK_CRL, "");
		set_str(&v, "pck_crl", pck);
		set_str(&v, "root_ca_crl", pck);
		r = run(&v);
		expect_reject(&r, COCOON_CHECK_ROOT_CA_CRL, "");
		free(root);
		free(pck);
	}
	vec_free(&v);

	/* A CRL with one signature byte altered. */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		char *pck = strdup(json_string_value(json_object_get(v.coll, "pck_crl")));
		size_t n = strlen(pck);
		pck[n - 6] = pck[n - 6] == '0' ? '1' : '0';
		set_str(&v, "pck_crl", pck);
		free(pck);
		r = run(&v);
		assert_false(r.accepted);
		assert_int_equal(r.failed_check, COCOON_CHECK_PCK_CRL);
	}
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

static void test_mismatched_collateral(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	/* SGX quote with TDX collateral, and the reverse: the PCK CRL is from the
	 * other PCK CA (Platform vs Processor), which the CRL issuer rule catches. */
	vec_load(&v, "sgx/quote.bin", "tdx/collateral.json", COCOON_TEST_AT_TDX);
	cocoon_result r = run(&v);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "does not match the PCK certificate's issuer");
	vec_free(&v);

	vec_load(&v, "tdx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	r = run(&v);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "does not match the PCK certificate's issuer");
	vec_free(&v);

	/* With the right CRLs but the other TEE's TCB info and QE identity. */
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	{
		size_t len;
		char *other = (char *)cocoon_test_vector("tdx/collateral.json", &len);
		json_t *t = json_loads(other, 0, NULL);
		const char *keys[] = { "tcb_info", "tcb_info_signature", "qe_identity", "qe_identity_signature" };
		for (int i = 0; i < 4; i++)
			json_object_set(v.coll, keys[i], json_object_get(t, keys[i]));
		json_decref(t);
		free(other);
		v.at = COCOON_TEST_AT_TDX;
		r = run(&v);
		expect_reject(&r, COCOON_CHECK_TCB_INFO_MISMATCH, "SGX quote");
	}
	vec_free(&v);
}

static void test_truncated_and_overlong(void **state)
{
	vec v;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	vec_load(&v, "sgx/quote.bin", "sgx/collateral.json", COCOON_TEST_AT_SGX);
	/* Truncated inside the certification data. */
	size_t full = v.quote_len;
	v.quote_len = full - 100;
	cocoon_result r = run(&v);
	expect_reject(&r, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len");
	/* Declared signature data length too large by one. */
	v.quote_len = full;
	uint32_t sig_len = cocoon_le32(v.quote + 48 + 384);
	cocoon_put_le32(v.quote + 48 + 384, sig_len + (uint32_t)(full - (48 + 384 + 4) - sig_len) + 1);
	r = run(&v);
	expect_reject(&r, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len");
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
		cmocka_unit_test(test_sgx_byte_flips),
		cmocka_unit_test(test_tdx_byte_flips),
		cmocka_unit_test(test_edited_collateral),
		cmocka_unit_test(test_dates_outside_window),
		cmocka_unit_test(test_issue_date_in_future),
		cmocka_unit_test(test_bad_crls),
		cmocka_unit_test(test_missing_crl_is_input_error),
		cmocka_unit_test(test_mismatched_collateral),
		cmocka_unit_test(test_truncated_and_overlong),
		cmocka_unit_test(test_wrong_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
