/*
 * X.509 chains and CRLs for DCAP, built on OpenSSL's X509_verify_cert with
 * CRL checking on every certificate (fail-closed). cocoon adds what OpenSSL
 * does not check: the pinned root (byte-exact), Intel's certificate profile
 * (v3, ecdsa-with-SHA256, P-256 keys, subject CN phrases), CRL profile (CRL
 * number and authority key identifier) and CRL issuer rules.
 */
#ifndef COCOON_DCAP_X509_H
#define COCOON_DCAP_X509_H

#include <openssl/x509.h>
#include "common/util.h"
#include "common/cache.h"

typedef enum {
	COCOON_CHAIN_PCK = 1,        /* PCK leaf -> PCK Platform/Processor CA -> root */
	COCOON_CHAIN_TCB_SIGNING = 2, /* TCB Signing cert -> root */
	COCOON_CHAIN_PCK_CA = 3,     /* PCK Platform/Processor CA -> root (the PCK CRL's issuer chain) */
	/*
	 * PCK leaf -> an already verified PCK CA, given as trusted_root with
	 * OpenSSL's partial-chain mode; only the PCK CRL is needed. Together
	 * with a COCOON_CHAIN_PCK_CA verification of the same CA at the same
	 * time it checks what one COCOON_CHAIN_PCK verification checks.
	 */
	COCOON_CHAIN_PCK_LEAF = 4
} cocoon_chain_role;

typedef struct {
	STACK_OF(X509) *chain;       /* leaf first; the last must be the root itself */
	X509 *trusted_root;          /* the pinned anchor (validated when pinned: cocoon_verifier_new) */
	X509_CRL *root_crl;          /* issued by the root; required */
	X509_CRL *pck_crl;           /* issued by the PCK CA; required for COCOON_CHAIN_PCK */
	time_t at;
	cocoon_chain_role role;
	cocoon_check chain_check;    /* reported for chain/profile failures (PCK_CHAIN, TCB_INFO_CHAIN, ...) */
	int allow_expired_crl;       /* a CRL past nextUpdate is reported, not fatal */
} cocoon_chain_spec;

typedef struct {
	int crl_expired;             /* set only when allow_expired_crl */
	time_t earliest_expiry;      /* min(notAfter of chain, nextUpdate of CRLs used) */
} cocoon_chain_result;

/*
 * Verifies spec->chain. On rejection returns COCOON_EREJECT with f->check one
 * of: spec->chain_check (signature, issuer/subject DN, validity, basic
 * constraints, pinned root, profile), COCOON_CHECK_ROOT_CA_CRL /
 * COCOON_CHECK_PCK_CRL (missing, unsigned, stale, wrong issuer, bad
 * profile), or COCOON_CHECK_CERT_REVOKED (names the certificate and serial).
 */
int cocoon_x509_verify_chain(cocoon_chain_result *res, cocoon_failure *f, const cocoon_chain_spec *spec);

/* Parses a PEM bundle into certificates, in order. COCOON_EFORMAT names the index. */
int cocoon_pem_chain_parse(STACK_OF(X509) **out, const char *pem, size_t len);
/* The same, sharing parsed certificates through `certs` (keyed by DER digest). */
int cocoon_pem_chain_parse_cached(STACK_OF(X509) **out, const char *pem, size_t len, cocoon_cache *certs);
/* Adds a parsed certificate to such a cache (it takes its own reference). */
int cocoon_cert_cache_put(cocoon_cache *certs, const uint8_t digest[32], X509 *x);
/* Parses a CRL in DER or PEM. COCOON_EFORMAT when neither. */
int cocoon_crl_parse(X509_CRL **out, const uint8_t *data, size_t len);
/* Parses one certificate in DER or PEM. */
int cocoon_cert_parse(X509 **out, const uint8_t *data, size_t len);
/* SHA-256 of the certificate's DER encoding. */
int cocoon_cert_digest(uint8_t out[32], X509 *cert);

/* The built-in Intel SGX Root CA (DER). */
extern const uint8_t cocoon_intel_sgx_root_der[];
extern const size_t cocoon_intel_sgx_root_der_len;

/* Builds an EVP_PKEY for a raw P-256 point x||y (64 bytes). NULL on failure. */
EVP_PKEY *cocoon_p256_pubkey_from_raw(const uint8_t xy[64]);
/* Verifies an ECDSA-P256/SHA-256 signature given as raw r||s (64 bytes). 1 valid, 0 invalid, <0 error. */
int cocoon_p256_verify_raw(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *msg, size_t len);

#endif
