/*
 * TCB level matching and Intel's status convergence, on hand-built TCB info:
 * the status paths no real vector shows.
 */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dcap/tcbeval.h"

static cocoon_tcb_level lvl(uint8_t sgx_all, uint16_t pce, uint8_t tdx_all, cocoon_tcb_status s)
{
	cocoon_tcb_level l;
	memset(&l, 0, sizeof(l));
	memset(l.sgx, sgx_all, 16);
	memset(l.tdx, tdx_all, 16);
	l.pce_svn = pce;
	l.status = s;
	return l;
}

static uint8_t comps[16];
static const uint8_t *all(uint8_t v)
{
	memset(comps, v, 16);
	return comps;
}

static void test_sgx_component_wise_not_lexicographic(void **state)
{
	(void)state;
	/* Level requires every component >= 2. A TCB of {3,1,...} is lexicographically
	 * greater but component 1 is lower: it must not match. */
	cocoon_tcb_level levels[] = { lvl(2, 10, 0, COCOON_TCB_UP_TO_DATE), lvl(1, 5, 0, COCOON_TCB_OUT_OF_DATE) };
	cocoon_tcb_info ti = { .n_levels = 2, .levels = levels };
	cocoon_tcb_eval ev;
	uint8_t tcb[16];
	memset(tcb, 3, 16);
	tcb[1] = 1;
	cocoon_tcb_evaluate(&ev, &ti, tcb, 10, 0, 3, NULL, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_OUT_OF_DATE);
	assert_ptr_equal(ev.sgx_level, &levels[1]);
}

static void test_sgx_pcesvn_only_higher_is_not_supported(void **state)
{
	(void)state;
	cocoon_tcb_level levels[] = { lvl(5, 10, 0, COCOON_TCB_UP_TO_DATE) };
	cocoon_tcb_info ti = { .n_levels = 1, .levels = levels };
	cocoon_tcb_eval ev;
	cocoon_tcb_evaluate(&ev, &ti, all(4), 20, 0, 3, NULL, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_NOT_SUPPORTED);
	assert_null(ev.sgx_level);
	assert_non_null(strstr(ev.detail, "PCESVN 20"));
	/* and a lower PCESVN with higher CPUSVN falls through too */
	cocoon_tcb_evaluate(&ev, &ti, all(9), 9, 0, 3, NULL, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_NOT_SUPPORTED);
}

static void test_sgx_statuses(void **state)
{
	(void)state;
	const cocoon_tcb_status all_statuses[] = {
		COCOON_TCB_UP_TO_DATE, COCOON_TCB_SW_HARDENING_NEEDED, COCOON_TCB_CONFIGURATION_NEEDED,
		COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, COCOON_TCB_OUT_OF_DATE,
		COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, COCOON_TCB_REVOKED,
	};
	for (size_t i = 0; i < sizeof(all_statuses) / sizeof(all_statuses[0]); i++) {
		cocoon_tcb_level levels[] = { lvl(2, 1, 0, all_statuses[i]) };
		cocoon_tcb_info ti = { .n_levels = 1, .levels = levels };
		cocoon_tcb_eval ev;
		cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 0, 3, NULL, NULL, COCOON_QE_TCB_OK);
		assert_int_equal(ev.status, all_statuses[i]);
		assert_int_equal(ev.platform_status, all_statuses[i]);
	}
}

/* Intel's convergeTcbStatusWithQeTcbStatus, row by row. */
static void test_qe_convergence(void **state)
{
	(void)state;
	const struct {
		cocoon_tcb_status platform;
		cocoon_qe_tcb qe;
		cocoon_tcb_status want;
	} rows[] = {
		{ COCOON_TCB_UP_TO_DATE, COCOON_QE_TCB_OK, COCOON_TCB_UP_TO_DATE },
		{ COCOON_TCB_UP_TO_DATE, COCOON_QE_TCB_OUT_OF_DATE, COCOON_TCB_OUT_OF_DATE },
		{ COCOON_TCB_SW_HARDENING_NEEDED, COCOON_QE_TCB_OUT_OF_DATE, COCOON_TCB_OUT_OF_DATE },
		{ COCOON_TCB_CONFIGURATION_NEEDED, COCOON_QE_TCB_OUT_OF_DATE, COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED },
		{ COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, COCOON_QE_TCB_OUT_OF_DATE,
		  COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED },
		{ COCOON_TCB_OUT_OF_DATE, COCOON_QE_TCB_OUT_OF_DATE, COCOON_TCB_OUT_OF_DATE },
		{ COCOON_TCB_UP_TO_DATE, COCOON_QE_TCB_REVOKED, COCOON_TCB_REVOKED },
		{ COCOON_TCB_CONFIGURATION_NEEDED, COCOON_QE_TCB_REVOKED, COCOON_TCB_REVOKED },
		{ COCOON_TCB_UP_TO_DATE, COCOON_QE_TCB_NOT_SUPPORTED, COCOON_TCB_NOT_SUPPORTED },
		{ COCOON_TCB_REVOKED, COCOON_QE_TCB_OK, COCOON_TCB_REVOKED },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cocoon_tcb_level levels[] = { lvl(2, 1, 0, rows[i].platform) };
		cocoon_tcb_info ti = { .n_levels = 1, .levels = levels };
		cocoon_tcb_eval ev;
		cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 0, 3, NULL, NULL, rows[i].qe);
		if (ev.status != rows[i].want)
			fail_msg("row %zu: platform %s + QE %d: got %s, want %s", i,
			         cocoon_tcb_status_name(rows[i].platform), rows[i].qe, cocoon_tcb_status_name(ev.status),
			         cocoon_tcb_status_name(rows[i].want));
	}
}

static void test_qe_tcb_levels(void **state)
{
	(void)state;
	cocoon_isv_tcb_level levels[] = {
		{ .isvsvn = 8, .status = COCOON_TCB_UP_TO_DATE },
		{ .isvsvn = 6, .status = COCOON_TCB_OUT_OF_DATE },
		{ .isvsvn = 2, .status = COCOON_TCB_REVOKED },
	};
	cocoon_qe_identity qe = { .n_levels = 3, .levels = levels };
	const cocoon_isv_tcb_level *m;
	assert_int_equal(cocoon_qe_tcb_evaluate(&qe, 9, &m), COCOON_QE_TCB_OK);
	assert_ptr_equal(m, &levels[0]);
	assert_int_equal(cocoon_qe_tcb_evaluate(&qe, 7, &m), COCOON_QE_TCB_OUT_OF_DATE);
	assert_int_equal(cocoon_qe_tcb_evaluate(&qe, 2, &m), COCOON_QE_TCB_REVOKED);
	assert_int_equal(cocoon_qe_tcb_evaluate(&qe, 1, &m), COCOON_QE_TCB_NOT_SUPPORTED);
	assert_null(m);
}

/* A TDX TCB info with module identities TDX_01 (levels 4 UpToDate, 2 OutOfDate). */
static cocoon_isv_tcb_level mod_levels[] = {
	{ .isvsvn = 4, .status = COCOON_TCB_UP_TO_DATE },
	{ .isvsvn = 2, .status = COCOON_TCB_OUT_OF_DATE },
};
static cocoon_tdx_module_identity mods[] = { { .id = "TDX_01", .n_levels = 2, .levels = mod_levels } };

static void test_tdx_skips_module_bytes(void **state)
{
	(void)state;
	cocoon_tcb_level levels[] = { lvl(2, 1, 3, COCOON_TCB_UP_TO_DATE), lvl(2, 1, 0, COCOON_TCB_OUT_OF_DATE) };
	cocoon_tcb_info ti = { .is_tdx = 1, .version = 3, .n_levels = 2, .levels = levels,
		               .n_module_identities = 1, .module_identities = mods };
	cocoon_tcb_eval ev;
	uint8_t svn[16];
	memset(svn, 3, 16);
	svn[0] = 5;  /* module ISVSVN */
	svn[1] = 1;  /* module version: bytes 0-1 are skipped in level matching */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_UP_TO_DATE);
	assert_ptr_equal(ev.tdx_level, &levels[0]);
	assert_int_equal(ev.module_status, COCOON_TCB_UP_TO_DATE);

	/* With byte 1 zero, bytes 0-1 count: byte 1 = 0 < 3 drops to the second level (all 0). */
	svn[1] = 0;
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_ptr_equal(ev.tdx_level, &levels[1]);
	assert_int_equal(ev.status, COCOON_TCB_OUT_OF_DATE);

	/* TDX components below every level: not supported. */
	levels[1].tdx[5] = 1;
	memset(svn, 0, 16);
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_NOT_SUPPORTED);
	assert_non_null(strstr(ev.detail, "TEE_TCB_SVN"));
}

static void test_tdx_module_status(void **state)
{
	(void)state;
	cocoon_tcb_level levels[] = { lvl(2, 1, 3, COCOON_TCB_UP_TO_DATE) };
	cocoon_tcb_info ti = { .is_tdx = 1, .version = 3, .n_levels = 1, .levels = levels,
		               .n_module_identities = 1, .module_identities = mods };
	cocoon_tcb_eval ev;
	uint8_t svn[16];
	memset(svn, 3, 16);
	svn[1] = 1;
	svn[0] = 3; /* between 2 and 4: module OutOfDate converges the platform */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.module_status, COCOON_TCB_OUT_OF_DATE);
	assert_int_equal(ev.status, COCOON_TCB_OUT_OF_DATE);
	svn[0] = 1; /* below every module level */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_NOT_SUPPORTED);
	assert_non_null(strstr(ev.detail, "TDX_01"));
	svn[1] = 2; /* no TDX_02 identity */
	svn[0] = 9;
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_true(ev.module_mismatch);
	assert_non_null(strstr(ev.detail, "TDX_02"));
}

static void test_tdx_relaunch_advised(void **state)
{
	(void)state;
	/* Latest level needs tdx[0] >= 3, tdx[2] >= 3; the running TD is on an
	 * older level but TEE_TCB_SVN2 (post-update) meets the latest. */
	cocoon_tcb_level levels[] = { lvl(2, 1, 5, COCOON_TCB_UP_TO_DATE), lvl(2, 1, 1, COCOON_TCB_OUT_OF_DATE) };
	cocoon_tcb_info ti = { .is_tdx = 1, .version = 3, .n_levels = 2, .levels = levels,
		               .n_module_identities = 1, .module_identities = mods };
	cocoon_tcb_eval ev;
	uint8_t svn[16], svn2[16];
	memset(svn, 2, 16);
	svn[1] = 1;
	svn[0] = 3;          /* module OutOfDate */
	memset(svn2, 5, 16);
	svn2[1] = 1;         /* module TDX_01 */
	svn2[0] = 4;         /* meets TDX_01's latest level */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 5, svn, svn2, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_TD_RELAUNCH_ADVISED);

	/* Configuration needed on the SGX side carries into the relaunch status. */
	levels[1].status = COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 5, svn, svn2, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);

	/* SVN2 below the latest: no advice, the TD stays OutOfDate. */
	levels[1].status = COCOON_TCB_OUT_OF_DATE;
	svn2[2] = 1;
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 5, svn, svn2, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_OUT_OF_DATE);

	/* Module version 0 in SVN2 compares against the latest TCB level's TDX components. */
	memset(svn2, 5, 16);
	svn2[1] = 0;
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 5, svn, svn2, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_TD_RELAUNCH_ADVISED);

	/* A QE that is not UpToDate suppresses relaunch advice (Intel's rule). */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 5, svn, svn2, COCOON_QE_TCB_OUT_OF_DATE);
	assert_int_equal(ev.status, COCOON_TCB_OUT_OF_DATE);
}

static void test_tdx_revoked_module(void **state)
{
	(void)state;
	cocoon_isv_tcb_level rl[] = { { .isvsvn = 1, .status = COCOON_TCB_REVOKED } };
	cocoon_tdx_module_identity m[] = { { .id = "tdx_01", .n_levels = 1, .levels = rl } };
	cocoon_tcb_level levels[] = { lvl(2, 1, 3, COCOON_TCB_UP_TO_DATE) };
	cocoon_tcb_info ti = { .is_tdx = 1, .version = 3, .n_levels = 1, .levels = levels,
		               .n_module_identities = 1, .module_identities = m };
	cocoon_tcb_eval ev;
	uint8_t svn[16];
	memset(svn, 3, 16);
	svn[1] = 1; /* id comparison is case-insensitive, as Intel's */
	cocoon_tcb_evaluate(&ev, &ti, all(2), 1, 1, 4, svn, NULL, COCOON_QE_TCB_OK);
	assert_int_equal(ev.status, COCOON_TCB_REVOKED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx_component_wise_not_lexicographic),
		cmocka_unit_test(test_sgx_pcesvn_only_higher_is_not_supported),
		cmocka_unit_test(test_sgx_statuses),
		cmocka_unit_test(test_qe_convergence),
		cmocka_unit_test(test_qe_tcb_levels),
		cmocka_unit_test(test_tdx_skips_module_bytes),
		cmocka_unit_test(test_tdx_module_status),
		cmocka_unit_test(test_tdx_relaunch_advised),
		cmocka_unit_test(test_tdx_revoked_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
