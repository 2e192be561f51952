/*
 * libFuzzer target: az-snp-vtpm / az-tdx-vtpm evidence JSON (every layout),
 * then the whole verification on whatever parsed, and the writer on it.
 * The first input byte picks the format so one corpus covers both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/vtpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[] = "challenge";
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_vtpm_evidence *ev = NULL;
	cocoon_vtpm_format fmt;
	cocoon_vtpm_claims c;
	cocoon_result r;
	char *out = NULL;

	if (size < 1)
		return 0;
	fmt = (data[0] & 1) ? COCOON_VTPM_FORMAT_AZ_TDX : COCOON_VTPM_FORMAT_AZ_SNP;
	if (cocoon_vtpm_evidence_parse(&ev, fmt, (const char *)data + 1, size - 1) != 0)
		return 0;
	if (cocoon_vtpm_evidence_to_json(&out, ev) == 0)
		free(out);
	in.nonce = nonce;
	in.nonce_len = sizeof(nonce) - 1;
	o.at = 1750000000;
	if (cocoon_verifier_verify_vtpm(&r, &c, NULL, ev, &in, &o) == 0 &&
	    cocoon_vtpm_result_to_json(&out, &r, &c) == 0)
		free(out);
	cocoon_vtpm_evidence_free(ev);
	return 0;
}
