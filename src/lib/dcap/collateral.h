/* Raw, unverified DCAP collateral: exact bytes as received. */
#ifndef COCOON_DCAP_COLLATERAL_H
#define COCOON_DCAP_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>
#include "cocoon/dcap.h"

/* Largest JSON text cocoon parses as collateral (Intel's are KiB to a few MiB of CRL hex). */
#define COCOON_COLLATERAL_JSON_MAX ((size_t)64 << 20)

struct cocoon_collateral {
	char *pck_crl_issuer_chain;       /* PEM */
	size_t pck_crl_issuer_chain_len;
	uint8_t *root_ca_crl;             /* DER (converted from PEM if needed) */
	size_t root_ca_crl_len;
	uint8_t *pck_crl;                 /* DER */
	size_t pck_crl_len;
	char *tcb_info_issuer_chain;      /* PEM */
	size_t tcb_info_issuer_chain_len;
	char *tcb_info;                   /* exact signed tcbInfo JSON bytes */
	size_t tcb_info_len;
	uint8_t tcb_info_signature[64];   /* r || s */
	char *qe_identity_issuer_chain;   /* PEM */
	size_t qe_identity_issuer_chain_len;
	char *qe_identity;                /* exact signed enclaveIdentity JSON bytes */
	size_t qe_identity_len;
	uint8_t qe_identity_signature[64];
	uint8_t digest[32];               /* SHA-256 over all fields above: cache key */
};

/* Computes c->digest; called by both constructors. */
int cocoon_collateral_digest(struct cocoon_collateral *c);

/*
 * Finds the exact bytes of the value of top-level member `key` in a JSON
 * object text (used for the PCS bodies, whose signature covers the bytes of
 * the "tcbInfo"/"enclaveIdentity" value as sent). Uses jansson to validate
 * and to delimit each value. *start points into json. Returns
 * COCOON_ENOTFOUND when the object has no such member, COCOON_EFORMAT for
 * anything but one well-formed object with unique keys.
 */
int cocoon_json_member_span(const char **start, size_t *len, const char *json, size_t json_len,
                            const char *key);

#endif
