/*
 * TCB info (v2 SGX, v3 SGX/TDX) and enclave identity (v2: QE, TD_QE, QVE)
 * as signed by Intel's TCB Signing key. Parsed with jansson, strictly:
 * missing or ill-typed fields are COCOON_EFORMAT naming the field.
 */
#ifndef COCOON_DCAP_TCBINFO_H
#define COCOON_DCAP_TCBINFO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cocoon/verify.h"

#define COCOON_ADVISORY_MAX 64

typedef struct {
	size_t n;
	char (*ids)[32];          /* n advisory IDs, each NUL-terminated */
} cocoon_advisories;

typedef struct {
	uint8_t sgx[16];          /* sgxtcbcomponents[].svn (or sgxtcbcompNNsvn in v2) */
	uint8_t tdx[16];          /* tdxtcbcomponents[].svn (TDX only) */
	uint16_t pce_svn;
	cocoon_tcb_status status;
	time_t tcb_date;
	cocoon_advisories advisories;
} cocoon_tcb_level;

typedef struct {
	uint16_t isvsvn;
	cocoon_tcb_status status;
	time_t tcb_date;
	cocoon_advisories advisories;
} cocoon_isv_tcb_level;

typedef struct {
	char id[16];              /* e.g. "TDX_01" */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	size_t n_levels;
	cocoon_isv_tcb_level *levels; /* sorted by isvsvn, highest first */
} cocoon_tdx_module_identity;

typedef struct {
	int is_tdx;               /* id == "TDX" */
	unsigned version;         /* 2 or 3 */
	time_t issue_date;
	time_t next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	unsigned tcb_type;
	uint32_t tcb_eval_data_number;
	int has_tdx_module;
	uint8_t module_mrsigner[48];
	uint8_t module_attributes[8];
	uint8_t module_attributes_mask[8];
	size_t n_module_identities;
	cocoon_tdx_module_identity *module_identities;
	size_t n_levels;
	cocoon_tcb_level *levels; /* canonical order (Intel's TcbLevel::operator>), best first */
} cocoon_tcb_info;

typedef enum { COCOON_QEID_QE = 1, COCOON_QEID_TD_QE = 2, COCOON_QEID_QVE = 3 } cocoon_qe_identity_id;

typedef struct {
	cocoon_qe_identity_id id;
	unsigned version;
	time_t issue_date;
	time_t next_update;
	uint32_t tcb_eval_data_number;
	uint32_t miscselect;
	uint32_t miscselect_mask;
	uint8_t attributes[16];
	uint8_t attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	size_t n_levels;
	cocoon_isv_tcb_level *levels; /* sorted by isvsvn, highest first */
} cocoon_qe_identity;

/* Parses the exact tcbInfo JSON object bytes. */
int cocoon_tcb_info_parse(cocoon_tcb_info **out, const char *json, size_t len);
void cocoon_tcb_info_free(cocoon_tcb_info *t);

/* Parses the exact enclaveIdentity JSON object bytes. */
int cocoon_qe_identity_parse(cocoon_qe_identity **out, const char *json, size_t len);
void cocoon_qe_identity_free(cocoon_qe_identity *q);

/* ISO 8601 "YYYY-MM-DDThh:mm:ssZ" (as Intel writes dates) to time_t. */
int cocoon_intel_date_parse(time_t *out, const char *s);

#endif
