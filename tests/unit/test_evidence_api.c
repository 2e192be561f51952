/*
 * The public evidence API: option checks, report-data decoding, the probe
 * report, and auto-detection (documented order, TEE hint, no fallback to
 * sim, and an error naming every probe when nothing is available).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "fake_evidence.h"
#include "cocoon/evidence.h"
#include "evidence/provider.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

typedef struct {
	fake_sys *f;
	fake_tsm tsm;
	fake_snp snp;
	fake_tdx tdx;
	fake_gramine gramine;
	cocoon_evidence_options o;
	char absent[600];
} fx;

/* Every interface present in the fakes but not attached: each test attaches what it needs. */
static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	cocoon_evidence_options init = COCOON_EVIDENCE_OPTIONS_INIT;

	if (!x || !(x->f = fake_sys_new()) || fake_tsm_init(&x->tsm) != 0 || fake_gramine_init(&x->gramine, "dcap") != 0)
		return -1;
	fake_snp_init(&x->snp);
	snprintf(x->absent, sizeof(x->absent), "%s/absent", x->tsm.root);
	x->o = init;
	x->o.sys = &x->f->sys;
	x->o.configfs_root = x->absent;
	x->o.sev_guest_path = x->absent;
	x->o.tdx_guest_path = x->absent;
	x->o.attestation_root = x->absent;
	x->o.report_data[0] = 0x42;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	fake_tsm_cleanup(&x->tsm);
	fake_gramine_cleanup(&x->gramine);
	assert_int_equal(x->f->open_fds, 0);
	fake_sys_free(x->f);
	pthread_mutex_destroy(&x->snp.mu);
	free(x);
	return 0;
}

static void attach_tsm(fx *x, const char *provider)
{
	x->tsm.provider = provider;
	x->f->tsm = &x->tsm;
	x->o.configfs_root = x->tsm.root;
}

static void attach_sev(fx *x)
{
	x->f->snp = &x->snp;
	x->f->snp_path = "/fake/dev/sev-guest";
	x->o.sev_guest_path = "/fake/dev/sev-guest";
}

static void attach_tdx(fx *x)
{
	x->f->tdx = &x->tdx;
	x->f->tdx_path = "/fake/dev/tdx_guest";
	x->o.tdx_guest_path = "/fake/dev/tdx_guest";
}

static void attach_gramine(fx *x)
{
	x->f->gramine = &x->gramine;
	x->o.attestation_root = x->gramine.root;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cocoon_evidence_format_name(COCOON_EVIDENCE_DCAP_QUOTE), "dcap_quote");
	assert_string_equal(cocoon_evidence_format_name(COCOON_EVIDENCE_SNP_REPORT), "snp_report");
	assert_string_equal(cocoon_evidence_format_name(COCOON_EVIDENCE_TDX_TDREPORT), "tdx_tdreport");
	assert_string_equal(cocoon_probe_state_name(COCOON_PROBE_AVAILABLE), "available");
	assert_string_equal(cocoon_probe_state_name(COCOON_PROBE_ABSENT), "absent");
	assert_string_equal(cocoon_probe_state_name(COCOON_PROBE_UNUSABLE), "unusable");
}

static void test_report_data_from_hex(void **state)
{
	uint8_t rd[64], want[64] = { 0xab, 0xcd };
	char hex[140];

	(void)state;
	assert_int_equal(cocoon_evidence_report_data_from_hex(rd, "abCD"), 0);
	assert_memory_equal(rd, want, 64);
	memset(hex, 'f', 128);
	hex[128] = '\0';
	assert_int_equal(cocoon_evidence_report_data_from_hex(rd, hex), 0);
	assert_int_equal(rd[63], 0xff);
	hex[128] = 'f';
	hex[129] = 'f';
	hex[130] = '\0';
	assert_int_equal(cocoon_evidence_report_data_from_hex(rd, hex), COCOON_EINVAL);
	assert_msg("more than 128 hex characters");
	assert_int_equal(cocoon_evidence_report_data_from_hex(rd, "00zz"), COCOON_EINVAL);
	assert_msg("character 2 is not a hex digit");
	assert_int_equal(cocoon_evidence_report_data_from_hex(rd, "abc"), COCOON_EINVAL);
	assert_msg("odd number of hex characters (3)");
}

static void test_options_checked(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;
	cocoon_evidence_options o = x->o;
	cocoon_evidence_sys broken = x->f->sys;

	o.version = 0;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL);
	assert_msg("COCOON_EVIDENCE_OPTIONS_INIT");
	o = x->o;
	o.snp_vmpl = 4;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL);
	assert_msg("SNP VMPL 4 is outside 0..3");
	o = x->o;
	o.tee = (cocoon_tee)9;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL);
	assert_msg("tee 9 is not sgx, tdx or snp");
	o = x->o;
	broken.ioctl = NULL;
	o.sys = &broken;
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL);
	assert_msg("system-call table has empty entries");
	o = x->o;
	o.provider = "sgx-magic";
	assert_int_equal(cocoon_evidence_collect(&ev, &o), COCOON_EINVAL);
	assert_msg("unknown provider \"sgx-magic\"; known: auto, configfs-tsm, sev-guest, gramine, tdx-guest, sim");
	assert_int_equal(cocoon_evidence_collect(&ev, NULL), COCOON_EINVAL);
	assert_null(ev.evidence);
}

static void test_auto_prefers_configfs_tsm(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	attach_tsm(x, "sev_guest");
	attach_sev(x);
	attach_gramine(x);
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_string_equal(ev.provider, "configfs-tsm");
	assert_int_equal(ev.tee, COCOON_TEE_SNP);
	assert_int_equal(x->snp.calls, 0);
	assert_int_equal(x->gramine.report_data_writes, 0);
	cocoon_evidence_free(&ev);
}

static void test_auto_falls_through_absent_providers(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	attach_sev(x);
	attach_gramine(x);
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_string_equal(ev.provider, "sev-guest");
	cocoon_evidence_free(&ev);

	x->o.sev_guest_path = x->absent;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_string_equal(ev.provider, "gramine");
	assert_int_equal(ev.tee, COCOON_TEE_SGX);
	cocoon_evidence_free(&ev);
}

static void test_auto_honours_tee_hint(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	attach_tsm(x, "tdx_guest");
	attach_gramine(x);
	x->o.tee = COCOON_TEE_SGX;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_string_equal(ev.provider, "gramine");
	assert_int_equal(x->tsm.inblob_writes, 0);
	cocoon_evidence_free(&ev);

	x->o.tee = COCOON_TEE_SNP;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("no TEE evidence provider is available for snp (");
	assert_msg("configfs-tsm: produces tdx, not snp;");
	assert_msg("gramine: produces sgx, not snp;");
}

static void test_auto_nothing_found_names_every_probe(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("no TEE evidence provider is available (auto-detection");
	assert_msg("); probed: configfs-tsm: ");
	assert_msg("tdx-guest (never auto-selected): ");
	assert_msg("configfs-tsm: ");
	assert_msg("/absent/tsm/report: No such file or directory (ENOENT)");
	assert_msg("sev-guest: ");
	assert_msg("gramine: cannot read ");
	assert_msg("not running inside Gramine");
	assert_msg("auto-detection never uses the simulator: pass --provider sim");
	assert_null(ev.evidence);
}

static void test_auto_never_selects_tdx_guest(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	attach_tdx(x);
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("tdx-guest is present but not auto-selected (--provider tdx-guest)");
	assert_int_equal(x->tdx.calls, 0);

	x->o.provider = "tdx-guest";
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(ev.format, COCOON_EVIDENCE_TDX_TDREPORT);
	cocoon_evidence_free(&ev);
}

/* A sim stand-in that is always available and always succeeds. */
static unsigned always_sim_collects;

static void always_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	(void)c;
	out->state = COCOON_PROBE_AVAILABLE;
	out->tee = COCOON_TEE_SGX;
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
}

static int always_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	(void)c;
	always_sim_collects++;
	out->tee = COCOON_TEE_SGX;
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
	out->evidence = calloc(1, 16);
	out->evidence_len = 16;
	return 0;
}

static const cocoon_evidence_provider always_sim = { "sim", 0, always_probe, always_collect };

static void test_auto_never_falls_back_to_sim(void **state)
{
	fx *x = *state;
	const cocoon_evidence_provider *const list[] = {
		&cocoon_evidence_provider_tsm, &cocoon_evidence_provider_sev_guest, &cocoon_evidence_provider_gramine,
		&cocoon_evidence_provider_tdx_guest, &always_sim,
	};
	cocoon_evidence ev;
	cocoon_probe_report r;

	always_sim_collects = 0;
	assert_int_equal(cocoon_evidence__collect_with(&ev, &x->o, list, 5), COCOON_ENOTFOUND);
	assert_int_equal(always_sim_collects, 0);
	assert_msg("never uses the simulator");

	assert_int_equal(cocoon_evidence__probe_with(&r, &x->o, list, 5), 0);
	assert_int_equal(r.entries[4].state, COCOON_PROBE_AVAILABLE);
	assert_int_equal(r.selected, -1);

	x->o.provider = "sim";
	assert_int_equal(cocoon_evidence__collect_with(&ev, &x->o, list, 5), 0);
	assert_int_equal(always_sim_collects, 1);
	assert_string_equal(ev.provider, "sim");
	cocoon_evidence_free(&ev);

	/* The registry's own sim entry is out of auto-detection too. */
	assert_int_equal(cocoon_evidence_provider_sim.auto_detect, 0);
	assert_int_equal(cocoon_evidence_provider_tdx_guest.auto_detect, 0);
}

/* Holds for the placeholder and for the real sim provider: no simulation DIR, no evidence. */
static void test_named_sim_needs_a_dir(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->o.provider = "sim";
	x->o.sim_dir = NULL;
	assert_true(cocoon_evidence_collect(&ev, &x->o) < 0);
	assert_msg("sim");
	assert_null(ev.evidence);
	assert_int_equal(ev.evidence_len, 0);
}

static void test_probe_report(void **state)
{
	fx *x = *state;
	cocoon_probe_report r;
	static const char *const names[] = { "configfs-tsm", "sev-guest", "gramine", "tdx-guest", "sim" };

	attach_sev(x);
	attach_gramine(x);
	attach_tdx(x);
	assert_int_equal(cocoon_evidence_probe(&r, &x->o), 0);
	assert_int_equal(r.count, 5);
	for (size_t i = 0; i < r.count; i++)
		assert_string_equal(r.entries[i].name, names[i]);
	assert_int_equal(r.entries[0].state, COCOON_PROBE_ABSENT);
	assert_int_equal(r.entries[0].auto_detect, 1);
	assert_int_equal(r.entries[1].state, COCOON_PROBE_AVAILABLE);
	assert_int_equal(r.entries[1].tee, COCOON_TEE_SNP);
	assert_int_equal(r.entries[2].state, COCOON_PROBE_AVAILABLE);
	assert_int_equal(r.entries[3].state, COCOON_PROBE_AVAILABLE);
	assert_int_equal(r.entries[3].auto_detect, 0);
	assert_non_null(strstr(r.entries[3].detail, "TDREPORT"));
	assert_int_equal(r.entries[4].auto_detect, 0);
	assert_int_equal(r.selected, 1);
	/* Probing issues no firmware request and writes no report data. */
	assert_int_equal(x->snp.calls, 0);
	assert_int_equal(x->tdx.calls, 0);
	assert_int_equal(x->gramine.report_data_writes, 0);

	x->o.tee = COCOON_TEE_SGX;
	assert_int_equal(cocoon_evidence_probe(&r, &x->o), 0);
	assert_int_equal(r.selected, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_report_data_from_hex),
		cmocka_unit_test_setup_teardown(test_options_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_prefers_configfs_tsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_falls_through_absent_providers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_honours_tee_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_nothing_found_names_every_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_never_selects_tdx_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_never_falls_back_to_sim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named_sim_needs_a_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_report, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
