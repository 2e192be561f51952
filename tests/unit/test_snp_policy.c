/*
 * SEV-SNP appraisal: policy files (cocoon_snp_policy_from_json) and every
 * appraisal check on parsed reports. Signatures are covered by
 * test_snp_verify.c; here the report is judged as if it had verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "cocoon/snp.h"
#include "snp/snp.h"

#define D48 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"

/* A report as a healthy Genoa guest would produce it. */
static void base_report(cocoon_snp_report *r)
{
	memset(r, 0, sizeof(*r));
	r->version = 3;
	r->guest_svn = 4;
	r->policy = 0x30000;
	r->vmpl = 0;
	r->sig_algo = 1;
	r->current_tcb = r->committed_tcb = r->reported_tcb = r->launch_tcb = 0xd115000000000009ull;
	r->current_build = r->committed_build = 21;
	r->current_major = r->committed_major = 1;
	r->current_minor = r->committed_minor = 55;
	memset(r->measurement, 0xa5, 48);
	memset(r->host_data, 0x4d, 32);
	memset(r->report_data, 0x07, 64);
	memset(r->family_id, 0xf1, 16);
	memset(r->image_id, 0x1d, 16);
}

static void expect_reject(const cocoon_snp_report *r, const cocoon_snp_policy *p, int check, const char *substr)
{
	cocoon_failure f = { 0 };
	assert_int_equal(cocoon_snp_appraise(&f, r, COCOON_SNP_PRODUCT_GENOA, p, 0), COCOON_EREJECT);
	if ((int)f.check != check)
		fail_msg("check %s, expected %s (%s)", cocoon_snp_check_name((int)f.check), cocoon_snp_check_name(check),
		         f.reason);
	if (!strstr(f.reason, substr))
		fail_msg("reason \"%s\" lacks \"%s\"", f.reason, substr);
}

static void expect_accept(const cocoon_snp_report *r, const cocoon_snp_policy *p)
{
	cocoon_failure f = { 0 };
	if (cocoon_snp_appraise(&f, r, COCOON_SNP_PRODUCT_GENOA, p, 0) != 0)
		fail_msg("rejected by %s: %s", cocoon_snp_check_name((int)f.check), f.reason);
}

static void test_defaults(void **state)
{
	cocoon_snp_report r;
	cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
	cocoon_failure f = { 0 };
	(void)state;
	base_report(&r);
	expect_accept(&r, &p);
	assert_int_equal(p.vmpl, -1);

	r.policy |= SNP_POLICY_DEBUG;
	expect_reject(&r, &p, COCOON_CHECK_SNP_POLICY_DEBUG, "DEBUG (bit 19 of 0x00000000000b0000): expected 0, actual 1");
	assert_int_equal(cocoon_snp_appraise(&f, &r, COCOON_SNP_PRODUCT_GENOA, &p, 1), 0); /* opts->allow_debug */
	p.allow_debug = 1;
	expect_accept(&r, &p);

	base_report(&r);
	r.policy |= SNP_POLICY_MIGRATE_MA;
	expect_reject(&r, &p, COCOON_CHECK_SNP_POLICY_MIGRATION_AGENT, "MIGRATE_MA (bit 18");
	p.allow_migration_agent = 1;
	expect_accept(&r, &p);
}

static void test_numeric_minimums(void **state)
{
	cocoon_snp_report r;
	cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
	(void)state;
	base_report(&r);
	r.vmpl = 2;
	expect_accept(&r, &p);
	p.vmpl = 0;
	expect_reject(&r, &p, COCOON_CHECK_SNP_VMPL, "VMPL (offset 0x030): expected 0, actual 2");
	p.vmpl = 2;
	expect_accept(&r, &p);
	p.vmpl = -1;

	p.min_guest_svn = 5;
	expect_reject(&r, &p, COCOON_CHECK_SNP_GUEST_SVN, "GUEST_SVN (offset 0x004): expected >= 5, actual 4");
	p.min_guest_svn = 4;
	expect_accept(&r, &p);

	p.min_tcb.snp = 0x16;
	expect_reject(&r, &p, COCOON_CHECK_SNP_MIN_TCB, "CURRENT_TCB snp SPL: expected >= 22, actual 21");
	p.min_tcb.snp = 0x15;
	p.min_tcb.microcode = 0xd1;
	p.min_tcb.bl = 9;
	expect_accept(&r, &p);
	r.committed_tcb = 0xd115000000000008ull;
	r.current_tcb = 0xd115000000000009ull;
	p.allow_provisional_firmware = 1;
	expect_reject(&r, &p, COCOON_CHECK_SNP_MIN_TCB, "COMMITTED_TCB bl SPL: expected >= 9, actual 8");
	base_report(&r);
	r.launch_tcb = 0xd115000000000001ull;
	expect_accept(&r, &p); /* min_tcb does not judge the launch TCB */
	p.min_launch_tcb.bl = 2;
	expect_reject(&r, &p, COCOON_CHECK_SNP_MIN_TCB, "LAUNCH_TCB bl SPL: expected >= 2, actual 1");
	/* fmc only exists on Turin. */
	p = (cocoon_snp_policy)COCOON_SNP_POLICY_INIT;
	p.min_tcb.fmc = 1;
	expect_accept(&r, &p);

	p = (cocoon_snp_policy)COCOON_SNP_POLICY_INIT;
	p.min_build = 22;
	expect_reject(&r, &p, COCOON_CHECK_SNP_FIRMWARE, "CURRENT_BUILD: expected >= 22, actual 21");
	p.min_build = 21;
	p.min_api_major = 1;
	p.min_api_minor = 56;
	expect_reject(&r, &p, COCOON_CHECK_SNP_FIRMWARE, "CURRENT firmware version: expected >= 1.56, actual 1.55");
	p.min_api_minor = 55;
	expect_accept(&r, &p);
	r.current_minor = 57;
	r.committed_minor = 54;
	p.allow_provisional_firmware = 1;
	expect_reject(&r, &p, COCOON_CHECK_SNP_FIRMWARE, "COMMITTED firmware version: expected >= 1.55, actual 1.54");
}

static void test_provisional(void **state)
{
	cocoon_snp_report r;
	cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
	(void)state;
	base_report(&r);
	r.current_tcb = 0xd116000000000009ull;
	expect_reject(&r, &p, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
	              "COMMITTED_TCB (offset 0x1E0): expected CURRENT_TCB 0xd116000000000009 (bl=9 tee=0 snp=22 "
	              "microcode=209), actual 0xd115000000000009 (bl=9 tee=0 snp=21 microcode=209)");
	base_report(&r);
	r.committed_major = 0;
	expect_reject(&r, &p, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
	              "expected the current 1.55 build 21, actual 0.55 build 21");
	p.allow_provisional_firmware = 1;
	expect_accept(&r, &p);
}

static void test_expected_values(void **state)
{
	static const struct {
		size_t field_off; /* offsetof in cocoon_snp_report */
		size_t policy_off;
		size_t has_off;
		size_t n;
		int check;
		const char *name;
	} cases[] = {
		{ offsetof(cocoon_snp_report, measurement), offsetof(cocoon_snp_policy, measurement),
		  offsetof(cocoon_snp_policy, has_measurement), 48, COCOON_CHECK_SNP_MEASUREMENT, "MEASUREMENT (offset 0x090)" },
		{ offsetof(cocoon_snp_report, host_data), offsetof(cocoon_snp_policy, host_data),
		  offsetof(cocoon_snp_policy, has_host_data), 32, COCOON_CHECK_SNP_HOST_DATA, "HOST_DATA (offset 0x0c0)" },
		{ offsetof(cocoon_snp_report, report_data), offsetof(cocoon_snp_policy, report_data),
		  offsetof(cocoon_snp_policy, has_report_data), 64, COCOON_CHECK_SNP_REPORT_DATA, "REPORT_DATA (offset 0x050)" },
		{ offsetof(cocoon_snp_report, family_id), offsetof(cocoon_snp_policy, family_id),
		  offsetof(cocoon_snp_policy, has_family_id), 16, COCOON_CHECK_SNP_FAMILY_ID, "FAMILY_ID (offset 0x010)" },
		{ offsetof(cocoon_snp_report, image_id), offsetof(cocoon_snp_policy, image_id),
		  offsetof(cocoon_snp_policy, has_image_id), 16, COCOON_CHECK_SNP_IMAGE_ID, "IMAGE_ID (offset 0x020)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cocoon_snp_report r;
		cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
		uint8_t *want = (uint8_t *)&p + cases[i].policy_off;
		char expect[256], hex[129];

		base_report(&r);
		memcpy(want, (uint8_t *)&r + cases[i].field_off, cases[i].n);
		*(int *)((uint8_t *)&p + cases[i].has_off) = 1;
		expect_accept(&r, &p);
		want[0] ^= 0xff;
		cocoon_hex_encode(hex, want, cases[i].n);
		snprintf(expect, sizeof(expect), "%s: expected %s, actual ", cases[i].name, hex);
		expect_reject(&r, &p, cases[i].check, expect);
		/* Without has_*, the value is not judged. */
		*(int *)((uint8_t *)&p + cases[i].has_off) = 0;
		expect_accept(&r, &p);
	}
}

static void test_keys(void **state)
{
	cocoon_snp_report r;
	cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
	(void)state;
	base_report(&r);
	memset(r.id_key_digest, 0x11, 48);
	memset(r.author_key_digest, 0x22, 48);

	p.require_author_key = 1;
	expect_reject(&r, &p, COCOON_CHECK_SNP_AUTHOR_KEY, "AUTHOR_KEY_EN (offset 0x048 bit 0): expected 1");
	r.author_key_en = 1;
	expect_accept(&r, &p);

	p = (cocoon_snp_policy)COCOON_SNP_POLICY_INIT;
	p.require_id_block = 1;
	expect_reject(&r, &p, COCOON_CHECK_SNP_ID_KEY, "ID_KEY_DIGEST (offset 0x0E0): expected one of 0 trusted");
	p.n_trusted_id_keys = 2;
	memset(p.trusted_id_keys[0], 0x33, 48);
	memset(p.trusted_id_keys[1], 0x11, 48);
	expect_accept(&r, &p);
	memset(p.trusted_id_keys[1], 0x44, 48);
	expect_reject(&r, &p, COCOON_CHECK_SNP_ID_KEY, "actual 111111");
	/* A trusted author key vouches for the ID key. */
	p.n_trusted_author_keys = 1;
	memset(p.trusted_author_keys[0], 0x22, 48);
	expect_accept(&r, &p);
	r.author_key_en = 0;
	expect_reject(&r, &p, COCOON_CHECK_SNP_AUTHOR_KEY, "actual none (AUTHOR_KEY_EN is 0)");
	r.author_key_en = 1;
	memset(p.trusted_author_keys[0], 0x23, 48);
	expect_reject(&r, &p, COCOON_CHECK_SNP_AUTHOR_KEY, "expected one of 1 trusted digests, actual 2222");
	/* No ID block at all. */
	memset(r.id_key_digest, 0, 48);
	p.n_trusted_author_keys = 0;
	expect_reject(&r, &p, COCOON_CHECK_SNP_ID_KEY, "none (no ID block)");
}

static void test_policy_json(void **state)
{
	static const char good[] =
		"{\"allow_debug\": true, \"allow_migration_agent\": false, \"allow_provisional_firmware\": true,"
		" \"vmpl\": 1, \"min_tcb\": {\"bl\": 7, \"tee\": 0, \"snp\": 14, \"microcode\": 72, \"fmc\": 1},"
		" \"min_launch_tcb\": {\"snp\": 3}, \"min_guest_svn\": 4294967295, \"min_build\": 21,"
		" \"min_api_version\": \"1.55\", \"measurement\": \"" D48 "\","
		" \"host_data\": \"AABBCCDDEEFF00112233445566778899aabbccddeeff00112233445566778899\","
		" \"family_id\": \"00112233445566778899aabbccddeeff\", \"image_id\": \"ffeeddccbbaa99887766554433221100\","
		" \"trusted_id_key_digests\": [\"" D48 "\"], \"trusted_author_key_digests\": [],"
		" \"require_id_block\": true, \"require_author_key\": false}";
	cocoon_snp_policy p;
	(void)state;
	assert_int_equal(cocoon_snp_policy_from_json(&p, good, strlen(good)), 0);
	assert_int_equal(p.version, COCOON_SNP_POLICY_VERSION);
	assert_true(p.allow_debug);
	assert_false(p.allow_migration_agent);
	assert_true(p.allow_provisional_firmware);
	assert_int_equal(p.vmpl, 1);
	assert_int_equal(p.min_tcb.bl, 7);
	assert_int_equal(p.min_tcb.snp, 14);
	assert_int_equal(p.min_tcb.microcode, 72);
	assert_int_equal(p.min_tcb.fmc, 1);
	assert_int_equal(p.min_launch_tcb.snp, 3);
	assert_int_equal(p.min_launch_tcb.bl, 0);
	assert_int_equal(p.min_guest_svn, 4294967295u);
	assert_int_equal(p.min_build, 21);
	assert_int_equal(p.min_api_major, 1);
	assert_int_equal(p.min_api_minor, 55);
	assert_true(p.has_measurement);
	assert_int_equal(p.measurement[47], 0x2f);
	assert_true(p.has_host_data);
	assert_int_equal(p.host_data[0], 0xaa);
	assert_true(p.has_family_id);
	assert_true(p.has_image_id);
	assert_false(p.has_report_data);
	assert_int_equal(p.n_trusted_id_keys, 1);
	assert_int_equal(p.trusted_id_keys[0][1], 1);
	assert_int_equal(p.n_trusted_author_keys, 0);
	assert_true(p.require_id_block);

	assert_int_equal(cocoon_snp_policy_from_json(&p, "{}", 2), 0);
	assert_int_equal(p.vmpl, -1);
	assert_false(p.allow_debug);
	assert_int_equal(cocoon_snp_policy_from_json(&p, "{\"vmpl\": null}", 14), 0);
	assert_int_equal(p.vmpl, -1);
}

static void expect_json_error(const char *json, const char *substr)
{
	cocoon_snp_policy p = COCOON_SNP_POLICY_INIT;
	p.min_build = 99; /* untouched on failure */
	assert_int_equal(cocoon_snp_policy_from_json(&p, json, strlen(json)), COCOON_EFORMAT);
	if (!strstr(cocoon_error_last()->message, substr))
		fail_msg("error \"%s\" lacks \"%s\" (input %s)", cocoon_error_last()->message, substr, json);
	assert_int_equal(p.min_build, 99);
}

static void test_policy_json_errors(void **state)
{
	(void)state;
	expect_json_error("{\"allow_debugg\": true}", "unknown key \"allow_debugg\"");
	expect_json_error("{\"allow_debug\": 1}", "\"allow_debug\" must be true or false");
	expect_json_error("{\"vmpl\": 4}", "\"vmpl\" must be an integer 0..3");
	expect_json_error("{\"vmpl\": -1}", "\"vmpl\" must be an integer 0..3");
	expect_json_error("{\"min_build\": 256}", "\"min_build\" must be an integer 0..255");
	expect_json_error("{\"min_guest_svn\": 4294967296}", "\"min_guest_svn\" must be an integer 0..4294967295");
	expect_json_error("{\"min_tcb\": {\"ucode\": 1}}", "\"min_tcb.ucode\" is not a TCB component");
	expect_json_error("{\"min_tcb\": {\"snp\": 300}}", "\"min_tcb.snp\" must be an integer 0..255");
	expect_json_error("{\"min_tcb\": 3}", "\"min_tcb\" must be an object");
	expect_json_error("{\"min_api_version\": \"1\"}", "\"min_api_version\" must be a \"major.minor\"");
	expect_json_error("{\"min_api_version\": \"1.55x\"}", "\"min_api_version\" must be a \"major.minor\"");
	expect_json_error("{\"min_api_version\": \"256.0\"}", "\"min_api_version\" must be a \"major.minor\"");
	expect_json_error("{\"measurement\": \"00\"}", "\"measurement\" must be a hex string of exactly 48 bytes");
	expect_json_error("{\"host_data\": \"" D48 "\"}", "\"host_data\" must be a hex string of exactly 32 bytes");
	expect_json_error("{\"family_id\": \"0011223344556677889900112233445g\"}", "\"family_id\" must be a hex string");
	expect_json_error("{\"report_data\": 5}", "\"report_data\" must be a hex string of exactly 64 bytes");
	expect_json_error("{\"trusted_id_key_digests\": [\"" D48 "\", \"00\"]}",
	                  "\"trusted_id_key_digests[1]\" must be a hex string of exactly 48 bytes");
	expect_json_error("{\"trusted_author_key_digests\": \"" D48 "\"}", "must be an array");
	expect_json_error("{\"require_id_block\": true}", "\"require_id_block\" needs \"trusted_id_key_digests\"");
	expect_json_error("{\"vmpl\": 1, \"vmpl\": 2}", "invalid JSON");
	expect_json_error("[1]", "top level must be a JSON object");
	expect_json_error("{", "invalid JSON at line 1");
	{
		char big[33 * 100 + 64];
		size_t n = 0;
		n += (size_t)snprintf(big + n, sizeof(big) - n, "{\"trusted_id_key_digests\": [");
		for (int i = 0; i < 33; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"" D48 "\"", i ? "," : "");
		snprintf(big + n, sizeof(big) - n, "]}");
		expect_json_error(big, "has more than 32 digests");
	}
	assert_int_equal(cocoon_snp_policy_from_json(NULL, "{}", 2), COCOON_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_numeric_minimums),
		cmocka_unit_test(test_provisional),
		cmocka_unit_test(test_expected_values),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_policy_json),
		cmocka_unit_test(test_policy_json_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
