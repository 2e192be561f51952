/*
 * Collateral loaders and parsers on arbitrary bytes: the vectors' JSON
 * layout, TCB info, QE identity and the exact-span walk over PCS bodies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "dcap/collateral.h"
#include "dcap/tcbinfo.h"

static void span_then_parse(const char *text, size_t size, const char *key, int is_tcb_info)
{
	const char *start;
	size_t len;

	if (cocoon_json_member_span(&start, &len, text, size, key) != 0)
		return;
	/* The span must lie inside the input, or the signed bytes would be someone else's. */
	if (start < text || len > size || (size_t)(start - text) > size - len)
		abort();
	if (is_tcb_info) {
		cocoon_tcb_info *t = NULL;
		if (cocoon_tcb_info_parse(&t, start, len) == 0)
			cocoon_tcb_info_free(t);
	} else {
		cocoon_qe_identity *q = NULL;
		if (cocoon_qe_identity_parse(&q, start, len) == 0)
			cocoon_qe_identity_free(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	cocoon_collateral *c = NULL;
	cocoon_tcb_info *t = NULL;
	cocoon_qe_identity *q = NULL;

	if (cocoon_collateral_from_json(&c, text, size) == 0)
		cocoon_collateral_free(c);
	if (cocoon_tcb_info_parse(&t, text, size) == 0)
		cocoon_tcb_info_free(t);
	if (cocoon_qe_identity_parse(&q, text, size) == 0)
		cocoon_qe_identity_free(q);
	span_then_parse(text, size, "tcbInfo", 1);
	span_then_parse(text, size, "enclaveIdentity", 0);
	return 0;
}
