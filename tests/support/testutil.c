#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"
#include "common/util.h"

const char *cocoon_test_vectors_dir(void)
{
	const char *env = getenv("COCOON_VECTORS");
	if (env && *env)
		return env;
	return COCOON_VECTORS_DEFAULT;
}

int cocoon_test_have_vectors(void)
{
	struct stat st;
	char path[4096];
	snprintf(path, sizeof(path), "%s/sgx/quote.bin", cocoon_test_vectors_dir());
	if (stat(path, &st) == 0)
		return 1;
	fprintf(stderr, "SKIP: real vectors not found at %s (set COCOON_VECTORS to the shared/vectors directory)\n",
	        cocoon_test_vectors_dir());
	return 0;
}

uint8_t *cocoon_test_vector(const char *rel, size_t *len)
{
	char path[4096];
	uint8_t *buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", cocoon_test_vectors_dir(), rel);
	if (cocoon_file_read(&buf, len, path) != 0)
		return NULL;
	return buf;
}

uint8_t *cocoon_test_read(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	if (cocoon_file_read(&buf, len, path) != 0)
		fail_msg("cannot read %s: %s", path, cocoon_error_last()->message);
	return buf;
}
