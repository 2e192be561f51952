/* Token verification (include/cocoon/token.h): base64, JWKS parsing and every rejection. */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "cocoon/token.h"

typedef struct {
	EVP_PKEY *rsa, *ec, *other;
	char *jwks;             /* RSA key "r1" (n/e), EC key "e1" (x/y) */
} keys;

static keys K;

static char *b64url(const void *p, size_t n)
{
	char *s = NULL;
	assert_int_equal(cocoon_b64url_encode(&s, p, n), 0);
	return s;
}

static char *bn_b64(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	int n;
	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64url(buf, (size_t)n);
}

static int setup(void **state)
{
	unsigned char pub[65];
	size_t pub_len = 0;
	char *n, *e, *x, *y;
	(void)state;
	K.rsa = EVP_RSA_gen(2048);
	K.ec = EVP_EC_gen("P-256");
	K.other = EVP_RSA_gen(2048);
	assert_non_null(K.rsa);
	assert_non_null(K.ec);
	n = bn_b64(K.rsa, "n");
	e = bn_b64(K.rsa, "e");
	assert_int_equal(EVP_PKEY_get_octet_string_param(K.ec, "pub", pub, sizeof(pub), &pub_len), 1);
	assert_int_equal(pub_len, 65);
	x = b64url(pub + 1, 32);
	y = b64url(pub + 33, 32);
	assert_true(asprintf(&K.jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"n\":\"%s\",\"e\":\"%s\"},"
	                              "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	                     n, e, x, y) > 0);
	free(n);
	free(e);
	free(x);
	free(y);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.ec);
	EVP_PKEY_free(K.other);
	free(K.jwks);
	return 0;
}

/* Builds a compact JWS; key NULL leaves the signature empty. */
static char *make_token(const char *header, const char *payload, EVP_PKEY *key)
{
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload)), *input, *s = NULL, *out;
	unsigned char sig[512], raw[64];
	size_t sig_len = sizeof(sig);
	assert_true(asprintf(&input, "%s.%s", h, p) > 0);
	if (key) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
		assert_int_equal(EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, strlen(input)), 1);
		EVP_MD_CTX_free(md);
		if (EVP_PKEY_is_a(key, "EC")) {
			const unsigned char *q = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sig_len);
			assert_non_null(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
			ECDSA_SIG_free(es);
			s = b64url(raw, 64);
		} else {
			s = b64url(sig, sig_len);
		}
	}
	assert_true(asprintf(&out, "%s.%s", input, s ? s : "") > 0);
	free(h);
	free(p);
	free(input);
	free(s);
	return out;
}

static int verify(const char *token, const cocoon_token_verify_options *o, json_t **claims)
{
	cocoon_jwks *jwks = NULL;
	json_t *c = NULL;
	int err;
	assert_int_equal(cocoon_jwks_parse(&jwks, K.jwks, strlen(K.jwks)), 0);
	err = cocoon_token_verify(&c, NULL, token, strlen(token), jwks, o);
	cocoon_jwks_free(jwks);
	if (claims)
		*claims = c;
	else
		json_decref(c);
	return err;
}

#define FUTURE "9999999999"
#define RS_HDR "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"r1\",\"jku\":\"https://a.example/certs\"}"

static void test_b64(void **state)
{
	uint8_t *out;
	size_t len;
	(void)state;
	assert_int_equal(cocoon_b64_decode(&out, &len, "aGk", 3), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "hi", 2);
	free(out);
	assert_int_equal(cocoon_b64_decode(&out, &len, "aGk=", 4), 0); /* padding optional */
	assert_int_equal(len, 2);
	free(out);
	assert_int_equal(cocoon_b64_decode(&out, &len, "-_8", 3), 0); /* url alphabet */
	assert_int_equal(len, 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	free(out);
	assert_int_equal(cocoon_b64_decode(&out, &len, "aG k", 4), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "invalid character 0x20 at offset 2"));
	assert_int_equal(cocoon_b64_decode(&out, &len, "aGkab", 5), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "dangling"));
	assert_int_equal(cocoon_b64_decode(&out, &len, "aGk==", 5), COCOON_EFORMAT);
	assert_int_equal(cocoon_b64_decode(&out, &len, "a=Gk", 4), COCOON_EFORMAT);
	assert_int_equal(cocoon_b64_decode(&out, &len, "", 0), 0);
	assert_int_equal(len, 0);
	free(out);
}

static void test_jwks_errors(void **state)
{
	cocoon_jwks *j = NULL;
	(void)state;
	assert_int_equal(cocoon_jwks_parse(&j, "{\"keys\":[]}", 11), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "\"keys\" must be an array"));
	assert_int_equal(cocoon_jwks_parse(&j, "{\"keys\":[{\"kty\":\"RSA\"}]}", 24), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "keys[0].kid is missing"));
	assert_int_equal(cocoon_jwks_parse(&j, "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\"}]}", 34), COCOON_EUNSUPPORTED);
	assert_int_equal(cocoon_jwks_parse(&j, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
	                                   56), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "2048 to 8192 bits"));
	assert_int_equal(cocoon_jwks_parse(&j, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"x5c\":[\"AAAA\"]}]}", 49),
	                 COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "x5c[0] is not one DER certificate"));
	assert_null(j);
}

static void test_valid_rs256_es256(void **state)
{
	cocoon_token_verify_options o = COCOON_TOKEN_VERIFY_OPTIONS_INIT;
	json_t *c = NULL;
	char *t;
	(void)state;
	o.issuer = "https://a.example";
	o.jku = "https://a.example/certs";
	t = make_token(RS_HDR, "{\"iss\":\"https://a.example\",\"exp\":" FUTURE ",\"nbf\":1,\"x\":1}", K.rsa);
	assert_int_equal(verify(t, &o, &c), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "x")), 1);
	json_decref(c);
	free(t);
	t = make_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", "{\"exp\":" FUTURE "}", K.ec);
	assert_int_equal(verify(t, NULL, NULL), 0);
	free(t);
}

static void test_rejections(void **state)
{
	cocoon_token_verify_options o = COCOON_TOKEN_VERIFY_OPTIONS_INIT;
	const char *payload = "{\"iss\":\"https://a.example\",\"exp\":" FUTURE "}";
	struct {
		const char *header, *payload;
		EVP_PKEY **key;
		const char *want;
	} cases[] = {
		{ "{\"alg\":\"none\",\"kid\":\"r1\"}", NULL, NULL, "alg 'none' is not accepted" },
		{ "{\"alg\":\"HS256\",\"kid\":\"r1\"}", NULL, &K.rsa, "alg 'HS256' is not accepted" },
		{ "{\"alg\":\"RS256\",\"kid\":\"nope\",\"jku\":\"https://a.example/certs\"}", NULL, &K.rsa,
		  "kid 'nope' is not in the trusted JWKS" },
		{ "{\"alg\":\"RS256\",\"jku\":\"https://a.example/certs\"}", NULL, &K.rsa, "\"kid\" is missing" },
		{ "{\"alg\":\"RS256\",\"kid\":\"r1\",\"jku\":\"https://evil.example/certs\"}", NULL, &K.rsa,
		  "jku 'https://evil.example/certs' is not the expected" },
		{ RS_HDR, NULL, &K.other, "signature does not verify" },
		{ "{\"alg\":\"ES256\",\"kid\":\"r1\",\"jku\":\"https://a.example/certs\"}", NULL, &K.ec,
		  "does not match the RSA key" },
		{ RS_HDR, "{\"iss\":\"https://a.example\",\"exp\":1000}", &K.rsa, "token expired at 1970-01-01T00:16:40Z" },
		{ RS_HDR, "{\"iss\":\"https://a.example\"}", &K.rsa, "\"exp\" is missing" },
		{ RS_HDR, "{\"iss\":\"https://a.example\",\"exp\":\"soon\"}", &K.rsa, "must be an integer" },
		{ RS_HDR, "{\"iss\":\"https://a.example\",\"exp\":" FUTURE ",\"nbf\":" FUTURE "}", &K.rsa,
		  "not valid before" },
		{ RS_HDR, "{\"iss\":\"https://b.example\",\"exp\":" FUTURE "}", &K.rsa, "issuer 'https://b.example'" },
		{ "{\"alg\":\"RS256\",\"kid\":\"r1\",\"jku\":\"https://a.example/certs\",\"crit\":[\"x\"]}", NULL, &K.rsa,
		  "\"crit\"" },
		{ "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWE\",\"jku\":\"https://a.example/certs\"}", NULL, &K.rsa,
		  "typ must be \"JWT\"" },
	};
	(void)state;
	o.issuer = "https://a.example";
	o.jku = "https://a.example/certs";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = make_token(cases[i].header, cases[i].payload ? cases[i].payload : payload,
		                     cases[i].key ? *cases[i].key : NULL);
		int err = verify(t, &o, NULL);
		if (err != COCOON_EREJECT || !strstr(cocoon_error_last()->message, cases[i].want))
			fail_msg("case %zu: err %d, message '%s', want '%s'", i, err, cocoon_error_last()->message,
			         cases[i].want);
		free(t);
	}
}

/* A key in the token's own header is never trusted, even when kid is unknown. */
static void test_header_key_ignored(void **state)
{
	X509 *x = X509_new();
	unsigned char *der = NULL;
	char *b64 = NULL, *hdr, *t;
	int n;
	(void)state;
	X509_set_pubkey(x, K.other);
	X509_sign(x, K.other, EVP_sha256());
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	assert_int_equal(cocoon_base64_encode(&b64, der, (size_t)n), 0);
	assert_true(asprintf(&hdr, "{\"alg\":\"RS256\",\"kid\":\"unknown\",\"x5c\":[\"%s\"]}", b64) > 0);
	t = make_token(hdr, "{\"exp\":" FUTURE "}", K.other);
	assert_int_equal(verify(t, NULL, NULL), COCOON_EREJECT);
	assert_non_null(strstr(cocoon_error_last()->message, "kid 'unknown' is not in the trusted JWKS"));
	free(t);
	free(hdr);
	free(b64);
	OPENSSL_free(der);
	X509_free(x);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = { "", "abc", "a.b", "a.b.c.d", "a b.c.d", "e30.e30.", "bm90anNvbg.e30.e30" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = verify(bad[i], NULL, NULL);
		if (err != COCOON_EFORMAT && err != COCOON_EREJECT)
			fail_msg("'%s': err %d", bad[i], err);
	}
	assert_int_equal(verify("a.b", NULL, NULL), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "expected compact JWS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_jwks_errors),
		cmocka_unit_test(test_valid_rs256_es256),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_header_key_ignored),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
