/*
 * libFuzzer target for the daemons' metrics/health HTTP request parser
 * (src/lib/daemon/metrics_http.c): any bytes a scraper, probe or attacker
 * on the metrics port can send. Checks the parser's own contract too: a
 * parsed head never claims more bytes than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading one byte past the input trips ASan. */
	char *buf = malloc(size ? size : 1);
	cocoon_mhttp_req req;
	int st;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	st = cocoon_mhttp_parse(&req, buf, size);
	if (st == 0 && (req.head_len > size || req.head_len > COCOON_MHTTP_MAX_REQUEST || req.route < 1 ||
	                req.route > COCOON_MHTTP_NOT_FOUND))
		abort();
	free(buf);
	return 0;
}
