/*
 * cocoon: Azure confidential-VM evidence, where a paravisor (the HCL) wraps
 * the hardware report and a vTPM signs the freshness: Trustee's tees
 * "az-snp-vtpm" and "az-tdx-vtpm".
 *
 *   HCL report (NV 0x01400001)  header "HCLA" | SNP report or TDREPORT |
 *                               IGVM request data | runtime-claims JSON
 *   binding                     hash(runtime claims) = REPORT_DATA prefix
 *                               (SNP report; TDX: the TD quote's REPORTDATA)
 *   runtime claims              HCLAkPub (the vTPM AK, RSA JWK),
 *                               vm-configuration, user-data, vmUniqueId
 *   TPM2 quote                  TPMS_ATTEST signed by the AK; extraData = the
 *                               verifier's nonce; pcrDigest = H(PCR values)
 *
 * Every step has its own cocoon_check id (the "Azure vTPM" block of
 * include/cocoon/verify.h), so a rejection names the layer that failed.
 * Formats, sources and the checks Trustee skips: docs/evidence.md.
 */
#ifndef COCOON_VTPM_H
#define COCOON_VTPM_H

#include "common.h"
#include "verify.h"
#include "dcap.h"
#include "snp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed layout of the HCL report (little-endian). */
#define COCOON_HCL_HEADER_SIZE 0x20
#define COCOON_HCL_HW_REPORT_SIZE 1184      /* SNP report, or TDREPORT (1024) + zero padding */
#define COCOON_HCL_TD_REPORT_SIZE 1024
#define COCOON_HCL_VAR_DATA_OFFSET 0x4D4
#define COCOON_HCL_MIN_SIZE 0x4D4           /* 1236: everything before the variable data */
#define COCOON_HCL_REPORT_TYPE_SNP 2
#define COCOON_HCL_REPORT_TYPE_TDX 4
#define COCOON_HCL_HASH_SHA256 1
#define COCOON_HCL_HASH_SHA384 2
#define COCOON_HCL_HASH_SHA512 3

/* A parsed HCL report; pointers point into the parsed buffer. */
typedef struct {
	uint32_t header_version;    /* 1 or 2 in real reports */
	uint32_t report_size;
	uint32_t request_type;
	uint32_t status;
	const uint8_t *hw_report;   /* 1184 bytes at 0x20 */
	uint32_t data_size;         /* 20 + var_data_len */
	uint32_t igvm_version;
	uint32_t report_type;       /* COCOON_HCL_REPORT_TYPE_* */
	uint32_t hash_type;         /* COCOON_HCL_HASH_* */
	const uint8_t *var_data;    /* the runtime-claims JSON, exactly as hashed */
	size_t var_data_len;
	size_t len;                 /* the whole buffer (zero-filled after the variable data) */
} cocoon_hcl_report;

/*
 * Parses and bounds-checks an HCL report: the "HCLA" magic, a report type
 * of 2 (SNP) or 4 (TDX), a hash type of 1..3, the variable data inside the
 * buffer and consistent with report_size and data_size. COCOON_EFORMAT
 * names the field and offset.
 */
COCOON_API int cocoon_hcl_report_parse(cocoon_hcl_report *out, const uint8_t *buf, size_t len);

typedef enum {
	COCOON_VTPM_FORMAT_UNKNOWN = 0,
	COCOON_VTPM_FORMAT_AZ_SNP = 1,   /* "az-snp-vtpm" */
	COCOON_VTPM_FORMAT_AZ_TDX = 2    /* "az-tdx-vtpm" */
} cocoon_vtpm_format;

/* "az-snp-vtpm" / "az-tdx-vtpm"; parse returns COCOON_EINVAL for other names. */
COCOON_API const char *cocoon_vtpm_format_name(cocoon_vtpm_format f);
COCOON_API int cocoon_vtpm_format_parse(cocoon_vtpm_format *out, const char *name);

#define COCOON_VTPM_MAX_PCRS 24

/* Evidence as guest-components' attesters emit it (v0, v1, v2), decoded. */
typedef struct {
	cocoon_vtpm_format format;
	int version;                /* 0 (no "version" key), 1 or 2 */
	uint8_t *hcl_report;
	size_t hcl_report_len;
	uint8_t *quote_msg;         /* marshalled TPMS_ATTEST */
	size_t quote_msg_len;
	uint8_t *quote_sig;         /* raw RSASSA signature */
	size_t quote_sig_len;
	size_t n_pcrs;              /* SHA-256 bank values in selection order */
	uint8_t pcrs[COCOON_VTPM_MAX_PCRS][32];
	uint8_t *vcek;              /* SNP: PEM (v0) or DER (v1+) */
	size_t vcek_len;
	uint8_t *td_quote;          /* TDX: DCAP quote v4/v5 */
	size_t td_quote_len;
} cocoon_vtpm_evidence;

/*
 * Parses evidence JSON of the given format, picking the version as Trustee
 * does (v2, then v1, then v0; unknown keys ignored). COCOON_EFORMAT names
 * the key and what was wrong. Free with cocoon_vtpm_evidence_free.
 */
COCOON_API int cocoon_vtpm_evidence_parse(cocoon_vtpm_evidence **out, cocoon_vtpm_format format, const char *json,
                                          size_t len);
COCOON_API void cocoon_vtpm_evidence_free(cocoon_vtpm_evidence *e);
/*
 * Writes evidence as the current attesters do (v2: base64url with padding
 * for the HCL report, VCEK and TD quote, hex for the TPM quote), whatever
 * e->version says. Caller frees.
 */
COCOON_API int cocoon_vtpm_evidence_to_json(char **out, const cocoon_vtpm_evidence *e);

/*
 * What the verifier knows besides the evidence. Initialise with
 * COCOON_VTPM_INPUTS_INIT. Buffers are borrowed for the call.
 */
typedef struct {
	unsigned int version;
	const uint8_t *nonce;       /* expected TPM extraData (KBS: the runtime-data hash); required */
	size_t nonce_len;           /* 1..64 */
	int check_user_data;        /* -1: when the evidence is v2 (Trustee); 0 never; 1 always */
	/* SNP */
	const uint8_t *amd_chain;   /* ASK+ARK PEM; NULL: the embedded AMD roots */
	size_t amd_chain_len;
	const uint8_t *amd_crl;     /* optional, fail-closed when given */
	size_t amd_crl_len;
	const cocoon_snp_policy *snp_policy; /* NULL: defaults with VMPL 0 (the HCL runs the guest at VMPL 0) */
	/* TDX */
	const cocoon_collateral *tdx_collateral; /* NULL: the TCB status stays unverified and the result rejects */
} cocoon_vtpm_inputs;

#define COCOON_VTPM_INPUTS_VERSION 1
#define COCOON_VTPM_INPUTS_INIT                                                                                \
	{                                                                                                      \
		.version = COCOON_VTPM_INPUTS_VERSION, .nonce = NULL, .nonce_len = 0, .check_user_data = -1, \
		.amd_chain = NULL, .amd_chain_len = 0, .amd_crl = NULL, .amd_crl_len = 0, .snp_policy = NULL, \
		.tdx_collateral = NULL                                                                          \
	}

/* A boolean claim that may be absent from the runtime claims. */
typedef enum { COCOON_VTPM_ABSENT = -1, COCOON_VTPM_FALSE = 0, COCOON_VTPM_TRUE = 1 } cocoon_vtpm_bool;

/* The vTPM layer's claims (the SNP/TDX claims stay in cocoon_result). */
typedef struct {
	cocoon_vtpm_format format;
	int evidence_version;
	uint32_t hcl_header_version;
	uint32_t hash_type;
	size_t n_pcrs;
	uint32_t pcr_index[COCOON_VTPM_MAX_PCRS]; /* PCR number of each value, from the quote's selection */
	uint8_t pcrs[COCOON_VTPM_MAX_PCRS][32];
	uint8_t tpm_nonce[64];      /* the quote's extraData */
	size_t tpm_nonce_len;
	int has_user_data;
	uint8_t user_data[64];
	size_t user_data_len;
	int user_data_checked;
	cocoon_vtpm_bool secure_boot, tpm_enabled, console_enabled, tpm_persisted;
	char vm_unique_id[128];     /* empty when absent */
	uint8_t ak_pub_sha256[32];  /* SHA-256 of the AK's SubjectPublicKeyInfo DER */
	uint64_t tpm_firmware_version;
	int hw_verified;            /* the hardware report (SNP / full TD quote) verified */
} cocoon_vtpm_claims;

/*
 * Verifies parsed evidence at opts->at (0: now). Returns 0 when it reached
 * a verdict (result->accepted; result->failed_check names the layer), or a
 * negative error when it could not run. result carries the SNP or TDX claims
 * as cocoon_verifier_verify_snp/_dcap fill them, claims the vTPM ones. TDX
 * evidence without in->tdx_collateral is rejected with
 * COCOON_CHECK_COLLATERAL after every other check passed: the reason says
 * that the TCB status is unverified. claims may be NULL.
 */
COCOON_API int cocoon_verifier_verify_vtpm(cocoon_result *result, cocoon_vtpm_claims *claims, cocoon_verifier *v,
                                           const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in,
                                           const cocoon_verify_options *opts);

/* Parses then verifies; malformed JSON is a verdict (COCOON_CHECK_VTPM_EVIDENCE_FORMAT). */
COCOON_API int cocoon_verifier_verify_vtpm_json(cocoon_result *result, cocoon_vtpm_claims *claims,
                                                cocoon_verifier *v, cocoon_vtpm_format format, const char *json,
                                                size_t len, const cocoon_vtpm_inputs *in,
                                                const cocoon_verify_options *opts);

/*
 * Adds the vTPM claims to a jansson object (json_t *): "format",
 * "evidence_version", "tpm" {"pcr00": hex, ...}, "report_data" (hex of the
 * TPM extraData), "user_data", "vm_configuration" {secure_boot,
 * tpm_enabled, console_enabled, tpm_persisted}, "vm_unique_id",
 * "ak_pub_sha256", "hcl" {header_version, hash_type}, "hw_verified".
 */
COCOON_API int cocoon_vtpm_claims_to_json(void *json_object, const cocoon_vtpm_claims *c);

/*
 * The whole verdict as one JSON object: cocoon_result_to_json's, plus
 * "format", a "vtpm" object inside "claims" (accepted evidence only) and
 * "tcb_status_verified" (false for TDX evidence without collateral).
 */
COCOON_API int cocoon_vtpm_result_to_json(char **out, const cocoon_result *r, const cocoon_vtpm_claims *c);

/*
 * Collection on an Azure CVM guest through the vTPM (tpm2-tss ESAPI): writes
 * the report data to NV 0x01400002, waits for the paravisor to refresh the
 * HCL report, reads it from NV 0x01400001 (owner auth), quotes SHA-256 PCRs
 * 0..23 with the AK at 0x81000003 (its own scheme, RSASSA-SHA256) and reads
 * the PCR values. Initialise with COCOON_VTPM_COLLECT_OPTIONS_INIT.
 */
typedef struct {
	unsigned int version;
	const char *tcti;              /* NULL: "device:/dev/tpmrm0"; e.g. "swtpm:host=127.0.0.1,port=2321" */
	const uint8_t *report_data;    /* 1..64 bytes: NV 0x01400002 and the quote's extraData, as given */
	size_t report_data_len;
	unsigned int refresh_delay_ms; /* between the NV write and the HCL read; 0: none */
	const uint8_t *vcek;           /* az-snp-vtpm: the VCEK, DER or PEM; NULL: fetched from IMDS THIM */
	size_t vcek_len;
	const char *imds_thim_url;     /* NULL: COCOON_VTPM_IMDS_THIM_URL (tests point it at loopback) */
	const char *imds_tdquote_url;  /* az-tdx-vtpm; NULL: COCOON_VTPM_IMDS_TDQUOTE_URL */
} cocoon_vtpm_collect_options;

#define COCOON_VTPM_IMDS_THIM_URL "http://169.254.169.254/metadata/THIM/amd/certification"
#define COCOON_VTPM_IMDS_TDQUOTE_URL "http://169.254.169.254/acc/tdquote"

#define COCOON_VTPM_COLLECT_OPTIONS_VERSION 1
#define COCOON_VTPM_REFRESH_DELAY_MS 3000 /* what guest-components waits */
#define COCOON_VTPM_COLLECT_OPTIONS_INIT \
	{ .version = COCOON_VTPM_COLLECT_OPTIONS_VERSION, .refresh_delay_ms = COCOON_VTPM_REFRESH_DELAY_MS }

#define COCOON_VTPM_NV_HCL_REPORT 0x01400001u
#define COCOON_VTPM_NV_REPORT_DATA 0x01400002u
#define COCOON_VTPM_AK_HANDLE 0x81000003u

/*
 * Collects v2 evidence; the format follows the HCL report type. SNP: the
 * VCEK from o->vcek or IMDS THIM; TDX: the TD quote that IMDS makes from the
 * HCL report's TDREPORT. Errors name the TPM command and its response code,
 * or the IMDS call.
 */
COCOON_API int cocoon_vtpm_collect(cocoon_vtpm_evidence **out, const cocoon_vtpm_collect_options *o);

#ifdef __cplusplus
}
#endif
#endif
