/*
 * libFuzzer target for the KBS request bodies (include/cocoon/kbs.h): the
 * first byte picks the parser (auth Request, Challenge, Attestation with
 * its evidence shape, binding and init-data digest, a bare sgx/tdx/snp primary_evidence, a
 * resource path); the rest is the body. Whatever parses must serialise
 * again, and evidence that decodes must encode and decode to the same bytes.
 * Seeds: fuzz/corpus/kbs_request/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/kbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evidence_round_trip(cocoon_kbs_tee tee, const json_t *primary)
{
	cocoon_kbs_evidence e, e2;
	json_t *back = NULL;

	if (cocoon_kbs_evidence_decode(&e, tee, primary) != 0)
		return;
	if (cocoon_kbs_evidence_encode(&back, &e) != 0 || cocoon_kbs_evidence_decode(&e2, tee, back) != 0)
		abort();
	if (e.evidence_len != e2.evidence_len || memcmp(e.evidence, e2.evidence, e.evidence_len) != 0 ||
	    e.aux_len != e2.aux_len || (e.aux_len && memcmp(e.aux, e2.aux, e.aux_len) != 0))
		abort();
	cocoon_kbs_evidence_clear(&e);
	cocoon_kbs_evidence_clear(&e2);
	json_decref(back);
}

static void attestation(const char *body, size_t len)
{
	cocoon_kbs_attestation *a = NULL;
	uint8_t rd[64];
	char *jcs = NULL;

	if (cocoon_kbs_attestation_parse(&a, body, len) != 0)
		return;
	if (cocoon_kbs_runtime_data_hash(rd, NULL, COCOON_KBS_HASH_SHA384, a->nonce, a->tee_pubkey,
	                                 a->additional_evidence) != 0)
		abort();
	if (cocoon_jcs_serialize(&jcs, NULL, a->root) != 0)
		abort();
	if (a->has_init_data) {
		uint8_t d[64];
		size_t n;
		if (cocoon_kbs_init_data_digest(d, &n, &a->init_data) == 0 && n != 32 && n != 48 && n != 64)
			abort();
	}
	free(jcs);
	for (int t = COCOON_KBS_TEE_SGX; t <= COCOON_KBS_TEE_SNP; t++)
		evidence_round_trip((cocoon_kbs_tee)t, a->primary_evidence);
	cocoon_kbs_attestation_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	cocoon_kbs_request r;
	cocoon_kbs_challenge c;
	cocoon_kbs_resource_path p;
	json_t *j;

	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (cocoon_kbs_request_parse(&r, body, len) == 0) {
			if (!r.extra_params || !cocoon_kbs_tee_name(r.tee))
				abort();
			cocoon_kbs_request_clear(&r);
		}
		break;
	case 1:
		if (cocoon_kbs_challenge_parse(&c, body, len) == 0 && !cocoon_kbs_hash_name(c.hash))
			abort();
		break;
	case 2:
		attestation(body, len);
		break;
	case 3:
		if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
			evidence_round_trip((cocoon_kbs_tee)(COCOON_KBS_TEE_SGX + data[0] / 5 % 3), j);
			json_decref(j);
		}
		break;
	case 4:
		if (cocoon_kbs_resource_path_parse(&p, body, len) == 0 &&
		    (strlen(p.repo) + strlen(p.type) + strlen(p.tag) + 2 != len || p.repo[0] == '.' || p.type[0] == '.' ||
		     p.tag[0] == '.'))
			abort();
		break;
	}
	return 0;
}
