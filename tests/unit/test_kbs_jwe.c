/* JWKs and the resource JWE (include/cocoon/kbs.h): round trips for every key type and every rejection. */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"
#include "cocoon/token.h"

static EVP_PKEY *keys[4];
static const cocoon_kbs_key_type types[4] = { COCOON_KBS_KEY_EC_P256, COCOON_KBS_KEY_EC_P384,
                                              COCOON_KBS_KEY_EC_P521, COCOON_KBS_KEY_RSA };

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		if (cocoon_kbs_key_generate(&keys[i], types[i]) != 0)
			return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* Public JWK of key i, through JSON text, back to a key. */
static EVP_PKEY *public_of(int i)
{
	json_t *jwk;
	char *text;
	EVP_PKEY *pub = NULL;
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, keys[i]), 0);
	text = json_dumps(jwk, JSON_COMPACT);
	assert_int_equal(cocoon_kbs_jwk_parse(&pub, text, strlen(text)), 0);
	assert_int_equal(EVP_PKEY_eq(pub, keys[i]), 1);
	free(text);
	json_decref(jwk);
	return pub;
}

static json_t *protected_of(const char *jwe)
{
	json_t *doc = json_loads(jwe, 0, NULL), *h;
	uint8_t *raw;
	size_t n;
	const char *p = json_string_value(json_object_get(doc, "protected"));
	assert_int_equal(cocoon_b64_decode(&raw, &n, p, strlen(p)), 0);
	h = json_loadb((const char *)raw, n, 0, NULL);
	assert_non_null(h);
	free(raw);
	json_decref(doc);
	return h;
}

static void test_jwk_members(void **state)
{
	json_t *jwk;
	(void)state;
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, keys[0]), 0);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ECDH-ES+A256KW");
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
	assert_int_equal(json_object_size(jwk), 5);
	json_decref(jwk);
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, keys[2]), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 88);   /* 66 bytes, padded */
	json_decref(jwk);
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, keys[3]), 0);
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "RSA-OAEP-256");
	assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
	assert_int_equal(json_object_size(jwk), 4);
	json_decref(jwk);
}

static void expect_jwk_error(const char *text, int code, const char *part)
{
	EVP_PKEY *k = NULL;
	assert_int_equal(cocoon_kbs_jwk_parse(&k, text, strlen(text)), code);
	assert_null(k);
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("'%s' not in '%s'", part, cocoon_error_last()->message);
}

static void test_jwk_rejects(void **state)
{
	json_t *jwk;
	char *text;
	(void)state;
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, keys[0]), 0);
	/* A point off the curve. */
	json_object_set_new(jwk, "y", json_string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
	text = json_dumps(jwk, 0);
	expect_jwk_error(text, COCOON_EFORMAT, "not on curve");
	free(text);
	/* A coordinate of the wrong length. */
	json_object_set_new(jwk, "y", json_string("AAEC"));
	text = json_dumps(jwk, 0);
	expect_jwk_error(text, COCOON_EFORMAT, "must be 32 bytes");
	free(text);
	json_decref(jwk);
	expect_jwk_error("{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"}", COCOON_EUNSUPPORTED, "P-192");
	expect_jwk_error("{\"kty\":\"oct\",\"k\":\"AA\"}", COCOON_EREJECT, "private member \"k\"");
	expect_jwk_error("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}", COCOON_EUNSUPPORTED, "kty");
	expect_jwk_error("{\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"AA\",\"x\":\"AA\",\"y\":\"AA\"}", COCOON_EREJECT, "\"d\"");
	expect_jwk_error("{\"kty\":\"RSA\",\"alg\":\"RSA1_5\",\"n\":\"AA\",\"e\":\"AQAB\"}", COCOON_EUNSUPPORTED, "RSA1_5");
	expect_jwk_error("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", COCOON_EREJECT, "RSA modulus of 17 bits");
	expect_jwk_error("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA==\",\"y\":\"AA\"}", COCOON_EFORMAT, "base64url");
	expect_jwk_error("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A+/A\",\"y\":\"AA\"}", COCOON_EFORMAT, "base64url");
	expect_jwk_error("{\"kty\":\"EC\",\"kty\":\"EC\"}", COCOON_EFORMAT, "not valid JSON");
	expect_jwk_error("[1]", COCOON_EFORMAT, "not a JSON object");
}

static void test_round_trips(void **state)
{
	static const uint8_t secret[] = "the resource: a 32-byte key or a config file";
	(void)state;
	for (int i = 0; i < 4; i++) {
		EVP_PKEY *pub = public_of(i);
		char *jwe;
		uint8_t *pt;
		size_t n;
		json_t *doc, *h;

		assert_int_equal(cocoon_kbs_jwe_encrypt(&jwe, pub, secret, sizeof(secret)), 0);
		doc = json_loads(jwe, 0, NULL);
		assert_int_equal(json_object_size(doc), 5);   /* protected, encrypted_key, iv, ciphertext, tag; no aad */
		assert_null(json_object_get(doc, "aad"));
		assert_null(json_object_get(doc, "header"));
		json_decref(doc);
		h = protected_of(jwe);
		assert_string_equal(json_string_value(json_object_get(h, "enc")), "A256GCM");
		assert_string_equal(json_string_value(json_object_get(h, "alg")),
		                    types[i] == COCOON_KBS_KEY_RSA ? "RSA-OAEP-256" : "ECDH-ES+A256KW");
		assert_true((types[i] == COCOON_KBS_KEY_RSA) == (json_object_get(h, "epk") == NULL));
		json_decref(h);
		assert_int_equal(cocoon_kbs_jwe_decrypt(&pt, &n, jwe, strlen(jwe), keys[i]), 0);
		assert_int_equal(n, sizeof(secret));
		assert_memory_equal(pt, secret, n);
		free(pt);
		/* The other keys cannot open it. */
		for (int j = 0; j < 4; j++) {
			int err;
			if (j == i)
				continue;
			err = cocoon_kbs_jwe_decrypt(&pt, &n, jwe, strlen(jwe), keys[j]);
			assert_true(err == COCOON_EREJECT || err == COCOON_EUNSUPPORTED);
			assert_null(pt);
		}
		free(jwe);
		EVP_PKEY_free(pub);
	}
}

/* The protected header must be byte-identical to kbs-types' re-serialisation
 * (alg, enc, then sorted), or guest-components computes another AAD. */
static void test_protected_bytes(void **state)
{
	char *jwe, *expect;
	uint8_t *raw;
	size_t n;
	json_t *doc, *h, *epk;
	(void)state;
	assert_int_equal(cocoon_kbs_jwe_encrypt(&jwe, keys[0], (const uint8_t *)"x", 1), 0);
	doc = json_loads(jwe, 0, NULL);
	assert_int_equal(cocoon_b64_decode(&raw, &n, json_string_value(json_object_get(doc, "protected")),
	                                   strlen(json_string_value(json_object_get(doc, "protected")))), 0);
	h = json_loadb((const char *)raw, n, 0, NULL);
	epk = json_object_get(h, "epk");
	assert_non_null(epk);
	assert_int_equal(asprintf(&expect, "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\","
	                                   "\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
	                          json_string_value(json_object_get(epk, "x")), json_string_value(json_object_get(epk, "y"))) > 0, 1);
	assert_int_equal(n, strlen(expect));
	assert_memory_equal(raw, expect, n);
	free(expect);
	free(raw);
	json_decref(h);
	json_decref(doc);
	free(jwe);
	assert_int_equal(cocoon_kbs_jwe_encrypt(&jwe, keys[3], (const uint8_t *)"", 0), 0);
	doc = json_loads(jwe, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "protected")),
	                    "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0");   /* {"alg":"RSA-OAEP-256","enc":"A256GCM"} */
	json_decref(doc);
	free(jwe);
}

static char *edited(const char *jwe, const char *member, const char *value)
{
	json_t *doc = json_loads(jwe, 0, NULL);
	char *out;
	if (value)
		json_object_set_new(doc, member, json_string(value));
	else
		json_object_del(doc, member);
	out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return out;
}

static char *flipped(const char *jwe, const char *member)
{
	json_t *doc = json_loads(jwe, 0, NULL);
	char *v = strdup(json_string_value(json_object_get(doc, member))), *out;
	v[1] = v[1] == 'A' ? 'B' : 'A';
	out = edited(jwe, member, v);
	free(v);
	json_decref(doc);
	return out;
}

static void expect_decrypt_error(const char *jwe, int key, int code, const char *part)
{
	uint8_t *pt = (uint8_t *)"sentinel";
	size_t n = 7;
	assert_int_equal(cocoon_kbs_jwe_decrypt(&pt, &n, jwe, strlen(jwe), keys[key]), code);
	assert_null(pt);
	assert_int_equal(n, 0);
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("'%s' not in '%s'", part, cocoon_error_last()->message);
}

static void test_tampering(void **state)
{
	static const char *const members[] = { "ciphertext", "tag", "iv", "protected", "encrypted_key" };
	char *jwe, *bad;
	(void)state;
	for (int k = 0; k < 4; k += 3) {
		assert_int_equal(cocoon_kbs_jwe_encrypt(&jwe, keys[k], (const uint8_t *)"secret bytes", 12), 0);
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
			uint8_t *pt;
			size_t n;
			int err;
			bad = flipped(jwe, members[i]);
			err = cocoon_kbs_jwe_decrypt(&pt, &n, bad, strlen(bad), keys[k]);
			/* A flipped protected header may no longer parse; every other flip is an integrity failure. */
			assert_true(err == COCOON_EREJECT || (err == COCOON_EFORMAT && strcmp(members[i], "protected") == 0));
			assert_null(pt);
			free(bad);
		}
		bad = edited(jwe, "tag", NULL);
		expect_decrypt_error(bad, k, COCOON_EFORMAT, "\"tag\" is missing");
		free(bad);
		bad = edited(jwe, "iv", "AAAA");
		expect_decrypt_error(bad, k, COCOON_EFORMAT, "12-byte iv");
		free(bad);
		bad = edited(jwe, "zzz", "1");
		expect_decrypt_error(bad, k, COCOON_EFORMAT, "unexpected member \"zzz\"");
		free(bad);
		/* An aad member changes the AAD (RFC 7516 §5.2), so the tag fails. */
		bad = edited(jwe, "aad", "YWFk");
		expect_decrypt_error(bad, k, COCOON_EREJECT, "did not verify");
		free(bad);
		free(jwe);
	}
	expect_decrypt_error("{\"protected\":\"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0\",\"encrypted_key\":\"\",\"iv\":"
	                     "\"AAAAAAAAAAAAAAAA\",\"ciphertext\":\"\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
	                     0, COCOON_EUNSUPPORTED, "alg \"dir\"");
	expect_decrypt_error("{\"protected\":\"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkExMjhHQ00ifQ\",\"encrypted_key\":"
	                     "\"\",\"iv\":\"AAAAAAAAAAAAAAAA\",\"ciphertext\":\"\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
	                     0, COCOON_EUNSUPPORTED, "A128GCM");
	expect_decrypt_error("{\"protected\":\"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00ifQ\",\"encrypted_key\":"
	                     "\"\",\"iv\":\"AAAAAAAAAAAAAAAA\",\"ciphertext\":\"\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\"}",
	                     0, COCOON_EFORMAT, "without \"epk\"");
	expect_decrypt_error("compact.is.not.supported.here", 0, COCOON_EFORMAT, "not valid JSON");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwk_members), cmocka_unit_test(test_jwk_rejects), cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_protected_bytes), cmocka_unit_test(test_tampering),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
