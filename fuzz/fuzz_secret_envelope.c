/*
 * The secret envelope read back from a database: any bytes a database
 * holds (or an attacker with write access to it planted) must be refused
 * cleanly, never read out of bounds. The first byte picks the AAD so that
 * both the right and a wrong row name are exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cocoon_kek *kek;
	uint8_t *pt = NULL, *sealed = NULL;
	size_t len = 0, sealed_len = 0;

	if (!kek) {
		uint8_t key[32];
		memset(key, 0x42, sizeof(key));
		if (cocoon_kek_from_bytes(&kek, key) != 0)
			abort();
	}
	if (size == 0)
		return 0;
	const char *aad = (data[0] & 1) ? "resource:a/b/c" : "signing-key:x";
	if (cocoon_secret_open(&pt, &len, kek, aad, data + 1, size - 1) == 0) {
		/* Only a genuine seal opens: it must round-trip. */
		if (cocoon_secret_seal(&sealed, &sealed_len, kek, aad, pt, len) != 0 || sealed_len != size - 1)
			abort();
		free(sealed);
		free(pt);
	}
	/* And a fresh seal of the input always opens to it. */
	if (cocoon_secret_seal(&sealed, &sealed_len, kek, aad, data, size) != 0 ||
	    cocoon_secret_open(&pt, &len, kek, aad, sealed, sealed_len) != 0 || len != size || memcmp(pt, data, size))
		abort();
	free(pt);
	free(sealed);
	return 0;
}
