/* TCB level matching and Intel's status convergence rules. */
#include <stdio.h>
#include <string.h>
#include "dcap/tcbeval.h"

cocoon_qe_tcb cocoon_qe_tcb_evaluate(const cocoon_qe_identity *qe, uint16_t qe_isvsvn,
                                     const cocoon_isv_tcb_level **matched)
{
	*matched = NULL;
	/* Levels are sorted by isvsvn, highest first: the first one at or below wins. */
	for (size_t i = 0; i < qe->n_levels; i++) {
		if (qe_isvsvn >= qe->levels[i].isvsvn) {
			*matched = &qe->levels[i];
			switch (qe->levels[i].status) {
			case COCOON_TCB_UP_TO_DATE: return COCOON_QE_TCB_OK;
			case COCOON_TCB_REVOKED: return COCOON_QE_TCB_REVOKED;
			default: return COCOON_QE_TCB_OUT_OF_DATE;
			}
		}
	}
	return COCOON_QE_TCB_NOT_SUPPORTED;
}

const cocoon_tdx_module_identity *cocoon_tdx_module_find(const cocoon_tcb_info *ti, uint8_t version)
{
	char want[16];
	snprintf(want, sizeof(want), "TDX_%02X", version);
	for (size_t i = 0; i < ti->n_module_identities; i++) {
		const char *id = ti->module_identities[i].id;
		size_t j = 0;
		/* Intel upper-cases the identity id before comparing. */
		for (; id[j] && want[j]; j++) {
			char c = id[j];
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (c != want[j])
				break;
		}
		if (!id[j] && !want[j])
			return &ti->module_identities[i];
	}
	return NULL;
}

static int sgx_higher_or_equal(const uint8_t comp[16], const cocoon_tcb_level *l)
{
	for (int i = 0; i < 16; i++)
		if (comp[i] < l->sgx[i])
			return 0;
	return 1;
}

/* When TEE_TCB_SVN[1] (the module version) is set, bytes 0-1 describe the
 * module and are judged by the module identity instead. */
static int tdx_higher_or_equal(const uint8_t svn[16], const cocoon_tcb_level *l)
{
	for (int i = svn[1] > 0 ? 2 : 0; i < 16; i++)
		if (svn[i] < l->tdx[i])
			return 0;
	return 1;
}

static int is_configuration_needed(cocoon_tcb_status s)
{
	return s == COCOON_TCB_CONFIGURATION_NEEDED || s == COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	       s == COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	       s == COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* Intel's convergeTcbStatusWithQeTcbStatus. */
static cocoon_tcb_status converge_qe(cocoon_tcb_status s, cocoon_qe_tcb qe)
{
	if (qe == COCOON_QE_TCB_OUT_OF_DATE) {
		if (s == COCOON_TCB_UP_TO_DATE || s == COCOON_TCB_SW_HARDENING_NEEDED)
			return COCOON_TCB_OUT_OF_DATE;
		if (s == COCOON_TCB_CONFIGURATION_NEEDED || s == COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (qe == COCOON_QE_TCB_REVOKED)
		return COCOON_TCB_REVOKED;
	if (qe == COCOON_QE_TCB_NOT_SUPPORTED)
		return COCOON_TCB_NOT_SUPPORTED;
	return s;
}

/* Intel's convergeTcbStatusWithTdxModuleStatus. */
static cocoon_tcb_status converge_module(cocoon_tcb_status s, cocoon_tcb_status module)
{
	if (module == COCOON_TCB_OUT_OF_DATE) {
		if (s == COCOON_TCB_UP_TO_DATE || s == COCOON_TCB_SW_HARDENING_NEEDED)
			return COCOON_TCB_OUT_OF_DATE;
		if (s == COCOON_TCB_CONFIGURATION_NEEDED || s == COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (module == COCOON_TCB_REVOKED)
		return COCOON_TCB_REVOKED;
	return s;
}

/* Intel's checkTdxModuleTcbStatus: UNKNOWN on mismatch, NOT_SUPPORTED when no level fits. */
static cocoon_tcb_status module_status(cocoon_tcb_eval *out, const cocoon_tcb_info *ti, int quote_version,
                                       const uint8_t svn[16])
{
	const cocoon_tdx_module_identity *mid;
	if (quote_version > 3 && svn[1] == 0)
		return COCOON_TCB_UP_TO_DATE;
	if (!(mid = cocoon_tdx_module_find(ti, svn[1]))) {
		out->module_mismatch = 1;
		snprintf(out->detail, sizeof(out->detail),
		         "TCB info has no TDX module identity TDX_%02X for module version %u (TEE_TCB_SVN[1])",
		         svn[1], svn[1]);
		return COCOON_TCB_UNKNOWN;
	}
	for (size_t i = 0; i < mid->n_levels; i++) {
		if (svn[0] >= mid->levels[i].isvsvn) {
			out->module_level = &mid->levels[i];
			return mid->levels[i].status;
		}
	}
	snprintf(out->detail, sizeof(out->detail),
	         "no TCB level of TDX module identity %s matches module ISVSVN %u (TEE_TCB_SVN[0])", mid->id, svn[0]);
	return COCOON_TCB_NOT_SUPPORTED;
}

/* Intel's checkForRelaunch (TD 1.5 quotes only). */
static cocoon_tcb_status relaunch(const cocoon_tcb_info *ti, const uint8_t svn2[16], cocoon_tcb_status sgx,
                                  cocoon_tcb_status tdx, cocoon_tcb_status module, cocoon_qe_tcb qe)
{
	const cocoon_tcb_level *latest;
	int advised = 0;

	if (qe != COCOON_QE_TCB_OK)
		return tdx;
	if (sgx != COCOON_TCB_UP_TO_DATE && sgx != COCOON_TCB_SW_HARDENING_NEEDED &&
	    sgx != COCOON_TCB_CONFIGURATION_NEEDED && sgx != COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
		return tdx;
	if (tdx != COCOON_TCB_OUT_OF_DATE && tdx != COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
		return tdx;
	if (module != COCOON_TCB_OUT_OF_DATE)
		return tdx;
	if (ti->n_levels == 0)
		return COCOON_TCB_NOT_SUPPORTED;
	latest = &ti->levels[0];
	if (svn2[1] == 0) {
		advised = svn2[0] >= latest->tdx[0] && svn2[2] >= latest->tdx[2];
	} else {
		const cocoon_tdx_module_identity *mid = cocoon_tdx_module_find(ti, svn2[1]);
		if (!mid)
			return COCOON_TCB_UNKNOWN; /* module mismatch */
		if (mid->n_levels == 0)
			return COCOON_TCB_NOT_SUPPORTED;
		advised = svn2[0] >= mid->levels[0].isvsvn && svn2[2] >= latest->tdx[2];
	}
	if (!advised)
		return tdx;
	return (is_configuration_needed(sgx) || is_configuration_needed(tdx))
	               ? COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
	               : COCOON_TCB_TD_RELAUNCH_ADVISED;
}

void cocoon_tcb_evaluate(cocoon_tcb_eval *out, const cocoon_tcb_info *ti, const uint8_t comp_svn[16],
                         uint16_t pce_svn, int is_tdx, int quote_version, const uint8_t *tee_tcb_svn,
                         const uint8_t *tee_tcb_svn2, cocoon_qe_tcb qe)
{
	cocoon_tcb_status sgx_status, tdx_status, mod;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ti->n_levels; i++) {
		const cocoon_tcb_level *l = &ti->levels[i];
		if (!sgx_higher_or_equal(comp_svn, l) || pce_svn < l->pce_svn)
			continue;
		if (!is_tdx) {
			out->sgx_level = l;
			break;
		}
		if (!out->sgx_level)
			out->sgx_level = l;
		if (tdx_higher_or_equal(tee_tcb_svn, l)) {
			out->tdx_level = l;
			break;
		}
	}
	if (!out->sgx_level) {
		snprintf(out->detail, sizeof(out->detail),
		         "no TCB level matches the PCK certificate's SGX TCB components and PCESVN %u", pce_svn);
		out->status = COCOON_TCB_NOT_SUPPORTED;
		return;
	}
	sgx_status = out->sgx_level->status;
	if (!is_tdx) {
		out->platform_status = sgx_status;
		out->status = converge_qe(sgx_status, qe);
		return;
	}
	if (!out->tdx_level) {
		snprintf(out->detail, sizeof(out->detail),
		         "no TCB level matches the quote's TEE_TCB_SVN components%s",
		         tee_tcb_svn[1] > 0 ? " (bytes 0-1 skipped: module version is set)" : "");
		out->status = COCOON_TCB_NOT_SUPPORTED;
		return;
	}
	out->platform_status = out->tdx_level->status;
	mod = module_status(out, ti, quote_version, tee_tcb_svn);
	out->module_status = mod;
	if (out->module_mismatch || mod == COCOON_TCB_NOT_SUPPORTED) {
		out->status = out->module_mismatch ? COCOON_TCB_UNKNOWN : COCOON_TCB_NOT_SUPPORTED;
		return;
	}
	tdx_status = converge_module(out->tdx_level->status, mod);
	if (tdx_status == COCOON_TCB_REVOKED) {
		out->status = tdx_status;
		return;
	}
	if (tee_tcb_svn2) {
		tdx_status = relaunch(ti, tee_tcb_svn2, sgx_status, tdx_status, mod, qe);
		if (tdx_status == COCOON_TCB_UNKNOWN) {
			out->module_mismatch = 1;
			snprintf(out->detail, sizeof(out->detail),
			         "TCB info has no TDX module identity for TEE_TCB_SVN2 module version %u",
			         tee_tcb_svn2[1]);
			out->status = COCOON_TCB_UNKNOWN;
			return;
		}
	}
	out->status = converge_qe(tdx_status, qe);
}
