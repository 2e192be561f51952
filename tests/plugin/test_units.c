/*
 * Unit tests of cocoon-sgx-plugin's pure parts: compact device IDs and list
 * sizes, the CPUID dump parser, EPC discovery, resource ID checks, the
 * unhealthy-list fallback, and resource.Quantity parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "api.pb-c.h"
#include "common/util.h"
#include "devid.h"
#include "grpc.h"
#include "kube.h"
#include "resource.h"
#include "sgx.h"
#include "x86cpuid.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

static void assert_error(int rc, int code, const char *needle)
{
	assert_int_equal(rc, code);
	if (!strstr(cocoon_error_last()->message, needle))
		fail_msg("error '%s' lacks '%s'", cocoon_error_last()->message, needle);
}

/* ---- compact IDs ---- */

static void test_devid_roundtrip_all(void **state)
{
	char id[COCOON_DEVID_MAX_LEN + 1];
	(void)state;
	for (uint32_t i = 0; i < COCOON_DEVID_MAX_COUNT; i++) {
		uint32_t back = UINT32_MAX;
		size_t len = cocoon_devid_encode(id, i);
		size_t want = i < 64 ? 1 : i < 64 + 4096 ? 2 : 3;
		assert_int_equal(len, want);
		assert_int_equal(strlen(id), len);
		assert_int_equal(cocoon_devid_decode(&back, id, len), 0);
		assert_int_equal(back, i);
	}
	cocoon_devid_encode(id, 0);
	assert_string_equal(id, "0");
	cocoon_devid_encode(id, 63);
	assert_string_equal(id, "_");
	cocoon_devid_encode(id, 64);
	assert_string_equal(id, "00");
	cocoon_devid_encode(id, COCOON_DEVID_MAX_COUNT - 1);
	assert_string_equal(id, "___");
}

static void test_devid_rejects(void **state)
{
	uint32_t i;
	(void)state;
	assert_int_equal(cocoon_devid_decode(&i, "", 0), -1);
	assert_int_equal(cocoon_devid_decode(&i, "abcd", 4), -1);
	assert_int_equal(cocoon_devid_decode(&i, "a b", 3), -1);
	assert_int_equal(cocoon_devid_decode(&i, "+", 1), -1);
	assert_int_equal(cocoon_devid_decode(&i, "/", 1), -1);
	assert_int_equal(cocoon_devid_decode(&i, "\xff", 1), -1);
}

static void test_devid_sizes_match_protobuf(void **state)
{
	static const uint32_t counts[] = { 0, 1, 8, 64, 65, 4160, 4161, 65536, 262144 };
	(void)state;
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		for (int healthy = 0; healthy <= 1; healthy++) {
			cocoon_res r;
			cocoon_grpc_msg *m = NULL;
			uint64_t want = cocoon_devid_list_size(counts[k], healthy ? COCOON_DEVHEALTH_HEALTHY
			                                                          : COCOON_DEVHEALTH_UNHEALTHY);
			cocoon_res_init(&r, COCOON_RES_EPC_MIB, counts[k]);
			if (want > COCOON_GRPC_MAX_MESSAGE)
				continue;
			assert_int_equal(cocoon_res_list(&m, &r, healthy, COCOON_GRPC_MAX_MESSAGE), 0);
			assert_int_equal(cocoon_grpc_msg_payload_len(m), want);
			cocoon_grpc_msg_unref(m);
		}
	}
}

static void test_devid_max_fits_256gib(void **state)
{
	uint32_t max = cocoon_devid_max_devices(COCOON_GRPC_MAX_MESSAGE);
	(void)state;
	assert_true(max >= 262144);
	assert_true(cocoon_devid_list_size(max, COCOON_DEVHEALTH_HEALTHY) <= COCOON_GRPC_MAX_MESSAGE);
	assert_true(cocoon_devid_list_size(max + 1, COCOON_DEVHEALTH_HEALTHY) > COCOON_GRPC_MAX_MESSAGE);
	assert_int_equal(cocoon_devid_list_size(262144, COCOON_DEVHEALTH_HEALTHY), 4190080);
}

/* At 256 GiB "Unhealthy" does not fit in 4 MiB: health is left empty, which the kubelet counts as unhealthy. */
static void test_list_unhealthy_fallback(void **state)
{
	cocoon_res r;
	cocoon_grpc_msg *m = NULL;
	V1beta1__ListAndWatchResponse *resp;
	(void)state;

	cocoon_res_init(&r, COCOON_RES_EPC_MIB, 262144);
	assert_int_equal(cocoon_res_list(&m, &r, 0, COCOON_GRPC_MAX_MESSAGE), 0);
	assert_true(cocoon_grpc_msg_payload_len(m) <= COCOON_GRPC_MAX_MESSAGE);
	resp = v1beta1__list_and_watch_response__unpack(NULL, cocoon_grpc_msg_payload_len(m),
	                                                 cocoon_grpc_msg_payload(m));
	assert_non_null(resp);
	assert_int_equal(resp->n_devices, 262144);
	assert_string_equal(resp->devices[0]->health, "");
	assert_string_equal(resp->devices[262143]->id, "--_");
	v1beta1__list_and_watch_response__free_unpacked(resp, NULL);
	cocoon_grpc_msg_unref(m);

	cocoon_res_init(&r, COCOON_RES_EPC_MIB, 8);
	assert_int_equal(cocoon_res_list(&m, &r, 0, COCOON_GRPC_MAX_MESSAGE), 0);
	resp = v1beta1__list_and_watch_response__unpack(NULL, cocoon_grpc_msg_payload_len(m),
	                                                 cocoon_grpc_msg_payload(m));
	assert_non_null(resp);
	assert_string_equal(resp->devices[7]->health, "Unhealthy");
	v1beta1__list_and_watch_response__free_unpacked(resp, NULL);
	cocoon_grpc_msg_unref(m);

	assert_error(cocoon_res_list(&m, &r, 1, 10), COCOON_EINVAL, "over the 10-byte limit");
	assert_null(m);
}

/* ---- resource IDs and requests ---- */

static void test_shared_ids(void **state)
{
	cocoon_res r;
	(void)state;
	cocoon_res_init(&r, COCOON_RES_ENCLAVE, 110);
	assert_int_equal(cocoon_res_device_check(&r, "sgx-enclave-0"), 0);
	assert_int_equal(cocoon_res_device_check(&r, "sgx-enclave-109"), 0);
	assert_error(cocoon_res_device_check(&r, "sgx-enclave-110"), COCOON_ENOTFOUND, "advertised 110 devices");
	assert_error(cocoon_res_device_check(&r, "sgx-enclave-01"), COCOON_ENOTFOUND, "'sgx-enclave-01'");
	assert_error(cocoon_res_device_check(&r, "sgx-enclave-"), COCOON_ENOTFOUND, "unknown device ID");
	assert_error(cocoon_res_device_check(&r, "sgx-enclave-99999999999999"), COCOON_ENOTFOUND, "unknown");
	assert_error(cocoon_res_device_check(&r, "sgx-provision-1"), COCOON_ENOTFOUND, "sgx.intel.com/enclave");
	/* Hostile IDs are shown printable and truncated. */
	assert_error(cocoon_res_device_check(&r, "a\n'b\x01" "cccccccccccccccccccccccccccccccccccccccccccccccccccccc"),
	             COCOON_ENOTFOUND, "'a??b?ccc");
	assert_non_null(strstr(cocoon_error_last()->message, "...'"));
}

static void test_allocate_rejects_garbage(void **state)
{
	static const uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff };
	cocoon_res r;
	cocoon_grpc_msg *m = NULL;
	(void)state;
	cocoon_res_init(&r, COCOON_RES_EPC_MIB, 16);
	assert_error(cocoon_res_allocate(&m, &r, 1, garbage, sizeof(garbage)), COCOON_EFORMAT,
	             "not a valid protobuf message (4 bytes)");
	assert_error(cocoon_res_preferred(&m, &r, garbage, sizeof(garbage)), COCOON_EFORMAT, "not a valid protobuf");
	assert_error(cocoon_res_prestart(&m, &r, garbage, sizeof(garbage)), COCOON_EFORMAT, "not a valid protobuf");
	assert_int_equal(cocoon_res_grpc_status(COCOON_ENOTFOUND), COCOON_GRPC_INVALID_ARGUMENT);
	assert_int_equal(cocoon_res_grpc_status(COCOON_EREJECT), COCOON_GRPC_FAILED_PRECONDITION);
}

static void test_register_request(void **state)
{
	cocoon_res r;
	uint8_t *buf = NULL;
	size_t len = 0;
	V1beta1__RegisterRequest *rr;
	(void)state;
	cocoon_res_init(&r, COCOON_RES_PROVISION, 3);
	assert_int_equal(cocoon_res_register_request(&buf, &len, &r), 0);
	rr = v1beta1__register_request__unpack(NULL, len, buf);
	assert_non_null(rr);
	assert_string_equal(rr->version, "v1beta1");
	assert_string_equal(rr->endpoint, "cocoon-sgx-provision.sock");
	assert_string_equal(rr->resource_name, "sgx.intel.com/provision");
	assert_non_null(rr->options);
	v1beta1__register_request__free_unpacked(rr, NULL);
	free(buf);
}

/* ---- CPUID dump ---- */

static const char dump[] = "# comment\n"
                           "CPU 0:\n"
                           "   0x00000000 0x00: eax=0x0000001b ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
                           "\n"
                           "   0x00000007 0x00: eax=0x00000000 ebx=0x00000004 ecx=0x40000000 edx=0x00000000\n"
                           "   0x00000012 0x00: eax=0x00000003 ebx=0x00000000 ecx=0x00000000 edx=0x0000241f\n"
                           /* 64 MiB at 0x80000000 with property bits 0x2 in ECX[3:0] (Ice Lake) */
                           "   0x00000012 0x02: eax=0x80000001 ebx=0x00000000 ecx=0x04000002 edx=0x00000000\n"
                           /* 4 GiB + 32 MiB section above 4 GiB */
                           "   0x00000012 0x03: eax=0x00000001 ebx=0x00000001 ecx=0x02000001 edx=0x00000001\n"
                           "   0x00000012 0x04: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
                           "   0x00000012 0x05: eax=0x00000001 ebx=0x00000000 ecx=0x10000001 edx=0x00000000\n"
                           "CPU 1:\n"
                           "   0x00000007 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";

static void test_cpuid_parse_and_query(void **state)
{
	cocoon_cpuid c;
	uint32_t r[4];
	(void)state;
	assert_int_equal(cocoon_cpuid_parse(&c, dump, strlen(dump)), 0);
	assert_int_equal(c.n, 7);
	cocoon_cpuid_query(&c, 7, 0, r);
	assert_int_equal(r[1], 4); /* CPU 0's value, not CPU 1's */
	cocoon_cpuid_query(&c, 0x12, 9, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cocoon_cpuid_query(&c, 0x1c, 0, r); /* above the maximum leaf 0x1b */
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cocoon_cpuid_query(&c, 0x80000001, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cocoon_cpuid_close(&c);
}

static void test_cpuid_parse_errors(void **state)
{
	static const struct {
		const char *text, *needle;
	} bad[] = {
		{ "0x1 0x0: eax=0x1 ebx=0x1 ecx=0x1\n", "line 1" },
		{ "\n\n0x1 0x0: eax=0x1 ebx=0x1 ecx=0x1 edx=0x123456789\n", "line 3" },
		{ "0x1 0x0 eax=0x1 ebx=0x1 ecx=0x1 edx=0x1\n", "line 1" },
		{ "0x1 0x0: eax=0x1 ebx=0x1 ecx=0x1 edx=0x1 trailing\n", "line 1" },
		{ "0x1 0x0: eax=0x1 ebx=0x1 ecx=0x1 edx=0x1\n0x1 0x0: eax=0x1 ebx=0x1 ecx=0x1 edx=0x1\n", "appears twice" },
		{ "CPU x:\n", "line 1" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cocoon_cpuid c;
		assert_error(cocoon_cpuid_parse(&c, bad[i].text, strlen(bad[i].text)), COCOON_EFORMAT, bad[i].needle);
		assert_null(c.entries);
	}
}

/* ---- EPC discovery ---- */

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
	char path[256], cmd[300];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cocoon-units-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_sgx_probe(void **state)
{
	cocoon_cpuid c;
	cocoon_sgx_info info;
	(void)state;
	assert_int_equal(cocoon_cpuid_parse(&c, dump, strlen(dump)), 0);
	assert_int_equal(cocoon_sgx_probe(&info, &c, tmpdir), 0);
	assert_true(info.sgx && info.flc && info.sgx1 && info.sgx2);
	/* Sub-leaf 4 (type 0) ends the list: sub-leaf 5 is not counted. */
	assert_int_equal(info.n_sections, 2);
	assert_int_equal(info.sections[0].base, 0x80000000u);
	assert_int_equal(info.sections[0].size, 64 * MIB);
	assert_int_equal(info.sections[1].base, 0x100000000ull);
	assert_int_equal(info.sections[1].size, 4 * GIB + 32 * MIB);
	assert_int_equal(info.cpuid_epc_bytes, 4 * GIB + 96 * MIB);
	assert_false(info.sysfs_present);
	assert_int_equal(info.epc_bytes, info.cpuid_epc_bytes);
	assert_true(cocoon_sgx_present(&info));

	write_file("devices/system/node/node0/x86/sgx_total_bytes", "67108864\n");
	write_file("devices/system/node/node1/x86/sgx_total_bytes", "4328521728\n");
	write_file("devices/system/node/node2/meminfo", "no sgx here\n");
	write_file("devices/system/node/nodeX/x86/sgx_total_bytes", "999\n");
	assert_int_equal(cocoon_sgx_probe(&info, &c, tmpdir), 0);
	assert_int_equal(info.sysfs_nodes, 2);
	assert_int_equal(info.sysfs_epc_bytes, 4 * GIB + 96 * MIB);
	assert_string_equal(info.mismatch, "");

	write_file("devices/system/node/node1/x86/sgx_total_bytes", "4294967296\n");
	assert_int_equal(cocoon_sgx_probe(&info, &c, tmpdir), 0);
	assert_int_equal(info.epc_bytes, 4 * GIB + 64 * MIB);
	assert_non_null(strstr(info.mismatch, "using the kernel's count"));

	write_file("devices/system/node/node1/x86/sgx_total_bytes", "-1\n");
	assert_error(cocoon_sgx_probe(&info, &c, tmpdir), COCOON_EFORMAT, "node1/x86/sgx_total_bytes");
	write_file("devices/system/node/node1/x86/sgx_total_bytes", "99999999999999999999999\n");
	assert_error(cocoon_sgx_probe(&info, &c, tmpdir), COCOON_EFORMAT, "expected a decimal byte count");
	cocoon_cpuid_close(&c);
}

static void test_sgx_probe_unknown_type_and_no_sgx(void **state)
{
	static const char nosgx[] = "0x0 0x0: eax=0x1b ebx=0x0 ecx=0x0 edx=0x0\n"
	                            "0x7 0x0: eax=0x0 ebx=0x0 ecx=0x40000000 edx=0x0\n"
	                            "0x12 0x2: eax=0x80000001 ebx=0x0 ecx=0x04000001 edx=0x0\n";
	static const char oddtype[] = "0x0 0x0: eax=0x1b ebx=0x0 ecx=0x0 edx=0x0\n"
	                              "0x7 0x0: eax=0x0 ebx=0x4 ecx=0x0 edx=0x0\n"
	                              "0x12 0x2: eax=0x80000001 ebx=0x0 ecx=0x04000001 edx=0x0\n"
	                              "0x12 0x3: eax=0x80000002 ebx=0x0 ecx=0x04000001 edx=0x0\n";
	cocoon_cpuid c;
	cocoon_sgx_info info;
	(void)state;
	assert_int_equal(cocoon_cpuid_parse(&c, nosgx, strlen(nosgx)), 0);
	assert_int_equal(cocoon_sgx_probe(&info, &c, "/nonexistent"), 0);
	assert_false(info.sgx);
	assert_int_equal(info.epc_bytes, 0);
	assert_false(cocoon_sgx_present(&info));
	cocoon_cpuid_close(&c);
	assert_int_equal(cocoon_cpuid_parse(&c, oddtype, strlen(oddtype)), 0);
	assert_int_equal(cocoon_sgx_probe(&info, &c, "/nonexistent"), 0);
	assert_int_equal(info.n_sections, 1);
	assert_int_equal(info.epc_bytes, 64 * MIB);
	assert_false(info.flc);
	cocoon_cpuid_close(&c);
}

/* ---- quantities ---- */

static void test_quantity(void **state)
{
	uint64_t v = 0;
	(void)state;
	assert_int_equal(cocoon_kube_quantity_parse(&v, "68719476736"), 0);
	assert_int_equal(v, 64 * GIB);
	assert_int_equal(cocoon_kube_quantity_parse(&v, "64Gi"), 0);
	assert_int_equal(v, 64 * GIB);
	assert_int_equal(cocoon_kube_quantity_parse(&v, "128000k"), 0);
	assert_int_equal(v, 128000000u);
	assert_int_equal(cocoon_kube_quantity_parse(&v, "0"), 0);
	assert_int_equal(v, 0);
	assert_error(cocoon_kube_quantity_parse(&v, "1.5Gi"), COCOON_EFORMAT, "unsupported suffix");
	assert_error(cocoon_kube_quantity_parse(&v, "Gi"), COCOON_EFORMAT, "not a whole number");
	assert_error(cocoon_kube_quantity_parse(&v, "-1"), COCOON_EFORMAT, "not a whole number");
	assert_error(cocoon_kube_quantity_parse(&v, "16Ei"), COCOON_EFORMAT, "overflows");
	assert_error(cocoon_kube_quantity_parse(&v, "99999999999999999999"), COCOON_EFORMAT, "overflows");
	assert_error(cocoon_kube_quantity_parse(&v, "1e3"), COCOON_EFORMAT, "unsupported suffix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devid_roundtrip_all),
		cmocka_unit_test(test_devid_rejects),
		cmocka_unit_test(test_devid_sizes_match_protobuf),
		cmocka_unit_test(test_devid_max_fits_256gib),
		cmocka_unit_test(test_list_unhealthy_fallback),
		cmocka_unit_test(test_shared_ids),
		cmocka_unit_test(test_allocate_rejects_garbage),
		cmocka_unit_test(test_register_request),
		cmocka_unit_test(test_cpuid_parse_and_query),
		cmocka_unit_test(test_cpuid_parse_errors),
		cmocka_unit_test_setup_teardown(test_sgx_probe, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_sgx_probe_unknown_type_and_no_sgx),
		cmocka_unit_test(test_quantity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
