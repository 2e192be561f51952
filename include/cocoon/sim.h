/*
 * cocoon: the simulated TEE. A simulation directory holds a PKI shaped like
 * the vendors' (keys mode 0600) and current collateral in their formats, so
 * that evidence can be produced and verified on machines without TEEs.
 * Nothing trusts it unless told to (cocoon verify --trust-sim DIR).
 *
 *   DIR/sim.json                 what was generated, and with which options
 *   DIR/intel/root.pem ...       Intel-shaped PKI (certificates and keys)
 *   DIR/intel/collateral-sgx.json, collateral-tdx.json
 *                                TCB info v3, QE identity, both CRLs, chains
 *   DIR/amd/ark.pem, ask.pem, vcek.pem, *-key.pem
 *                                AMD-shaped PKI: ARK and ASK (RSA, RSASSA-PSS
 *                                SHA-384), VCEK (P-384) with the KDS extensions
 *   DIR/amd/chain.pem            ASK then ARK, as AMD KDS serves cert_chain
 *   DIR/amd/crl.der              the CRL, issued by the ARK
 *
 * The simulated ARK and ASK carry a Netscape comment extension that starts
 * with COCOON_SIM_AMD_MARK; the VCEK profile leaves no room for one. The
 * SNP verifier reads it only to explain a rejection (simulation_root) and
 * to refuse a marked ARK that was passed as a trusted chain without
 * trust_simulation: it never grants trust.
 */
#ifndef COCOON_SIM_H
#define COCOON_SIM_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	unsigned int version;
	/* The TCB status the collateral gives the simulated platform: "UpToDate",
	 * "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
	 * "OutOfDate", "OutOfDateConfigurationNeeded" or "Revoked". */
	const char *status;
	unsigned int validity_days;     /* collateral and CRL lifetime; 0 = 365 */
	time_t now;                     /* 0 = the current time */
	const char *snp_product;        /* the simulated AMD chip: "Milan" (NULL), "Genoa" or "Turin" */
} cocoon_sim_init_options;

#define COCOON_SIM_INIT_OPTIONS_VERSION 1
#define COCOON_SIM_INIT_OPTIONS_INIT { COCOON_SIM_INIT_OPTIONS_VERSION, "UpToDate", 0, 0, NULL }

/* Creates DIR (which must not exist or be empty) with a new simulation PKI and collateral. */
COCOON_API int cocoon_sim_init(const char *dir, const cocoon_sim_init_options *opts);

/* Path of a file inside a simulation directory ("intel/root.pem"); caller frees. */
COCOON_API char *cocoon_sim_path(const char *dir, const char *rel);

/* The subject CN prefix of every simulated certificate. */
#define COCOON_SIM_CN_PREFIX "cocoon Simulated SGX"

/* How the Netscape comment of the simulated ARK and ASK begins. */
#define COCOON_SIM_AMD_MARK "cocoon simulated AMD"

#ifdef __cplusplus
}
#endif
#endif
