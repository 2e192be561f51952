/*
 * configfs-tsm provider against the in-process configfs model
 * (tests/support/fake_evidence.c): private entries, privlevel as ASCII,
 * 64-byte inblob applied at close, generation checks and retries, rmdir on
 * every path, and the kernel's read errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "fake_evidence.h"
#include "cocoon/evidence.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

typedef struct {
	fake_sys *f;
	fake_tsm tsm;
	cocoon_evidence_options o;
	char report_dir[600];
	char absent[600];
} fx;

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	cocoon_evidence_options init = COCOON_EVIDENCE_OPTIONS_INIT;

	if (!x || !(x->f = fake_sys_new()) || fake_tsm_init(&x->tsm) != 0)
		return -1;
	x->f->tsm = &x->tsm;
	x->o = init;
	x->o.sys = &x->f->sys;
	x->o.provider = "configfs-tsm";
	x->o.configfs_root = x->tsm.root;
	for (int i = 0; i < 64; i++)
		x->o.report_data[i] = (uint8_t)(0xA0 + i);
	snprintf(x->report_dir, sizeof(x->report_dir), "%s/tsm/report", x->tsm.root);
	/* Never let a probe reach the host's real devices. */
	snprintf(x->absent, sizeof(x->absent), "%s/absent", x->tsm.root);
	x->o.sev_guest_path = x->absent;
	x->o.tdx_guest_path = x->absent;
	x->o.attestation_root = x->absent;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	fake_tsm_cleanup(&x->tsm);
	fake_sys_free(x->f);
	free(x);
	return 0;
}

/* Every entry removed, every descriptor closed. */
static void assert_clean(fx *x)
{
	assert_int_equal(fake_dir_count(x->report_dir), 0);
	assert_int_equal(x->tsm.mkdirs, x->tsm.rmdirs);
	assert_int_equal(x->f->open_fds, 0);
}

static void test_snp_report_with_certs(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.privlevel_floor = 1;
	x->tsm.certs_size = 3000;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(ev.tee, COCOON_TEE_SNP);
	assert_int_equal(ev.format, COCOON_EVIDENCE_SNP_REPORT);
	assert_string_equal(ev.provider, "configfs-tsm");
	assert_int_equal(ev.evidence_len, 1184);
	assert_memory_equal(ev.evidence + 0x50, x->o.report_data, 64);
	/* privlevel defaulted to privlevel_floor, written as ASCII, and reached the report. */
	assert_string_equal(x->tsm.last_privlevel, "1");
	assert_int_equal(ev.evidence[0x30], 1);
	assert_int_equal(x->tsm.last_inblob_len, 64);
	assert_int_equal(ev.aux_len, 3000);
	assert_non_null(ev.aux);
	assert_int_equal(ev.aux[0], 0x63);  /* VCEK GUID first */
	assert_int_equal(x->tsm.mkdirs, 1);
	assert_clean(x);
	cocoon_evidence_free(&ev);
	assert_null(ev.evidence);
}

static void test_snp_explicit_vmpl_and_no_aux(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.certs_size = 3000;
	x->o.snp_vmpl = 2;
	x->o.no_aux = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_string_equal(x->tsm.last_privlevel, "2");
	assert_int_equal(ev.evidence[0x30], 2);
	assert_null(ev.aux);
	assert_int_equal(ev.aux_len, 0);
	assert_clean(x);
	cocoon_evidence_free(&ev);
}

static void test_snp_empty_auxblob(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_null(ev.aux);
	assert_clean(x);
	cocoon_evidence_free(&ev);
}

static void test_tdx_quote(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.provider = "tdx_guest";
	x->o.tee = COCOON_TEE_TDX;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(ev.tee, COCOON_TEE_TDX);
	assert_int_equal(ev.format, COCOON_EVIDENCE_DCAP_QUOTE);
	assert_memory_equal(ev.evidence + 568, x->o.report_data, 64);
	assert_int_equal(x->tsm.privlevel_writes, 0);  /* no privlevel on TDX */
	assert_null(ev.aux);
	assert_clean(x);
	cocoon_evidence_free(&ev);
}

static void test_concurrent_writer_retried(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.concurrent_bumps = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	/* The first entry saw its generation move and was discarded; a fresh one succeeded. */
	assert_int_equal(x->tsm.mkdirs, 2);
	assert_int_equal(x->tsm.outblob_reads, 2);
	assert_memory_equal(ev.evidence + 0x50, x->o.report_data, 64);
	assert_clean(x);
	cocoon_evidence_free(&ev);
}

static void test_generation_keeps_moving(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.concurrent_bumps = 100;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("generation check failed on 3 fresh entries in a row");
	assert_msg("another writer changed the entry");
	assert_null(ev.evidence);
	assert_int_equal(x->tsm.mkdirs, 3);
	assert_clean(x);
}

static void test_dropped_inblob_write_detected(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	/* EBUSY at close is invisible: only the generation tells. */
	x->tsm.drop_inblob_writes = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(x->tsm.mkdirs, 2);
	assert_int_equal(x->tsm.inblob_writes, 2);
	assert_clean(x);
	cocoon_evidence_free(&ev);

	x->tsm.drop_inblob_writes = 3;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("after writing inblob");
	assert_msg("did not apply a write");
	assert_clean(x);
}

static void test_no_provider_registered(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.no_provider = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("no TSM provider is registered (ENXIO)");
	assert_clean(x);
}

static void test_configfs_absent(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;
	char root[700];

	snprintf(root, sizeof(root), "%s/nowhere", x->tsm.root);
	x->o.configfs_root = root;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("does not exist: it needs Linux 6.7+");
	assert_msg("/nowhere/tsm/report");
}

static void test_unsupported_provider(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.provider = "arm_cca_guest";
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EUNSUPPORTED);
	assert_msg("provider \"arm_cca_guest\" is not supported");
	assert_clean(x);
}

static void test_tee_mismatch(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->o.tee = COCOON_TEE_TDX;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EUNSUPPORTED);
	assert_msg("the provider is sev_guest (snp), not tdx");
	assert_int_equal(x->tsm.inblob_writes, 0);
	assert_clean(x);
}

static void test_privlevel_below_floor(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.privlevel_floor = 2;
	x->o.snp_vmpl = 0;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("writing privlevel 0");
	assert_msg("between privlevel_floor and 3");
	assert_clean(x);
}

static void test_quote_in_flight(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.provider = "tdx_guest";
	x->tsm.read_errno = EBUSY;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("outblob failed");
	assert_msg("(EBUSY)");
	assert_msg("still in flight");
	assert_clean(x);

	x->tsm.read_errno = EIO;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("GetQuote hypercall failed");
	assert_clean(x);
}

static void test_stale_report_refused(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.wrong_data = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("configfs-tsm (sev_guest) returned evidence whose REPORT_DATA differs");
	assert_null(ev.evidence);
	assert_clean(x);
}

static void test_malformed_auxblob(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->tsm.certs_size = 3000;
	x->tsm.corrupt_aux = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EFORMAT);
	assert_msg("configfs-tsm: auxblob: SNP certificate table entry 0 (byte 16)");
	assert_msg("runs past the end of the 3000-byte table");
	assert_null(ev.evidence);
	assert_clean(x);
}

static void test_probe_reads_provider_and_cleans_up(void **state)
{
	fx *x = *state;
	cocoon_probe_report r;

	x->tsm.provider = "tdx_guest";
	assert_int_equal(cocoon_evidence_probe(&r, &x->o), 0);
	assert_string_equal(r.entries[0].name, "configfs-tsm");
	assert_int_equal(r.entries[0].state, COCOON_PROBE_AVAILABLE);
	assert_int_equal(r.entries[0].tee, COCOON_TEE_TDX);
	assert_non_null(strstr(r.entries[0].detail, "provider tdx_guest"));
	assert_int_equal(x->tsm.mkdirs, 1);
	assert_int_equal(x->tsm.inblob_writes, 0);
	assert_clean(x);

	x->tsm.no_provider = 1;
	assert_int_equal(cocoon_evidence_probe(&r, &x->o), 0);
	assert_int_equal(r.entries[0].state, COCOON_PROBE_UNUSABLE);
	assert_non_null(strstr(r.entries[0].detail, "ENXIO"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snp_report_with_certs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snp_explicit_vmpl_and_no_aux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snp_empty_auxblob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tdx_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writer_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_keeps_moving, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_inblob_write_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_provider_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configfs_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_provider, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tee_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privlevel_below_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_report_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_auxblob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_reads_provider_and_cleans_up, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
