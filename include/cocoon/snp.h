/*
 * cocoon: AMD SEV-SNP attestation reports (versions 2 to 5) and the
 * VCEK/VLEK certificate chains that endorse them.
 *
 * Verification follows verifiers.md table A.2: report format, product line,
 * ARK/ASK(ASVK)/VCEK(VLEK) chain with the AMD KDS certificate profile,
 * optional CRL (fail-closed), the P-384 report signature, the binding of the
 * report to the VCEK (REPORTED_TCB, CHIP_ID) and a default-on appraisal
 * policy. A rejection names the check, the field, the expected and the
 * actual value.
 */
#ifndef COCOON_SNP_H
#define COCOON_SNP_H

#include "common.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_SNP_REPORT_SIZE 1184

/* SIGNING_KEY of the report's signer info (bits 4:2 at offset 0x48). */
typedef enum {
	COCOON_SNP_SIGNER_VCEK = 0,
	COCOON_SNP_SIGNER_VLEK = 1,
	COCOON_SNP_SIGNER_NONE = 7
} cocoon_snp_signer;

/*
 * What the caller knows besides the report. Initialise with
 * COCOON_SNP_INPUTS_INIT. Every buffer is borrowed for the call only.
 */
typedef struct {
	unsigned int version;
	const uint8_t *vcek;        /* VCEK or VLEK certificate, DER or PEM; NULL: take it from certs */
	size_t vcek_len;
	const uint8_t *chain;       /* PEM ASK+ARK (or ASVK+ARK), any order; NULL: embedded AMD roots */
	size_t chain_len;
	const uint8_t *crl;         /* AMD KDS CRL (DER or PEM), issued by the ARK; NULL: no revocation check */
	size_t crl_len;
	const uint8_t *certs;       /* extended-report certificate table (auxblob); may be NULL */
	size_t certs_len;
	const char *product;        /* "Milan", "Genoa", "Turin"; NULL: from the report CPUID (v3+) or the VCEK */
} cocoon_snp_inputs;

#define COCOON_SNP_INPUTS_VERSION 1
#define COCOON_SNP_INPUTS_INIT { COCOON_SNP_INPUTS_VERSION, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL }

/* Minimum security patch levels, compared component by component. */
typedef struct {
	uint8_t bl, tee, snp, microcode, fmc; /* fmc only on Turin */
} cocoon_snp_min_tcb;

#define COCOON_SNP_MAX_TRUSTED_KEYS 32

/*
 * The appraisal policy. Initialise with COCOON_SNP_POLICY_INIT: debug and
 * migration-agent guests and provisional firmware are rejected, anything
 * else is accepted until configured.
 */
typedef struct {
	unsigned int version;
	int allow_debug;                /* guest policy DEBUG (bit 19) */
	int allow_migration_agent;      /* guest policy MIGRATE_MA (bit 18) */
	int allow_provisional_firmware; /* COMMITTED_TCB/version may differ from CURRENT */
	int vmpl;                       /* required VMPL 0..3; -1: any */
	cocoon_snp_min_tcb min_tcb;     /* applied to CURRENT, COMMITTED and REPORTED TCB */
	cocoon_snp_min_tcb min_launch_tcb; /* applied to LAUNCH_TCB */
	uint32_t min_guest_svn;
	uint8_t min_build;              /* current and committed firmware build */
	uint8_t min_api_major, min_api_minor; /* current and committed firmware version */
	int has_measurement;
	uint8_t measurement[48];
	int has_host_data;
	uint8_t host_data[32];
	int has_report_data;
	uint8_t report_data[64];
	int has_family_id;
	uint8_t family_id[16];
	int has_image_id;
	uint8_t image_id[16];
	int require_id_block;           /* the ID key must be trusted (directly or through the author key) */
	int require_author_key;         /* AUTHOR_KEY_EN must be set */
	size_t n_trusted_id_keys;       /* SHA-384 digests of trusted ID keys */
	uint8_t trusted_id_keys[COCOON_SNP_MAX_TRUSTED_KEYS][48];
	size_t n_trusted_author_keys;   /* SHA-384 digests of trusted author keys */
	uint8_t trusted_author_keys[COCOON_SNP_MAX_TRUSTED_KEYS][48];
} cocoon_snp_policy;

#define COCOON_SNP_POLICY_VERSION 1
#define COCOON_SNP_POLICY_INIT { .version = COCOON_SNP_POLICY_VERSION, .vmpl = -1 }

/*
 * Parses a policy file into *out, starting from COCOON_SNP_POLICY_INIT.
 * Keys (all optional):
 *   "allow_debug", "allow_migration_agent", "allow_provisional_firmware",
 *   "require_id_block", "require_author_key"            booleans
 *   "vmpl"                                              0..3 or null (any)
 *   "min_tcb", "min_launch_tcb"                         {"bl","tee","snp","microcode","fmc"}: 0..255
 *   "min_guest_svn"                                     0..4294967295
 *   "min_build"                                         0..255
 *   "min_api_version"                                   "major.minor", e.g. "1.55"
 *   "measurement" (48 bytes), "host_data" (32), "report_data" (64),
 *   "family_id" (16), "image_id" (16)                   hex of exactly that many bytes
 *   "trusted_id_key_digests", "trusted_author_key_digests"
 *                                                       arrays of 48-byte SHA-384 hex digests
 * Unknown keys, wrong types, bad hex and out-of-range numbers return
 * COCOON_EFORMAT naming the key.
 */
COCOON_API int cocoon_snp_policy_from_json(cocoon_snp_policy *out, const char *json, size_t len);

/*
 * Verifies an SEV-SNP report (exactly COCOON_SNP_REPORT_SIZE bytes) at
 * opts->at (0: now) and appraises it against policy (NULL: defaults);
 * opts->allow_debug also allows debug guests. v may be NULL.
 * Returns 0 when the verification ran to a verdict (result->accepted),
 * or a negative error when it could not run (bad arguments, out of memory).
 */
COCOON_API int cocoon_verifier_verify_snp(cocoon_result *result, cocoon_verifier *v, const uint8_t *report, size_t len,
                                          const cocoon_snp_inputs *in, const cocoon_snp_policy *policy,
                                          const cocoon_verify_options *opts);

/*
 * HOST_DATA as Azure's confidential containers (ACI) bind the container
 * security policy: SHA-256 of the policy text. With is_base64 the input is
 * the base64 form (ccePolicy, security-policy-base64) and is decoded first,
 * as the sidecars do before hashing.
 */
COCOON_API int cocoon_snp_host_data_from_policy(uint8_t out[32], const uint8_t *policy, size_t len, int is_base64);

/* 1 when buf looks like an SEV-SNP report: 1184 bytes and version 2..5. */
/*
 * What identifies a VCEK in a collateral cache, read from its AMD KDS
 * extensions: the HWID (CHIP_ID), the TCB the extensions compose, and the
 * product line name ("Milan", "Genoa", "Turin"). The certificate's chain is
 * NOT verified here: use it only as a lookup key, never as a trust decision.
 */
typedef struct {
	uint8_t chip_id[64];
	size_t chip_id_len;   /* 64 (Milan/Genoa) or 8 (Turin) */
	uint64_t tcb;
	const char *product;  /* static string */
} cocoon_snp_vcek_id;

/* der: a VCEK certificate. COCOON_EFORMAT when it is not one (the reason names the extension). */
COCOON_API int cocoon_snp_vcek_identify(cocoon_snp_vcek_id *out, const uint8_t *der, size_t len);

COCOON_API int cocoon_snp_report_looks_like(const uint8_t *buf, size_t len);

/* Decodes every field of a report as a JSON object (caller frees). */
COCOON_API int cocoon_snp_report_inspect_json(char **out, const uint8_t *buf, size_t len);
/* Human-readable decoding (caller frees). */
COCOON_API int cocoon_snp_report_inspect_text(char **out, const uint8_t *buf, size_t len);

/* Extended-report certificate table: 24-byte {GUID, offset, length} entries
 * ended by an all-zero entry; offsets count from the start of the table. */
typedef enum {
	COCOON_SNP_CERT_OTHER = 0,
	COCOON_SNP_CERT_VCEK,   /* 63da758d-e664-4564-adc5-f4b93be8accd */
	COCOON_SNP_CERT_VLEK,   /* a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
	COCOON_SNP_CERT_ASK,    /* 4ab7b379-bbac-4fe4-a02f-05aef327c782 (also the ASVK) */
	COCOON_SNP_CERT_ARK     /* c0b406a4-a803-4952-9743-3fb6014cd0ae */
} cocoon_snp_cert_kind;

typedef struct {
	uint8_t guid[16];           /* RFC 4122 byte order, as stored */
	cocoon_snp_cert_kind kind;
	uint32_t offset, length;
	const uint8_t *data;        /* points into the parsed buffer */
} cocoon_snp_cert_entry;

#define COCOON_SNP_CERTTABLE_MAX 32

typedef struct {
	size_t n;
	cocoon_snp_cert_entry entries[COCOON_SNP_CERTTABLE_MAX];
} cocoon_snp_certtable;

/* Parses a table; entries point into buf, which must outlive *out.
 * An empty buffer is an empty table. COCOON_EFORMAT names the entry and offset. */
COCOON_API int cocoon_snp_certtable_parse(cocoon_snp_certtable *out, const uint8_t *buf, size_t len);
/* The entry of that kind, or NULL. */
COCOON_API const cocoon_snp_cert_entry *cocoon_snp_certtable_find(const cocoon_snp_certtable *t, cocoon_snp_cert_kind kind);

/*
 * Adds the claims as keys of a jansson object (json_t *): hex is lowercase,
 * "policy" and "platform_info" are decoded flag objects, TCBs are objects
 * {bl, tee, snp, microcode, fmc (Turin), raw}, "signer" is "vcek"/"vlek".
 */
COCOON_API int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c);

/* Stable name of an SNP check id (see the lead's cocoon_check), e.g. "snp_signature". */
COCOON_API const char *cocoon_snp_check_name(int check);

#ifdef __cplusplus
}
#endif
#endif
