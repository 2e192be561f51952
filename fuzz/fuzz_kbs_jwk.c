/*
 * libFuzzer target for the KBS JWK import (include/cocoon/kbs.h): any key
 * that imports must export to a JWK that imports to the same key. (OpenSSL's
 * RSA public-key check runs Miller-Rabin with random bases, so a fuzzed
 * modulus may pass once and fail the next time: only EC must re-import.)
 * Seeds: fuzz/corpus/kbs_jwk/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EVP_PKEY *k = NULL, *k2 = NULL;
	cocoon_kbs_key_type t;
	json_t *jwk = NULL;
	int err;

	if (cocoon_kbs_jwk_parse(&k, (const char *)data, size) != 0)
		return 0;
	if (cocoon_kbs_key_type_of(&t, k) != 0 || cocoon_kbs_jwk_from_key(&jwk, k) != 0)
		abort();
	err = cocoon_kbs_jwk_to_key(&k2, jwk);
	if ((err && t != COCOON_KBS_KEY_RSA) || (!err && EVP_PKEY_eq(k, k2) != 1))
		abort();
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	json_decref(jwk);
	return 0;
}
