/*
 * libFuzzer target for attestation-token verification and JWKS parsing
 * (include/cocoon/token.h): the input is split at the first newline into a
 * JWKS document and a token; the token is also checked against a fixed JWKS.
 * Seeds: fuzz/corpus/token/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The P-256 public key of RFC 7515 appendix A.3. */
static const char fixed_jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\","
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cocoon_jwks *fixed;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t jwks_len = nl ? (size_t)(nl - data) : 0;
	const char *token = (const char *)(nl ? nl + 1 : data);
	size_t token_len = nl ? size - jwks_len - 1 : size;
	cocoon_jwks *j = NULL;
	json_t *claims = NULL;
	uint8_t *dec = NULL;
	size_t dec_len;
	int err;

	if (!fixed && cocoon_jwks_parse(&fixed, fixed_jwks, sizeof(fixed_jwks) - 1) != 0)
		abort();
	if (cocoon_b64_decode(&dec, &dec_len, (const char *)data, size) == 0 && dec_len > size)
		abort();
	free(dec);
	err = cocoon_token_verify(&claims, NULL, token, token_len, fixed, NULL);
	/* Nothing can be signed by the fixed key without its private half. */
	if (err == 0 || claims)
		abort();
	if (nl && cocoon_jwks_parse(&j, (const char *)data, jwks_len) == 0) {
		if (cocoon_jwks_count(j) == 0)
			abort();
		err = cocoon_token_verify(&claims, NULL, token, token_len, j, NULL);
		if (err == 0 && !claims)
			abort();
		json_decref(claims);
		cocoon_jwks_free(j);
	}
	return 0;
}
