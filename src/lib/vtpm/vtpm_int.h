/*
 * Internal vTPM interfaces: each layer of the Azure evidence as a step that
 * either passes or fills a cocoon_failure with its own check id.
 */
#ifndef COCOON_VTPM_INT_H
#define COCOON_VTPM_INT_H

#include <openssl/evp.h>
#include "cocoon/vtpm.h"
#include "common/util.h"

/* Offsets inside the HCL report. */
#define HCL_OFF_MAGIC 0x00
#define HCL_OFF_HEADER_VERSION 0x04
#define HCL_OFF_REPORT_SIZE 0x08
#define HCL_OFF_REQUEST_TYPE 0x0C
#define HCL_OFF_STATUS 0x10
#define HCL_OFF_HW_REPORT 0x20
#define HCL_OFF_DATA_SIZE 0x4C0
#define HCL_OFF_IGVM_VERSION 0x4C4
#define HCL_OFF_REPORT_TYPE 0x4C8
#define HCL_OFF_HASH_TYPE 0x4CC
#define HCL_OFF_VAR_DATA_SIZE 0x4D0
#define HCL_IGVM_FIXED 20          /* data_size counts these bytes before the variable data */

/* REPORT_DATA inside the hardware reports. */
#define SNP_OFF_REPORT_DATA 0x50
#define TDREPORT_OFF_TCB_INFO_HASH 32
#define TDREPORT_OFF_TD_INFO_HASH 80
#define TDREPORT_OFF_REPORT_DATA 128
#define TDREPORT_OFF_TEE_TCB_INFO 256
#define TDREPORT_TEE_TCB_INFO_LEN 239
#define TDREPORT_OFF_TD_INFO 512
#define TDREPORT_TD_INFO_LEN 512

/* Limits on decoded evidence fields (far above anything real). */
#define VTPM_MAX_HCL_REPORT (64 * 1024)
#define VTPM_MAX_QUOTE_MSG 2048
#define VTPM_MAX_QUOTE_SIG 1024
#define VTPM_MAX_CERT (64 * 1024)
#define VTPM_MAX_TD_QUOTE (256 * 1024)

/* As cocoon_hcl_report_parse, but a rejection fills f (HCL_REPORT_FORMAT, _TYPE, _HASH_TYPE). */
int cocoon_hcl_parse(cocoon_hcl_report *out, cocoon_failure *f, const uint8_t *buf, size_t len);

/* hash_type's digest of the variable data; *n is its length (32, 48, 64). */
int cocoon_hcl_var_data_digest(uint8_t out[64], size_t *n, const cocoon_hcl_report *h);

/* The REPORT_DATA (64 bytes) of the wrapped SNP report or TDREPORT. */
const uint8_t *cocoon_hcl_report_data(const cocoon_hcl_report *h);

/* Checks digest(variable data) = REPORT_DATA[0:n] (HCL_REPORT_DATA); where names the copy. */
int cocoon_hcl_check_binding(cocoon_failure *f, const cocoon_hcl_report *h, const uint8_t report_data[64],
                             const char *where);

/* What the runtime claims JSON says. */
typedef struct {
	EVP_PKEY *ak;               /* HCLAkPub */
	uint8_t ak_spki_sha256[32];
	cocoon_vtpm_bool secure_boot, tpm_enabled, console_enabled, tpm_persisted;
	char vm_unique_id[128];
	int has_user_data;
	uint8_t user_data[64];
	size_t user_data_len;
} cocoon_runtime_claims;

/* Parses the variable data; rejects with HCL_RUNTIME_CLAIMS. Free with cocoon_runtime_claims_clear. */
int cocoon_runtime_claims_parse(cocoon_runtime_claims *out, cocoon_failure *f, const uint8_t *json, size_t len);
void cocoon_runtime_claims_clear(cocoon_runtime_claims *rc);
/* An RSA public key from JWK n and e (base64url); NULL with the thread's error set. */
EVP_PKEY *cocoon_rsa_from_jwk(const char *n_b64, const char *e_b64);

/*
 * The TPM quote layer, in order: TPMS_ATTEST structure (VTPM_QUOTE_FORMAT),
 * AK signature (VTPM_QUOTE_SIGNATURE), extraData (VTPM_NONCE), the PCR
 * selection (VTPM_PCR_SELECTION) and digest (VTPM_PCR_DIGEST). Fills the
 * claims' PCRs, nonce and firmware version.
 */
int cocoon_tpm_quote_verify(cocoon_failure *f, cocoon_vtpm_claims *c, EVP_PKEY *ak, const cocoon_vtpm_evidence *ev,
                            const uint8_t *nonce, size_t nonce_len);

/* Parses only the TPMS_ATTEST part (fuzzing, inspection); rejects as above. */
int cocoon_tpm_attest_check(cocoon_failure *f, const uint8_t *msg, size_t len);

/*
 * TDX: compares the HCL's TDREPORT with the TD quote, then verifies the
 * quote (with collateral: fully; without: signatures and PCK chain, then a
 * COCOON_CHECK_COLLATERAL rejection saying the TCB status is unverified).
 * Fills result (the verdict) as cocoon_verifier_verify_dcap does.
 */
int cocoon_vtpm_verify_tdx(cocoon_result *result, cocoon_verifier *v, const cocoon_hcl_report *h,
                           const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in,
                           const cocoon_verify_options *opts, int *hw_verified);

#endif
