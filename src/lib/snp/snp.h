/*
 * Internal SEV-SNP interfaces: the parsed report, the AMD KDS certificate
 * extensions, the verified VCEK/VLEK (the cacheable unit) and the appraisal.
 */
#ifndef COCOON_SNP_INTERNAL_H
#define COCOON_SNP_INTERNAL_H

#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "cocoon/snp.h"
#include "common/cache.h"
#include "common/util.h"

/* SNP rejections use the COCOON_CHECK_SNP_* members of cocoon_check (include/cocoon/verify.h). */

#define COCOON_SNP_FAIL(f, id, ...) cocoon_fail((f), (cocoon_check)(id), __VA_ARGS__)

typedef enum {
	COCOON_SNP_PRODUCT_UNKNOWN = 0,
	COCOON_SNP_PRODUCT_MILAN,
	COCOON_SNP_PRODUCT_GENOA,
	COCOON_SNP_PRODUCT_TURIN
} cocoon_snp_product;

/* "Milan", "Genoa", "Turin" or "unknown". */
const char *cocoon_snp_product_name(cocoon_snp_product p);
/* Accepts a product line or a KDS productName with a stepping ("Milan-B0"),
 * case-insensitively. COCOON_EINVAL for anything else. */
int cocoon_snp_product_parse(cocoon_snp_product *out, const char *name);
/* From the report's CPUID family/model (v3+); UNKNOWN for other models. */
cocoon_snp_product cocoon_snp_product_from_cpuid(uint8_t family, uint8_t model);

/* Report layout (AMD SEV-SNP ABI, workload-side.md section 2.3). */
#define SNP_SIGNED_LEN 0x2A0
#define SNP_SIG_OFFSET 0x2A0
#define SNP_SIG_COMPONENT 72   /* R and S: little-endian, zero-extended */
#define SNP_P384_BYTES 48

typedef struct {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t sig_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t signer_info;       /* raw word at 0x48 */
	int author_key_en;
	int mask_chip_key;
	int signing_key;            /* cocoon_snp_signer value (0..7) */
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint64_t reported_tcb;
	int has_cpuid;              /* v3+ */
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	int has_mit_vectors;        /* v5 */
	uint64_t launch_mit_vector, current_mit_vector;
	uint8_t sig_r[SNP_SIG_COMPONENT];
	uint8_t sig_s[SNP_SIG_COMPONENT];
} cocoon_snp_report;

/* Guest policy bits. */
#define SNP_POLICY_SMT (1ull << 16)
#define SNP_POLICY_RESERVED_1 (1ull << 17)
#define SNP_POLICY_MIGRATE_MA (1ull << 18)
#define SNP_POLICY_DEBUG (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define SNP_POLICY_CXL_ALLOW (1ull << 21)
#define SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define SNP_POLICY_RAPL_DIS (1ull << 23)
#define SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define SNP_POLICY_MBZ_MASK (~((1ull << 26) - 1))

/*
 * Reads every field of a 1184-byte report without judging it (inspect
 * uses this on malformed reports too). COCOON_EFORMAT on a bad length.
 */
int cocoon_snp_report_decode(cocoon_snp_report *out, const uint8_t *buf, size_t len);
/*
 * Decodes and validates the format: length, version 2..5, reserved and
 * must-be-zero fields, policy bit 17, signature algorithm, signer info and
 * MASK_CHIP_KEY. On failure returns COCOON_EFORMAT, sets the thread's error
 * and, when f is not NULL, fills f with COCOON_CHECK_SNP_REPORT_FORMAT.
 */
int cocoon_snp_report_parse(cocoon_snp_report *out, cocoon_failure *f, const uint8_t *buf, size_t len);

/* Decodes a TCB_VERSION for a product line (Turin has the FMC byte). */
void cocoon_snp_tcb_decode(cocoon_snp_tcb *out, uint64_t raw, cocoon_snp_product p);
/* "bl=2 tee=0 snp=5 microcode=68" (+ " fmc=N" on Turin) into buf. */
void cocoon_snp_tcb_format(char *buf, size_t len, uint64_t raw, cocoon_snp_product p);

/* The AMD KDS extensions of a VCEK/VLEK (OID 1.3.6.1.4.1.3704.1.*). */
typedef struct {
	uint8_t struct_version;
	char product_name[32];      /* e.g. "Milan-B0"; VLEK: "Milan" */
	cocoon_snp_product product;
	uint8_t bl, tee, snp, spl4, spl5, spl6, spl7, ucode, fmc;
	int has_fmc;
	size_t hwid_len;            /* 64 (Milan/Genoa) or 8 (Turin); 0 when absent */
	uint8_t hwid[64];
	int has_csp_id;
	char csp_id[128];
	uint64_t tcb;               /* the extensions composed into a TCB_VERSION */
} cocoon_snp_kds_ext;

/*
 * Parses the KDS extensions of cert and checks their profile: every value
 * well-formed DER (INTEGER 0..255, IA5String, 64/8-byte HWID), no duplicate
 * or unknown extension, HWID only on a VCEK and CSP_ID only on a VLEK.
 * Rejects with COCOON_CHECK_SNP_VCEK_PROFILE.
 */
int cocoon_snp_kds_ext_parse(cocoon_snp_kds_ext *out, cocoon_failure *f, X509 *cert, int signer);

/* Embedded AMD ASK+ARK (or ASVK+ARK) PEM for a product line; NULL if none. */
const char *cocoon_snp_embedded_chain(cocoon_snp_product p, int signer);

/*
 * A VCEK/VLEK whose chain to a trusted ARK verified, with everything the
 * per-report checks need. Immutable once built and refcounted, so the
 * verifier can cache it keyed by cocoon_snp_vcek_cache_key() and share it
 * between threads; a cached entry is valid for [valid_from, valid_until].
 */
typedef struct cocoon_snp_vcek_verified {
	cocoon_ref ref;             /* first member: cocoon_cache stores these */
	EVP_PKEY *key;              /* the P-384 report-signing key */
	int signer;                 /* COCOON_SNP_SIGNER_VCEK or _VLEK */
	cocoon_snp_product product; /* from the productName extension, which the chain vouches for */
	cocoon_snp_kds_ext ext;
	int crl_checked;
	int simulated;              /* the ARK is a cocoon simulation root (simulation.c) */
	time_t valid_from, valid_until; /* certificates and CRL window */
} cocoon_snp_vcek_verified;

/*
 * Verifies the certificate (DER or PEM), its chain (NULL: the embedded AMD
 * roots for the certificate's product line) and the optional CRL at time
 * at. Returns 0 with *out set, COCOON_EREJECT with f filled, or another
 * negative error.
 */
int cocoon_snp_vcek_verify(cocoon_snp_vcek_verified **out, cocoon_failure *f, const uint8_t *cert, size_t cert_len,
                           const uint8_t *chain, size_t chain_len, const uint8_t *crl, size_t crl_len, time_t at);
/* Drops a reference (NULL is fine). */
void cocoon_snp_vcek_put(cocoon_snp_vcek_verified *vv);

/*
 * Simulated AMD roots (`cocoon sim init`): 1 when x carries the Netscape
 * comment the simulator puts on its ARK and ASK (COCOON_SIM_AMD_MARK).
 * Used to explain and to refuse, never to trust.
 */
int cocoon_snp_cert_is_simulated(X509 *x);
/*
 * After the VCEK/VLEK chain was rejected: when the certificate was signed
 * by a simulated ASK that the caller handed over (certificate table or
 * chain), rewrites f as COCOON_CHECK_SIMULATION_ROOT and returns 1;
 * otherwise leaves f alone and returns 0.
 */
int cocoon_snp_explain_simulation(cocoon_failure *f, const uint8_t *cert, size_t cert_len,
                                  const cocoon_snp_inputs *in);
/* Rejects (COCOON_CHECK_SIMULATION_ROOT) a verified chain whose trusted ARK is a simulation root. */
int cocoon_snp_fail_untrusted_simulation(cocoon_failure *f, const cocoon_snp_vcek_verified *vv);
/* SHA-256 over a domain tag and the exact certificate, chain and CRL bytes. */
int cocoon_snp_vcek_cache_key(uint8_t key[32], const uint8_t *cert, size_t cert_len, const uint8_t *chain,
                              size_t chain_len, const uint8_t *crl, size_t crl_len);

/*
 * Picks the VCEK/VLEK bytes to verify: in->vcek, else the certificate table
 * entry matching the report's SIGNING_KEY. Rejects (VCEK_CHAIN) when none.
 */
int cocoon_snp_select_cert(const uint8_t **cert, size_t *cert_len, cocoon_failure *f, const cocoon_snp_inputs *in,
                           const uint8_t *report, size_t len);

/*
 * The per-report (cached) path: parses the report and checks it against an
 * already verified VCEK: time window, signer kind, product, signature,
 * TCB/chip binding, then the appraisal policy. Fills result as
 * cocoon_verifier_verify_snp documents. product may be NULL. Whether a
 * simulated vv (vv->simulated) may be used at all is the caller's decision.
 */
int cocoon_snp_verify_report_with(cocoon_result *result, const cocoon_snp_vcek_verified *vv, const uint8_t *report,
                                  size_t len, const char *product, const cocoon_snp_policy *policy,
                                  const cocoon_verify_options *opts);

/* Verifies the report signature (R, S little-endian) over [0, 0x2A0). 1 valid, 0 invalid, <0 error. */
int cocoon_snp_signature_verify(EVP_PKEY *key, const uint8_t *report, const cocoon_snp_report *r);

/* The appraisal step; rejects name the field, expected and actual value. */
int cocoon_snp_appraise(cocoon_failure *f, const cocoon_snp_report *r, cocoon_snp_product p,
                        const cocoon_snp_policy *policy, int allow_debug);

/* Fills claims from a parsed report. */
void cocoon_snp_claims_fill(cocoon_snp_claims *c, const cocoon_snp_report *r, cocoon_snp_product p);

/* JSON pieces shared by the claims and inspect (jansson json_t; NULL on ENOMEM). */
struct json_t;
struct json_t *cocoon_snp_policy_json(uint64_t policy);
struct json_t *cocoon_snp_platform_info_json(uint64_t info);
struct json_t *cocoon_snp_tcb_json(uint64_t raw, cocoon_snp_product p);

#endif
