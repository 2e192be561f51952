/*
 * The DCAP negative matrix, parameterized by where the evidence comes from
 * (real vectors, or the simulated TEE) so both go through the same checks.
 */
#ifndef COCOON_DCAP_MATRIX_H
#define COCOON_DCAP_MATRIX_H

#include <time.h>
#include <jansson.h>
#include "cocoon/cocoon.h"

typedef struct {
	const uint8_t *quote;        /* v3 SGX or v4 TDX quote */
	size_t quote_len;
	const char *collateral;      /* collateral JSON in the vectors' layout */
	time_t at;                   /* inside the collateral window */
	time_t first_expiry;         /* the earliest nextUpdate: at < first_expiry */
	cocoon_check expiry_check;   /* what rejects at first_expiry + 1 */
	cocoon_verifier *verifier;
	int tdx;
} cocoon_matrix_case;

/* Verifies quote/collateral (JSON text) at `at` with default options. */
cocoon_result cocoon_matrix_run(const cocoon_matrix_case *c, const uint8_t *quote, size_t quote_len,
                                const json_t *collateral, time_t at, int allow_expired);
void cocoon_matrix_expect_reject(const cocoon_result *r, cocoon_check check, const char *reason_part);

void cocoon_matrix_accepts(const cocoon_matrix_case *c);
void cocoon_matrix_byte_flips(const cocoon_matrix_case *c);
void cocoon_matrix_edited_collateral(const cocoon_matrix_case *c);
void cocoon_matrix_dates(const cocoon_matrix_case *c);
void cocoon_matrix_bad_crls(const cocoon_matrix_case *c);
void cocoon_matrix_truncation(const cocoon_matrix_case *c);
/* An SGX quote with TDX collateral and the reverse. */
void cocoon_matrix_swapped_tee(const cocoon_matrix_case *sgx, const cocoon_matrix_case *tdx);

#endif
