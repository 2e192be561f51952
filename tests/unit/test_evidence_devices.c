/*
 * /dev/tdx_guest (TDX_CMD_GET_REPORT0) and Gramine's /dev/attestation,
 * against a scripted device and a fake attestation directory whose quote
 * is regenerated when user_report_data is written, as Gramine does.
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

static void options(cocoon_evidence_options *o, fake_sys *f, const char *provider)
{
	cocoon_evidence_options init = COCOON_EVIDENCE_OPTIONS_INIT;
	*o = init;
	o->sys = &f->sys;
	o->provider = provider;
	o->configfs_root = "/nonexistent/cocoon-test/configfs";
	o->sev_guest_path = "/nonexistent/cocoon-test/sev-guest";
	o->tdx_guest_path = "/fake/dev/tdx_guest";
	o->attestation_root = "/nonexistent/cocoon-test/attestation";
	for (int i = 0; i < 64; i++)
		o->report_data[i] = (uint8_t)(255 - i);
}

static void test_tdx_tdreport(void **state)
{
	fake_sys *f = fake_sys_new();
	fake_tdx tdx = { 0 };
	cocoon_evidence_options o;
	cocoon_evidence ev;

	(void)state;
	f->tdx = &tdx;
	f->tdx_path = "/fake/dev/tdx_guest";
	options(&o, f, "tdx-guest");
	assert_int_equal(cocoon_evidence_collect(&ev, &o), 0);
	assert_int_equal(ev.tee, COCOON_TEE_TDX);
	assert_int_equal(ev.format, COCOON_EVIDENCE_TDX_TDREPORT);
	assert_string_equal(ev.provider, "tdx-guest");
	assert_int_equal(ev.evidence_len, 1024);
	assert_memory_equal(ev.evidence + 128, o.report_data, 64);
	assert_null(ev.aux);
	assert_int_equal(tdx.calls, 1);
	cocoon_evidence_free(&ev);

	tdx.rc = -EIO;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EIO);
	assert_msg("TDX_CMD_GET_REPORT0 on /fake/dev/tdx_guest failed");
	assert_msg("(EIO); the TDG.MR.REPORT call failed");

	tdx.rc = 0;
	tdx.wrong_data = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EIO);
	assert_msg("tdx-guest returned evidence whose REPORT_DATA differs");

	o.tee = COCOON_TEE_SNP;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EUNSUPPORTED);
	assert_msg("tdx-guest produces tdx evidence, not snp");

	o.tee = COCOON_TEE_UNKNOWN;
	o.tdx_guest_path = "/nonexistent/cocoon-test/tdx_guest";
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_ENOTFOUND);
	assert_msg("not a TDX guest");
	assert_int_equal(f->open_fds, 0);
	fake_sys_free(f);
}

static void test_gramine_quote(void **state)
{
	fake_sys *f = fake_sys_new();
	fake_gramine g;
	cocoon_evidence_options o;
	cocoon_evidence ev;

	(void)state;
	assert_int_equal(fake_gramine_init(&g, "dcap"), 0);
	f->gramine = &g;
	options(&o, f, "gramine");
	o.attestation_root = g.root;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), 0);
	assert_int_equal(ev.tee, COCOON_TEE_SGX);
	assert_int_equal(ev.format, COCOON_EVIDENCE_DCAP_QUOTE);
	assert_string_equal(ev.provider, "gramine");
	assert_memory_equal(ev.evidence + 368, o.report_data, 64);
	assert_int_equal(g.report_data_writes, 1);
	assert_int_equal(f->open_fds, 0);
	cocoon_evidence_free(&ev);

	/* A quote not bound to the written data (stale) is refused. */
	g.wrong_data = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EIO);
	assert_msg("gramine returned evidence whose REPORT_DATA differs");
	g.wrong_data = 0;

	g.quote_errno = EACCES;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EIO);
	assert_msg("(EACCES); Gramine could not get a quote: is the host's aesmd running");
	assert_int_equal(f->open_fds, 0);
	fake_gramine_cleanup(&g);
	fake_sys_free(f);
}

static void test_gramine_attestation_type(void **state)
{
	fake_sys *f = fake_sys_new();
	fake_gramine g;
	cocoon_evidence_options o;
	cocoon_evidence ev;
	cocoon_probe_report r;

	(void)state;
	assert_int_equal(fake_gramine_init(&g, "none\n"), 0);
	f->gramine = &g;
	options(&o, f, "gramine");
	o.attestation_root = g.root;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EUNSUPPORTED);
	assert_msg("remote attestation is disabled (attestation_type is \"none\")");
	assert_msg("sgx.remote_attestation = \"dcap\"");
	assert_int_equal(g.report_data_writes, 0);

	/* The probe reports the same reason. */
	assert_int_equal(cocoon_evidence_probe(&r, &o), 0);
	assert_string_equal(r.entries[2].name, "gramine");
	assert_int_equal(r.entries[2].state, COCOON_PROBE_UNUSABLE);
	assert_non_null(strstr(r.entries[2].detail, "attestation_type is \"none\""));
	fake_gramine_cleanup(&g);

	assert_int_equal(fake_gramine_init(&g, "epid"), 0);
	o.attestation_root = g.root;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EUNSUPPORTED);
	assert_msg("EPID attestation is retired and not supported");
	fake_gramine_cleanup(&g);

	o.attestation_root = "/nonexistent/cocoon-test/attestation";
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_ENOTFOUND);
	assert_msg("not running inside Gramine");

	o.tee = COCOON_TEE_TDX;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EUNSUPPORTED);
	assert_msg("gramine produces sgx evidence, not tdx");
	fake_sys_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdx_tdreport),
		cmocka_unit_test(test_gramine_quote),
		cmocka_unit_test(test_gramine_attestation_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
