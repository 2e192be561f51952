/* cocoon verify: evidence + collateral -> verdict, status and claims. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "cocoon/cocoon.h"
#include "cocoon/sim.h"
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
	"  --trust-sim DIR         trust the simulation root in DIR (made by 'cocoon sim init'):\n"
	"                          development only; results say \"simulated\": true. Without\n"
	"                          --collateral, DIR's current collateral is used; for SNP,\n"
	"                          DIR/amd's chain, CRL and VCEK unless --chain, --crl, --vcek/--certs\n"
	"  --json                  print one JSON object\n"
	"\n"
	"AMD SEV-SNP reports (detected from the evidence):\n"
	"  --vcek FILE             VCEK or VLEK certificate (DER or PEM)\n"
	"  --certs FILE            the extended report's certificate table; the VCEK/VLEK is taken from it\n"
	"  --chain FILE            ASK+ARK (or ASVK+ARK) PEM; default: the built-in AMD roots of the product\n"
	"                          (--root FILE means the same for SNP)\n"
	"  --crl FILE              AMD KDS CRL (DER or PEM): revocation is then checked, fail-closed\n"
	"  --product NAME          Milan, Genoa or Turin (default: from the report or the VCEK)\n"
	"  --policy FILE           appraisal policy, JSON (docs/cli.md); the flags below override it\n"
	"  --allow-debug, --allow-migration-agent, --allow-provisional-firmware, --vmpl N,\n"
	"  --min-guest-svn N, --measurement HEX, --host-data HEX, --report-data HEX\n"
	"\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error.\n";

enum {
	OPT_EVIDENCE = 256, OPT_COLLATERAL, OPT_AT, OPT_ROOT, OPT_ALLOW_EXPIRED, OPT_ALLOW_DEBUG,
	OPT_ALLOW_TD_RESERVED, OPT_ALLOW_NO_SEPT, OPT_ALLOW_SERVICE_TD, OPT_JSON, OPT_HELP,
	OPT_TCB_INFO, OPT_TCB_CHAIN, OPT_QE_ID, OPT_QE_CHAIN, OPT_PCK_CRL, OPT_PCK_CRL_CHAIN, OPT_ROOT_CRL,
	OPT_TRUST_SIM, OPT_VCEK, OPT_CERTS, OPT_CHAIN, OPT_CRL, OPT_PRODUCT, OPT_POLICY, OPT_ALLOW_MA,
	OPT_ALLOW_PROVISIONAL, OPT_VMPL, OPT_MIN_GUEST_SVN, OPT_MEASUREMENT, OPT_HOST_DATA, OPT_REPORT_DATA
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
	{ "trust-sim", required_argument, NULL, OPT_TRUST_SIM },
	{ "vcek", required_argument, NULL, OPT_VCEK },
	{ "certs", required_argument, NULL, OPT_CERTS },
	{ "chain", required_argument, NULL, OPT_CHAIN },
	{ "crl", required_argument, NULL, OPT_CRL },
	{ "product", required_argument, NULL, OPT_PRODUCT },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "allow-migration-agent", no_argument, NULL, OPT_ALLOW_MA },
	{ "allow-provisional-firmware", no_argument, NULL, OPT_ALLOW_PROVISIONAL },
	{ "vmpl", required_argument, NULL, OPT_VMPL },
	{ "min-guest-svn", required_argument, NULL, OPT_MIN_GUEST_SVN },
	{ "measurement", required_argument, NULL, OPT_MEASUREMENT },
	{ "host-data", required_argument, NULL, OPT_HOST_DATA },
	{ "report-data", required_argument, NULL, OPT_REPORT_DATA },
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

/* SNP inputs and appraisal flags, applied over the policy file. */
typedef struct {
	const char *path[4]; /* vcek, certs, chain, crl */
	uint8_t *data[4];
	size_t len[4];
	const char *product, *policy;
	int allow_ma, allow_provisional, vmpl_set, vmpl;
	long min_guest_svn;
	const char *measurement, *host_data, *report_data;
} snp_args;

static int hex_exact(uint8_t *out, size_t n, const char *flag, const char *hex)
{
	if (cocoon_hex_decode(out, n, hex, strlen(hex)) != 0)
		return cocoon_cli_error("%s: expected %zu bytes of hex (%zu characters)", flag, n, 2 * n);
	return 0;
}

static int verify_snp(cocoon_result *result, cocoon_verifier *verifier, const uint8_t *evidence, size_t len,
                      snp_args *a, const cocoon_verify_options *vopts, int allow_debug)
{
	static const char *const flags[4] = { "--vcek", "--certs", "--chain", "--crl" };
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;

	for (int i = 0; i < 4; i++)
		if (a->path[i] && cocoon_file_read(&a->data[i], &a->len[i], a->path[i]) != 0)
			return cocoon_cli_error("%s: %s", flags[i], cocoon_error_last()->message);
	if (a->policy) {
		uint8_t *json = NULL;
		size_t jl;
		int err;
		if (cocoon_file_read(&json, &jl, a->policy) != 0)
			return cocoon_cli_error("--policy: %s", cocoon_error_last()->message);
		err = cocoon_snp_policy_from_json(&policy, (const char *)json, jl);
		free(json);
		if (err)
			return cocoon_cli_error("--policy %s: %s", a->policy, cocoon_error_last()->message);
	}
	if (allow_debug)
		policy.allow_debug = 1;
	if (a->allow_ma)
		policy.allow_migration_agent = 1;
	if (a->allow_provisional)
		policy.allow_provisional_firmware = 1;
	if (a->vmpl_set)
		policy.vmpl = a->vmpl;
	if (a->min_guest_svn >= 0)
		policy.min_guest_svn = (uint32_t)a->min_guest_svn;
	if (a->measurement) {
		if (hex_exact(policy.measurement, 48, "--measurement", a->measurement))
			return COCOON_EXIT_USAGE;
		policy.has_measurement = 1;
	}
	if (a->host_data) {
		if (hex_exact(policy.host_data, 32, "--host-data", a->host_data))
			return COCOON_EXIT_USAGE;
		policy.has_host_data = 1;
	}
	if (a->report_data) {
		if (hex_exact(policy.report_data, 64, "--report-data", a->report_data))
			return COCOON_EXIT_USAGE;
		policy.has_report_data = 1;
	}
	in.vcek = a->data[0];
	in.vcek_len = a->len[0];
	in.certs = a->data[1];
	in.certs_len = a->len[1];
	in.chain = a->data[2];
	in.chain_len = a->len[2];
	in.crl = a->data[3];
	in.crl_len = a->len[3];
	in.product = a->product;
	if (!in.vcek && !in.certs)
		return cocoon_cli_error("an SEV-SNP report needs its VCEK/VLEK: pass --vcek FILE or --certs FILE");
	if (cocoon_verifier_verify_snp(result, verifier, evidence, len, &in, &policy, vopts) != 0)
		return cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
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
	const char *evidence_path = NULL, *collateral_path = NULL, *root_path = NULL, *sim_dir = NULL;
	char *sim_root = NULL, *sim_collateral = NULL, *sim_snp[3] = { NULL, NULL, NULL };
	uint8_t *evidence = NULL, *root = NULL;
	size_t evidence_len = 0, root_len = 0;
	char *json = NULL;
	int json_out = 0, c, rc = COCOON_EXIT_USAGE, is_snp;
	snp_args snp = { .min_guest_svn = -1 };

	if (cocoon_verify_wants_ratls(argc, argv))
		return cocoon_cmd_verify_ratls(argc, argv); /* cmd_ratls.c */
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
		case OPT_TRUST_SIM: sim_dir = optarg; break;
		case OPT_VCEK: snp.path[0] = optarg; break;
		case OPT_CERTS: snp.path[1] = optarg; break;
		case OPT_CHAIN: snp.path[2] = optarg; break;
		case OPT_CRL: snp.path[3] = optarg; break;
		case OPT_PRODUCT: snp.product = optarg; break;
		case OPT_POLICY: snp.policy = optarg; break;
		case OPT_ALLOW_MA: snp.allow_ma = 1; break;
		case OPT_ALLOW_PROVISIONAL: snp.allow_provisional = 1; break;
		case OPT_VMPL:
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '3') {
				rc = cocoon_cli_error("--vmpl: expected 0..3, got '%s'", optarg);
				goto done;
			}
			snp.vmpl_set = 1;
			snp.vmpl = optarg[0] - '0';
			break;
		case OPT_MIN_GUEST_SVN: {
			char *end;
			snp.min_guest_svn = strtol(optarg, &end, 0);
			if (*end || snp.min_guest_svn < 0 || snp.min_guest_svn > 0xffffffffL) {
				rc = cocoon_cli_error("--min-guest-svn: expected 0..4294967295, got '%s'", optarg);
				goto done;
			}
			break;
		}
		case OPT_MEASUREMENT: snp.measurement = optarg; break;
		case OPT_HOST_DATA: snp.host_data = optarg; break;
		case OPT_REPORT_DATA: snp.report_data = optarg; break;
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
	is_snp = cocoon_snp_report_looks_like(evidence, evidence_len);
	if (is_snp && (collateral_path || pcs.path[PCS_TCB_INFO])) {
		rc = cocoon_cli_error("%s is an SEV-SNP report: DCAP collateral does not apply (use --vcek/--certs)",
		                      evidence_path);
		goto done;
	}
	if (is_snp && root_path && !snp.path[2])
		snp.path[2] = root_path; /* --root: the AMD roots to trust */
	if (sim_dir && !is_snp) {
		/* The simulation root replaces the Intel root: evidence must chain to it. */
		if (root_path) {
			rc = cocoon_cli_error("--trust-sim and --root are exclusive");
			goto done;
		}
		int tdx = evidence_len >= 8 && cocoon_le32(evidence + 4) == 0x81;
		if (!(sim_root = cocoon_sim_path(sim_dir, "intel/root.pem")) ||
		    !(sim_collateral = cocoon_sim_path(sim_dir, tdx ? "intel/collateral-tdx.json"
		                                                    : "intel/collateral-sgx.json"))) {
			rc = cocoon_cli_error("out of memory");
			goto done;
		}
		root_path = sim_root;
		ropts.trust_simulation = 1;
		if (!collateral_path && !pcs.path[PCS_TCB_INFO])
			collateral_path = sim_collateral;
		fprintf(stderr, "cocoon: WARNING: trusting the simulation root in %s (development only)\n", sim_dir);
	}
	if (sim_dir && is_snp) {
		/* DIR's AMD chain, VCEK and CRL stand in for what the caller did not pass. */
		static const char *const rel[3] = { "amd/vcek.pem", "amd/chain.pem", "amd/crl.der" };
		static const int slot[3] = { 0, 2, 3 };
		for (int i = 0; i < 3; i++) {
			if (snp.path[slot[i]] || (i == 0 && snp.path[1]))
				continue;
			if (!(sim_snp[i] = cocoon_sim_path(sim_dir, rel[i]))) {
				rc = cocoon_cli_error("out of memory");
				goto done;
			}
			snp.path[slot[i]] = sim_snp[i];
		}
		ropts.trust_simulation = 1;
		fprintf(stderr, "cocoon: WARNING: trusting the simulation root in %s (development only)\n", sim_dir);
	}
	if (root_path && !is_snp) {
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
	if (is_snp) {
		if ((rc = verify_snp(&result, verifier, evidence, evidence_len, &snp, &vopts, vopts.allow_debug)) != 0)
			goto done;
	} else {
		if ((rc = load_collateral(&coll, collateral_path, &pcs)) != 0)
			goto done;
		if (cocoon_verifier_verify_dcap(&result, verifier, evidence, evidence_len, coll, &vopts) != 0) {
			rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
			goto done;
		}
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
	free(sim_root);
	free(sim_collateral);
	for (int i = 0; i < 3; i++)
		free(sim_snp[i]);
	for (int i = 0; i < 4; i++)
		free(snp.data[i]);
	pcs_files_free(&pcs);
	cocoon_collateral_free(coll);
	cocoon_verifier_free(verifier);
	return rc;
}
