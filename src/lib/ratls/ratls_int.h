/* Internal RA-TLS pieces: the tagged-evidence CBOR codec and evidence identification (fuzzed directly). */
#ifndef COCOON_RATLS_INT_H
#define COCOON_RATLS_INT_H

#include <stddef.h>
#include <stdint.h>
#include "cocoon/ratls.h"
#include "common/util.h"

/* OID content bytes (what follows the 06 tag and length in DER). */
extern const uint8_t cocoon_ratls_oid_tagged[6];
extern const uint8_t cocoon_ratls_oid_gramine_legacy[11]; /* malformed on purpose, as Gramine writes it */
extern const uint8_t cocoon_ratls_oid_intel_sgxsdk[9];

/* Upper bound for one evidence extension: the largest DCAP quotes are a few tens of KiB. */
#define COCOON_RATLS_MAX_EXTENSION (256 * 1024)
#define COCOON_RATLS_MAX_CLAIMS 64

/* A parsed tagged-evidence value. The buffers are copies owned by the structure. */
typedef struct {
	uint8_t *evidence;
	size_t evidence_len;
	uint8_t *claims;            /* the serialized claims map, as hashed into the report data */
	size_t claims_len;
	int hash_alg;               /* IANA id; 0 when the pubkey-hash claim is absent */
	uint8_t hash[64];
	size_t hash_len;
	uint8_t *nonce;
	size_t nonce_len;
	size_t n_other;             /* other claims (ignored, as the interop spec says) */
} cocoon_ratls_tagged;

/*
 * Parses 60000([bstr evidence, bstr claims]) and the claims map inside it.
 * Malformed input: COCOON_EREJECT with f->check = RATLS_EXTENSION and a
 * reason naming the element. A missing pubkey-hash claim is malformed.
 */
int cocoon_ratls_tagged_parse(cocoon_ratls_tagged *out, cocoon_failure *f, const uint8_t *buf, size_t len);
void cocoon_ratls_tagged_free(cocoon_ratls_tagged *t);

/* The serialized claims map {"pubkey-hash": bstr([1, bstr sha256]), ["nonce": bstr]}. */
int cocoon_ratls_claims_build(uint8_t **out, size_t *out_len, const uint8_t spki_sha256[32], const uint8_t *nonce,
                              size_t nonce_len);
/* 60000([bstr evidence, bstr claims]), serialized. */
int cocoon_ratls_tagged_build(uint8_t **out, size_t *out_len, const uint8_t *evidence, size_t evidence_len,
                              const uint8_t *claims, size_t claims_len);

/* What embedded evidence is, and where its 64 bytes of report data are. */
typedef struct {
	cocoon_tee tee;
	cocoon_evidence_format format;
	uint8_t report_data[64];
} cocoon_ratls_evidence_id;

/* Identifies an SGX/TDX DCAP quote or an SNP report; else COCOON_EREJECT with RATLS_EVIDENCE_TYPE. */
int cocoon_ratls_evidence_identify(cocoon_ratls_evidence_id *out, cocoon_failure *f, const uint8_t *ev, size_t len);

/* SHA-256/384/512 of data by IANA id into out (64 bytes); *out_len the digest size. */
int cocoon_ratls_hash(uint8_t out[64], size_t *out_len, int iana_alg, const uint8_t *data, size_t len);

#endif
