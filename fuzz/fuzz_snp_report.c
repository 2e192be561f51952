/*
 * libFuzzer target: SEV-SNP report parsing, inspect and appraisal. Each
 * input is tried as given (length handling) and fitted to 1184 bytes
 * (field handling), so the fuzzer does not spend its time on lengths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "snp/snp.h"

static void run(const uint8_t *data, size_t size)
{
	static const cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;
	cocoon_snp_report r;
	cocoon_snp_claims c;
	cocoon_failure f;
	char *out = NULL;
	json_t *o;

	(void)cocoon_snp_report_looks_like(data, size);
	if (cocoon_snp_report_inspect_json(&out, data, size) == 0)
		free(out);
	if (cocoon_snp_report_inspect_text(&out, data, size) == 0)
		free(out);
	if (cocoon_snp_report_parse(&r, &f, data, size) != 0)
		return;
	for (int p = COCOON_SNP_PRODUCT_UNKNOWN; p <= COCOON_SNP_PRODUCT_TURIN; p++) {
		(void)cocoon_snp_appraise(&f, &r, (cocoon_snp_product)p, &policy, p & 1);
		cocoon_snp_claims_fill(&c, &r, (cocoon_snp_product)p);
		if ((o = json_object()) != NULL) {
			(void)cocoon_snp_claims_to_json(o, &c);
			json_decref(o);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t fitted[COCOON_SNP_REPORT_SIZE];

	run(data, size);
	memset(fitted, 0, sizeof(fitted));
	memcpy(fitted, data, size < sizeof(fitted) ? size : sizeof(fitted));
	run(fitted, sizeof(fitted));
	return 0;
}
