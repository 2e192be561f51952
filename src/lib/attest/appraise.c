/*
 * The appraisal pipeline: evidence bytes -> format -> collateral ->
 * verification (falling back to a trusted simulation root when asked) ->
 * binding of runtime and init data -> MAA claims -> MAA policy -> one
 * cocoon_attest_result. A check that fails is a verdict (reject or deny)
 * with a named check; an error means the pipeline could not run.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "dcap/pckext.h"
#include "dcap/quote.h"
#include "snp/snp.h"
#include "attest_int.h"

/* Claims the policy may not issue: token issuance sets them itself. */
static const char *const reserved[] = { "iss", "iat", "nbf", "exp", "jti", "nonce", "x-ms-ver",
	                                "x-ms-attestation-type", "x-ms-policy-hash", "cocoon" };

static const char *const verdict_names[] = { "accept", "reject", "deny" };

const char *cocoon_verdict_name(cocoon_verdict v)
{
	return (unsigned)v < 3 ? verdict_names[v] : "unknown";
}

void cocoon_attest_result_free(cocoon_attest_result *r)
{
	if (!r)
		return;
	json_decref(r->claims);
	free(r);
}

/* Everything one appraisal works on. */
typedef struct {
	cocoon_attest_result *res;
	cocoon_verifier *v;
	const cocoon_attest_input *in;
	const cocoon_attest_options *o;
	attest_evidence ev;
	const cocoon_collateral *coll;  /* the DCAP collateral that judged the quote */
} job;

static int reject(job *j, cocoon_failure *f)
{
	j->res->verdict = COCOON_VERDICT_REJECT;
	j->res->failed_check = f->check;
	snprintf(j->res->reason, sizeof(j->res->reason), "%s", f->reason);
	/* Rejected before or without verification: the verifier's result still names the check. */
	if (j->res->verification.accepted == 0 && j->res->verification.failed_check == COCOON_CHECK_NONE) {
		j->res->verification.tee = j->res->tee;
		j->res->verification.failed_check = f->check;
		snprintf(j->res->verification.reason, sizeof(j->res->verification.reason), "%s", f->reason);
	}
	return 0;
}

/*
 * Decoding the PCK certificate costs more than verifying a quote of a known
 * platform, so each thread remembers the FMSPC of the certification data it
 * has seen. The FMSPC only selects collateral: verification checks the chain
 * and the extensions itself, so a stale or wrong entry cannot make evidence pass.
 */
#define FMSPC_CACHE 64
static __thread struct {
	uint8_t digest[32];
	char fmspc[13];
	int used;
} tl_fmspc[FMSPC_CACHE];
static __thread unsigned tl_fmspc_next;

/* The FMSPC of a quote's PCK certificate; 1 when the quote has none (or it is unreadable). */
static int quote_fmspc(char fmspc[13], const cocoon_quote *q)
{
	cocoon_pck_ext ext;
	uint8_t digest[32];
	const void *parts[1] = { q->cert_data.ptr };
	size_t lens[1] = { q->cert_data.len };
	BIO *b = NULL;
	X509 *leaf = NULL;
	int rc = 1;

	if (q->cert_type != 5 || cocoon_sha256(digest, 1, parts, lens) != 0)
		return 1;
	for (unsigned i = 0; i < FMSPC_CACHE; i++) {
		if (tl_fmspc[i].used && memcmp(tl_fmspc[i].digest, digest, 32) == 0) {
			memcpy(fmspc, tl_fmspc[i].fmspc, 13);
			return 0;
		}
	}
	if (q->cert_data.len <= INT32_MAX && (b = BIO_new_mem_buf(q->cert_data.ptr, (int)q->cert_data.len)) &&
	    (leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) && cocoon_pck_ext_from_cert(&ext, leaf) == 0) {
		unsigned slot = tl_fmspc_next++ % FMSPC_CACHE;
		cocoon_hex_encode(fmspc, ext.fmspc, 6);
		memcpy(tl_fmspc[slot].digest, digest, 32);
		memcpy(tl_fmspc[slot].fmspc, fmspc, 13);
		tl_fmspc[slot].used = 1;
		rc = 0;
	}
	ERR_clear_error();
	BIO_free(b);
	X509_free(leaf);
	return rc;
}

static int verify_dcap(job *j)
{
	const cocoon_attest_options *o = j->o;
	const cocoon_collateral *coll = NULL, *sim_coll = NULL;
	cocoon_failure f = { 0 };
	cocoon_quote q;
	cocoon_tee tee;
	char fmspc[13], why[1024];
	int no_pck, err;

	if (cocoon_quote_parse(&q, &f, j->ev.bytes, j->ev.len) != 0)
		return reject(j, &f);
	tee = q.body_type == COCOON_BODY_SGX ? COCOON_TEE_SGX : COCOON_TEE_TDX;
	j->res->tee = tee;
	if (j->ev.format != (tee == COCOON_TEE_SGX ? COCOON_ATTEST_FORMAT_SGX : COCOON_ATTEST_FORMAT_TDX)) {
		cocoon_fail(&f, COCOON_CHECK_EVIDENCE_FORMAT, "the evidence is a %s quote, not a %s one",
		            cocoon_tee_name(tee), cocoon_attest_format_name(j->ev.format));
		return reject(j, &f);
	}
	no_pck = quote_fmspc(fmspc, &q);
	err = attest_source_dcap(&coll, j->in->collateral, tee, no_pck ? NULL : fmspc);
	snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
	if (o->sim_verifier && attest_source_dcap(&sim_coll, o->sim_collateral, tee, no_pck ? NULL : fmspc) != 0)
		sim_coll = NULL;
	if (err && !sim_coll) {
		if (err == COCOON_ENOTFOUND && no_pck) {
			cocoon_fail(&f, COCOON_CHECK_CERTIFICATION_DATA, "quote: certification data type %u carries no "
			            "readable PCK certificate, so its FMSPC and collateral are unknown; send a quote with "
			            "the PCK certificate chain (type 5)", q.cert_type);
			return reject(j, &f);
		}
		return cocoon_error_set(err, "%s", why);
	}
	if (coll) {
		if ((err = cocoon_verifier_verify_dcap(&j->res->verification, j->v, j->ev.bytes, j->ev.len, coll,
		                                       &o->verify)) != 0)
			return err;
		j->coll = coll;
		if (j->res->verification.accepted || j->res->verification.failed_check != COCOON_CHECK_SIMULATION_ROOT ||
		    !sim_coll)
			return 0;
	}
	if ((err = cocoon_verifier_verify_dcap(&j->res->verification, o->sim_verifier, j->ev.bytes, j->ev.len,
	                                       sim_coll, &o->verify)) != 0)
		return err;
	j->coll = sim_coll;
	return 0;
}

static void snp_inputs(cocoon_snp_inputs *si, const attest_snp_endorsements *e)
{
	si->vcek = e->vcek, si->vcek_len = e->vcek_len;
	si->chain = e->chain, si->chain_len = e->chain_len;
	si->crl = e->crl, si->crl_len = e->crl_len;
	si->certs = e->certs, si->certs_len = e->certs_len;
	si->product = e->product;
}

static int verify_snp(job *j)
{
	const cocoon_attest_options *o = j->o;
	cocoon_snp_inputs si = COCOON_SNP_INPUTS_INIT;
	attest_snp_endorsements e, sim;
	cocoon_snp_report rep;
	cocoon_failure f = { 0 };
	int err = 0;

	j->res->tee = COCOON_TEE_SNP;
	if (cocoon_snp_report_parse(&rep, &f, j->ev.bytes, j->ev.len) != 0) {
		if (f.check == COCOON_CHECK_NONE)
			cocoon_fail(&f, COCOON_CHECK_SNP_REPORT_FORMAT, "%s", cocoon_error_last()->message);
		return reject(j, &f);
	}
	memset(&e, 0, sizeof(e));
	if (j->ev.vcek) {
		/* MAA's envelope carries the VCEK and the chain; a CRL can still come from an in-memory source. */
		attest_source_snp_static(&e, j->in->collateral);
		e.vcek = j->ev.vcek, e.vcek_len = j->ev.vcek_len, e.certs = NULL, e.certs_len = 0;
		if (j->ev.chain)
			e.chain = (const uint8_t *)j->ev.chain, e.chain_len = strlen(j->ev.chain);
	} else {
		err = attest_source_snp(&e, j->in->collateral, rep.chip_id, rep.reported_tcb);
		if (err && !(err == COCOON_ENOTFOUND && o->sim_verifier))
			return err;
	}
	if (!err) {
		snp_inputs(&si, &e);
		if ((err = cocoon_verifier_verify_snp(&j->res->verification, j->v, j->ev.bytes, j->ev.len, &si,
		                                      o->snp_policy, &o->verify)) != 0)
			return err;
		if (j->res->verification.accepted || !o->sim_verifier ||
		    j->res->verification.failed_check != COCOON_CHECK_SIMULATION_ROOT)
			return 0;
	}
	/* The chain and CRL to trust come from the simulation source, never from the evidence. */
	if (attest_source_snp(&sim, o->sim_collateral, rep.chip_id, rep.reported_tcb) != 0) {
		if (!err)
			return 0; /* no simulated AMD PKI: the verdict above stands */
		return attest_source_snp(&e, j->in->collateral, rep.chip_id, rep.reported_tcb);
	}
	if (j->ev.vcek)
		sim.vcek = j->ev.vcek, sim.vcek_len = j->ev.vcek_len, sim.certs = NULL, sim.certs_len = 0;
	snp_inputs(&si, &sim);
	return cocoon_verifier_verify_snp(&j->res->verification, o->sim_verifier, j->ev.bytes, j->ev.len, &si,
	                                  o->snp_policy, &o->verify);
}

/* The field a piece of data binds to, by TEE. */
static int bind_field(attest_bind *b, const cocoon_result *r, int init, cocoon_init_field want)
{
	cocoon_init_field f = want;

	if (!init) {
		b->field_len = 64;
		b->field = r->tee == COCOON_TEE_SGX ? r->sgx.report_data : r->tee == COCOON_TEE_TDX ? r->tdx.report_data
		                                                                                    : r->snp.report_data;
		b->field_name = r->tee == COCOON_TEE_SNP ? "REPORT_DATA" : "report_data";
		return 0;
	}
	if (f == COCOON_INIT_FIELD_AUTO)
		f = r->tee == COCOON_TEE_SNP ? COCOON_INIT_FIELD_SNP_HOST_DATA : r->tee == COCOON_TEE_TDX
		    ? COCOON_INIT_FIELD_TDX_MRCONFIGID : COCOON_INIT_FIELD_SGX_CONFIGID;
	if (f == COCOON_INIT_FIELD_SNP_HOST_DATA && r->tee == COCOON_TEE_SNP)
		b->field = r->snp.host_data, b->field_len = 32, b->field_name = "HOST_DATA";
	else if (f == COCOON_INIT_FIELD_TDX_MRCONFIGID && r->tee == COCOON_TEE_TDX)
		b->field = r->tdx.mr_config_id, b->field_len = 48, b->field_name = "MRCONFIGID";
	else if (f == COCOON_INIT_FIELD_SGX_CONFIGID && r->tee == COCOON_TEE_SGX)
		b->field = r->sgx.config_id, b->field_len = 64, b->field_name = "config_id";
	else
		return 1;
	return 0;
}

static int check_bindings(job *j)
{
	const cocoon_attest_input *in = j->in;
	attest_bind b;
	cocoon_failure f = { 0 };
	int err;

	if (in->runtime_data) {
		memset(&b, 0, sizeof(b));
		b.label = in->runtime_data_label ? in->runtime_data_label : "runtime data";
		b.data = in->runtime_data, b.len = in->runtime_data_len, b.hash = in->runtime_hash;
		b.check = COCOON_CHECK_REPORT_DATA_BINDING;
		bind_field(&b, &j->res->verification, 0, COCOON_INIT_FIELD_AUTO);
		if ((err = attest_bind_check(&f, &b)) != 0)
			return err == COCOON_EREJECT ? reject(j, &f) + 1 : err;
	}
	if (in->init_data) {
		memset(&b, 0, sizeof(b));
		b.label = in->init_data_label ? in->init_data_label : "init data";
		b.data = in->init_data, b.len = in->init_data_len, b.hash = in->init_hash;
		b.check = COCOON_CHECK_INIT_DATA_BINDING;
		if (bind_field(&b, &j->res->verification, 1, in->init_field) != 0) {
			cocoon_fail(&f, COCOON_CHECK_INIT_DATA_BINDING, "%s: the requested field does not exist in %s "
			            "evidence", b.label, cocoon_tee_name(j->res->tee));
			return reject(j, &f) + 1;
		}
		if ((err = attest_bind_check(&f, &b)) != 0)
			return err == COCOON_EREJECT ? reject(j, &f) + 1 : err;
	}
	return 0;
}

/*
 * x-ms-runtime / x-ms-inittime: the data as a JSON object. jansson's lexer
 * ignores a failed allocation while it saves token text (lex_save), so a
 * parse under memory pressure can succeed with a byte missing from a string
 * or a number. Two independent parses that agree rule that out for any
 * single failed allocation; a disagreement is an error, never a claim.
 */
static int json_claim(json_t *claims, const char *name, const char *label, const uint8_t *data, size_t len)
{
	json_error_t jerr;
	json_t *v = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr), *again = NULL;
	int err = 0;

	if (!v || !json_is_object(v)) {
		err = cocoon_error_set(COCOON_EFORMAT, "%s: the data is not a JSON object (column %d: %s)", label,
		                       jerr.column, v ? "not an object" : jerr.text);
		goto done;
	}
	if (!(again = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL)) || !json_equal(v, again)) {
		err = cocoon_error_set(COCOON_ENOMEM, "%s: out of memory parsing the JSON", label);
		goto done;
	}
	if (json_object_set_new(claims, name, v) < 0)
		err = cocoon_error_set(COCOON_ENOMEM, "claims: out of memory");
	v = NULL;
done:
	json_decref(v);
	json_decref(again);
	return err;
}

static int is_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(reserved[i], name) == 0)
			return 1;
	return 0;
}

/* Runs the policy over the incoming claims and adds what it issued. */
static int apply_policy(job *j)
{
	cocoon_policy_outcome out = { 0 };
	const char *name;
	json_t *issued, *v;
	int err;

	if ((err = cocoon_policy_evaluate(&out, j->o->policy, j->res->claims)) != 0)
		return cocoon_error_set(err, "policy evaluation failed: %s", cocoon_error_last()->message);
	if (!out.permitted) {
		j->res->verdict = COCOON_VERDICT_DENY;
		j->res->failed_check = COCOON_CHECK_POLICY;
		snprintf(j->res->reason, sizeof(j->res->reason), "%s", out.denied_by);
		goto done;
	}
	json_object_foreach(out.issued, name, issued) {
		if (!is_reserved(name) && json_object_set(j->res->claims, name, issued) < 0) {
			err = cocoon_error_set(COCOON_ENOMEM, "claims: out of memory");
			goto done;
		}
	}
	if ((v = json_object_get(out.properties, "report_validity_in_minutes")) && json_is_integer(v) &&
	    json_integer_value(v) > 0 && json_integer_value(v) <= 366 * 1440)
		j->res->token_lifetime = (int)json_integer_value(v) * 60;
done:
	cocoon_policy_outcome_free(&out);
	return err;
}

static int build_claims(job *j)
{
	const cocoon_attest_input *in = j->in;
	attest_claims_in ci = { .r = &j->res->verification, .runtime_data = in->runtime_data,
		                .runtime_data_len = in->runtime_data_len, .evidence = j->ev.bytes,
		                .evidence_len = j->ev.len, .coll = j->coll };
	int err;

	if (!(j->res->claims = json_object()))
		return cocoon_error_set(COCOON_ENOMEM, "claims: out of memory");
	if ((err = attest_claims_maa(j->res->claims, &ci)) != 0)
		return err;
	if (in->runtime_data && in->runtime_data_json &&
	    (err = json_claim(j->res->claims, "x-ms-runtime", in->runtime_data_label ? in->runtime_data_label
	                      : "runtime data", in->runtime_data, in->runtime_data_len)))
		return err;
	if (in->init_data && in->init_data_json &&
	    (err = json_claim(j->res->claims, "x-ms-inittime", in->init_data_label ? in->init_data_label
	                      : "init data", in->init_data, in->init_data_len)))
		return err;
	return j->o->policy ? apply_policy(j) : 0;
}

static int run(job *j)
{
	cocoon_attest_result *res = j->res;
	cocoon_failure f = { 0 };
	int err;

	if ((err = attest_evidence_unwrap(&j->ev, &f, j->in->evidence, j->in->evidence_len, j->in->format)) != 0)
		return err == COCOON_EREJECT ? reject(j, &f) : err;
	res->format = j->ev.detected;
	if ((err = j->ev.format == COCOON_ATTEST_FORMAT_SNP ? verify_snp(j) : verify_dcap(j)) != 0)
		return err;
	if (res->verdict == COCOON_VERDICT_REJECT)
		return 0;
	res->tee = res->verification.tee;
	res->tcb_status = res->verification.status;
	res->simulated = res->verification.simulated;
	if (!res->verification.accepted) {
		res->verdict = COCOON_VERDICT_REJECT;
		res->failed_check = res->verification.failed_check;
		snprintf(res->reason, sizeof(res->reason), "%s", res->verification.reason);
		return 0;
	}
	if ((err = check_bindings(j)) != 0)
		return err > 0 ? 0 : err;
	return build_claims(j);
}

int cocoon_attest_appraise(cocoon_attest_result **out, cocoon_verifier *v, const cocoon_attest_input *in,
                           const cocoon_attest_options *opts)
{
	static const cocoon_attest_options defaults = COCOON_ATTEST_OPTIONS_INIT;
	job j = { 0 };
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_attest_appraise: out is NULL");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (!in || in->version != COCOON_ATTEST_INPUT_VERSION || opts->version != COCOON_ATTEST_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_attest_appraise: input (version %d) and options (version "
		                        "%d) are required", COCOON_ATTEST_INPUT_VERSION, COCOON_ATTEST_OPTIONS_VERSION);
	if (opts->sim_verifier && !opts->sim_collateral)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_attest_appraise: sim_verifier needs sim_collateral");
	if (!(j.res = calloc(1, sizeof(*j.res))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	j.v = v;
	j.in = in;
	j.o = opts;
	err = run(&j);
	if (!err && j.res->verdict != COCOON_VERDICT_ACCEPT) {
		/* No claims leave a rejected or denied appraisal. */
		json_decref(j.res->claims);
		j.res->claims = NULL;
	}
	attest_evidence_free(&j.ev);
	if (err) {
		cocoon_attest_result_free(j.res);
		return err;
	}
	*out = j.res;
	return 0;
}

int cocoon_attest_result_to_json(char **out, const cocoon_attest_result *r)
{
	json_t *o = NULL;
	int bad = 0, err;

	*out = NULL;
	if ((err = cocoon_result_json_object(&o, &r->verification)) != 0)
		return err;
	if (json_object_set_new(o, "verdict", json_string(cocoon_verdict_name(r->verdict))) < 0 ||
	    json_object_set_new(o, "format", json_string(cocoon_attest_format_name(r->format))) < 0 ||
	    json_object_set_new(o, "maa_claims", r->claims ? json_deep_copy(r->claims) : json_null()) < 0)
		bad = 1;
	if (r->verdict != COCOON_VERDICT_ACCEPT) {
		if (json_object_set_new(o, "failed_check", json_string(cocoon_check_name(r->failed_check))) < 0 ||
		    json_object_set_new(o, "reason", json_string(r->reason)) < 0)
			bad = 1;
	}
	if (bad || !(*out = json_dumps(o, JSON_COMPACT)))
		err = cocoon_error_set(COCOON_ENOMEM, "result: out of memory");
	json_decref(o);
	return err;
}
