/*
 * cocoon: the appraisal pipeline. One entry point takes raw evidence (an SGX
 * or TDX quote, an SEV-SNP report, an Open Enclave or MAA envelope), finds
 * its collateral, verifies it, checks that the runtime data and init data
 * are bound to it, builds MAA's claims and evaluates an MAA policy over
 * them. Every binary (cocoon verify, cocoon-attestd, the key broker) calls
 * it; none of them parses evidence or builds claims itself.
 *
 * Collateral comes from a cocoon_collateral_source: in memory, a directory
 * of Intel PCS responses, or a caller's callbacks (attestd's database).
 */
#ifndef COCOON_ATTEST_H
#define COCOON_ATTEST_H

#include <jansson.h>
#include "common.h"
#include "verify.h"
#include "dcap.h"
#include "policy.h"
#include "snp.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- collateral sources ---- */

typedef struct cocoon_collateral_source cocoon_collateral_source;

/*
 * A caller's collateral store. dcap: collateral for tee (SGX or TDX) and
 * fmspc (12 lowercase hex characters; NULL when the quote carries no PCK
 * certificate); *out stays owned by the callee and must live until the
 * appraisal returns. snp: the VCEK/VLEK (DER or PEM) for a chip (CHIP_ID,
 * 64 bytes) and its REPORTED_TCB, and optionally the ASK+ARK chain (PEM).
 * Return 0, COCOON_ENOTFOUND with a message that says what to import, or
 * another error. A NULL callback means the source has no such collateral.
 */
typedef struct {
	unsigned int version;
	int (*dcap)(const cocoon_collateral **out, void *ctx, cocoon_tee tee, const char *fmspc);
	int (*snp)(const uint8_t **vcek, size_t *vcek_len, const uint8_t **chain, size_t *chain_len, void *ctx,
	           const uint8_t chip_id[64], uint64_t reported_tcb);
	void *ctx;
} cocoon_collateral_callbacks;

#define COCOON_COLLATERAL_CALLBACKS_VERSION 1
#define COCOON_COLLATERAL_CALLBACKS_INIT { .version = COCOON_COLLATERAL_CALLBACKS_VERSION }

/* An empty in-memory source. */
COCOON_API int cocoon_collateral_source_new(cocoon_collateral_source **out);
/* A source over callbacks (copied; ctx is borrowed). */
COCOON_API int cocoon_collateral_source_new_callbacks(cocoon_collateral_source **out,
                                                      const cocoon_collateral_callbacks *cb);
/* A source holding the collateral of one PCS-format directory (cocoon_collateral_from_dir). */
COCOON_API int cocoon_collateral_source_new_dir(cocoon_collateral_source **out, const char *dir);
COCOON_API void cocoon_collateral_source_free(cocoon_collateral_source *s);

/*
 * Adds DCAP collateral to an in-memory source, which takes ownership (also
 * on failure). Lookups prefer the entry whose TCB info names the quote's
 * TEE and FMSPC; otherwise the first entry is used, so that the verifier
 * names the mismatch (fmspc, tcb_info_mismatch) instead of "no collateral".
 */
COCOON_API int cocoon_collateral_source_add_dcap(cocoon_collateral_source *s, cocoon_collateral *c);

/* SEV-SNP endorsements for an in-memory source; every buffer is copied, any may be NULL. */
typedef struct {
	unsigned int version;
	const uint8_t *vcek;        /* VCEK or VLEK, DER or PEM */
	size_t vcek_len;
	const uint8_t *chain;       /* PEM ASK+ARK: the AMD roots to trust; NULL: the built-in ones */
	size_t chain_len;
	const uint8_t *crl;         /* AMD KDS CRL: revocation is then checked */
	size_t crl_len;
	const uint8_t *certs;       /* an extended report's certificate table */
	size_t certs_len;
	const char *product;        /* "Milan", "Genoa", "Turin"; NULL: from the report or the VCEK */
} cocoon_snp_collateral;

#define COCOON_SNP_COLLATERAL_VERSION 1
#define COCOON_SNP_COLLATERAL_INIT { .version = COCOON_SNP_COLLATERAL_VERSION }

/* Sets the SNP endorsements of an in-memory source (replacing earlier ones). */
COCOON_API int cocoon_collateral_source_set_snp(cocoon_collateral_source *s, const cocoon_snp_collateral *snp);

/*
 * Reads a directory of Intel PCS/PCCS v4 responses: tcb_info.json,
 * tcb_info_issuer_chain.pem, qe_identity.json, [qe_identity_issuer_chain.pem],
 * pck_crl.{der,pem}, pck_crl_issuer_chain.pem, root_ca_crl.{der,pem}.
 * A missing file is COCOON_EIO naming it.
 */
COCOON_API int cocoon_collateral_from_dir(cocoon_collateral **out, const char *dir);

/* The TEE ("sgx"/"tdx"), FMSPC (lowercase hex) and nextUpdate named by collateral's TCB info. */
COCOON_API int cocoon_collateral_describe(char tee[4], char fmspc[13], time_t *next_update,
                                          const cocoon_collateral *c);

/* ---- the appraisal ---- */

typedef enum {
	COCOON_ATTEST_FORMAT_AUTO = 0,   /* sniffed from the bytes */
	COCOON_ATTEST_FORMAT_SGX,        /* DCAP quote of an SGX enclave */
	COCOON_ATTEST_FORMAT_TDX,        /* DCAP quote of a TD */
	COCOON_ATTEST_FORMAT_SNP,        /* SEV-SNP attestation report (1184 bytes) */
	COCOON_ATTEST_FORMAT_OE,         /* Open Enclave report: oe_report_header_t + SGX quote (or a bare quote) */
	COCOON_ATTEST_FORMAT_MAA_SNP     /* MAA's SevSnpVm JSON {"SnpReport", "VcekCertChain"} (or a bare report) */
} cocoon_attest_format;

/* "auto", "sgx", "tdx", "snp", "oe", "maa-snp". */
COCOON_API const char *cocoon_attest_format_name(cocoon_attest_format f);
/* Parses those names; COCOON_EINVAL for anything else. */
COCOON_API int cocoon_attest_format_parse(cocoon_attest_format *out, const char *name);
/* The format bytes most look like (what AUTO picks); AUTO when they look like none. */
COCOON_API cocoon_attest_format cocoon_attest_format_detect(const uint8_t *buf, size_t len);

/* How data is bound to a field the TEE signed (REPORT_DATA, HOST_DATA, MRCONFIGID, CONFIGID). */
typedef enum {
	COCOON_BIND_NONE = 0,       /* the data itself, zero-padded to the field's size */
	COCOON_BIND_SHA256,         /* its digest, zero-padded to the field's size */
	COCOON_BIND_SHA384,
	COCOON_BIND_SHA512,
	COCOON_BIND_MAA             /* MAA: SHA-256 of the data equals the field's first 32 bytes */
} cocoon_bind_hash;

/* Which field init data binds to. AUTO: HOST_DATA (SNP), MRCONFIGID (TDX), CONFIGID (SGX). */
typedef enum {
	COCOON_INIT_FIELD_AUTO = 0,
	COCOON_INIT_FIELD_SNP_HOST_DATA,
	COCOON_INIT_FIELD_TDX_MRCONFIGID,
	COCOON_INIT_FIELD_SGX_CONFIGID
} cocoon_init_field;

/* What to appraise. Every buffer is borrowed for the call. */
typedef struct {
	unsigned int version;
	const uint8_t *evidence;
	size_t evidence_len;
	cocoon_attest_format format;
	const uint8_t *runtime_data;    /* NULL: not bound */
	size_t runtime_data_len;
	cocoon_bind_hash runtime_hash;
	int runtime_data_json;          /* the data is a JSON object: also the claim x-ms-runtime */
	const uint8_t *init_data;       /* NULL: not bound */
	size_t init_data_len;
	cocoon_bind_hash init_hash;
	cocoon_init_field init_field;
	int init_data_json;             /* the data is a JSON object: also the claim x-ms-inittime */
	const char *runtime_data_label; /* how messages name them; NULL: "runtime data", "init data" */
	const char *init_data_label;
	cocoon_collateral_source *collateral; /* NULL: none (SNP evidence may carry its VCEK) */
} cocoon_attest_input;

#define COCOON_ATTEST_INPUT_VERSION 1
#define COCOON_ATTEST_INPUT_INIT { .version = COCOON_ATTEST_INPUT_VERSION }

typedef struct {
	unsigned int version;
	cocoon_verify_options verify;       /* time, debug and TD attribute relaxations */
	const cocoon_snp_policy *snp_policy; /* NULL: the defaults (verify.allow_debug still applies) */
	const cocoon_policy *policy;        /* MAA policy; NULL: none (no policy verdict, no issued claims) */
	/*
	 * Development only: evidence that chains to a simulation root is verified
	 * again with this verifier (made with trust_simulation) and collateral
	 * source, whose SNP chain and CRL are the only ones trusted then.
	 */
	cocoon_verifier *sim_verifier;
	cocoon_collateral_source *sim_collateral;
} cocoon_attest_options;

#define COCOON_ATTEST_OPTIONS_VERSION 1
#define COCOON_ATTEST_OPTIONS_INIT \
	{ .version = COCOON_ATTEST_OPTIONS_VERSION, .verify = COCOON_VERIFY_OPTIONS_INIT }

typedef enum {
	COCOON_VERDICT_ACCEPT = 0,  /* verified, bound and permitted by the policy */
	COCOON_VERDICT_REJECT,      /* a check failed: see failed_check and reason */
	COCOON_VERDICT_DENY         /* verified, but the MAA policy did not permit it */
} cocoon_verdict;

/* "accept", "reject", "deny". */
COCOON_API const char *cocoon_verdict_name(cocoon_verdict v);

typedef struct cocoon_attest_result {
	cocoon_verdict verdict;
	cocoon_check failed_check;  /* COCOON_CHECK_NONE when accepted */
	char reason[1024];          /* what failed, where, and what to do */
	cocoon_attest_format format; /* as detected */
	cocoon_tee tee;
	cocoon_tcb_status tcb_status;
	int simulated;              /* evidence chained to a trusted simulation root */
	/*
	 * MAA's incoming claims (x-ms-ver, the TEE's claims, x-ms-runtime,
	 * x-ms-inittime) plus those the policy issued; NULL when verification
	 * rejected the evidence. Owned by the result.
	 */
	json_t *claims;
	int token_lifetime;         /* seconds from the policy's report_validity_in_minutes; 0: unset */
	cocoon_result verification; /* the verifier's full result */
} cocoon_attest_result;

/*
 * Appraises evidence. Returns 0 when the pipeline reached a verdict (see
 * (*out)->verdict; malformed evidence is a reject naming the format's
 * check), or a negative error when it could not run: COCOON_ENOTFOUND when
 * no collateral is known for well-formed evidence (the message names the
 * FMSPC or chip), COCOON_EFORMAT for runtime/init data that is not the
 * JSON it claims to be, COCOON_ENOMEM, COCOON_EINVAL. Free *out with
 * cocoon_attest_result_free.
 */
COCOON_API int cocoon_attest_appraise(cocoon_attest_result **out, cocoon_verifier *v, const cocoon_attest_input *in,
                                      const cocoon_attest_options *opts);
COCOON_API void cocoon_attest_result_free(cocoon_attest_result *r);

/* The result as one JSON object: the verifier's result JSON plus "verdict", "format" and "maa_claims". */
COCOON_API int cocoon_attest_result_to_json(char **out, const cocoon_attest_result *r);

#ifdef __cplusplus
}
#endif
#endif
