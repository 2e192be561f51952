/*
 * Simulated Azure confidential VM: an HCL report wrapping a simulated SNP
 * report (signed by the sim VCEK) or TDREPORT (with a sim TD quote), runtime claims carrying a simulated vTPM
 * AK, and a TPM2 quote by that AK, as az-snp-vtpm evidence v2. Small enough
 * (at most COCOON_SIM_VTPM_MAX_HCL bytes) for a 2048-byte swtpm NV index.
 * The AK lives in DIR/azure/ak-key.pem (RSA-2048, mode 0600), made on first use.
 */
#ifndef COCOON_SIM_VTPM_SIM_H
#define COCOON_SIM_VTPM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "cocoon/vtpm.h"
#include "sim/dcap_sim.h"
#include "sim/snp_sim.h"

#define COCOON_SIM_VTPM_MAX_HCL 2048

typedef struct {
	const uint8_t *nonce;       /* TPM extraData and user-data (zero-padded to 64) */
	size_t nonce_len;           /* 1..64 */
	uint32_t hash_type;         /* COCOON_HCL_HASH_*; 0: SHA-256 */
	const uint8_t *measurement; /* 48 bytes or NULL (zero) */
	const char *vm_unique_id;   /* NULL: a fixed simulated id */
	int secure_boot;            /* vm-configuration secure-boot */
} cocoon_sim_vtpm_params;

/* Loads DIR/azure/ak-key.pem, creating it (0600) when absent. */
int cocoon_sim_vtpm_ak(EVP_PKEY **out, const char *dir);

/* The runtime-claims JSON (the HCL variable data) for this AK; caller frees. */
int cocoon_sim_vtpm_runtime_claims(char **out, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p);

/* HCL report = header | hw report (zero-padded to 1184) | IGVM data | var data. Caller frees. */
int cocoon_sim_hcl_report(uint8_t **out, size_t *out_len, const uint8_t *hw, size_t hw_len, uint32_t report_type,
                          uint32_t hash_type, const uint8_t *var, size_t var_len);

/* A TPM2 quote over 24 SHA-256 PCRs with extraData = nonce, signed RSASSA-SHA256 by ak. */
int cocoon_sim_vtpm_quote(cocoon_vtpm_evidence *ev, EVP_PKEY *ak, const uint8_t *nonce, size_t nonce_len,
                          const uint8_t pcrs[24][32]);

/* The HCL report alone, for an AK that lives elsewhere (a TPM: only its public key is read). */
int cocoon_sim_az_snp_hcl(uint8_t **out, size_t *out_len, const cocoon_sim_snp_pki *pki, EVP_PKEY *ak,
                          const cocoon_sim_vtpm_params *p);

/* The whole az-snp-vtpm evidence (v2 JSON) from the sim SNP platform and AK. Caller frees. */
int cocoon_sim_az_snp_evidence(char **out, const cocoon_sim_snp_pki *pki, EVP_PKEY *ak,
                               const cocoon_sim_vtpm_params *p);

/*
 * az-tdx-vtpm evidence: a TDREPORT (consistent hashes, random MAC) in the HCL
 * report and the TD quote made from it by the sim QE (measurement -> MRTD).
 */
int cocoon_sim_az_tdx_evidence(char **out, const cocoon_sim_pki *pki, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p);
/* The HCL report and TD quote alone, for an AK that lives elsewhere (a TPM). */
int cocoon_sim_az_tdx_hcl(uint8_t **hcl, size_t *hcl_len, uint8_t **td_quote, size_t *td_quote_len,
                          const cocoon_sim_pki *pki, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p);

#endif
