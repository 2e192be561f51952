/*
 * libFuzzer target: the RA-TLS extension parser. Each input is tried as a
 * tagged-evidence value (CBOR tag 60000 and its claims map), as raw legacy
 * evidence (type identification and report-data extraction), and as a
 * whole certificate checked without trust (extension search and every
 * binding).
 */
#include <stdint.h>
#include <stdlib.h>
#include "ratls/ratls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_ratls_tagged t;
	cocoon_ratls_evidence_id id;
	cocoon_ratls_result r;
	cocoon_failure f;

	if (cocoon_ratls_tagged_parse(&t, &f, data, size) == 0) {
		(void)cocoon_ratls_evidence_identify(&id, &f, t.evidence, t.evidence_len);
		cocoon_ratls_tagged_free(&t);
	}
	(void)cocoon_ratls_evidence_identify(&id, &f, data, size);
	if (cocoon_ratls_verify(&r, NULL, data, size, NULL) == 0)
		cocoon_ratls_result_free(&r);
	return 0;
}
