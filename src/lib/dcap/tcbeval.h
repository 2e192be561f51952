/*
 * TCB level matching and status convergence, as Intel's QVL does it
 * (TcbLevelCheck.cpp, TdxModuleCheck.cpp, TDRelaunchCheck.cpp). Pure
 * functions over parsed inputs, so every path is unit-testable.
 */
#ifndef COCOON_DCAP_TCBEVAL_H
#define COCOON_DCAP_TCBEVAL_H

#include <stdint.h>
#include "dcap/tcbinfo.h"

/* QE identity outcome (Intel's STATUS_SGX_ENCLAVE_REPORT_ISVSVN_*). */
typedef enum {
	COCOON_QE_TCB_OK = 0,
	COCOON_QE_TCB_OUT_OF_DATE,
	COCOON_QE_TCB_REVOKED,
	COCOON_QE_TCB_NOT_SUPPORTED
} cocoon_qe_tcb;

typedef struct {
	cocoon_tcb_status status;          /* converged */
	cocoon_tcb_status platform_status; /* matched SGX level (SGX) or TDX level (TDX) */
	cocoon_tcb_status module_status;   /* TDX module identity level; UNKNOWN for SGX */
	const cocoon_tcb_level *sgx_level;
	const cocoon_tcb_level *tdx_level;
	const cocoon_isv_tcb_level *module_level;
	int module_mismatch;               /* no TDX module identity for the module version */
	char detail[256];                  /* why NotSupported / mismatch */
} cocoon_tcb_eval;

/* The first QE identity level whose isvsvn <= qe_isvsvn. */
cocoon_qe_tcb cocoon_qe_tcb_evaluate(const cocoon_qe_identity *qe, uint16_t qe_isvsvn,
                                     const cocoon_isv_tcb_level **matched);

/* TDX module identity "TDX_%02X" for a module version, or NULL. */
const cocoon_tdx_module_identity *cocoon_tdx_module_find(const cocoon_tcb_info *ti, uint8_t version);

/*
 * Matches the PCK's TCB (comp_svn, pce_svn) and, for TDX, TEE_TCB_SVN
 * (tee_tcb_svn2 for TD 1.5, else NULL) against ti's canonical levels, then
 * converges with the module and QE statuses.
 */
void cocoon_tcb_evaluate(cocoon_tcb_eval *out, const cocoon_tcb_info *ti, const uint8_t comp_svn[16],
                         uint16_t pce_svn, int is_tdx, int quote_version, const uint8_t *tee_tcb_svn,
                         const uint8_t *tee_tcb_svn2, cocoon_qe_tcb qe);

#endif
