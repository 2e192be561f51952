/*
 * SEV-SNP report and certificate-table parsing, inspect output and the
 * small decoders (product line, TCB layouts). No signatures here: see
 * test_snp_verify.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "testutil.h"
#include "cocoon/snp.h"
#include "snp/snp.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A structurally valid report of the given version (unsigned: zero R/S). */
static void make_report(uint8_t rep[COCOON_SNP_REPORT_SIZE], uint32_t version)
{
	memset(rep, 0, COCOON_SNP_REPORT_SIZE);
	cocoon_put_le32(rep, version);
	cocoon_put_le32(rep + 0x004, 9);
	put64(rep + 0x008, 0x30000);
	cocoon_put_le32(rep + 0x030, 2);
	cocoon_put_le32(rep + 0x034, 1);
	put64(rep + 0x038, 0x1100000000000a03ull);
	put64(rep + 0x040, 0x83);
	memset(rep + 0x090, 0x42, 48);
	memset(rep + 0x1A0, 0xc7, 64);
	if (version >= 3) {
		rep[0x188] = 0x19;
		rep[0x189] = 0x11;
		rep[0x18A] = 2;
	}
	rep[0x1E8] = 7;
	rep[0x1E9] = 55;
	rep[0x1EA] = 1;
	if (version >= 5) {
		put64(rep + 0x1F8, 0x11);
		put64(rep + 0x200, 0x22);
	}
	rep[0x2A0] = 0x01; /* R = 1, little-endian */
	rep[0x2E8] = 0x02; /* S = 2 */
}

static void expect_format_error(const uint8_t *rep, size_t len, const char *substr)
{
	cocoon_snp_report r;
	cocoon_failure f = { 0 };
	assert_int_equal(cocoon_snp_report_parse(&r, &f, rep, len), COCOON_EFORMAT);
	assert_int_equal((int)f.check, COCOON_CHECK_SNP_REPORT_FORMAT);
	if (!strstr(f.reason, substr))
		fail_msg("reason \"%s\" lacks \"%s\"", f.reason, substr);
	assert_non_null(strstr(cocoon_error_last()->message, substr));
}

static void test_real_vector_fields(void **state)
{
	uint8_t *rep;
	size_t len;
	cocoon_snp_report r;
	cocoon_failure f = { 0 };
	(void)state;
	COCOON_REQUIRE_VECTORS();
	rep = cocoon_test_vector("snp/report.bin", &len);
	assert_non_null(rep);
	assert_true(cocoon_snp_report_looks_like(rep, len));
	assert_int_equal(cocoon_snp_report_parse(&r, &f, rep, len), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.policy, 0xb0000);
	assert_int_equal(r.sig_algo, 1);
	assert_int_equal(r.signing_key, COCOON_SNP_SIGNER_VCEK);
	assert_false(r.mask_chip_key);
	assert_false(r.has_cpuid);
	assert_false(r.has_mit_vectors);
	assert_int_equal(r.current_tcb, 0x4405000000000002ull);
	assert_int_equal(r.reported_tcb, 0x4405000000000002ull);
	assert_int_equal(r.committed_tcb, 0x4405000000000002ull);
	assert_int_equal(r.launch_tcb, 0x4405000000000002ull);
	assert_int_equal(r.platform_info, 1);
	assert_int_equal(r.current_major, 1);
	assert_int_equal(r.current_minor, 49);
	assert_int_equal(r.current_build, 3);
	assert_int_equal(r.report_data[0], 1);
	assert_int_equal(r.report_data[4], 5);
	assert_int_equal(r.chip_id[0], 0x3a);
	assert_int_equal(r.chip_id[63], 0x5d);
	assert_int_equal(r.sig_r[0], 0x4f);
	assert_int_equal(r.sig_s[0], 0xe6);
	free(rep);
}

static void test_versions_and_layout(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	cocoon_snp_report r;
	(void)state;
	make_report(rep, 3);
	assert_int_equal(cocoon_snp_report_parse(&r, NULL, rep, sizeof(rep)), 0);
	assert_true(r.has_cpuid);
	assert_int_equal(r.cpuid_fam_id, 0x19);
	assert_int_equal(r.cpuid_mod_id, 0x11);
	assert_int_equal(r.cpuid_step, 2);
	assert_int_equal(r.vmpl, 2);
	assert_int_equal(r.guest_svn, 9);
	assert_false(r.has_mit_vectors);

	make_report(rep, 5);
	assert_int_equal(cocoon_snp_report_parse(&r, NULL, rep, sizeof(rep)), 0);
	assert_true(r.has_mit_vectors);
	assert_int_equal(r.launch_mit_vector, 0x11);
	assert_int_equal(r.current_mit_vector, 0x22);

	make_report(rep, 4);
	assert_int_equal(cocoon_snp_report_parse(&r, NULL, rep, sizeof(rep)), 0);
	assert_true(r.has_cpuid);
	assert_false(r.has_mit_vectors);

	/* Mitigation vectors are reserved before v5. */
	make_report(rep, 3);
	put64(rep + 0x1F8, 1);
	expect_format_error(rep, sizeof(rep), "reserved field [0x1f8, 0x2a0) must be zero, byte 0x1f8 is 0x01");
	/* CPUID bytes are reserved in v2. */
	make_report(rep, 2);
	rep[0x189] = 0x11;
	expect_format_error(rep, sizeof(rep), "[0x188, 0x1a0)");
	make_report(rep, 3);
	rep[0x18B] = 1;
	expect_format_error(rep, sizeof(rep), "[0x18b, 0x1a0)");

	make_report(rep, 1);
	expect_format_error(rep, sizeof(rep), "VERSION (offset 0x000) is 1");
	assert_false(cocoon_snp_report_looks_like(rep, sizeof(rep)));
	make_report(rep, 6);
	expect_format_error(rep, sizeof(rep), "VERSION (offset 0x000) is 6");
	assert_false(cocoon_snp_report_looks_like(rep, sizeof(rep)));
	make_report(rep, 5);
	assert_true(cocoon_snp_report_looks_like(rep, sizeof(rep)));
	assert_false(cocoon_snp_report_looks_like(rep, sizeof(rep) - 1));
	assert_false(cocoon_snp_report_looks_like(NULL, sizeof(rep)));
}

static void test_reserved_fields(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	(void)state;
	make_report(rep, 3);
	expect_format_error(rep, 100, "100 bytes");
	expect_format_error(rep, sizeof(rep) - 1, "exactly 1184 bytes");

	make_report(rep, 3);
	put64(rep + 0x008, 0x10000); /* bit 17 clear */
	expect_format_error(rep, sizeof(rep), "bit 17 is reserved and must be 1");
	make_report(rep, 3);
	put64(rep + 0x008, 0x30000 | (1ull << 26));
	expect_format_error(rep, sizeof(rep), "bits 26..63 must be zero");
	make_report(rep, 3);
	cocoon_put_le32(rep + 0x034, 2);
	expect_format_error(rep, sizeof(rep), "SIGNATURE_ALGO (offset 0x034) is 2");
	make_report(rep, 3);
	cocoon_put_le32(rep + 0x048, 1u << 5);
	expect_format_error(rep, sizeof(rep), "bits 5..31 must be zero");
	make_report(rep, 3);
	cocoon_put_le32(rep + 0x048, 3u << 2);
	expect_format_error(rep, sizeof(rep), "SIGNING_KEY (offset 0x048 bits 4:2) is 3");
	make_report(rep, 3);
	rep[0x04C] = 1;
	expect_format_error(rep, sizeof(rep), "[0x04c, 0x050)");
	make_report(rep, 3);
	rep[0x1EB] = 1;
	expect_format_error(rep, sizeof(rep), "after CURRENT_MAJOR");
	make_report(rep, 3);
	rep[0x1EF] = 1;
	expect_format_error(rep, sizeof(rep), "after COMMITTED_MAJOR");
	make_report(rep, 5);
	rep[0x29F] = 1;
	expect_format_error(rep, sizeof(rep), "byte 0x29f is 0x01");
	make_report(rep, 3);
	rep[0x2A0 + 144] = 1;
	expect_format_error(rep, sizeof(rep), "reserved part of SIGNATURE");
	make_report(rep, 3);
	rep[0x49F] = 1;
	expect_format_error(rep, sizeof(rep), "byte 0x49f");
	make_report(rep, 3);
	cocoon_put_le32(rep + 0x048, 2); /* MASK_CHIP_KEY with a CHIP_ID */
	expect_format_error(rep, sizeof(rep), "MASK_CHIP_KEY is set but CHIP_ID");
	memset(rep + 0x1A0, 0, 64);
	assert_int_equal(cocoon_snp_report_parse(&(cocoon_snp_report){ 0 }, NULL, rep, sizeof(rep)), 0);
}

static void test_product_and_tcb(void **state)
{
	cocoon_snp_product p;
	cocoon_snp_tcb t;
	char buf[96];
	(void)state;
	assert_int_equal(cocoon_snp_product_parse(&p, "Milan"), 0);
	assert_int_equal(p, COCOON_SNP_PRODUCT_MILAN);
	assert_int_equal(cocoon_snp_product_parse(&p, "Genoa-B2"), 0);
	assert_int_equal(p, COCOON_SNP_PRODUCT_GENOA);
	assert_int_equal(cocoon_snp_product_parse(&p, "turin"), 0);
	assert_int_equal(p, COCOON_SNP_PRODUCT_TURIN);
	assert_int_equal(cocoon_snp_product_parse(&p, "Milan-"), COCOON_EINVAL);
	assert_int_equal(cocoon_snp_product_parse(&p, "Milan-B"), COCOON_EINVAL);
	assert_int_equal(cocoon_snp_product_parse(&p, "Milan-B0x"), COCOON_EINVAL);
	assert_int_equal(cocoon_snp_product_parse(&p, "MilanX"), COCOON_EINVAL);
	assert_int_equal(cocoon_snp_product_parse(&p, "Rome"), COCOON_EINVAL);
	assert_int_equal(cocoon_snp_product_parse(&p, NULL), COCOON_EINVAL);
	assert_int_equal(p, COCOON_SNP_PRODUCT_UNKNOWN);

	assert_int_equal(cocoon_snp_product_from_cpuid(0x19, 0x01), COCOON_SNP_PRODUCT_MILAN);
	assert_int_equal(cocoon_snp_product_from_cpuid(0x19, 0x11), COCOON_SNP_PRODUCT_GENOA);
	assert_int_equal(cocoon_snp_product_from_cpuid(0x1A, 0x02), COCOON_SNP_PRODUCT_TURIN);
	assert_int_equal(cocoon_snp_product_from_cpuid(0x19, 0xA0), COCOON_SNP_PRODUCT_UNKNOWN);
	assert_int_equal(cocoon_snp_product_from_cpuid(0x17, 0x31), COCOON_SNP_PRODUCT_UNKNOWN);

	/* Milan/Genoa: BL, TEE, 4 reserved, SNP, microcode. */
	cocoon_snp_tcb_decode(&t, 0x4405000000000002ull, COCOON_SNP_PRODUCT_MILAN);
	assert_int_equal(t.bl_spl, 2);
	assert_int_equal(t.tee_spl, 0);
	assert_int_equal(t.snp_spl, 5);
	assert_int_equal(t.ucode_spl, 0x44);
	assert_false(t.has_fmc);
	/* Turin: FMC, BL, TEE, SNP, 3 reserved, microcode. */
	cocoon_snp_tcb_decode(&t, 0x4800000016040301ull, COCOON_SNP_PRODUCT_TURIN);
	assert_true(t.has_fmc);
	assert_int_equal(t.fmc_spl, 1);
	assert_int_equal(t.bl_spl, 3);
	assert_int_equal(t.tee_spl, 4);
	assert_int_equal(t.snp_spl, 0x16);
	assert_int_equal(t.ucode_spl, 0x48);
	cocoon_snp_tcb_format(buf, sizeof(buf), 0x4800000016040301ull, COCOON_SNP_PRODUCT_TURIN);
	assert_string_equal(buf, "bl=3 tee=4 snp=22 microcode=72 fmc=1");
}

static void test_inspect(void **state)
{
	uint8_t rep[COCOON_SNP_REPORT_SIZE];
	char *out = NULL;
	json_t *o;
	json_error_t jerr;
	(void)state;
	make_report(rep, 5);
	cocoon_put_le32(rep + 0x048, (COCOON_SNP_SIGNER_VLEK << 2) | 1);
	assert_int_equal(cocoon_snp_report_inspect_json(&out, rep, sizeof(rep)), 0);
	o = json_loads(out, 0, &jerr);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "format_valid")));
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 5);
	assert_string_equal(json_string_value(json_object_get(o, "product")), "Genoa");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "signer_info"), "signing_key")),
	                    "vlek");
	assert_true(json_is_true(json_object_get(json_object_get(o, "signer_info"), "author_key_en")));
	assert_true(json_is_true(json_object_get(json_object_get(o, "policy"), "smt")));
	assert_true(json_is_false(json_object_get(json_object_get(o, "policy"), "debug")));
	assert_true(json_is_true(json_object_get(json_object_get(o, "platform_info"), "tio_enabled")));
	assert_true(json_is_true(json_object_get(json_object_get(o, "platform_info"), "tsme_enabled")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "current_tcb"), "snp")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "current_tcb"), "microcode")), 0x11);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "current_tcb"), "tee")), 0x0a);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "cpuid"), "model")), 0x11);
	assert_string_equal(json_string_value(json_object_get(o, "current_mit_vector")), "0x0000000000000022");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "current_firmware"), "minor")), 55);
	/* R = 1 stored little-endian, shown as the big-endian scalar. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "signature"), "r")),
	                    "0000000000000000000000000000000000000000000000000000000000000000"
	                    "00000000000000000000000000000001");
	json_decref(o);
	free(out);

	/* A malformed report still decodes, with the verdict. */
	rep[0x04C] = 0xee;
	assert_int_equal(cocoon_snp_report_inspect_json(&out, rep, sizeof(rep)), 0);
	o = json_loads(out, 0, &jerr);
	assert_non_null(o);
	assert_true(json_is_false(json_object_get(o, "format_valid")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "format_error")), "byte 0x04c is 0xee"));
	json_decref(o);
	free(out);

	assert_int_equal(cocoon_snp_report_inspect_text(&out, rep, sizeof(rep)), 0);
	assert_non_null(strstr(out, "INVALID: SNP report: reserved field"));
	assert_non_null(strstr(out, "signing key vlek, AUTHOR_KEY_EN"));
	assert_non_null(strstr(out, "cpuid                family 0x19 model 0x11 stepping 2"));
	assert_non_null(strstr(out, "(SMT, reserved-1)"));
	assert_non_null(strstr(out, "(SMT_EN, TSME_EN, TIO_EN)"));
	assert_non_null(strstr(out, "current_firmware     1.55 build 7"));
	free(out);

	assert_int_equal(cocoon_snp_report_inspect_json(&out, rep, 10), COCOON_EFORMAT);
	assert_null(out);
	assert_int_equal(cocoon_snp_report_inspect_text(&out, rep, 2000), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "2000 bytes"));
	assert_int_equal(cocoon_snp_report_inspect_text(NULL, rep, sizeof(rep)), COCOON_EINVAL);
}

static void test_inspect_real_vector(void **state)
{
	uint8_t *rep;
	size_t len;
	char *out = NULL;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	rep = cocoon_test_vector("snp/report.bin", &len);
	assert_non_null(rep);
	assert_int_equal(cocoon_snp_report_inspect_text(&out, rep, len), 0);
	assert_non_null(strstr(out, "policy               0x00000000000b0000 ABI 0.0 (SMT, reserved-1, DEBUG)"));
	assert_non_null(strstr(out, "reported_tcb         0x4405000000000002 (bl=2 tee=0 snp=5 microcode=68)"));
	assert_non_null(strstr(out, "v2 reports carry no CPUID"));
	free(out);
	assert_int_equal(cocoon_snp_report_inspect_json(&out, rep, len), 0);
	assert_non_null(strstr(out, "\"measurement\": \"b07af9620f3b839b"));
	assert_non_null(strstr(out, "\"product\": null"));
	free(out);
	free(rep);
}

/* --------------------------------------------------------- certificate table */

static const uint8_t vcek_guid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t ask_guid[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t ark_guid[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };
static const uint8_t vlek_guid[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                       0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };

static void entry(uint8_t *t, size_t i, const uint8_t guid[16], uint32_t off, uint32_t len)
{
	memcpy(t + 24 * i, guid, 16);
	cocoon_put_le32(t + 24 * i + 16, off);
	cocoon_put_le32(t + 24 * i + 20, len);
}

static void expect_table_error(const uint8_t *t, size_t len, const char *substr)
{
	cocoon_snp_certtable tab;
	assert_int_equal(cocoon_snp_certtable_parse(&tab, t, len), COCOON_EFORMAT);
	if (!strstr(cocoon_error_last()->message, substr))
		fail_msg("error \"%s\" lacks \"%s\"", cocoon_error_last()->message, substr);
	assert_int_equal(tab.n, 0);
}

static void test_certtable(void **state)
{
	uint8_t t[5 * 24 + 40];
	static const uint8_t other_guid[16] = { 0xec, 0xae, 0x0c, 0x0f, 0x95, 0x02, 0x43, 0xb1,
	                                        0xaf, 0xa2, 0x0a, 0xe2, 0xe0, 0xd5, 0x65, 0xb6 };
	cocoon_snp_certtable tab;
	const cocoon_snp_cert_entry *e;
	(void)state;

	memset(t, 0, sizeof(t));
	entry(t, 0, vcek_guid, 120, 10);
	entry(t, 1, ask_guid, 130, 10);
	entry(t, 2, ark_guid, 140, 10);
	entry(t, 3, other_guid, 150, 10);
	for (size_t i = 120; i < sizeof(t); i++)
		t[i] = (uint8_t)i;
	assert_int_equal(cocoon_snp_certtable_parse(&tab, t, sizeof(t)), 0);
	assert_int_equal(tab.n, 4);
	e = cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_VCEK);
	assert_non_null(e);
	assert_int_equal(e->offset, 120);
	assert_ptr_equal(e->data, t + 120);
	assert_int_equal(e->length, 10);
	assert_int_equal(cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_ARK)->data[0], 140);
	assert_int_equal(cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_ASK)->kind, COCOON_SNP_CERT_ASK);
	assert_null(cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_VLEK));
	assert_null(cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_OTHER));
	assert_int_equal(tab.entries[3].kind, COCOON_SNP_CERT_OTHER);

	/* The last byte of the buffer is usable; one past it is not. */
	entry(t, 3, vlek_guid, 150, 10);
	assert_int_equal(cocoon_snp_certtable_parse(&tab, t, sizeof(t)), 0);
	assert_non_null(cocoon_snp_certtable_find(&tab, COCOON_SNP_CERT_VLEK));
	entry(t, 3, vlek_guid, 150, 11);
	expect_table_error(t, sizeof(t), "entry 3 [offset 150, length 11] ends past the 160-byte buffer");
	/* Offsets and lengths near UINT32_MAX must not wrap. */
	entry(t, 3, vlek_guid, 0xfffffff0u, 0x20);
	expect_table_error(t, sizeof(t), "ends past");
	entry(t, 3, vlek_guid, 150, 0xffffffffu);
	expect_table_error(t, sizeof(t), "ends past");
	/* Pointing into the header. */
	entry(t, 3, vlek_guid, 100, 10);
	expect_table_error(t, sizeof(t), "entry 3 offset 100 points into the table header (120 bytes)");
	entry(t, 3, vlek_guid, 150, 0);
	expect_table_error(t, sizeof(t), "entry 3 has length 0");
	entry(t, 3, ask_guid, 150, 10);
	expect_table_error(t, sizeof(t), "entries 1 and 3 have the same GUID");
	/* No terminator. */
	entry(t, 3, vlek_guid, 150, 10);
	expect_table_error(t, 4 * 24 + 10, "entry 4 at offset 96 is truncated");
	expect_table_error(t, 5, "entry 0 at offset 0 is truncated");

	/* Empty buffer: empty table; a bare terminator: empty as well. */
	assert_int_equal(cocoon_snp_certtable_parse(&tab, NULL, 0), 0);
	assert_int_equal(tab.n, 0);
	memset(t, 0, sizeof(t));
	assert_int_equal(cocoon_snp_certtable_parse(&tab, t, 24), 0);
	assert_int_equal(tab.n, 0);
	assert_int_equal(cocoon_snp_certtable_parse(NULL, t, 24), COCOON_EINVAL);
}

static void test_certtable_too_many_entries(void **state)
{
	size_t n = COCOON_SNP_CERTTABLE_MAX + 1, len = (n + 1) * 24 + 1;
	uint8_t *t = calloc(1, len);
	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint8_t g[16] = { (uint8_t)i, 0xaa };
		entry(t, i, g, (uint32_t)(len - 1), 1);
	}
	expect_table_error(t, len, "more than 32 entries");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_vector_fields),
		cmocka_unit_test(test_versions_and_layout),
		cmocka_unit_test(test_reserved_fields),
		cmocka_unit_test(test_product_and_tcb),
		cmocka_unit_test(test_inspect),
		cmocka_unit_test(test_inspect_real_vector),
		cmocka_unit_test(test_certtable),
		cmocka_unit_test(test_certtable_too_many_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
