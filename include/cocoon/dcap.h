/*
 * cocoon: Intel DCAP quotes (SGX v3, TDX v4/v5) and their collateral.
 */
#ifndef COCOON_DCAP_H
#define COCOON_DCAP_H

#include "common.h"
#include "verify.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cocoon_collateral cocoon_collateral;

/*
 * Collateral in the layout of the vectors' collateral.json: hex DER CRLs,
 * PEM issuer chains, the exact signed tcb_info / qe_identity JSON strings and
 * hex r||s signatures. Malformed JSON or fields return COCOON_EFORMAT with
 * the field named.
 */
COCOON_API int cocoon_collateral_from_json(cocoon_collateral **out, const char *json, size_t len);
/* The same layout back, compact JSON (caller frees *out): what attestd's store keeps. */
COCOON_API int cocoon_collateral_to_json(char **out, const cocoon_collateral *c);

/* Intel PCS/PCCS v4 responses as files' contents. */
typedef struct {
	const char *tcb_info;               /* {"tcbInfo":...,"signature":"..."} */
	size_t tcb_info_len;
	const char *tcb_info_issuer_chain;  /* PEM */
	size_t tcb_info_issuer_chain_len;
	const char *qe_identity;            /* {"enclaveIdentity":...,"signature":"..."} */
	size_t qe_identity_len;
	const char *qe_identity_issuer_chain; /* PEM; NULL: same as tcb_info_issuer_chain */
	size_t qe_identity_issuer_chain_len;
	const uint8_t *pck_crl;             /* DER or PEM */
	size_t pck_crl_len;
	const char *pck_crl_issuer_chain;   /* PEM */
	size_t pck_crl_issuer_chain_len;
	const uint8_t *root_ca_crl;         /* DER or PEM */
	size_t root_ca_crl_len;
} cocoon_pcs_collateral;

COCOON_API int cocoon_collateral_from_pcs(cocoon_collateral **out, const cocoon_pcs_collateral *pcs);
COCOON_API void cocoon_collateral_free(cocoon_collateral *c);

/*
 * Verifies a DCAP quote against collateral at opts->at. Returns 0 when the
 * verification ran to a verdict (accepted or rejected: see result->accepted),
 * or a negative error when it could not run (bad arguments, out of memory).
 */
COCOON_API int cocoon_verifier_verify_dcap(cocoon_result *result, cocoon_verifier *v,
                                            const uint8_t *quote, size_t quote_len,
                                            const cocoon_collateral *collateral,
                                            const cocoon_verify_options *opts);

/*
 * Verifies collateral alone at opts->at: issuer chains to the trusted root,
 * both CRLs, the TCB info and QE identity signatures and their dates. As
 * cocoon_verifier_verify_dcap: 0 with a verdict, or a negative error.
 */
COCOON_API int cocoon_verifier_verify_collateral(cocoon_result *result, cocoon_verifier *v,
                                                 const cocoon_collateral *collateral,
                                                 const cocoon_verify_options *opts);

/* Decodes every field of a quote as a JSON object (caller frees). */
COCOON_API int cocoon_quote_inspect_json(char **out, const uint8_t *quote, size_t quote_len);
/* Human-readable decoding (caller frees). */
COCOON_API int cocoon_quote_inspect_text(char **out, const uint8_t *quote, size_t quote_len);

#ifdef __cplusplus
}
#endif
#endif
