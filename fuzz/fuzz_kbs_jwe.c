/*
 * libFuzzer target for the guest's JWE decryption (include/cocoon/kbs.h)
 * with a fixed P-256 key; the seeds are real responses encrypted to it, so
 * the fuzzer starts past the key unwrap. Output, when any, is zeroised.
 * Seeds: fuzz/corpus/kbs_jwe/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key_jwk[] = "{\"crv\":\"P-256\",\"d\":\"Q9rrduam_IEAGvPnNLskkDzikNATSwjybLcwE4DUDaI\",\"kty\":\"EC\","
                              "\"x\":\"mGQHRDn7c7Jjwvri3SC4wa3cZvV_qNMaX25UmILzxR8\","
                              "\"y\":\"V86KJkXKm2Y-1kQAABejj4mHdq4K8nB-Rb4Bnn6oeJA\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	uint8_t *pt = NULL;
	size_t n = 0;

	if (!key) {
		json_t *j = json_loads(key_jwk, 0, NULL);
		if (!j || cocoon_kbs_jwk_to_private_key(&key, j) != 0)
			abort();
		json_decref(j);
	}
	if (cocoon_kbs_jwe_decrypt(&pt, &n, (const char *)data, size, key) == 0) {
		if (!pt)
			abort();
		cocoon_zeroize(pt, n);
		free(pt);
	} else if (pt || n) {
		abort();
	}
	return 0;
}
