/*
 * Small helpers of the KBS protocol files: strict base64url, JSON member
 * access with precise errors, ECDSA signature encodings and JWS signing.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include "kbs/kbs_int.h"
#include "cocoon/token.h"

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int kbs_b64url_decode(uint8_t **out, size_t *out_len, const char *in, size_t len, const char *what)
{
	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_b64url(in[i]))
			return cocoon_error_set(COCOON_EFORMAT, "%s: character 0x%02x at offset %zu is not unpadded base64url",
			                        what, (unsigned char)in[i], i);
	}
	if (len % 4 == 1)
		return cocoon_error_set(COCOON_EFORMAT, "%s: base64url of %zu characters is truncated", what, len);
	if (cocoon_b64_decode(out, out_len, in, len) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: %s", what, cocoon_error_last()->message);
	return 0;
}

const char *kbs_string_member(const json_t *obj, const char *key, const char *what, int *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		*err = cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" is missing", what, key);
		return NULL;
	}
	if (!json_is_string(v)) {
		*err = cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" must be a string", what, key);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		*err = cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" contains a NUL character", what, key);
		return NULL;
	}
	*err = 0;
	return json_string_value(v);
}

int kbs_b64url_member(uint8_t **out, size_t *out_len, const json_t *obj, const char *key, const char *what)
{
	char where[160];
	int err;
	const char *s = kbs_string_member(obj, key, what, &err);

	*out = NULL;
	*out_len = 0;
	if (!s)
		return err;
	snprintf(where, sizeof(where), "%s: \"%s\"", what, key);
	return kbs_b64url_decode(out, out_len, s, strlen(s), where);
}

int kbs_only_members(const json_t *obj, const char *const *allowed, const char *what)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			return cocoon_error_set(COCOON_EFORMAT, "%s: unexpected member \"%.64s\"", what, key);
	}
	return 0;
}

int kbs_json_load(json_t **out, const char *text, size_t len, const char *what)
{
	json_error_t je;

	*out = NULL;
	if (!text)
		return cocoon_error_set(COCOON_EINVAL, "%s: no input", what);
	if (len > COCOON_KBS_MAX_BODY)
		return cocoon_error_set(COCOON_EFORMAT, "%s: %zu bytes exceed the %d-byte limit", what, len,
		                        COCOON_KBS_MAX_BODY);
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return cocoon_error_set(COCOON_EFORMAT, "%s: not valid JSON at line %d column %d: %s", what, je.line,
		                        je.column, je.text);
	return 0;
}

int kbs_json_dump(char **out, const json_t *v, const char *what)
{
	*out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*out)
		return cocoon_error_set(COCOON_ENOMEM, "%s: could not serialise JSON", what);
	return 0;
}

int kbs_ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der, size_t der_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	int err = 0;

	if (!sig)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: OpenSSL produced an unreadable signature");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, (int)n) < 0 || BN_bn2binpad(s, raw + n, (int)n) < 0)
		err = cocoon_error_set(COCOON_EINTERNAL, "ECDSA: signature component exceeds %zu bytes", n);
	ECDSA_SIG_free(sig);
	return err;
}

int kbs_ecdsa_raw_to_der(uint8_t **der, size_t *der_len, const uint8_t *raw, size_t raw_len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *buf = NULL;
	int n, err = 0;

	*der = NULL;
	*der_len = 0;
	if (!sig || !(r = BN_bin2bn(raw, (int)(raw_len / 2), NULL)) ||
	    !(s = BN_bin2bn(raw + raw_len / 2, (int)(raw_len / 2), NULL)) || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		err = cocoon_error_set(COCOON_ENOMEM, "ECDSA: out of memory");
		goto done;
	}
	if ((n = i2d_ECDSA_SIG(sig, &buf)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: cannot encode the signature");
		goto done;
	}
	*der = buf;
	*der_len = (size_t)n;
done:
	ECDSA_SIG_free(sig);
	return err;
}

static int b64url_json(char **out, const json_t *v, const char *what)
{
	char *text = NULL;
	int err;

	if ((err = kbs_json_dump(&text, v, what)) != 0)
		return err;
	err = cocoon_b64url_encode(out, (const uint8_t *)text, strlen(text));
	free(text);
	return err;
}

int kbs_jws_sign(char **out, const char *alg, const json_t *header, const json_t *claims, const EVP_PKEY *key)
{
	char *h64 = NULL, *p64 = NULL, *s64 = NULL;
	cocoon_buf input = { 0 };
	uint8_t *sig = NULL, raw[132];
	size_t sig_len = 0;
	EVP_MD_CTX *md = NULL;
	int is_ec = strcmp(alg, "ES256") == 0, err;

	*out = NULL;
	if ((err = b64url_json(&h64, header, "JWS header")) != 0 || (err = b64url_json(&p64, claims, "JWS claims")) != 0)
		goto done;
	if ((err = cocoon_buf_printf(&input, "%s.%s", h64, p64)) != 0)
		goto done;
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit(md, NULL, is_ec ? EVP_sha256() : NULL, NULL, (EVP_PKEY *)key) != 1 ||
	    EVP_DigestSign(md, NULL, &sig_len, input.data, input.len) != 1 || !(sig = malloc(sig_len)) ||
	    EVP_DigestSign(md, sig, &sig_len, input.data, input.len) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWS: signing with %s failed", alg);
		goto done;
	}
	if (is_ec) {
		if ((err = kbs_ecdsa_der_to_raw(raw, 32, sig, sig_len)) != 0)
			goto done;
		err = cocoon_b64url_encode(&s64, raw, 64);
	} else {
		err = cocoon_b64url_encode(&s64, sig, sig_len);
	}
	if (err || (err = cocoon_buf_printf(&input, ".%s", s64)) != 0 || (err = cocoon_buf_append(&input, "", 1)) != 0)
		goto done;
	*out = (char *)input.data;
	input.data = NULL;
done:
	cocoon_buf_free(&input);
	EVP_MD_CTX_free(md);
	free(h64);
	free(p64);
	free(s64);
	free(sig);
	return err;
}
