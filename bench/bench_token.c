/*
 * Token signing throughput on one core: cocoon_token_signer_sign for ES256,
 * RS256 and PS256 over a claims set the size of an SGX token's, next to
 * OpenSSL's raw sign rate for the same key in the same run (so the numbers
 * show the signer's overhead, and compare across machines).
 *
 * usage: bench_token [--seconds S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "cocoon/token.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Raw EVP_DigestSign of the same input with the same key. */
static double raw_rate(const char *key_pem, double secs)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	uint8_t sig[512];
	double t0 = now_s();
	long n = 0;

	while (k && now_s() - t0 < secs) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t len = sizeof(sig);
		if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
		    EVP_DigestSign(ctx, sig, &len, (const uint8_t *)"x", 1) != 1)
			break;
		EVP_MD_CTX_free(ctx);
		n++;
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	return (double)n / (now_s() - t0);
}

int main(int argc, char **argv)
{
	static const char *const algs[] = { "ES256", "RS256", "PS256" };
	double secs = 2;
	json_t *claims = json_object();

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		secs = atof(argv[2]);
	for (int i = 0; i < 40 && claims; i++) {
		char k[32];
		snprintf(k, sizeof(k), "x-ms-claim-%d", i);
		if (json_object_set_new(claims, k, json_string("33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f5")))
			return 1;
	}
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		cocoon_token_signer_options o = COCOON_TOKEN_SIGNER_OPTIONS_INIT;
		cocoon_token_signer *s = NULL;
		char *key = NULL, *cert = NULL;
		double t0;
		long n = 0;

		if (cocoon_token_key_generate(&key, &cert, algs[a], NULL) != 0)
			return 1;
		o.alg = algs[a];
		o.key_pem = key;
		o.cert_pem = cert;
		if (cocoon_token_signer_new(&s, &o) != 0)
			return 1;
		t0 = now_s();
		while (now_s() - t0 < secs) {
			char *tok = NULL;
			if (cocoon_token_signer_sign(&tok, s, claims, "https://attest.example/certs") != 0)
				return 1;
			free(tok);
			n++;
		}
		printf("%s token signer   %8.0f/s   (raw OpenSSL sign with the same key: %8.0f/s)\n", algs[a],
		       (double)n / (now_s() - t0), raw_rate(key, secs));
		cocoon_token_signer_free(s);
		free(key);
		free(cert);
	}
	json_decref(claims);
	return 0;
}
