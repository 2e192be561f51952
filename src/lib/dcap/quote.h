/*
 * DCAP quote layout (Intel SGX ECDSA Quote Library API, TDX DCAP Quote
 * Generation Library API). All multi-byte integers are little-endian.
 *
 *   v3 (SGX):  header(48) | SGX report body(384) | u32 sig_len | sig data
 *   v4 (TDX):  header(48) | TD10 body(584)       | u32 sig_len | sig data
 *   v5:        header(48) | u16 body_type | u32 body_size | body | u32 sig_len | sig data
 *              body_type 1 = SGX(384), 2 = TD10(584), 3 = TD15(648)
 *
 * ECDSA-256 signature data:
 *   sig[64] | attest_pub_key[64] | v3: qe_report(384) | qe_report_sig[64] |
 *   u16 qe_auth_len | qe_auth | u16 cert_type | u32 cert_len | cert_data
 *   v4/v5: u16 cert_type(=6) | u32 cert_len | { qe_report | qe_report_sig |
 *   u16 qe_auth_len | qe_auth | u16 cert_type(1..5) | u32 len | data }
 */
#ifndef COCOON_DCAP_QUOTE_H
#define COCOON_DCAP_QUOTE_H

#include <stddef.h>
#include <stdint.h>
#include "common/util.h"

#define COCOON_QUOTE_HEADER_SIZE 48
#define COCOON_SGX_REPORT_SIZE 384
#define COCOON_TD10_REPORT_SIZE 584
#define COCOON_TD15_REPORT_SIZE 648
#define COCOON_TEE_TYPE_SGX 0x00000000u
#define COCOON_TEE_TYPE_TDX 0x00000081u
#define COCOON_ATT_KEY_ECDSA_P256 2
#define COCOON_CERT_TYPE_PCK_CHAIN 5
#define COCOON_CERT_TYPE_QE_REPORT 6

extern const uint8_t cocoon_intel_qe_vendor_id[16];

typedef struct {
	const uint8_t *ptr;
	size_t len;
} cocoon_slice;

typedef struct {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;      /* v3: the 4 reserved bytes, 0 for SGX */
	uint16_t qe_svn;        /* v3; reserved in v4+ */
	uint16_t pce_svn;       /* v3; reserved in v4+ */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
} cocoon_quote_header;

typedef struct {
	uint8_t cpu_svn[16];
	uint32_t misc_select;
	uint8_t reserved1[12];
	uint8_t isv_ext_prod_id[16];
	uint8_t attributes[16];
	uint8_t mr_enclave[32];
	uint8_t reserved2[32];
	uint8_t mr_signer[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t reserved4[42];
	uint8_t isv_family_id[16];
	uint8_t report_data[64];
} cocoon_sgx_report;

typedef struct {
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16];   /* TD15 only */
	uint8_t mr_service_td[48];  /* TD15 only */
} cocoon_td_report;

typedef enum {
	COCOON_BODY_SGX = 1,
	COCOON_BODY_TD10 = 2,
	COCOON_BODY_TD15 = 3
} cocoon_body_type;

typedef struct {
	cocoon_quote_header header;
	cocoon_body_type body_type;   /* derived for v3/v4; declared for v5 */
	uint32_t body_size;
	cocoon_sgx_report sgx;        /* valid when body_type == SGX */
	cocoon_td_report td;          /* valid when body_type == TD10/TD15 */
	cocoon_slice signed_data;     /* header .. end of body: what the quote signature covers */
	uint32_t sig_data_len;        /* declared */
	uint8_t signature[64];        /* r || s, big-endian */
	uint8_t attest_key[64];       /* x || y */
	uint16_t outer_cert_type;     /* v3: the certification data type; v4/v5: 6 */
	uint32_t outer_cert_len;
	cocoon_sgx_report qe_report;
	cocoon_slice qe_report_raw;   /* the 384 bytes the QE report signature covers */
	uint8_t qe_report_sig[64];
	cocoon_slice qe_auth_data;
	uint16_t cert_type;           /* innermost type: 1..5 */
	cocoon_slice cert_data;       /* type 5: PEM PCK chain, leaf first */
	size_t trailing;              /* bytes after the declared signature data: ignored */
	cocoon_slice raw;
} cocoon_quote;

/*
 * Parses and bounds-checks a quote. `out` points into buf, which must stay
 * alive. On failure returns COCOON_EREJECT with f filled (check
 * QUOTE_FORMAT, QUOTE_VERSION, ATTESTATION_KEY_TYPE, TEE_TYPE or
 * CERTIFICATION_DATA) and a reason naming the field and offset; `out` then
 * holds only the fields decoded before the failing one. The QE
 * vendor ID is not checked here (verification does it) so that inspect can
 * decode any quote.
 */
int cocoon_quote_parse(cocoon_quote *out, cocoon_failure *f, const uint8_t *buf, size_t len);

/* Decoders for the fixed-size report structures; p has exactly the size. */
void cocoon_sgx_report_decode(cocoon_sgx_report *out, const uint8_t *p);
void cocoon_td_report_decode(cocoon_td_report *out, const uint8_t *p, cocoon_body_type type);
/* The normalized SGX or TDX claims of a verified quote into r (sets has_claims). */
struct cocoon_result;
void cocoon_quote_claims_fill(struct cocoon_result *r, const cocoon_quote *q);

#endif
