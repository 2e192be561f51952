/*
 * Azure vTPM evidence (az-snp-vtpm, az-tdx-vtpm) against the real vectors
 * copied from Trustee and kinvolk/azure-cvm-tooling: every SNP layout
 * verifies offline at a pinned time, TDX verifies up to the TCB status and
 * says so, and tampering with each layer is rejected by that layer's check.
 * Where a tamper must survive the earlier layers to reach a later one, the
 * test swaps in its own AK, re-binds the runtime claims and re-signs the
 * quote: then only the hardware signature stands in the way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "testutil.h"
#include "cocoon/token.h"
#include "cocoon/vtpm.h"
#include "common/util.h"

/* Inside every SNP VCEK's validity (2025-01-28T16:33:43Z .. 2032-01-24T02:21:48Z) and the PCK's. */
#define AT ((time_t)1750000000) /* 2025-06-15 */

static const char V2_NONCE[] = "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef";
static const char GENOA_NONCE[] = "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f";
static const char PCR0_SNP_V01[] = "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced";
static const char PCR0_SNP_V2[] = "84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7";
static const char PCR0_GENOA[] = "afd689d0bb1c5f36f023fbaf574135f555a28a10c1f6b938d2a25e70c7783338";
static const char PCR0_TDX[] = "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273";

static EVP_PKEY *rogue_ak;

#define assert_check(r, id)                                                                               \
	do {                                                                                              \
		if ((r)->accepted || (int)(r)->failed_check != (int)(id))                                 \
			fail_msg("expected rejection by %s, got %s by %s: %s", cocoon_check_name(id),     \
			         (r)->accepted ? "accept" : "reject", cocoon_check_name((r)->failed_check), \
			         (r)->reason);                                                            \
	} while (0)

#define assert_accepted(r)                                                                                \
	do {                                                                                              \
		if (!(r)->accepted)                                                                       \
			fail_msg("rejected by %s: %s", cocoon_check_name((r)->failed_check), (r)->reason); \
	} while (0)

static int have_azure(void)
{
	size_t n;
	uint8_t *b = cocoon_test_vector("azure-vtpm/snp/evidence-v2.json", &n);
	if (b) {
		free(b);
		return 1;
	}
	fprintf(stderr, "SKIP: Azure vTPM vectors not found under %s/azure-vtpm (set COCOON_VECTORS)\n",
	        cocoon_test_vectors_dir());
	return 0;
}

#define REQUIRE_AZURE()             \
	do {                        \
		if (!have_azure())  \
			skip();     \
	} while (0)

typedef struct {
	uint8_t nonce[64];
	size_t nonce_len;
} nonce_t;

static nonce_t nonce_hex(const char *hex)
{
	nonce_t n = { .nonce_len = strlen(hex) / 2 };
	assert_int_equal(cocoon_hex_decode(n.nonce, n.nonce_len, hex, strlen(hex)), 0);
	return n;
}

static nonce_t nonce_text(const char *s)
{
	nonce_t n = { .nonce_len = strlen(s) };
	memcpy(n.nonce, s, n.nonce_len);
	return n;
}

static cocoon_vtpm_evidence *load(const char *rel, cocoon_vtpm_format fmt)
{
	cocoon_vtpm_evidence *ev = NULL;
	size_t n;
	uint8_t *b = cocoon_test_vector(rel, &n);
	if (!b)
		fail_msg("cannot read vector %s", rel);
	if (cocoon_vtpm_evidence_parse(&ev, fmt, (const char *)b, n) != 0)
		fail_msg("%s: %s", rel, cocoon_error_last()->message);
	free(b);
	return ev;
}

static void verify(cocoon_result *r, cocoon_vtpm_claims *c, const cocoon_vtpm_evidence *ev, const nonce_t *n,
                   int check_user_data)
{
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	in.nonce = n->nonce;
	in.nonce_len = n->nonce_len;
	in.check_user_data = check_user_data;
	o.at = AT;
	if (cocoon_verifier_verify_vtpm(r, c, NULL, ev, &in, &o) != 0)
		fail_msg("verification could not run: %s", cocoon_error_last()->message);
}

static void assert_pcr0(const cocoon_vtpm_claims *c, const char *hex)
{
	char got[65];
	assert_true(c->n_pcrs >= 1);
	assert_int_equal(c->pcr_index[0], 0);
	cocoon_hex_encode(got, c->pcrs[0], 32);
	assert_string_equal(got, hex);
}

/* ------------------------------------------------------------ accepted */

static void accept_snp(const char *rel, const nonce_t *n, int version, const char *pcr0, const char *product)
{
	cocoon_vtpm_evidence *ev = load(rel, COCOON_VTPM_FORMAT_AZ_SNP);
	cocoon_result r;
	cocoon_vtpm_claims c;

	assert_int_equal(ev->version, version);
	verify(&r, &c, ev, n, -1);
	assert_accepted(&r);
	assert_int_equal(r.tee, COCOON_TEE_SNP);
	assert_int_equal(r.status, COCOON_TCB_UP_TO_DATE);
	assert_string_equal(r.snp.product, product);
	assert_int_equal(r.snp.vmpl, 0);
	assert_true(c.hw_verified);
	assert_int_equal(c.n_pcrs, 24);
	assert_int_equal(c.pcr_index[23], 23);
	assert_pcr0(&c, pcr0);
	assert_int_equal(c.tpm_nonce_len, n->nonce_len);
	assert_memory_equal(c.tpm_nonce, n->nonce, n->nonce_len);
	assert_int_equal(c.secure_boot, COCOON_VTPM_TRUE);
	assert_int_equal(c.tpm_enabled, COCOON_VTPM_TRUE);
	assert_int_not_equal(c.console_enabled, COCOON_VTPM_ABSENT);
	assert_true(c.vm_unique_id[0] != '\0');
	assert_int_equal(c.user_data_checked, version >= 2);
	assert_int_equal(c.hash_type, COCOON_HCL_HASH_SHA256);
	cocoon_vtpm_evidence_free(ev);
}

static void test_snp_v0(void **state)
{
	(void)state;
	REQUIRE_AZURE();
	nonce_t n = nonce_text("challenge");
	accept_snp("azure-vtpm/snp/evidence-v0.json", &n, 0, PCR0_SNP_V01, "Milan");
}

static void test_snp_v1(void **state)
{
	(void)state;
	REQUIRE_AZURE();
	nonce_t n = nonce_text("challenge");
	accept_snp("azure-vtpm/snp/evidence-v1.json", &n, 1, PCR0_SNP_V01, "Milan");
}

static void test_snp_v2(void **state)
{
	(void)state;
	REQUIRE_AZURE();
	nonce_t n = nonce_hex(V2_NONCE);
	accept_snp("azure-vtpm/snp/evidence-v2.json", &n, 2, PCR0_SNP_V2, "Milan");
}

static void test_snp_genoa(void **state)
{
	(void)state;
	REQUIRE_AZURE();
	nonce_t n = nonce_hex(GENOA_NONCE);
	accept_snp("azure-vtpm/snp/evidence-genoa.json", &n, 0, PCR0_GENOA, "Genoa");
}

/* The separate files: HCL report with a v2 SNP report (no CPUID), VCEK+ASK+ARK PEM, tpm_quote v1. */
static void test_snp_separate_files(void **state)
{
	cocoon_vtpm_evidence *q;
	cocoon_vtpm_evidence ev = { .format = COCOON_VTPM_FORMAT_AZ_SNP, .version = 1 };
	cocoon_result r;
	cocoon_vtpm_claims c;
	size_t n;
	uint8_t *quote_json;
	char *wrapped;
	nonce_t nonce = nonce_text("challenge");
	(void)state;
	REQUIRE_AZURE();

	/* The tpm_quote object alone, wrapped as v1 evidence around a placeholder HCL report and VCEK. */
	quote_json = cocoon_test_vector("azure-vtpm/snp/tpm-quote-v1.json", &n);
	assert_non_null(quote_json);
	assert_true(asprintf(&wrapped, "{\"version\":1,\"tpm_quote\":%s,\"hcl_report\":\"AA==\",\"vcek\":\"AA==\"}",
	                     (char *)quote_json) > 0);
	assert_int_equal(cocoon_vtpm_evidence_parse(&q, COCOON_VTPM_FORMAT_AZ_SNP, wrapped, strlen(wrapped)), 0);
	ev.quote_msg = q->quote_msg;
	ev.quote_msg_len = q->quote_msg_len;
	ev.quote_sig = q->quote_sig;
	ev.quote_sig_len = q->quote_sig_len;
	ev.n_pcrs = q->n_pcrs;
	memcpy(ev.pcrs, q->pcrs, sizeof(ev.pcrs));
	ev.hcl_report = cocoon_test_vector("azure-vtpm/snp/hcl-report.bin", &ev.hcl_report_len);
	ev.vcek = cocoon_test_vector("azure-vtpm/snp/vcek.pem", &ev.vcek_len);
	assert_non_null(ev.hcl_report);
	assert_non_null(ev.vcek);
	/* The file is VCEK, ASK, ARK: the VCEK is the first block; the roots are the embedded ones. */
	{
		char *end = strstr((char *)ev.vcek, "-----END CERTIFICATE-----");
		assert_non_null(end);
		ev.vcek_len = (size_t)(end - (char *)ev.vcek) + strlen("-----END CERTIFICATE-----");
	}
	/* This 2023 Milan host ran uncommitted firmware: the default SNP appraisal refuses it ... */
	verify(&r, &c, &ev, &nonce, -1);
	assert_check(&r, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE);
	/* ... and a policy that allows it accepts the evidence. */
	{
		cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
		cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
		cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;
		policy.allow_provisional_firmware = 1;
		policy.vmpl = 0;
		in.nonce = nonce.nonce;
		in.nonce_len = nonce.nonce_len;
		in.snp_policy = &policy;
		o.at = AT;
		assert_int_equal(cocoon_verifier_verify_vtpm(&r, &c, NULL, &ev, &in, &o), 0);
	}
	assert_accepted(&r);
	assert_int_equal(r.snp.version, 2);
	assert_string_equal(r.snp.product, "Milan");
	free(ev.hcl_report);
	free(ev.vcek);
	free(quote_json);
	free(wrapped);
	cocoon_vtpm_evidence_free(q);
}

/* Every real HCL report parses, with the sizes the reference lists. */
static void test_hcl_parse_all(void **state)
{
	static const struct {
		const char *rel;
		uint32_t type, header_version;
		size_t var_len;
	} files[] = {
		{ "azure-vtpm/kinvolk/hcl-report-snp.bin", 2, 1, 583 },
		{ "azure-vtpm/kinvolk/hcl-report-tdx.bin", 4, 2, 1202 },
		{ "azure-vtpm/snp/hcl-report.bin", 2, 1, 1110 },
		{ "azure-vtpm/tdx/hcl-report.bin", 4, 2, 1201 },
	};
	(void)state;
	REQUIRE_AZURE();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cocoon_hcl_report h;
		size_t n;
		uint8_t *b = cocoon_test_vector(files[i].rel, &n);
		assert_non_null(b);
		if (cocoon_hcl_report_parse(&h, b, n) != 0)
			fail_msg("%s: %s", files[i].rel, cocoon_error_last()->message);
		assert_int_equal(h.report_type, files[i].type);
		assert_int_equal(h.header_version, files[i].header_version);
		assert_int_equal(h.var_data_len, files[i].var_len);
		assert_int_equal(h.hash_type, COCOON_HCL_HASH_SHA256);
		/* Truncating into the variable data is a format error, not an over-read. */
		assert_int_equal(cocoon_hcl_report_parse(&h, b, COCOON_HCL_VAR_DATA_OFFSET + files[i].var_len - 1),
		                 COCOON_EFORMAT);
		free(b);
	}
}

/* ------------------------------------------------------------ TDX */

static void test_tdx_unverified_tcb(void **state)
{
	static const char *const files[] = { "azure-vtpm/tdx/evidence-v0.json", "azure-vtpm/tdx/evidence-v1.json" };
	nonce_t n = nonce_text("challenge");
	(void)state;
	REQUIRE_AZURE();
	for (int i = 0; i < 2; i++) {
		cocoon_vtpm_evidence *ev = load(files[i], COCOON_VTPM_FORMAT_AZ_TDX);
		cocoon_result r;
		cocoon_vtpm_claims c;
		char *json = NULL;
		json_t *o;

		verify(&r, &c, ev, &n, -1);
		/* Every layer but the TCB status passed: the verdict says exactly that. */
		assert_check(&r, COCOON_CHECK_COLLATERAL);
		assert_non_null(strstr(r.reason, "TCB status unverified"));
		assert_int_equal(r.tee, COCOON_TEE_TDX);
		assert_int_equal(r.quote_version, 4);
		assert_false(c.hw_verified);
		assert_pcr0(&c, PCR0_TDX);
		assert_int_equal(cocoon_vtpm_result_to_json(&json, &r, &c), 0);
		o = json_loads(json, 0, NULL);
		assert_non_null(o);
		assert_true(json_is_false(json_object_get(o, "tcb_status_verified")));
		assert_string_equal(json_string_value(json_object_get(o, "verdict")), "reject");
		assert_string_equal(json_string_value(json_object_get(o, "failed_check")), "collateral");
		json_decref(o);
		free(json);
		cocoon_vtpm_evidence_free(ev);
	}
}

static void test_tdx_tampering(void **state)
{
	nonce_t n = nonce_text("challenge");
	cocoon_result r;
	cocoon_vtpm_evidence *ev;
	(void)state;
	REQUIRE_AZURE();

	/* Trustee's TDX binding tamper: HCL byte 0x0880 (inside the runtime claims). */
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	ev->hcl_report[0x880]++;
	verify(&r, NULL, ev, &n, -1);
	assert_check(&r, COCOON_CHECK_HCL_REPORT_DATA);
	cocoon_vtpm_evidence_free(ev);

	/* MRTD in the quote body (48 + 136) differs from the TDREPORT. */
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	ev->td_quote[48 + 136] ^= 1;
	verify(&r, NULL, ev, &n, -1);
	assert_check(&r, COCOON_CHECK_TD_REPORT_MISMATCH);
	assert_non_null(strstr(r.reason, "MRTD"));
	cocoon_vtpm_evidence_free(ev);

	/* XFAM in the HCL's TDINFO (0x20 + 512 + 8): its TEE_INFO_HASH no longer matches. */
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	ev->hcl_report[0x20 + 512 + 8] ^= 1;
	verify(&r, NULL, ev, &n, -1);
	assert_check(&r, COCOON_CHECK_TD_REPORT_MISMATCH);
	cocoon_vtpm_evidence_free(ev);

	/* The TD quote's own signature (first byte of the signature data, after the 4-byte length). */
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	ev->td_quote[632 + 4] ^= 1;
	verify(&r, NULL, ev, &n, -1);
	assert_check(&r, COCOON_CHECK_QUOTE_SIGNATURE);
	cocoon_vtpm_evidence_free(ev);

	/* An SNP-format verifier is not fooled by TDX evidence. */
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	ev->format = COCOON_VTPM_FORMAT_AZ_SNP;
	verify(&r, NULL, ev, &n, -1);
	assert_check(&r, COCOON_CHECK_HCL_REPORT_TYPE);
	cocoon_vtpm_evidence_free(ev);
}

/* With collateral the DCAP verifier decides; the vectors' TDX collateral is for another FMSPC. */
static void test_tdx_with_collateral(void **state)
{
	nonce_t n = nonce_text("challenge");
	cocoon_vtpm_evidence *ev;
	cocoon_collateral *coll = NULL;
	cocoon_verifier *v = NULL;
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_vtpm_claims c;
	cocoon_result r;
	size_t len;
	uint8_t *json;
	(void)state;
	REQUIRE_AZURE();

	json = cocoon_test_vector("tdx/collateral.json", &len);
	assert_non_null(json);
	assert_int_equal(cocoon_collateral_from_json(&coll, (const char *)json, len), 0);
	assert_int_equal(cocoon_verifier_new(&v, NULL), 0);
	ev = load("azure-vtpm/tdx/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_TDX);
	in.nonce = n.nonce;
	in.nonce_len = n.nonce_len;
	in.tdx_collateral = coll;
	o.at = COCOON_TEST_AT_TDX;
	assert_int_equal(cocoon_verifier_verify_vtpm(&r, &c, v, ev, &in, &o), 0);
	assert_check(&r, COCOON_CHECK_FMSPC);
	assert_non_null(strstr(r.reason, "00806f050000"));
	assert_false(c.hw_verified);
	cocoon_vtpm_evidence_free(ev);
	cocoon_verifier_free(v);
	cocoon_collateral_free(coll);
	free(json);
}

/* ------------------------------------------------------------ tampering */

static cocoon_vtpm_evidence *v2(void) { return load("azure-vtpm/snp/evidence-v2.json", COCOON_VTPM_FORMAT_AZ_SNP); }

static void expect(cocoon_vtpm_evidence *ev, const nonce_t *n, cocoon_check id)
{
	cocoon_result r;
	verify(&r, NULL, ev, n, -1);
	assert_check(&r, id);
	cocoon_vtpm_evidence_free(ev);
}

static void test_tamper_hcl(void **state)
{
	nonce_t n = nonce_hex(V2_NONCE);
	cocoon_vtpm_evidence *ev;
	(void)state;
	REQUIRE_AZURE();

	ev = v2(); /* a variable-data byte (Trustee's 0x06E0) */
	ev->hcl_report[0x6E0]++;
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_DATA);
	ev = v2(); /* the header magic */
	ev->hcl_report[0] = 'X';
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_FORMAT);
	ev = v2(); /* report type TDX in SNP evidence */
	ev->hcl_report[0x4C8] = 4;
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_TYPE);
	ev = v2(); /* report type unknown */
	ev->hcl_report[0x4C8] = 3;
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_TYPE);
	ev = v2(); /* hash type 0 (invalid) and 4 (undefined) */
	ev->hcl_report[0x4CC] = 0;
	expect(ev, &n, COCOON_CHECK_HCL_HASH_TYPE);
	ev = v2();
	ev->hcl_report[0x4CC] = 4;
	expect(ev, &n, COCOON_CHECK_HCL_HASH_TYPE);
	ev = v2(); /* SHA-384 claimed, SHA-256 bound */
	ev->hcl_report[0x4CC] = COCOON_HCL_HASH_SHA384;
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_DATA);
	ev = v2(); /* variable data size past the buffer */
	cocoon_put_le32(ev->hcl_report + 0x4D0, 5000);
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_FORMAT);
	ev = v2(); /* sizes that disagree with the variable data size */
	cocoon_put_le32(ev->hcl_report + 0x4C0, 21);
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_FORMAT);
	ev = v2(); /* truncated into the fixed part */
	ev->hcl_report_len = 0x4D0;
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_FORMAT);
}

static void test_tamper_quote(void **state)
{
	nonce_t n = nonce_hex(V2_NONCE), other = nonce_text("challenge");
	cocoon_vtpm_evidence *ev;
	(void)state;
	REQUIRE_AZURE();

	ev = v2(); /* the quote signature */
	ev->quote_sig[0] ^= 1;
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_SIGNATURE);
	ev = v2(); /* the quote's extraData: the signed message changed */
	ev->quote_msg[44] ^= 1;
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_SIGNATURE);
	ev = v2(); /* a genuine quote for another nonce (a replay) */
	expect(ev, &other, COCOON_CHECK_VTPM_NONCE);
	ev = v2(); /* a PCR value */
	ev->pcrs[7][5] ^= 1;
	expect(ev, &n, COCOON_CHECK_VTPM_PCR_DIGEST);
	ev = v2(); /* one PCR value fewer than the selection names */
	ev->n_pcrs = 23;
	expect(ev, &n, COCOON_CHECK_VTPM_PCR_SELECTION);
	ev = v2(); /* TPMS_ATTEST magic zeroed: libtss2-mu accepts it, we do not */
	ev->quote_msg[0] = 0;
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_FORMAT);
	ev = v2(); /* the attestation type */
	ev->quote_msg[5] = 0x17;
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_FORMAT);
	ev = v2(); /* trailing bytes */
	ev->quote_msg = realloc(ev->quote_msg, ev->quote_msg_len + 2);
	ev->quote_msg[ev->quote_msg_len++] = 'x';
	ev->quote_msg[ev->quote_msg_len++] = 'x';
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_FORMAT);
	ev = v2(); /* truncated */
	ev->quote_msg_len -= 1;
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_FORMAT);
}

static void test_user_data(void **state)
{
	nonce_t n = nonce_text("challenge"), v2n = nonce_hex(V2_NONCE);
	cocoon_vtpm_evidence *ev;
	cocoon_result r;
	(void)state;
	REQUIRE_AZURE();

	/* v1's user-data is zero: asking for the v2 check rejects it. */
	ev = load("azure-vtpm/snp/evidence-v1.json", COCOON_VTPM_FORMAT_AZ_SNP);
	verify(&r, NULL, ev, &n, 1);
	assert_check(&r, COCOON_CHECK_VTPM_USER_DATA);
	cocoon_vtpm_evidence_free(ev);
	/* v2 evidence with its version downgraded still passes when the check is forced. */
	ev = v2();
	verify(&r, NULL, ev, &v2n, 1);
	assert_accepted(&r);
	cocoon_vtpm_evidence_free(ev);
}

/* --------------------------------------------- AK swaps (own key, re-bound) */

/* Replaces the HCLAkPub modulus in the variable data with the rogue key's (same length). */
static void swap_ak(cocoon_vtpm_evidence *ev)
{
	cocoon_hcl_report h;
	json_t *root, *k;
	size_t i;
	const char *old_n = NULL;
	BIGNUM *bn = NULL;
	uint8_t mod[256];
	char *new_n;
	uint8_t *at;

	assert_int_equal(cocoon_hcl_report_parse(&h, ev->hcl_report, ev->hcl_report_len), 0);
	root = json_loadb((const char *)h.var_data, h.var_data_len, 0, NULL);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")), "HCLAkPub") == 0)
			old_n = json_string_value(json_object_get(k, "n"));
	assert_non_null(old_n);
	assert_int_equal(EVP_PKEY_get_bn_param(rogue_ak, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, mod, sizeof(mod)), 256);
	assert_int_equal(cocoon_b64url_encode(&new_n, mod, sizeof(mod)), 0);
	assert_int_equal(strlen(new_n), strlen(old_n));
	at = memmem(h.var_data, h.var_data_len, old_n, strlen(old_n));
	assert_non_null(at);
	memcpy(at, new_n, strlen(new_n));
	free(new_n);
	BN_free(bn);
	json_decref(root);
}

/* Makes the hardware report's REPORT_DATA bind the (changed) variable data again. */
static void rebind(cocoon_vtpm_evidence *ev, int sha384)
{
	cocoon_hcl_report h;
	assert_int_equal(cocoon_hcl_report_parse(&h, ev->hcl_report, ev->hcl_report_len), 0);
	EVP_Digest(h.var_data, h.var_data_len, ev->hcl_report + 0x20 + 0x50, NULL, sha384 ? EVP_sha384() : EVP_sha256(),
	           NULL);
}

static void resign(cocoon_vtpm_evidence *ev)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = ev->quote_sig_len;
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, rogue_ak), 1);
	assert_int_equal(EVP_DigestSign(ctx, ev->quote_sig, &len, ev->quote_msg, ev->quote_msg_len), 1);
	assert_int_equal(len, 256);
	EVP_MD_CTX_free(ctx);
}

static void test_ak_swap(void **state)
{
	nonce_t n = nonce_hex(V2_NONCE);
	cocoon_vtpm_evidence *ev;
	(void)state;
	REQUIRE_AZURE();

	/* The AK in the runtime claims replaced: the hardware binding breaks. */
	ev = v2();
	swap_ak(ev);
	expect(ev, &n, COCOON_CHECK_HCL_REPORT_DATA);
	/* A quote signed by another AK than the bound one. */
	ev = v2();
	resign(ev);
	expect(ev, &n, COCOON_CHECK_VTPM_QUOTE_SIGNATURE);
	/* Everything a host could forge: own AK, re-bound claims, re-signed quote.
	 * Only the SNP report's P-384 signature is left to refuse it. */
	ev = v2();
	swap_ak(ev);
	rebind(ev, 0);
	resign(ev);
	expect(ev, &n, COCOON_CHECK_SNP_SIGNATURE);
	/* With a validly signed quote, the extraData check itself rejects another nonce ... */
	ev = v2();
	swap_ak(ev);
	rebind(ev, 0);
	ev->quote_msg[44] ^= 1;
	resign(ev);
	expect(ev, &n, COCOON_CHECK_VTPM_NONCE);
	/* ... and the PCR selection check a selection that names other PCRs (bitmap at 69 + 48 + 7). */
	ev = v2();
	swap_ak(ev);
	rebind(ev, 0);
	ev->quote_msg[44 + 48 + 17 + 8 + 9] = 0x7f;
	resign(ev);
	expect(ev, &n, COCOON_CHECK_VTPM_PCR_SELECTION);
	/* SHA-384 binding: accepted by every vTPM layer, refused only by the hardware signature. */
	ev = v2();
	swap_ak(ev);
	ev->hcl_report[0x4CC] = COCOON_HCL_HASH_SHA384;
	rebind(ev, 1);
	resign(ev);
	expect(ev, &n, COCOON_CHECK_SNP_SIGNATURE);
}

/* ------------------------------------------------------------ hardware and JSON */

static void test_snp_layer(void **state)
{
	nonce_t n = nonce_hex(V2_NONCE);
	cocoon_vtpm_evidence *ev;
	cocoon_result r;
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	(void)state;
	REQUIRE_AZURE();

	/* Before the v2 VCEK's notBefore (2025-01-28T16:33:43Z). */
	ev = v2();
	in.nonce = n.nonce;
	in.nonce_len = n.nonce_len;
	o.at = 1738082022;
	assert_int_equal(cocoon_verifier_verify_vtpm(&r, NULL, NULL, ev, &in, &o), 0);
	assert_check(&r, COCOON_CHECK_SNP_VCEK_CHAIN);
	cocoon_vtpm_evidence_free(ev);
	/* REPORTED_TCB byte (HCL 0x01A6) changed: the signed report no longer verifies. */
	ev = v2();
	ev->hcl_report[0x1A6] = 0;
	expect(ev, &n, COCOON_CHECK_SNP_SIGNATURE);
	/* No nonce: no freshness, no verdict to accept. */
	ev = v2();
	in.nonce = NULL;
	in.nonce_len = 0;
	o.at = AT;
	assert_int_equal(cocoon_verifier_verify_vtpm(&r, NULL, NULL, ev, &in, &o), 0);
	assert_check(&r, COCOON_CHECK_VTPM_NONCE);
	cocoon_vtpm_evidence_free(ev);
	/* The wrong AMD roots (Genoa for a Milan VCEK). */
	{
		size_t len;
		uint8_t *genoa = cocoon_test_vector("roots/amd-ask_ark_genoa.pem", &len);
		assert_non_null(genoa);
		ev = v2();
		in.nonce = n.nonce;
		in.nonce_len = n.nonce_len;
		in.amd_chain = genoa;
		in.amd_chain_len = len;
		assert_int_equal(cocoon_verifier_verify_vtpm(&r, NULL, NULL, ev, &in, &o), 0);
		assert_check(&r, COCOON_CHECK_SNP_VCEK_CHAIN);
		cocoon_vtpm_evidence_free(ev);
		free(genoa);
	}
}

static void test_evidence_json(void **state)
{
	nonce_t n = nonce_hex(V2_NONCE);
	cocoon_result r;
	cocoon_vtpm_claims c;
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_vtpm_evidence *ev = NULL;
	size_t len;
	uint8_t *b;
	char *json = NULL;
	json_t *root;
	static const char *const bad[] = {
		"", "[]", "{\"version\":3,\"hcl_report\":\"AA==\"}", "{\"version\":\"2\"}",
		("{\"version\":1,\"tpm_quote\":{\"signature\":\"zz\",\"message\":\"00\",\"pcrs\":[]},"
		 "\"hcl_report\":\"AA\",\"vcek\":\"AA\"}"),
		"{\"quote\":{\"signature\":[1,256],\"message\":[1],\"pcrs\":[[1]]},\"report\":[1],\"vcek\":\"x\"}",
		"{\"quote\":{\"signature\":[1],\"message\":[1],\"pcrs\":[[1]]},\"report\":[1],\"vcek\":\"x\"}",
		"{\"version\":1,\"version\":2}",
	};
	(void)state;
	REQUIRE_AZURE();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cocoon_vtpm_evidence_parse(&ev, COCOON_VTPM_FORMAT_AZ_SNP, bad[i], strlen(bad[i])) != COCOON_EFORMAT)
			fail_msg("accepted malformed evidence %s", bad[i]);
		assert_null(ev);
	}
	in.nonce = n.nonce;
	in.nonce_len = n.nonce_len;
	o.at = AT;
	assert_int_equal(cocoon_verifier_verify_vtpm_json(&r, &c, NULL, COCOON_VTPM_FORMAT_AZ_SNP, "{}", 2, &in, &o), 0);
	assert_check(&r, COCOON_CHECK_VTPM_EVIDENCE_FORMAT);

	b = cocoon_test_vector("azure-vtpm/snp/evidence-v2.json", &len);
	assert_int_equal(cocoon_verifier_verify_vtpm_json(&r, &c, NULL, COCOON_VTPM_FORMAT_AZ_SNP, (const char *)b, len,
	                                                  &in, &o), 0);
	assert_accepted(&r);
	assert_int_equal(cocoon_vtpm_result_to_json(&json, &r, &c), 0);
	root = json_loads(json, 0, NULL);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "format")), "az-snp-vtpm");
	assert_true(json_is_true(json_object_get(root, "tcb_status_verified")));
	{
		json_t *vt = json_object_get(json_object_get(root, "claims"), "vtpm");
		assert_string_equal(json_string_value(json_object_get(json_object_get(vt, "tpm"), "pcr00")), PCR0_SNP_V2);
		assert_string_equal(json_string_value(json_object_get(vt, "report_data")), V2_NONCE);
		assert_true(json_is_true(json_object_get(json_object_get(vt, "vm_configuration"), "secure_boot")));
		assert_true(json_is_true(json_object_get(vt, "user_data_checked")));
		/* user-data: the nonce, zero-padded to 64 bytes */
		assert_int_equal(strlen(json_string_value(json_object_get(vt, "user_data"))), 128);
		assert_non_null(json_object_get(json_object_get(root, "claims"), "measurement"));
	}
	json_decref(root);
	free(json);
	free(b);
}

static int setup(void **state)
{
	(void)state;
	rogue_ak = EVP_RSA_gen(2048);
	return rogue_ak ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rogue_ak);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snp_v0),
		cmocka_unit_test(test_snp_v1),
		cmocka_unit_test(test_snp_v2),
		cmocka_unit_test(test_snp_genoa),
		cmocka_unit_test(test_snp_separate_files),
		cmocka_unit_test(test_hcl_parse_all),
		cmocka_unit_test(test_tdx_unverified_tcb),
		cmocka_unit_test(test_tdx_tampering),
		cmocka_unit_test(test_tdx_with_collateral),
		cmocka_unit_test(test_tamper_hcl),
		cmocka_unit_test(test_tamper_quote),
		cmocka_unit_test(test_user_data),
		cmocka_unit_test(test_ak_swap),
		cmocka_unit_test(test_snp_layer),
		cmocka_unit_test(test_evidence_json),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
