/*
 * libFuzzer target for the DCAP quote parser and its inspect decoders.
 * Seeds: fuzz/corpus/quote/ (small synthetic v3/v4/v5 quotes).
 */
#include <stdint.h>
#include <stdlib.h>
#include "cocoon/dcap.h"
#include "dcap/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_quote q;
	cocoon_failure f;
	char *json = NULL, *text = NULL;
	int parsed = cocoon_quote_parse(&q, &f, data, size);

	/* A parsed quote's slices must lie inside the input. */
	if (parsed == 0) {
		if (q.cert_data.ptr < data || q.cert_data.len > size ||
		    (size_t)(q.cert_data.ptr - data) > size - q.cert_data.len || q.trailing > size)
			abort();
	}
	/* Inspect must agree with the parser on what parses. */
	if ((cocoon_quote_inspect_json(&json, data, size) == 0) != (parsed == 0))
		abort();
	if ((cocoon_quote_inspect_text(&text, data, size) == 0) != (parsed == 0))
		abort();
	free(json);
	free(text);
	return 0;
}
