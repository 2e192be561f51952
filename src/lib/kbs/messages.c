/*
 * The RCAR messages of the KBS protocol 0.4.0 (kbs-types Request, Challenge,
 * Attestation, the token reply, ErrorInformation), the runtime-data binding
 * and resource paths. Parsers are strict: unknown members are refused and
 * every error names the member.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "kbs/kbs_int.h"
#include "cocoon/token.h"

static const char *const tee_names[] = {
	[COCOON_KBS_TEE_SGX] = "sgx", [COCOON_KBS_TEE_TDX] = "tdx", [COCOON_KBS_TEE_SNP] = "snp",
	[COCOON_KBS_TEE_SAMPLE] = "sample", [COCOON_KBS_TEE_AZ_SNP_VTPM] = "az-snp-vtpm",
	[COCOON_KBS_TEE_AZ_TDX_VTPM] = "az-tdx-vtpm", [COCOON_KBS_TEE_CCA] = "cca", [COCOON_KBS_TEE_CSV] = "csv",
	[COCOON_KBS_TEE_SE] = "se", [COCOON_KBS_TEE_TPM] = "tpm", [COCOON_KBS_TEE_NVIDIA] = "nvidia",
	[COCOON_KBS_TEE_HYGONDCU] = "hygondcu", [COCOON_KBS_TEE_SAMPLEDEVICE] = "sampledevice",
};

const char *cocoon_kbs_tee_name(cocoon_kbs_tee t)
{
	if ((size_t)t >= sizeof(tee_names) / sizeof(tee_names[0]))
		return NULL;
	return tee_names[t];
}

int cocoon_kbs_tee_parse(cocoon_kbs_tee *out, const char *name)
{
	*out = COCOON_KBS_TEE_UNKNOWN;
	for (size_t i = 1; name && i < sizeof(tee_names) / sizeof(tee_names[0]); i++) {
		if (strcmp(tee_names[i], name) == 0) {
			*out = (cocoon_kbs_tee)i;
			return 0;
		}
	}
	return cocoon_error_set(COCOON_EFORMAT, "KBS: tee \"%.32s\" is not a kbs-types tee name", name ? name : "");
}

const char *cocoon_kbs_hash_name(cocoon_kbs_hash h)
{
	switch (h) {
	case COCOON_KBS_HASH_SHA256: return "sha256";
	case COCOON_KBS_HASH_SHA384: return "sha384";
	case COCOON_KBS_HASH_SHA512: return "sha512";
	}
	return NULL;
}

int cocoon_kbs_hash_parse(cocoon_kbs_hash *out, const char *name)
{
	for (int h = COCOON_KBS_HASH_SHA256; h <= COCOON_KBS_HASH_SHA512; h++) {
		if (name && strcmp(name, cocoon_kbs_hash_name((cocoon_kbs_hash)h)) == 0) {
			*out = (cocoon_kbs_hash)h;
			return 0;
		}
	}
	return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS: hash algorithm \"%.16s\" is not sha256, sha384 or sha512",
	                        name ? name : "");
}

/* ---- Request ------------------------------------------------------------ */

static int parse_hash_list(cocoon_kbs_request *out, const json_t *extra)
{
	const json_t *list = json_is_object(extra) ? json_object_get(extra, "supported-hash-algorithms") : NULL;
	size_t i;
	json_t *v;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Request: extra-params.supported-hash-algorithms must be an array");
	json_array_foreach(list, i, v) {
		cocoon_kbs_hash h;
		if (!json_is_string(v))
			return cocoon_error_set(COCOON_EFORMAT, "KBS Request: supported-hash-algorithms[%zu] is not a string", i);
		if (cocoon_kbs_hash_parse(&h, json_string_value(v)) == 0 && out->n_hash_algorithms < 4)
			out->hash_algorithms[out->n_hash_algorithms++] = h;
	}
	return 0;
}

int cocoon_kbs_request_parse(cocoon_kbs_request *out, const char *body, size_t len)
{
	static const char *const members[] = { "version", "tee", "extra-params", NULL };
	const char *version, *tee;
	json_t *doc = NULL, *extra;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = kbs_json_load(&doc, body, len, "KBS Request")) != 0)
		return err;
	if (!json_is_object(doc)) {
		err = cocoon_error_set(COCOON_EFORMAT, "KBS Request: not a JSON object");
		goto done;
	}
	if ((err = kbs_only_members(doc, members, "KBS Request")) != 0 ||
	    !(version = kbs_string_member(doc, "version", "KBS Request", &err)) ||
	    !(tee = kbs_string_member(doc, "tee", "KBS Request", &err)))
		goto done;
	if (strcmp(version, COCOON_KBS_PROTOCOL_VERSION) != 0) {
		err = cocoon_error_set(COCOON_EREJECT, "KBS Client Protocol Version Mismatch: expect %s while the request is "
		                       "%.32s", COCOON_KBS_PROTOCOL_VERSION, version);
		goto done;
	}
	if ((err = cocoon_kbs_tee_parse(&out->tee, tee)) != 0)
		goto done;
	if (!(extra = json_object_get(doc, "extra-params"))) {
		err = cocoon_error_set(COCOON_EFORMAT, "KBS Request: member \"extra-params\" is missing");
		goto done;
	}
	if ((err = parse_hash_list(out, extra)) != 0)
		goto done;
	out->extra_params = json_incref(extra);
done:
	json_decref(doc);
	if (err)
		cocoon_kbs_request_clear(out);
	return err;
}

void cocoon_kbs_request_clear(cocoon_kbs_request *r)
{
	if (!r)
		return;
	json_decref(r->extra_params);
	memset(r, 0, sizeof(*r));
}

int cocoon_kbs_request_build(char **out, cocoon_kbs_tee tee)
{
	const char *name = cocoon_kbs_tee_name(tee);
	json_t *o, *extra, *list;
	int bad, err;

	*out = NULL;
	if (!name)
		return cocoon_error_set(COCOON_EINVAL, "KBS Request: unknown tee %d", (int)tee);
	o = json_object();
	extra = json_object();
	list = json_pack("[sss]", "sha256", "sha384", "sha512");
	bad = !o || !extra || !list;
	kbs_set(&bad, extra, "supported-hash-algorithms", list);
	kbs_set(&bad, o, "version", json_string(COCOON_KBS_PROTOCOL_VERSION));
	kbs_set(&bad, o, "tee", json_string(name));
	kbs_set(&bad, o, "extra-params", extra);
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "KBS Request: out of memory") : kbs_json_dump(out, o, "KBS Request");
	json_decref(o);
	return err;
}

/* ---- Challenge ---------------------------------------------------------- */

int cocoon_kbs_nonce_new(char out[COCOON_KBS_NONCE_B64_LEN + 1])
{
	uint8_t raw[COCOON_KBS_NONCE_BYTES];
	char *s = NULL;
	int err;

	out[0] = '\0';
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "KBS nonce: no randomness");
	if ((err = cocoon_base64_encode(&s, raw, sizeof(raw))) != 0)
		return err;
	memcpy(out, s, COCOON_KBS_NONCE_B64_LEN + 1);
	free(s);
	return 0;
}

int cocoon_kbs_challenge_build(char **out, const char *nonce, cocoon_kbs_hash selected_hash)
{
	json_t *o = json_object(), *extra;
	int bad = !o, err;

	*out = NULL;
	if (!nonce)
		return cocoon_error_set(COCOON_EINVAL, "KBS Challenge: no nonce");
	if (selected_hash) {
		extra = json_object();
		bad |= !extra || !cocoon_kbs_hash_name(selected_hash);
		kbs_set(&bad, extra, "selected-hash-algorithm", json_string(cocoon_kbs_hash_name(selected_hash)));
	} else {
		extra = json_string("");   /* kbs-types: the empty string, not {} */
	}
	kbs_set(&bad, o, "nonce", json_string(nonce));
	kbs_set(&bad, o, "extra-params", extra);
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "KBS Challenge: cannot build") : kbs_json_dump(out, o, "KBS Challenge");
	json_decref(o);
	return err;
}

int cocoon_kbs_challenge_parse(cocoon_kbs_challenge *out, const char *body, size_t len)
{
	static const char *const members[] = { "nonce", "extra-params", NULL };
	json_t *doc = NULL, *extra, *sel;
	const char *nonce;
	int err;

	memset(out, 0, sizeof(*out));
	out->hash = COCOON_KBS_HASH_SHA384;
	if ((err = kbs_json_load(&doc, body, len, "KBS Challenge")) != 0)
		return err;
	if (!json_is_object(doc)) {
		err = cocoon_error_set(COCOON_EFORMAT, "KBS Challenge: not a JSON object");
		goto done;
	}
	if ((err = kbs_only_members(doc, members, "KBS Challenge")) != 0 ||
	    !(nonce = kbs_string_member(doc, "nonce", "KBS Challenge", &err)))
		goto done;
	if (strlen(nonce) == 0 || strlen(nonce) >= sizeof(out->nonce)) {
		err = cocoon_error_set(COCOON_EFORMAT, "KBS Challenge: nonce of %zu characters", strlen(nonce));
		goto done;
	}
	strcpy(out->nonce, nonce);
	extra = json_object_get(doc, "extra-params");
	if (json_is_object(extra) && (sel = json_object_get(extra, "selected-hash-algorithm"))) {
		if (!json_is_string(sel)) {
			err = cocoon_error_set(COCOON_EFORMAT, "KBS Challenge: selected-hash-algorithm is not a string");
			goto done;
		}
		err = cocoon_kbs_hash_parse(&out->hash, json_string_value(sel));
	}
done:
	json_decref(doc);
	return err;
}

/* ---- Runtime data ------------------------------------------------------- */

int cocoon_kbs_runtime_data_build(json_t **out, const char *nonce, const json_t *tee_pubkey,
                                  const char *additional_evidence)
{
	json_t *o;
	int bad;

	*out = NULL;
	if (!nonce || !json_is_object(tee_pubkey))
		return cocoon_error_set(COCOON_EINVAL, "KBS runtime data: a nonce and a JWK object are required");
	o = json_object();
	bad = !o;
	if (additional_evidence)
		kbs_set(&bad, o, "additional-evidence", json_string(additional_evidence));
	kbs_set(&bad, o, "nonce", json_string(nonce));
	kbs_set(&bad, o, "tee-pubkey", json_deep_copy(tee_pubkey));
	if (bad) {
		json_decref(o);
		return cocoon_error_set(COCOON_ENOMEM, "KBS runtime data: out of memory");
	}
	*out = o;
	return 0;
}

int cocoon_kbs_runtime_data_hash(uint8_t out[64], size_t *digest_len, cocoon_kbs_hash hash, const char *nonce,
                                 const json_t *tee_pubkey, const char *additional_evidence)
{
	const char *md = hash == COCOON_KBS_HASH_SHA256 ? "SHA256" : hash == COCOON_KBS_HASH_SHA384 ? "SHA384"
	               : hash == COCOON_KBS_HASH_SHA512 ? "SHA512" : NULL;
	json_t *rd = NULL;
	char *jcs = NULL;
	size_t jcs_len = 0;
	unsigned int n = 0;
	int err;

	memset(out, 0, 64);
	if (digest_len)
		*digest_len = 0;
	if (!md)
		return cocoon_error_set(COCOON_EINVAL, "KBS runtime data: unknown hash %d", (int)hash);
	if ((err = cocoon_kbs_runtime_data_build(&rd, nonce, tee_pubkey, additional_evidence)) != 0 ||
	    (err = cocoon_jcs_serialize(&jcs, &jcs_len, rd)) != 0)
		goto done;
	if (EVP_Digest(jcs, jcs_len, out, &n, EVP_get_digestbyname(md), NULL) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "KBS runtime data: %s failed", md);
		goto done;
	}
	if (digest_len)
		*digest_len = n;
done:
	json_decref(rd);
	free(jcs);
	return err;
}

/* ---- Attestation -------------------------------------------------------- */

/* The TeePubKey members kbs-types keeps, so the hash is over what Trustee
 * re-serialises; anything else in the JWK is refused. */
static int parse_tee_pubkey(cocoon_kbs_attestation *a, json_t *jwk)
{
	static const char *const ec[] = { "kty", "crv", "alg", "x", "y", NULL };
	static const char *const rsa[] = { "kty", "alg", "n", "e", NULL };
	const char *kty;
	int err;

	if (!json_is_object(jwk))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: runtime-data.tee-pubkey must be a JWK object");
	if (!(kty = kbs_string_member(jwk, "kty", "KBS Attestation: tee-pubkey", &err)) ||
	    !kbs_string_member(jwk, "alg", "KBS Attestation: tee-pubkey", &err))
		return err;
	if ((err = kbs_only_members(jwk, strcmp(kty, "RSA") == 0 ? rsa : ec, "KBS Attestation: tee-pubkey")) != 0)
		return err;
	if ((err = cocoon_kbs_jwk_to_key(&a->key, jwk)) != 0)
		return cocoon_error_set(err, "KBS Attestation: tee-pubkey: %s", cocoon_error_last()->message);
	a->tee_pubkey = jwk;
	return 0;
}

static int parse_init_data(cocoon_kbs_attestation *a, const json_t *doc)
{
	static const char *const members[] = { "format", "body", NULL };
	json_t *id = json_object_get(doc, "init-data");
	int err;

	if (!id || json_is_null(id))
		return 0;
	if (!json_is_object(id))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: init-data must be an object or null");
	if ((err = kbs_only_members(id, members, "KBS Attestation: init-data")) != 0 ||
	    !(a->init_data.format = kbs_string_member(id, "format", "KBS Attestation: init-data", &err)) ||
	    !(a->init_data.body = kbs_string_member(id, "body", "KBS Attestation: init-data", &err)))
		return err;
	a->has_init_data = 1;
	return 0;
}

static int parse_attestation(cocoon_kbs_attestation *a)
{
	static const char *const top[] = { "init-data", "runtime-data", "tee-evidence", NULL };
	static const char *const rd_members[] = { "nonce", "tee-pubkey", NULL };
	static const char *const te_members[] = { "primary_evidence", "additional_evidence", NULL };
	json_t *rd, *te;
	int err;

	if (!json_is_object(a->root))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: not a JSON object");
	if ((err = kbs_only_members(a->root, top, "KBS Attestation")) != 0 || (err = parse_init_data(a, a->root)) != 0)
		return err;
	rd = json_object_get(a->root, "runtime-data");
	te = json_object_get(a->root, "tee-evidence");
	if (!json_is_object(rd))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: member \"runtime-data\" must be an object "
		                        "(protocol 0.4.0; 0.3.0 clients sent a top-level tee-pubkey)");
	if (!json_is_object(te))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: member \"tee-evidence\" must be an object");
	if ((err = kbs_only_members(rd, rd_members, "KBS Attestation: runtime-data")) != 0 ||
	    (err = kbs_only_members(te, te_members, "KBS Attestation: tee-evidence")) != 0)
		return err;
	if (!(a->nonce = kbs_string_member(rd, "nonce", "KBS Attestation: runtime-data", &err)))
		return err;
	if ((err = parse_tee_pubkey(a, json_object_get(rd, "tee-pubkey"))) != 0)
		return err;
	if (!(a->primary_evidence = json_object_get(te, "primary_evidence")))
		return cocoon_error_set(COCOON_EFORMAT, "KBS Attestation: tee-evidence.primary_evidence is missing");
	if (!(a->additional_evidence = kbs_string_member(te, "additional_evidence", "KBS Attestation: tee-evidence", &err)))
		return err;
	return 0;
}

int cocoon_kbs_attestation_parse(cocoon_kbs_attestation **out, const char *body, size_t len)
{
	cocoon_kbs_attestation *a;
	int err;

	*out = NULL;
	if (!(a = calloc(1, sizeof(*a))))
		return cocoon_error_set(COCOON_ENOMEM, "KBS Attestation: out of memory");
	if ((err = kbs_json_load(&a->root, body, len, "KBS Attestation")) != 0 || (err = parse_attestation(a)) != 0) {
		cocoon_kbs_attestation_free(a);
		return err;
	}
	*out = a;
	return 0;
}

void cocoon_kbs_attestation_free(cocoon_kbs_attestation *a)
{
	if (!a)
		return;
	EVP_PKEY_free(a->key);
	json_decref(a->root);
	free(a);
}

int cocoon_kbs_attestation_build(char **out, const char *nonce, const json_t *tee_pubkey,
                                 const json_t *primary_evidence, const char *additional_evidence,
                                 const cocoon_kbs_init_data *init_data)
{
	json_t *o = json_object(), *rd = json_object(), *te = json_object(), *id = NULL;
	int bad = !o || !rd || !te, err;

	*out = NULL;
	if (!nonce || !json_is_object(tee_pubkey) || !primary_evidence) {
		json_decref(o);
		json_decref(rd);
		json_decref(te);
		return cocoon_error_set(COCOON_EINVAL, "KBS Attestation: nonce, tee-pubkey and evidence are required");
	}
	if (init_data) {
		id = json_object();
		bad |= !id || !init_data->format || !init_data->body;
		kbs_set(&bad, id, "format", json_string(init_data->format ? init_data->format : ""));
		kbs_set(&bad, id, "body", json_string(init_data->body ? init_data->body : ""));
		kbs_set(&bad, o, "init-data", id);
	}
	kbs_set(&bad, rd, "nonce", json_string(nonce));
	kbs_set(&bad, rd, "tee-pubkey", json_deep_copy(tee_pubkey));
	kbs_set(&bad, o, "runtime-data", rd);
	kbs_set(&bad, te, "primary_evidence", json_deep_copy(primary_evidence));
	kbs_set(&bad, te, "additional_evidence", json_string(additional_evidence ? additional_evidence : ""));
	kbs_set(&bad, o, "tee-evidence", te);
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "KBS Attestation: cannot build")
	          : kbs_json_dump(out, o, "KBS Attestation");
	json_decref(o);
	return err;
}

int cocoon_kbs_token_reply_build(char **out, const char *token)
{
	json_t *o = json_object();
	int bad = !o || !token, err;

	*out = NULL;
	kbs_set(&bad, o, "token", token ? json_string(token) : NULL);
	err = bad ? cocoon_error_set(COCOON_EINVAL, "KBS token reply: no token") : kbs_json_dump(out, o, "KBS token reply");
	json_decref(o);
	return err;
}

int cocoon_kbs_token_reply_parse(char **token, const char *body, size_t len)
{
	static const char *const members[] = { "token", NULL };
	json_t *doc = NULL;
	const char *t;
	int err;

	*token = NULL;
	if ((err = kbs_json_load(&doc, body, len, "KBS token reply")) != 0)
		return err;
	if (!json_is_object(doc))
		err = cocoon_error_set(COCOON_EFORMAT, "KBS token reply: not a JSON object");
	else if ((err = kbs_only_members(doc, members, "KBS token reply")) == 0 &&
	         (t = kbs_string_member(doc, "token", "KBS token reply", &err)) != NULL && !(*token = strdup(t)))
		err = cocoon_error_set(COCOON_ENOMEM, "KBS token reply: out of memory");
	json_decref(doc);
	return err;
}

/* ---- Errors ------------------------------------------------------------- */

static const char *const error_names[COCOON_KBS_ERR__COUNT] = {
	[COCOON_KBS_ERR_ADMIN_AUTH_ACCESS] = "AdminAuthAccess",
	[COCOON_KBS_ERR_ATTESTATION] = "AttestationError",
	[COCOON_KBS_ERR_INVALID_REQUEST_PATH] = "InvalidRequestPath",
	[COCOON_KBS_ERR_JWE] = "JweError",
	[COCOON_KBS_ERR_PLUGIN_NOT_FOUND] = "PluginNotFound",
	[COCOON_KBS_ERR_PLUGIN_INTERNAL] = "PluginInternalError",
	[COCOON_KBS_ERR_POLICY_DENY] = "PolicyDeny",
	[COCOON_KBS_ERR_PARSE_POLICY] = "ParsePolicyError",
	[COCOON_KBS_ERR_POLICY_ENGINE] = "PolicyEngineError",
	[COCOON_KBS_ERR_SERDE] = "SerdeError",
	[COCOON_KBS_ERR_TOKEN_NOT_FOUND] = "TokenNotFound",
	[COCOON_KBS_ERR_TOKEN_VERIFIER] = "TokenVerifierError",
	[COCOON_KBS_ERR_PAYLOAD_TOO_LARGE] = "PayloadTooLarge",
	[COCOON_KBS_ERR_STORAGE_UNAVAILABLE] = "StorageUnavailable",
};

const char *cocoon_kbs_error_type_name(cocoon_kbs_error_type t)
{
	return (size_t)t < COCOON_KBS_ERR__COUNT ? error_names[t] : NULL;
}

int cocoon_kbs_error_body(char **out, cocoon_kbs_error_type t, const char *detail)
{
	const char *name = cocoon_kbs_error_type_name(t);
	char type[160];
	json_t *o, *d;
	int bad, err;

	*out = NULL;
	if (!name)
		return cocoon_error_set(COCOON_EINVAL, "KBS error: unknown type %d", (int)t);
	snprintf(type, sizeof(type), COCOON_KBS_ERROR_TYPE_PREFIX "%s", name);
	o = json_object();
	bad = !o;
	kbs_set(&bad, o, "type", json_string(type));
	/* json_string refuses invalid UTF-8; a detail must still be sent. */
	d = json_string(detail ? detail : "");
	kbs_set(&bad, o, "detail", d ? d : json_string("(detail was not valid UTF-8)"));
	err = bad ? cocoon_error_set(COCOON_ENOMEM, "KBS error: out of memory") : kbs_json_dump(out, o, "KBS error");
	json_decref(o);
	return err;
}

/* ---- Resource paths ----------------------------------------------------- */

static int segment_ok(const char *s, size_t n)
{
	if (n == 0 || n > COCOON_KBS_PATH_SEGMENT_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

int cocoon_kbs_resource_path_parse(cocoon_kbs_resource_path *out, const char *path, size_t len)
{
	static const char *const names[] = { "repository", "type", "tag" };
	char *dst[3] = { out->repo, out->type, out->tag };
	size_t start = 0, seg = 0;

	memset(out, 0, sizeof(*out));
	if (!path)
		return cocoon_error_set(COCOON_EINVAL, "KBS resource path: none");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (seg >= 3) {
			memset(out, 0, sizeof(*out));
			return cocoon_error_set(COCOON_EFORMAT, "KBS resource path: more than three segments; expected "
			                        "<repository>/<type>/<tag>");
		}
		if (!segment_ok(path + start, i - start)) {
			memset(out, 0, sizeof(*out));
			return cocoon_error_set(COCOON_EFORMAT, "KBS resource path: the %s segment (%zu bytes at offset %zu) "
			                        "must match ^[A-Za-z0-9_-][A-Za-z0-9_.-]*$ and be at most %d bytes",
			                        names[seg], i - start, start, COCOON_KBS_PATH_SEGMENT_MAX);
		}
		memcpy(dst[seg++], path + start, i - start);
		start = i + 1;
	}
	if (seg != 3) {
		memset(out, 0, sizeof(*out));
		return cocoon_error_set(COCOON_EFORMAT, "KBS resource path: %zu segment%s; expected "
		                        "<repository>/<type>/<tag>", seg, seg == 1 ? "" : "s");
	}
	return 0;
}
