/* The DCAP negative matrix shared by the real-vector and simulated-TEE tests. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dcap_matrix.h"
#include "common/util.h"

cocoon_result cocoon_matrix_run(const cocoon_matrix_case *c, const uint8_t *quote, size_t quote_len,
                                const json_t *collateral, time_t at, int allow_expired)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_collateral *coll = NULL;
	cocoon_result r;
	char *json = json_dumps(collateral, 0);

	o.at = at;
	o.allow_expired_collateral = allow_expired;
	assert_non_null(json);
	assert_int_equal(cocoon_collateral_from_json(&coll, json, strlen(json)), 0);
	assert_int_equal(cocoon_verifier_verify_dcap(&r, c->verifier, quote, quote_len, coll, &o), 0);
	cocoon_collateral_free(coll);
	free(json);
	return r;
}

void cocoon_matrix_expect_reject(const cocoon_result *r, cocoon_check check, const char *part)
{
	if (r->accepted || r->failed_check != check || !strstr(r->reason, part))
		fail_msg("expected reject %s containing \"%s\", got %s %s: %s", cocoon_check_name(check), part,
		         r->accepted ? "accept" : "reject", cocoon_check_name(r->failed_check), r->reason);
}

static json_t *load_collateral(const cocoon_matrix_case *c)
{
	json_t *j = json_loads(c->collateral, 0, NULL);
	assert_non_null(j);
	return j;
}

static cocoon_result run_default(const cocoon_matrix_case *c, const uint8_t *q, size_t qlen, const json_t *coll)
{
	return cocoon_matrix_run(c, q, qlen, coll, c->at, 0);
}

void cocoon_matrix_accepts(const cocoon_matrix_case *c)
{
	json_t *coll = load_collateral(c);
	cocoon_result r = run_default(c, c->quote, c->quote_len, coll);
	if (!r.accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	assert_int_equal(r.tee, c->tdx ? COCOON_TEE_TDX : COCOON_TEE_SGX);
	json_decref(coll);
}

static void flip_expect(const cocoon_matrix_case *c, size_t offset, cocoon_check check, const char *part)
{
	uint8_t *q = malloc(c->quote_len);
	json_t *coll = load_collateral(c);
	assert_non_null(q);
	assert_true(offset < c->quote_len);
	memcpy(q, c->quote, c->quote_len);
	q[offset] ^= 0x01;
	cocoon_result r = run_default(c, q, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, check, part);
	free(q);
	json_decref(coll);
}

void cocoon_matrix_byte_flips(const cocoon_matrix_case *c)
{
	/* Offsets of the v3 (SGX) and v4 (TDX) layouts. */
	const size_t body = c->tdx ? 584 : 384;
	const size_t sig = 48 + body + 4, key = sig + 64;
	/* v4 wraps the QE section in certification data type 6 (6-byte header). */
	const size_t qe = c->tdx ? key + 64 + 6 : key + 64, qe_sig = qe + 384, auth = qe_sig + 64 + 2;

	flip_expect(c, 30, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");          /* header user data */
	flip_expect(c, 12, COCOON_CHECK_QE_VENDOR_ID, "not Intel's");                  /* QE vendor ID */
	flip_expect(c, 1, COCOON_CHECK_QUOTE_VERSION, "version"); /* version high byte: 259/260 */
	flip_expect(c, 2, COCOON_CHECK_ATTESTATION_KEY_TYPE, "");
	flip_expect(c, 48 + (c->tdx ? 136 : 64), COCOON_CHECK_QUOTE_SIGNATURE, "quote signature"); /* MRTD / MRENCLAVE */
	flip_expect(c, 48 + body - 1, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");        /* report data */
	flip_expect(c, sig + 5, COCOON_CHECK_QUOTE_SIGNATURE, "quote signature");
	flip_expect(c, key + 9, COCOON_CHECK_QE_REPORT_DATA, "attestation key");
	flip_expect(c, qe + 64, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(c, qe_sig + 7, COCOON_CHECK_QE_REPORT_SIGNATURE, "QE report signature");
	flip_expect(c, auth + 1, COCOON_CHECK_QE_REPORT_DATA, "QE auth data");
}

static void edit_field(json_t *coll, const char *key, const char *find, const char *replace)
{
	const char *orig = json_string_value(json_object_get(coll, key));
	char *copy, *p;
	assert_non_null(orig);
	assert_int_equal(strlen(find), strlen(replace)); /* same length, other bytes */
	copy = strdup(orig);
	p = strstr(copy, find);
	if (!p)
		fail_msg("\"%s\" not found in %s", find, key);
	memcpy(p, replace, strlen(replace));
	json_object_set_new(coll, key, json_string(copy));
	free(copy);
}

static void flip_hex(json_t *coll, const char *key, size_t index)
{
	char *s = strdup(json_string_value(json_object_get(coll, key)));
	assert_true(index < strlen(s));
	s[index] = s[index] == '0' ? '1' : '0';
	json_object_set_new(coll, key, json_string(s));
	free(s);
}

void cocoon_matrix_edited_collateral(const cocoon_matrix_case *c)
{
	json_t *coll;
	cocoon_result r;

	coll = load_collateral(c);
	edit_field(coll, "tcb_info", "\"tcbType\":0", "\"tcbType\":1");
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_TCB_INFO_SIGNATURE, "TCB info signature");
	json_decref(coll);

	coll = load_collateral(c);
	flip_hex(coll, "tcb_info_signature", 10);
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_TCB_INFO_SIGNATURE, "signature");
	json_decref(coll);

	coll = load_collateral(c);
	edit_field(coll, "qe_identity", "\"version\":2", "\"version\":3");
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_QE_IDENTITY_SIGNATURE, "QE identity signature");
	json_decref(coll);

	coll = load_collateral(c);
	flip_hex(coll, "qe_identity_signature", 70);
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_QE_IDENTITY_SIGNATURE, "signature");
	json_decref(coll);
}

void cocoon_matrix_dates(const cocoon_matrix_case *c)
{
	json_t *coll = load_collateral(c);
	cocoon_result r;

	/* The last second of the window is accepted, the next one is not. */
	r = cocoon_matrix_run(c, c->quote, c->quote_len, coll, c->first_expiry, 0);
	if (!r.accepted)
		fail_msg("rejected at the last valid second: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	r = cocoon_matrix_run(c, c->quote, c->quote_len, coll, c->first_expiry + 1, 0);
	cocoon_matrix_expect_reject(&r, c->expiry_check, "expired");
	/* With the override: accepted, flagged. */
	r = cocoon_matrix_run(c, c->quote, c->quote_len, coll, c->first_expiry + 1, 1);
	if (!r.accepted)
		fail_msg("allow-expired still rejected: %s: %s", cocoon_check_name(r.failed_check), r.reason);
	assert_true(r.collateral_expired);
	/* Before the TCB info's issueDate. */
	{
		json_t *ti = json_loads(json_string_value(json_object_get(coll, "tcb_info")), 0, NULL);
		time_t issue;
		assert_non_null(ti);
		assert_int_equal(cocoon_time_parse(&issue, json_string_value(json_object_get(ti, "issueDate"))), 0);
		json_decref(ti);
		r = cocoon_matrix_run(c, c->quote, c->quote_len, coll, issue - 1, 0);
		assert_false(r.accepted);
		if (!strstr(r.reason, "future") && !strstr(r.reason, "not yet valid"))
			fail_msg("expected a not-yet-valid reason, got %s: %s", cocoon_check_name(r.failed_check), r.reason);
	}
	json_decref(coll);
}

void cocoon_matrix_bad_crls(const cocoon_matrix_case *c)
{
	json_t *coll;
	cocoon_result r;
	char *root, *pck;

	coll = load_collateral(c);
	json_object_set_new(coll, "root_ca_crl", json_string("deadbeef"));
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_ROOT_CA_CRL, "unparsable");
	json_decref(coll);

	coll = load_collateral(c);
	json_object_set_new(coll, "pck_crl", json_string("deadbeef"));
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_PCK_CRL, "unparsable");
	json_decref(coll);

	/* Swapped: each CRL where the other belongs. */
	coll = load_collateral(c);
	root = strdup(json_string_value(json_object_get(coll, "root_ca_crl")));
	pck = strdup(json_string_value(json_object_get(coll, "pck_crl")));
	json_object_set_new(coll, "pck_crl", json_string(root));
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_PCK_CRL, "");
	json_object_set_new(coll, "pck_crl", json_string(pck));
	json_object_set_new(coll, "root_ca_crl", json_string(pck));
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_ROOT_CA_CRL, "");
	free(root);
	free(pck);
	json_decref(coll);

	/* A CRL whose signature was altered. */
	coll = load_collateral(c);
	{
		const char *s = json_string_value(json_object_get(coll, "pck_crl"));
		flip_hex(coll, "pck_crl", strlen(s) - 6);
	}
	r = run_default(c, c->quote, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_PCK_CRL, "");
	json_decref(coll);
}

void cocoon_matrix_truncation(const cocoon_matrix_case *c)
{
	json_t *coll = load_collateral(c);
	uint8_t *q = malloc(c->quote_len);
	const size_t sig_at = 48 + (c->tdx ? 584 : 384);
	cocoon_result r;

	memcpy(q, c->quote, c->quote_len);
	/* Truncated inside the certification data. */
	r = run_default(c, q, c->quote_len - 100, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len");
	/* The declared signature data length one larger than the quote holds. */
	cocoon_put_le32(q + sig_at, (uint32_t)(c->quote_len - sig_at - 4 + 1));
	r = run_default(c, q, c->quote_len, coll);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len");
	free(q);
	json_decref(coll);
}

void cocoon_matrix_swapped_tee(const cocoon_matrix_case *sgx, const cocoon_matrix_case *tdx)
{
	json_t *sgx_coll = load_collateral(sgx), *tdx_coll = load_collateral(tdx), *mixed;
	cocoon_result r;
	const char *keys[] = { "tcb_info", "tcb_info_signature", "qe_identity", "qe_identity_signature" };

	/* The other TEE's TCB info and QE identity, with the right CRLs. */
	mixed = json_deep_copy(sgx_coll);
	for (int i = 0; i < 4; i++)
		json_object_set(mixed, keys[i], json_object_get(tdx_coll, keys[i]));
	r = cocoon_matrix_run(sgx, sgx->quote, sgx->quote_len, mixed, tdx->at < sgx->at ? tdx->at : sgx->at, 0);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_TCB_INFO_MISMATCH, "SGX quote");
	json_decref(mixed);

	mixed = json_deep_copy(tdx_coll);
	for (int i = 0; i < 4; i++)
		json_object_set(mixed, keys[i], json_object_get(sgx_coll, keys[i]));
	r = cocoon_matrix_run(tdx, tdx->quote, tdx->quote_len, mixed, tdx->at < sgx->at ? tdx->at : sgx->at, 0);
	cocoon_matrix_expect_reject(&r, COCOON_CHECK_TCB_INFO_MISMATCH, "TDX");
	json_decref(mixed);
	json_decref(sgx_coll);
	json_decref(tdx_coll);
}
