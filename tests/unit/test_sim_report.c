/*
 * The simulated report path: report MACs as EREPORT/EGETKEY compute them,
 * and the simulated QE3 that quotes app reports (what cocoon-quoted's sim
 * backend serves). Quotes go through the real DCAP verifier.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "cocoon/aesm.h"
#include "cocoon/dcap.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/sim_dir.h"
#include "sim/sim_report.h"

#define NOW ((time_t)1767225600) /* 2026-01-01; the collateral is issued an hour before */

static char dir[64];
static cocoon_sim_qe *qe;
static cocoon_sim_pki *pki;
static cocoon_verifier *verifier;
static char *collateral;
static uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE], qe_ti[COCOON_SGX_TARGET_INFO_SIZE];

static int setup(void **state)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	uint8_t *root_der = NULL;
	char *path;
	size_t len;
	int rl;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-sim-report-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	o.now = NOW;
	o.validity_days = 30;
	if (cocoon_sim_init(dir, &o) != 0 || cocoon_sim_pki_load(&pki, dir) != 0 || cocoon_sim_qe_open(&qe, dir) != 0)
		return -1;
	path = cocoon_sim_path(dir, "intel/collateral-sgx.json");
	if (!path || cocoon_file_read((uint8_t **)&collateral, &len, path) != 0)
		return -1;
	free(path);
	rl = i2d_X509(pki->root_cert, &root_der);
	vo.intel_root_der = root_der;
	vo.intel_root_der_len = (size_t)rl;
	vo.trust_simulation = 1;
	if (cocoon_verifier_new(&verifier, &vo) != 0)
		return -1;
	OPENSSL_free(root_der);
	cocoon_sim_qe_report_root(root, qe);
	cocoon_sim_qe_target_info(qe_ti, qe);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	cocoon_zeroize(root, sizeof(root));
	cocoon_sim_qe_free(qe);
	cocoon_sim_pki_free(pki);
	cocoon_verifier_free(verifier);
	free(collateral);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* An app report for the simulated QE with distinctive identity and report data (thread-safe: no asserts). */
static int make_app_report(uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t tag)
{
	cocoon_sim_app_identity id;
	uint8_t body[COCOON_SGX_REPORT_BODY_SIZE];

	memset(&id, 0, sizeof(id));
	memset(id.mr_enclave, 0xa0 ^ tag, 32);
	memset(id.mr_signer, 0x5c, 32);
	id.isv_prod_id = 7;
	id.isv_svn = 3;
	memset(id.report_data, tag, 64);
	cocoon_sim_app_body(body, pki, &id);
	return cocoon_sim_report_create(report, root, qe_ti, body);
}

static void app_report(uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t tag)
{
	assert_int_equal(make_app_report(report, tag), 0);
}

static cocoon_result verify(const uint8_t *quote, size_t len)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_collateral *coll = NULL;
	cocoon_result r;

	o.at = NOW;
	assert_int_equal(cocoon_collateral_from_json(&coll, collateral, strlen(collateral)), 0);
	assert_int_equal(cocoon_verifier_verify_dcap(&r, verifier, quote, len, coll, &o), 0);
	cocoon_collateral_free(coll);
	return r;
}

static void test_report_mac_roundtrip_and_every_byte(void **state)
{
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], again[COCOON_SGX_REPORT_SIZE_FULL], key_id[32];
	(void)state;

	app_report(report, 1);
	assert_int_equal(cocoon_sim_report_verify(root, qe_ti, report), 0);
	/* KEYID is the platform's, and EREPORT is deterministic for the same inputs. */
	assert_int_equal(cocoon_sim_report_key_id(key_id, root), 0);
	assert_memory_equal(report + COCOON_SGX_REPORT_KEY_ID_OFFSET, key_id, 32);
	app_report(again, 1);
	assert_memory_equal(report, again, sizeof(report));
	assert_false(cocoon_is_zero(report + COCOON_SGX_REPORT_MAC_OFFSET, 16));
	for (size_t i = 0; i < sizeof(report); i++) {
		memcpy(again, report, sizeof(report));
		again[i] ^= 0x01;
		if (cocoon_sim_report_verify(root, qe_ti, again) != COCOON_EREJECT)
			fail_msg("a flipped bit at byte %zu still verifies", i);
		assert_non_null(strstr(cocoon_error_last()->message, "report MAC (bytes 416..431) does not verify"));
	}
}

static void test_report_for_another_target_or_root(void **state)
{
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], body[COCOON_SGX_REPORT_BODY_SIZE];
	uint8_t other_ti[COCOON_SGX_TARGET_INFO_SIZE], other_root[COCOON_SIM_REPORT_ROOT_SIZE];
	/* Every identity field of the target enters the key: MRENCLAVE, ATTRIBUTES, CONFIGSVN, MISCSELECT, CONFIGID. */
	static const size_t fields[] = { 0, 31, 32, 47, 50, 52, 64, 127 };
	(void)state;

	memset(body, 0x33, sizeof(body));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memcpy(other_ti, qe_ti, sizeof(other_ti));
		other_ti[fields[i]] ^= 0x04;
		assert_int_equal(cocoon_sim_report_create(report, root, other_ti, body), 0);
		assert_int_equal(cocoon_sim_report_verify(root, other_ti, report), 0);
		assert_int_equal(cocoon_sim_report_verify(root, qe_ti, report), COCOON_EREJECT);
	}
	/* Reserved target info bytes are not identity (as in SGX). */
	memcpy(other_ti, qe_ti, sizeof(other_ti));
	other_ti[200] ^= 0xff;
	assert_int_equal(cocoon_sim_report_create(report, root, other_ti, body), 0);
	assert_int_equal(cocoon_sim_report_verify(root, qe_ti, report), 0);
	/* Another platform (root) cannot produce reports this QE accepts. */
	memcpy(other_root, root, sizeof(root));
	other_root[0] ^= 1;
	assert_int_equal(cocoon_sim_report_create(report, other_root, qe_ti, body), 0);
	assert_int_equal(cocoon_sim_report_verify(root, qe_ti, report), COCOON_EREJECT);
}

static void test_root_comes_from_the_attestation_key(void **state)
{
	uint8_t again[COCOON_SIM_REPORT_ROOT_SIZE];
	(void)state;

	assert_false(cocoon_is_zero(root, sizeof(root)));
	assert_int_equal(cocoon_sim_report_root(again, pki), 0);
	assert_memory_equal(again, root, sizeof(root));
	cocoon_zeroize(again, sizeof(again));
}

static void test_qe_target_info(void **state)
{
	(void)state;
	assert_memory_equal(qe_ti, cocoon_sim_qe_mrenclave, 32);
	assert_int_equal(qe_ti[32], 0x11); /* INIT | PROVISIONKEY, as the QE identity expects */
	assert_true(cocoon_is_zero(qe_ti + 64, COCOON_SGX_TARGET_INFO_SIZE - 64));
}

static void test_quote_verifies_and_carries_the_report(void **state)
{
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], id[32], want[32], *quote = NULL;
	size_t len = 0;
	const void *parts[1];
	size_t lens[1] = { 64 };
	cocoon_result r;
	(void)state;

	app_report(report, 0x42);
	assert_int_equal(cocoon_sim_qe_quote(&quote, &len, qe, report, NULL), 0);
	assert_int_equal(len, cocoon_sim_qe_quote_size(qe));
	assert_int_equal(cocoon_le16(quote), 3);
	assert_memory_equal(quote + 48, report, COCOON_SGX_REPORT_BODY_SIZE);
	/* pub_key_id is SHA-256 of the attestation key the quote carries. */
	parts[0] = quote + 500;
	cocoon_sim_qe_pub_key_id(id, qe);
	assert_int_equal(cocoon_sha256(want, 1, parts, lens), 0);
	assert_memory_equal(id, want, 32);
	r = verify(quote, len);
	if (!r.accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	assert_true(r.simulated);
	assert_int_equal(r.sgx.isv_prod_id, 7);
	assert_memory_equal(r.sgx.report_data, report + 320, 64);
	/* Tampering with the quote's body after signing is caught by the verifier. */
	quote[48 + 320] ^= 1;
	r = verify(quote, len);
	assert_false(r.accepted);
	free(quote);
}

static void test_quote_refuses_bad_reports(void **state)
{
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], *quote = (uint8_t *)"x";
	size_t len = 1;
	(void)state;

	app_report(report, 0x43);
	report[100] ^= 0x10;
	assert_int_equal(cocoon_sim_qe_quote(&quote, &len, qe, report, NULL), COCOON_EREJECT);
	assert_null(quote);
	assert_int_equal(len, 0);
	assert_non_null(strstr(cocoon_error_last()->message, "targets another enclave or platform"));
	assert_int_equal(cocoon_sim_qe_quote(&quote, &len, qe, NULL, NULL), COCOON_EINVAL);
}

static void test_qe_report_info_is_for_the_app(void **state)
{
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], qri[COCOON_SGX_QE_REPORT_INFO_SIZE], want[32], *quote = NULL;
	size_t len = 0;
	const void *parts[2];
	size_t lens[2];
	(void)state;

	app_report(report, 0x44);
	memset(qri, 0, sizeof(qri));
	memset(qri, 0x99, 16); /* nonce */
	cocoon_sim_target_info_of(qri + 16, report);
	assert_int_equal(cocoon_sim_qe_quote(&quote, &len, qe, report, qri), 0);
	assert_int_equal(cocoon_sim_report_verify(root, qri + 16, qri + 528), 0);
	assert_int_equal(cocoon_sim_report_verify(root, qe_ti, qri + 528), COCOON_EREJECT);
	parts[0] = qri;
	lens[0] = 16;
	parts[1] = quote;
	lens[1] = len;
	assert_int_equal(cocoon_sha256(want, 2, parts, lens), 0);
	assert_memory_equal(qri + 528 + 320, want, 32);
	assert_true(cocoon_is_zero(qri + 528 + 352, 32));
	assert_memory_equal(qri + 528 + 64, cocoon_sim_qe_mrenclave, 32);
	free(quote);
}

typedef struct {
	uint8_t tag;
	int failures;
	uint8_t *last;
	size_t last_len;
} worker_arg;

static void *quote_worker(void *p)
{
	worker_arg *a = p;
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL];

	for (int i = 0; i < 25; i++) {
		uint8_t *q = NULL;
		size_t n = 0;
		if (make_app_report(report, a->tag) != 0 || cocoon_sim_qe_quote(&q, &n, qe, report, NULL) != 0 ||
		    memcmp(q + 48, report, 384) != 0)
			a->failures++;
		free(a->last);
		a->last = q;
		a->last_len = n;
	}
	return NULL;
}

static void test_one_qe_serves_many_threads(void **state)
{
	pthread_t t[4];
	worker_arg a[4];
	(void)state;

	for (int i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].tag = (uint8_t)(0x10 + i);
		assert_int_equal(pthread_create(&t[i], NULL, quote_worker, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		cocoon_result r;
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].failures, 0);
		r = verify(a[i].last, a[i].last_len);
		assert_true(r.accepted);
		free(a[i].last);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_mac_roundtrip_and_every_byte),
		cmocka_unit_test(test_report_for_another_target_or_root),
		cmocka_unit_test(test_root_comes_from_the_attestation_key),
		cmocka_unit_test(test_qe_target_info),
		cmocka_unit_test(test_quote_verifies_and_carries_the_report),
		cmocka_unit_test(test_quote_refuses_bad_reports),
		cmocka_unit_test(test_qe_report_info_is_for_the_app),
		cmocka_unit_test(test_one_qe_serves_many_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
