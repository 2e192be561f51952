/*
 * libFuzzer target for the key broker client's HTTP reply parser
 * (cocoon_kbs_http_parse_response): status line, headers, Content-Length,
 * chunked bodies, the session cookie. The input is fed whole and in two
 * pieces (as reads arrive); a complete reply must give the same result both
 * ways, and a body never exceeds the limit. Seeds: fuzz/corpus/kbs_http/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/kbs.h"

#define LIMIT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_kbs_http_response a, b;
	int ra, rb;

	ra = cocoon_kbs_http_parse_response(&a, data, size, LIMIT, 1);
	if (ra == 0) {
		if (a.body_len > LIMIT || a.body[a.body_len] != '\0' || a.status < 100 || a.status > 599)
			abort();
		/* Fed without EOF, a complete reply with a declared length parses the same. */
		rb = cocoon_kbs_http_parse_response(&b, data, size, LIMIT, 0);
		if (rb == 0 && (b.body_len != a.body_len || memcmp(a.body, b.body, a.body_len) != 0))
			abort();
		cocoon_kbs_http_response_clear(&b);
	}
	cocoon_kbs_http_response_clear(&a);
	if (size > 1) {
		rb = cocoon_kbs_http_parse_response(&b, data, size / 2, LIMIT, 0);
		cocoon_kbs_http_response_clear(&b);
	}
	return 0;
}
