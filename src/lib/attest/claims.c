/*
 * MAA's claim names and types per TEE, filled from verified evidence only.
 * Sources: claim-sets.md, attestation-token-examples.md and the TDX EAT
 * profile (shared/reference/relying-party.md §1.3). Every claim is set
 * through an accumulator: a claim that cannot be built fails the whole
 * set, so a policy never sees a set with a claim silently missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/token.h"
#include "dcap/collateral.h"
#include "attest_int.h"

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

static void set_hex(int *bad, json_t *o, const char *name, const uint8_t *p, size_t n)
{
	char buf[257];
	if (n > 128) {
		*bad = 1;
		return;
	}
	cocoon_hex_encode(buf, p, n);
	set(bad, o, name, json_string(buf));
}

static void set_sha256_hex(int *bad, json_t *o, const char *name, const void *p, size_t n)
{
	uint8_t d[32];
	const void *parts[1] = { p };
	size_t lens[1] = { n };
	if (cocoon_sha256(d, 1, parts, lens) != 0)
		*bad = 1;
	else
		set_hex(bad, o, name, d, 32);
}

/* SHA-256 of each collateral part, so a relying party can tell which collateral judged the quote. */
static json_t *sgx_collateral(int *bad, const attest_claims_in *in)
{
	const cocoon_collateral *coll = in->coll;
	json_t *col = json_object();
	if (!col) {
		*bad = 1;
		return NULL;
	}
	set_sha256_hex(bad, col, "qeidcertshash", coll->qe_identity_issuer_chain, coll->qe_identity_issuer_chain_len);
	set_sha256_hex(bad, col, "qeidcrlhash", coll->root_ca_crl, coll->root_ca_crl_len);
	set_sha256_hex(bad, col, "qeidhash", coll->qe_identity, coll->qe_identity_len);
	set_sha256_hex(bad, col, "quotehash", in->evidence, in->evidence_len);
	set_sha256_hex(bad, col, "tcbinfocertshash", coll->tcb_info_issuer_chain, coll->tcb_info_issuer_chain_len);
	set_sha256_hex(bad, col, "tcbinfocrlhash", coll->pck_crl, coll->pck_crl_len);
	set_sha256_hex(bad, col, "tcbinfohash", coll->tcb_info, coll->tcb_info_len);
	return col;
}

static void claims_sgx(int *bad, json_t *c, const attest_claims_in *in)
{
	const cocoon_sgx_claims *s = &in->r->sgx;
	char *ehd = NULL;

	set(bad, c, "x-ms-attestation-type", json_string("sgx"));
	set(bad, c, "x-ms-sgx-is-debuggable", json_boolean(s->debug));
	set(bad, c, "x-ms-sgx-product-id", json_integer(s->isv_prod_id));
	set(bad, c, "x-ms-sgx-svn", json_integer(s->isv_svn));
	set_hex(bad, c, "x-ms-sgx-mrsigner", s->mrsigner, 32);
	set_hex(bad, c, "x-ms-sgx-mrenclave", s->mrenclave, 32);
	set_hex(bad, c, "x-ms-sgx-report-data", s->report_data, 64);
	if (in->runtime_data) {
		if (cocoon_b64url_encode(&ehd, in->runtime_data, in->runtime_data_len) != 0)
			*bad = 1;
		else
			set(bad, c, "x-ms-sgx-ehd", json_string(ehd));
		free(ehd);
	}
	/* KSS fields appear when the enclave uses them. */
	if (!cocoon_is_zero(s->config_id, 64) || s->config_svn) {
		set_hex(bad, c, "x-ms-sgx-config-id", s->config_id, 64);
		set(bad, c, "x-ms-sgx-config-svn", json_integer(s->config_svn));
	}
	if (in->coll)
		set(bad, c, "x-ms-sgx-collateral", sgx_collateral(bad, in));
}

static void claims_tdx(int *bad, json_t *c, const cocoon_result *r)
{
	const cocoon_tdx_claims *t = &r->tdx;
	uint64_t attr = 0;
	char name[16];

	for (int i = 7; i >= 0; i--)
		attr = (attr << 8) | t->td_attributes[i];
	set(bad, c, "x-ms-attestation-type", json_string("tdxvm"));
	set(bad, c, "eat_profile", json_string("https://aka.ms/maa-eat-profile-tdxvm"));
	set(bad, c, "intuse", json_string("generic"));
	set(bad, c, "dbgstat", json_string(t->debug ? "enabled" : "disabled-since-boot"));
	set(bad, c, "attester_tcb_status", json_string(cocoon_tcb_status_name(r->status)));
	set_hex(bad, c, "tdx_mrseam", t->mr_seam, 48);
	set_hex(bad, c, "tdx_mrsignerseam", t->mr_signer_seam, 48);
	set_hex(bad, c, "tdx_mrtd", t->mrtd, 48);
	set_hex(bad, c, "tdx_mrconfigid", t->mr_config_id, 48);
	set_hex(bad, c, "tdx_mrowner", t->mr_owner, 48);
	set_hex(bad, c, "tdx_mrownerconfig", t->mr_owner_config, 48);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "tdx_rtmr%d", i);
		set_hex(bad, c, name, t->rtmr[i], 48);
	}
	set_hex(bad, c, "tdx_report_data", t->report_data, 64);
	set_hex(bad, c, "tdx_td_attributes", t->td_attributes, 8);
	set(bad, c, "tdx_td_attributes_debug", json_boolean(attr & 1));
	set(bad, c, "tdx_td_attributes_septve_disable", json_boolean((attr >> 28) & 1));
	set(bad, c, "tdx_td_attributes_protection_keys", json_boolean((attr >> 30) & 1));
	set(bad, c, "tdx_td_attributes_key_locker", json_boolean((attr >> 31) & 1));
	set(bad, c, "tdx_td_attributes_perfmon", json_boolean((attr >> 63) & 1));
	set_hex(bad, c, "tdx_tee_tcb_svn", t->tee_tcb_svn, 16);
	set_hex(bad, c, "tdx_xfam", t->xfam, 8);
	/* SEAM module SVN: TEE_TCB_SVN bytes 0 (minor) and 1 (major). */
	set(bad, c, "tdx_seamsvn", json_integer(t->tee_tcb_svn[0] | (t->tee_tcb_svn[1] << 8)));
}

static void claims_snp(int *bad, json_t *c, const cocoon_result *r)
{
	const cocoon_snp_claims *s = &r->snp;
	const cocoon_snp_tcb *tcb = &s->reported_tcb;

	set(bad, c, "x-ms-attestation-type", json_string("sevsnpvm"));
	set_hex(bad, c, "x-ms-sevsnpvm-authorkeydigest", s->author_key_digest, 48);
	set(bad, c, "x-ms-sevsnpvm-bootloader-svn", json_integer(tcb->bl_spl));
	set_hex(bad, c, "x-ms-sevsnpvm-familyId", s->family_id, 16);
	set(bad, c, "x-ms-sevsnpvm-guestsvn", json_integer(s->guest_svn));
	set_hex(bad, c, "x-ms-sevsnpvm-hostdata", s->host_data, 32);
	set_hex(bad, c, "x-ms-sevsnpvm-idkeydigest", s->id_key_digest, 48);
	set_hex(bad, c, "x-ms-sevsnpvm-imageId", s->image_id, 16);
	set(bad, c, "x-ms-sevsnpvm-is-debuggable", json_boolean(s->debug));
	set_hex(bad, c, "x-ms-sevsnpvm-launchmeasurement", s->measurement, 48);
	set(bad, c, "x-ms-sevsnpvm-microcode-svn", json_integer(tcb->ucode_spl));
	set(bad, c, "x-ms-sevsnpvm-migration-allowed", json_boolean((s->policy >> 18) & 1));
	set_hex(bad, c, "x-ms-sevsnpvm-reportdata", s->report_data, 64);
	set_hex(bad, c, "x-ms-sevsnpvm-reportid", s->report_id, 32);
	set(bad, c, "x-ms-sevsnpvm-smt-allowed", json_boolean((s->policy >> 16) & 1));
	set(bad, c, "x-ms-sevsnpvm-snpfw-svn", json_integer(tcb->snp_spl));
	set(bad, c, "x-ms-sevsnpvm-tee-svn", json_integer(tcb->tee_spl));
	set(bad, c, "x-ms-sevsnpvm-vmpl", json_integer(s->vmpl));
}

int attest_claims_maa(json_t *c, const attest_claims_in *in)
{
	int bad = 0;

	set(&bad, c, "x-ms-ver", json_string("1.0"));
	switch (in->r->tee) {
	case COCOON_TEE_SGX: claims_sgx(&bad, c, in); break;
	case COCOON_TEE_TDX: claims_tdx(&bad, c, in->r); break;
	case COCOON_TEE_SNP: claims_snp(&bad, c, in->r); break;
	default: return cocoon_error_set(COCOON_EINVAL, "claims: unknown TEE");
	}
	if (bad)
		return cocoon_error_set(COCOON_ENOMEM, "claims: out of memory");
	return 0;
}
