/*
 * Simulated AMD SEV-SNP platform: a PKI shaped like AMD's KDS (ARK
 * self-signed, ASK issued by the ARK, both RSA with RSASSA-PSS/SHA-384; a
 * P-384 VCEK with the KDS extensions; a CRL issued by the ARK), attestation
 * reports signed by the VCEK in the exact ABI layout, and the extended
 * report's certificate table. The verifier treats its output exactly like
 * real evidence; only the trust anchor differs.
 *
 * Used by tests (binding and revocation paths no real vector shows), by
 * `cocoon sim snp-report` and by the sim evidence provider.
 */
#ifndef COCOON_SIM_SNP_SIM_H
#define COCOON_SIM_SNP_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "cocoon/snp.h"

typedef struct {
	time_t not_before;            /* certificates and CRL thisUpdate */
	time_t not_after;             /* certificates */
	time_t crl_next_update;
	/* "Milan", "Genoa" or "Turin" (productName gets AMD's stepping suffix,
	 * e.g. "Milan-B0"), or a full productName such as "Genoa-B1". */
	const char *product;
	uint8_t bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl; /* the VCEK's TCB; fmc on Turin only */
	uint8_t hwid[64];             /* all zero: random; Turin keeps the first 8 bytes */
	unsigned int rsa_bits;        /* ARK and ASK modulus; AMD uses 4096 */
} cocoon_sim_snp_pki_options;

/*
 * Sets defaults: validity 2020-01-01T00:00:00Z..2049-12-31T23:59:59Z (also
 * the CRL's nextUpdate), product "Milan", TCB bl 4 tee 0 snp 22 microcode
 * 213 (fmc 1), a random hwID, RSA-2048 (quick to generate, and the
 * verifier accepts any caller-trusted root of 2048 bits or more).
 */
void cocoon_sim_snp_pki_options_init(cocoon_sim_snp_pki_options *o);

typedef struct cocoon_sim_snp_pki {
	EVP_PKEY *ark_key;  X509 *ark_cert;
	EVP_PKEY *ask_key;  X509 *ask_cert;
	EVP_PKEY *vcek_key; X509 *vcek_cert;
	X509_CRL *crl;
	char product[16];             /* the product line: "Milan", "Genoa", "Turin" */
	uint64_t tcb;                 /* the VCEK's TCB composed as a TCB_VERSION */
	uint8_t hwid[64];             /* the VCEK's hwID; hwid_len bytes are used */
	size_t hwid_len;              /* 64, or 8 on Turin */
} cocoon_sim_snp_pki;

/* o may be NULL for defaults. Fails with COCOON_EINVAL naming a bad option. */
int cocoon_sim_snp_pki_generate(cocoon_sim_snp_pki **out, const cocoon_sim_snp_pki_options *o);
void cocoon_sim_snp_pki_free(cocoon_sim_snp_pki *p);
/*
 * Fills product, tcb, hwid and hwid_len from the VCEK's KDS extensions
 * (after a load); COCOON_EFORMAT when the VCEK does not parse as one.
 */
int cocoon_sim_snp_pki_describe(cocoon_sim_snp_pki *p);

/*
 * Re-issues the ARK's CRL revoking the given serials (revocation date =
 * this_update). Tests use it to revoke the ASK or the VCEK.
 */
int cocoon_sim_snp_reissue_crl(cocoon_sim_snp_pki *p, const ASN1_INTEGER *const *revoked, size_t n_revoked,
                               time_t this_update, time_t next_update);

typedef struct {
	uint32_t version;             /* 2, 3 or 5 */
	uint32_t guest_svn;
	uint64_t policy;              /* default 0x30000: SMT allowed, reserved bit 17 */
	uint8_t family_id[16], image_id[16];
	uint32_t vmpl;
	uint64_t platform_info;       /* default 0x3: SMT_EN, TSME_EN */
	int author_key_en;
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48], author_key_digest[48];
	uint8_t report_id[32];        /* default random */
	uint8_t report_id_ma[32];     /* default all 0xFF: no migration agent */
	/* Default: all four are the VCEK's TCB, as on an up-to-date platform. */
	uint64_t current_tcb, reported_tcb, committed_tcb, launch_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+; default the product's */
	uint8_t chip_id[64];          /* default the VCEK's hwID, zero-padded */
	uint8_t current_build, current_minor, current_major;   /* default 1.55 build 21 */
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_mit_vector, current_mit_vector;         /* v5 */
} cocoon_sim_snp_report_params;

/* Defaults for a well-formed report of that version from that platform. */
int cocoon_sim_snp_report_params_init(cocoon_sim_snp_report_params *q, const cocoon_sim_snp_pki *p,
                                      uint32_t version);

/* Writes a report signed by the VCEK (ECDSA P-384/SHA-384 over [0, 0x2A0)). */
int cocoon_sim_snp_report(uint8_t out[COCOON_SNP_REPORT_SIZE], const cocoon_sim_snp_pki *p,
                          const cocoon_sim_snp_report_params *q);

/* (Re)signs a report in place with a P-384 key: R and S little-endian, zero-extended to 72 bytes. */
int cocoon_sim_snp_report_sign(uint8_t report[COCOON_SNP_REPORT_SIZE], EVP_PKEY *key);

/*
 * The extended report's certificate table (the configfs-tsm auxblob): VCEK,
 * ASK and ARK entries in DER, then the all-zero terminator entry, then the
 * certificates. Caller frees *out.
 */
int cocoon_sim_snp_certtable(uint8_t **out, size_t *out_len, const cocoon_sim_snp_pki *p);

/* Persists DIR/amd/ (see include/cocoon/sim.h), keys mode 0600; never overwrites. */
int cocoon_sim_snp_pki_save(const cocoon_sim_snp_pki *p, const char *dir);
/* Loads DIR/amd/ and checks that each key matches its certificate. */
int cocoon_sim_snp_pki_load(cocoon_sim_snp_pki **out, const char *dir);

#endif
