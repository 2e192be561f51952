/*
 * cocoon: RA-TLS certificates, made and checked.
 *
 * An RA-TLS certificate carries TEE evidence whose report data binds it to
 * the certificate's key, so a TLS peer learns what runs behind the key.
 * Forms (docs/ratls.md has the byte layouts and the sources):
 *
 *   tagged          TCG tagged evidence, OID 2.23.133.5.4.9: CBOR tag 60000
 *                   [bstr evidence, bstr claims]; claims is a CBOR map with
 *                   "pubkey-hash" = bstr(CBOR [hash-alg-id, bstr hash of the
 *                   DER SubjectPublicKeyInfo]) and optionally "nonce";
 *                   report data[0..32] = SHA-256(claims), the rest zero.
 *   gramine-legacy  the raw evidence under Gramine's malformed OID (content
 *                   bytes 06 09 2A 86 48 86 F8 4D 8A 39 06); report
 *                   data[0..32] = SHA-256(DER SubjectPublicKeyInfo).
 *   intel-sgxsdk    the raw quote under 1.2.840.113741.1.13.1 (the Intel
 *                   SGX SDK sample); no published rule binds it to the key.
 *
 * Any SGX or TDX DCAP quote or SEV-SNP report can be embedded; the checker
 * recognises the type from the evidence bytes.
 */
#ifndef COCOON_RATLS_H
#define COCOON_RATLS_H

#include "common.h"
#include "dcap.h"
#include "evidence.h"
#include "snp.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_RATLS_OID_TAGGED "2.23.133.5.4.9"
#define COCOON_RATLS_OID_INTEL_SGXSDK "1.2.840.113741.1.13.1"
#define COCOON_RATLS_CBOR_TAG 60000

/* IANA named-information hash algorithm ids the pubkey-hash claim may name. */
#define COCOON_RATLS_HASH_SHA256 1
#define COCOON_RATLS_HASH_SHA384 7
#define COCOON_RATLS_HASH_SHA512 8

typedef enum {
	COCOON_RATLS_FORM_NONE = 0,
	COCOON_RATLS_FORM_TAGGED = 1,
	COCOON_RATLS_FORM_GRAMINE_LEGACY = 2,
	COCOON_RATLS_FORM_INTEL_SGXSDK = 3
} cocoon_ratls_form;

/* "tagged", "gramine-legacy", "intel-sgxsdk" or "none". */
COCOON_API const char *cocoon_ratls_form_name(cocoon_ratls_form f);

/* What one extension says about the certificate's key. */
typedef enum {
	COCOON_RATLS_BINDING_ABSENT = 0,      /* the extension is not in the certificate */
	COCOON_RATLS_BINDING_HOLDS = 1,       /* the evidence's report data binds the key */
	COCOON_RATLS_BINDING_BROKEN = 2,      /* it binds something else: key swapped or claims altered */
	COCOON_RATLS_BINDING_UNDOCUMENTED = 3,/* no published rule says what the report data binds */
	COCOON_RATLS_BINDING_MALFORMED = 4    /* present but unparsable, or not SGX/TDX/SNP evidence */
} cocoon_ratls_binding;

/* "absent", "holds", "broken", "undocumented", "malformed". */
COCOON_API const char *cocoon_ratls_binding_name(cocoon_ratls_binding b);

typedef enum {
	COCOON_RATLS_KEY_P384 = 0,   /* Gramine's choice, the default */
	COCOON_RATLS_KEY_P256 = 1
} cocoon_ratls_key_type;

typedef struct {
	unsigned int version;
	cocoon_ratls_key_type key_type;
	int legacy;                                /* also Gramine's legacy extension (collects evidence twice) */
	const cocoon_evidence_options *evidence;   /* the provider; NULL: auto-detection. report_data is ignored */
	const uint8_t *nonce;                      /* optional "nonce" claim */
	size_t nonce_len;
	const char *common_name;                   /* subject and issuer CN; NULL: "cocoon RA-TLS" */
	time_t not_before;                         /* 0: now */
	time_t not_after;                          /* 0: not_before + 365 days */
} cocoon_ratls_make_options;

#define COCOON_RATLS_MAKE_OPTIONS_VERSION 1
#define COCOON_RATLS_MAKE_OPTIONS_INIT \
	{ .version = COCOON_RATLS_MAKE_OPTIONS_VERSION, .key_type = COCOON_RATLS_KEY_P384 }

/* A new key and its self-signed RA-TLS certificate. */
typedef struct {
	char *key_pem;              /* PKCS#8 PEM; cocoon_ratls_credentials_free zeroizes it */
	size_t key_pem_len;
	char *cert_pem;
	size_t cert_pem_len;
	cocoon_tee tee;             /* what the provider attested */
	char provider[32];
} cocoon_ratls_credentials;

/*
 * Makes a key and a certificate with the evidence of the current provider
 * in the tagged extension (and the legacy one when asked). Evidence
 * collection errors are returned as the provider reported them.
 */
COCOON_API int cocoon_ratls_make(cocoon_ratls_credentials *out, const cocoon_ratls_make_options *opts);
COCOON_API void cocoon_ratls_credentials_free(cocoon_ratls_credentials *c);

typedef struct {
	unsigned int version;
	time_t at;                              /* certificate validity and evidence time; 0: now */
	const cocoon_collateral *collateral;    /* DCAP quotes; NULL: the evidence is left unverified */
	const cocoon_snp_inputs *snp;           /* SNP reports (VCEK, chain, CRL); NULL: left unverified */
	const cocoon_snp_policy *snp_policy;    /* NULL: the defaults */
	const cocoon_verify_options *verify;    /* appraisal flags; NULL: defaults. `at` above wins */
	const uint8_t *nonce;                   /* when set, the tagged "nonce" claim must equal it (freshness) */
	size_t nonce_len;
} cocoon_ratls_verify_options;

#define COCOON_RATLS_VERIFY_OPTIONS_VERSION 1
#define COCOON_RATLS_VERIFY_OPTIONS_INIT { .version = COCOON_RATLS_VERIFY_OPTIONS_VERSION }

typedef struct {
	int accepted;                   /* binding holds and the evidence was verified and accepted */
	int binding_ok;                 /* the appraised form binds the evidence to the key (and the nonce) */
	int evidence_verified;          /* the evidence went through its verifier (collateral was given) */
	cocoon_ratls_form form;         /* appraised: tagged, else gramine-legacy, else intel-sgxsdk */
	cocoon_tee tee;                 /* of the appraised evidence */
	cocoon_evidence_format format;
	cocoon_ratls_binding tagged, gramine_legacy, intel_sgxsdk;
	int hash_alg;                   /* the pubkey-hash claim's IANA id; 0 without one */
	size_t n_other_claims;          /* claims other than pubkey-hash and nonce (ignored) */
	uint8_t *nonce;                 /* the "nonce" claim, if any */
	size_t nonce_len;
	int self_signed;                /* signed by its own key (informational: TLS proves possession) */
	char key_type[32];              /* "EC P-384", "EC P-256", "RSA 3072", ... */
	uint8_t spki_sha256[32];
	uint8_t *evidence;              /* the appraised evidence bytes */
	size_t evidence_len;
	cocoon_check failed_check;
	char reason[1024];
	cocoon_result evidence_result;  /* the verifier's result when evidence_verified */
} cocoon_ratls_result;

/*
 * Checks an RA-TLS certificate (PEM or DER): its validity at opts->at, the
 * binding of every evidence extension to its key, and, with collateral
 * (DCAP) or SNP inputs and a verifier, the appraised evidence itself.
 * Returns 0 whenever it reached a verdict (see out->accepted, failed_check
 * and reason); an error only for bad arguments or out of memory. v may be
 * NULL when nothing is to be verified. Release with cocoon_ratls_result_free.
 */
COCOON_API int cocoon_ratls_verify(cocoon_ratls_result *out, cocoon_verifier *v, const uint8_t *cert,
                                   size_t cert_len, const cocoon_ratls_verify_options *opts);
COCOON_API void cocoon_ratls_result_free(cocoon_ratls_result *r);

/* The result as the CLI's JSON object (caller frees with free()). */
COCOON_API int cocoon_ratls_result_to_json(char **out, const cocoon_ratls_result *r);

#ifdef __cplusplus
}
#endif
#endif
