/*
 * libFuzzer target for the MAA policy parser and evaluator.
 * Seeds: fuzz/corpus/policy/ (hand-written policies).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cocoon/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed claim set in the shape of an SGX enclave's, with repeated and JSON claims. */
static json_t *claims(void)
{
	static json_t *c;
	if (!c)
		c = json_pack("{s:b,s:i,s:i,s:s,s:s,s:s,s:[i,i,s],s:{s:s}}", "x-ms-sgx-is-debuggable", 0,
		              "x-ms-sgx-product-id", 1, "x-ms-sgx-svn", 3, "x-ms-sgx-mrsigner", "c3d0a1",
		              "x-ms-sgx-mrenclave", "0f5e6d", "x-ms-attestation-type", "sgx", "a", 1, 2, "b",
		              "x-ms-sgx-collateral", "qeidhash", "00");
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_policy *p = NULL;
	cocoon_policy_outcome o;
	char hash[44];
	int err = cocoon_policy_parse(&p, (const char *)data, size);

	if (err != 0) {
		/* Every rejection is a located syntax error (or, exceptionally, out of memory). */
		if (p || (err != COCOON_EFORMAT && err != COCOON_ENOMEM) ||
		    strncmp(cocoon_error_last()->message, "policy", 6) != 0)
			abort();
		return 0;
	}
	if (cocoon_policy_hash(hash, (const char *)data, size) != 0 || strlen(hash) != 43)
		abort();
	if (cocoon_policy_evaluate(&o, p, claims()) == 0) {
		json_t *why = json_string(o.denied_by);
		/* The explanation ends up in JSON responses: it must be valid UTF-8. */
		if (!why || (o.permitted != 0 && o.permitted != 1) || !json_is_object(o.issued) ||
		    !json_is_object(o.properties) || (o.permitted && o.denied_by[0]) || (!o.permitted && !o.denied_by[0]))
			abort();
		json_decref(why);
		cocoon_policy_outcome_free(&o);
	} else if (o.issued || o.properties) {
		abort();
	}
	cocoon_policy_free(p);
	return 0;
}
