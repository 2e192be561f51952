/*
 * libFuzzer target: the HCL report parser, the runtime-claims JSON it
 * carries (parsed even when the binding would fail, so the fuzzer reaches
 * it) and the TPMS_ATTEST checks, all on attacker-controlled bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vtpm/vtpm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_hcl_report h;
	cocoon_runtime_claims rc;
	cocoon_failure f;
	uint8_t d[64];
	size_t n;

	(void)cocoon_tpm_attest_check(&f, data, size);
	if (cocoon_hcl_parse(&h, &f, data, size) != 0)
		return 0;
	if (cocoon_hcl_var_data_digest(d, &n, &h) == 0)
		(void)cocoon_hcl_check_binding(&f, &h, cocoon_hcl_report_data(&h), "fuzz");
	if (cocoon_runtime_claims_parse(&rc, &f, h.var_data, h.var_data_len) == 0)
		cocoon_runtime_claims_clear(&rc);
	return 0;
}
