/*
 * The whole DCAP negative matrix on evidence from the simulated TEE: the
 * same verification code paths as real evidence, with only the trust
 * anchor differing (and the result saying "simulated").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "dcap_matrix.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/dcap_sim.h"
#include "sim/sim_dir.h"

#define NOW ((time_t)1767225600) /* 2026-01-01: the simulated collateral is issued an hour before */

static char dir[64];
static cocoon_verifier *trusting, *untrusting;
static uint8_t *quotes[2];
static size_t quote_lens[2];
static char *collateral[2];

static int setup(void **state)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_sim_pki *pki = NULL;
	uint8_t *root_der = NULL;
	size_t len;
	int rl;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-sim-matrix-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	o.now = NOW;
	o.validity_days = 30;
	if (cocoon_sim_init(dir, &o) != 0 || cocoon_sim_pki_load(&pki, dir) != 0)
		return -1;
	for (int tdx = 0; tdx <= 1; tdx++) {
		cocoon_sim_quote_params qp;
		char *path = cocoon_sim_path(dir, tdx ? "intel/collateral-tdx.json" : "intel/collateral-sgx.json");
		cocoon_sim_quote_params_init(&qp, tdx ? 4 : 3, tdx ? 2 : 1);
		memset(qp.report_data, 0x5a, 64);
		if (cocoon_sim_quote(&quotes[tdx], &quote_lens[tdx], pki, &qp) != 0 ||
		    cocoon_file_read((uint8_t **)&collateral[tdx], &len, path) != 0)
			return -1;
		free(path);
	}
	rl = i2d_X509(pki->root_cert, &root_der);
	vo.intel_root_der = root_der;
	vo.intel_root_der_len = (size_t)rl;
	vo.trust_simulation = 1;
	if (cocoon_verifier_new(&trusting, &vo) != 0 || cocoon_verifier_new(&untrusting, NULL) != 0)
		return -1;
	OPENSSL_free(root_der);
	cocoon_sim_pki_free(pki);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	for (int i = 0; i < 2; i++) {
		free(quotes[i]);
		free(collateral[i]);
	}
	cocoon_verifier_free(trusting);
	cocoon_verifier_free(untrusting);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sim_case(cocoon_matrix_case *c, int tdx)
{
	memset(c, 0, sizeof(*c));
	c->quote = quotes[tdx];
	c->quote_len = quote_lens[tdx];
	c->collateral = collateral[tdx];
	c->at = NOW;
	/* Everything the simulator issues expires together, 30 days on; the
	 * first thing the verifier reads is the root CA CRL. */
	c->first_expiry = NOW + 30 * 86400;
	c->expiry_check = COCOON_CHECK_ROOT_CA_CRL;
	c->verifier = trusting;
	c->tdx = tdx;
}

static void test_matrix_on_simulated_evidence(void **state)
{
	cocoon_matrix_case sgx, tdx;
	(void)state;
	sim_case(&sgx, 0);
	sim_case(&tdx, 1);
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
}

static void test_simulated_flag_and_default_rejection(void **state)
{
	cocoon_matrix_case c;
	json_t *coll;
	(void)state;
	for (int tdx = 0; tdx <= 1; tdx++) {
		sim_case(&c, tdx);
		coll = json_loads(c.collateral, 0, NULL);
		cocoon_result r = cocoon_matrix_run(&c, c.quote, c.quote_len, coll, NOW, 0);
		assert_true(r.accepted);
		assert_true(r.simulated);
		char *json = NULL;
		assert_int_equal(cocoon_result_to_json(&json, &r), 0);
		assert_non_null(strstr(json, "\"simulated\": true"));
		free(json);
		/* A default verifier (Intel's root only) rejects it and says why. */
		c.verifier = untrusting;
		r = cocoon_matrix_run(&c, c.quote, c.quote_len, coll, NOW, 0);
		cocoon_matrix_expect_reject(&r, COCOON_CHECK_SIMULATION_ROOT, "simulation root");
		assert_false(r.simulated);
		json_decref(coll);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix_on_simulated_evidence),
		cmocka_unit_test(test_simulated_flag_and_default_rejection),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
