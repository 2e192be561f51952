/*
 * Fail closed under allocation failure: a jansson allocator that fails the
 * Nth allocation runs one full appraisal (verification, binding, MAA claims,
 * policy) plus token issuance, for every N from 1 to the allocation count
 * of a clean run, on simulated SGX and SEV-SNP evidence. Every run must
 * return an error, or reach a verdict other than accept (no claims, no
 * token), or produce exactly the clean run's claims and token claims. A
 * claim silently missing is the failure this test exists to catch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "testutil.h"
#include "cocoon/attest.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/dcap_sim.h"
#include "sim/sim_dir.h"
#include "sim/snp_sim.h"

#define NOW ((time_t)1767225600) /* 2026-01-01 */
#define RUNTIME "{\"pubkey\":\"alloc-test\"}"

static char dir[64];
static cocoon_verifier *verifier;
static cocoon_collateral_source *source;
static cocoon_token_signer *signer;
static cocoon_policy *policy[2];
static uint8_t *sgx_quote;
static size_t sgx_quote_len;
static uint8_t snp_report[COCOON_SNP_REPORT_SIZE];

/* The counting allocator: fails allocation number fail_at (1-based); 0 never fails. */
static unsigned long n_allocs, fail_at;

static void *counting_malloc(size_t n)
{
	if (++n_allocs == fail_at)
		return NULL;
	return malloc(n);
}

static uint8_t *read_rel(const char *rel, size_t *len)
{
	char *path = cocoon_sim_path(dir, rel);
	uint8_t *data = NULL;
	if (!path || cocoon_file_read(&data, len, path) != 0)
		data = NULL;
	free(path);
	return data;
}

static int make_evidence(void)
{
	cocoon_sim_pki *pki = NULL;
	cocoon_sim_snp_pki *snp = NULL;
	cocoon_sim_quote_params q;
	cocoon_sim_snp_report_params sq;
	uint8_t rd[32];
	const void *parts[1] = { RUNTIME };
	size_t lens[1] = { strlen(RUNTIME) };
	int err;

	if (cocoon_sha256(rd, 1, parts, lens) != 0 || cocoon_sim_pki_load(&pki, dir) != 0 ||
	    cocoon_sim_snp_pki_load(&snp, dir) != 0)
		return -1;
	cocoon_sim_quote_params_init(&q, 3, 1);
	memcpy(q.report_data, rd, 32);
	q.isv_prod_id = 7;
	err = cocoon_sim_quote(&sgx_quote, &sgx_quote_len, pki, &q);
	if (!err && !(err = cocoon_sim_snp_report_params_init(&sq, snp, 3))) {
		memcpy(sq.report_data, rd, 32);
		err = cocoon_sim_snp_report(snp_report, snp, &sq);
	}
	cocoon_sim_pki_free(pki);
	cocoon_sim_snp_pki_free(snp);
	return err;
}

static int make_source(void)
{
	cocoon_snp_collateral sc = COCOON_SNP_COLLATERAL_INIT;
	cocoon_collateral *c = NULL;
	uint8_t *json, *amd[3];
	size_t len, amd_len[3];
	int err;

	if (!(json = read_rel("intel/collateral-sgx.json", &len)))
		return -1;
	err = cocoon_collateral_from_json(&c, (char *)json, len);
	free(json);
	if (err || cocoon_collateral_source_new(&source) != 0 || cocoon_collateral_source_add_dcap(source, c) != 0)
		return -1;
	amd[0] = read_rel("amd/vcek.pem", &amd_len[0]);
	amd[1] = read_rel("amd/chain.pem", &amd_len[1]);
	amd[2] = read_rel("amd/crl.der", &amd_len[2]);
	sc.vcek = amd[0], sc.vcek_len = amd_len[0];
	sc.chain = amd[1], sc.chain_len = amd_len[1];
	sc.crl = amd[2], sc.crl_len = amd_len[2];
	err = amd[0] && amd[1] && amd[2] ? cocoon_collateral_source_set_snp(source, &sc) : -1;
	for (int i = 0; i < 3; i++)
		free(amd[i]);
	return err;
}

static int setup(void **state)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_token_signer_options so = COCOON_TOKEN_SIGNER_OPTIONS_INIT;
	char *key = NULL, *cert = NULL;
	uint8_t *root;
	size_t root_len;
	int err;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-attest-alloc-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	o.now = NOW;
	if (cocoon_sim_init(dir, &o) != 0 || make_evidence() != 0 || make_source() != 0 ||
	    !(root = read_rel("intel/root.pem", &root_len))) {
		fprintf(stderr, "setup: %s\n", cocoon_error_last()->message);
		return -1;
	}
	vo.intel_root_der = root;
	vo.intel_root_der_len = root_len;
	vo.trust_simulation = 1;
	err = cocoon_verifier_new(&verifier, &vo);
	free(root);
	if (err || cocoon_token_key_generate(&key, &cert, "ES256", NULL) != 0)
		return -1;
	so.alg = "ES256";
	so.key_pem = key;
	so.cert_pem = cert;
	err = cocoon_token_signer_new(&signer, &so);
	free(key);
	free(cert);
	for (int i = 0; i < 2 && !err; i++) {
		const char *text = cocoon_policy_default(i ? COCOON_TEE_SNP : COCOON_TEE_SGX);
		err = cocoon_policy_parse(&policy[i], text, strlen(text));
	}
	return err ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[96];
	(void)state;
	cocoon_verifier_free(verifier);
	cocoon_collateral_source_free(source);
	cocoon_token_signer_free(signer);
	cocoon_policy_free(policy[0]);
	cocoon_policy_free(policy[1]);
	free(sgx_quote);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
	int rc;                     /* 0: accepted with claims and a token */
	json_t *claims, *token_claims;
} outcome;

/* One appraisal plus token issuance with the current allocator. */
static void run_once(outcome *out, int snp)
{
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_options o = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_token_issue_options io = COCOON_TOKEN_ISSUE_OPTIONS_INIT;
	cocoon_attest_result *res = NULL;
	char *token = NULL;

	memset(out, 0, sizeof(*out));
	in.evidence = snp ? snp_report : sgx_quote;
	in.evidence_len = snp ? sizeof(snp_report) : sgx_quote_len;
	in.runtime_data = (const uint8_t *)RUNTIME;
	in.runtime_data_len = strlen(RUNTIME);
	in.runtime_hash = COCOON_BIND_MAA;
	in.runtime_data_json = 1;
	in.collateral = source;
	o.verify.at = NOW + 3600;
	o.verify.no_cache = 1; /* every run takes the full path */
	o.policy = policy[snp];
	io.issuer = "https://attest.example";
	io.jku = "https://attest.example/certs";
	io.nonce = "n-1";
	io.policy_hash = "hash";
	io.now = NOW + 3600;
	io.jti = "fixed-jti";
	if ((out->rc = cocoon_attest_appraise(&res, verifier, &in, &o)) != 0)
		goto done;
	if (res->verdict != COCOON_VERDICT_ACCEPT) {
		out->rc = 1;
		goto done;
	}
	if ((out->rc = cocoon_token_claims(&out->token_claims, res, &io)) != 0 ||
	    (out->rc = cocoon_token_issue(&token, signer, res, &io)) != 0)
		goto done;
	out->claims = json_incref(res->claims);
done:
	free(token);
	cocoon_attest_result_free(res);
}

static void outcome_free(outcome *o)
{
	json_decref(o->claims);
	json_decref(o->token_claims);
}

/* Names the claims that differ, so a failure says which claim was dropped. */
static void describe_difference(const outcome *clean, const outcome *run)
{
	const json_t *pairs[2][2] = { { clean->claims, run->claims }, { clean->token_claims, run->token_claims } };
	const char *key;
	json_t *v;

	for (int i = 0; i < 2; i++) {
		json_object_foreach((json_t *)pairs[i][0], key, v) {
			if (!json_equal(v, json_object_get(pairs[i][1], key))) {
				char *a = json_dumps(v, JSON_ENCODE_ANY), *b = json_dumps(json_object_get(pairs[i][1], key),
				                                                          JSON_ENCODE_ANY);
				print_error("%s claim '%s': clean %.200s, run %.200s\n", i ? "token" : "appraisal", key, a,
				            b ? b : "(missing)");
				free(a);
				free(b);
			}
		}
	}
}

static void every_allocation_fails_closed(int snp)
{
	outcome clean, run;
	unsigned long total, errors = 0, rejects = 0, same = 0;

	json_set_alloc_funcs(counting_malloc, free);
	n_allocs = fail_at = 0;
	run_once(&clean, snp);
	total = n_allocs;
	if (clean.rc != 0)
		fail_msg("the clean run did not accept: %s", cocoon_error_last()->message);
	assert_true(json_object_size(clean.claims) > 10);
	assert_non_null(json_object_get(clean.token_claims, "cocoon"));
	for (fail_at = 1; fail_at <= total; fail_at++) {
		n_allocs = 0;
		run_once(&run, snp);
		if (run.rc < 0) {
			errors++;
		} else if (run.rc > 0) {
			rejects++;
		} else {
			if (!json_equal(run.claims, clean.claims) || !json_equal(run.token_claims, clean.token_claims)) {
				json_set_alloc_funcs(malloc, free);
				describe_difference(&clean, &run);
				fail_msg("allocation %lu of %lu failed, yet the run produced different claims", fail_at, total);
			}
			same++;
		}
		outcome_free(&run);
	}
	json_set_alloc_funcs(malloc, free);
	outcome_free(&clean);
	print_message("%s: %lu allocations; %lu errors, %lu rejects, %lu identical\n", snp ? "snp" : "sgx", total,
	              errors, rejects, same);
	/* Failing any allocation must have an effect somewhere: at least the claims' own. */
	assert_true(errors > 0);
}

static void test_sgx(void **state)
{
	(void)state;
	every_allocation_fails_closed(0);
}

static void test_snp(void **state)
{
	(void)state;
	every_allocation_fails_closed(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx),
		cmocka_unit_test(test_snp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
