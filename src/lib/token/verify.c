/* JWS compact verification (RS256, PS256, ES256) with a trusted JWKS, and the JWT time and identity checks. */
#include <stdlib.h>
#include <string.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "common/util.h"
#include "token/token_int.h"

typedef struct {
	const char *part[3];
	size_t len[3];
} jws_parts;

static int split(jws_parts *p, const char *token, size_t len)
{
	size_t start = 0, n = 0;

	if (len == 0 || len > COCOON_TOKEN_MAX_LEN)
		return cocoon_error_set(COCOON_EFORMAT, "token: length %zu is outside 1..%d bytes", len,
		                        COCOON_TOKEN_MAX_LEN);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && token[i] != '.') {
			char c = token[i];
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			      c == '_'))
				return cocoon_error_set(COCOON_EFORMAT, "token: character 0x%02x at offset %zu is not "
				                        "base64url; expected compact JWS 'header.payload.signature'",
				                        (unsigned char)c, i);
			continue;
		}
		if (n == 3)
			return cocoon_error_set(COCOON_EFORMAT, "token: more than three '.'-separated parts (a JWE or "
			                        "JSON serialization is not accepted)");
		p->part[n] = token + start;
		p->len[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != 3)
		return cocoon_error_set(COCOON_EFORMAT, "token: %zu part(s); expected compact JWS "
		                        "'header.payload.signature'", n);
	return 0;
}

static int decode_json(json_t **out, const char *b64, size_t len, const char *what)
{
	uint8_t *raw = NULL;
	size_t raw_len;
	json_error_t jerr;
	int err = 0;

	if (cocoon_b64_decode(&raw, &raw_len, b64, len) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "token %s: %s", what, cocoon_error_last()->message);
	*out = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		err = cocoon_error_set(COCOON_EFORMAT, "token %s: invalid JSON at column %d: %s", what, jerr.column,
		                       jerr.text);
	else if (!json_is_object(*out)) {
		err = cocoon_error_set(COCOON_EFORMAT, "token %s: not a JSON object", what);
		json_decref(*out);
		*out = NULL;
	}
	free(raw);
	return err;
}

/* The accepted algorithms; ALG_ES256 is 1 so that "is_ec" reads as before for EC keys. */
enum { ALG_RS256 = 0, ALG_ES256 = 1, ALG_PS256 = 2 };

static const char *alg_name(int alg)
{
	return alg == ALG_ES256 ? "ES256" : alg == ALG_PS256 ? "PS256" : "RS256";
}

/* JWS ES256 carries raw r||s; OpenSSL verifies DER. */
static int es256_to_der(uint8_t **der, size_t *der_len, const uint8_t *sig, size_t len)
{
	ECDSA_SIG *s = NULL;
	BIGNUM *r = NULL, *sv = NULL;
	unsigned char *p = NULL;
	int n, err = 0;

	*der = NULL;
	if (len != 64)
		return cocoon_error_set(COCOON_EREJECT, "token signature: ES256 needs 64 bytes (r||s), got %zu", len);
	if (!(s = ECDSA_SIG_new()) || !(r = BN_bin2bn(sig, 32, NULL)) || !(sv = BN_bin2bn(sig + 32, 32, NULL)) ||
	    !ECDSA_SIG_set0(s, r, sv)) {
		BN_free(r);
		BN_free(sv);
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signature: ECDSA_SIG");
		goto done;
	}
	if ((n = i2d_ECDSA_SIG(s, &p)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signature: DER encoding");
		goto done;
	}
	*der = p;
	*der_len = (size_t)n;
done:
	ECDSA_SIG_free(s);
	return err;
}

/* Verifies parts 0 and 1 ("header.payload") against part 2 with pkey. */
static int check_signature(const jws_parts *p, EVP_PKEY *pkey, int alg)
{
	uint8_t *sig = NULL, *der = NULL;
	size_t sig_len = 0, der_len = 0;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int err = 0, ok;

	if (cocoon_b64_decode(&sig, &sig_len, p->part[2], p->len[2]) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "token signature: %s", cocoon_error_last()->message);
		goto done;
	}
	if (alg == ALG_ES256 && (err = es256_to_der(&der, &der_len, sig, sig_len)) != 0)
		goto done;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    (alg == ALG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	                          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "token signature: verifier setup");
		goto done;
	}
	/* The signing input runs from the header through the payload, dot included. */
	ok = EVP_DigestVerify(md, alg == ALG_ES256 ? der : sig, alg == ALG_ES256 ? der_len : sig_len, (const unsigned char *)p->part[0],
	                      p->len[0] + 1 + p->len[1]);
	if (ok != 1)
		err = cocoon_error_set(COCOON_EREJECT, "token signature does not verify with the key");
done:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	free(sig);
	return err;
}

static int header_alg(int *is_ec, json_t *header)
{
	const char *alg = json_string_value(json_object_get(header, "alg"));
	const char *typ = json_string_value(json_object_get(header, "typ"));

	if (!alg)
		return cocoon_error_set(COCOON_EREJECT, "token header: \"alg\" is missing");
	if (strcmp(alg, "none") == 0 || strcmp(alg, "None") == 0 || strcmp(alg, "NONE") == 0)
		return cocoon_error_set(COCOON_EREJECT, "token header: alg '%s' is not accepted (unsigned token)", alg);
	if (strcmp(alg, "RS256") == 0)
		*is_ec = ALG_RS256;
	else if (strcmp(alg, "ES256") == 0)
		*is_ec = ALG_ES256;
	else if (strcmp(alg, "PS256") == 0)
		*is_ec = ALG_PS256;
	else
		return cocoon_error_set(COCOON_EREJECT, "token header: alg '%.32s' is not accepted; RS256, PS256 and "
		                        "ES256 are", alg);
	if (json_object_get(header, "crit"))
		return cocoon_error_set(COCOON_EREJECT, "token header: \"crit\" extensions are not supported");
	if (json_object_get(header, "typ") && (!typ || strcmp(typ, "JWT") != 0))
		return cocoon_error_set(COCOON_EREJECT, "token header: typ must be \"JWT\"");
	return 0;
}

static int time_claim(json_int_t *out, json_t *claims, const char *name, int required)
{
	json_t *v = json_object_get(claims, name);
	if (!v) {
		if (required)
			return cocoon_error_set(COCOON_EREJECT, "token claims: \"%s\" is missing", name);
		*out = 0;
		return 1;
	}
	if (!json_is_integer(v))
		return cocoon_error_set(COCOON_EREJECT, "token claims: \"%s\" must be an integer NumericDate", name);
	*out = json_integer_value(v);
	return 0;
}

static int check_claims(json_t *claims, const cocoon_token_verify_options *o)
{
	json_int_t now = o->now ? (json_int_t)o->now : (json_int_t)time(NULL), leeway = o->leeway, exp = 0, nbf = 0, iat = 0;
	char when[32];
	int rc;

	if ((rc = time_claim(&exp, claims, "exp", 1)) < 0)
		return rc;
	if (now > exp + leeway) {
		cocoon_time_format(when, sizeof(when), (time_t)exp);
		return cocoon_error_set(COCOON_EREJECT, "token expired at %s (exp %lld)", when, (long long)exp);
	}
	if ((rc = time_claim(&nbf, claims, "nbf", 0)) < 0)
		return rc;
	if (rc == 0 && now + leeway < nbf) {
		cocoon_time_format(when, sizeof(when), (time_t)nbf);
		return cocoon_error_set(COCOON_EREJECT, "token is not valid before %s (nbf)", when);
	}
	if ((rc = time_claim(&iat, claims, "iat", 0)) < 0)
		return rc;
	if (rc == 0 && now + leeway < iat)
		return cocoon_error_set(COCOON_EREJECT, "token was issued in the future (iat %lld)", (long long)iat);
	if (o->issuer) {
		const char *iss = json_string_value(json_object_get(claims, "iss"));
		if (!iss || strcmp(iss, o->issuer) != 0)
			return cocoon_error_set(COCOON_EREJECT, "token issuer '%.200s' is not the expected '%.200s'",
			                        iss ? iss : "(missing)", o->issuer);
	}
	return 0;
}

int cocoon_token_verify(json_t **claims_out, json_t **header_out, const char *token, size_t len,
                        const cocoon_jwks *jwks, const cocoon_token_verify_options *opts)
{
	cocoon_token_verify_options defaults = COCOON_TOKEN_VERIFY_OPTIONS_INIT;
	const cocoon_token_verify_options *o = opts ? opts : &defaults;
	json_t *header = NULL, *claims = NULL;
	const cocoon_jwk *key;
	const char *kid, *jku;
	jws_parts p;
	int is_ec = 0, err;

	*claims_out = NULL;
	if (header_out)
		*header_out = NULL;
	if (!token || !jwks)
		return cocoon_error_set(COCOON_EINVAL, "token: a token and a JWKS are required");
	if ((err = split(&p, token, len)) || (err = decode_json(&header, p.part[0], p.len[0], "header")) ||
	    (err = header_alg(&is_ec, header)))
		goto done;
	kid = json_string_value(json_object_get(header, "kid"));
	if (!kid) {
		err = cocoon_error_set(COCOON_EREJECT, "token header: \"kid\" is missing; keys are chosen only by kid");
		goto done;
	}
	jku = json_string_value(json_object_get(header, "jku"));
	if (o->jku && (!jku || strcmp(jku, o->jku) != 0)) {
		err = cocoon_error_set(COCOON_EREJECT, "token header: jku '%.200s' is not the expected '%.200s'",
		                       jku ? jku : "(missing)", o->jku);
		goto done;
	}
	/* Header x5c/jwk are never trusted: the key comes from the JWKS alone. */
	if (!(key = cocoon_jwks_find(jwks, kid))) {
		err = cocoon_error_set(COCOON_EREJECT, "token header: kid '%.100s' is not in the trusted JWKS", kid);
		goto done;
	}
	if (key->is_ec != (is_ec == ALG_ES256)) {
		err = cocoon_error_set(COCOON_EREJECT, "token header: alg %s does not match the %s key of kid '%.100s'",
		                       alg_name(is_ec), key->is_ec ? "EC" : "RSA", kid);
		goto done;
	}
	if ((err = check_signature(&p, key->pkey, is_ec)) || (err = decode_json(&claims, p.part[1], p.len[1], "payload")) ||
	    (err = check_claims(claims, o)))
		goto done;
	*claims_out = claims;
	claims = NULL;
	if (header_out) {
		*header_out = header;
		header = NULL;
	}
done:
	json_decref(header);
	json_decref(claims);
	return err;
}

int cocoon_jws_verify_with_key(uint8_t **payload, size_t *payload_len, const char *jws, size_t len, void *evp_pkey)
{
	EVP_PKEY *pkey = evp_pkey;
	json_t *header = NULL;
	jws_parts p;
	int is_ec = 0, err;

	*payload = NULL;
	*payload_len = 0;
	if (!pkey)
		return cocoon_error_set(COCOON_EINVAL, "jws: a key is required");
	if ((err = split(&p, jws, len)) || (err = decode_json(&header, p.part[0], p.len[0], "header")) ||
	    (err = header_alg(&is_ec, header)))
		goto done;
	if (EVP_PKEY_is_a(pkey, is_ec == ALG_ES256 ? "EC" : "RSA") != 1) {
		err = cocoon_error_set(COCOON_EREJECT, "jws: alg %s does not match the signer's key type",
		                       alg_name(is_ec));
		goto done;
	}
	if ((err = check_signature(&p, pkey, is_ec)))
		goto done;
	if (cocoon_b64_decode(payload, payload_len, p.part[1], p.len[1]) != 0)
		err = cocoon_error_set(COCOON_EFORMAT, "jws payload: %s", cocoon_error_last()->message);
done:
	json_decref(header);
	return err;
}
