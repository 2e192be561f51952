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
} cocoon_sim_init_options;

#define COCOON_SIM_INIT_OPTIONS_VERSION 1
#define COCOON_SIM_INIT_OPTIONS_INIT { COCOON_SIM_INIT_OPTIONS_VERSION, "UpToDate", 0, 0 }

/* Creates DIR (which must not exist or be empty) with a new simulation PKI and collateral. */
int cocoon_sim_init(const char *dir, const cocoon_sim_init_options *opts);

/* Path of a file inside a simulation directory ("intel/root.pem"); caller frees. */
char *cocoon_sim_path(const char *dir, const char *rel);

/* The subject CN prefix of every simulated certificate. */
#define COCOON_SIM_CN_PREFIX "cocoon Simulated SGX"

#ifdef __cplusplus
}
#endif
#endif
