/*
 * The KBS resource JWE (RFC 7516 flattened JSON serialisation), built with
 * OpenSSL: A256GCM content encryption; ECDH-ES+A256KW (RFC 7518 §4.6, Concat
 * KDF = OpenSSL's SSKDF with SHA-256) or RSA-OAEP-256 key management.
 *
 * José 11 is not used: it lacks RSA-OAEP and writes "epk" into the
 * unprotected header, where guest-components does not look.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include "kbs/kbs_int.h"
#include "cocoon/token.h"

#define CEK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (CEK_LEN + 8)
#define ALG_ECDH "ECDH-ES+A256KW"
#define ALG_RSA "RSA-OAEP-256"
/* One message for every integrity failure, so a decryptor is no oracle for which step failed. */
#define DECRYPT_FAILED "JWE: decryption failed: the key unwrap or the authentication tag did not verify (wrong key, " \
	"or a tampered protected header, encrypted_key, iv, ciphertext or tag)"

/* RFC 7518 §4.6.2: OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo ||
 * SuppPubInfo, each variable field prefixed by its 32-bit big-endian length. */
static int put_len_prefixed(cocoon_buf *b, const void *p, size_t n)
{
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	int err = cocoon_buf_append(b, len, 4);
	return err || n == 0 ? err : cocoon_buf_append(b, p, n);
}

static int concat_kdf(uint8_t kek[32], const uint8_t *z, size_t zlen, const uint8_t *apu, size_t apul,
                      const uint8_t *apv, size_t apvl)
{
	static const uint8_t keybits[4] = { 0, 0, 1, 0 };   /* 256 */
	cocoon_buf info = { 0 };
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];
	int err;

	if ((err = put_len_prefixed(&info, ALG_ECDH, strlen(ALG_ECDH))) != 0 ||
	    (err = put_len_prefixed(&info, apu, apul)) != 0 || (err = put_len_prefixed(&info, apv, apvl)) != 0 ||
	    (err = cocoon_buf_append(&info, keybits, 4)) != 0)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data, info.len);
	params[3] = OSSL_PARAM_construct_end();
	if (!(kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL)) || !(ctx = EVP_KDF_CTX_new(kdf)) ||
	    EVP_KDF_derive(ctx, kek, 32, params) != 1)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: Concat KDF failed");
done:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	cocoon_buf_free(&info);
	return err;
}

/* AES-256 key wrap (RFC 3394); unwrap failure is an integrity failure. */
static int aes_kw(uint8_t *out, size_t *out_len, const uint8_t kek[32], const uint8_t *in, size_t in_len, int wrap)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok;

	ok = c && ctx && EVP_CipherInit_ex2(ctx, c, kek, NULL, wrap, NULL) == 1 &&
	     EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1 && EVP_CipherFinal_ex(ctx, out + n, &f) == 1;
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	*out_len = ok ? (size_t)(n + f) : 0;
	if (!ok && wrap)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: AES key wrap failed");
	if (!ok) {
		ERR_clear_error();
		return cocoon_error_set(COCOON_EREJECT, DECRYPT_FAILED);
	}
	return 0;
}

static int ecdh(uint8_t **z, size_t *zlen, const EVP_PKEY *priv, const EVP_PKEY *peer)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)priv, NULL);
	int err = 0;

	*z = NULL;
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, (EVP_PKEY *)peer) != 1 ||
	    EVP_PKEY_derive(ctx, NULL, zlen) != 1 || !(*z = malloc(*zlen)) || EVP_PKEY_derive(ctx, *z, zlen) != 1) {
		free(*z);
		*z = NULL;
		err = cocoon_error_set_openssl(COCOON_EREJECT, "JWE: ECDH key agreement failed (epk on another curve?)");
	}
	EVP_PKEY_CTX_free(ctx);
	return err;
}

/* KEK from ECDH(priv, peer) and the Concat KDF; Z is zeroised. */
static int derive_kek(uint8_t kek[32], const EVP_PKEY *priv, const EVP_PKEY *peer, const uint8_t *apu, size_t apul,
                      const uint8_t *apv, size_t apvl)
{
	uint8_t *z = NULL;
	size_t zlen = 0;
	int err = ecdh(&z, &zlen, priv, peer);
	if (!err)
		err = concat_kdf(kek, z, zlen, apu, apul, apv, apvl);
	if (z)
		cocoon_zeroize(z, zlen);
	free(z);
	return err;
}

static int rsa_oaep(uint8_t **out, size_t *out_len, const EVP_PKEY *key, const uint8_t *in, size_t in_len, int enc)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)key, NULL);
	int ok, err = 0;

	*out = NULL;
	ok = ctx && (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
	ok = ok && (enc ? EVP_PKEY_encrypt(ctx, NULL, out_len, in, in_len) : EVP_PKEY_decrypt(ctx, NULL, out_len, in, in_len)) == 1;
	ok = ok && (*out = malloc(*out_len)) != NULL;
	ok = ok && (enc ? EVP_PKEY_encrypt(ctx, *out, out_len, in, in_len) : EVP_PKEY_decrypt(ctx, *out, out_len, in, in_len)) == 1;
	if (!ok) {
		free(*out);
		*out = NULL;
		if (enc)
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: RSA-OAEP-256 encryption failed");
		else {
			ERR_clear_error();
			err = cocoon_error_set(COCOON_EREJECT, DECRYPT_FAILED);
		}
	}
	EVP_PKEY_CTX_free(ctx);
	return err;
}

static int gcm(uint8_t *out, const uint8_t cek[CEK_LEN], const uint8_t iv[IV_LEN], const uint8_t *aad, size_t aad_len,
               const uint8_t *in, size_t len, uint8_t tag[TAG_LEN], int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok;

	if (len > INT32_MAX || aad_len > INT32_MAX) {
		EVP_CIPHER_CTX_free(ctx);
		return cocoon_error_set(COCOON_EINVAL, "JWE: payload too large");
	}
	ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, cek, iv, enc) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
	     (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + (len ? n : 0), &f) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (ok)
		return 0;
	if (enc)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: AES-256-GCM encryption failed");
	ERR_clear_error();
	return cocoon_error_set(COCOON_EREJECT, DECRYPT_FAILED);
}

/* The protected header, written as kbs-types ProtectedHeader re-serialises
 * it (alg, enc, then the flattened rest in BTreeMap order). */
static int protected_header(char **out, const EVP_PKEY *epk, uint8_t **wrapped, size_t *wrapped_len,
                            const EVP_PKEY *recipient, const uint8_t cek[CEK_LEN])
{
	cocoon_buf h = { 0 };
	json_t *jwk = NULL;
	uint8_t kek[32];
	int err;

	*out = NULL;
	if (!epk) {
		if ((err = rsa_oaep(wrapped, wrapped_len, recipient, cek, CEK_LEN, 1)) != 0)
			return err;
		err = cocoon_buf_printf(&h, "{\"alg\":\"" ALG_RSA "\",\"enc\":\"A256GCM\"}");
	} else {
		if (!(*wrapped = malloc(WRAPPED_LEN)))
			return cocoon_error_set(COCOON_ENOMEM, "JWE: out of memory");
		if ((err = derive_kek(kek, epk, recipient, NULL, 0, NULL, 0)) != 0 ||
		    (err = aes_kw(*wrapped, wrapped_len, kek, cek, CEK_LEN, 1)) != 0 ||
		    (err = cocoon_kbs_jwk_from_key(&jwk, epk)) != 0)
			goto done;
		err = cocoon_buf_printf(&h, "{\"alg\":\"" ALG_ECDH "\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"%s\","
		                        "\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
		                        json_string_value(json_object_get(jwk, "crv")),
		                        json_string_value(json_object_get(jwk, "x")),
		                        json_string_value(json_object_get(jwk, "y")));
	}
	if (!err)
		err = cocoon_b64url_encode(out, h.data, h.len);
done:
	cocoon_zeroize(kek, sizeof(kek));
	json_decref(jwk);
	cocoon_buf_free(&h);
	return err;
}

static int flatten(char **out, const char *prot, const uint8_t *wrapped, size_t wrapped_len, const uint8_t *iv,
                   const uint8_t *ct, size_t ct_len, const uint8_t *tag)
{
	char *ek = NULL, *iv64 = NULL, *ct64 = NULL, *tag64 = NULL;
	json_t *o = json_object();
	int bad = !o, err;

	if ((err = cocoon_b64url_encode(&ek, wrapped, wrapped_len)) != 0 ||
	    (err = cocoon_b64url_encode(&iv64, iv, IV_LEN)) != 0 || (err = cocoon_b64url_encode(&ct64, ct, ct_len)) != 0 ||
	    (err = cocoon_b64url_encode(&tag64, tag, TAG_LEN)) != 0)
		goto done;
	kbs_set(&bad, o, "protected", json_string(prot));
	kbs_set(&bad, o, "encrypted_key", json_string(ek));
	kbs_set(&bad, o, "iv", json_string(iv64));
	kbs_set(&bad, o, "ciphertext", json_string(ct64));
	kbs_set(&bad, o, "tag", json_string(tag64));
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "JWE: out of memory") : kbs_json_dump(out, o, "JWE");
done:
	json_decref(o);
	free(ek);
	free(iv64);
	free(ct64);
	free(tag64);
	return err;
}

int cocoon_kbs_jwe_encrypt(char **out, const EVP_PKEY *recipient, const uint8_t *plaintext, size_t len)
{
	uint8_t cek[CEK_LEN], iv[IV_LEN], tag[TAG_LEN], *wrapped = NULL, *ct = NULL;
	size_t wrapped_len = 0;
	EVP_PKEY *epk = NULL;
	cocoon_kbs_key_type t;
	char *prot = NULL, group[64];
	int err;

	*out = NULL;
	if (!plaintext && len)
		return cocoon_error_set(COCOON_EINVAL, "JWE: no plaintext");
	if ((err = cocoon_kbs_key_type_of(&t, recipient)) != 0)
		return err;
	if (t != COCOON_KBS_KEY_RSA) {
		if (EVP_PKEY_get_utf8_string_param(recipient, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1 ||
		    !(epk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group)))
			return cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: ephemeral key generation failed");
	}
	if (RAND_priv_bytes(cek, CEK_LEN) != 1 || RAND_bytes(iv, IV_LEN) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: no randomness");
		goto done;
	}
	if ((err = protected_header(&prot, epk, &wrapped, &wrapped_len, recipient, cek)) != 0)
		goto done;
	if (!(ct = malloc(len ? len : 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWE: out of memory");
		goto done;
	}
	if ((err = gcm(ct, cek, iv, (const uint8_t *)prot, strlen(prot), plaintext, len, tag, 1)) != 0)
		goto done;
	err = flatten(out, prot, wrapped, wrapped_len, iv, ct, len, tag);
done:
	cocoon_zeroize(cek, sizeof(cek));
	EVP_PKEY_free(epk);
	free(prot);
	free(wrapped);
	free(ct);
	return err;
}

/* ------------------------------------------------------------------------ */

typedef struct {
	json_t *doc, *prot_hdr;
	const json_t *unprot;
	const char *prot;
	const char *aad;               /* the optional "aad" member, as text */
	uint8_t *ek, *iv, *ct, *tag;
	size_t ek_len, iv_len, ct_len, tag_len;
} jwe_parts;

static void parts_free(jwe_parts *p)
{
	json_decref(p->doc);
	json_decref(p->prot_hdr);
	free(p->ek);
	free(p->iv);
	free(p->ct);
	free(p->tag);
}

static int parse_parts(jwe_parts *p, const char *jwe, size_t len)
{
	static const char *const members[] = { "protected", "header", "encrypted_key", "iv", "ciphertext", "tag",
	                                       "aad", NULL };
	uint8_t *hdr = NULL;
	size_t hdr_len;
	json_t *a;
	int err;

	if ((err = kbs_json_load(&p->doc, jwe, len, "JWE")) != 0)
		return err;
	if (!json_is_object(p->doc))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: not a JSON object (only the flattened serialisation)");
	if ((err = kbs_only_members(p->doc, members, "JWE")) != 0)
		return err;
	if (!(p->prot = kbs_string_member(p->doc, "protected", "JWE", &err)))
		return err;
	if ((a = json_object_get(p->doc, "aad")) && !(p->aad = json_string_value(a)))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: member \"aad\" must be a string");
	p->unprot = json_object_get(p->doc, "header");
	if (p->unprot && !json_is_object(p->unprot))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: member \"header\" must be an object");
	if ((err = kbs_b64url_decode(&hdr, &hdr_len, p->prot, strlen(p->prot), "JWE: \"protected\"")) != 0)
		return err;
	err = kbs_json_load(&p->prot_hdr, (const char *)hdr, hdr_len, "JWE protected header");
	free(hdr);
	if (err)
		return err;
	if (!json_is_object(p->prot_hdr))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: the protected header is not a JSON object");
	if ((err = kbs_b64url_member(&p->ek, &p->ek_len, p->doc, "encrypted_key", "JWE")) != 0 ||
	    (err = kbs_b64url_member(&p->iv, &p->iv_len, p->doc, "iv", "JWE")) != 0 ||
	    (err = kbs_b64url_member(&p->ct, &p->ct_len, p->doc, "ciphertext", "JWE")) != 0 ||
	    (err = kbs_b64url_member(&p->tag, &p->tag_len, p->doc, "tag", "JWE")) != 0)
		return err;
	if (p->iv_len != IV_LEN || p->tag_len != TAG_LEN)
		return cocoon_error_set(COCOON_EFORMAT, "JWE: A256GCM needs a 12-byte iv and a 16-byte tag (got %zu, %zu)",
		                        p->iv_len, p->tag_len);
	return 0;
}

/* A header parameter from the protected or the unprotected header; RFC 7516
 * §7.2.1 forbids the same name in both. */
static int header_param(const json_t **out, const jwe_parts *p, const char *name)
{
	const json_t *a = json_object_get(p->prot_hdr, name), *b = p->unprot ? json_object_get(p->unprot, name) : NULL;
	if (a && b)
		return cocoon_error_set(COCOON_EFORMAT, "JWE: \"%s\" appears in both the protected and the unprotected "
		                        "header", name);
	*out = a ? a : b;
	return 0;
}

static int header_b64(uint8_t **out, size_t *len, const jwe_parts *p, const char *name)
{
	const json_t *v;
	int err;

	*out = NULL;
	*len = 0;
	if ((err = header_param(&v, p, name)) != 0 || !v)
		return err;
	if (!json_is_string(v))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: header \"%s\" must be a string", name);
	return kbs_b64url_decode(out, len, json_string_value(v), json_string_length(v), name);
}

static int unwrap_ecdh(uint8_t cek[CEK_LEN], const jwe_parts *p, const EVP_PKEY *key)
{
	const json_t *epk_json;
	EVP_PKEY *epk = NULL;
	uint8_t kek[32], *apu = NULL, *apv = NULL, out[WRAPPED_LEN];
	size_t apul = 0, apvl = 0, n = 0;
	cocoon_kbs_key_type kt, et;
	int err;

	if ((err = header_param(&epk_json, p, "epk")) != 0)
		return err;
	if (!epk_json)
		return cocoon_error_set(COCOON_EFORMAT, "JWE: ECDH-ES+A256KW without \"epk\"");
	if ((err = cocoon_kbs_jwk_to_key(&epk, epk_json)) != 0)
		return cocoon_error_set(err, "JWE: epk: %s", cocoon_error_last()->message);
	if ((err = cocoon_kbs_key_type_of(&kt, key)) != 0 || (err = cocoon_kbs_key_type_of(&et, epk)) != 0)
		goto done;
	if (kt != et) {
		err = cocoon_error_set(COCOON_EREJECT, "JWE: epk is on another curve than the recipient key");
		goto done;
	}
	if (p->ek_len != WRAPPED_LEN) {
		err = cocoon_error_set(COCOON_EFORMAT, "JWE: encrypted_key of %zu bytes; A256KW of a 256-bit key is 40",
		                       p->ek_len);
		goto done;
	}
	if ((err = header_b64(&apu, &apul, p, "apu")) != 0 || (err = header_b64(&apv, &apvl, p, "apv")) != 0 ||
	    (err = derive_kek(kek, key, epk, apu, apul, apv, apvl)) != 0)
		goto done;
	if ((err = aes_kw(out, &n, kek, p->ek, p->ek_len, 0)) == 0 && n != CEK_LEN)
		err = cocoon_error_set(COCOON_EREJECT, DECRYPT_FAILED);
	if (!err)
		memcpy(cek, out, CEK_LEN);
done:
	cocoon_zeroize(kek, sizeof(kek));
	cocoon_zeroize(out, sizeof(out));
	EVP_PKEY_free(epk);
	free(apu);
	free(apv);
	return err;
}

/* RFC 7516 §11.5: a failed RSA decryption continues with a random key, so
 * it fails at the tag exactly like any other tampering. */
static int unwrap_rsa(uint8_t cek[CEK_LEN], const jwe_parts *p, const EVP_PKEY *key)
{
	uint8_t *k = NULL;
	size_t n = 0;
	int err = rsa_oaep(&k, &n, key, p->ek, p->ek_len, 0);
	if (!err && n == CEK_LEN)
		memcpy(cek, k, CEK_LEN);
	else if (RAND_priv_bytes(cek, CEK_LEN) != 1)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "JWE: no randomness");
	else
		err = 0;
	if (k)
		cocoon_zeroize(k, n);
	free(k);
	return err;
}

static int check_header(const jwe_parts *p, const char **alg)
{
	const json_t *a, *e;
	int err;

	if ((err = header_param(&a, p, "alg")) != 0 || (err = header_param(&e, p, "enc")) != 0)
		return err;
	if (!json_is_string(a) || !json_is_string(e))
		return cocoon_error_set(COCOON_EFORMAT, "JWE: header needs string \"alg\" and \"enc\"");
	if (strcmp(json_string_value(e), "A256GCM") != 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "JWE: enc \"%.32s\"; only A256GCM is supported",
		                        json_string_value(e));
	if (json_object_get(p->prot_hdr, "zip") || (p->unprot && json_object_get(p->unprot, "zip")))
		return cocoon_error_set(COCOON_EUNSUPPORTED, "JWE: compressed (\"zip\") payloads are not supported");
	if (json_object_get(p->prot_hdr, "crit") || (p->unprot && json_object_get(p->unprot, "crit")))
		return cocoon_error_set(COCOON_EUNSUPPORTED, "JWE: \"crit\" extensions are not supported");
	*alg = json_string_value(a);
	return 0;
}

int cocoon_kbs_jwe_decrypt(uint8_t **out, size_t *out_len, const char *jwe, size_t jwe_len, const EVP_PKEY *key)
{
	jwe_parts p = { 0 };
	cocoon_buf aad = { 0 };
	uint8_t cek[CEK_LEN], *pt = NULL;
	cocoon_kbs_key_type kt;
	const char *alg = NULL;
	int err;

	*out = NULL;
	*out_len = 0;
	if ((err = cocoon_kbs_key_type_of(&kt, key)) != 0 || (err = parse_parts(&p, jwe, jwe_len)) != 0 ||
	    (err = check_header(&p, &alg)) != 0)
		goto done;
	if (strcmp(alg, ALG_ECDH) == 0 && kt != COCOON_KBS_KEY_RSA)
		err = unwrap_ecdh(cek, &p, key);
	else if (strcmp(alg, ALG_RSA) == 0 && kt == COCOON_KBS_KEY_RSA)
		err = unwrap_rsa(cek, &p, key);
	else
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "JWE: alg \"%.32s\" does not fit a %s key (supported: "
		                       ALG_ECDH " for EC, " ALG_RSA " for RSA)", alg,
		                       kt == COCOON_KBS_KEY_RSA ? "RSA" : "EC");
	if (err)
		goto done;
	/* RFC 7516 §5.2 step 14: ASCII(protected), plus "." aad when present. */
	if ((err = cocoon_buf_append(&aad, p.prot, strlen(p.prot))) != 0 ||
	    (p.aad && ((err = cocoon_buf_append(&aad, ".", 1)) != 0 ||
	               (err = cocoon_buf_append(&aad, p.aad, strlen(p.aad))) != 0)))
		goto done;
	if (!(pt = malloc(p.ct_len + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "JWE: out of memory");
		goto done;
	}
	if ((err = gcm(pt, cek, p.iv, aad.data, aad.len, p.ct, p.ct_len, p.tag, 0)) != 0) {
		cocoon_zeroize(pt, p.ct_len);
		goto done;
	}
	pt[p.ct_len] = '\0';
	*out = pt;
	*out_len = p.ct_len;
	pt = NULL;
done:
	cocoon_zeroize(cek, sizeof(cek));
	free(pt);
	cocoon_buf_free(&aad);
	parts_free(&p);
	return err;
}
