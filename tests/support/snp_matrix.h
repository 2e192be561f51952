/*
 * The SEV-SNP negative matrix, parameterized by where the evidence comes
 * from (the real Milan vector, or the simulated TEE) so both go through the
 * same checks of cocoon_verifier_verify_snp.
 */
#ifndef COCOON_SNP_MATRIX_H
#define COCOON_SNP_MATRIX_H

#include <time.h>
#include "cocoon/cocoon.h"

typedef struct {
	const uint8_t *report;        /* a 1184-byte report that verifies */
	const uint8_t *vcek;          /* the VCEK that signed it, DER or PEM */
	size_t vcek_len;
	const uint8_t *chain;         /* trusted ASK+ARK PEM; NULL: the built-in AMD roots */
	size_t chain_len;
	const uint8_t *wrong_chain;   /* a well-formed ASK+ARK of another root, same product line */
	size_t wrong_chain_len;
	const uint8_t *crl;           /* the ARK's CRL, or NULL */
	size_t crl_len;
	time_t at;                    /* inside every validity window */
	time_t vcek_not_before, vcek_not_after;
	time_t crl_next_update;       /* with crl: earlier than vcek_not_after */
	int allow_debug;              /* the real vector is a debug guest */
	cocoon_verifier *verifier;
	int simulated;                /* what every result must say */
	/* Re-signs an edited report with the VCEK's key; NULL when nobody has
	 * it (real hardware), which skips the binding cases. */
	int (*resign)(uint8_t *report, void *ctx);
	void *resign_ctx;
} cocoon_snp_matrix_case;

/* The case's inputs: its VCEK, chain and CRL. */
cocoon_snp_inputs cocoon_snp_matrix_inputs(const cocoon_snp_matrix_case *c);
/* Verifies report at `at` (0: c->at) with in (NULL: the case's) and policy (NULL: defaults). */
cocoon_result cocoon_snp_matrix_run(const cocoon_snp_matrix_case *c, const uint8_t *report, size_t len,
                                    const cocoon_snp_inputs *in, const cocoon_snp_policy *policy, time_t at);
void cocoon_snp_matrix_expect_reject(const cocoon_result *r, cocoon_check check, const char *reason_part);

void cocoon_snp_matrix_accepts(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_byte_flips(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_format(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_truncation(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_roots(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_time(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_cert_sources(const cocoon_snp_matrix_case *c);
void cocoon_snp_matrix_expected_values(const cocoon_snp_matrix_case *c);
/* Edits that need a re-signed report: TCB and CHIP_ID binding, firmware. */
void cocoon_snp_matrix_binding(const cocoon_snp_matrix_case *c);

#endif
