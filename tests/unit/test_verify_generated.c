/*
 * DCAP verification of quotes and collateral generated with a test PKI
 * (src/lib/sim), as Intel's QVL tests do: the status paths, revocations,
 * mismatches and appraisal failures that no real vector shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "cocoon/cocoon.h"
#include "common/util.h"
#include "sim/dcap_sim.h"

#define AT ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

static cocoon_sim_pki *pki;
static cocoon_verifier *verifier;

/* What a test varies in the TCB info and QE identity it signs. */
typedef struct {
	int tdx;
	const char *fmspc, *pceid;
	const char *issue, *next;
	struct { uint8_t sgx, tdx; uint16_t pce; const char *status; const char *advisory; } levels[4];
	size_t n_levels;
	const char *module_mrsigner;              /* tdxModule.mrsigner (hex, 48 bytes) */
	int module_identity;                      /* add TDX_01 with levels 4 UpToDate, 2 OutOfDate */
	/* QE identity */
	const char *qe_id;
	const char *qe_mrsigner, *qe_attributes, *qe_attributes_mask, *qe_miscselect;
	unsigned qe_isvprodid;
	struct { uint16_t isvsvn; const char *status; } qe_levels[3];
	size_t n_qe_levels;
} spec;

static char *hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	cocoon_hex_encode(s, p, n);
	return s;
}

static void spec_defaults(spec *s, int tdx)
{
	memset(s, 0, sizeof(*s));
	s->tdx = tdx;
	s->fmspc = "00906ed50000";
	s->pceid = "0000";
	s->issue = "2025-06-01T00:00:00Z";
	s->next = "2049-01-01T00:00:00Z";
	s->levels[0].sgx = 2; s->levels[0].tdx = 0; s->levels[0].pce = 11; s->levels[0].status = "UpToDate";
	s->n_levels = 1;
	s->module_mrsigner = NULL;
	s->qe_id = tdx ? "TD_QE" : "QE";
	s->qe_isvprodid = tdx ? 2 : 1;
	s->qe_attributes = "11000000000000000000000000000000";
	s->qe_attributes_mask = "fbffffffffffffff0000000000000000";
	s->qe_miscselect = "00000000";
	s->qe_levels[0].isvsvn = 8; s->qe_levels[0].status = "UpToDate";
	s->n_qe_levels = 1;
}

static char *tcb_info_json(const spec *s)
{
	json_t *o = json_object(), *levels = json_array();
	if (s->tdx)
		json_object_set_new(o, "id", json_string("TDX"));
	else
		json_object_set_new(o, "id", json_string("SGX"));
	json_object_set_new(o, "version", json_integer(3));
	json_object_set_new(o, "issueDate", json_string(s->issue));
	json_object_set_new(o, "nextUpdate", json_string(s->next));
	json_object_set_new(o, "fmspc", json_string(s->fmspc));
	json_object_set_new(o, "pceId", json_string(s->pceid));
	json_object_set_new(o, "tcbType", json_integer(0));
	json_object_set_new(o, "tcbEvaluationDataNumber", json_integer(17));
	if (s->tdx) {
		json_t *m = json_object();
		json_object_set_new(m, "mrsigner", json_string(s->module_mrsigner ? s->module_mrsigner
		                                                                   : "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"));
		json_object_set_new(m, "attributes", json_string("0000000000000000"));
		json_object_set_new(m, "attributesMask", json_string("FFFFFFFFFFFFFFFF"));
		json_object_set_new(o, "tdxModule", m);
		if (s->module_identity) {
			json_t *ids = json_array(), *id = json_deep_copy(m), *ml = json_array();
			json_object_set_new(id, "id", json_string("TDX_01"));
			json_array_append_new(ml, json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", 4, "tcbDate",
			                                    "2024-03-13T00:00:00Z", "tcbStatus", "UpToDate"));
			json_array_append_new(ml, json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", 2, "tcbDate",
			                                    "2023-08-09T00:00:00Z", "tcbStatus", "OutOfDate"));
			json_object_set_new(id, "tcbLevels", ml);
			json_array_append_new(ids, id);
			json_object_set_new(o, "tdxModuleIdentities", ids);
		}
	}
	for (size_t i = 0; i < s->n_levels; i++) {
		json_t *tcb = json_object(), *sgx = json_array(), *lvl = json_object();
		for (int c = 0; c < 16; c++)
			json_array_append_new(sgx, json_pack("{s:i}", "svn", s->levels[i].sgx));
		json_object_set_new(tcb, "sgxtcbcomponents", sgx);
		if (s->tdx) {
			json_t *tdx = json_array();
			for (int c = 0; c < 16; c++)
				json_array_append_new(tdx, json_pack("{s:i}", "svn", s->levels[i].tdx));
			json_object_set_new(tcb, "tdxtcbcomponents", tdx);
		}
		json_object_set_new(tcb, "pcesvn", json_integer(s->levels[i].pce));
		json_object_set_new(lvl, "tcb", tcb);
		json_object_set_new(lvl, "tcbDate", json_string("2024-03-13T00:00:00Z"));
		json_object_set_new(lvl, "tcbStatus", json_string(s->levels[i].status));
		if (s->levels[i].advisory)
			json_object_set_new(lvl, "advisoryIDs", json_pack("[s]", s->levels[i].advisory));
		json_array_append_new(levels, lvl);
	}
	json_object_set_new(o, "tcbLevels", levels);
	char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

static char *qe_identity_json(const spec *s)
{
	json_t *o = json_object(), *levels = json_array();
	json_object_set_new(o, "id", json_string(s->qe_id));
	json_object_set_new(o, "version", json_integer(2));
	json_object_set_new(o, "issueDate", json_string(s->issue));
	json_object_set_new(o, "nextUpdate", json_string(s->next));
	json_object_set_new(o, "tcbEvaluationDataNumber", json_integer(17));
	json_object_set_new(o, "miscselect", json_string(s->qe_miscselect));
	json_object_set_new(o, "miscselectMask", json_string("FFFFFFFF"));
	json_object_set_new(o, "attributes", json_string(s->qe_attributes));
	json_object_set_new(o, "attributesMask", json_string(s->qe_attributes_mask));
	json_object_set_new(o, "mrsigner", json_string(s->qe_mrsigner));
	json_object_set_new(o, "isvprodid", json_integer(s->qe_isvprodid));
	for (size_t i = 0; i < s->n_qe_levels; i++)
		json_array_append_new(levels, json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", s->qe_levels[i].isvsvn,
		                                        "tcbDate", "2024-03-13T00:00:00Z", "tcbStatus",
		                                        s->qe_levels[i].status));
	json_object_set_new(o, "tcbLevels", levels);
	char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return out;
}

static cocoon_result verify_with(const spec *s, const cocoon_sim_quote_params *qp, const cocoon_verify_options *opts)
{
	cocoon_verify_options defaults = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	cocoon_collateral *c = NULL;
	uint8_t *quote = NULL;
	size_t qlen = 0;
	spec local = *s;
	char *mrsigner = hex_of(qp->qe_mrsigner, 32);
	if (!local.qe_mrsigner)
		local.qe_mrsigner = mrsigner;
	char *ti = tcb_info_json(&local), *qe = qe_identity_json(&local), *coll = NULL;

	if (!opts) {
		defaults.at = AT;
		opts = &defaults;
	}
	assert_int_equal(cocoon_sim_quote(&quote, &qlen, pki, qp), 0);
	assert_int_equal(cocoon_sim_collateral_json(&coll, pki, ti, qe), 0);
	assert_int_equal(cocoon_collateral_from_json(&c, coll, strlen(coll)), 0);
	assert_int_equal(cocoon_verifier_verify_dcap(&r, verifier, quote, qlen, c, opts), 0);
	cocoon_collateral_free(c);
	free(quote);
	free(ti);
	free(qe);
	free(coll);
	free(mrsigner);
	return r;
}

static void expect_accept(const cocoon_result *r, cocoon_tcb_status status)
{
	if (!r->accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r->failed_check), r->reason);
	if (r->status != status)
		fail_msg("status %s, want %s", cocoon_tcb_status_name(r->status), cocoon_tcb_status_name(status));
}

static void expect_reject(const cocoon_result *r, cocoon_check check, const char *part)
{
	if (r->accepted || r->failed_check != check || !strstr(r->reason, part))
		fail_msg("expected reject %s containing \"%s\", got %s %s: %s", cocoon_check_name(check), part,
		         r->accepted ? "accept" : "reject", cocoon_check_name(r->failed_check), r->reason);
}

static int setup(void **state)
{
	cocoon_sim_pki_options o;
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	uint8_t *der = NULL;
	int len, err;
	(void)state;
	cocoon_sim_pki_options_init(&o);
	if (cocoon_sim_pki_generate(&pki, &o) != 0)
		return -1;
	len = i2d_X509(pki->root_cert, &der);
	vo.intel_root_der = der;
	vo.intel_root_der_len = (size_t)len;
	err = cocoon_verifier_new(&verifier, &vo);
	OPENSSL_free(der);
	return err;
}

static int teardown(void **state)
{
	(void)state;
	cocoon_verifier_free(verifier);
	cocoon_sim_pki_free(pki);
	return 0;
}

static void test_sgx_statuses(void **state)
{
	(void)state;
	const char *statuses[] = { "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
		                   "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded" };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		spec s;
		cocoon_sim_quote_params qp;
		cocoon_tcb_status want;
		spec_defaults(&s, 0);
		s.levels[0].status = statuses[i];
		s.levels[0].advisory = "INTEL-SA-00999";
		cocoon_sim_quote_params_init(&qp, 3, 1);
		cocoon_result r = verify_with(&s, &qp, NULL);
		assert_int_equal(cocoon_tcb_status_parse(&want, statuses[i]), 0);
		expect_accept(&r, want);
		assert_int_equal(r.n_advisories, 1);
		assert_string_equal(r.advisory_ids[0], "INTEL-SA-00999");
	}
}

static void test_sgx_revoked_tcb(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	spec_defaults(&s, 0);
	s.levels[0].status = "Revoked";
	cocoon_sim_quote_params_init(&qp, 3, 1);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_REVOKED, "revoked");
	assert_int_equal(r.status, COCOON_TCB_REVOKED);
}

static void test_sgx_level_order_is_canonical(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	/* Listed worst first: JSON order must not matter. The platform (all 2,
	 * PCESVN 11) matches the level {2,11} UpToDate, not {1,5} OutOfDate. */
	spec_defaults(&s, 0);
	s.levels[0].sgx = 1; s.levels[0].pce = 5; s.levels[0].status = "OutOfDate";
	s.levels[1].sgx = 2; s.levels[1].pce = 11; s.levels[1].status = "UpToDate";
	s.n_levels = 2;
	cocoon_sim_quote_params_init(&qp, 3, 1);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
}

static void test_sgx_tcb_not_supported(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	spec_defaults(&s, 0);
	s.levels[0].sgx = 3; /* every component above the platform's 2 */
	cocoon_sim_quote_params_init(&qp, 3, 1);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_LEVEL, "TCB not supported");
}

static void test_qe_statuses(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	spec_defaults(&s, 0);
	s.levels[0].status = "ConfigurationNeeded";
	s.qe_levels[0].isvsvn = 9; s.qe_levels[0].status = "UpToDate";
	s.qe_levels[1].isvsvn = 5; s.qe_levels[1].status = "OutOfDate";
	s.n_qe_levels = 2;
	cocoon_sim_quote_params_init(&qp, 3, 1);
	qp.qe_isv_svn = 8;
	cocoon_result r = verify_with(&s, &qp, NULL);
	/* Intel: QE OutOfDate + ConfigurationNeeded => OutOfDateConfigurationNeeded */
	expect_accept(&r, COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(r.qe_status, COCOON_TCB_OUT_OF_DATE);

	s.qe_levels[1].status = "Revoked";
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_REVOKED, "revoked");

	qp.qe_isv_svn = 4; /* below every QE level */
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_TCB, "QE ISVSVN 4");
}

static void test_qe_identity_fields(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	cocoon_sim_quote_params_init(&qp, 3, 1);

	spec_defaults(&s, 0);
	s.qe_mrsigner = "0101010101010101010101010101010101010101010101010101010101010101";
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_REPORT_IDENTITY, "MRSIGNER");

	spec_defaults(&s, 0);
	s.qe_isvprodid = 7;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_REPORT_IDENTITY, "ISVPRODID");

	spec_defaults(&s, 0);
	s.qe_miscselect = "00000001";
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_REPORT_IDENTITY, "MISCSELECT");

	spec_defaults(&s, 0);
	s.qe_attributes = "13000000000000000000000000000000";
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_REPORT_IDENTITY, "ATTRIBUTES");

	/* A debug QE is rejected even under a mask that would hide the bit. */
	spec_defaults(&s, 0);
	s.qe_attributes_mask = "f9ffffffffffffff0000000000000000";
	cocoon_sim_quote_params_init(&qp, 3, 1);
	qp.qe_attributes[0] |= 0x02;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_REPORT_IDENTITY, "DEBUG");

	/* TDX quote against an SGX QE identity. */
	spec_defaults(&s, 1);
	s.qe_id = "QE";
	cocoon_sim_quote_params_init(&qp, 4, 2);
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_IDENTITY_MISMATCH, "TD_QE");
}

static void test_fmspc_pceid_mismatch(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	cocoon_sim_quote_params_init(&qp, 3, 1);
	spec_defaults(&s, 0);
	s.fmspc = "00906ed50001";
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_FMSPC, "FMSPC");
	spec_defaults(&s, 0);
	s.pceid = "0001";
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_PCEID, "PCEID");
}

static void test_tcb_info_mismatch(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	/* SGX quote, TDX TCB info. */
	spec_defaults(&s, 1);
	s.qe_id = "QE";
	s.qe_isvprodid = 1;
	cocoon_sim_quote_params_init(&qp, 3, 1);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_INFO_MISMATCH, "SGX");
}

static void test_revoked_pck(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	const ASN1_INTEGER *serial;
	(void)state;
	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 3, 1);
	serial = X509_get0_serialNumber(pki->pck_cert);
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 0, &serial, 1, AT - 86400, AT + 86400 * 30), 0);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_CERT_REVOKED, "revoked");

	/* A revoked PCK CA in the root CRL. */
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 0, NULL, 0, AT - 86400, AT + 86400 * 30), 0);
	serial = X509_get0_serialNumber(pki->pck_ca_cert);
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 1, &serial, 1, AT - 86400, AT + 86400 * 30), 0);
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_CERT_REVOKED, "revoked");

	/* A stale PCK CRL. */
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 1, NULL, 0, AT - 86400, AT + 86400 * 30), 0);
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 0, NULL, 0, AT - 86400 * 40, AT - 1), 0);
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_PCK_CRL, "expired");

	/* Restore for the other tests. */
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 0, NULL, 0, AT - 86400, AT + 86400 * 3650), 0);
	assert_int_equal(cocoon_sim_pki_reissue_crl(pki, 1, NULL, 0, AT - 86400, AT + 86400 * 3650), 0);
	r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
}

static void test_sgx_debug_appraisal(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	(void)state;
	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 3, 1);
	qp.attributes[0] |= 0x02;
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_SGX_DEBUG, "DEBUG");
	o.at = AT;
	o.allow_debug = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	assert_true(r.sgx.debug);
}

static void test_qe_vendor_and_trailing_padding(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 3, 1);
	qp.trailing_padding = 70; /* as real TDX quotes carry: ignored */
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	qp.qe_vendor_id[0] ^= 0xff;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_QE_VENDOR_ID, "not Intel's");
}

static void tdx_spec(spec *s)
{
	spec_defaults(s, 1);
	s->levels[0].tdx = 3;
	s->module_identity = 1;
}

static void test_tdx_v4_and_v5_bodies(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	tdx_spec(&s);
	const int shapes[][2] = { { 4, 2 }, { 5, 2 }, { 5, 3 } };
	for (size_t i = 0; i < 3; i++) {
		cocoon_sim_quote_params_init(&qp, shapes[i][0], shapes[i][1]);
		memset(qp.tee_tcb_svn, 3, 16);
		qp.tee_tcb_svn[1] = 1;
		qp.tee_tcb_svn[0] = 5;
		memcpy(qp.tee_tcb_svn2, qp.tee_tcb_svn, 16);
		cocoon_result r = verify_with(&s, &qp, NULL);
		expect_accept(&r, COCOON_TCB_UP_TO_DATE);
		assert_int_equal(r.quote_version, shapes[i][0]);
		assert_int_equal(r.tdx.has_td15, shapes[i][1] == 3);
	}
	/* v5 with an SGX body verifies as SGX. */
	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 5, 1);
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(r.tee, COCOON_TEE_SGX);
}

static void test_tdx_module_checks(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	/* Module version 0: checked against tdxModule. */
	tdx_spec(&s);
	s.module_mrsigner = "010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
	cocoon_sim_quote_params_init(&qp, 4, 2);
	memset(qp.tee_tcb_svn, 3, 16);
	qp.tee_tcb_svn[1] = 0;
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TDX_MODULE, "MRSIGNERSEAM");

	/* SEAMATTRIBUTES must be zero. */
	tdx_spec(&s);
	qp.seam_attributes[0] = 1;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TDX_MODULE, "SEAMATTRIBUTES");

	/* Module version 2 has no identity. */
	cocoon_sim_quote_params_init(&qp, 4, 2);
	memset(qp.tee_tcb_svn, 3, 16);
	qp.tee_tcb_svn[1] = 2;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TDX_MODULE, "TDX_02");

	/* Module ISVSVN between the identity's levels: OutOfDate. */
	qp.tee_tcb_svn[1] = 1;
	qp.tee_tcb_svn[0] = 3;
	r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_OUT_OF_DATE);
	assert_int_equal(r.module_status, COCOON_TCB_OUT_OF_DATE);
}

static void test_tdx_relaunch_advised(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	(void)state;
	tdx_spec(&s);
	s.levels[0].tdx = 5; s.levels[0].status = "UpToDate";
	s.levels[1].sgx = 2; s.levels[1].tdx = 1; s.levels[1].pce = 11; s.levels[1].status = "OutOfDate";
	s.n_levels = 2;
	cocoon_sim_quote_params_init(&qp, 5, 3);
	memset(qp.tee_tcb_svn, 2, 16);
	qp.tee_tcb_svn[1] = 1;
	qp.tee_tcb_svn[0] = 3;
	memset(qp.tee_tcb_svn2, 5, 16);
	qp.tee_tcb_svn2[1] = 1;
	qp.tee_tcb_svn2[0] = 4;
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_TD_RELAUNCH_ADVISED);
}

static void test_td_appraisal(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	(void)state;
	tdx_spec(&s);
	o.at = AT;

	cocoon_sim_quote_params_init(&qp, 4, 2);
	memset(qp.tee_tcb_svn, 3, 16);
	qp.tee_tcb_svn[1] = 1; /* module TDX_01 */
	qp.tee_tcb_svn[0] = 5;
	qp.td_attributes[0] |= 0x01; /* TUD.DEBUG */
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_TD_DEBUG, "DEBUG");
	o.allow_debug = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	o.allow_debug = 0;

	qp.td_attributes[0] = 0x02; /* TUD reserved bit */
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_TD_ATTRIBUTES, "reserved");
	qp.td_attributes[0] = 0;
	qp.td_attributes[5] = 0x01; /* OTHER reserved bit 40 */
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_TD_ATTRIBUTES, "reserved");
	o.allow_td_reserved_bits = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	o.allow_td_reserved_bits = 0;
	qp.td_attributes[5] = 0;

	qp.td_attributes[3] &= (uint8_t)~0x10; /* SEPT_VE_DISABLE off */
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_TD_SEPT_VE_DISABLE, "SEPT_VE_DISABLE");
	o.allow_missing_sept_ve_disable = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	o.allow_missing_sept_ve_disable = 0;
	qp.td_attributes[3] |= 0x10;

	qp.td_attributes[3] |= 0x40 | 0x80; /* PKS and KL are allowed */
	r = verify_with(&s, &qp, NULL);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);

	cocoon_sim_quote_params_init(&qp, 5, 3);
	memset(qp.tee_tcb_svn, 3, 16);
	qp.tee_tcb_svn[1] = 1; /* module TDX_01 */
	qp.tee_tcb_svn[0] = 5;
	memcpy(qp.tee_tcb_svn2, qp.tee_tcb_svn, 16);
	qp.mr_service_td[0] = 1;
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_APPRAISAL_TD_SERVICE_TD, "MR_SERVICETD");
	o.allow_service_td = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
}

static void test_collateral_dates(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	(void)state;
	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 3, 1);
	s.issue = "2026-01-01T00:00:01Z"; /* one second after AT */
	cocoon_result r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_INFO_VALIDITY, "future");
	s.issue = "2025-06-01T00:00:00Z";
	s.next = "2025-12-31T23:59:59Z"; /* one second before AT */
	r = verify_with(&s, &qp, NULL);
	expect_reject(&r, COCOON_CHECK_TCB_INFO_VALIDITY, "expired");
	o.at = AT;
	o.allow_expired_collateral = 1;
	r = verify_with(&s, &qp, &o);
	expect_accept(&r, COCOON_TCB_UP_TO_DATE);
	assert_true(r.collateral_expired);
}

/* Documents whose signature verifies but whose content is not Intel's format. */
static void test_signed_but_malformed_documents(void **state)
{
	spec s;
	cocoon_sim_quote_params qp;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_collateral *c = NULL;
	cocoon_result r;
	uint8_t *quote = NULL;
	size_t qlen = 0;
	char *mrsigner, *good_ti, *good_qe, *coll = NULL;
	(void)state;

	spec_defaults(&s, 0);
	cocoon_sim_quote_params_init(&qp, 3, 1);
	mrsigner = hex_of(qp.qe_mrsigner, 32);
	s.qe_mrsigner = mrsigner;
	good_ti = tcb_info_json(&s);
	good_qe = qe_identity_json(&s);
	o.at = AT;
	assert_int_equal(cocoon_sim_quote(&quote, &qlen, pki, &qp), 0);

	const struct {
		const char *ti, *qe;
		cocoon_check check;
		const char *part;
	} cases[] = {
		{ "{\"id\":\"SGX\",\"version\":3}", NULL, COCOON_CHECK_TCB_INFO_FORMAT, "tcbInfo.issueDate: required" },
		{ "[]", NULL, COCOON_CHECK_TCB_INFO_FORMAT, "tcbInfo: expected a JSON object" },
		{ NULL, "{\"id\":\"QE\",\"version\":2}", COCOON_CHECK_QE_IDENTITY_FORMAT,
		  "enclaveIdentity.issueDate: required" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cocoon_sim_collateral_json(&coll, pki, cases[i].ti ? cases[i].ti : good_ti,
		                                            cases[i].qe ? cases[i].qe : good_qe),
		                 0);
		assert_int_equal(cocoon_collateral_from_json(&c, coll, strlen(coll)), 0);
		assert_int_equal(cocoon_verifier_verify_dcap(&r, verifier, quote, qlen, c, &o), 0);
		expect_reject(&r, cases[i].check, cases[i].part);
		cocoon_collateral_free(c);
		free(coll);
		c = NULL;
		coll = NULL;
	}
	free(quote);
	free(good_ti);
	free(good_qe);
	free(mrsigner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx_statuses),
		cmocka_unit_test(test_sgx_revoked_tcb),
		cmocka_unit_test(test_sgx_level_order_is_canonical),
		cmocka_unit_test(test_sgx_tcb_not_supported),
		cmocka_unit_test(test_qe_statuses),
		cmocka_unit_test(test_qe_identity_fields),
		cmocka_unit_test(test_fmspc_pceid_mismatch),
		cmocka_unit_test(test_tcb_info_mismatch),
		cmocka_unit_test(test_revoked_pck),
		cmocka_unit_test(test_sgx_debug_appraisal),
		cmocka_unit_test(test_qe_vendor_and_trailing_padding),
		cmocka_unit_test(test_tdx_v4_and_v5_bodies),
		cmocka_unit_test(test_tdx_module_checks),
		cmocka_unit_test(test_tdx_relaunch_advised),
		cmocka_unit_test(test_td_appraisal),
		cmocka_unit_test(test_collateral_dates),
		cmocka_unit_test(test_signed_but_malformed_documents),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
