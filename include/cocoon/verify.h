/*
 * cocoon: evidence verification results and the verifier object.
 *
 * A cocoon_verifier holds the trust anchors and the caches of verified
 * collateral and platform data. It is safe to share between threads.
 */
#ifndef COCOON_VERIFY_H
#define COCOON_VERIFY_H

#include "common.h"
#include "snp_claims.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TCB statuses, named as Intel names them. */
typedef enum {
	COCOON_TCB_UNKNOWN = 0,
	COCOON_TCB_UP_TO_DATE,
	COCOON_TCB_SW_HARDENING_NEEDED,
	COCOON_TCB_CONFIGURATION_NEEDED,
	COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	COCOON_TCB_OUT_OF_DATE,
	COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	COCOON_TCB_TD_RELAUNCH_ADVISED,
	COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
	COCOON_TCB_REVOKED,
	COCOON_TCB_NOT_SUPPORTED
} cocoon_tcb_status;

/* "UpToDate", "OutOfDate", ...; "Unknown" for COCOON_TCB_UNKNOWN. */
COCOON_API const char *cocoon_tcb_status_name(cocoon_tcb_status s);
/* Parses Intel's status names; returns COCOON_EFORMAT for anything else. */
COCOON_API int cocoon_tcb_status_parse(cocoon_tcb_status *out, const char *name);

/*
 * The check that rejected the evidence. Names are stable: they appear in
 * the CLI's JSON as "failed_check" and other tools match on them.
 */
typedef enum {
	COCOON_CHECK_NONE = 0,
	COCOON_CHECK_QUOTE_FORMAT,          /* lengths, sizes, structure */
	COCOON_CHECK_QUOTE_VERSION,
	COCOON_CHECK_ATTESTATION_KEY_TYPE,
	COCOON_CHECK_TEE_TYPE,
	COCOON_CHECK_QE_VENDOR_ID,
	COCOON_CHECK_CERTIFICATION_DATA,
	COCOON_CHECK_PCK_CHAIN,             /* signatures, issuer DNs, validity, CA flags, pinned root */
	COCOON_CHECK_PCK_PROFILE,           /* X.509 profile and subject CNs */
	COCOON_CHECK_PCK_EXTENSIONS,
	COCOON_CHECK_ROOT_CA_CRL,
	COCOON_CHECK_PCK_CRL,
	COCOON_CHECK_CERT_REVOKED,
	COCOON_CHECK_TCB_INFO_FORMAT,
	COCOON_CHECK_TCB_INFO_CHAIN,
	COCOON_CHECK_TCB_INFO_SIGNATURE,
	COCOON_CHECK_TCB_INFO_VALIDITY,
	COCOON_CHECK_TCB_INFO_MISMATCH,     /* id/version versus the quote's TEE */
	COCOON_CHECK_FMSPC,
	COCOON_CHECK_PCEID,
	COCOON_CHECK_QE_IDENTITY_FORMAT,
	COCOON_CHECK_QE_IDENTITY_CHAIN,
	COCOON_CHECK_QE_IDENTITY_SIGNATURE,
	COCOON_CHECK_QE_IDENTITY_VALIDITY,
	COCOON_CHECK_QE_IDENTITY_MISMATCH,  /* id/version versus the quote's TEE */
	COCOON_CHECK_QE_REPORT_SIGNATURE,
	COCOON_CHECK_QE_REPORT_DATA,        /* attestation key hash binding */
	COCOON_CHECK_QE_REPORT_IDENTITY,    /* MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES */
	COCOON_CHECK_QE_TCB,
	COCOON_CHECK_QUOTE_SIGNATURE,
	COCOON_CHECK_TDX_MODULE,
	COCOON_CHECK_TCB_LEVEL,             /* no TCB level matches: TCB not supported */
	COCOON_CHECK_TCB_REVOKED,
	COCOON_CHECK_COLLATERAL,            /* collateral missing or unusable */
	COCOON_CHECK_APPRAISAL_SGX_DEBUG,
	COCOON_CHECK_APPRAISAL_TD_DEBUG,
	COCOON_CHECK_APPRAISAL_TD_ATTRIBUTES,
	COCOON_CHECK_APPRAISAL_TD_SEPT_VE_DISABLE,
	COCOON_CHECK_APPRAISAL_TD_SERVICE_TD,
	COCOON_CHECK_SIMULATION_ROOT,       /* evidence chains to an untrusted simulation root */
	/* AMD SEV-SNP */
	COCOON_CHECK_SNP_REPORT_FORMAT,     /* length, version, reserved fields, signature algorithm */
	COCOON_CHECK_SNP_SIGNATURE,         /* P-384 report signature; unsigned report */
	COCOON_CHECK_SNP_VCEK_CHAIN,        /* ARK/ASK/VCEK signatures, validity, CA flags, algorithms */
	COCOON_CHECK_SNP_VCEK_PROFILE,      /* DN profile, key type, KDS extensions, signer kind */
	COCOON_CHECK_SNP_CRL,               /* CRL unparsable, not signed by the ARK, stale */
	COCOON_CHECK_SNP_CERT_REVOKED,      /* ASK/ASVK or VCEK/VLEK listed in the CRL */
	COCOON_CHECK_SNP_PRODUCT,           /* product line unknown or inconsistent */
	COCOON_CHECK_SNP_TCB_BINDING,       /* REPORTED_TCB versus the VCEK TCB extensions */
	COCOON_CHECK_SNP_CHIP_ID,           /* CHIP_ID versus the VCEK HWID */
	COCOON_CHECK_SNP_POLICY_DEBUG,
	COCOON_CHECK_SNP_POLICY_MIGRATION_AGENT,
	COCOON_CHECK_SNP_MIN_TCB,
	COCOON_CHECK_SNP_GUEST_SVN,
	COCOON_CHECK_SNP_FIRMWARE,
	COCOON_CHECK_SNP_VMPL,
	COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
	COCOON_CHECK_SNP_MEASUREMENT,
	COCOON_CHECK_SNP_HOST_DATA,
	COCOON_CHECK_SNP_REPORT_DATA,
	COCOON_CHECK_SNP_FAMILY_ID,
	COCOON_CHECK_SNP_IMAGE_ID,
	COCOON_CHECK_SNP_ID_KEY,
	COCOON_CHECK_SNP_AUTHOR_KEY,
	/* Azure vTPM */
	COCOON_CHECK_VTPM_EVIDENCE_FORMAT,  /* evidence JSON: keys, encodings, sizes */
	COCOON_CHECK_HCL_REPORT_FORMAT,     /* "HCLA" magic, sizes, variable data bounds */
	COCOON_CHECK_HCL_REPORT_TYPE,       /* report type not SNP/TDX, or not the evidence format's */
	COCOON_CHECK_HCL_HASH_TYPE,         /* report-data hash type not SHA-256/384/512 */
	COCOON_CHECK_HCL_REPORT_DATA,       /* hash(variable data) versus the hardware REPORT_DATA */
	COCOON_CHECK_HCL_RUNTIME_CLAIMS,    /* runtime-claims JSON, HCLAkPub, vm-configuration, user-data */
	COCOON_CHECK_VTPM_QUOTE_FORMAT,     /* TPMS_ATTEST: unmarshal, magic, type, trailing bytes */
	COCOON_CHECK_VTPM_QUOTE_SIGNATURE,  /* AK signature over TPMS_ATTEST */
	COCOON_CHECK_VTPM_NONCE,            /* extraData versus the expected nonce */
	COCOON_CHECK_VTPM_PCR_SELECTION,    /* pcrSelect versus the reported PCR values */
	COCOON_CHECK_VTPM_PCR_DIGEST,       /* pcrDigest versus H(PCR values) */
	COCOON_CHECK_VTPM_USER_DATA,        /* runtime-claims user-data versus the nonce */
	COCOON_CHECK_TD_REPORT_MISMATCH,    /* the HCL's TDREPORT versus the TD quote body */
	/* The appraisal pipeline (include/cocoon/attest.h) */
	COCOON_CHECK_EVIDENCE_FORMAT,       /* bytes are none of the formats, an envelope is malformed, or the wrong TEE */
	COCOON_CHECK_REPORT_DATA_BINDING,   /* runtime data versus REPORT_DATA / report_data */
	COCOON_CHECK_INIT_DATA_BINDING,     /* init data versus HOST_DATA / MRCONFIGID / CONFIGID */
	COCOON_CHECK_POLICY,                /* the MAA policy denied the claims */
	/* RA-TLS */
	COCOON_CHECK_RATLS_CERTIFICATE,     /* not an X.509 certificate, or its key cannot be read */
	COCOON_CHECK_RATLS_VALIDITY,        /* outside notBefore..notAfter at the verification time */
	COCOON_CHECK_RATLS_EXTENSION,       /* no evidence extension, a duplicate, malformed CBOR or claims */
	COCOON_CHECK_RATLS_EVIDENCE_TYPE,   /* the embedded bytes are no SGX/TDX quote or SNP report */
	COCOON_CHECK_RATLS_BINDING,         /* report data / pubkey-hash do not bind the evidence to the key */
	COCOON_CHECK__COUNT
} cocoon_check;

/* Stable snake_case name, e.g. "pck_crl". */
COCOON_API const char *cocoon_check_name(cocoon_check c);

#define COCOON_MAX_ADVISORIES 64

typedef struct {
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t attributes[16];
	int debug;
	uint8_t report_data[64];
	uint8_t config_id[64];
	uint16_t config_svn;
} cocoon_sgx_claims;

typedef struct {
	uint8_t mrtd[48];
	uint8_t rtmr[4][48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint8_t report_data[64];
	int debug;
	int has_td15;               /* TD 1.5 body: the two fields below are set */
	uint8_t tee_tcb_svn2[16];
	uint8_t mr_service_td[48];
} cocoon_tdx_claims;

typedef struct {
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint16_t pce_svn;
	uint8_t cpu_svn[16];
	int has_ppid;
	uint8_t ppid[16];
	time_t tcb_date;            /* the matched TCB level's tcbDate */
	uint32_t tcb_eval_data_number;
	uint16_t qe_svn;
} cocoon_platform_claims;

typedef struct cocoon_result {
	int accepted;               /* 1 accept, 0 reject */
	cocoon_tee tee;
	int quote_version;
	int simulated;              /* evidence chained to a trusted simulation root */
	cocoon_tcb_status status;   /* converged status */
	cocoon_tcb_status platform_status;
	cocoon_tcb_status qe_status;
	cocoon_tcb_status module_status; /* TDX module; UNKNOWN for SGX */
	int collateral_expired;     /* only set with allow_expired_collateral */
	size_t n_advisories;
	char advisory_ids[COCOON_MAX_ADVISORIES][32];
	cocoon_check failed_check;
	char reason[1024];
	int has_claims;             /* claims are filled once the quote parsed */
	cocoon_sgx_claims sgx;
	cocoon_tdx_claims tdx;
	cocoon_snp_claims snp;
	int has_platform;
	cocoon_platform_claims platform;
	time_t verified_at;
	time_t collateral_earliest_expiry;
	/* Which cache tiers served this verification (for metrics). */
	int cache_collateral_hit;
	int cache_platform_hit;
} cocoon_result;

/*
 * Appraisal and verification options. Initialise with
 * COCOON_VERIFY_OPTIONS_INIT and change what you need.
 */
typedef struct {
	unsigned int version;
	time_t at;                      /* verification time; 0 = now */
	int allow_expired_collateral;   /* report instead of reject */
	int allow_debug;                /* SGX DEBUG / TD DEBUG enclaves */
	int allow_td_reserved_bits;     /* TD attribute reserved bits */
	int allow_missing_sept_ve_disable;
	int allow_service_td;           /* non-zero MR_SERVICETD */
	int no_cache;                   /* bypass the caches for this call */
} cocoon_verify_options;

#define COCOON_VERIFY_OPTIONS_VERSION 1
#define COCOON_VERIFY_OPTIONS_INIT { COCOON_VERIFY_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0 }

typedef struct cocoon_verifier cocoon_verifier;

typedef struct {
	unsigned int version;
	const uint8_t *intel_root_der;  /* NULL: the built-in Intel SGX Root CA */
	size_t intel_root_der_len;
	int trust_simulation;           /* the root above is a simulation root */
	size_t cache_max_entries;       /* 0: default (4096) */
} cocoon_verifier_options;

#define COCOON_VERIFIER_OPTIONS_VERSION 1
#define COCOON_VERIFIER_OPTIONS_INIT { COCOON_VERIFIER_OPTIONS_VERSION, NULL, 0, 0, 0 }

COCOON_API int cocoon_verifier_new(cocoon_verifier **out, const cocoon_verifier_options *opts);
COCOON_API void cocoon_verifier_free(cocoon_verifier *v);
/* Drops every cached entry (benchmarks use this for the cold tier). */
COCOON_API void cocoon_verifier_cache_clear(cocoon_verifier *v);

typedef struct {
	uint64_t collateral_hits, collateral_misses;
	uint64_t platform_hits, platform_misses;
	size_t entries;
} cocoon_cache_stats;
COCOON_API void cocoon_verifier_cache_stats(cocoon_cache_stats *out, cocoon_verifier *v);

/* Serializes a result as the CLI's JSON object (caller frees with free()). */
COCOON_API int cocoon_result_to_json(char **out, const cocoon_result *r);

#ifdef __cplusplus
}
#endif
#endif
