/* TCB info and QE identity parsing: real collateral, canonical order, strictness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "testutil.h"
#include "common/util.h"
#include "dcap/tcbinfo.h"

/* ---- helpers ---- */

/* A string member of a vector's collateral.json (caller frees). */
static char *vector_string(const char *rel, const char *key)
{
	size_t len;
	uint8_t *buf = cocoon_test_vector(rel, &len);
	json_error_t e;
	json_t *root, *v;
	char *out;

	assert_non_null(buf);
	root = json_loadb((const char *)buf, len, 0, &e);
	assert_non_null(root);
	v = json_object_get(root, key);
	assert_true(json_is_string(v));
	out = strdup(json_string_value(v));
	assert_non_null(out);
	json_decref(root);
	free(buf);
	return out;
}

static void assert_error(int err, int code, const char *substr)
{
	const char *msg = cocoon_error_last()->message;
	if (err != code || !strstr(msg, substr))
		fail_msg("expected %s containing \"%s\", got %s: \"%s\"", cocoon_error_name(code), substr,
		         cocoon_error_name(err), msg);
}

static json_t *components(const uint8_t v[16], size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:i,s:s,s:s}", "svn", i < 16 ? v[i] : 0, "category", "BIOS",
		                                     "type", "Early Microcode Update"));
	return arr;
}

/* A v3 level with sgx[0..1] = s0,s1 and tdx[0] = t0 (tdx only when is_tdx). */
static json_t *level3(int is_tdx, uint8_t s0, uint8_t s1, int pce, uint8_t t0, const char *status)
{
	uint8_t sgx[16] = { s0, s1, 2, 2, 3, 1, 0, 5 }, tdx[16] = { t0, 0, 2 };
	json_t *tcb = json_pack("{s:o,s:i}", "sgxtcbcomponents", components(sgx, 16), "pcesvn", pce);
	if (is_tdx)
		json_object_set_new(tcb, "tdxtcbcomponents", components(tdx, 16));
	return json_pack("{s:o,s:s,s:s}", "tcb", tcb, "tcbDate", "2024-03-13T00:00:00Z", "tcbStatus", status);
}

static json_t *isv_level(int isvsvn, const char *status)
{
	return json_pack("{s:{s:i},s:s,s:s}", "tcb", "isvsvn", isvsvn, "tcbDate", "2024-03-13T00:00:00Z",
	                 "tcbStatus", status);
}

static const char ZERO48[] = "000000000000000000000000000000000000000000000000"
                             "000000000000000000000000000000000000000000000000";

/* A valid TDX v3 TCB info with one level and one module identity. */
static json_t *tdx_info(void)
{
	json_t *mid = json_pack("{s:s,s:s,s:s,s:s,s:[o]}", "id", "TDX_01", "mrsigner", ZERO48, "attributes",
	                        "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF", "tcbLevels",
	                        isv_level(4, "UpToDate"));
	json_t *doc = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:i}", "id", "TDX", "version", 3, "issueDate",
	                        "2025-06-19T10:16:03Z", "nextUpdate", "2025-07-19T10:16:03Z", "fmspc", "B0C06F000000",
	                        "pceId", "0000", "tcbType", 0, "tcbEvaluationDataNumber", 17);
	json_object_set_new(doc, "tdxModule", json_pack("{s:s,s:s,s:s}", "mrsigner", ZERO48, "attributes",
	                                                "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF"));
	json_object_set_new(doc, "tdxModuleIdentities", json_pack("[o]", mid));
	json_object_set_new(doc, "tcbLevels", json_pack("[o]", level3(1, 2, 2, 11, 5, "UpToDate")));
	return doc;
}

static json_t *qe_identity(void)
{
	return json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:[o]}", "id", "QE", "version", 2, "issueDate",
	                 "2025-06-19T10:01:18Z", "nextUpdate", "2025-07-19T10:01:18Z", "tcbEvaluationDataNumber", 17,
	                 "miscselect", "00000000", "miscselectMask", "FFFFFFFF", "attributes",
	                 "11000000000000000000000000000000", "attributesMask", "FBFFFFFFFFFFFFFF0000000000000000",
	                 "mrsigner", "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF", "isvprodid", 1,
	                 "tcbLevels", isv_level(8, "UpToDate"));
}

static int parse_tcb(cocoon_tcb_info **out, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int err;
	assert_non_null(text);
	err = cocoon_tcb_info_parse(out, text, strlen(text));
	free(text);
	return err;
}

static int parse_qe(cocoon_qe_identity **out, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int err;
	assert_non_null(text);
	err = cocoon_qe_identity_parse(out, text, strlen(text));
	free(text);
	return err;
}

/* Parses doc (taking ownership), expecting failure with code and substr. */
static void tcb_fails(json_t *doc, int code, const char *substr)
{
	cocoon_tcb_info *t = NULL;
	int err = parse_tcb(&t, doc);
	json_decref(doc);
	assert_null(t);
	assert_error(err, code, substr);
}

static void qe_fails(json_t *doc, int code, const char *substr)
{
	cocoon_qe_identity *q = NULL;
	int err = parse_qe(&q, doc);
	json_decref(doc);
	assert_null(q);
	assert_error(err, code, substr);
}

static json_t *first_level(json_t *doc)
{
	return json_array_get(json_object_get(doc, "tcbLevels"), 0);
}

static json_t *first_tcb(json_t *doc)
{
	return json_object_get(first_level(doc), "tcb");
}

static int has_advisory(const cocoon_advisories *a, const char *id)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], id) == 0)
			return 1;
	return 0;
}

/* ---- real collateral ---- */

static void test_vector_sgx_tcb_info(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	char *text = vector_string("sgx/collateral.json", "tcb_info");
	cocoon_tcb_info *t = NULL;
	static const uint8_t fmspc[6] = { 0x00, 0xA0, 0x67, 0x11, 0x00, 0x00 };

	assert_int_equal(cocoon_tcb_info_parse(&t, text, strlen(text)), 0);
	assert_int_equal(t->is_tdx, 0);
	assert_int_equal(t->version, 3);
	assert_memory_equal(t->fmspc, fmspc, 6);
	assert_int_equal(t->pceid[0], 0);
	assert_int_equal(t->pceid[1], 0);
	assert_int_equal(t->tcb_type, 0);
	assert_int_equal(t->tcb_eval_data_number, 17);
	assert_int_equal(t->issue_date, 1750330571);  /* 2025-06-19T10:56:11Z */
	assert_int_equal(t->next_update, 1752922571); /* 2025-07-19T10:56:11Z */
	assert_int_equal(t->has_tdx_module, 0);
	assert_int_equal(t->n_module_identities, 0);
	assert_int_equal(t->n_levels, 11);
	/* Canonical order puts sgx {11,11,..,12,..} pce 13 first. */
	assert_int_equal(t->levels[0].status, COCOON_TCB_SW_HARDENING_NEEDED);
	assert_int_equal(t->levels[0].sgx[0], 11);
	assert_int_equal(t->levels[0].sgx[6], 12);
	assert_int_equal(t->levels[0].pce_svn, 13);
	assert_int_equal(t->levels[0].tcb_date, 1710288000); /* 2024-03-13 */
	assert_int_equal(t->levels[0].advisories.n, 1);
	assert_string_equal(t->levels[0].advisories.ids[0], "INTEL-SA-00615");
	assert_int_equal(t->levels[1].status, COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
	assert_true(has_advisory(&t->levels[1].advisories, "INTEL-SA-00289"));
	/* sgx {5,5,2,2,255,1,4} pce 11 then pce 10 before sgx {..,0} pce 11. */
	assert_int_equal(t->levels[6].sgx[6], 4);
	assert_int_equal(t->levels[6].pce_svn, 11);
	assert_int_equal(t->levels[7].pce_svn, 10);
	assert_int_equal(t->levels[8].sgx[6], 0);
	assert_int_equal(t->levels[10].pce_svn, 5);
	assert_int_equal(t->levels[10].advisories.n, 20);
	for (size_t i = 1; i < t->n_levels; i++)
		assert_true(memcmp(t->levels[i - 1].sgx, t->levels[i].sgx, 16) >= 0);
	cocoon_tcb_info_free(t);
	free(text);
}

static void test_vector_tdx_tcb_info(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	char *text = vector_string("tdx/collateral.json", "tcb_info");
	cocoon_tcb_info *t = NULL;
	static const uint8_t fmspc[6] = { 0xB0, 0xC0, 0x6F, 0x00, 0x00, 0x00 };
	uint8_t zero48[48] = { 0 }, ff8[8];

	memset(ff8, 0xff, sizeof(ff8));
	assert_int_equal(cocoon_tcb_info_parse(&t, text, strlen(text)), 0);
	assert_int_equal(t->is_tdx, 1);
	assert_int_equal(t->version, 3);
	assert_memory_equal(t->fmspc, fmspc, 6);
	assert_int_equal(t->tcb_eval_data_number, 17);
	assert_int_equal(t->has_tdx_module, 1);
	assert_memory_equal(t->module_mrsigner, zero48, 48);
	assert_memory_equal(t->module_attributes_mask, ff8, 8);
	assert_int_equal(t->n_levels, 2);
	assert_int_equal(t->levels[0].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(t->levels[0].pce_svn, 11);
	assert_int_equal(t->levels[0].tdx[0], 5);
	assert_int_equal(t->levels[0].tdx[2], 2);
	assert_int_equal(t->levels[0].advisories.n, 0);
	assert_int_equal(t->levels[1].status, COCOON_TCB_OUT_OF_DATE);
	assert_int_equal(t->levels[1].pce_svn, 5);
	assert_int_equal(t->n_module_identities, 2);
	assert_string_equal(t->module_identities[0].id, "TDX_03");
	assert_int_equal(t->module_identities[0].n_levels, 1);
	assert_string_equal(t->module_identities[1].id, "TDX_01");
	assert_int_equal(t->module_identities[1].n_levels, 2);
	assert_int_equal(t->module_identities[1].levels[0].isvsvn, 4);
	assert_int_equal(t->module_identities[1].levels[0].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(t->module_identities[1].levels[1].isvsvn, 2);
	assert_int_equal(t->module_identities[1].levels[1].status, COCOON_TCB_OUT_OF_DATE);
	cocoon_tcb_info_free(t);
	free(text);

	text = vector_string("tdx/collateral-outdated.json", "tcb_info");
	assert_int_equal(cocoon_tcb_info_parse(&t, text, strlen(text)), 0);
	assert_int_equal(t->tcb_eval_data_number, 18);
	assert_int_equal(t->n_levels, 3);
	assert_int_equal(t->levels[0].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(t->levels[0].sgx[0], 3);
	assert_int_equal(t->levels[0].tdx[2], 3);
	assert_true(has_advisory(&t->levels[1].advisories, "INTEL-SA-01036"));
	assert_int_equal(t->module_identities[1].n_levels, 3);
	cocoon_tcb_info_free(t);
	free(text);
}

static void test_vector_qe_identities(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	char *text = vector_string("sgx/collateral.json", "qe_identity");
	cocoon_qe_identity *q = NULL;
	static const uint8_t mrsigner[32] = { 0x8C, 0x4F, 0x57, 0x75, 0xD7, 0x96, 0x50, 0x3E, 0x96, 0x13, 0x7F,
		                              0x77, 0xC6, 0x8A, 0x82, 0x9A, 0x00, 0x56, 0xAC, 0x8D, 0xED, 0x70,
		                              0x14, 0x0B, 0x08, 0x1B, 0x09, 0x44, 0x90, 0xC5, 0x7B, 0xFF };

	assert_int_equal(cocoon_qe_identity_parse(&q, text, strlen(text)), 0);
	assert_int_equal(q->id, COCOON_QEID_QE);
	assert_int_equal(q->version, 2);
	assert_int_equal(q->tcb_eval_data_number, 17);
	assert_int_equal(q->miscselect, 0);
	assert_int_equal(q->miscselect_mask, 0xFFFFFFFFu);
	assert_int_equal(q->attributes[0], 0x11);
	assert_int_equal(q->attributes_mask[0], 0xFB);
	assert_int_equal(q->attributes_mask[8], 0x00);
	assert_memory_equal(q->mrsigner, mrsigner, 32);
	assert_int_equal(q->isvprodid, 1);
	assert_int_equal(q->n_levels, 6);
	assert_int_equal(q->levels[0].isvsvn, 8);
	assert_int_equal(q->levels[0].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(q->levels[5].isvsvn, 1);
	assert_true(has_advisory(&q->levels[5].advisories, "INTEL-SA-00202"));
	cocoon_qe_identity_free(q);
	free(text);

	text = vector_string("tdx/collateral.json", "qe_identity");
	assert_int_equal(cocoon_qe_identity_parse(&q, text, strlen(text)), 0);
	assert_int_equal(q->id, COCOON_QEID_TD_QE);
	assert_int_equal(q->isvprodid, 2);
	assert_int_equal(q->issue_date, 1750329147);  /* 2025-06-19T10:32:27Z */
	assert_int_equal(q->next_update, 1752921147); /* 2025-07-19T10:32:27Z */
	assert_int_equal(q->n_levels, 1);
	assert_int_equal(q->levels[0].isvsvn, 4);
	cocoon_qe_identity_free(q);
	free(text);
}

/* ---- canonical order ---- */

static void test_canonical_sort_sgx(void **state)
{
	(void)state;
	json_t *doc = tdx_info();
	cocoon_tcb_info *t = NULL;

	json_object_set_new(doc, "id", json_string("SGX"));
	json_object_del(doc, "tdxModule");
	json_object_del(doc, "tdxModuleIdentities");
	json_object_set_new(doc, "tcbLevels", json_pack("[o,o,o,o,o]",
	                                                level3(0, 5, 0, 10, 0, "OutOfDate"),
	                                                level3(0, 7, 0, 5, 0, "UpToDate"),
	                                                level3(0, 5, 0, 11, 0, "SWHardeningNeeded"),
	                                                level3(0, 5, 1, 1, 0, "ConfigurationNeeded"),
	                                                level3(0, 5, 0, 10, 0, "Revoked")));
	assert_int_equal(parse_tcb(&t, doc), 0);
	/* The Revoked duplicate of the first level is dropped, as std::set drops it. */
	assert_int_equal(t->n_levels, 4);
	assert_int_equal(t->levels[0].sgx[0], 7);
	assert_int_equal(t->levels[0].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(t->levels[1].sgx[1], 1);
	assert_int_equal(t->levels[1].status, COCOON_TCB_CONFIGURATION_NEEDED);
	assert_int_equal(t->levels[2].pce_svn, 11);
	assert_int_equal(t->levels[2].status, COCOON_TCB_SW_HARDENING_NEEDED);
	assert_int_equal(t->levels[3].pce_svn, 10);
	assert_int_equal(t->levels[3].status, COCOON_TCB_OUT_OF_DATE);
	cocoon_tcb_info_free(t);
	json_decref(doc);
}

static void test_canonical_sort_tdx(void **state)
{
	(void)state;
	json_t *doc = tdx_info();
	cocoon_tcb_info *t = NULL;

	json_object_set_new(doc, "tcbLevels", json_pack("[o,o,o,o,o]",
	                                                level3(1, 2, 0, 11, 5, "OutOfDate"),
	                                                level3(1, 2, 0, 11, 6, "UpToDate"),
	                                                level3(1, 2, 0, 13, 1, "SWHardeningNeeded"),
	                                                level3(1, 3, 0, 1, 0, "OutOfDateConfigurationNeeded"),
	                                                level3(1, 2, 0, 11, 6, "Revoked")));
	assert_int_equal(parse_tcb(&t, doc), 0);
	assert_int_equal(t->n_levels, 4);
	/* sgx[] first ... */
	assert_int_equal(t->levels[0].sgx[0], 3);
	assert_int_equal(t->levels[0].status, COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	/* ... then a differing pce_svn decides even though tdx[] is lower ... */
	assert_int_equal(t->levels[1].pce_svn, 13);
	assert_int_equal(t->levels[1].tdx[0], 1);
	/* ... and with equal pce_svn, tdx[] decides; the later Revoked twin is dropped. */
	assert_int_equal(t->levels[2].tdx[0], 6);
	assert_int_equal(t->levels[2].status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(t->levels[3].tdx[0], 5);
	assert_int_equal(t->levels[3].status, COCOON_TCB_OUT_OF_DATE);
	cocoon_tcb_info_free(t);
	json_decref(doc);
}

static void test_isv_levels_sorted(void **state)
{
	(void)state;
	json_t *doc = qe_identity(), *tdx = tdx_info();
	cocoon_qe_identity *q = NULL;
	cocoon_tcb_info *t = NULL;

	json_object_set_new(doc, "tcbLevels", json_pack("[o,o,o,o]", isv_level(2, "OutOfDate"), isv_level(8, "UpToDate"),
	                                                isv_level(5, "Revoked"), isv_level(5, "OutOfDate")));
	assert_int_equal(parse_qe(&q, doc), 0);
	assert_int_equal(q->n_levels, 4);
	assert_int_equal(q->levels[0].isvsvn, 8);
	assert_int_equal(q->levels[1].isvsvn, 5);
	assert_int_equal(q->levels[1].status, COCOON_TCB_REVOKED); /* stable: JSON order among equals */
	assert_int_equal(q->levels[2].status, COCOON_TCB_OUT_OF_DATE);
	assert_int_equal(q->levels[3].isvsvn, 2);
	cocoon_qe_identity_free(q);
	json_decref(doc);

	json_object_set_new(json_array_get(json_object_get(tdx, "tdxModuleIdentities"), 0), "tcbLevels",
	                    json_pack("[o,o,o]", isv_level(1, "OutOfDate"), isv_level(6, "UpToDate"),
	                              isv_level(3, "Revoked")));
	assert_int_equal(parse_tcb(&t, tdx), 0);
	assert_int_equal(t->module_identities[0].levels[0].isvsvn, 6);
	assert_int_equal(t->module_identities[0].levels[1].isvsvn, 3);
	assert_int_equal(t->module_identities[0].levels[2].isvsvn, 1);
	cocoon_tcb_info_free(t);
	json_decref(tdx);
}

static void test_v2_sgx(void **state)
{
	(void)state;
	json_t *tcb = json_object(), *doc;
	cocoon_tcb_info *t = NULL;
	char key[24];

	for (int i = 1; i <= 16; i++) {
		snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i);
		json_object_set_new(tcb, key, json_integer(i == 16 ? 255 : i));
	}
	json_object_set_new(tcb, "pcesvn", json_integer(65535));
	doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:[{s:o,s:s,s:s}]}", "version", 2, "issueDate",
	                "2019-05-01T00:00:00Z", "nextUpdate", "2019-06-01T00:00:00.000Z", "fmspc", "00906ea10000",
	                "pceId", "0000", "tcbType", 0, "tcbEvaluationDataNumber", 5, "tcbLevels", "tcb", tcb,
	                "tcbDate", "2019-05-01T00:00:00Z", "tcbStatus", "OutOfDateConfigurationNeeded");
	assert_int_equal(parse_tcb(&t, doc), 0);
	assert_int_equal(t->version, 2);
	assert_int_equal(t->is_tdx, 0);
	assert_int_equal(t->fmspc[2], 0x6e);
	assert_int_equal(t->levels[0].sgx[0], 1);
	assert_int_equal(t->levels[0].sgx[14], 15);
	assert_int_equal(t->levels[0].sgx[15], 255);
	assert_int_equal(t->levels[0].pce_svn, 65535);
	assert_int_equal(t->levels[0].status, COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	cocoon_tcb_info_free(t);

	json_object_set_new(tcb, "sgxtcbcomp07svn", json_integer(256));
	tcb_fails(json_deep_copy(doc), COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomp07svn: 256 is out of range 0..255");
	json_object_del(tcb, "sgxtcbcomp07svn");
	tcb_fails(json_deep_copy(doc), COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomp07svn: required field is missing");
	json_object_set_new(doc, "id", json_string("TDX"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.id: version 2 TCB info is SGX only");
}

static void test_miscselect_little_endian(void **state)
{
	(void)state;
	json_t *doc = qe_identity();
	cocoon_qe_identity *q = NULL;

	json_object_set_new(doc, "miscselect", json_string("01000000"));
	json_object_set_new(doc, "miscselectMask", json_string("FF00FF00"));
	assert_int_equal(parse_qe(&q, doc), 0);
	assert_int_equal(q->miscselect, 0x00000001u);
	assert_int_equal(q->miscselect_mask, 0x00FF00FFu);
	cocoon_qe_identity_free(q);
	json_decref(doc);
}

static void test_unknown_members_ignored(void **state)
{
	(void)state;
	json_t *doc = tdx_info();
	cocoon_tcb_info *t = NULL;

	json_object_set_new(doc, "futureField", json_pack("{s:[i]}", "x", 1));
	json_object_set_new(first_level(doc), "note", json_string("ignored"));
	assert_int_equal(parse_tcb(&t, doc), 0);
	assert_int_equal(t->n_levels, 1);
	cocoon_tcb_info_free(t);
	json_decref(doc);
}

/* ---- strictness ---- */

static void test_tcb_info_missing_fields(void **state)
{
	(void)state;
	static const char *const top[] = { "id", "version", "issueDate", "nextUpdate", "fmspc", "pceId", "tcbType",
		                           "tcbEvaluationDataNumber", "tdxModule", "tcbLevels" };
	static const char *const level[] = { "tcb", "tcbDate", "tcbStatus" };
	static const char *const tcb[] = { "sgxtcbcomponents", "tdxtcbcomponents", "pcesvn" };
	static const char *const module[] = { "mrsigner", "attributes", "attributesMask" };
	static const char *const ident[] = { "id", "mrsigner", "attributes", "attributesMask", "tcbLevels" };
	char want[160];
	json_t *doc;

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		doc = tdx_info();
		json_object_del(doc, top[i]);
		snprintf(want, sizeof(want), "tcbInfo.%s: required field is missing", top[i]);
		tcb_fails(doc, COCOON_EFORMAT, want);
	}
	for (size_t i = 0; i < sizeof(level) / sizeof(level[0]); i++) {
		doc = tdx_info();
		json_object_del(first_level(doc), level[i]);
		snprintf(want, sizeof(want), "tcbInfo.tcbLevels[0].%s: required field is missing", level[i]);
		tcb_fails(doc, COCOON_EFORMAT, want);
	}
	for (size_t i = 0; i < sizeof(tcb) / sizeof(tcb[0]); i++) {
		doc = tdx_info();
		json_object_del(first_tcb(doc), tcb[i]);
		snprintf(want, sizeof(want), "tcbInfo.tcbLevels[0].tcb.%s: required field is missing", tcb[i]);
		tcb_fails(doc, COCOON_EFORMAT, want);
	}
	for (size_t i = 0; i < sizeof(module) / sizeof(module[0]); i++) {
		doc = tdx_info();
		json_object_del(json_object_get(doc, "tdxModule"), module[i]);
		snprintf(want, sizeof(want), "tcbInfo.tdxModule.%s: required field is missing", module[i]);
		tcb_fails(doc, COCOON_EFORMAT, want);
	}
	for (size_t i = 0; i < sizeof(ident) / sizeof(ident[0]); i++) {
		doc = tdx_info();
		json_object_del(json_array_get(json_object_get(doc, "tdxModuleIdentities"), 0), ident[i]);
		snprintf(want, sizeof(want), "tcbInfo.tdxModuleIdentities[0].%s: required field is missing", ident[i]);
		tcb_fails(doc, COCOON_EFORMAT, want);
	}
	doc = tdx_info();
	json_object_del(json_object_get(json_array_get(json_object_get(json_array_get(
	                                    json_object_get(doc, "tdxModuleIdentities"), 0), "tcbLevels"), 0), "tcb"),
	                "isvsvn");
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModuleIdentities[0].tcbLevels[0].tcb.isvsvn: required field is missing");
	/* tdxtcbcomponents and tdxModule are only required of TDX. */
	doc = tdx_info();
	json_object_set_new(doc, "id", json_string("SGX"));
	json_object_del(doc, "tdxModule");
	json_object_del(first_tcb(doc), "tdxtcbcomponents");
	cocoon_tcb_info *t = NULL;
	assert_int_equal(parse_tcb(&t, doc), 0);
	assert_int_equal(t->has_tdx_module, 0);
	cocoon_tcb_info_free(t);
	json_decref(doc);
}

static void test_tcb_info_wrong_types(void **state)
{
	(void)state;
	json_t *doc;

	doc = tdx_info();
	json_object_set_new(doc, "fmspc", json_integer(1));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.fmspc: expected a string, got an integer");
	doc = tdx_info();
	json_object_set_new(doc, "version", json_string("3"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.version: expected an integer, got a string");
	doc = tdx_info();
	json_object_set_new(doc, "tcbLevels", json_object());
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels: expected an array, got an object");
	doc = tdx_info();
	json_array_set_new(json_object_get(doc, "tcbLevels"), 0, json_string("level"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0]: expected an object, got a string");
	doc = tdx_info();
	json_object_set_new(json_array_get(json_object_get(first_tcb(doc), "sgxtcbcomponents"), 3), "svn",
	                    json_real(1.0));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[3].svn: expected an integer, got a real number");
	doc = tdx_info();
	json_array_set_new(json_object_get(first_tcb(doc), "tdxtcbcomponents"), 15, json_integer(1));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.tdxtcbcomponents[15]: expected an object, got an integer");
	doc = tdx_info();
	json_object_set_new(first_level(doc), "advisoryIDs", json_string("INTEL-SA-00615"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].advisoryIDs: expected an array, got a string");
	doc = tdx_info();
	json_object_set_new(first_level(doc), "advisoryIDs", json_pack("[s,i]", "INTEL-SA-00615", 289));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].advisoryIDs[1]: expected a string, got an integer");
	doc = tdx_info();
	json_object_set_new(first_level(doc), "advisoryIDs", json_pack("[s]", "INTEL-SA-0000000000000000000000000001"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].advisoryIDs[0]: \"INTEL-SA-0000");
	doc = tdx_info();
	json_object_set_new(doc, "tdxModule", json_null());
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModule: expected an object, got null");
	doc = tdx_info();
	json_object_set_new(doc, "tdxModuleIdentities", json_true());
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModuleIdentities: expected an array, got a boolean");
	doc = tdx_info();
	json_object_set_new(json_array_get(json_object_get(doc, "tdxModuleIdentities"), 0), "id",
	                    json_string("TDX_0123456789ABCD"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModuleIdentities[0].id: \"TDX_0123456789ABCD\" must be 1 to 15 characters");
	doc = tdx_info();
	json_object_set_new(doc, "tcbLevels", json_array());
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels: must list at least one level");
}

static void test_tcb_info_bad_values(void **state)
{
	(void)state;
	uint8_t v[17] = { 0 };
	json_t *doc;

	doc = tdx_info();
	json_object_set_new(doc, "fmspc", json_string("B0C06F0000"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.fmspc: expected 12 hex characters (6 bytes), got 10 characters");
	doc = tdx_info();
	json_object_set_new(doc, "fmspc", json_string("B0C06F00000Z"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.fmspc: expected 12 hex characters (6 bytes)");
	doc = tdx_info();
	json_object_set_new(doc, "pceId", json_string("000"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.pceId: expected 4 hex characters (2 bytes), got 3 characters");
	doc = tdx_info();
	json_object_set_new(json_object_get(doc, "tdxModule"), "mrsigner", json_string(ZERO48 + 2));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModule.mrsigner: expected 96 hex characters (48 bytes), got 94");
	doc = tdx_info();
	json_object_set_new(json_object_get(doc, "tdxModule"), "attributesMask", json_string("FFFFFFFF"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModule.attributesMask: expected 16 hex characters (8 bytes)");

	doc = tdx_info();
	json_object_set_new(first_tcb(doc), "sgxtcbcomponents", components(v, 15));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents: expected 16 entries, got 15");
	doc = tdx_info();
	json_object_set_new(first_tcb(doc), "tdxtcbcomponents", components(v, 17));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.tdxtcbcomponents: expected 16 entries, got 17");
	doc = tdx_info();
	json_object_set_new(json_array_get(json_object_get(first_tcb(doc), "sgxtcbcomponents"), 4), "svn",
	                    json_integer(256));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[4].svn: 256 is out of range 0..255");
	doc = tdx_info();
	json_object_set_new(json_array_get(json_object_get(first_tcb(doc), "tdxtcbcomponents"), 0), "svn",
	                    json_integer(-1));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.tdxtcbcomponents[0].svn: -1 is out of range 0..255");
	doc = tdx_info();
	json_object_set_new(first_tcb(doc), "pcesvn", json_integer(65536));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcb.pcesvn: 65536 is out of range 0..65535");
	doc = tdx_info();
	json_object_set_new(doc, "tcbEvaluationDataNumber", json_integer(4294967296LL));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbEvaluationDataNumber: 4294967296 is out of range 0..4294967295");

	doc = tdx_info();
	json_object_set_new(first_level(doc), "tcbStatus", json_string("Foo"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcbStatus: \"Foo\" is not a valid status here");
	/* Computed verdicts are not statuses Intel's TCB info may carry. */
	doc = tdx_info();
	json_object_set_new(first_level(doc), "tcbStatus", json_string("TDRelaunchAdvised"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcbStatus: \"TDRelaunchAdvised\" is not a valid status here");
	doc = tdx_info();
	json_object_set_new(first_level(doc), "tcbStatus", json_string("NotSupported"));
	tcb_fails(doc, COCOON_EFORMAT, "\"NotSupported\" is not a valid status here");
	doc = tdx_info();
	json_array_set_new(json_object_get(json_array_get(json_object_get(doc, "tdxModuleIdentities"), 0), "tcbLevels"), 0,
	                   isv_level(4, "SWHardeningNeeded"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tdxModuleIdentities[0].tcbLevels[0].tcbStatus: \"SWHardeningNeeded\" is not a valid status here (expected UpToDate, OutOfDate or Revoked)");

	doc = tdx_info();
	json_object_set_new(doc, "issueDate", json_string("2025-06-19 10:16:03Z"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.issueDate: \"2025-06-19 10:16:03Z\" is not an ISO 8601 UTC date");
	doc = tdx_info();
	json_object_set_new(doc, "nextUpdate", json_string("2025-02-29T00:00:00Z"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.nextUpdate: \"2025-02-29T00:00:00Z\" is not an ISO 8601 UTC date");
	doc = tdx_info();
	json_object_set_new(first_level(doc), "tcbDate", json_string("2024-03-13"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.tcbLevels[0].tcbDate: \"2024-03-13\" is not an ISO 8601 UTC date");

	doc = tdx_info();
	json_object_set_new(doc, "version", json_integer(4));
	tcb_fails(doc, COCOON_EUNSUPPORTED, "tcbInfo.version: 4 is not supported");
	doc = tdx_info();
	json_object_set_new(doc, "id", json_string("SNP"));
	tcb_fails(doc, COCOON_EFORMAT, "tcbInfo.id: \"SNP\" is neither \"SGX\" nor \"TDX\"");
}

static void test_tcb_info_bad_documents(void **state)
{
	(void)state;
	cocoon_tcb_info *t = NULL;
	static const char dup[] = "{\"id\":\"TDX\",\"version\":3,\"id\":\"SGX\"}";
	static const char wrapped[] = "{\"tcbInfo\":{\"version\":3},\"signature\":\"00\"}";

	assert_error(cocoon_tcb_info_parse(&t, "[1]", 3), COCOON_EFORMAT, "tcbInfo: expected a JSON object, got an array");
	assert_error(cocoon_tcb_info_parse(&t, "{\"id\":", 6), COCOON_EFORMAT, "tcbInfo: invalid JSON at byte");
	assert_error(cocoon_tcb_info_parse(&t, "", 0), COCOON_EFORMAT, "tcbInfo: empty input");
	assert_error(cocoon_tcb_info_parse(&t, dup, strlen(dup)), COCOON_EFORMAT, "duplicate object key");
	assert_error(cocoon_tcb_info_parse(&t, wrapped, strlen(wrapped)), COCOON_EFORMAT,
	             "got a whole PCS response; pass the exact bytes of its \"tcbInfo\" value");
	assert_null(t);
	assert_int_equal(cocoon_tcb_info_parse(NULL, "{}", 2), COCOON_EINVAL);
	assert_int_equal(cocoon_tcb_info_parse(&t, NULL, 5), COCOON_EINVAL);
	cocoon_tcb_info_free(NULL);
	cocoon_qe_identity_free(NULL);
}

static void test_qe_identity_strict(void **state)
{
	(void)state;
	static const char *const top[] = { "id", "version", "issueDate", "nextUpdate", "tcbEvaluationDataNumber",
		                           "miscselect", "miscselectMask", "attributes", "attributesMask", "mrsigner",
		                           "isvprodid", "tcbLevels" };
	static const char *const level[] = { "tcb", "tcbDate", "tcbStatus" };
	char want[160];
	json_t *doc;

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		doc = qe_identity();
		json_object_del(doc, top[i]);
		snprintf(want, sizeof(want), "enclaveIdentity.%s: required field is missing", top[i]);
		qe_fails(doc, COCOON_EFORMAT, want);
	}
	for (size_t i = 0; i < sizeof(level) / sizeof(level[0]); i++) {
		doc = qe_identity();
		json_object_del(first_level(doc), level[i]);
		snprintf(want, sizeof(want), "enclaveIdentity.tcbLevels[0].%s: required field is missing", level[i]);
		qe_fails(doc, COCOON_EFORMAT, want);
	}
	doc = qe_identity();
	json_object_del(first_tcb(doc), "isvsvn");
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.tcbLevels[0].tcb.isvsvn: required field is missing");
	doc = qe_identity();
	json_object_set_new(first_tcb(doc), "isvsvn", json_integer(65536));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.tcbLevels[0].tcb.isvsvn: 65536 is out of range 0..65535");
	doc = qe_identity();
	json_object_set_new(doc, "isvprodid", json_integer(-2));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.isvprodid: -2 is out of range 0..65535");
	doc = qe_identity();
	json_object_set_new(doc, "id", json_string("QAE"));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.id: \"QAE\" is not \"QE\", \"TD_QE\" or \"QVE\"");
	doc = qe_identity();
	json_object_set_new(doc, "version", json_integer(1));
	qe_fails(doc, COCOON_EUNSUPPORTED, "enclaveIdentity.version: 1 is not supported");
	doc = qe_identity();
	json_object_set_new(doc, "miscselect", json_string("0000000"));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.miscselect: expected 8 hex characters (4 bytes), got 7");
	doc = qe_identity();
	json_object_set_new(doc, "attributes", json_string("11"));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.attributes: expected 32 hex characters (16 bytes), got 2");
	doc = qe_identity();
	json_object_set_new(doc, "mrsigner", json_integer(0));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.mrsigner: expected a string, got an integer");
	doc = qe_identity();
	json_object_set_new(first_level(doc), "tcbStatus", json_string("ConfigurationNeeded"));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.tcbLevels[0].tcbStatus: \"ConfigurationNeeded\" is not a valid status here");
	doc = qe_identity();
	json_object_set_new(first_level(doc), "tcbDate", json_string("2024-03-13T00:00:00+01:00"));
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.tcbLevels[0].tcbDate: \"2024-03-13T00:00:00+01:00\" is not an ISO 8601 UTC date");
	doc = qe_identity();
	json_object_set_new(doc, "tcbLevels", json_array());
	qe_fails(doc, COCOON_EFORMAT, "enclaveIdentity.tcbLevels: must list at least one level");
	doc = json_pack("{s:o}", "enclaveIdentity", qe_identity());
	qe_fails(doc, COCOON_EFORMAT, "pass the exact bytes of its \"enclaveIdentity\" value");
}

/* ---- dates and statuses ---- */

static void test_intel_date_parse(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "2025-06-19T10:56:11", "2025-06-19T10:56:11z", "2025-06-19 10:56:11Z", "2025-6-19T10:56:11Z",
		"2025-06-19T10:56:11ZZ", "2025-06-19T10:56:11.Z", "2025-06-19T10:56:11.1234567890Z",
		"2025-06-19T10:56:11+00:00", "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z", "2025-06-31T00:00:00Z",
		"2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-06-19T24:00:00Z", "2025-06-19T10:60:00Z",
		"2025-06-19T10:56:60Z", "2025-06-00T10:56:11Z", "+025-06-19T10:56:11Z", "2025-06-19T10:5:11Z",
	};
	time_t t;

	assert_int_equal(cocoon_intel_date_parse(&t, "2025-06-19T10:56:11Z"), 0);
	assert_int_equal(t, 1750330571);
	assert_int_equal(cocoon_intel_date_parse(&t, "2025-06-19T10:56:11.999Z"), 0);
	assert_int_equal(t, 1750330571);
	assert_int_equal(cocoon_intel_date_parse(&t, "2024-02-29T23:59:59Z"), 0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(cocoon_intel_date_parse(&t, "2000-03-01T00:00:00Z"), 0);
	assert_int_equal(t, 951868800);
	assert_int_equal(cocoon_intel_date_parse(&t, "1970-01-01T00:00:00Z"), 0);
	assert_int_equal(t, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = cocoon_intel_date_parse(&t, bad[i]);
		if (err != COCOON_EFORMAT)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(strstr(cocoon_error_last()->message, "is not an ISO 8601 UTC date"));
	}
	assert_int_equal(cocoon_intel_date_parse(&t, NULL), COCOON_EINVAL);
}

static void test_status_names(void **state)
{
	(void)state;
	static const char *const names[] = { "Unknown", "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
		                             "ConfigurationAndSWHardeningNeeded", "OutOfDate",
		                             "OutOfDateConfigurationNeeded", "TDRelaunchAdvised",
		                             "TDRelaunchAdvisedConfigurationNeeded", "Revoked", "NotSupported" };
	cocoon_tcb_status s;

	for (int i = 0; i <= COCOON_TCB_NOT_SUPPORTED; i++) {
		assert_string_equal(cocoon_tcb_status_name((cocoon_tcb_status)i), names[i]);
		if (i == 0)
			continue;
		assert_int_equal(cocoon_tcb_status_parse(&s, names[i]), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(cocoon_tcb_status_name((cocoon_tcb_status)99), "Unknown");
	assert_error(cocoon_tcb_status_parse(&s, "Foo"), COCOON_EFORMAT, "unknown TCB status \"Foo\"");
	assert_error(cocoon_tcb_status_parse(&s, "Unknown"), COCOON_EFORMAT, "unknown TCB status");
	assert_error(cocoon_tcb_status_parse(&s, "uptodate"), COCOON_EFORMAT, "unknown TCB status");
	assert_int_equal(s, COCOON_TCB_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_sgx_tcb_info),
		cmocka_unit_test(test_vector_tdx_tcb_info),
		cmocka_unit_test(test_vector_qe_identities),
		cmocka_unit_test(test_canonical_sort_sgx),
		cmocka_unit_test(test_canonical_sort_tdx),
		cmocka_unit_test(test_isv_levels_sorted),
		cmocka_unit_test(test_v2_sgx),
		cmocka_unit_test(test_miscselect_little_endian),
		cmocka_unit_test(test_unknown_members_ignored),
		cmocka_unit_test(test_tcb_info_missing_fields),
		cmocka_unit_test(test_tcb_info_wrong_types),
		cmocka_unit_test(test_tcb_info_bad_values),
		cmocka_unit_test(test_tcb_info_bad_documents),
		cmocka_unit_test(test_qe_identity_strict),
		cmocka_unit_test(test_intel_date_parse),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
