/*
 * Parsers of untrusted platform output used by the evidence providers:
 * configfs numbers, the SNP certificate table, the MSG_REPORT_RSP header,
 * and REPORT_DATA location in each evidence format.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "fake_evidence.h"
#include "evidence/provider.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ev_parse_u64(&v, "0\n"), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ev_parse_u64(&v, "18446744073709551615"), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ev_parse_u64(&v, "18446744073709551616"), -ERANGE);
	assert_int_equal(ev_parse_u64(&v, ""), -EINVAL);
	assert_int_equal(ev_parse_u64(&v, "-1"), -EINVAL);
	assert_int_equal(ev_parse_u64(&v, "12 "), -EINVAL);
	assert_int_equal(ev_parse_u64(&v, "12\n\n"), -EINVAL);
	assert_int_equal(ev_parse_u64(&v, " 12"), -EINVAL);
}

static void test_certtable(void **state)
{
	uint8_t t[600];
	size_t used;

	(void)state;
	fake_snp_certtable(t, 500);
	memset(t + 500, 0, 100);
	/* Zero padding after the last certificate is trimmed. */
	assert_int_equal(ev_snp_certtable_used(&used, t, sizeof(t)), 0);
	assert_int_equal(used, 500);

	/* No entries: no certificates. */
	memset(t, 0, sizeof(t));
	assert_int_equal(ev_snp_certtable_used(&used, t, sizeof(t)), 0);
	assert_int_equal(used, 0);

	/* No terminator inside the buffer. */
	memset(t, 0x41, 48);
	assert_int_equal(ev_snp_certtable_used(&used, t, 48), COCOON_EFORMAT);
	assert_msg("no all-zero terminator entry within its 48 bytes (2 entries read)");
	assert_int_equal(ev_snp_certtable_used(&used, t, 10), COCOON_EFORMAT);

	/* Offset inside the header. */
	fake_snp_certtable(t, 500);
	put32(t + 24 + 16, 50);
	assert_int_equal(ev_snp_certtable_used(&used, t, 500), COCOON_EFORMAT);
	assert_msg("entry 1 (byte 40): certificate offset 50 points into the table header, which ends at byte 96");

	/* offset + length past the end, including 32-bit wrap-around. */
	fake_snp_certtable(t, 500);
	put32(t + 2 * 24 + 16, 0xFFFFFF00u);
	put32(t + 2 * 24 + 20, 0x100u);  /* 0xFFFFFF00 + 0x100 wraps to 0 in 32 bits */
	assert_int_equal(ev_snp_certtable_used(&used, t, 500), COCOON_EFORMAT);
	assert_msg("entry 2 (byte 64)");
	assert_msg("runs past the end of the 500-byte table");
	assert_int_equal(used, 0);
}

static void test_snp_report_resp(void **state)
{
	uint8_t resp[4000] = { 0 };
	const uint8_t *rep;
	size_t len;

	(void)state;
	put32(resp + 4, 1184);
	assert_int_equal(ev_snp_report_resp(&rep, &len, resp, sizeof(resp)), 0);
	assert_ptr_equal(rep, resp + 32);
	assert_int_equal(len, 1184);

	put32(resp + 4, 4000 - 32 + 1);
	assert_int_equal(ev_snp_report_resp(&rep, &len, resp, sizeof(resp)), COCOON_EFORMAT);
	assert_msg("bad length: report_size 3969 (byte 4) must lie between 1184 and 3968");
	assert_null(rep);

	put32(resp + 4, 1183);
	assert_int_equal(ev_snp_report_resp(&rep, &len, resp, sizeof(resp)), COCOON_EFORMAT);

	put32(resp + 4, 1184);
	put32(resp, 0x16);
	assert_int_equal(ev_snp_report_resp(&rep, &len, resp, sizeof(resp)), COCOON_EIO);
	assert_msg("status 0x16 (INVALID_PARAM");

	assert_int_equal(ev_snp_report_resp(&rep, &len, resp, 31), COCOON_EFORMAT);
	assert_msg("shorter than its 32-byte header");
}

static void test_locate_report_data(void **state)
{
	uint8_t q[1200] = { 0 };
	const uint8_t *rd;
	cocoon_tee tee;

	(void)state;
	/* v3 SGX: 48 + 320. */
	q[0] = 3;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 48 + 384), 0);
	assert_ptr_equal(rd, q + 368);
	assert_int_equal(tee, COCOON_TEE_SGX);
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 48 + 383), COCOON_EFORMAT);
	assert_msg("too short for its 384-byte body");

	/* v4 TDX: 48 + 0x208. */
	q[0] = 4;
	q[4] = 0x81;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 48 + 584), 0);
	assert_ptr_equal(rd, q + 568);
	assert_int_equal(tee, COCOON_TEE_TDX);

	/* v5 TD 1.5 body: 54 + 0x208. */
	q[0] = 5;
	q[48] = 3;
	put32(q + 50, 648);
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 54 + 648), 0);
	assert_ptr_equal(rd, q + 574);
	put32(q + 50, 584);
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 54 + 648), COCOON_EFORMAT);
	assert_msg("body type 3 with size 584");

	/* v3 claiming TDX, unknown version, unknown TEE type. */
	q[0] = 3;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 1200), COCOON_EFORMAT);
	q[0] = 6;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 1200), COCOON_EFORMAT);
	assert_msg("unsupported version 6");
	q[0] = 4;
	q[4] = 0x82;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, q, 1200), COCOON_EFORMAT);
	assert_msg("unknown TEE type 0x82");

	/* SNP and TDREPORT. */
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_SNP_REPORT, q, 1184), 0);
	assert_ptr_equal(rd, q + 0x50);
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_SNP_REPORT, q, 1183), COCOON_EFORMAT);
	q[0] = 0x81;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_TDX_TDREPORT, q, 1024), 0);
	assert_ptr_equal(rd, q + 128);
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_TDX_TDREPORT, q, 1025), COCOON_EFORMAT);
	q[0] = 0;
	assert_int_equal(ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_TDX_TDREPORT, q, 1024), COCOON_EFORMAT);
	assert_msg("report type 0x00 at byte 0");
}

static void test_binding(void **state)
{
	uint8_t rep[1184] = { 0 }, rd[64];

	(void)state;
	memset(rd, 7, sizeof(rd));
	memcpy(rep + 0x50, rd, 64);
	assert_int_equal(ev_check_binding("x", COCOON_EVIDENCE_SNP_REPORT, COCOON_TEE_SNP, rep, sizeof(rep), rd), 0);
	assert_int_equal(ev_check_binding("x", COCOON_EVIDENCE_SNP_REPORT, COCOON_TEE_TDX, rep, sizeof(rep), rd),
	                 COCOON_EFORMAT);
	assert_msg("x returned snp evidence where tdx was expected");
	rep[0x50 + 63] ^= 1;
	assert_int_equal(ev_check_binding("x", COCOON_EVIDENCE_SNP_REPORT, COCOON_TEE_SNP, rep, sizeof(rep), rd),
	                 COCOON_EIO);
	assert_msg("REPORT_DATA differs");
	assert_int_equal(ev_check_binding("x", COCOON_EVIDENCE_SNP_REPORT, COCOON_TEE_SNP, rep, 10, rd), COCOON_EFORMAT);
	assert_msg("x returned unusable evidence: SNP report: bad length: 10 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_certtable),
		cmocka_unit_test(test_snp_report_resp),
		cmocka_unit_test(test_locate_report_data),
		cmocka_unit_test(test_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
