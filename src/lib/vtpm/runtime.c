/*
 * The HCL runtime claims (the report's variable data): the vTPM attestation
 * key as an RSA JWK ("kid": "HCLAkPub"), vm-configuration, vmUniqueId and
 * user-data. They are hashed into the hardware REPORT_DATA, so this parser
 * runs only on bytes whose binding already verified; it still rejects
 * anything ambiguous (duplicate keys, two HCLAkPub entries, odd hex).
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include "cocoon/token.h"
#include "vtpm/vtpm_int.h"

#define AK_KID "HCLAkPub"
#define RSA_MIN_BITS 2048
#define RSA_MAX_BYTES 512   /* 4096-bit modulus */

static BIGNUM *bn_from_b64url(const char *s, size_t max, const char *what)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	BIGNUM *bn = NULL;

	if (cocoon_b64_decode(&raw, &len, s, strlen(s)) != 0) {
		cocoon_error_set(COCOON_EFORMAT, "JWK %s: %s", what, cocoon_error_last()->message);
		return NULL;
	}
	if (len == 0 || len > max)
		cocoon_error_set(COCOON_EFORMAT, "JWK %s is %zu bytes, expected 1..%zu", what, len, max);
	else if (!(bn = BN_bin2bn(raw, (int)len, NULL)))
		cocoon_error_set_openssl(COCOON_ENOMEM, "JWK %s", what);
	free(raw);
	return bn;
}

EVP_PKEY *cocoon_rsa_from_jwk(const char *n_b64, const char *e_b64)
{
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (!(n = bn_from_b64url(n_b64, RSA_MAX_BYTES, "n")) || !(e = bn_from_b64url(e_b64, 8, "e")))
		goto done;
	if (BN_num_bits(n) < RSA_MIN_BITS) {
		cocoon_error_set(COCOON_EFORMAT, "JWK n is %d bits, expected at least %d", BN_num_bits(n), RSA_MIN_BITS);
		goto done;
	}
	if (!BN_is_odd(e) || BN_is_one(e)) {
		cocoon_error_set(COCOON_EFORMAT, "JWK e is not a valid RSA public exponent");
		goto done;
	}
	if (!(bld = OSSL_PARAM_BLD_new()) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		cocoon_error_set_openssl(COCOON_EINTERNAL, "building the RSA key from the JWK");
		key = NULL;
	}
done:
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* The one key whose kid is HCLAkPub; a second one would make the AK ambiguous. */
static int find_ak(json_t **out, cocoon_failure *f, json_t *root)
{
	json_t *keys = json_object_get(root, "keys"), *k;
	size_t i;

	*out = NULL;
	if (!json_is_array(keys))
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS, "HCL runtime claims have no \"keys\" array");
	json_array_foreach(keys, i, k) {
		const char *kid = json_string_value(json_object_get(k, "kid"));
		if (!kid || strcmp(kid, AK_KID) != 0)
			continue;
		if (*out)
			return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
			                   "HCL runtime claims hold two \"%s\" keys (keys[%zu]): the vTPM key is ambiguous",
			                   AK_KID, i);
		*out = k;
	}
	if (!*out)
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims have no key with kid \"%s\" (the vTPM attestation key)", AK_KID);
	return 0;
}

static int parse_ak(cocoon_runtime_claims *out, cocoon_failure *f, json_t *root)
{
	json_t *k;
	const char *kty, *n, *e;
	uint8_t *der = NULL;
	int len, err;

	if ((err = find_ak(&k, f, root)) != 0)
		return err;
	kty = json_string_value(json_object_get(k, "kty"));
	n = json_string_value(json_object_get(k, "n"));
	e = json_string_value(json_object_get(k, "e"));
	if (!kty || strcmp(kty, "RSA") != 0 || !n || !e)
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims: the %s key is not an RSA JWK with string \"n\" and \"e\"", AK_KID);
	if (!(out->ak = cocoon_rsa_from_jwk(n, e)))
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS, "HCL runtime claims: %s: %s", AK_KID,
		                   cocoon_error_last()->message);
	if ((len = i2d_PUBKEY(out->ak, &der)) <= 0)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "encoding the vTPM key");
	err = EVP_Digest(der, (size_t)len, out->ak_spki_sha256, NULL, EVP_sha256(), NULL) == 1
	              ? 0
	              : cocoon_error_set_openssl(COCOON_EINTERNAL, "hashing the vTPM key");
	OPENSSL_free(der);
	return err;
}

static int get_bool(cocoon_vtpm_bool *out, cocoon_failure *f, json_t *cfg, const char *key)
{
	json_t *v = json_object_get(cfg, key);

	*out = COCOON_VTPM_ABSENT;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims: vm-configuration.%s is not a boolean", key);
	*out = json_is_true(v) ? COCOON_VTPM_TRUE : COCOON_VTPM_FALSE;
	return 0;
}

static int parse_vm_config(cocoon_runtime_claims *out, cocoon_failure *f, json_t *root)
{
	json_t *cfg = json_object_get(root, "vm-configuration"), *id;
	int err;

	out->secure_boot = out->tpm_enabled = out->console_enabled = out->tpm_persisted = COCOON_VTPM_ABSENT;
	if (!cfg)
		return 0;
	if (!json_is_object(cfg))
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims: vm-configuration is not an object");
	if ((err = get_bool(&out->secure_boot, f, cfg, "secure-boot")) != 0 ||
	    (err = get_bool(&out->tpm_enabled, f, cfg, "tpm-enabled")) != 0 ||
	    (err = get_bool(&out->console_enabled, f, cfg, "console-enabled")) != 0 ||
	    (err = get_bool(&out->tpm_persisted, f, cfg, "tpm-persisted")) != 0)
		return err;
	if ((id = json_object_get(cfg, "vmUniqueId")) != NULL) {
		const char *s = json_string_value(id);
		if (!s || strlen(s) >= sizeof(out->vm_unique_id))
			return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
			                   "HCL runtime claims: vm-configuration.vmUniqueId is not a string of at most "
			                   "%zu characters",
			                   sizeof(out->vm_unique_id) - 1);
		snprintf(out->vm_unique_id, sizeof(out->vm_unique_id), "%s", s);
	}
	return 0;
}

static int parse_user_data(cocoon_runtime_claims *out, cocoon_failure *f, json_t *root)
{
	json_t *u = json_object_get(root, "user-data");
	const char *s;
	size_t n;

	if (!u)
		return 0;
	s = json_string_value(u);
	n = s ? strlen(s) : 0;
	if (!s || n % 2 != 0 || n > 2 * sizeof(out->user_data) ||
	    cocoon_hex_decode(out->user_data, n / 2, s, n) != 0)
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims: user-data is not hex of at most 64 bytes");
	out->has_user_data = 1;
	out->user_data_len = n / 2;
	return 0;
}

int cocoon_runtime_claims_parse(cocoon_runtime_claims *out, cocoon_failure *f, const uint8_t *json, size_t len)
{
	json_error_t jerr;
	json_t *root;
	int err;

	memset(out, 0, sizeof(*out));
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return cocoon_fail(f, COCOON_CHECK_HCL_RUNTIME_CLAIMS,
		                   "HCL runtime claims (variable data) are not a JSON object: %s at offset %d",
		                   root ? "not an object" : jerr.text, root ? 0 : jerr.position);
	}
	if ((err = parse_ak(out, f, root)) != 0 || (err = parse_vm_config(out, f, root)) != 0 ||
	    (err = parse_user_data(out, f, root)) != 0)
		cocoon_runtime_claims_clear(out);
	json_decref(root);
	return err;
}

void cocoon_runtime_claims_clear(cocoon_runtime_claims *rc)
{
	if (!rc)
		return;
	EVP_PKEY_free(rc->ak);
	rc->ak = NULL;
}
