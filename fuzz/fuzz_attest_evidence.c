/*
 * libFuzzer target: the appraisal pipeline's front end. Every input goes
 * through format sniffing, Open Enclave and MAA SevSnpVm envelope
 * unwrapping and the appraisal with each explicit format, against an empty
 * collateral source (so no input reaches a verifier without collateral)
 * and with the first bytes as runtime data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "attest/attest_int.h"

static cocoon_collateral_source *source;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_result *res = NULL;
	cocoon_failure f;
	attest_evidence e;

	if (!source && cocoon_collateral_source_new(&source) != 0)
		abort();
	(void)cocoon_attest_format_detect(data, size);
	for (int fmt = COCOON_ATTEST_FORMAT_AUTO; fmt <= COCOON_ATTEST_FORMAT_MAA_SNP; fmt++) {
		if (attest_evidence_unwrap(&e, &f, data, size, (cocoon_attest_format)fmt) == 0 &&
		    (e.len > size * 2 + 16 || (e.bytes != e.owned && (e.bytes < data || e.bytes + e.len > data + size))))
			abort(); /* the unwrapped evidence must lie inside the input or the decoded copy */
		attest_evidence_free(&e);
		in.evidence = data;
		in.evidence_len = size;
		in.format = (cocoon_attest_format)fmt;
		in.runtime_data = data;
		in.runtime_data_len = size < 8 ? size : 8;
		in.runtime_hash = (cocoon_bind_hash)(size % 5);
		in.collateral = source;
		if (cocoon_attest_appraise(&res, NULL, &in, NULL) == 0)
			cocoon_attest_result_free(res);
	}
	return 0;
}
