/*
 * Admin authentication for the broker: a compact JWT signed by the one
 * configured key (Ed25519 or P-256). The key is never taken from the token
 * (no jwk/x5c/kid lookup), alg must match the key type, exp and iat are
 * required. There is deliberately no "allow all" mode.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include "kbs/kbs_int.h"

#define ADMIN_MAX_TOKEN 16384

typedef enum { ADMIN_ED25519, ADMIN_P256 } admin_kind;

static int admin_kind_of(admin_kind *k, const EVP_PKEY *key)
{
	cocoon_kbs_key_type t;

	if (key && EVP_PKEY_is_a(key, "ED25519")) {
		*k = ADMIN_ED25519;
		return 0;
	}
	if (key && EVP_PKEY_is_a(key, "EC") && cocoon_kbs_key_type_of(&t, key) == 0 && t == COCOON_KBS_KEY_EC_P256) {
		*k = ADMIN_P256;
		return 0;
	}
	return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS admin key: only Ed25519 and EC P-256 keys are accepted");
}

int cocoon_kbs_admin_key_load(EVP_PKEY **out, const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	admin_kind k;
	int err;

	*out = NULL;
	if (!b || len > 65536)
		return cocoon_error_set(COCOON_EINVAL, "KBS admin key: cannot read %zu bytes", len);
	*out = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!*out)
		return cocoon_error_set_openssl(COCOON_EFORMAT, "KBS admin key: not a PEM public key (\"BEGIN PUBLIC KEY\")");
	if ((err = admin_kind_of(&k, *out)) != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return err;
}

int cocoon_kbs_admin_sign(char **out, const json_t *claims, const EVP_PKEY *admin_private)
{
	admin_kind k;
	json_t *h;
	int err;

	*out = NULL;
	if ((err = admin_kind_of(&k, admin_private)) != 0)
		return err;
	if (!(h = json_pack("{s:s,s:s}", "alg", k == ADMIN_ED25519 ? "EdDSA" : "ES256", "typ", "JWT")))
		return cocoon_error_set(COCOON_ENOMEM, "KBS admin token: out of memory");
	err = kbs_jws_sign(out, k == ADMIN_ED25519 ? "EdDSA" : "ES256", h, claims, admin_private);
	json_decref(h);
	return err;
}

static int verify_signature(const EVP_PKEY *key, admin_kind k, const char *input, size_t input_len,
                            const uint8_t *sig, size_t sig_len, const char *what)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	size_t der_len = 0;
	int ok = 0, err = 0;

	if (!md)
		return cocoon_error_set(COCOON_ENOMEM, "%s: out of memory", what);
	if (k == ADMIN_P256) {
		if (sig_len != 64) {
			err = cocoon_error_set(COCOON_EREJECT, "%s: an ES256 signature is 64 bytes, not %zu", what, sig_len);
			goto done;
		}
		if ((err = kbs_ecdsa_raw_to_der(&der, &der_len, sig, sig_len)) != 0)
			goto done;
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, (EVP_PKEY *)key) == 1 &&
		     EVP_DigestVerify(md, der, der_len, (const uint8_t *)input, input_len) == 1;
	} else {
		ok = sig_len == 64 && EVP_DigestVerifyInit(md, NULL, NULL, NULL, (EVP_PKEY *)key) == 1 &&
		     EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)input, input_len) == 1;
	}
	if (!ok) {
		ERR_clear_error();
		err = cocoon_error_set(COCOON_EREJECT, "%s: the signature does not verify with the configured key", what);
	}
done:
	EVP_MD_CTX_free(md);
	free(der);
	return err;
}

static int check_header(const char *h64, size_t len, admin_kind k, const char *const *members, const char *what)
{
	const char *want = k == ADMIN_ED25519 ? "EdDSA" : "ES256", *alg;
	uint8_t *raw = NULL;
	size_t raw_len;
	json_t *h = NULL;
	int err;

	if ((err = kbs_b64url_decode(&raw, &raw_len, h64, len, what)) != 0 ||
	    (err = kbs_json_load(&h, (const char *)raw, raw_len, what)) != 0)
		goto done;
	if (!json_is_object(h)) {
		err = cocoon_error_set(COCOON_EFORMAT, "%s: the header is not a JSON object", what);
		goto done;
	}
	if ((err = kbs_only_members(h, members, what)) != 0 || !(alg = kbs_string_member(h, "alg", what, &err)))
		goto done;
	if (strcmp(alg, want) != 0)
		err = cocoon_error_set(COCOON_EREJECT, "%s: alg \"%.16s\"; the configured %s key needs \"%s\"", what, alg,
		                       k == ADMIN_ED25519 ? "Ed25519" : "P-256", want);
done:
	json_decref(h);
	free(raw);
	return err;
}

static int time_claim(json_int_t *out, const json_t *c, const char *name, int required)
{
	json_t *v = json_object_get(c, name);
	if (!v && !required)
		return 1;
	if (!json_is_integer(v))
		return cocoon_error_set(COCOON_EREJECT, "KBS admin token: claim \"%s\" %s", name,
		                        v ? "must be an integer (seconds since 1970)" : "is required");
	*out = json_integer_value(v);
	return 0;
}

static int check_times(const json_t *c, const cocoon_kbs_admin_options *o)
{
	json_int_t now = o->now ? (json_int_t)o->now : (json_int_t)time(NULL), exp, iat, nbf;
	json_int_t skew = o->leeway, life = o->max_lifetime ? o->max_lifetime : 3600;
	int err;

	if ((err = time_claim(&exp, c, "exp", 1)) != 0 || (err = time_claim(&iat, c, "iat", 1)) != 0)
		return err;
	if (now > exp + skew)
		return cocoon_error_set(COCOON_EREJECT, "KBS admin token: expired at %lld (now %lld); sign a new one",
		                        (long long)exp, (long long)now);
	if (iat > now + skew)
		return cocoon_error_set(COCOON_EREJECT, "KBS admin token: issued in the future (iat %lld, now %lld); check "
		                        "the clocks", (long long)iat, (long long)now);
	if (exp < iat || exp - iat > life)
		return cocoon_error_set(COCOON_EREJECT, "KBS admin token: lifetime exp-iat of %lld s; at most %lld s is "
		                        "accepted", (long long)(exp - iat), (long long)life);
	if ((err = time_claim(&nbf, c, "nbf", 0)) < 0)
		return err;
	if (err == 0 && nbf > now + skew)
		return cocoon_error_set(COCOON_EREJECT, "KBS admin token: not valid before %lld", (long long)nbf);
	return 0;
}

int kbs_jwt_verify(json_t **claims, const char *tok, const EVP_PKEY *key, const char *const *header_members,
                   const char *what)
{
	const char *d1, *d2;
	uint8_t *sig = NULL, *payload = NULL;
	size_t len, sig_len, payload_len;
	json_t *c = NULL;
	admin_kind k;
	int err;

	*claims = NULL;
	if ((err = admin_kind_of(&k, key)) != 0)
		return err;
	if (!tok || !*tok)
		return cocoon_error_set(COCOON_EREJECT, "%s: no Authorization: Bearer token", what);
	if (strncasecmp(tok, "Bearer ", 7) == 0)
		tok += 7;
	len = strnlen(tok, ADMIN_MAX_TOKEN + 1);
	if (len > ADMIN_MAX_TOKEN)
		return cocoon_error_set(COCOON_EFORMAT, "%s: longer than %d bytes", what, ADMIN_MAX_TOKEN);
	if (!(d1 = memchr(tok, '.', len)) || !(d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return cocoon_error_set(COCOON_EFORMAT, "%s: not a compact JWS (three base64url parts)", what);
	if ((err = check_header(tok, (size_t)(d1 - tok), k, header_members, what)) != 0 ||
	    (err = kbs_b64url_decode(&sig, &sig_len, d2 + 1, len - (size_t)(d2 + 1 - tok), what)) != 0 ||
	    (err = verify_signature(key, k, tok, (size_t)(d2 - tok), sig, sig_len, what)) != 0)
		goto done;
	if ((err = kbs_b64url_decode(&payload, &payload_len, d1 + 1, (size_t)(d2 - d1 - 1), what)) != 0 ||
	    (err = kbs_json_load(&c, (const char *)payload, payload_len, what)) != 0)
		goto done;
	if (!json_is_object(c)) {
		err = cocoon_error_set(COCOON_EFORMAT, "%s: the claims are not a JSON object", what);
		goto done;
	}
	*claims = c;
	c = NULL;
done:
	json_decref(c);
	free(sig);
	free(payload);
	return err;
}

int cocoon_kbs_admin_verify(json_t **claims, const char *authorization, const EVP_PKEY *admin_key,
                            const cocoon_kbs_admin_options *opts)
{
	/* jwk, x5c, jku, kid, crit are refused: the key is only ever the configured one. */
	static const char *const members[] = { "alg", "typ", NULL };
	cocoon_kbs_admin_options defaults = COCOON_KBS_ADMIN_OPTIONS_INIT;
	json_t *c = NULL;
	int err;

	if (claims)
		*claims = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != COCOON_KBS_ADMIN_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_kbs_admin_options: version %u, expected %d", opts->version,
		                        COCOON_KBS_ADMIN_OPTIONS_VERSION);
	if (!admin_key)
		return cocoon_error_set(COCOON_EREJECT, "KBS admin: no admin key is configured (--admin-key); the admin API "
		                        "is closed");
	if ((err = kbs_jwt_verify(&c, authorization, admin_key, members, "KBS admin token")) != 0 ||
	    (err = check_times(c, opts)) != 0) {
		json_decref(c);
		return err;
	}
	if (claims)
		*claims = c;
	else
		json_decref(c);
	return 0;
}
