/* EAR claims, the AR4SI trust-vector mapping and ES256 signing (include/cocoon/kbs.h). */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"
#include "cocoon/token.h"
#include "cocoon/verify.h"

static void test_status_tiers(void **state)
{
	cocoon_kbs_trust_vector tv = { 0 };
	(void)state;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_NONE);
	tv.hardware = 1;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_NONE);
	tv.hardware = 2;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_AFFIRMING);
	tv.executables = 33;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_WARNING);
	tv.configuration = 96;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_CONTRAINDICATED);
	memset(&tv, 0, sizeof(tv));
	tv.sourced_data = -33;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_WARNING);
	tv.sourced_data = 31;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_AFFIRMING);
	tv.sourced_data = -128;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_CONTRAINDICATED);
	/* Trustee's example token: 36/33/97 is contraindicated. */
	memset(&tv, 0, sizeof(tv));
	tv.configuration = 36, tv.executables = 33, tv.hardware = 97;
	assert_int_equal(cocoon_kbs_ear_status_of(&tv), COCOON_KBS_EAR_CONTRAINDICATED);
}

static cocoon_kbs_ear_status status_for(cocoon_result *r, int rv, cocoon_kbs_trust_vector *tv)
{
	cocoon_kbs_trust_vector_from_result(tv, r, rv);
	return cocoon_kbs_ear_status_of(tv);
}

/* The table in docs/kbs.md, row by row. */
static void test_trust_vector(void **state)
{
	cocoon_result r;
	cocoon_kbs_trust_vector tv;
	(void)state;
	memset(&r, 0, sizeof(r));
	r.accepted = 1;
	r.tee = COCOON_TEE_TDX;
	r.status = COCOON_TCB_UP_TO_DATE;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_AFFIRMING);
	assert_int_equal(tv.hardware, 2);
	assert_int_equal(tv.configuration, 2);
	assert_int_equal(tv.executables, 2);
	assert_int_equal(tv.runtime_opaque, 2);
	assert_int_equal(tv.instance_identity, 0);
	/* Without reference values the executables are unrecognised: warning. */
	assert_int_equal(status_for(&r, 0, &tv), COCOON_KBS_EAR_WARNING);
	assert_int_equal(tv.executables, 33);
	r.status = COCOON_TCB_SW_HARDENING_NEEDED;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_WARNING);
	assert_int_equal(tv.hardware, 32);
	assert_int_equal(tv.configuration, 2);
	r.status = COCOON_TCB_CONFIGURATION_NEEDED;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_WARNING);
	assert_int_equal(tv.configuration, 32);
	r.status = COCOON_TCB_OUT_OF_DATE;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_WARNING);
	r.status = COCOON_TCB_REVOKED;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_CONTRAINDICATED);
	r.status = COCOON_TCB_UP_TO_DATE;
	r.tdx.debug = 1;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_CONTRAINDICATED);
	assert_int_equal(tv.configuration, 96);
	r.tdx.debug = 0;
	r.collateral_expired = 1;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_WARNING);
	r.collateral_expired = 0;
	r.simulated = 1;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_CONTRAINDICATED);
	assert_int_equal(tv.hardware, 97);
	assert_int_equal(tv.runtime_opaque, 0);
	r.simulated = 0;
	r.accepted = 0;
	assert_int_equal(status_for(&r, 1, &tv), COCOON_KBS_EAR_CONTRAINDICATED);
	assert_int_equal(tv.hardware, 96);
	assert_int_equal(tv.executables, 0);
}

static void test_claims_and_signature(void **state)
{
	cocoon_kbs_ear_input in = COCOON_KBS_EAR_INPUT_INIT;
	EVP_PKEY *signer, *tee, *other;
	json_t *jwk, *claims, *cpu0, *ae, *c2, *hdr;
	char *token;
	uint8_t *payload;
	size_t payload_len;
	(void)state;
	assert_int_equal(cocoon_kbs_key_generate(&signer, COCOON_KBS_KEY_EC_P256), 0);
	assert_int_equal(cocoon_kbs_key_generate(&other, COCOON_KBS_KEY_EC_P256), 0);
	assert_int_equal(cocoon_kbs_key_generate(&tee, COCOON_KBS_KEY_EC_P384), 0);
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, tee), 0);

	in.tee = COCOON_KBS_TEE_SNP;
	in.claims = c2 = json_pack("{s:s,s:b}", "measurement", "ab", "debug", 0);
	in.tee_pubkey = jwk;
	in.nonce = "n0";
	in.tv.hardware = 2, in.tv.configuration = 2, in.tv.executables = 2;
	in.iat = 1000;
	assert_int_equal(cocoon_kbs_ear_claims_build(&claims, &in), 0);
	assert_int_equal(json_integer_value(json_object_get(claims, "iat")), 1000);
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")), 1300);
	assert_string_equal(json_string_value(json_object_get(claims, "eat_profile")),
	                    "tag:github.com,2024:confidential-containers/Trustee");
	cpu0 = json_object_get(json_object_get(claims, "submods"), "cpu0");
	assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "affirming");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(cpu0, "ear.trustworthiness-vector"), "hardware")), 2);
	assert_int_equal(json_object_size(json_object_get(cpu0, "ear.trustworthiness-vector")), 8);
	ae = json_object_get(cpu0, "ear.veraison.annotated-evidence");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ae, "snp"), "measurement")), "ab");
	assert_true(json_is_false(json_object_get(ae, "simulated")));
	assert_true(json_equal(cocoon_kbs_ear_tee_pubkey(claims), jwk));

	/* Signed, and verifiable with the key in its own header (ES256, raw r||s). */
	assert_int_equal(cocoon_kbs_ear_sign(&token, claims, signer), 0);
	{
		const char *dot = strchr(token, '.');
		uint8_t *h;
		size_t hl;
		EVP_PKEY *hk;
		assert_int_equal(cocoon_b64_decode(&h, &hl, token, (size_t)(dot - token)), 0);
		hdr = json_loadb((const char *)h, hl, 0, NULL);
		free(h);
		assert_string_equal(json_string_value(json_object_get(hdr, "alg")), "ES256");
		json_object_del(json_object_get(hdr, "jwk"), "alg");
		assert_int_equal(cocoon_kbs_jwk_to_key(&hk, json_object_get(hdr, "jwk")), 0);
		assert_int_equal(EVP_PKEY_eq(hk, signer), 1);
		EVP_PKEY_free(hk);
		json_decref(hdr);
	}
	assert_int_equal(cocoon_jws_verify_with_key(&payload, &payload_len, token, strlen(token), signer), 0);
	c2 = json_loadb((const char *)payload, payload_len, 0, NULL);
	assert_true(json_equal(c2, claims));
	json_decref(c2);
	free(payload);
	assert_int_not_equal(cocoon_jws_verify_with_key(&payload, &payload_len, token, strlen(token), other), 0);

	/* The broker's own check of a Bearer EAR token. */
	{
		json_t *vc = NULL, *bare;
		char *bearer, *t2;
		assert_int_equal(cocoon_kbs_ear_verify(&vc, token, signer, 1100, 0), 0);
		assert_true(json_equal(cocoon_kbs_ear_tee_pubkey(vc), jwk));
		json_decref(vc);
		assert_true(asprintf(&bearer, "Bearer %s", token) > 0);
		assert_int_equal(cocoon_kbs_ear_verify(NULL, bearer, signer, 1100, 0), 0);
		free(bearer);
		/* Signed by another key (its jwk header is never trusted), expired, or without a tee-pubkey. */
		assert_int_equal(cocoon_kbs_ear_verify(&vc, token, other, 1100, 0), COCOON_EREJECT);
		assert_null(vc);
		assert_int_equal(cocoon_kbs_ear_verify(&vc, token, signer, 1301, 0), COCOON_EREJECT);
		assert_non_null(strstr(cocoon_error_last()->message, "expired"));
		assert_int_equal(cocoon_kbs_ear_verify(&vc, token, signer, 1301, 60), 0);
		json_decref(vc);
		assert_int_equal(cocoon_kbs_ear_verify(&vc, token, signer, 900, 0), COCOON_EREJECT);
		assert_non_null(strstr(cocoon_error_last()->message, "future"));
		bare = json_pack("{s:I,s:I}", "iat", (json_int_t)1000, "exp", (json_int_t)2000);
		assert_int_equal(cocoon_kbs_ear_sign(&t2, bare, other), 0);
		assert_int_equal(cocoon_kbs_ear_verify(&vc, t2, other, 1100, 0), COCOON_EREJECT);
		assert_non_null(strstr(cocoon_error_last()->message, "tee-pubkey"));
		json_decref(bare);
		t2[strlen(t2) - 5] = t2[strlen(t2) - 5] == 'A' ? 'B' : 'A';
		assert_int_equal(cocoon_kbs_ear_verify(&vc, t2, other, 1100, 0), COCOON_EREJECT);
		free(t2);
	}
	free(token);
	assert_int_equal(cocoon_kbs_ear_sign(&token, claims, tee), COCOON_EINVAL);   /* ES256 needs P-256 */
	json_decref(claims);

	/* Simulated evidence is marked; a status override wins; a missing key is refused. */
	in.simulated = 1;
	in.status_override = COCOON_KBS_EAR_CONTRAINDICATED + 1;
	assert_int_equal(cocoon_kbs_ear_claims_build(&claims, &in), 0);
	ae = json_object_get(json_object_get(json_object_get(claims, "submods"), "cpu0"), "ear.veraison.annotated-evidence");
	assert_true(json_is_true(json_object_get(ae, "simulated")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(claims, "submods"), "cpu0"),
	                                                      "ear.status")), "contraindicated");
	json_decref(claims);
	in.tee_pubkey = NULL;
	assert_int_equal(cocoon_kbs_ear_claims_build(&claims, &in), COCOON_EINVAL);
	in.version = 0;
	assert_int_equal(cocoon_kbs_ear_claims_build(&claims, &in), COCOON_EINVAL);

	json_decref((json_t *)in.claims);
	json_decref(jwk);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(other);
	EVP_PKEY_free(tee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_tiers), cmocka_unit_test(test_trust_vector),
		cmocka_unit_test(test_claims_and_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
