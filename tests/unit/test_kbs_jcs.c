/* RFC 8785 canonicalisation (its own test vectors) and the KBS runtime-data binding. */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"

static char *jcs_of(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	char *out = NULL;
	assert_non_null(v);
	assert_int_equal(cocoon_jcs_serialize(&out, NULL, v), 0);
	json_decref(v);
	return out;
}

static double from_hex(const char *hex)
{
	uint64_t bits = strtoull(hex, NULL, 16);
	double d;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript text. */
static void test_rfc8785_numbers(void **state)
{
	static const char *const v[][2] = {
		{ "0000000000000000", "0" }, { "8000000000000000", "0" }, { "0000000000000001", "5e-324" },
		{ "8000000000000001", "-5e-324" }, { "7fefffffffffffff", "1.7976931348623157e+308" },
		{ "ffefffffffffffff", "-1.7976931348623157e+308" }, { "4340000000000000", "9007199254740992" },
		{ "c340000000000000", "-9007199254740992" }, { "4430000000000000", "295147905179352830000" },
		{ "44b52d02c7e14af5", "9.999999999999997e+22" }, { "44b52d02c7e14af6", "1e+23" },
		{ "44b52d02c7e14af7", "1.0000000000000001e+23" }, { "444b1ae4d6e2ef4e", "999999999999999700000" },
		{ "444b1ae4d6e2ef4f", "999999999999999900000" }, { "444b1ae4d6e2ef50", "1e+21" },
		{ "3eb0c6f7a0b5ed8c", "9.999999999999997e-7" }, { "3eb0c6f7a0b5ed8d", "0.000001" },
		{ "41b3de4355555553", "333333333.3333332" }, { "41b3de4355555554", "333333333.33333325" },
		{ "41b3de4355555555", "333333333.3333333" }, { "41b3de4355555556", "333333333.3333334" },
		{ "41b3de4355555557", "333333333.33333343" }, { "becbf647612f3696", "-0.0000033333333333333333" },
		{ "43143ff3c1cb0959", "1424953923781206.2" },
	};
	char buf[32];
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(cocoon_jcs_format_number(buf, from_hex(v[i][0])), 0);
		assert_string_equal(buf, v[i][1]);
	}
	/* NaN and Infinity have no JSON form. */
	assert_int_equal(cocoon_jcs_format_number(buf, from_hex("7fffffffffffffff")), COCOON_EINVAL);
	assert_int_equal(cocoon_jcs_format_number(buf, from_hex("7ff0000000000000")), COCOON_EINVAL);
}

/* RFC 8785 §3.2.2: the main example. */
static void test_rfc8785_example(void **state)
{
	char *out;
	(void)state;
	out = jcs_of("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
	             " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
	             " \"literals\": [null, true, false]}");
	assert_string_equal(out, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	                         "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
	free(out);
}

/* RFC 8785 §3.2.3: member order by UTF-16 code units (the emoji's surrogates sort before U+FB33). */
static void test_rfc8785_sorting(void **state)
{
	char *out;
	(void)state;
	out = jcs_of("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew Letter Dalet With "
	             "Dagesh\", \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\", "
	             "\"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}");
	assert_string_equal(out, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin "
	                         "Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: "
	                         "Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
	free(out);
}

static void test_jcs_misc(void **state)
{
	char *out;
	(void)state;
	out = jcs_of("{\"b\":[],\"a\":{},\"c\":\"\\u0001\\b\\t\\f\\u001f\\u007f\",\"d\":-0.0,\"e\":10}");
	assert_string_equal(out, "{\"a\":{},\"b\":[],\"c\":\"\\u0001\\b\\t\\f\\u001f\x7f\",\"d\":0,\"e\":10}");
	free(out);
}

/* attestation-service/src/lib.rs: SHA-384 of JCS({"b":1,"a":"test","c":{"d":"e"}}). */
static void test_upstream_vector(void **state)
{
	uint8_t md[48];
	unsigned int n;
	char *out = jcs_of("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}"), hex[97];
	(void)state;
	assert_int_equal(EVP_Digest(out, strlen(out), md, &n, EVP_sha384(), NULL), 1);
	for (int i = 0; i < 48; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	assert_string_equal(hex, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca94"
	                         "1da78870c3");
	free(out);
}

static json_t *vector_jwk(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "alg", "ECDH-ES+A256KW", "x",
	                 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "y", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8");
}

/* key-broker.md §3: the runtime-data vector, and the binding rule (zero padding, key order). */
static void test_runtime_data(void **state)
{
	static const char *nonce = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";
	uint8_t rd[64], rd2[64];
	size_t n;
	char hex[97], *text;
	json_t *jwk = vector_jwk(), *obj;
	(void)state;

	assert_int_equal(cocoon_kbs_runtime_data_build(&obj, nonce, jwk, ""), 0);
	assert_int_equal(cocoon_jcs_serialize(&text, NULL, obj), 0);
	assert_string_equal(text, "{\"additional-evidence\":\"\",\"nonce\":\"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=\","
	                          "\"tee-pubkey\":{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":"
	                          "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"y\":\"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\"}}");
	free(text);
	json_decref(obj);

	assert_int_equal(cocoon_kbs_runtime_data_hash(rd, &n, COCOON_KBS_HASH_SHA384, nonce, jwk, ""), 0);
	assert_int_equal(n, 48);
	for (int i = 0; i < 48; i++)
		sprintf(hex + 2 * i, "%02x", rd[i]);
	assert_string_equal(hex, "6a8cdb34e4c326e44e85b24ebf23ed09084d6511cd4ad40e282b543ca6be4df54d2bca07fa976f89c7de80"
	                         "4c263fe21d");
	for (int i = 48; i < 64; i++)
		assert_int_equal(rd[i], 0);

	/* Another nonce, another key, or omitting additional-evidence all change the binding. */
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, COCOON_KBS_HASH_SHA384, "x", jwk, ""), 0);
	assert_memory_not_equal(rd, rd2, 48);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, COCOON_KBS_HASH_SHA384, nonce, jwk, NULL), 0);
	assert_memory_not_equal(rd, rd2, 48);
	json_object_set_new(jwk, "x", json_string("AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, COCOON_KBS_HASH_SHA384, nonce, jwk, ""), 0);
	assert_memory_not_equal(rd, rd2, 48);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, COCOON_KBS_HASH_SHA512, nonce, jwk, ""), 0);
	assert_int_equal(n, 64);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, COCOON_KBS_HASH_SHA256, nonce, jwk, ""), 0);
	assert_int_equal(n, 32);
	for (int i = 32; i < 64; i++)
		assert_int_equal(rd2[i], 0);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, &n, (cocoon_kbs_hash)9, nonce, jwk, ""), COCOON_EINVAL);
	json_decref(jwk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8785_numbers), cmocka_unit_test(test_rfc8785_example),
		cmocka_unit_test(test_rfc8785_sorting), cmocka_unit_test(test_jcs_misc),
		cmocka_unit_test(test_upstream_vector), cmocka_unit_test(test_runtime_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
