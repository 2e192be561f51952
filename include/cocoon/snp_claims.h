/* Normalized claims of an AMD SEV-SNP attestation report (filled by src/lib/snp). */
#ifndef COCOON_SNP_CLAIMS_H
#define COCOON_SNP_CLAIMS_H

#include <stdint.h>

/* A decoded TCB_VERSION. Milan/Genoa: byte 0 BL, 1 TEE, 6 SNP, 7 microcode;
 * Turin: byte 0 FMC, 1 BL, 2 TEE, 3 SNP, 7 microcode. */
typedef struct {
	uint8_t bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl; /* fmc only on Turin */
	int has_fmc;
	uint64_t raw;
} cocoon_snp_tcb;

typedef struct {
	uint32_t version;            /* report version 2..5 */
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t report_data[64];
	uint64_t policy;             /* raw guest policy; decoded by cocoon_snp_claims_to_json */
	uint32_t vmpl;
	uint32_t guest_svn;
	uint8_t family_id[16];
	uint8_t image_id[16];
	int chip_id_masked;          /* MASK_CHIP_KEY: chip_id is all zero */
	uint8_t chip_id[64];
	int signer;                  /* 0 VCEK, 1 VLEK, 7 none */
	int author_key_en;
	char product[16];            /* "Milan", "Genoa", "Turin" */
	cocoon_snp_tcb current_tcb, reported_tcb, committed_tcb, launch_tcb;
	uint64_t platform_info;
	int debug;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	int has_cpuid;               /* v3+ */
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
	uint8_t id_key_digest[48], author_key_digest[48];
	uint8_t report_id[32], report_id_ma[32];
	int has_mit_vectors;         /* v5 */
	uint64_t launch_mit_vector, current_mit_vector;
} cocoon_snp_claims;

#endif
