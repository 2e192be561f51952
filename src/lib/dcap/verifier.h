/* The verifier object: trust anchors and the verification caches. */
#ifndef COCOON_DCAP_VERIFIER_H
#define COCOON_DCAP_VERIFIER_H

#include <openssl/x509.h>
#include "cocoon/verify.h"
#include "common/cache.h"

struct cocoon_verifier {
	X509 *intel_root;            /* pinned Intel SGX Root CA (or a trusted simulation root) */
	uint8_t intel_root_digest[32];
	int trust_simulation;
	cocoon_cache *collateral;    /* verified TCB info, QE identity and CRLs */
	cocoon_cache *platform;      /* verified PCK chain + QE report, per collateral */
	cocoon_cache *chains;        /* verified issuer chains, by chain bytes + CRLs */
	cocoon_cache *certs;         /* parsed certificates by DER digest (no trust implied) */
	cocoon_cache *snp;           /* verified VCEK/VLEK chains (src/lib/snp), by exact bytes */
};

/* Drops only the platform tier (benchmarks: "warm collateral, new platform"). */
void cocoon_verifier_cache_clear_platform(cocoon_verifier *v);

#endif
