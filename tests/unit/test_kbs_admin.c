/* Admin JWT verification for the broker (include/cocoon/kbs.h): Ed25519 and P-256, and every rejection. */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "cocoon/kbs.h"
#include "cocoon/token.h"

#define NOW 1800000000

static EVP_PKEY *ed, *p256, *ed_pub, *p256_pub;

static EVP_PKEY *public_via_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	EVP_PKEY *out = NULL;
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &pem);
	assert_int_equal(cocoon_kbs_admin_key_load(&out, pem, (size_t)n), 0);
	BIO_free(b);
	return out;
}

static int setup(void **state)
{
	(void)state;
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!ed || cocoon_kbs_key_generate(&p256, COCOON_KBS_KEY_EC_P256) != 0)
		return -1;
	ed_pub = public_via_pem(ed);
	p256_pub = public_via_pem(p256);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed_pub);
	EVP_PKEY_free(p256_pub);
	return 0;
}

static char *sign(EVP_PKEY *k, long long iat, long long exp)
{
	json_t *c = json_pack("{s:s,s:I,s:I}", "sub", "admin", "iat", iat, "exp", exp);
	char *t;
	assert_int_equal(cocoon_kbs_admin_sign(&t, c, k), 0);
	json_decref(c);
	return t;
}

static int verify(const char *tok, EVP_PKEY *key)
{
	cocoon_kbs_admin_options o = COCOON_KBS_ADMIN_OPTIONS_INIT;
	o.now = NOW;
	return cocoon_kbs_admin_verify(NULL, tok, key, &o);
}

static void expect(const char *tok, EVP_PKEY *key, int code, const char *part)
{
	assert_int_equal(verify(tok, key), code);
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("'%s' not in '%s'", part, cocoon_error_last()->message);
}

static void test_accepts(void **state)
{
	cocoon_kbs_admin_options o = COCOON_KBS_ADMIN_OPTIONS_INIT;
	json_t *claims;
	char *t, *bearer;
	(void)state;
	o.now = NOW;
	t = sign(ed, NOW - 10, NOW + 300);
	assert_int_equal(cocoon_kbs_admin_verify(&claims, t, ed_pub, &o), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "sub")), "admin");
	json_decref(claims);
	assert_true(asprintf(&bearer, "Bearer %s", t) > 0);
	assert_int_equal(verify(bearer, ed_pub), 0);
	free(bearer);
	free(t);
	t = sign(p256, NOW, NOW + 60);
	assert_int_equal(verify(t, p256_pub), 0);
	/* Within the 60 s skew on either side. */
	free(t);
	t = sign(p256, NOW + 30, NOW + 90);
	assert_int_equal(verify(t, p256_pub), 0);
	free(t);
	t = sign(p256, NOW - 120, NOW - 30);
	assert_int_equal(verify(t, p256_pub), 0);
	free(t);
}

static char *b64(const char *s)
{
	char *o;
	assert_int_equal(cocoon_b64url_encode(&o, (const uint8_t *)s, strlen(s)), 0);
	return o;
}

/* header.payload from JSON texts, with the signature part of a real token. */
static char *forge(const char *header, const char *payload, const char *sig_from)
{
	char *h = b64(header), *p = b64(payload), *out;
	assert_true(asprintf(&out, "%s.%s%s", h, p, strrchr(sig_from, '.')) > 0);
	free(h);
	free(p);
	return out;
}

static void test_rejects(void **state)
{
	char *t, *f, *n;
	(void)state;
	t = sign(ed, NOW - 400, NOW - 100);
	expect(t, ed_pub, COCOON_EREJECT, "expired");
	free(t);
	t = sign(ed, NOW + 3600, NOW + 3700);
	expect(t, ed_pub, COCOON_EREJECT, "issued in the future");
	free(t);
	t = sign(ed, NOW - 10, NOW + 86400);
	expect(t, ed_pub, COCOON_EREJECT, "lifetime");
	free(t);

	t = sign(ed, NOW, NOW + 60);
	/* Signed by another kind of key than the configured one. */
	expect(t, p256_pub, COCOON_EREJECT, "alg \"EdDSA\"");
	/* Tampered payload (same header, same signature). */
	f = forge("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", "{\"sub\":\"root\",\"iat\":1800000000,\"exp\":1800000060}", t);
	expect(f, ed_pub, COCOON_EREJECT, "signature does not verify");
	free(f);
	/* alg none, a key in the header, a missing exp or iat. */
	f = forge("{\"alg\":\"none\"}", "{\"iat\":1800000000,\"exp\":1800000060}", t);
	expect(f, ed_pub, COCOON_EREJECT, "alg \"none\"");
	free(f);
	f = forge("{\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\"}}", "{\"iat\":1800000000,\"exp\":1800000060}", t);
	expect(f, ed_pub, COCOON_EFORMAT, "unexpected member \"jwk\"");
	free(f);
	free(t);
	{
		json_t *c = json_pack("{s:I}", "iat", (json_int_t)NOW);
		assert_int_equal(cocoon_kbs_admin_sign(&t, c, ed), 0);
		expect(t, ed_pub, COCOON_EREJECT, "\"exp\" is required");
		free(t);
		json_decref(c);
		c = json_pack("{s:I}", "exp", (json_int_t)NOW + 10);
		assert_int_equal(cocoon_kbs_admin_sign(&t, c, ed), 0);
		expect(t, ed_pub, COCOON_EREJECT, "\"iat\" is required");
		free(t);
		json_decref(c);
		c = json_pack("{s:s,s:I}", "iat", "now", "exp", (json_int_t)NOW + 10);
		assert_int_equal(cocoon_kbs_admin_sign(&t, c, ed), 0);
		expect(t, ed_pub, COCOON_EREJECT, "must be an integer");
		free(t);
		json_decref(c);
		c = json_pack("{s:I,s:I,s:I}", "iat", (json_int_t)NOW, "exp", (json_int_t)NOW + 100, "nbf", (json_int_t)NOW + 90);
		assert_int_equal(cocoon_kbs_admin_sign(&t, c, ed), 0);
		expect(t, ed_pub, COCOON_EREJECT, "not valid before");
		free(t);
		json_decref(c);
	}
	/* A truncated signature, malformed structure, no key configured. */
	t = sign(p256, NOW, NOW + 60);
	n = strdup(t);
	n[strlen(n) - 4] = '\0';
	expect(n, p256_pub, COCOON_EREJECT, "64 bytes");
	free(n);
	expect("a.b", p256_pub, COCOON_EFORMAT, "compact JWS");
	expect("a.b.c.d", p256_pub, COCOON_EFORMAT, "compact JWS");
	expect("", p256_pub, COCOON_EREJECT, "no Authorization");
	expect(t, NULL, COCOON_EREJECT, "no admin key is configured");
	free(t);
}

static void test_key_load(void **state)
{
	EVP_PKEY *k = NULL, *rsa, *p384;
	BIO *b;
	char *pem;
	long n;
	(void)state;
	assert_int_equal(cocoon_kbs_key_generate(&p384, COCOON_KBS_KEY_EC_P384), 0);
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	for (int i = 0; i < 2; i++) {
		b = BIO_new(BIO_s_mem());
		PEM_write_bio_PUBKEY(b, i ? rsa : p384);
		n = BIO_get_mem_data(b, &pem);
		assert_int_equal(cocoon_kbs_admin_key_load(&k, pem, (size_t)n), COCOON_EUNSUPPORTED);
		assert_null(k);
		BIO_free(b);
	}
	assert_int_equal(cocoon_kbs_admin_key_load(&k, "junk", 4), COCOON_EFORMAT);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts), cmocka_unit_test(test_rejects), cmocka_unit_test(test_key_load),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
