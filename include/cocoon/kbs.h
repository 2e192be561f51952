/*
 * cocoon: the Trustee KBS protocol (version 0.4.0), both sides.
 *
 * The pieces a key broker (cocoon-attestd) and a guest client (cocoon-run,
 * `cocoon kbs get-resource`) share: RFC 8785 JSON canonicalisation, the
 * runtime-data binding, JWKs, the resource JWE, the RCAR messages and the
 * evidence shapes of guest-components' attesters, the EAR token claims, the
 * admin JWT and resource paths. No I/O happens here: callers own HTTP,
 * sessions and storage. docs/kbs.md describes the wire formats.
 *
 * Conventions: strings are NUL-terminated UTF-8; `char **out` results are
 * freed with free(); json_t results are released with json_decref(); a key
 * is an OpenSSL EVP_PKEY the caller frees with EVP_PKEY_free(). Malformed
 * input is COCOON_EFORMAT, a well-formed input that fails a check (version,
 * nonce, signature, expiry) COCOON_EREJECT, both with a message naming the
 * member that was wrong.
 */
#ifndef COCOON_KBS_H
#define COCOON_KBS_H

#include <jansson.h>
#include <openssl/types.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The only protocol version accepted and spoken (exact string match). */
#define COCOON_KBS_PROTOCOL_VERSION "0.4.0"
/* Largest request body the parsers accept; larger bodies are COCOON_EFORMAT
 * (attestd answers 413 before parsing). */
#define COCOON_KBS_MAX_BODY (4 * 1024 * 1024)
/* Bytes of randomness in a challenge nonce; its base64 text is 44 chars. */
#define COCOON_KBS_NONCE_BYTES 32
#define COCOON_KBS_NONCE_B64_LEN 44

/* ---------------------------------------------------------------------------
 * RFC 8785 JSON Canonicalization Scheme
 * ------------------------------------------------------------------------- */

/*
 * Serialises v canonically: object members sorted by their UTF-16 code
 * units, no whitespace, strings escaped as ECMAScript JSON.stringify does,
 * numbers as ECMAScript Number.prototype.toString (integers beyond 2^53
 * lose precision exactly as in JavaScript). NaN/Infinity cannot occur in
 * jansson; a real that is not finite is COCOON_EFORMAT. *out_len (may be
 * NULL) excludes the terminating NUL.
 */
COCOON_API int cocoon_jcs_serialize(char **out, size_t *out_len, const json_t *v);

/* Formats one double as ECMAScript does ("1e+30", "0.002", "-0" -> "0").
 * buf needs 32 bytes. COCOON_EINVAL for NaN or an infinity. */
COCOON_API int cocoon_jcs_format_number(char buf[32], double d);

/* ---------------------------------------------------------------------------
 * Hashes and the runtime-data binding
 * ------------------------------------------------------------------------- */

typedef enum {
	COCOON_KBS_HASH_SHA256 = 1,
	COCOON_KBS_HASH_SHA384 = 2,   /* the guest-components default */
	COCOON_KBS_HASH_SHA512 = 3
} cocoon_kbs_hash;

/* "sha256", "sha384", "sha512". */
COCOON_API const char *cocoon_kbs_hash_name(cocoon_kbs_hash h);
/* Parses those names (lowercase, as kbs-types writes them); "sm3" and
 * anything else are COCOON_EUNSUPPORTED. */
COCOON_API int cocoon_kbs_hash_parse(cocoon_kbs_hash *out, const char *name);

/*
 * The object the guest hashes into REPORT_DATA, as guest-components builds
 * it (kbs_protocol rcar_client.rs, and Trustee kbs attestation/backend.rs):
 *   {"additional-evidence": <string, "" without devices>,
 *    "nonce": <challenge nonce>, "tee-pubkey": <JWK>}
 * additional_evidence NULL omits the member: that is the object devices'
 * evidence is bound to. tee_pubkey must be the JWK as sent on the wire (the
 * KBS TeePubKey members only; cocoon_kbs_attestation_parse yields that).
 * *out is a new object.
 */
COCOON_API int cocoon_kbs_runtime_data_build(json_t **out, const char *nonce, const json_t *tee_pubkey,
                                             const char *additional_evidence);

/*
 * REPORT_DATA for the binding: hash(JCS(runtime data)) zero-padded to 64
 * bytes (SGX, TDX and SNP compare all 64). *digest_len (may be NULL) gets
 * the unpadded length (32, 48 or 64).
 */
COCOON_API int cocoon_kbs_runtime_data_hash(uint8_t out[64], size_t *digest_len, cocoon_kbs_hash hash,
                                            const char *nonce, const json_t *tee_pubkey,
                                            const char *additional_evidence);

/* ---------------------------------------------------------------------------
 * Keys and JWKs
 * ------------------------------------------------------------------------- */

typedef enum {
	COCOON_KBS_KEY_EC_P256 = 1,   /* ECDH-ES+A256KW; the guest-components default */
	COCOON_KBS_KEY_EC_P384 = 2,
	COCOON_KBS_KEY_EC_P521 = 3,
	COCOON_KBS_KEY_RSA = 4        /* RSA-OAEP-256, 3072-bit when generated */
} cocoon_kbs_key_type;

/* Smallest RSA modulus accepted in a JWK, in bits. */
#define COCOON_KBS_RSA_MIN_BITS 2048

/* The guest's ephemeral key pair for one handshake. */
COCOON_API int cocoon_kbs_key_generate(EVP_PKEY **out, cocoon_kbs_key_type type);
/* The type of a key (EC on another curve, or another algorithm, is COCOON_EUNSUPPORTED). */
COCOON_API int cocoon_kbs_key_type_of(cocoon_kbs_key_type *out, const EVP_PKEY *key);

/*
 * The public JWK the guest sends as tee-pubkey, with exactly the members of
 * kbs-types TeePubKey: {"kty":"EC","crv","alg":"ECDH-ES+A256KW","x","y"}
 * (coordinates padded to the field size) or {"kty":"RSA","alg":"RSA-OAEP-256",
 * "n","e"}.
 */
COCOON_API int cocoon_kbs_jwk_from_key(json_t **out, const EVP_PKEY *key);

/*
 * Imports a public JWK (a tee-pubkey or the JWK of a token header). Checks:
 * kty "EC" with crv P-256/P-384/P-521 and x/y of the field size forming a
 * point on the curve, or kty "RSA" with n of at least 2048 bits and an odd
 * e >= 3; "alg", when present, must be the algorithm of that key type
 * ("RSA1_5" is refused); private members ("d", "p", ...) are refused; all
 * values are unpadded base64url.
 */
COCOON_API int cocoon_kbs_jwk_to_key(EVP_PKEY **out, const json_t *jwk);
/* The same from JSON text. */
COCOON_API int cocoon_kbs_jwk_parse(EVP_PKEY **out, const char *json, size_t len);
/* Imports a private EC JWK (with "d"), as the jose CLI writes them; for
 * tests and for a guest that persists its key. RSA private JWKs are not supported. */
COCOON_API int cocoon_kbs_jwk_to_private_key(EVP_PKEY **out, const json_t *jwk);

/* ---------------------------------------------------------------------------
 * The resource JWE (RFC 7516 flattened JSON)
 * ------------------------------------------------------------------------- */

/*
 * Encrypts a resource to the guest's key: {"protected","encrypted_key","iv",
 * "ciphertext","tag"}, enc A256GCM, a fresh 32-byte CEK and 12-byte IV, AAD =
 * ASCII(protected). EC keys use ECDH-ES+A256KW with "epk" inside the
 * protected header; RSA keys RSA-OAEP-256. The protected header is written
 * byte-for-byte as guest-components re-serialises it for its AAD: alg, enc,
 * then the rest sorted, compact. The CEK is zeroised.
 */
COCOON_API int cocoon_kbs_jwe_encrypt(char **out, const EVP_PKEY *recipient, const uint8_t *plaintext,
                                      size_t len);

/*
 * Decrypts a flattened JWE with the guest's private key. Accepts
 * ECDH-ES+A256KW (epk in the protected header, or in the unprotected
 * "header" as the jose CLI writes it; apu/apv honoured) and RSA-OAEP-256,
 * enc A256GCM only, no "zip"/"crit". A failed tag or key unwrap is
 * COCOON_EREJECT with one message for both (an RSA failure continues with a
 * random key, RFC 7516 §11.5). *out is NUL-terminated for
 * convenience; the caller zeroises and frees it.
 */
COCOON_API int cocoon_kbs_jwe_decrypt(uint8_t **out, size_t *out_len, const char *jwe, size_t jwe_len,
                                      const EVP_PKEY *key);

/* ---------------------------------------------------------------------------
 * RCAR messages
 * ------------------------------------------------------------------------- */

/* The tee names of kbs-types; cocoon verifies sgx, tdx and snp. */
typedef enum {
	COCOON_KBS_TEE_UNKNOWN = 0,
	COCOON_KBS_TEE_SGX,
	COCOON_KBS_TEE_TDX,
	COCOON_KBS_TEE_SNP,
	COCOON_KBS_TEE_SAMPLE,
	COCOON_KBS_TEE_AZ_SNP_VTPM,
	COCOON_KBS_TEE_AZ_TDX_VTPM,
	COCOON_KBS_TEE_CCA,
	COCOON_KBS_TEE_CSV,
	COCOON_KBS_TEE_SE,
	COCOON_KBS_TEE_TPM,
	COCOON_KBS_TEE_NVIDIA,
	COCOON_KBS_TEE_HYGONDCU,
	COCOON_KBS_TEE_SAMPLEDEVICE
} cocoon_kbs_tee;

/* "sgx", "az-snp-vtpm", ...; NULL for UNKNOWN. */
COCOON_API const char *cocoon_kbs_tee_name(cocoon_kbs_tee t);
/* COCOON_EFORMAT naming the value for an unknown tee string. */
COCOON_API int cocoon_kbs_tee_parse(cocoon_kbs_tee *out, const char *name);

/* POST /kbs/v0/auth body. */
typedef struct {
	cocoon_kbs_tee tee;
	json_t *extra_params;              /* as sent ({} or ""); owned */
	int n_hash_algorithms;             /* supported-hash-algorithms cocoon knows */
	cocoon_kbs_hash hash_algorithms[4];
} cocoon_kbs_request;

/*
 * Parses {"version","tee","extra-params"}; no other members. A version other
 * than "0.4.0" is COCOON_EREJECT with "KBS Client Protocol Version Mismatch:
 * expect 0.4.0 while the request is <v>". extra-params is any JSON value; a
 * "supported-hash-algorithms" array in it must hold strings.
 */
COCOON_API int cocoon_kbs_request_parse(cocoon_kbs_request *out, const char *body, size_t len);
COCOON_API void cocoon_kbs_request_clear(cocoon_kbs_request *r);
/* The guest's Request, advertising sha256/sha384/sha512. */
COCOON_API int cocoon_kbs_request_build(char **out, cocoon_kbs_tee tee);

/* 32 random bytes as standard base64 (44 characters). */
COCOON_API int cocoon_kbs_nonce_new(char out[COCOON_KBS_NONCE_B64_LEN + 1]);

/*
 * The Challenge {"nonce", "extra-params": ""}. With selected_hash non-zero,
 * extra-params is {"selected-hash-algorithm": name} instead (Trustee sends
 * that only to "se" guests; every guest-components client understands it).
 */
COCOON_API int cocoon_kbs_challenge_build(char **out, const char *nonce, cocoon_kbs_hash selected_hash);

typedef struct {
	char nonce[256];
	cocoon_kbs_hash hash;              /* selected, or SHA384 when none is named */
} cocoon_kbs_challenge;

COCOON_API int cocoon_kbs_challenge_parse(cocoon_kbs_challenge *out, const char *body, size_t len);

/* The optional init-data of an Attestation. */
typedef struct {
	const char *format;                /* "toml" from guest-components */
	const char *body;
} cocoon_kbs_init_data;

/*
 * The init-data digest Trustee computes: the hash named by the TOML
 * document's top-level `algorithm` ("sha256", "sha384", "sha512") over the
 * whole body. format must be "toml". *len gets 32, 48 or 64.
 */
COCOON_API int cocoon_kbs_init_data_digest(uint8_t out[64], size_t *len, const cocoon_kbs_init_data *init_data);
/*
 * Fits a digest to the evidence field it must equal, as Trustee's
 * regularize_data does: zero-padded or truncated to field_len. The fields:
 * SNP HOST_DATA (32), TDX MRCONFIGID (48), SGX CONFIGID (64).
 */
COCOON_API void cocoon_kbs_init_data_regularize(uint8_t *field, size_t field_len, const uint8_t *digest,
                                                size_t digest_len);

/* POST /kbs/v0/attest body, parsed. Release with cocoon_kbs_attestation_free. */
typedef struct {
	json_t *root;                      /* the parsed document; the pointers below borrow from it */
	int has_init_data;
	cocoon_kbs_init_data init_data;
	const char *nonce;                 /* runtime-data.nonce */
	json_t *tee_pubkey;                /* runtime-data.tee-pubkey, the TeePubKey members only */
	EVP_PKEY *key;                     /* that key, imported and checked */
	json_t *primary_evidence;          /* tee-evidence.primary_evidence */
	const char *additional_evidence;   /* tee-evidence.additional_evidence ("" when none) */
} cocoon_kbs_attestation;

/*
 * Parses {"init-data"?, "runtime-data":{"nonce","tee-pubkey"},
 * "tee-evidence":{"primary_evidence","additional_evidence"}} (kbs-types
 * 0.4.0: kebab-case outside, snake_case inside tee-evidence); unknown
 * members are refused, init-data may be null. Does not compare the nonce:
 * the server does that against its session.
 */
COCOON_API int cocoon_kbs_attestation_parse(cocoon_kbs_attestation **out, const char *body, size_t len);
COCOON_API void cocoon_kbs_attestation_free(cocoon_kbs_attestation *a);
/* The guest's Attestation. additional_evidence NULL means "". init_data may be NULL. */
COCOON_API int cocoon_kbs_attestation_build(char **out, const char *nonce, const json_t *tee_pubkey,
                                            const json_t *primary_evidence, const char *additional_evidence,
                                            const cocoon_kbs_init_data *init_data);

/* {"token": "<JWT>"} both ways (the attest reply). */
COCOON_API int cocoon_kbs_token_reply_build(char **out, const char *token);
COCOON_API int cocoon_kbs_token_reply_parse(char **token, const char *body, size_t len);

/* ---------------------------------------------------------------------------
 * Evidence shapes of guest-components' attesters
 * ------------------------------------------------------------------------- */

/*
 * Raw evidence taken out of (or put into) primary_evidence:
 *   sgx  {"quote": b64}                          -> evidence = the DCAP quote
 *   tdx  {"cc_eventlog": b64|null, "quote": b64}  -> evidence = the TD quote,
 *                                                   eventlog = the CCEL bytes (or NULL)
 *   snp  {"attestation_report": {virtee/sev 7 serde struct}, "cert_chain": [..]|null}
 *                                                -> evidence = the 1184-byte
 *        ATTESTATION_REPORT rebuilt as the sev crate encodes it (reserved bytes
 *        zero: what its signature covers), aux = the certificates as a GHCB
 *        certificate table (cocoon_snp_inputs.certs), or NULL without cert_chain.
 */
typedef struct {
	cocoon_kbs_tee tee;
	uint8_t *evidence;
	size_t evidence_len;
	uint8_t *aux;
	size_t aux_len;
	uint8_t *eventlog;
	size_t eventlog_len;
} cocoon_kbs_evidence;

COCOON_API int cocoon_kbs_evidence_decode(cocoon_kbs_evidence *out, cocoon_kbs_tee tee, const json_t *primary);
/* The reverse, for the guest: the shape for in->tee from the raw bytes. */
COCOON_API int cocoon_kbs_evidence_encode(json_t **out, const cocoon_kbs_evidence *in);
COCOON_API void cocoon_kbs_evidence_clear(cocoon_kbs_evidence *e);

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

/* Trustee's error variants (kbs/src/error.rs), plus two of cocoon's own. */
typedef enum {
	COCOON_KBS_ERR_ADMIN_AUTH_ACCESS = 0,
	COCOON_KBS_ERR_ATTESTATION,        /* "AttestationError" */
	COCOON_KBS_ERR_INVALID_REQUEST_PATH,
	COCOON_KBS_ERR_JWE,                /* "JweError" */
	COCOON_KBS_ERR_PLUGIN_NOT_FOUND,
	COCOON_KBS_ERR_PLUGIN_INTERNAL,    /* "PluginInternalError" */
	COCOON_KBS_ERR_POLICY_DENY,
	COCOON_KBS_ERR_PARSE_POLICY,       /* "ParsePolicyError" */
	COCOON_KBS_ERR_POLICY_ENGINE,      /* "PolicyEngineError" */
	COCOON_KBS_ERR_SERDE,              /* "SerdeError" */
	COCOON_KBS_ERR_TOKEN_NOT_FOUND,
	COCOON_KBS_ERR_TOKEN_VERIFIER,     /* "TokenVerifierError" */
	COCOON_KBS_ERR_PAYLOAD_TOO_LARGE,  /* cocoon: 413 */
	COCOON_KBS_ERR_STORAGE_UNAVAILABLE,/* cocoon: 503 */
	COCOON_KBS_ERR__COUNT
} cocoon_kbs_error_type;

#define COCOON_KBS_ERROR_TYPE_PREFIX "https://github.com/confidential-containers/kbs/errors/"

/* The variant name, e.g. "PolicyDeny". */
COCOON_API const char *cocoon_kbs_error_type_name(cocoon_kbs_error_type t);
/* {"type": PREFIX<Variant>, "detail": detail} (detail is escaped; never put secrets in it). */
COCOON_API int cocoon_kbs_error_body(char **out, cocoon_kbs_error_type t, const char *detail);

/* ---------------------------------------------------------------------------
 * EAR attestation results (draft-ietf-rats-ear, as Trustee emits them)
 * ------------------------------------------------------------------------- */

/* AR4SI trustworthiness vector, in its claim order. 0 means "no claim". */
typedef struct {
	int8_t instance_identity, configuration, executables, file_system, hardware, runtime_opaque,
		storage_opaque, sourced_data;
} cocoon_kbs_trust_vector;

typedef enum {
	COCOON_KBS_EAR_NONE = 0,
	COCOON_KBS_EAR_AFFIRMING,
	COCOON_KBS_EAR_WARNING,
	COCOON_KBS_EAR_CONTRAINDICATED
} cocoon_kbs_ear_status;

/* "none", "affirming", "warning", "contraindicated". */
COCOON_API const char *cocoon_kbs_ear_status_name(cocoon_kbs_ear_status s);
/* The worst tier of the vector (AR4SI: 2..31 affirming, 32..95 warning,
 * 96..127 contraindicated, -1..1 none; negatives mirror). */
COCOON_API cocoon_kbs_ear_status cocoon_kbs_ear_status_of(const cocoon_kbs_trust_vector *tv);

struct cocoon_result;
/*
 * The trust vector of a verification result (the table in docs/kbs.md,
 * section "Trust vector"). reference_values_matched says that an attestation
 * policy compared the measurements with reference values and permitted.
 */
COCOON_API void cocoon_kbs_trust_vector_from_result(cocoon_kbs_trust_vector *out, const struct cocoon_result *r,
                                                    int reference_values_matched);

typedef struct {
	unsigned int version;
	cocoon_kbs_tee tee;                /* names the annotated-evidence member ("sgx", "tdx", "snp") */
	const json_t *claims;              /* the parsed evidence claims (copied) */
	const json_t *tee_pubkey;          /* runtime_data_claims.tee-pubkey (copied) */
	const char *nonce;                 /* runtime_data_claims.nonce; NULL omits it */
	const json_t *init_data_claims;    /* NULL omits init_data_claims */
	int simulated;                     /* evidence from cocoon's simulated TEE */
	cocoon_kbs_trust_vector tv;
	int status_override;               /* 0: status from tv; else a cocoon_kbs_ear_status + 1 */
	const char *policy_id;             /* ear.appraisal-policy-id; NULL: "default" */
	const char *issuer;                /* iss; NULL: "cocoon-attestd" */
	const char *verifier_build;        /* ear.verifier-id.build; NULL: "cocoon" */
	time_t iat;                        /* 0: now */
	unsigned int lifetime;             /* seconds until exp; 0: 300 */
} cocoon_kbs_ear_input;

#define COCOON_KBS_EAR_INPUT_VERSION 1
#define COCOON_KBS_EAR_INPUT_INIT { .version = COCOON_KBS_EAR_INPUT_VERSION }

/*
 * The claims set: {"eat_profile", "iat", "exp", "iss", "ear.verifier-id",
 * "submods": {"cpu0": {"ear.status", "ear.trustworthiness-vector",
 * "ear.appraisal-policy-id", "ear.veraison.annotated-evidence": {<tee>:
 * claims, "simulated", "runtime_data_claims": {"nonce", "tee-pubkey"},
 * "init_data_claims"?}}}}.
 */
COCOON_API int cocoon_kbs_ear_claims_build(json_t **out, const cocoon_kbs_ear_input *in);

/* Signs claims as a compact JWS: ES256 with a P-256 private key, header
 * {"alg":"ES256","typ":"JWT","jwk":{public key}}. */
COCOON_API int cocoon_kbs_ear_sign(char **out, const json_t *claims, const EVP_PKEY *p256_private);

/*
 * Verifies an EAR token the broker issued, as presented with
 * `Authorization: Bearer <token>` on a resource request ("Bearer " prefix
 * allowed): ES256 by signer (the broker's own P-256 key; the "jwk" in the
 * token header is never used, unlike Trustee's insecure_header_jwk), "exp"
 * required and not past (leeway seconds of skew), "iat" not in the future,
 * and a tee-pubkey present. now 0 means the current time. *claims (may be
 * NULL) gets the claims.
 */
COCOON_API int cocoon_kbs_ear_verify(json_t **claims, const char *token, const EVP_PKEY *signer, time_t now,
                                     unsigned int leeway);

/* The tee-pubkey an EAR token's claims carry
 * (/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey); borrowed. */
COCOON_API const json_t *cocoon_kbs_ear_tee_pubkey(const json_t *claims);

/* ---------------------------------------------------------------------------
 * Admin authentication
 * ------------------------------------------------------------------------- */

/* Loads the admin public key (PEM SubjectPublicKeyInfo): Ed25519 or EC P-256 only. */
COCOON_API int cocoon_kbs_admin_key_load(EVP_PKEY **out, const char *pem, size_t len);

typedef struct {
	unsigned int version;
	time_t now;                        /* 0: the current time */
	unsigned int leeway;               /* clock skew allowed on exp/nbf/iat; default 60 */
	unsigned int max_lifetime;         /* exp - iat at most this; 0: 3600 */
} cocoon_kbs_admin_options;

#define COCOON_KBS_ADMIN_OPTIONS_VERSION 1
#define COCOON_KBS_ADMIN_OPTIONS_INIT { .version = COCOON_KBS_ADMIN_OPTIONS_VERSION, .leeway = 60 }

/*
 * Verifies an admin JWT (compact JWS), given either as the bare token or as
 * the whole "Bearer <JWT>" Authorization value. alg must be "EdDSA" for an
 * Ed25519 key and "ES256" for a P-256 key (no other alg, no "none", no
 * header keys: the key is only the configured one); "exp" and "iat" are
 * required integers. *claims (may be NULL) gets the claims on success.
 */
COCOON_API int cocoon_kbs_admin_verify(json_t **claims, const char *authorization, const EVP_PKEY *admin_key,
                                       const cocoon_kbs_admin_options *opts);

/* Signs an admin JWT (for `cocoon kbs` and tests): alg from the key type
 * (Ed25519 -> EdDSA, P-256 -> ES256). */
COCOON_API int cocoon_kbs_admin_sign(char **out, const json_t *claims, const EVP_PKEY *admin_private);

/* ---------------------------------------------------------------------------
 * Resource paths
 * ------------------------------------------------------------------------- */

#define COCOON_KBS_PATH_SEGMENT_MAX 128

typedef struct {
	char repo[COCOON_KBS_PATH_SEGMENT_MAX + 1];
	char type[COCOON_KBS_PATH_SEGMENT_MAX + 1];
	char tag[COCOON_KBS_PATH_SEGMENT_MAX + 1];
} cocoon_kbs_resource_path;

/*
 * Parses "repo/type/tag" (what follows /kbs/v0/resource/): exactly three
 * segments, each matching ^[A-Za-z0-9_-][A-Za-z0-9_.-]*$ and at most 128
 * bytes. Anything else ("..", ".x", two or four segments, "%2F", empty) is
 * COCOON_EFORMAT naming the segment.
 */
COCOON_API int cocoon_kbs_resource_path_parse(cocoon_kbs_resource_path *out, const char *path, size_t len);

/* ---------------------------------------------------------------------------
 * HTTP transport (src/lib/kbs/http.c): a small HTTP/1.1 client over OpenSSL,
 * one request per connection. Not libcurl: cocoon-run is linked -static.
 * ------------------------------------------------------------------------- */

#define COCOON_KBS_SESSION_COOKIE_MAX 256

/* A broker URL split up: scheme, host (IPv6 without brackets), port, path prefix (no trailing '/'). */
typedef struct {
	int https;
	char host[256];
	char port[8];
	char prefix[512];
} cocoon_kbs_url;

/* Parses http(s)://host[:port][/prefix]; user@, queries and fragments are COCOON_EINVAL. */
COCOON_API int cocoon_kbs_url_parse(cocoon_kbs_url *out, const char *url);
/* 1 for "localhost", 127.0.0.0/8 and ::1. */
COCOON_API int cocoon_kbs_host_is_loopback(const char *host);

typedef struct {
	unsigned int version;
	const char *ca_file;           /* https: the CA bundle (PEM); NULL: the system's default paths */
	int allow_insecure_http;       /* plain http:// to a non-loopback host (simulated evidence only) */
	unsigned int timeout_ms;       /* connect, TLS handshake and each read/write; 0: 10000 */
	size_t max_response;           /* body limit in bytes; 0: COCOON_KBS_MAX_BODY */
} cocoon_kbs_http_options;

#define COCOON_KBS_HTTP_OPTIONS_VERSION 1
#define COCOON_KBS_HTTP_OPTIONS_INIT { .version = COCOON_KBS_HTTP_OPTIONS_VERSION }

typedef struct {
	int status;
	uint8_t *body;                 /* NUL-terminated; may be secret: cleared by _clear */
	size_t body_len;
	char session_cookie[COCOON_KBS_SESSION_COOKIE_MAX]; /* kbs-session-id from Set-Cookie, "" if none */
} cocoon_kbs_http_response;

/*
 * One request: method, base url + path (e.g. "/kbs/v0/auth"), extra header
 * lines ("Name: value", NULL-terminated list, may be NULL), an optional
 * body. Plain http:// to a non-loopback host without allow_insecure_http
 * is COCOON_EINVAL. Connection failures, timeouts and truncated replies are
 * COCOON_EUNAVAILABLE (retry later); an untrusted certificate or a host
 * name mismatch COCOON_EREJECT; a malformed or oversized reply
 * COCOON_EFORMAT. Any HTTP status is success: look at out->status.
 */
COCOON_API int cocoon_kbs_http_request(cocoon_kbs_http_response *out, const cocoon_kbs_http_options *o,
                                       const char *method, const char *url, const char *path,
                                       const char *const *headers, const uint8_t *body, size_t body_len,
                                       const char *content_type);
COCOON_API void cocoon_kbs_http_response_clear(cocoon_kbs_http_response *r);

/*
 * The reply parser, on the bytes received so far: 0 with *out filled when
 * the reply is complete, 1 when more bytes are needed, <0 on a malformed
 * reply, a body over max, or (at_eof) a truncated one.
 */
COCOON_API int cocoon_kbs_http_parse_response(cocoon_kbs_http_response *out, const uint8_t *buf, size_t len,
                                              size_t max, int at_eof);

/* ---------------------------------------------------------------------------
 * The guest client (src/lib/kbs/client.c): the RCAR handshake, then
 * resources. One handshake (auth, evidence, attest) serves every resource of
 * the client; a 401 on a resource runs one fresh handshake. The ephemeral
 * key lives only in memory and is freed with the client.
 * ------------------------------------------------------------------------- */

/* Why a client call failed: callers map these to exit codes (cocoon-run 82..85). */
typedef enum {
	COCOON_KBS_FAIL_NONE = 0,
	COCOON_KBS_FAIL_CONFIG,        /* bad options: URL, plain http, CA bundle, tee */
	COCOON_KBS_FAIL_EVIDENCE,      /* the evidence provider failed */
	COCOON_KBS_FAIL_UNREACHABLE,   /* connect, TLS, timeout, 5xx, a malformed reply */
	COCOON_KBS_FAIL_ATTESTATION,   /* 401 from auth/attest (or again after a fresh handshake) */
	COCOON_KBS_FAIL_POLICY,        /* 403: the resource policy denied */
	COCOON_KBS_FAIL_NOT_FOUND,     /* 404: no such resource (or a bad path) */
	COCOON_KBS_FAIL_PROTOCOL       /* another status, or a reply that does not decrypt */
} cocoon_kbs_failure;

/* "configuration", "evidence", "broker unreachable", "attestation refused", ... */
COCOON_API const char *cocoon_kbs_failure_name(cocoon_kbs_failure f);

typedef struct {
	unsigned int version;
	const char *url;               /* the broker, e.g. https://kbs.example:8080 */
	const char *ca_file;           /* CA bundle for https (NULL: system paths) */
	cocoon_tee tee;                /* SGX, TDX or SNP: evidence and the Request's "tee" */
	const char *provider;          /* evidence provider (cocoon_evidence_options.provider); NULL: auto */
	const char *sim_dir;           /* with provider "sim" */
	const char *init_data;         /* TOML init data or NULL; sent, and bound into sim evidence */
	cocoon_kbs_key_type key_type;  /* 0: EC P-256 */
	unsigned int timeout_ms;       /* per network step; 0: 10000 */
	size_t max_response;           /* 0: COCOON_KBS_MAX_BODY */
} cocoon_kbs_client_options;

#define COCOON_KBS_CLIENT_OPTIONS_VERSION 1
#define COCOON_KBS_CLIENT_OPTIONS_INIT { .version = COCOON_KBS_CLIENT_OPTIONS_VERSION }

typedef struct cocoon_kbs_client cocoon_kbs_client;

/* Checks the options (plain http only to loopback or with provider "sim"); no I/O. Copies the strings. */
COCOON_API int cocoon_kbs_client_new(cocoon_kbs_client **out, const cocoon_kbs_client_options *opts);
/*
 * Fetches "repo/type/tag", handshaking first when needed. *out (NUL-terminated,
 * *len bytes) is a secret: cocoon_zeroize and free it. On error the client's
 * failure says why (cocoon_kbs_client_failure) and the error message names
 * the step and the broker's error type and detail.
 */
COCOON_API int cocoon_kbs_client_get_resource(uint8_t **out, size_t *len, cocoon_kbs_client *c, const char *path);
COCOON_API cocoon_kbs_failure cocoon_kbs_client_failure(const cocoon_kbs_client *c);
/* Zeroizes the token, cookie and key. c may be NULL. */
COCOON_API void cocoon_kbs_client_free(cocoon_kbs_client *c);

#ifdef __cplusplus
}
#endif
#endif
