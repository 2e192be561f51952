/*
 * The appraisal API on simulated SEV-SNP evidence: the binding rules for
 * runtime data (none, SHA-384/512 zero-padded, MAA) and init data (HOST_DATA,
 * a field the TEE lacks), a policy denial, the collateral directory loader's
 * message, and the token signer: ES256 and RS256 tokens verify against its
 * own JWKS (PS256 too), PS256 signatures also verify with OpenSSL directly, and a token is refused for
 * a result that did not accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "testutil.h"
#include "cocoon/attest.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/snp_sim.h"

#define NOW ((time_t)1767225600)

static char dir[64];
static cocoon_verifier *verifier;
static cocoon_collateral_source *source;
static cocoon_sim_snp_pki *pki;

static uint8_t *read_rel(const char *rel, size_t *len)
{
	char *path = cocoon_sim_path(dir, rel);
	uint8_t *data = NULL;
	if (!path || cocoon_file_read(&data, len, path) != 0)
		data = NULL;
	free(path);
	return data;
}

static int setup(void **state)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_snp_collateral sc = COCOON_SNP_COLLATERAL_INIT;
	uint8_t *amd[3];
	size_t len[3];
	int err;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/cocoon-attest-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	o.now = NOW;
	vo.trust_simulation = 1;
	if (cocoon_sim_init(dir, &o) != 0 || cocoon_sim_snp_pki_load(&pki, dir) != 0 ||
	    cocoon_verifier_new(&verifier, &vo) != 0 || cocoon_collateral_source_new(&source) != 0)
		return -1;
	amd[0] = read_rel("amd/vcek.pem", &len[0]);
	amd[1] = read_rel("amd/chain.pem", &len[1]);
	amd[2] = read_rel("amd/crl.der", &len[2]);
	sc.vcek = amd[0], sc.vcek_len = len[0];
	sc.chain = amd[1], sc.chain_len = len[1];
	sc.crl = amd[2], sc.crl_len = len[2];
	err = amd[0] && amd[1] && amd[2] ? cocoon_collateral_source_set_snp(source, &sc) : -1;
	for (int i = 0; i < 3; i++)
		free(amd[i]);
	return err;
}

static int teardown(void **state)
{
	char cmd[96];
	(void)state;
	cocoon_verifier_free(verifier);
	cocoon_collateral_source_free(source);
	cocoon_sim_snp_pki_free(pki);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A simulated report with this report data and host data. */
static void report(uint8_t out[COCOON_SNP_REPORT_SIZE], const uint8_t *rd, size_t rd_len, const uint8_t *hd)
{
	cocoon_sim_snp_report_params q;
	assert_int_equal(cocoon_sim_snp_report_params_init(&q, pki, 3), 0);
	memcpy(q.report_data, rd, rd_len);
	if (hd)
		memcpy(q.host_data, hd, 32);
	assert_int_equal(cocoon_sim_snp_report(out, pki, &q), 0);
}

static cocoon_attest_result *appraise(const uint8_t *rep, const cocoon_attest_input *tmpl, const cocoon_policy *p)
{
	cocoon_attest_input in = *tmpl;
	cocoon_attest_options o = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_attest_result *res = NULL;

	in.evidence = rep;
	in.evidence_len = COCOON_SNP_REPORT_SIZE;
	in.collateral = source;
	o.verify.at = NOW + 60;
	o.policy = p;
	if (cocoon_attest_appraise(&res, verifier, &in, &o) != 0)
		fail_msg("appraise: %s", cocoon_error_last()->message);
	return res;
}

static void expect(cocoon_attest_result *res, cocoon_verdict v, cocoon_check check, const char *reason_part)
{
	if (res->verdict != v || res->failed_check != check || (reason_part && !strstr(res->reason, reason_part)))
		fail_msg("verdict %s, check %s (want %s, %s): %s", cocoon_verdict_name(res->verdict),
		         cocoon_check_name(res->failed_check), cocoon_verdict_name(v), cocoon_check_name(check),
		         res->reason);
	assert_true((res->claims != NULL) == (v == COCOON_VERDICT_ACCEPT));
	cocoon_attest_result_free(res);
}

static void test_runtime_binding_rules(void **state)
{
	static const uint8_t rt[] = "runtime";
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], d[64];
	(void)state;

	in.runtime_data = rt;
	in.runtime_data_len = 7;
	/* none: the bytes themselves, zero-padded. */
	report(rep, rt, 7, NULL);
	in.runtime_hash = COCOON_BIND_NONE;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_ACCEPT, COCOON_CHECK_NONE, NULL);
	in.runtime_hash = COCOON_BIND_SHA256;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_REPORT_DATA_BINDING, "SHA-256 of it");
	/* SHA-512 fills the field; SHA-384 must be zero-padded, so a SHA-512 field is not a SHA-384 binding. */
	assert_int_equal(EVP_Q_digest(NULL, "SHA512", NULL, rt, 7, d, NULL), 1);
	report(rep, d, 64, NULL);
	in.runtime_hash = COCOON_BIND_SHA512;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_ACCEPT, COCOON_CHECK_NONE, NULL);
	in.runtime_hash = COCOON_BIND_SHA384;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_REPORT_DATA_BINDING, "REPORT_DATA");
	/* MAA: SHA-256 equals the first 32 bytes, the rest is not looked at. */
	assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, rt, 7, d, NULL), 1);
	memset(d + 32, 0xee, 32);
	report(rep, d, 64, NULL);
	in.runtime_hash = COCOON_BIND_MAA;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_ACCEPT, COCOON_CHECK_NONE, NULL);
	in.runtime_hash = COCOON_BIND_SHA256;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_REPORT_DATA_BINDING, NULL);
}

static void test_init_data_binding(void **state)
{
	static const uint8_t init[] = "{\"policy\":\"init\"}";
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	uint8_t rep[COCOON_SNP_REPORT_SIZE], hd[32];
	cocoon_attest_result *res;
	(void)state;

	assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, init, sizeof(init) - 1, hd, NULL), 1);
	report(rep, (const uint8_t *)"", 0, hd);
	in.init_data = init;
	in.init_data_len = sizeof(init) - 1;
	in.init_hash = COCOON_BIND_SHA256;
	in.init_data_json = 1;
	res = appraise(rep, &in, NULL);
	assert_int_equal(res->verdict, COCOON_VERDICT_ACCEPT);
	assert_string_equal(json_string_value(json_object_get(json_object_get(res->claims, "x-ms-inittime"), "policy")),
	                    "init");
	cocoon_attest_result_free(res);
	in.init_data_len--;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_INIT_DATA_BINDING, "HOST_DATA");
	in.init_data_len++;
	in.init_field = COCOON_INIT_FIELD_TDX_MRCONFIGID;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_INIT_DATA_BINDING, "does not exist");
	/* SHA-384 does not fit HOST_DATA's 32 bytes. */
	in.init_field = COCOON_INIT_FIELD_AUTO;
	in.init_hash = COCOON_BIND_SHA384;
	expect(appraise(rep, &in, NULL), COCOON_VERDICT_REJECT, COCOON_CHECK_INIT_DATA_BINDING, "holds only 32");
}

static void test_policy_denies(void **state)
{
	static const char text[] = "version=1.0; authorizationrules { [type==\"x-ms-sevsnpvm-vmpl\", value==0] => "
	                           "deny(); => permit(); };";
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_policy *p = NULL;
	(void)state;

	assert_int_equal(cocoon_policy_parse(&p, text, strlen(text)), 0);
	report(rep, (const uint8_t *)"", 0, NULL);
	expect(appraise(rep, &in, p), COCOON_VERDICT_DENY, COCOON_CHECK_POLICY, "line 1");
	cocoon_policy_free(p);
}

static void test_collateral_dir_names_missing_file(void **state)
{
	cocoon_collateral *c = NULL;
	(void)state;
	assert_int_equal(cocoon_collateral_from_dir(&c, dir), COCOON_EIO);
	assert_non_null(strstr(cocoon_error_last()->message, "tcb_info.json is missing"));
	assert_null(c);
}

/* A signer of alg with a fresh key; *pub gets the public key. */
static cocoon_token_signer *signer_for(const char *alg, EVP_PKEY **pub)
{
	cocoon_token_signer_options o = COCOON_TOKEN_SIGNER_OPTIONS_INIT;
	cocoon_token_signer *s = NULL;
	char *key = NULL, *cert = NULL;
	BIO *b;

	assert_int_equal(cocoon_token_key_generate(&key, &cert, alg, NULL), 0);
	o.alg = alg;
	o.key_pem = key;
	o.cert_pem = cert;
	assert_int_equal(cocoon_token_signer_new(&s, &o), 0);
	assert_non_null(b = BIO_new_mem_buf(key, -1));
	assert_non_null(*pub = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL));
	BIO_free(b);
	free(key);
	free(cert);
	return s;
}

static void test_tokens(void **state)
{
	static const char *const algs[] = { "ES256", "RS256", "PS256" };
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_token_issue_options io = COCOON_TOKEN_ISSUE_OPTIONS_INIT;
	cocoon_token_verify_options vo = COCOON_TOKEN_VERIFY_OPTIONS_INIT;
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_attest_result *res;
	(void)state;

	report(rep, (const uint8_t *)"", 0, NULL);
	res = appraise(rep, &in, NULL);
	io.issuer = "https://a.example";
	io.nonce = "n";
	for (int i = 0; i < 3; i++) {
		EVP_PKEY *pub = NULL;
		cocoon_token_signer *s = signer_for(algs[i], &pub);
		const char *jwks = cocoon_token_signer_jwks(s);
		cocoon_jwks *k = NULL;
		json_t *claims = NULL;
		char *tok = NULL;

		assert_int_equal(cocoon_token_issue(&tok, s, res, &io), 0);
		assert_int_equal(cocoon_jwks_parse(&k, jwks, strlen(jwks)), 0);
		vo.issuer = "https://a.example";
		if (cocoon_token_verify(&claims, NULL, tok, strlen(tok), k, &vo) != 0)
			fail_msg("%s token: %s", algs[i], cocoon_error_last()->message);
		assert_string_equal(json_string_value(json_object_get(claims, "nonce")), "n");
		assert_string_equal(json_string_value(json_object_get(claims, "x-ms-attestation-type")), "sevsnpvm");
		assert_true(json_is_object(json_object_get(claims, "cocoon")));
		json_decref(claims);
		cocoon_jwks_free(k);
		free(tok);
		EVP_PKEY_free(pub);
		cocoon_token_signer_free(s);
	}
	cocoon_attest_result_free(res);
	/* No token for a result that did not accept. */
	report(rep, (const uint8_t *)"x", 1, NULL);
	in.runtime_data = (const uint8_t *)"y";
	in.runtime_data_len = 1;
	res = appraise(rep, &in, NULL);
	{
		char *tok = NULL;
		assert_int_equal(cocoon_token_issue(&tok, NULL, res, &io), COCOON_EINVAL);
		assert_null(tok);
	}
	cocoon_attest_result_free(res);
}

/* PS256: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5). */
static void test_ps256(void **state)
{
	EVP_PKEY *pub = NULL;
	cocoon_token_signer *s = signer_for("PS256", &pub);
	json_t *claims = json_pack("{s:s}", "a", "b");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	char *tok = NULL, *dot;
	(void)state;

	assert_int_equal(cocoon_token_signer_sign(&tok, s, claims, NULL), 0);
	assert_non_null(dot = strrchr(tok, '.'));
	assert_int_equal(cocoon_b64_decode(&sig, &sig_len, dot + 1, strlen(dot + 1)), 0);
	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)tok, (size_t)(dot - tok)), 1);
	/* The header names PS256. */
	assert_non_null(strstr(cocoon_token_signer_jwks(s), "\"alg\":\"PS256\""));
	EVP_MD_CTX_free(ctx);
	free(sig);
	free(tok);
	json_decref(claims);
	EVP_PKEY_free(pub);
	cocoon_token_signer_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_binding_rules),
		cmocka_unit_test(test_init_data_binding),
		cmocka_unit_test(test_policy_denies),
		cmocka_unit_test(test_collateral_dir_names_missing_file),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_ps256),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
