/*
 * libFuzzer target for admin JWT and Bearer EAR token verification (include/cocoon/kbs.h),
 * against a fixed Ed25519 and a fixed P-256 public key whose private
 * halves are not here: nothing the fuzzer writes may verify.
 * Seeds: fuzz/corpus/kbs_admin/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ed_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                             "MCowBQYDK2VwAyEAKrizaBPuU2f2OSfWsnIOrgdaFPh/5FsUsX5Nsl2nIQk=\n"
                             "-----END PUBLIC KEY-----\n";
/* RFC 7515 appendix A.3's P-256 key. */
static const char p256_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                               "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ed, *p256;
	cocoon_kbs_admin_options o = COCOON_KBS_ADMIN_OPTIONS_INIT;
	json_t *claims = NULL;
	char *tok;

	if (!ed && (cocoon_kbs_admin_key_load(&ed, ed_pem, sizeof(ed_pem) - 1) != 0 ||
	            cocoon_kbs_jwk_parse(&p256, p256_jwk, sizeof(p256_jwk) - 1) != 0))
		abort();
	if (!(tok = malloc(size + 1)))
		return 0;
	memcpy(tok, data, size);
	tok[size] = '\0';
	o.now = 1800000000;
	if (cocoon_kbs_admin_verify(&claims, tok, ed, &o) == 0 || cocoon_kbs_admin_verify(&claims, tok, p256, &o) == 0 ||
	    cocoon_kbs_ear_verify(&claims, tok, p256, 1800000000, 60) == 0 || claims)
		abort();
	free(tok);
	return 0;
}
