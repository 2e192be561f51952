/* Internal helpers shared by the key-broker protocol files (src/lib/kbs). */
#ifndef COCOON_KBS_INT_H
#define COCOON_KBS_INT_H

#include <openssl/evp.h>
#include "cocoon/kbs.h"
#include "common/util.h"

/* The accumulator of style.md: a member that cannot be set marks *bad. */
static inline void kbs_set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

/* Strict unpadded base64url (RFC 7515 §2): any other character, padding
 * or a dangling character is COCOON_EFORMAT naming what. Caller frees. */
int kbs_b64url_decode(uint8_t **out, size_t *out_len, const char *in, size_t len, const char *what);
/* A string member decoded from base64url into a new buffer. */
int kbs_b64url_member(uint8_t **out, size_t *out_len, const json_t *obj, const char *key, const char *what);
/* The member must be a string; returns it or NULL after setting the error. */
const char *kbs_string_member(const json_t *obj, const char *key, const char *what, int *err);
/* Refuses members of obj that are not in the NULL-terminated allowed list. */
int kbs_only_members(const json_t *obj, const char *const *allowed, const char *what);
/* Parses a JSON document (duplicate keys refused, size-limited). */
int kbs_json_load(json_t **out, const char *text, size_t len, const char *what);
/* Compact JSON text with members in insertion order. */
int kbs_json_dump(char **out, const json_t *v, const char *what);

/* ECDSA DER <-> JOSE raw r||s of n bytes each. */
int kbs_ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der, size_t der_len);
int kbs_ecdsa_raw_to_der(uint8_t **der, size_t *der_len, const uint8_t *raw, size_t raw_len);

/* Compact JWS signing input "b64(header).b64(payload)" signed with key. */
int kbs_jws_sign(char **out, const char *alg, const json_t *header, const json_t *claims, const EVP_PKEY *key);

/* Verifies a compact JWS ("Bearer " prefix allowed) signed by key: EdDSA for
 * an Ed25519 key, ES256 for a P-256 key; the header may hold only
 * header_members. *claims gets the claims object; times are not checked. */
int kbs_jwt_verify(json_t **claims, const char *tok, const EVP_PKEY *key, const char *const *header_members,
                   const char *what);

#endif
