/* Internal side of token verification. */
#ifndef COCOON_TOKEN_INT_H
#define COCOON_TOKEN_INT_H

#include <openssl/evp.h>
#include "cocoon/token.h"

typedef struct {
	char *kid;
	int is_ec;          /* EC P-256 (ES256); otherwise RSA (RS256) */
	EVP_PKEY *pkey;
} cocoon_jwk;

struct cocoon_jwks {
	size_t n;
	cocoon_jwk *keys;
};

/* The key with this kid, or NULL. */
const cocoon_jwk *cocoon_jwks_find(const cocoon_jwks *k, const char *kid);

/* Fetches an http(s) URL's body (at most max bytes) through OpenSSL's HTTP client. */
int cocoon_http_get(uint8_t **out, size_t *len, const char *url, const char *ca_file, int timeout_seconds,
                    size_t max);

#endif
