/* cocoon verify: evidence + collateral -> verdict, status and claims. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "cocoon/cocoon.h"
#include "common/util.h"
#include "cli.h"
#include "render.h"

static const char verify_usage[] =
	"usage: cocoon verify --evidence FILE [collateral] [options]\n"
	"\n"
	"DCAP collateral, one of:\n"
	"  --collateral FILE       JSON in the vectors' layout (hex DER CRLs, PEM chains, signed JSON)\n"
	"  --collateral DIR        Intel PCS/PCCS v4 responses saved as files:\n"
	"                          tcb_info.json, qe_identity.json, tcb_info_issuer_chain.pem,\n"
	"                          [qe_identity_issuer_chain.pem], pck_crl.{der,pem},\n"
	"                          pck_crl_issuer_chain.pem, root_ca_crl.{der,pem}\n"
	"  --tcb-info FILE --tcb-info-issuer-chain FILE --qe-identity FILE\n"
	"  [--qe-identity-issuer-chain FILE] --pck-crl FILE --pck-crl-issuer-chain FILE\n"
	"  --root-ca-crl FILE      the same PCS responses named one by one\n"
	"\n"
	"options:\n"
	"  --at TIME               verification time, RFC 3339 or Unix seconds (default: now)\n"
	"  --root FILE             trusted Intel SGX Root CA, DER or PEM (default: built in)\n"
	"  --allow-expired-collateral  report expired collateral instead of rejecting\n"
	"  --allow-debug           accept debug enclaves and TDs\n"
	"  --allow-td-reserved-bits, --allow-missing-sept-ve-disable, --allow-service-td\n"
	"                          relax the TD attribute appraisal\n"
	"  --json                  print one JSON object\n"
	"\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error.\n";

enum {
	OPT_EVIDENCE = 256, OPT_COLLATERAL, OPT_AT, OPT_ROOT, OPT_ALLOW_EXPIRED, OPT_ALLOW_DEBUG,
	OPT_ALLOW_TD_RESERVED, OPT_ALLOW_NO_SEPT, OPT_ALLOW_SERVICE_TD, OPT_JSON, OPT_HELP,
	OPT_TCB_INFO, OPT_TCB_CHAIN, OPT_QE_ID, OPT_QE_CHAIN, OPT_PCK_CRL, OPT_PCK_CRL_CHAIN, OPT_ROOT_CRL
};

static const struct option verify_options[] = {
	{ "evidence", required_argument, NULL, OPT_EVIDENCE },
	{ "collateral", required_argument, NULL, OPT_COLLATERAL },
	{ "at", required_argument, NULL, OPT_AT },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "allow-expired-collateral", no_argument, NULL, OPT_ALLOW_EXPIRED },
	{ "allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG },
	{ "allow-td-reserved-bits", no_argument, NULL, OPT_ALLOW_TD_RESERVED },
	{ "allow-missing-sept-ve-disable", no_argument, NULL, OPT_ALLOW_NO_SEPT },
	{ "allow-service-td", no_argument, NULL, OPT_ALLOW_SERVICE_TD },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "tcb-info", required_argument, NULL, OPT_TCB_INFO },
	{ "tcb-info-issuer-chain", required_argument, NULL, OPT_TCB_CHAIN },
	{ "qe-identity", required_argument, NULL, OPT_QE_ID },
	{ "qe-identity-issuer-chain", required_argument, NULL, OPT_QE_CHAIN },
	{ "pck-crl", required_argument, NULL, OPT_PCK_CRL },
	{ "pck-crl-issuer-chain", required_argument, NULL, OPT_PCK_CRL_CHAIN },
	{ "root-ca-crl", required_argument, NULL, OPT_ROOT_CRL },
	{ NULL, 0, NULL, 0 }
};

/* The PCS file set: paths, then their contents. */
enum { PCS_TCB_INFO, PCS_TCB_CHAIN, PCS_QE_ID, PCS_QE_CHAIN, PCS_PCK_CRL, PCS_PCK_CRL_CHAIN, PCS_ROOT_CRL, PCS__N };
static const char *const pcs_flag[PCS__N] = { "--tcb-info", "--tcb-info-issuer-chain", "--qe-identity",
	                                      "--qe-identity-issuer-chain", "--pck-crl", "--pck-crl-issuer-chain",
	                                      "--root-ca-crl" };

typedef struct {
	const char *path[PCS__N];
	char *owned[PCS__N];
	uint8_t *data[PCS__N];
	size_t len[PCS__N];
} pcs_files;

static void pcs_files_free(pcs_files *p)
{
	for (int i = 0; i < PCS__N; i++) {
		free(p->owned[i]);
		free(p->data[i]);
	}
}

/* Fills unset paths from a directory of PCS responses. */
static int pcs_from_dir(pcs_files *p, const char *dir)
{
	static const char *const names[PCS__N][2] = {
		{ "tcb_info.json", NULL },        { "tcb_info_issuer_chain.pem", NULL },
		{ "qe_identity.json", NULL },     { "qe_identity_issuer_chain.pem", NULL },
		{ "pck_crl.der", "pck_crl.pem" }, { "pck_crl_issuer_chain.pem", NULL },
		{ "root_ca_crl.der", "root_ca_crl.pem" },
	};
	for (int i = 0; i < PCS__N; i++) {
		for (int j = 0; j < 2 && names[i][j] && !p->path[i]; j++) {
			struct stat st;
			char *path = NULL;
			if (asprintf(&path, "%s/%s", dir, names[i][j]) < 0)
				return cocoon_cli_error("out of memory");
			if (stat(path, &st) == 0) {
				p->owned[i] = path;
				p->path[i] = path;
			} else {
				free(path);
			}
		}
	}
	return 0;
}

static int load_collateral(cocoon_collateral **out, const char *collateral, pcs_files *p)
{
	cocoon_pcs_collateral pcs = { 0 };
	struct stat st;
	int any = 0;

	if (collateral && stat(collateral, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (pcs_from_dir(p, collateral) != 0)
			return COCOON_EXIT_USAGE;
	} else if (collateral) {
		uint8_t *json = NULL;
		size_t len;
		int err;
		if (cocoon_file_read(&json, &len, collateral) != 0)
			return cocoon_cli_error("--collateral: %s", cocoon_error_last()->message);
		err = cocoon_collateral_from_json(out, (const char *)json, len);
		free(json);
		if (err)
			return cocoon_cli_error("--collateral %s: %s", collateral, cocoon_error_last()->message);
		return 0;
	}
	for (int i = 0; i < PCS__N; i++) {
		if (!p->path[i])
			continue;
		any = 1;
		if (cocoon_file_read(&p->data[i], &p->len[i], p->path[i]) != 0)
			return cocoon_cli_error("%s: %s", pcs_flag[i], cocoon_error_last()->message);
	}
	if (!any)
		return cocoon_cli_error("no collateral: pass --collateral FILE|DIR or the PCS files (see --help)");
	for (int i = 0; i < PCS__N; i++)
		if (!p->path[i] && i != PCS_QE_CHAIN)
			return cocoon_cli_error("collateral is incomplete: %s is missing%s", pcs_flag[i],
			                        collateral ? " from the --collateral directory" : "");
	pcs.tcb_info = (const char *)p->data[PCS_TCB_INFO];
	pcs.tcb_info_len = p->len[PCS_TCB_INFO];
	pcs.tcb_info_issuer_chain = (const char *)p->data[PCS_TCB_CHAIN];
	pcs.tcb_info_issuer_chain_len = p->len[PCS_TCB_CHAIN];
	pcs.qe_identity = (const char *)p->data[PCS_QE_ID];
	pcs.qe_identity_len = p->len[PCS_QE_ID];
	pcs.qe_identity_issuer_chain = (const char *)p->data[PCS_QE_CHAIN];
	pcs.qe_identity_issuer_chain_len = p->len[PCS_QE_CHAIN];
	pcs.pck_crl = p->data[PCS_PCK_CRL];
	pcs.pck_crl_len = p->len[PCS_PCK_CRL];
	pcs.pck_crl_issuer_chain = (const char *)p->data[PCS_PCK_CRL_CHAIN];
	pcs.pck_crl_issuer_chain_len = p->len[PCS_PCK_CRL_CHAIN];
	pcs.root_ca_crl = p->data[PCS_ROOT_CRL];
	pcs.root_ca_crl_len = p->len[PCS_ROOT_CRL];
	if (cocoon_collateral_from_pcs(out, &pcs) != 0)
		return cocoon_cli_error("PCS collateral: %s", cocoon_error_last()->message);
	return 0;
}

int cocoon_cmd_verify(int argc, char **argv)
{
	cocoon_verify_options vopts = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_verifier_options ropts = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_verifier *verifier = NULL;
	cocoon_collateral *coll = NULL;
	cocoon_result result;
	pcs_files pcs = { 0 };
	const char *evidence_path = NULL, *collateral_path = NULL, *root_path = NULL;
	uint8_t *evidence = NULL, *root = NULL;
	size_t evidence_len = 0, root_len = 0;
	char *json = NULL;
	int json_out = 0, c, rc = COCOON_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", verify_options, NULL)) != -1) {
		switch (c) {
		case OPT_EVIDENCE: evidence_path = optarg; break;
		case OPT_COLLATERAL: collateral_path = optarg; break;
		case OPT_AT:
			if (cocoon_time_parse(&vopts.at, optarg) != 0) {
				rc = cocoon_cli_error("--at: %s", cocoon_error_last()->message);
				goto done;
			}
			break;
		case OPT_ROOT: root_path = optarg; break;
		case OPT_ALLOW_EXPIRED: vopts.allow_expired_collateral = 1; break;
		case OPT_ALLOW_DEBUG: vopts.allow_debug = 1; break;
		case OPT_ALLOW_TD_RESERVED: vopts.allow_td_reserved_bits = 1; break;
		case OPT_ALLOW_NO_SEPT: vopts.allow_missing_sept_ve_disable = 1; break;
		case OPT_ALLOW_SERVICE_TD: vopts.allow_service_td = 1; break;
		case OPT_JSON: json_out = 1; break;
		case OPT_HELP: fputs(verify_usage, stdout); rc = 0; goto done;
		case OPT_TCB_INFO: pcs.path[PCS_TCB_INFO] = optarg; break;
		case OPT_TCB_CHAIN: pcs.path[PCS_TCB_CHAIN] = optarg; break;
		case OPT_QE_ID: pcs.path[PCS_QE_ID] = optarg; break;
		case OPT_QE_CHAIN: pcs.path[PCS_QE_CHAIN] = optarg; break;
		case OPT_PCK_CRL: pcs.path[PCS_PCK_CRL] = optarg; break;
		case OPT_PCK_CRL_CHAIN: pcs.path[PCS_PCK_CRL_CHAIN] = optarg; break;
		case OPT_ROOT_CRL: pcs.path[PCS_ROOT_CRL] = optarg; break;
		default: fputs(verify_usage, stderr); goto done;
		}
	}
	if (optind < argc) {
		rc = cocoon_cli_error("verify: unexpected argument '%s' (see --help)", argv[optind]);
		goto done;
	}
	if (!evidence_path) {
		fputs(verify_usage, stderr);
		rc = cocoon_cli_error("verify: --evidence FILE is required");
		goto done;
	}
	if (cocoon_file_read(&evidence, &evidence_len, evidence_path) != 0) {
		rc = cocoon_cli_error("--evidence: %s", cocoon_error_last()->message);
		goto done;
	}
	if (root_path) {
		if (cocoon_file_read(&root, &root_len, root_path) != 0) {
			rc = cocoon_cli_error("--root: %s", cocoon_error_last()->message);
			goto done;
		}
		ropts.intel_root_der = root;
		ropts.intel_root_der_len = root_len;
	}
	if (cocoon_verifier_new(&verifier, &ropts) != 0) {
		rc = cocoon_cli_error("%s%s", root_path ? "--root: " : "", cocoon_error_last()->message);
		goto done;
	}
	if ((rc = load_collateral(&coll, collateral_path, &pcs)) != 0)
		goto done;
	if (cocoon_verifier_verify_dcap(&result, verifier, evidence, evidence_len, coll, &vopts) != 0) {
		rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_result_to_json(&json, &result) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (json_out)
		printf("%s\n", json);
	else
		cocoon_render_text(stdout, json);
	rc = result.accepted ? COCOON_EXIT_ACCEPT : COCOON_EXIT_REJECT;
done:
	free(json);
	free(evidence);
	free(root);
	pcs_files_free(&pcs);
	cocoon_collateral_free(coll);
	cocoon_verifier_free(verifier);
	return rc;
}
