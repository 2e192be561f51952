/*
 * Azure vTPM evidence verification, layer by layer, each with its own check:
 *
 *   HCL report     magic, sizes, report type (and = the format), hash type
 *   binding        hash(runtime claims) = the HCL hardware report's REPORT_DATA
 *   runtime claims HCLAkPub -> the AK; vm-configuration, user-data
 *   TPM quote      structure, AK signature, extraData = nonce, PCR selection, digest
 *   user-data      = nonce, zero-padded (v2 evidence, as Trustee; or on request)
 *   hardware       SNP: the existing SNP verifier (VCEK from the evidence, VMPL 0);
 *                  TDX: TDREPORT = TD quote body, then the DCAP verifier
 *
 * The cheap vTPM layers run first, so a rejection costs at most one RSA
 * verification before the hardware report's chain work.
 */
#include <stdio.h>
#include <string.h>
#include "dcap/verifier.h"
#include "vtpm/vtpm_int.h"

static int reject(cocoon_result *r, const cocoon_failure *f)
{
	r->accepted = 0;
	r->status = COCOON_TCB_UNKNOWN;
	r->failed_check = f->check;
	snprintf(r->reason, sizeof(r->reason), "%s", f->reason);
	return 0;
}

static int check_args(const cocoon_vtpm_inputs *in, const cocoon_verify_options *opts)
{
	if (in->version != COCOON_VTPM_INPUTS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "vTPM inputs version %u, expected %u (use COCOON_VTPM_INPUTS_INIT)",
		                        in->version, COCOON_VTPM_INPUTS_VERSION);
	if (opts && opts->version != COCOON_VERIFY_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "verify options version %u, expected %u", opts->version,
		                        COCOON_VERIFY_OPTIONS_VERSION);
	if (in->nonce_len > 64 || (in->nonce_len && !in->nonce))
		return cocoon_error_set(COCOON_EINVAL, "vTPM nonce: %zu bytes, expected 1..64 (TPM2B_DATA)",
		                        in->nonce_len);
	return 0;
}

static int check_user_data(cocoon_failure *f, const cocoon_runtime_claims *rc, const cocoon_vtpm_inputs *in)
{
	if (!rc->has_user_data)
		return cocoon_fail(f, COCOON_CHECK_VTPM_USER_DATA,
		                   "HCL runtime claims carry no user-data, but this evidence must bind the nonce there "
		                   "(v2 evidence)");
	if (rc->user_data_len < in->nonce_len || cocoon_memcmp_ct(rc->user_data, in->nonce, in->nonce_len) != 0)
		return cocoon_fail(f, COCOON_CHECK_VTPM_USER_DATA,
		                   "HCL runtime claims user-data (%zu bytes) does not start with the %zu-byte nonce: the "
		                   "hardware report was not made for this request",
		                   rc->user_data_len, in->nonce_len);
	if (!cocoon_is_zero(rc->user_data + in->nonce_len, rc->user_data_len - in->nonce_len))
		return cocoon_fail(f, COCOON_CHECK_VTPM_USER_DATA,
		                   "HCL runtime claims user-data has non-zero bytes after the %zu-byte nonce",
		                   in->nonce_len);
	return 0;
}

static void claims_from_runtime(cocoon_vtpm_claims *c, const cocoon_runtime_claims *rc)
{
	c->secure_boot = rc->secure_boot;
	c->tpm_enabled = rc->tpm_enabled;
	c->console_enabled = rc->console_enabled;
	c->tpm_persisted = rc->tpm_persisted;
	memcpy(c->vm_unique_id, rc->vm_unique_id, sizeof(c->vm_unique_id));
	memcpy(c->ak_pub_sha256, rc->ak_spki_sha256, 32);
	c->has_user_data = rc->has_user_data;
	memcpy(c->user_data, rc->user_data, sizeof(c->user_data));
	c->user_data_len = rc->user_data_len;
}

/* Everything up to the hardware report; *h is set once the HCL report parsed. */
static int verify_layers(cocoon_failure *f, cocoon_vtpm_claims *c, cocoon_hcl_report *h,
                         const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in)
{
	cocoon_runtime_claims rc;
	uint32_t want = ev->format == COCOON_VTPM_FORMAT_AZ_SNP ? COCOON_HCL_REPORT_TYPE_SNP : COCOON_HCL_REPORT_TYPE_TDX;
	int err;

	if (!in->nonce_len)
		return cocoon_fail(f, COCOON_CHECK_VTPM_NONCE,
		                   "no expected nonce was given: without it the TPM quote proves no freshness; pass the "
		                   "nonce (for a KBS, the runtime-data hash) that the guest quoted");
	if ((err = cocoon_hcl_parse(h, f, ev->hcl_report, ev->hcl_report_len)) != 0)
		return err;
	c->hcl_header_version = h->header_version;
	c->hash_type = h->hash_type;
	if (h->report_type != want)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_TYPE,
		                   "HCL report type (offset 0x4C8) is %u (%s), but the evidence format %s needs %u",
		                   h->report_type, h->report_type == COCOON_HCL_REPORT_TYPE_SNP ? "SEV-SNP" : "TDX",
		                   cocoon_vtpm_format_name(ev->format), want);
	if ((err = cocoon_hcl_check_binding(f, h, cocoon_hcl_report_data(h),
	                                    h->report_type == COCOON_HCL_REPORT_TYPE_SNP ? "SNP report"
	                                                                                  : "TDREPORT")) != 0)
		return err;
	if ((err = cocoon_runtime_claims_parse(&rc, f, h->var_data, h->var_data_len)) != 0)
		return err;
	claims_from_runtime(c, &rc);
	err = cocoon_tpm_quote_verify(f, c, rc.ak, ev, in->nonce, in->nonce_len);
	c->user_data_checked = in->check_user_data < 0 ? ev->version >= 2 : in->check_user_data != 0;
	if (err == 0 && c->user_data_checked)
		err = check_user_data(f, &rc, in);
	cocoon_runtime_claims_clear(&rc);
	return err;
}

static int verify_snp(cocoon_result *result, cocoon_verifier *v, const cocoon_hcl_report *h,
                      const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in, const cocoon_verify_options *o)
{
	cocoon_snp_inputs sin = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;
	int err;

	/* The HCL runs the guest at VMPL 0 and sits below it; any other VMPL is not this design. */
	policy.vmpl = 0;
	sin.vcek = ev->vcek;
	sin.vcek_len = ev->vcek_len;
	sin.chain = in->amd_chain;
	sin.chain_len = in->amd_chain_len;
	sin.crl = in->amd_crl;
	sin.crl_len = in->amd_crl_len;
	if ((err = cocoon_verifier_verify_snp(result, v, h->hw_report, COCOON_SNP_REPORT_SIZE, &sin,
	                                      in->snp_policy ? in->snp_policy : &policy, o)) != 0)
		return err;
	if (!result->accepted && result->failed_check == COCOON_CHECK_SNP_VCEK_CHAIN && !ev->vcek)
		snprintf(result->reason, sizeof(result->reason), "the evidence carries no VCEK (\"vcek\")");
	return 0;
}

int cocoon_verifier_verify_vtpm(cocoon_result *result, cocoon_vtpm_claims *claims, cocoon_verifier *v,
                                const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in,
                                const cocoon_verify_options *opts)
{
	static const cocoon_vtpm_inputs defaults = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_vtpm_claims local;
	cocoon_failure f = { 0 };
	cocoon_hcl_report h;
	int err, hw = 0;

	if (!result || !ev)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_verify_vtpm: NULL argument");
	if (!in)
		in = &defaults;
	if ((err = check_args(in, opts)) != 0)
		return err;
	if (opts)
		o = *opts;
	o.at = o.at ? o.at : time(NULL);
	if (!claims)
		claims = &local;
	memset(result, 0, sizeof(*result));
	memset(claims, 0, sizeof(*claims));
	result->tee = ev->format == COCOON_VTPM_FORMAT_AZ_SNP ? COCOON_TEE_SNP : COCOON_TEE_TDX;
	result->verified_at = o.at;
	result->simulated = v ? v->trust_simulation : 0;
	claims->format = ev->format;
	claims->evidence_version = ev->version;

	if ((err = verify_layers(&f, claims, &h, ev, in)) != 0)
		return err == COCOON_EREJECT ? reject(result, &f) : err;
	if (ev->format == COCOON_VTPM_FORMAT_AZ_SNP)
		err = verify_snp(result, v, &h, ev, in, &o);
	else
		err = cocoon_vtpm_verify_tdx(result, v, &h, ev, in, &o, &hw);
	if (err != 0)
		return err;
	claims->hw_verified = ev->format == COCOON_VTPM_FORMAT_AZ_SNP ? result->accepted : hw;
	return 0;
}

int cocoon_verifier_verify_vtpm_json(cocoon_result *result, cocoon_vtpm_claims *claims, cocoon_verifier *v,
                                     cocoon_vtpm_format format, const char *json, size_t len,
                                     const cocoon_vtpm_inputs *in, const cocoon_verify_options *opts)
{
	cocoon_vtpm_evidence *ev = NULL;
	cocoon_failure f = { 0 };
	int err;

	if (!result)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_verify_vtpm_json: NULL argument");
	err = cocoon_vtpm_evidence_parse(&ev, format, json, len);
	if (err == COCOON_EFORMAT) {
		memset(result, 0, sizeof(*result));
		if (claims) {
			memset(claims, 0, sizeof(*claims));
			claims->format = format;
		}
		result->tee = format == COCOON_VTPM_FORMAT_AZ_SNP ? COCOON_TEE_SNP : COCOON_TEE_TDX;
		result->verified_at = opts && opts->at ? opts->at : time(NULL);
		cocoon_fail(&f, COCOON_CHECK_VTPM_EVIDENCE_FORMAT, "%s", cocoon_error_last()->message);
		return reject(result, &f);
	}
	if (err != 0)
		return err;
	err = cocoon_verifier_verify_vtpm(result, claims, v, ev, in, opts);
	cocoon_vtpm_evidence_free(ev);
	return err;
}
