/*
 * cocoon: Microsoft Azure Attestation (MAA) claim-rule policies, versions
 * 1.0 to 1.2: a parser that compiles policy text and an evaluator that runs
 * it over the claims of verified evidence. docs/policy.md describes the
 * grammar, the semantics and the incoming claim names per TEE.
 *
 * A compiled cocoon_policy is immutable: one policy may be evaluated by many
 * threads at once.
 */
#ifndef COCOON_POLICY_H
#define COCOON_POLICY_H

#include <jansson.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hostile-input limits; exceeding one is an error that names the limit. */
#define COCOON_POLICY_MAX_LEN (1024 * 1024)     /* bytes of policy text */
#define COCOON_POLICY_MAX_RULES 4096            /* rules in all sections */
#define COCOON_POLICY_MAX_CONDITIONS 32         /* conditions joined by && in one rule */
#define COCOON_POLICY_MAX_PROPERTIES 16         /* property tests inside one [...] */
#define COCOON_POLICY_MAX_STRING 65536          /* bytes of one string literal */
#define COCOON_POLICY_MAX_CLAIMS 65536          /* incoming plus added claims */
#define COCOON_POLICY_MAX_STEPS (1L << 22)      /* claim comparisons per evaluation */

typedef struct cocoon_policy cocoon_policy;

/*
 * Compiles len bytes of policy text (UTF-8, need not be NUL-terminated).
 * A syntax error returns COCOON_EFORMAT with a message such as
 *   policy:3:17: expected ']' but found '=>'
 * (1-based line and column, columns counted in characters).
 */
COCOON_API int cocoon_policy_parse(cocoon_policy **out, const char *text, size_t len);
COCOON_API void cocoon_policy_free(cocoon_policy *p);

/* The policy's declared grammar version, e.g. 1 and 2 for "version=1.2;". */
COCOON_API int cocoon_policy_version(unsigned int *major, unsigned int *minor, const cocoon_policy *p);

/* What a policy decided. Release with cocoon_policy_outcome_free. */
typedef struct {
	int permitted;          /* 1: an authorization rule permitted and none denied */
	unsigned int denied_line; /* line of the deny() rule that fired; 0 otherwise */
	char denied_by[512];    /* why not permitted, e.g. "rule at line 4: c:[...] => deny();" */
	json_t *issued;         /* object: claim type -> value, or an array of distinct values */
	json_t *properties;     /* object: property name -> value (last issueproperty wins) */
} cocoon_policy_outcome;

/*
 * Evaluates p over incoming: a JSON object mapping each claim type to a
 * string, integer or boolean value, or to an array of them (one claim per
 * element). Objects and nested arrays become string claims holding their
 * compact JSON text, as MAA represents JSON claims; null means absent.
 * Incoming claims have issuer "AttestationService".
 *
 * Returns 0 when the policy ran to a decision (see out->permitted) or a
 * negative error when it could not run (bad arguments, a real-number claim,
 * an evaluation limit exceeded, out of memory); out is then empty.
 */
COCOON_API int cocoon_policy_evaluate(cocoon_policy_outcome *out, const cocoon_policy *p, const json_t *incoming);
COCOON_API void cocoon_policy_outcome_free(cocoon_policy_outcome *o);

/*
 * MAA's x-ms-policy-hash of a policy text:
 * BASE64URL(SHA256(UTF8(BASE64URL(UTF8(policy text))))), without padding:
 * 43 characters plus NUL.
 */
COCOON_API int cocoon_policy_hash(char out[44], const char *text, size_t len);

/* The default policy text for a TEE (permit, and issue the standard claims); NULL for an unknown TEE. */
COCOON_API const char *cocoon_policy_default(cocoon_tee tee);

#ifdef __cplusplus
}
#endif
#endif
