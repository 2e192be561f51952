/*
 * cocoon: attestation tokens (JWS compact, RFC 7515/7519) as cocoon-attestd
 * issues them, and their verification by relying parties.
 *
 * Verification is deliberately stricter than the @azure/attestation client:
 * alg "none" is refused, the key is taken only from the trusted JWKS by kid
 * (never from the token's own x5c/jwk headers), exp is required, and jku
 * and iss are compared exactly when the caller names them.
 */
#ifndef COCOON_TOKEN_H
#define COCOON_TOKEN_H

#include <jansson.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest token or JWKS document accepted. */
#define COCOON_TOKEN_MAX_LEN (1024 * 1024)

/* base64url without padding (RFC 4648 §5); caller frees. */
COCOON_API int cocoon_b64url_encode(char **out, const uint8_t *in, size_t len);
/* Standard base64 with padding (x5c values); caller frees. */
COCOON_API int cocoon_base64_encode(char **out, const uint8_t *in, size_t len);
/*
 * Decodes base64url or standard base64, padding optional (MAA clients send
 * both). Anything else (whitespace, mixed garbage, a dangling character) is
 * COCOON_EFORMAT naming the byte offset. *out is NUL-terminated; caller frees.
 */
COCOON_API int cocoon_b64_decode(uint8_t **out, size_t *out_len, const char *in, size_t len);

/* A set of trusted token-signing keys (a JWKS document). Immutable once made. */
typedef struct cocoon_jwks cocoon_jwks;

/*
 * Parses a JWKS ({"keys":[...]}). Each key needs "kty" ("RSA" or "EC" P-256)
 * and "kid"; the public key comes from x5c[0] (standard base64 DER) or from
 * n/e or crv/x/y; when both are present they must agree.
 */
COCOON_API int cocoon_jwks_parse(cocoon_jwks **out, const char *json, size_t len);
/* Reads a JWKS from a file, or fetches it from an http:// or https:// URL
 * (https verifies the server against ca_file, or the system store when NULL). */
COCOON_API int cocoon_jwks_load(cocoon_jwks **out, const char *file_or_url, const char *ca_file, int timeout_seconds);
COCOON_API void cocoon_jwks_free(cocoon_jwks *k);
COCOON_API size_t cocoon_jwks_count(const cocoon_jwks *k);

typedef struct {
	unsigned int version;
	const char *issuer;     /* when set, "iss" must equal it */
	const char *jku;        /* when set, the header "jku" must equal it */
	time_t now;             /* 0: the current time */
	unsigned int leeway;    /* seconds of clock skew allowed on exp/nbf/iat */
} cocoon_token_verify_options;

#define COCOON_TOKEN_VERIFY_OPTIONS_VERSION 1
#define COCOON_TOKEN_VERIFY_OPTIONS_INIT { COCOON_TOKEN_VERIFY_OPTIONS_VERSION, NULL, NULL, 0, 0 }

/*
 * Verifies a compact JWS token signed RS256, PS256 or ES256 by a key of jwks.
 * On success *claims (and *header when not NULL) hold new references.
 * A token that fails a check returns COCOON_EREJECT with the reason
 * ("alg 'none' is not accepted", "kid 'x' is not in the JWKS", "expired at
 * ..."); a malformed one returns COCOON_EFORMAT naming the part.
 */
COCOON_API int cocoon_token_verify(json_t **claims, json_t **header, const char *token, size_t len,
                                   const cocoon_jwks *jwks, const cocoon_token_verify_options *opts);

/*
 * Verifies a compact JWS with one given public key (an EVP_PKEY *), for
 * documents signed by a key the caller already holds (signed policies).
 * alg must be RS256, PS256 or ES256 and match the key type. *payload is the
 * decoded payload (NUL-terminated; caller frees).
 */
COCOON_API int cocoon_jws_verify_with_key(uint8_t **payload, size_t *payload_len, const char *jws, size_t len,
                                          void *evp_pkey);

/* ---- issuing tokens ---- */

/*
 * A token signer: one private key, decoded once. Immutable and thread-safe
 * once made. alg is "RS256", "PS256" (RSA, 2048 bits or more) or "ES256"
 * (EC P-256), and must match the key.
 */
typedef struct cocoon_token_signer cocoon_token_signer;

typedef struct {
	unsigned int version;
	const char *alg;
	const char *key_pem;        /* PEM private key (required) */
	const char *cert_pem;       /* PEM certificate of the key, served as x5c; NULL: a self-signed one */
	const char *cn;             /* CN of that self-signed certificate; NULL: "cocoon token signing" */
	const char *key_source, *cert_source; /* where they came from, for messages; may be NULL */
} cocoon_token_signer_options;

#define COCOON_TOKEN_SIGNER_OPTIONS_VERSION 1
#define COCOON_TOKEN_SIGNER_OPTIONS_INIT { .version = COCOON_TOKEN_SIGNER_OPTIONS_VERSION, .alg = "RS256" }

COCOON_API int cocoon_token_signer_new(cocoon_token_signer **out, const cocoon_token_signer_options *opts);
COCOON_API void cocoon_token_signer_free(cocoon_token_signer *s);
/* The key id: its RFC 7638 SHA-256 thumbprint. */
COCOON_API const char *cocoon_token_signer_kid(const cocoon_token_signer *s);
COCOON_API const char *cocoon_token_signer_alg(const cocoon_token_signer *s);
/* The public JWKS document ({"keys":[{kty, ..., alg, x5c, kid}]}, compact JSON). */
COCOON_API const char *cocoon_token_signer_jwks(const cocoon_token_signer *s);
/* Signs claims as a compact JWS with header {alg, typ:"JWT", kid[, jku]}. Caller frees *out. */
COCOON_API int cocoon_token_signer_sign(char **out, cocoon_token_signer *s, const json_t *claims, const char *jku);
/* Makes a new key for alg and a self-signed certificate for it, both PEM (caller frees; zeroize the key). */
COCOON_API int cocoon_token_key_generate(char **key_pem, char **cert_pem, const char *alg, const char *cn);

struct cocoon_attest_result;

typedef struct {
	unsigned int version;
	const char *issuer;         /* "iss" */
	const char *jku;            /* header "jku"; NULL: none */
	const char *nonce;          /* "nonce"; NULL: none */
	const char *policy_hash;    /* "x-ms-policy-hash"; NULL: none */
	int lifetime;               /* seconds, unless the policy set report_validity_in_minutes; 0: 8 hours */
	time_t now;                 /* "iat"/"nbf"; 0: the current time */
	const char *jti;            /* NULL: 32 random bytes as hex */
} cocoon_token_issue_options;

#define COCOON_TOKEN_ISSUE_OPTIONS_VERSION 1
#define COCOON_TOKEN_ISSUE_OPTIONS_INIT { .version = COCOON_TOKEN_ISSUE_OPTIONS_VERSION }

/*
 * The claims of a token for an accepted appraisal: its claims, then iss,
 * iat, nbf, exp, jti, x-ms-policy-hash, nonce and "cocoon" (the verifier's
 * result), which the policy cannot override. COCOON_EINVAL when the result
 * is not an accept. Caller owns *out.
 */
COCOON_API int cocoon_token_claims(json_t **out, const struct cocoon_attest_result *r,
                                   const cocoon_token_issue_options *opts);
/* cocoon_token_claims signed by s; s NULL: an unsigned token (alg none, as MAA returns for draft policies). */
COCOON_API int cocoon_token_issue(char **out, cocoon_token_signer *s, const struct cocoon_attest_result *r,
                                  const cocoon_token_issue_options *opts);

#ifdef __cplusplus
}
#endif
#endif
