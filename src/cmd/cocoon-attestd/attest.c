/*
 * POST /attest/{SgxEnclave,OpenEnclave,SevSnpVm,TdxVm}: decode the MAA
 * request, verify the evidence with libcocoon, bind runtimeData, appraise
 * the claims with the policy and sign the token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "dcap/pckext.h"
#include "dcap/quote.h"
#include "snp/snp.h"
#include "attestd.h"

#define NONCE_MAX 1024

/* Claims the policy may not overwrite: the service issues them itself. */
static const char *const reserved[] = { "iss", "iat", "nbf", "exp", "jti", "nonce", "x-ms-ver",
	                                "x-ms-attestation-type", "x-ms-policy-hash", "cocoon" };

typedef struct {
	uint8_t *evidence;
	size_t evidence_len;
	uint8_t *rt, *it;           /* runtimeData, initTimeData */
	size_t rt_len, it_len;
	json_t *rt_json, *it_json;  /* when dataType is JSON */
	const char *nonce;
	const char *draft;
	/* SNP endorsements from the request */
	uint8_t *vcek;
	size_t vcek_len;
	char *chain;
} attest_req;

static void req_free(attest_req *q)
{
	free(q->evidence);
	free(q->rt);
	free(q->it);
	json_decref(q->rt_json);
	json_decref(q->it_json);
	free(q->vcek);
	free(q->chain);
}

/* Decodes a base64url string member; replies and returns -1 on a problem. */
static int b64_field(uint8_t **out, size_t *len, attestd_reply *r, json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	if (!s) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: expected a base64url string", path);
		return -1;
	}
	if (cocoon_b64_decode(out, len, s, json_string_length(v)) != 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: %s", path, cocoon_error_last()->message);
		return -1;
	}
	if (*len == 0) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: is empty", path);
		return -1;
	}
	return 0;
}

/* runtimeData / initTimeData: {data: base64url, dataType: "Binary"|"JSON"}. */
static int data_field(uint8_t **out, size_t *len, json_t **as_json, attestd_reply *r, json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name), *dt;
	char path[64];
	const char *type;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: expected an object {data, dataType}", name);
		return -1;
	}
	snprintf(path, sizeof(path), "%s.data", name);
	if (b64_field(out, len, r, json_object_get(v, "data"), path) != 0)
		return -1;
	dt = json_object_get(v, "dataType");
	type = dt ? json_string_value(dt) : "Binary";
	if (!type || (strcmp(type, "Binary") != 0 && strcmp(type, "JSON") != 0)) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s.dataType: expected \"Binary\" or \"JSON\"", name);
		return -1;
	}
	if (strcmp(type, "JSON") == 0) {
		json_error_t jerr;
		if (!(*as_json = json_loadb((const char *)*out, *len, JSON_REJECT_DUPLICATES, &jerr)) ||
		    !json_is_object(*as_json)) {
			attestd_reply_error(r, 400, "InvalidParameter", "%s.data: dataType is JSON but the decoded data is "
			                    "not a JSON object (column %d: %s)", name, jerr.column,
			                    *as_json ? "not an object" : jerr.text);
			return -1;
		}
	}
	return 0;
}

/* MAA's SevSnpVm report: base64url of {"SnpReport": b64url, "VcekCertChain": b64 PEM}; a bare report also works. */
static int snp_report_field(attest_req *q, attestd_reply *r)
{
	json_t *o;
	uint8_t *raw = q->evidence, *pem = NULL;
	size_t pem_len = 0;
	const char *chain_b64;
	BIO *b = NULL;
	X509 *vcek = NULL;
	int rc = -1;

	if (q->evidence_len == COCOON_SNP_REPORT_SIZE || raw[0] != '{')
		return 0;
	/* raw is ours from here on (freed below), so q must not keep it on any path. */
	q->evidence = NULL;
	if (!(o = json_loadb((const char *)raw, q->evidence_len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(o)) {
		q->evidence_len = 0;
		attestd_reply_error(r, 400, "InvalidParameter", "report: the decoded report is neither a %d-byte SEV-SNP "
		                    "report nor MAA's JSON {SnpReport, VcekCertChain}", COCOON_SNP_REPORT_SIZE);
		goto done;
	}
	if (b64_field(&q->evidence, &q->evidence_len, r, json_object_get(o, "SnpReport"), "report.SnpReport") != 0)
		goto done;
	if ((chain_b64 = json_string_value(json_object_get(o, "VcekCertChain")))) {
		const char *next;
		unsigned char *der = NULL;
		int n;
		if (cocoon_b64_decode(&pem, &pem_len, chain_b64, strlen(chain_b64)) != 0 ||
		    !(b = BIO_new_mem_buf(pem, (int)pem_len)) || !(vcek = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
			attestd_reply_error(r, 400, "InvalidParameter", "report.VcekCertChain: expected base64 of a PEM "
			                    "chain starting with the VCEK");
			goto done;
		}
		if ((n = i2d_X509(vcek, &der)) <= 0) {
			attestd_reply_error(r, 400, "InvalidParameter", "report.VcekCertChain: unusable VCEK");
			goto done;
		}
		q->vcek = malloc((size_t)n);
		if (q->vcek)
			memcpy(q->vcek, der, (size_t)n);
		q->vcek_len = (size_t)n;
		OPENSSL_free(der);
		if (!q->vcek) {
			attestd_reply_error(r, 500, "InternalError", "out of memory");
			goto done;
		}
		/* The rest of the PEM (ASK, ARK) is the chain; without it the built-in AMD roots apply. */
		next = strstr((const char *)pem + 1, "-----BEGIN CERTIFICATE");
		if (next && !(q->chain = strdup(next))) {
			attestd_reply_error(r, 500, "InternalError", "out of memory");
			goto done;
		}
	}
	rc = 0;
done:
	free(raw);
	free(pem);
	BIO_free(b);
	X509_free(vcek);
	json_decref(o);
	return rc;
}

/* An Open Enclave report: oe_report_header_t {u32 version=1, u32 type=2 (SGX remote), u64 size} + SGX quote. */
static int oe_unwrap(attest_req *q, attestd_reply *r)
{
	uint64_t size;
	if (q->evidence_len >= 2 && cocoon_le16(q->evidence) == 3)
		return 0; /* already a bare quote */
	if (q->evidence_len < 16 || cocoon_le32(q->evidence) != 1 || cocoon_le32(q->evidence + 4) != 2) {
		attestd_reply_error(r, 400, "InvalidParameter", "report: not an Open Enclave remote report (expected "
		                    "header version 1, type 2 = SGX remote, at offset 0)");
		return -1;
	}
	size = (uint64_t)cocoon_le32(q->evidence + 8) | ((uint64_t)cocoon_le32(q->evidence + 12) << 32);
	if (size != q->evidence_len - 16) {
		attestd_reply_error(r, 400, "InvalidParameter", "report: the Open Enclave header declares %llu bytes at "
		                    "offset 8 but %zu follow", (unsigned long long)size, q->evidence_len - 16);
		return -1;
	}
	memmove(q->evidence, q->evidence + 16, q->evidence_len - 16);
	q->evidence_len -= 16;
	return 0;
}

static int parse_request(attest_req *q, attestd_reply *r, cocoon_tee tee, int is_oe, const char *body, size_t len,
                         json_t **root)
{
	json_error_t jerr;
	const char *ev_name = (tee == COCOON_TEE_SNP || is_oe) ? "report" : "quote";
	json_t *o, *v;

	if (!(o = *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr))) {
		attestd_reply_error(r, 400, "InvalidParameter", "body: invalid JSON at line %d column %d: %s", jerr.line,
		                    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		attestd_reply_error(r, 400, "InvalidParameter", "body: expected a JSON object");
		return -1;
	}
	if (!(v = json_object_get(o, ev_name))) {
		attestd_reply_error(r, 400, "InvalidParameter", "%s: is required (base64url evidence)", ev_name);
		return -1;
	}
	if (b64_field(&q->evidence, &q->evidence_len, r, v, ev_name) != 0 ||
	    data_field(&q->rt, &q->rt_len, &q->rt_json, r, o, "runtimeData") != 0 ||
	    data_field(&q->it, &q->it_len, &q->it_json, r, o, "initTimeData") != 0)
		return -1;
	if ((v = json_object_get(o, "nonce")) && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) > NONCE_MAX) {
			attestd_reply_error(r, 400, "InvalidParameter", "nonce: expected a string of at most %d bytes",
			                    NONCE_MAX);
			return -1;
		}
		q->nonce = json_string_value(v);
	}
	if ((v = json_object_get(o, "draftPolicyForAttestation")) && !json_is_null(v)) {
		if (!json_is_string(v)) {
			attestd_reply_error(r, 400, "InvalidParameter", "draftPolicyForAttestation: expected policy text");
			return -1;
		}
		q->draft = json_string_value(v);
	}
	if (is_oe && oe_unwrap(q, r) != 0)
		return -1;
	if (tee == COCOON_TEE_SNP && snp_report_field(q, r) != 0)
		return -1;
	return 0;
}

/*
 * Decoding the PCK certificate costs more than verifying a quote of a known
 * platform, so each worker remembers the FMSPC of the certification data it
 * has seen. The FMSPC only selects collateral: verification checks the
 * chain and the extensions itself, so a stale or wrong entry cannot make
 * evidence pass.
 */
#define FMSPC_CACHE 64
static __thread struct {
	uint8_t digest[32];
	char fmspc[13];
	int used;
} tl_fmspc[FMSPC_CACHE];
static __thread unsigned tl_fmspc_next;

/* FMSPC and TEE of a DCAP quote, read from its PCK certificate before verification picks the collateral. */
static int quote_fmspc(char fmspc[13], const char **tee, attestd_reply *r, const uint8_t *quote, size_t len)
{
	cocoon_quote q;
	cocoon_failure f = { 0 };
	cocoon_pck_ext ext;
	BIO *b = NULL;
	X509 *leaf = NULL;
	uint8_t digest[32];
	const void *parts[1];
	size_t lens[1];
	int rc = -1;

	if (cocoon_quote_parse(&q, &f, quote, len) != 0) {
		attestd_reply_error(r, 400, "EvidenceRejected", "quote rejected by check '%s': %s",
		                    cocoon_check_name(f.check), f.reason);
		return -1;
	}
	*tee = q.body_type == COCOON_BODY_SGX ? "sgx" : "tdx";
	if (q.cert_type != COCOON_CERT_TYPE_PCK_CHAIN) {
		attestd_reply_error(r, 400, "EvidenceRejected", "quote: certification data type %u; cocoon-attestd needs "
		                    "the PCK certificate chain (type 5) in the quote", q.cert_type);
		return -1;
	}
	parts[0] = q.cert_data.ptr;
	lens[0] = q.cert_data.len;
	if (cocoon_sha256(digest, 1, parts, lens) != 0) {
		attestd_reply_error(r, 500, "InternalError", "hashing the certification data failed");
		return -1;
	}
	for (unsigned i = 0; i < FMSPC_CACHE; i++) {
		if (tl_fmspc[i].used && memcmp(tl_fmspc[i].digest, digest, 32) == 0) {
			memcpy(fmspc, tl_fmspc[i].fmspc, 13);
			return 0;
		}
	}
	if (q.cert_data.len > INT32_MAX || !(b = BIO_new_mem_buf(q.cert_data.ptr, (int)q.cert_data.len)) ||
	    !(leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) || cocoon_pck_ext_from_cert(&ext, leaf) != 0) {
		attestd_reply_error(r, 400, "EvidenceRejected", "quote: the PCK certificate (certification data) has no "
		                    "readable SGX extensions: %s", cocoon_error_last()->message);
		goto done;
	}
	cocoon_hex_encode(fmspc, ext.fmspc, 6);
	{
		unsigned slot = tl_fmspc_next++ % FMSPC_CACHE;
		memcpy(tl_fmspc[slot].digest, digest, 32);
		memcpy(tl_fmspc[slot].fmspc, fmspc, 13);
		tl_fmspc[slot].used = 1;
	}
	rc = 0;
done:
	ERR_clear_error();
	BIO_free(b);
	X509_free(leaf);
	return rc;
}

static int verify_dcap(cocoon_result *res, const cocoon_collateral **used, attestd_reply *r, attestd_env *env,
                       const attest_req *q, const cocoon_verify_options *vo)
{
	attestd_ctx *ctx = env->ctx;
	const cocoon_collateral *coll = NULL, *sim_coll = NULL;
	const char *tee = NULL;
	char fmspc[13], why[1024];
	int err;

	if (quote_fmspc(fmspc, &tee, r, q->evidence, q->evidence_len) != 0)
		return -1;
	err = attestd_collateral_dcap(&coll, env, 0, tee, fmspc);
	snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
	if (ctx->sim_verifier && attestd_collateral_dcap(&sim_coll, env, 1, tee, fmspc) != 0)
		sim_coll = NULL;
	if (err && !sim_coll) {
		attestd_reply_error(r, err == COCOON_ENOTFOUND ? 400 : 500, err == COCOON_ENOTFOUND ? "CollateralNotFound"
		                    : "InternalError", "%s", why);
		return -1;
	}
	if (coll) {
		if (cocoon_verifier_verify_dcap(res, ctx->verifier, q->evidence, q->evidence_len, coll, vo) != 0)
			goto fail;
		*used = coll;
		if (res->accepted || res->failed_check != COCOON_CHECK_SIMULATION_ROOT || !sim_coll)
			return 0;
	}
	if (cocoon_verifier_verify_dcap(res, ctx->sim_verifier, q->evidence, q->evidence_len, sim_coll, vo) != 0)
		goto fail;
	*used = sim_coll;
	return 0;
fail:
	attestd_reply_error(r, 500, "InternalError", "verification could not run: %s", cocoon_error_last()->message);
	return -1;
}

static int verify_snp(cocoon_result *res, attestd_reply *r, attestd_env *env, const attest_req *q,
                      const cocoon_verify_options *vo)
{
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	cocoon_snp_report rep;
	cocoon_failure f = { 0 };
	attestd_ctx *ctx = env->ctx;
	int sim = ctx->sim_verifier && ctx->sim_amd_vcek, err = 0;

	if (cocoon_snp_report_parse(&rep, &f, q->evidence, q->evidence_len) != 0) {
		attestd_reply_error(r, 400, "EvidenceRejected", "report rejected by check '%s': %s",
		                    cocoon_check_name(COCOON_CHECK_SNP_REPORT_FORMAT), cocoon_error_last()->message);
		return -1;
	}
	if (q->vcek) {
		in.vcek = q->vcek;
		in.vcek_len = q->vcek_len;
		in.chain = (const uint8_t *)q->chain;
		in.chain_len = q->chain ? strlen(q->chain) : 0;
	} else {
		const uint8_t *vcek;
		const char *chain;
		size_t vcek_len;
		err = attestd_collateral_snp(&vcek, &vcek_len, &chain, env, rep.chip_id, rep.reported_tcb, NULL);
		if (err == COCOON_ENOTFOUND && sim)
			goto simulated;
		if (err) {
			attestd_reply_error(r, err == COCOON_ENOTFOUND ? 400 : 500,
			                    err == COCOON_ENOTFOUND ? "CollateralNotFound" : "InternalError", "%s",
			                    cocoon_error_last()->message);
			return -1;
		}
		in.vcek = vcek;
		in.vcek_len = vcek_len;
		in.chain = (const uint8_t *)chain;
		in.chain_len = chain ? strlen(chain) : 0;
	}
	pol.allow_debug = ctx->cfg->allow_debug;
	if (cocoon_verifier_verify_snp(res, ctx->verifier, q->evidence, q->evidence_len, &in, &pol, vo) != 0)
		goto fail;
	if (res->accepted || res->failed_check != COCOON_CHECK_SIMULATION_ROOT || !sim)
		return 0;
simulated:
	/* The chain and CRL to trust come from the simulation directory, never from the request. */
	in.vcek = q->vcek ? q->vcek : ctx->sim_amd_vcek;
	in.vcek_len = q->vcek ? q->vcek_len : ctx->sim_amd_vcek_len;
	in.chain = (const uint8_t *)ctx->sim_amd_chain;
	in.chain_len = strlen(ctx->sim_amd_chain);
	in.crl = ctx->sim_amd_crl;
	in.crl_len = ctx->sim_amd_crl_len;
	pol.allow_debug = ctx->cfg->allow_debug;
	if (cocoon_verifier_verify_snp(res, ctx->sim_verifier, q->evidence, q->evidence_len, &in, &pol, vo) != 0)
		goto fail;
	return 0;
fail:
	attestd_reply_error(r, 500, "InternalError", "verification could not run: %s", cocoon_error_last()->message);
	return -1;
}

/* SHA-256(data) must equal the first 32 bytes of the field the TEE signed. */
static int check_binding(attestd_reply *r, const char *what, const uint8_t *data, size_t len, const uint8_t *field,
                         const char *field_name)
{
	uint8_t d[32];
	const void *parts[1] = { data };
	size_t lens[1] = { len };
	char want[65], got[65];

	if (!data)
		return 0;
	if (cocoon_sha256(d, 1, parts, lens) != 0) {
		attestd_reply_error(r, 500, "InternalError", "hashing %s failed", what);
		return -1;
	}
	if (CRYPTO_memcmp(d, field, 32) != 0) {
		cocoon_hex_encode(want, d, 32);
		cocoon_hex_encode(got, field, 32);
		attestd_reply_error(r, 400, "InvalidParameter", "%s does not match the evidence: SHA-256(%s) is %s but "
		                    "%s[0:32] is %s; the enclave must put the hash of exactly these bytes there",
		                    what, what, want, field_name, got);
		return -1;
	}
	return 0;
}

static int is_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(reserved[i], name) == 0)
			return 1;
	return 0;
}

/* MAA tokens from draft policies "cannot be validated": cocoon makes them unsigned (alg none). */
static char *unsigned_token(json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT), *p64 = NULL, *out = NULL;
	if (payload && cocoon_b64url_encode(&p64, (const uint8_t *)payload, strlen(payload)) == 0 &&
	    asprintf(&out, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.", p64) < 0)
		out = NULL;
	free(payload);
	free(p64);
	return out;
}

static int verdict_slot(int idx)
{
	return idx == 0 ? M_TEE_SGX : idx == 1 ? M_TEE_OE : idx == 2 ? M_TEE_SNP : M_TEE_TDX;
}

void attestd_handle_attest(attestd_reply *r, attestd_env *env, const char *type_in, const char *api_version,
                           const char *body, size_t len)
{
	attestd_ctx *ctx = env->ctx;
	attest_req q = { 0 };
	cocoon_result res;
	cocoon_tee tee;
	cocoon_verify_options vo = COCOON_VERIFY_OPTIONS_INIT;
	const cocoon_collateral *coll = NULL;
	cocoon_policy *draft = NULL;
	cocoon_policy_outcome out = { 0 };
	attestd_policy_ref pref = { 0 };
	json_t *root = NULL, *incoming = NULL, *claims = NULL, *issued;
	char *token = NULL, *result_json = NULL, jti[65];
	const char *name, *rd_name;
	const uint8_t *report_data;
	uint8_t rnd[32];
	json_t *v;
	int idx = attestd_type_tee(type_in, &tee), lifetime;
	time_t now;

	memset(&res, 0, sizeof(res));
	r->verdict = -1;
	if (idx < 0) {
		attestd_reply_error(r, 404, "NotFound", "attestation type '%.40s' is not supported; use SgxEnclave, "
		                    "OpenEnclave, SevSnpVm or TdxVm", type_in);
		return;
	}
	r->tee_label = attestd_type_name(idx);
	if (!api_version) {
		attestd_reply_error(r, 400, "MissingApiVersionParameter", "the api-version query parameter is required; "
		                    "supported: 2020-10-01, 2022-08-01, 2023-04-01-preview, 2025-06-01");
		return;
	}
	if (!attestd_api_version_ok(api_version)) {
		attestd_reply_error(r, 400, "InvalidApiVersionParameter", "api-version '%.40s' is not supported; use "
		                    "2020-10-01, 2022-08-01, 2023-04-01-preview or 2025-06-01", api_version);
		return;
	}
	if (parse_request(&q, r, tee, idx == 1, body, len, &root) != 0)
		goto rejected_input;
	vo.at = ctx->cfg->test_only_verification_time;
	vo.allow_debug = ctx->cfg->allow_debug;
	if (tee == COCOON_TEE_SNP ? verify_snp(&res, r, env, &q, &vo) : verify_dcap(&res, &coll, r, env, &q, &vo))
		goto rejected_input;
	if (!res.accepted) {
		r->verdict = M_V_REJECT;
		attestd_reply_error(r, 400, "EvidenceRejected", "evidence rejected by check '%s': %s",
		                    cocoon_check_name(res.failed_check), res.reason);
		goto done;
	}
	if (res.tee != tee) {
		attestd_reply_error(r, 400, "InvalidParameter", "the evidence is a %s %s; send it to /attest/%s",
		                    cocoon_tee_name(res.tee), tee == COCOON_TEE_SNP ? "report" : "quote",
		                    res.tee == COCOON_TEE_TDX ? "TdxVm" : res.tee == COCOON_TEE_SGX ? "SgxEnclave"
		                                                                                : "SevSnpVm");
		goto rejected_input;
	}
	report_data = tee == COCOON_TEE_SGX ? res.sgx.report_data : tee == COCOON_TEE_TDX ? res.tdx.report_data
	                                                                                  : res.snp.report_data;
	rd_name = tee == COCOON_TEE_SNP ? "REPORT_DATA" : "report_data";
	if (check_binding(r, "runtimeData", q.rt, q.rt_len, report_data, rd_name) != 0)
		goto rejected_input;
	if (q.it) {
		/* initTimeData binds to HOST_DATA (SNP) or the low half of CONFIGID (SGX KSS). */
		if (tee == COCOON_TEE_TDX) {
			attestd_reply_error(r, 400, "InvalidParameter", "initTimeData: not supported for TdxVm");
			goto rejected_input;
		}
		if (check_binding(r, "initTimeData", q.it, q.it_len, tee == COCOON_TEE_SNP ? res.snp.host_data
		                  : res.sgx.config_id, tee == COCOON_TEE_SNP ? "HOST_DATA" : "config_id") != 0)
			goto rejected_input;
	}

	incoming = json_object();
	json_object_set_new(incoming, "x-ms-ver", json_string("1.0"));
	if (tee == COCOON_TEE_SGX)
		attestd_claims_sgx(incoming, &res, q.rt, q.rt_len, q.evidence, q.evidence_len, coll);
	else if (tee == COCOON_TEE_TDX)
		attestd_claims_tdx(incoming, &res);
	else
		attestd_claims_snp(incoming, &res);
	if (q.rt_json)
		json_object_set(incoming, "x-ms-runtime", q.rt_json);
	if (q.it_json)
		json_object_set(incoming, "x-ms-inittime", q.it_json);

	if (q.draft) {
		/* Untrusted policy text: the parser and evaluator bound its size and work. */
		if (cocoon_policy_parse(&draft, q.draft, strlen(q.draft)) != 0) {
			attestd_reply_error(r, 400, "InvalidParameter", "draftPolicyForAttestation: %s",
			                    cocoon_error_last()->message);
			goto rejected_input;
		}
		pref.policy = draft;
		cocoon_policy_hash(pref.hash, q.draft, strlen(q.draft));
	} else if (attestd_policy_current(&pref, env, attestd_type_name(idx), tee) != 0) {
		attestd_reply_error(r, 500, "InternalError", "policy: %s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_policy_evaluate(&out, pref.policy, incoming) != 0) {
		attestd_reply_error(r, q.draft ? 400 : 500, q.draft ? "InvalidParameter" : "InternalError",
		                    "policy evaluation failed: %s", cocoon_error_last()->message);
		goto done;
	}
	if (!out.permitted) {
		r->verdict = M_V_DENY;
		attestd_reply_error(r, 401, "PolicyDenied", "the attestation policy denied the evidence: %s", out.denied_by);
		goto done;
	}

	claims = json_copy(incoming);
	json_object_foreach(out.issued, name, issued) {
		if (!is_reserved(name))
			json_object_set(claims, name, issued);
	}
	now = time(NULL);
	lifetime = ctx->cfg->token_lifetime_seconds;
	if ((v = json_object_get(out.properties, "report_validity_in_minutes")) && json_is_integer(v) &&
	    json_integer_value(v) > 0 && json_integer_value(v) <= 366 * 1440)
		lifetime = (int)json_integer_value(v) * 60;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		attestd_reply_error(r, 500, "InternalError", "no randomness for jti");
		goto done;
	}
	cocoon_hex_encode(jti, rnd, sizeof(rnd));
	json_object_set_new(claims, "iss", json_string(ctx->issuer));
	json_object_set_new(claims, "iat", json_integer(now));
	json_object_set_new(claims, "nbf", json_integer(now));
	json_object_set_new(claims, "exp", json_integer(now + lifetime));
	json_object_set_new(claims, "jti", json_string(jti));
	json_object_set_new(claims, "x-ms-policy-hash", json_string(pref.hash));
	if (q.nonce)
		json_object_set_new(claims, "nonce", json_string(q.nonce));
	if (cocoon_result_to_json(&result_json, &res) == 0)
		json_object_set_new(claims, "cocoon", json_loads(result_json, 0, NULL));

	if (q.draft) {
		token = unsigned_token(claims);
	} else if (attestd_signer_sign(&token, ctx->signer, claims, ctx->jku) != 0) {
		attestd_reply_error(r, 500, "InternalError", "signing failed: %s", cocoon_error_last()->message);
		goto done;
	}
	if (!token) {
		attestd_reply_error(r, 500, "InternalError", "out of memory");
		goto done;
	}
	r->verdict = M_V_PERMIT;
	atomic_fetch_add(&attestd_m.tokens_issued, 1);
	attestd_reply_json(r, 200, json_pack("{s:s}", "token", token));
	if (res.simulated) {
		free(r->log_detail);
		r->log_detail = strdup("simulated evidence");
	}
	goto done;
rejected_input:
	if (r->status == 400)
		r->verdict = M_V_REJECT;
	else if (r->status >= 500)
		r->verdict = M_V_ERROR;
done:
	if (r->verdict < 0 && r->status >= 500)
		r->verdict = M_V_ERROR;
	if (r->verdict >= 0)
		atomic_fetch_add(&attestd_m.verdicts[verdict_slot(idx)][r->verdict], 1);
	cocoon_policy_outcome_free(&out);
	cocoon_policy_free(draft);
	json_decref(root);
	json_decref(incoming);
	json_decref(claims);
	free(token);
	free(result_json);
	req_free(&q);
}
