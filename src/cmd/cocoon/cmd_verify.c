/*
 * cocoon verify: flags and files in, the library's appraisal pipeline
 * (cocoon_attest_appraise) in the middle, the verdict, status and claims
 * out. Collateral files and directories become an in-memory collateral
 * source; the CLI parses no evidence itself.
 */
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
	"  --fetch-collateral[=URL] fetch missing collateral from Intel PCS / AMD KDS, or the service\n"
	"                          at URL, with --cache-dir DIR --ca-file FILE (docs/collateral.md);\n"
	"                          without it verification never touches the network\n"
	"  --json                  print one JSON object\n"
	"  --format FMT            what the evidence is: auto (default: detected), sgx, tdx, snp, oe\n"
	"                          (Open Enclave report) or maa-snp (MAA's {SnpReport, VcekCertChain})\n"
	"  --runtime-data FILE     bytes that must be bound to the evidence's report data\n"
	"  --runtime-data-hash H   how: sha256 (default), sha384, sha512 (digest zero-padded to the\n"
	"                          field), none (the bytes themselves) or maa (SHA-256 = first 32 bytes)\n"
	"  --init-data FILE        bytes that must be bound to HOST_DATA (SNP), MRCONFIGID (TDX) or\n"
	"                          CONFIGID (SGX); --init-data-hash H as above (default sha256)\n"
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
	"Azure confidential-VM evidence: --format az-snp-vtpm|az-tdx-vtpm (see --format az-snp-vtpm --help).\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error.\n";

enum {
	OPT_EVIDENCE = 256, OPT_COLLATERAL, OPT_AT, OPT_ROOT, OPT_ALLOW_EXPIRED, OPT_ALLOW_DEBUG,
	OPT_ALLOW_TD_RESERVED, OPT_ALLOW_NO_SEPT, OPT_ALLOW_SERVICE_TD, OPT_JSON, OPT_HELP,
	OPT_TCB_INFO, OPT_TCB_CHAIN, OPT_QE_ID, OPT_QE_CHAIN, OPT_PCK_CRL, OPT_PCK_CRL_CHAIN, OPT_ROOT_CRL,
	OPT_TRUST_SIM, OPT_VCEK, OPT_CERTS, OPT_CHAIN, OPT_CRL, OPT_PRODUCT, OPT_POLICY, OPT_ALLOW_MA,
	OPT_ALLOW_PROVISIONAL, OPT_VMPL, OPT_MIN_GUEST_SVN, OPT_MEASUREMENT, OPT_HOST_DATA, OPT_REPORT_DATA,
	OPT_FORMAT, OPT_RUNTIME_DATA, OPT_RUNTIME_HASH, OPT_INIT_DATA, OPT_INIT_HASH
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
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "runtime-data", required_argument, NULL, OPT_RUNTIME_DATA },
	{ "runtime-data-hash", required_argument, NULL, OPT_RUNTIME_HASH },
	{ "init-data", required_argument, NULL, OPT_INIT_DATA },
	{ "init-data-hash", required_argument, NULL, OPT_INIT_HASH },
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

/* DCAP collateral from --collateral FILE|DIR or the PCS files named one by one, into the source. */
static int load_collateral(cocoon_collateral_source *src, const char *collateral, pcs_files *p)
{
	cocoon_pcs_collateral pcs = { 0 };
	cocoon_collateral *c = NULL;
	struct stat st;
	int any = 0, err;

	for (int i = 0; i < PCS__N; i++)
		any |= p->path[i] != NULL;
	if (collateral && any)
		return cocoon_cli_error("pass either --collateral or the PCS files, not both");
	if (collateral && stat(collateral, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (cocoon_collateral_from_dir(&c, collateral) != 0)
			return cocoon_cli_error("--collateral: %s", cocoon_error_last()->message);
	} else if (collateral) {
		uint8_t *json = NULL;
		size_t len;
		if (cocoon_file_read(&json, &len, collateral) != 0)
			return cocoon_cli_error("--collateral: %s", cocoon_error_last()->message);
		err = cocoon_collateral_from_json(&c, (const char *)json, len);
		free(json);
		if (err)
			return cocoon_cli_error("--collateral %s: %s", collateral, cocoon_error_last()->message);
	} else if (any) {
		for (int i = 0; i < PCS__N; i++) {
			if (p->path[i] && cocoon_file_read(&p->data[i], &p->len[i], p->path[i]) != 0)
				return cocoon_cli_error("%s: %s", pcs_flag[i], cocoon_error_last()->message);
			if (!p->path[i] && i != PCS_QE_CHAIN)
				return cocoon_cli_error("collateral is incomplete: %s is missing", pcs_flag[i]);
		}
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
		if (cocoon_collateral_from_pcs(&c, &pcs) != 0)
			return cocoon_cli_error("PCS collateral: %s", cocoon_error_last()->message);
	} else {
		return 0; /* none: the appraisal says so, once it knows the evidence is a quote */
	}
	if (cocoon_collateral_source_add_dcap(src, c) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
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

/* SNP endorsements (into the source) and the appraisal policy (file, then flags). */
static int snp_setup(cocoon_collateral_source *src, cocoon_snp_policy *policy, snp_args *a, int allow_debug,
                     int need_vcek)
{
	static const char *const flags[4] = { "--vcek", "--certs", "--chain", "--crl" };
	cocoon_snp_collateral sc = COCOON_SNP_COLLATERAL_INIT;

	for (int i = 0; i < 4; i++)
		if (a->path[i] && cocoon_file_read(&a->data[i], &a->len[i], a->path[i]) != 0)
			return cocoon_cli_error("%s: %s", flags[i], cocoon_error_last()->message);
	if (a->policy) {
		uint8_t *json = NULL;
		size_t jl;
		int err;
		if (cocoon_file_read(&json, &jl, a->policy) != 0)
			return cocoon_cli_error("--policy: %s", cocoon_error_last()->message);
		err = cocoon_snp_policy_from_json(policy, (const char *)json, jl);
		free(json);
		if (err)
			return cocoon_cli_error("--policy %s: %s", a->policy, cocoon_error_last()->message);
	}
	if (allow_debug)
		policy->allow_debug = 1;
	if (a->allow_ma)
		policy->allow_migration_agent = 1;
	if (a->allow_provisional)
		policy->allow_provisional_firmware = 1;
	if (a->vmpl_set)
		policy->vmpl = a->vmpl;
	if (a->min_guest_svn >= 0)
		policy->min_guest_svn = (uint32_t)a->min_guest_svn;
	if (a->measurement) {
		if (hex_exact(policy->measurement, 48, "--measurement", a->measurement))
			return COCOON_EXIT_USAGE;
		policy->has_measurement = 1;
	}
	if (a->host_data) {
		if (hex_exact(policy->host_data, 32, "--host-data", a->host_data))
			return COCOON_EXIT_USAGE;
		policy->has_host_data = 1;
	}
	if (a->report_data) {
		if (hex_exact(policy->report_data, 64, "--report-data", a->report_data))
			return COCOON_EXIT_USAGE;
		policy->has_report_data = 1;
	}
	if (need_vcek && !a->data[0] && !a->data[1])
		return cocoon_cli_error("an SEV-SNP report needs its VCEK/VLEK: pass --vcek FILE or --certs FILE");
	sc.vcek = a->data[0], sc.vcek_len = a->len[0];
	sc.certs = a->data[1], sc.certs_len = a->len[1];
	sc.chain = a->data[2], sc.chain_len = a->len[2];
	sc.crl = a->data[3], sc.crl_len = a->len[3];
	sc.product = a->product;
	if (cocoon_collateral_source_set_snp(src, &sc) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	return 0;
}

/* Everything the flags say. */
typedef struct {
	const char *evidence, *collateral, *root, *sim_dir, *format, *runtime_data, *runtime_hash;
	const char *init_data, *init_hash;
	int json;
	cocoon_verify_options vo;
	pcs_files pcs;
	snp_args snp;
	int fetch;                  /* --fetch-collateral: the VCEK may come from KDS */
} verify_args;

/* 0 to go on, else the exit code. */
static int parse_flags(verify_args *a, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", verify_options, NULL)) != -1) {
		switch (c) {
		case OPT_EVIDENCE: a->evidence = optarg; break;
		case OPT_COLLATERAL: a->collateral = optarg; break;
		case OPT_AT:
			if (cocoon_time_parse(&a->vo.at, optarg) != 0)
				return cocoon_cli_error("--at: %s", cocoon_error_last()->message);
			break;
		case OPT_ROOT: a->root = optarg; break;
		case OPT_ALLOW_EXPIRED: a->vo.allow_expired_collateral = 1; break;
		case OPT_ALLOW_DEBUG: a->vo.allow_debug = 1; break;
		case OPT_ALLOW_TD_RESERVED: a->vo.allow_td_reserved_bits = 1; break;
		case OPT_ALLOW_NO_SEPT: a->vo.allow_missing_sept_ve_disable = 1; break;
		case OPT_ALLOW_SERVICE_TD: a->vo.allow_service_td = 1; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_HELP: fputs(verify_usage, stdout); return -1;
		case OPT_TCB_INFO: a->pcs.path[PCS_TCB_INFO] = optarg; break;
		case OPT_TCB_CHAIN: a->pcs.path[PCS_TCB_CHAIN] = optarg; break;
		case OPT_QE_ID: a->pcs.path[PCS_QE_ID] = optarg; break;
		case OPT_QE_CHAIN: a->pcs.path[PCS_QE_CHAIN] = optarg; break;
		case OPT_PCK_CRL: a->pcs.path[PCS_PCK_CRL] = optarg; break;
		case OPT_PCK_CRL_CHAIN: a->pcs.path[PCS_PCK_CRL_CHAIN] = optarg; break;
		case OPT_ROOT_CRL: a->pcs.path[PCS_ROOT_CRL] = optarg; break;
		case OPT_TRUST_SIM: a->sim_dir = optarg; break;
		case OPT_VCEK: a->snp.path[0] = optarg; break;
		case OPT_CERTS: a->snp.path[1] = optarg; break;
		case OPT_CHAIN: a->snp.path[2] = optarg; break;
		case OPT_CRL: a->snp.path[3] = optarg; break;
		case OPT_PRODUCT: a->snp.product = optarg; break;
		case OPT_POLICY: a->snp.policy = optarg; break;
		case OPT_ALLOW_MA: a->snp.allow_ma = 1; break;
		case OPT_ALLOW_PROVISIONAL: a->snp.allow_provisional = 1; break;
		case OPT_VMPL:
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '3')
				return cocoon_cli_error("--vmpl: expected 0..3, got '%s'", optarg);
			a->snp.vmpl_set = 1;
			a->snp.vmpl = optarg[0] - '0';
			break;
		case OPT_MIN_GUEST_SVN: {
			char *end;
			a->snp.min_guest_svn = strtol(optarg, &end, 0);
			if (*end || a->snp.min_guest_svn < 0 || a->snp.min_guest_svn > 0xffffffffL)
				return cocoon_cli_error("--min-guest-svn: expected 0..4294967295, got '%s'", optarg);
			break;
		}
		case OPT_MEASUREMENT: a->snp.measurement = optarg; break;
		case OPT_HOST_DATA: a->snp.host_data = optarg; break;
		case OPT_REPORT_DATA: a->snp.report_data = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_RUNTIME_DATA: a->runtime_data = optarg; break;
		case OPT_RUNTIME_HASH: a->runtime_hash = optarg; break;
		case OPT_INIT_DATA: a->init_data = optarg; break;
		case OPT_INIT_HASH: a->init_hash = optarg; break;
		default: fputs(verify_usage, stderr); return COCOON_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cocoon_cli_error("verify: unexpected argument '%s' (see --help)", argv[optind]);
	if (!a->evidence) {
		fputs(verify_usage, stderr);
		return cocoon_cli_error("verify: --evidence FILE is required");
	}
	return 0;
}

static int parse_hash(cocoon_bind_hash *out, const char *flag, const char *name)
{
	static const char *const names[] = { "none", "sha256", "sha384", "sha512", "maa" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (cocoon_bind_hash)i;
			return 0;
		}
	}
	return cocoon_cli_error("%s: expected none, sha256, sha384, sha512 or maa, got '%s'", flag, name);
}

/* Owned buffers and objects of one run. */
typedef struct {
	uint8_t *evidence, *root, *runtime, *init;
	size_t evidence_len, root_len, runtime_len, init_len;
	char *sim_root, *sim_collateral, *sim_snp[3];
	cocoon_verifier *verifier;
	cocoon_collateral_source *src;
	cocoon_attest_result *res;
	char *json;
} verify_run;

static void run_free(verify_run *r, verify_args *a)
{
	free(r->evidence);
	free(r->root);
	free(r->runtime);
	free(r->init);
	free(r->sim_root);
	free(r->sim_collateral);
	for (int i = 0; i < 3; i++)
		free(r->sim_snp[i]);
	for (int i = 0; i < 4; i++)
		free(a->snp.data[i]);
	pcs_files_free(&a->pcs);
	cocoon_attest_result_free(r->res);
	cocoon_collateral_source_free(r->src);
	cocoon_verifier_free(r->verifier);
	free(r->json);
}

/* --trust-sim DIR: the simulation root replaces the trusted root; DIR's files stand in for missing flags. */
static int sim_setup(verify_run *r, verify_args *a, cocoon_verifier_options *ropts, int is_snp, int is_tdx)
{
	if (!is_snp) {
		if (a->root)
			return cocoon_cli_error("--trust-sim and --root are exclusive");
		if (!(r->sim_root = cocoon_sim_path(a->sim_dir, "intel/root.pem")) ||
		    !(r->sim_collateral = cocoon_sim_path(a->sim_dir, is_tdx ? "intel/collateral-tdx.json"
		                                                              : "intel/collateral-sgx.json")))
			return cocoon_cli_error("out of memory");
		a->root = r->sim_root;
		if (!a->collateral && !a->pcs.path[PCS_TCB_INFO])
			a->collateral = r->sim_collateral;
	} else {
		/* DIR's AMD chain, VCEK and CRL stand in for what the caller did not pass. */
		static const char *const rel[3] = { "amd/vcek.pem", "amd/chain.pem", "amd/crl.der" };
		static const int slot[3] = { 0, 2, 3 };
		for (int i = 0; i < 3; i++) {
			if (a->snp.path[slot[i]] || (i == 0 && a->snp.path[1]))
				continue;
			if (!(r->sim_snp[i] = cocoon_sim_path(a->sim_dir, rel[i])))
				return cocoon_cli_error("out of memory");
			a->snp.path[slot[i]] = r->sim_snp[i];
		}
	}
	ropts->trust_simulation = 1;
	fprintf(stderr, "cocoon: WARNING: trusting the simulation root in %s (development only)\n", a->sim_dir);
	return 0;
}

/* Reads the inputs, makes the verifier and the collateral source. */
static int prepare(verify_run *r, verify_args *a, cocoon_attest_input *in, cocoon_snp_policy *snp_policy)
{
	cocoon_verifier_options ropts = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_attest_format fmt = COCOON_ATTEST_FORMAT_AUTO, seen;
	int is_snp, rc;

	if (a->format && cocoon_attest_format_parse(&fmt, a->format) != 0)
		return cocoon_cli_error("--format: %s", cocoon_error_last()->message);
	if (cocoon_file_read(&r->evidence, &r->evidence_len, a->evidence) != 0)
		return cocoon_cli_error("--evidence: %s", cocoon_error_last()->message);
	seen = fmt != COCOON_ATTEST_FORMAT_AUTO ? fmt : cocoon_attest_format_detect(r->evidence, r->evidence_len);
	is_snp = seen == COCOON_ATTEST_FORMAT_SNP || seen == COCOON_ATTEST_FORMAT_MAA_SNP;
	if (is_snp && (a->collateral || a->pcs.path[PCS_TCB_INFO]))
		return cocoon_cli_error("%s is an SEV-SNP report: DCAP collateral does not apply (use --vcek/--certs)",
		                        a->evidence);
	if (is_snp && a->root && !a->snp.path[2])
		a->snp.path[2] = a->root; /* --root: the AMD roots to trust */
	if (a->sim_dir && (rc = sim_setup(r, a, &ropts, is_snp, seen == COCOON_ATTEST_FORMAT_TDX)) != 0)
		return rc;
	if (a->root && !is_snp) {
		if (cocoon_file_read(&r->root, &r->root_len, a->root) != 0)
			return cocoon_cli_error("--root: %s", cocoon_error_last()->message);
		ropts.intel_root_der = r->root;
		ropts.intel_root_der_len = r->root_len;
	}
	if (cocoon_verifier_new(&r->verifier, &ropts) != 0)
		return cocoon_cli_error("%s%s", a->root ? "--root: " : "", cocoon_error_last()->message);
	if (cocoon_collateral_source_new(&r->src) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	if (is_snp ? (rc = snp_setup(r->src, snp_policy, &a->snp, a->vo.allow_debug, seen == COCOON_ATTEST_FORMAT_SNP && !a->fetch))
	           : (rc = load_collateral(r->src, a->collateral, &a->pcs)))
		return rc;
	if (a->runtime_data) {
		if (cocoon_file_read(&r->runtime, &r->runtime_len, a->runtime_data) != 0)
			return cocoon_cli_error("--runtime-data: %s", cocoon_error_last()->message);
		in->runtime_data = r->runtime;
		in->runtime_data_len = r->runtime_len;
		in->runtime_hash = COCOON_BIND_SHA256;
		if (a->runtime_hash && (rc = parse_hash(&in->runtime_hash, "--runtime-data-hash", a->runtime_hash)) != 0)
			return rc;
	}
	if (a->init_data) {
		if (cocoon_file_read(&r->init, &r->init_len, a->init_data) != 0)
			return cocoon_cli_error("--init-data: %s", cocoon_error_last()->message);
		in->init_data = r->init;
		in->init_data_len = r->init_len;
		in->init_hash = COCOON_BIND_SHA256;
		if (a->init_hash && (rc = parse_hash(&in->init_hash, "--init-data-hash", a->init_hash)) != 0)
			return rc;
	}
	in->evidence = r->evidence;
	in->evidence_len = r->evidence_len;
	in->format = fmt;
	in->collateral = r->src;
	return 0;
}

int cocoon_cmd_verify(int argc, char **argv)
{
	verify_args a = { .vo = COCOON_VERIFY_OPTIONS_INIT, .snp = { .min_guest_svn = -1 } };
	verify_run r = { 0 };
	cocoon_cli_fetch fetch = { 0 };
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_options o = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_snp_policy snp_policy = COCOON_SNP_POLICY_INIT;
	int rc, err;

	if (cocoon_verify_wants_ratls(argc, argv))
		return cocoon_cmd_verify_ratls(argc, argv); /* cmd_ratls.c */
	if (cocoon_cli_wants_vtpm(argc, argv))
		return cocoon_cmd_verify_vtpm(argc, argv);
	if ((rc = cocoon_cli_fetch_args(&fetch, &argc, argv, 1)) != 0 || (rc = parse_flags(&a, argc, argv)) != 0) {
		rc = rc < 0 ? 0 : rc;
		goto done;
	}
	a.fetch = fetch.enabled;
	if ((rc = prepare(&r, &a, &in, &snp_policy)) != 0)
		goto done;
	if (fetch.enabled && !a.collateral && !a.pcs.path[PCS_TCB_INFO] && !a.snp.path[0] && !a.snp.path[1]) {
		if ((rc = cocoon_cli_fetch_source(&r.src, &fetch)) != 0)
			goto done;
		in.collateral = r.src;
	}
	o.verify = a.vo;
	o.snp_policy = &snp_policy;
	if ((err = cocoon_attest_appraise(&r.res, r.verifier, &in, &o)) != 0) {
		if (err == COCOON_ENOTFOUND)
			rc = cocoon_cli_error("no collateral: %s (pass --collateral FILE|DIR, the PCS files, or --vcek/--certs "
			                      "for SEV-SNP; see --help)", cocoon_error_last()->message);
		else
			rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_attest_result_to_json(&r.json, r.res) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (a.json)
		printf("%s\n", r.json);
	else
		cocoon_render_text(stdout, r.json);
	rc = r.res->verdict == COCOON_VERDICT_ACCEPT ? COCOON_EXIT_ACCEPT : COCOON_EXIT_REJECT;
done:
	run_free(&r, &a);
	cocoon_cli_fetch_free(&fetch);
	return rc;
}
