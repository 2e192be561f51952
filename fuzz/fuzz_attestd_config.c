/*
 * libFuzzer target fuzz_attestd_config: a configuration file's bytes, applied
 * as attestd_config_load does after reading it, then the cross-field checks
 * and the "listen" address parser the server uses.
 * Seeds: fuzz/corpus/attestd_config/.
 */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "attestd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	attestd_config c;
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);

	if (!root)
		return 0;
	attestd_config_init(&c);
	if (attestd_config_apply(&c, root, "fuzz.json") == 0) {
		(void)attestd_config_check(&c);
		memset(&ss, 0, sizeof(ss));
		(void)attestd_listen_parse(&ss, &sslen, c.listen);
	}
	attestd_config_free(&c);
	json_decref(root);
	return 0;
}
