/* Internal side of the appraisal pipeline: evidence unwrapping, collateral lookups and MAA claims. */
#ifndef COCOON_ATTEST_INT_H
#define COCOON_ATTEST_INT_H

#include "cocoon/attest.h"
#include "common/util.h"

/* Evidence after format detection and envelope unwrapping. */
typedef struct {
	cocoon_attest_format format;  /* SGX, TDX or SNP: what the bytes are */
	cocoon_attest_format detected; /* as reported: OE and MAA_SNP when an envelope was unwrapped */
	const uint8_t *bytes;           /* the quote or report: into the input or into owned */
	size_t len;
	uint8_t *owned;
	uint8_t *vcek;                  /* DER, from MAA's VcekCertChain */
	size_t vcek_len;
	char *chain;                    /* the rest of that PEM (ASK, ARK) */
} attest_evidence;

void attest_evidence_free(attest_evidence *e);
/*
 * Detects the format (fmt AUTO) or checks the one given, and unwraps OE and
 * MAA envelopes. A malformed envelope or unknown bytes return COCOON_EREJECT
 * with f filled (check EVIDENCE_FORMAT); other errors are errors.
 */
int attest_evidence_unwrap(attest_evidence *e, cocoon_failure *f, const uint8_t *buf, size_t len,
                           cocoon_attest_format fmt);

/* Collateral lookups (source.c). */
int attest_source_dcap(const cocoon_collateral **out, cocoon_collateral_source *s, cocoon_tee tee, const char *fmspc);
typedef struct {
	const uint8_t *vcek, *chain, *crl, *certs;
	size_t vcek_len, chain_len, crl_len, certs_len;
	const char *product;
} attest_snp_endorsements;
/* An in-memory source's endorsements without a lookup (all NULL for callbacks). */
void attest_source_snp_static(attest_snp_endorsements *out, const cocoon_collateral_source *s);
/* The source frees cb.ctx with ctx_free when it is freed (the fetching source, src/lib/collateral). */
void attest_source_own_ctx(cocoon_collateral_source *s, void (*ctx_free)(void *));

int attest_source_snp(attest_snp_endorsements *out, cocoon_collateral_source *s, const uint8_t chip_id[64],
                      uint64_t reported_tcb);

/* MAA's claims of verified evidence into c (claims.c). */
typedef struct {
	const cocoon_result *r;
	const uint8_t *runtime_data;
	size_t runtime_data_len;
	const uint8_t *evidence;        /* the quote, for x-ms-sgx-collateral.quotehash */
	size_t evidence_len;
	const cocoon_collateral *coll;
} attest_claims_in;
int attest_claims_maa(json_t *c, const attest_claims_in *in);

/* One binding check (bind.c): data under a hash rule versus a signed field. */
typedef struct {
	const char *label;              /* "runtime data" */
	const uint8_t *data;
	size_t len;
	cocoon_bind_hash hash;
	const uint8_t *field;
	size_t field_len;
	const char *field_name;         /* "REPORT_DATA" */
	cocoon_check check;
} attest_bind;

/* 0 when bound; COCOON_EREJECT with f filled when not; another error when it could not check. */
int attest_bind_check(cocoon_failure *f, const attest_bind *b);

#endif
