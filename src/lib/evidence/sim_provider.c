/*
 * The sim provider: evidence from the simulated TEE of `cocoon sim init DIR`
 * (ctx->sim_dir), in the formats the hardware produces: a v3 SGX quote or a
 * v4 TD quote signed by the simulated QE, or a v3 SNP report signed by the
 * simulated VCEK with its certificate table. ctx->tee picks which (default
 * SGX). It is never auto-selected: simulated evidence is asked for by name.
 *
 * The simulated workload has fixed, documented measurements (docs/cli.md)
 * so that callers can write a policy for it: MRENCLAVE and SNP MEASUREMENT
 * / MRTD are SHA-256 and SHA-384 of SIM_WORKLOAD, MRSIGNER is SHA-256 of
 * SIM_SIGNER.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "evidence/provider.h"
#include "sim/dcap_sim.h"
#include "sim/sim_dir.h"
#include "sim/snp_sim.h"

#define SIM_WORKLOAD "cocoon simulated workload"
#define SIM_SIGNER "cocoon simulated signer"

/* What the provider makes when no TEE is asked for. */
static cocoon_tee sim_tee(const cocoon_evidence_ctx *c)
{
	return c->tee == COCOON_TEE_UNKNOWN ? COCOON_TEE_SGX : c->tee;
}

static int sha384_text(uint8_t out[48], const char *text)
{
	unsigned int n = 0;
	if (EVP_Digest(text, strlen(text), out, &n, EVP_sha384(), NULL) != 1 || n != 48)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim: SHA-384 failed");
	return 0;
}

static int sha256_text(uint8_t out[32], const char *text)
{
	const void *parts[1] = { text };
	size_t lens[1] = { strlen(text) };
	return cocoon_sha256(out, 1, parts, lens);
}

static int sim_dcap(cocoon_evidence *out, const cocoon_evidence_ctx *c, int tdx)
{
	cocoon_sim_quote_params qp;
	cocoon_sim_pki *pki = NULL;
	int err;

	if ((err = cocoon_sim_pki_load(&pki, c->sim_dir)) != 0)
		goto done;
	cocoon_sim_quote_params_init(&qp, tdx ? 4 : 3, tdx ? 2 : 1);
	memcpy(qp.report_data, c->report_data, 64);
	if (c->sim_init_digest)
		cocoon_kbs_init_data_regularize(tdx ? qp.mr_config_id : qp.config_id, tdx ? 48 : 64, c->sim_init_digest,
		                                c->sim_init_digest_len);
	if (tdx) {
		err = sha384_text(qp.mr_td, SIM_WORKLOAD);
	} else {
		qp.isv_prod_id = 1;
		qp.isv_svn = 1;
		if ((err = sha256_text(qp.mr_enclave, SIM_WORKLOAD)) == 0)
			err = sha256_text(qp.mr_signer, SIM_SIGNER);
	}
	if (err != 0 || (err = cocoon_sim_quote(&out->evidence, &out->evidence_len, pki, &qp)) != 0)
		goto done;
	out->tee = tdx ? COCOON_TEE_TDX : COCOON_TEE_SGX;
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
done:
	cocoon_sim_pki_free(pki);
	return err;
}

static int sim_snp(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	cocoon_sim_snp_report_params q;
	cocoon_sim_snp_pki *pki = NULL;
	int err;

	if ((err = cocoon_sim_snp_pki_load(&pki, c->sim_dir)) != 0 ||
	    (err = cocoon_sim_snp_report_params_init(&q, pki, 3)) != 0)
		goto done;
	memcpy(q.report_data, c->report_data, 64);
	if (c->sim_init_digest)
		cocoon_kbs_init_data_regularize(q.host_data, 32, c->sim_init_digest, c->sim_init_digest_len);
	q.vmpl = c->snp_vmpl == COCOON_EVIDENCE_VMPL_DEFAULT ? 0 : (uint32_t)c->snp_vmpl;
	if ((err = sha384_text(q.measurement, SIM_WORKLOAD)) != 0)
		goto done;
	if (!(out->evidence = malloc(COCOON_SNP_REPORT_SIZE))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim: out of memory for an SNP report");
		goto done;
	}
	out->evidence_len = COCOON_SNP_REPORT_SIZE;
	if ((err = cocoon_sim_snp_report(out->evidence, pki, &q)) != 0)
		goto done;
	/* As sev-guest with no_aux: the plain report, no certificate table. */
	if (!c->no_aux && (err = cocoon_sim_snp_certtable(&out->aux, &out->aux_len, pki)) != 0)
		goto done;
	out->tee = COCOON_TEE_SNP;
	out->format = COCOON_EVIDENCE_SNP_REPORT;
done:
	cocoon_sim_snp_pki_free(pki);
	return err;
}

static int sim_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	cocoon_tee tee = sim_tee(c);
	int err;

	if (!c->sim_dir || !*c->sim_dir)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim: no simulation directory; pass --sim DIR (made by 'cocoon sim init DIR'), "
		                        "or sim_dir in the options");
	if (tee == COCOON_TEE_SNP)
		err = sim_snp(out, c);
	else
		err = sim_dcap(out, c, tee == COCOON_TEE_TDX);
	if (err == 0)
		err = ev_check_binding("sim", out->format, tee, out->evidence, out->evidence_len, c->report_data);
	if (err != 0) {
		cocoon_evidence_free(out);
		return ev_error_prefix(err, "sim: ");
	}
	return 0;
}

static void sim_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	struct stat st;
	char *meta;
	int e = 0;

	out->tee = sim_tee(c);
	out->format = out->tee == COCOON_TEE_SNP ? COCOON_EVIDENCE_SNP_REPORT : COCOON_EVIDENCE_DCAP_QUOTE;
	if (!c->sim_dir || !*c->sim_dir) {
		out->state = COCOON_PROBE_UNUSABLE;
		ev_detail(out, "no simulation directory (--sim DIR, made by 'cocoon sim init'); never auto-selected");
		return;
	}
	/* A plain stat, not ctx->sys: the directory is ordinary files that the
	 * simulator reads with stdio, not a platform interface. */
	if (!(meta = cocoon_sim_path(c->sim_dir, "sim.json")) || stat(meta, &st) != 0)
		e = meta ? errno : ENOMEM;
	if (e != 0) {
		out->state = e == ENOENT || e == ENOTDIR ? COCOON_PROBE_ABSENT : COCOON_PROBE_UNUSABLE;
		ev_detail(out, "%s/sim.json: %s (%s); not a 'cocoon sim init' directory", c->sim_dir, strerror(e),
		          ev_errname(-e));
	} else {
		out->state = COCOON_PROBE_AVAILABLE;
		ev_detail(out, "simulation directory %s: sgx and tdx quotes, snp reports (--tee; default sgx); never "
		          "auto-selected",
		          c->sim_dir);
	}
	free(meta);
}

const cocoon_evidence_provider cocoon_evidence_provider_sim = {
	"sim", 0, sim_probe, sim_collect,
};
