/*
 * cocoon verify --format az-snp-vtpm|az-tdx-vtpm: Azure confidential-VM
 * evidence (guest-components' JSON) through cocoon_verifier_verify_vtpm.
 * Kept apart from cmd_verify.c, which calls it from one spot.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/cocoon.h"
#include "cocoon/sim.h"
#include "cocoon/vtpm.h"
#include "common/util.h"
#include "cli.h"
#include "render.h"

static const char usage[] =
	"usage: cocoon verify --format az-snp-vtpm|az-tdx-vtpm --evidence FILE --nonce HEX [options]\n"
	"\n"
	"Azure confidential-VM evidence as guest-components' attesters emit it (v0, v1, v2):\n"
	"HCL report, runtime claims, vTPM quote, and the SNP report or TD quote inside.\n"
	"\n"
	"  --nonce HEX             the expected TPM quote extraData (KBS: the runtime-data hash);\n"
	"                          required: without it nothing proves the evidence is fresh\n"
	"  --check-user-data       also require the runtime claims' user-data to hold the nonce\n"
	"                          (default: for v2 evidence only, as Trustee)\n"
	"  --at TIME               verification time, RFC 3339 or Unix seconds (default: now)\n"
	"  --json                  print one JSON object\n"
	"  --trust-sim DIR         trust the simulation PKI in DIR (development only)\n"
	"az-snp-vtpm:\n"
	"  --chain FILE            AMD ASK+ARK PEM (default: the built-in roots of the VCEK's product)\n"
	"  --crl FILE              AMD KDS CRL: revocation is then checked, fail-closed\n"
	"  --policy FILE           SNP appraisal policy (docs/cli.md); default: VMPL 0\n"
	"  --allow-debug, --allow-provisional-firmware\n"
	"az-tdx-vtpm:\n"
	"  --collateral FILE       TDX DCAP collateral (vectors' JSON layout); without it the TD quote's\n"
	"                          TCB status is unverified and the verdict is reject (check collateral)\n"
	"  --root FILE             trusted Intel SGX Root CA (default: built in)\n"
	"\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error.\n";

enum {
	OPT_FORMAT = 256, OPT_EVIDENCE, OPT_NONCE, OPT_USER_DATA, OPT_AT, OPT_JSON, OPT_TRUST_SIM, OPT_CHAIN, OPT_CRL,
	OPT_POLICY, OPT_ALLOW_DEBUG, OPT_ALLOW_PROVISIONAL, OPT_COLLATERAL, OPT_ROOT, OPT_HELP
};

static const struct option options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "evidence", required_argument, NULL, OPT_EVIDENCE },
	{ "nonce", required_argument, NULL, OPT_NONCE },
	{ "check-user-data", no_argument, NULL, OPT_USER_DATA },
	{ "at", required_argument, NULL, OPT_AT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "trust-sim", required_argument, NULL, OPT_TRUST_SIM },
	{ "chain", required_argument, NULL, OPT_CHAIN },
	{ "crl", required_argument, NULL, OPT_CRL },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "allow-debug", no_argument, NULL, OPT_ALLOW_DEBUG },
	{ "allow-provisional-firmware", no_argument, NULL, OPT_ALLOW_PROVISIONAL },
	{ "collateral", required_argument, NULL, OPT_COLLATERAL },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

typedef struct {
	const char *format, *evidence, *nonce, *sim_dir, *chain, *crl, *policy, *collateral, *root;
	int json, check_user_data, allow_debug, allow_provisional;
	time_t at;
} vtpm_args;

/* Files the verification reads; all freed together. */
typedef struct {
	uint8_t *evidence, *chain, *crl, *collateral, *root, *nonce;
	size_t evidence_len, chain_len, crl_len, collateral_len, root_len, nonce_len;
	char *sim_paths[4];
} vtpm_files;

static void files_free(vtpm_files *f)
{
	free(f->evidence);
	free(f->chain);
	free(f->crl);
	free(f->collateral);
	free(f->root);
	free(f->nonce);
	for (int i = 0; i < 4; i++)
		free(f->sim_paths[i]);
}

int cocoon_cli_wants_vtpm(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return 0;
		if (strncmp(a, "--format=az-", 12) == 0 || (strcmp(a, "--format") == 0 && i + 1 < argc &&
		                                             strncmp(argv[i + 1], "az-", 3) == 0))
			return 1;
	}
	return 0;
}

static int parse_args(vtpm_args *a, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_EVIDENCE: a->evidence = optarg; break;
		case OPT_NONCE: a->nonce = optarg; break;
		case OPT_USER_DATA: a->check_user_data = 1; break;
		case OPT_AT:
			if (cocoon_time_parse(&a->at, optarg) != 0)
				return cocoon_cli_error("--at: %s", cocoon_error_last()->message);
			break;
		case OPT_JSON: a->json = 1; break;
		case OPT_TRUST_SIM: a->sim_dir = optarg; break;
		case OPT_CHAIN: a->chain = optarg; break;
		case OPT_CRL: a->crl = optarg; break;
		case OPT_POLICY: a->policy = optarg; break;
		case OPT_ALLOW_DEBUG: a->allow_debug = 1; break;
		case OPT_ALLOW_PROVISIONAL: a->allow_provisional = 1; break;
		case OPT_COLLATERAL: a->collateral = optarg; break;
		case OPT_ROOT: a->root = optarg; break;
		case OPT_HELP: fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return COCOON_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cocoon_cli_error("verify: unexpected argument '%s' (see --help)", argv[optind]);
	if (!a->evidence)
		return cocoon_cli_error("verify --format %s: --evidence FILE is required", a->format);
	if (!a->nonce)
		return cocoon_cli_error("verify --format %s: --nonce HEX is required (the nonce the guest quoted)",
		                        a->format);
	return 0;
}

static int read_opt(uint8_t **out, size_t *len, const char *path, const char *flag)
{
	if (path && cocoon_file_read(out, len, path) != 0)
		return cocoon_cli_error("%s: %s", flag, cocoon_error_last()->message);
	return 0;
}

/* --trust-sim DIR stands in for the roots (and TDX collateral) the caller did not pass. */
static int apply_sim(vtpm_args *a, vtpm_files *f, int tdx)
{
	static const char *const rel[4] = { "amd/chain.pem", "amd/crl.der", "intel/root.pem",
		                            "intel/collateral-tdx.json" };
	const char **slot[4] = { &a->chain, &a->crl, &a->root, &a->collateral };

	for (int i = tdx ? 2 : 0; i < (tdx ? 4 : 2); i++) {
		if (*slot[i])
			continue;
		if (!(f->sim_paths[i] = cocoon_sim_path(a->sim_dir, rel[i])))
			return cocoon_cli_error("out of memory");
		*slot[i] = f->sim_paths[i];
	}
	fprintf(stderr, "cocoon: WARNING: trusting the simulation root in %s (development only)\n", a->sim_dir);
	return 0;
}

static int load_files(vtpm_files *f, vtpm_args *a, int tdx)
{
	int rc;

	if (a->sim_dir && (rc = apply_sim(a, f, tdx)) != 0)
		return rc;
	if (cocoon_hex_decode_alloc(&f->nonce, &f->nonce_len, a->nonce, strlen(a->nonce)) != 0 || f->nonce_len == 0 ||
	    f->nonce_len > 64)
		return cocoon_cli_error("--nonce: expected hex of 1..64 bytes");
	if ((rc = read_opt(&f->evidence, &f->evidence_len, a->evidence, "--evidence")) != 0 ||
	    (rc = read_opt(&f->chain, &f->chain_len, a->chain, "--chain")) != 0 ||
	    (rc = read_opt(&f->crl, &f->crl_len, a->crl, "--crl")) != 0 ||
	    (rc = read_opt(&f->collateral, &f->collateral_len, a->collateral, "--collateral")) != 0 ||
	    (rc = read_opt(&f->root, &f->root_len, a->root, "--root")) != 0)
		return rc;
	return 0;
}

static int load_policy(cocoon_snp_policy *p, const vtpm_args *a)
{
	*p = (cocoon_snp_policy)COCOON_SNP_POLICY_INIT;
	p->vmpl = 0;
	if (a->policy) {
		uint8_t *json = NULL;
		size_t len;
		int err;
		if (cocoon_file_read(&json, &len, a->policy) != 0)
			return cocoon_cli_error("--policy: %s", cocoon_error_last()->message);
		err = cocoon_snp_policy_from_json(p, (const char *)json, len);
		free(json);
		if (err)
			return cocoon_cli_error("--policy %s: %s", a->policy, cocoon_error_last()->message);
	}
	if (a->allow_debug)
		p->allow_debug = 1;
	if (a->allow_provisional)
		p->allow_provisional_firmware = 1;
	return 0;
}

static int print_result(const cocoon_result *r, const cocoon_vtpm_claims *c, int json_out)
{
	char *json = NULL;

	if (cocoon_vtpm_result_to_json(&json, r, c) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	if (json_out)
		printf("%s\n", json);
	else
		cocoon_render_text(stdout, json);
	free(json);
	return r->accepted ? COCOON_EXIT_ACCEPT : COCOON_EXIT_REJECT;
}

int cocoon_cmd_verify_vtpm(int argc, char **argv)
{
	vtpm_args a = { 0 };
	vtpm_files f = { 0 };
	cocoon_vtpm_format fmt;
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options vopts = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_verifier_options ropts = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_verifier *verifier = NULL;
	cocoon_collateral *coll = NULL;
	cocoon_snp_policy policy;
	cocoon_result result;
	cocoon_vtpm_claims claims;
	int rc;

	if ((rc = parse_args(&a, argc, argv)) != 0)
		return rc < 0 ? 0 : rc;
	/* libtss2-mu logs every malformed structure on stderr; the verdict already says what was wrong.
	 * A TSS2_LOG the user set wins. */
	setenv("TSS2_LOG", "marshal+none", 0);
	if (cocoon_vtpm_format_parse(&fmt, a.format) != 0)
		return cocoon_cli_error("--format: %s", cocoon_error_last()->message);
	if ((rc = load_files(&f, &a, fmt == COCOON_VTPM_FORMAT_AZ_TDX)) != 0 || (rc = load_policy(&policy, &a)) != 0)
		goto done;
	if (f.collateral && cocoon_collateral_from_json(&coll, (const char *)f.collateral, f.collateral_len) != 0) {
		rc = cocoon_cli_error("--collateral %s: %s", a.collateral, cocoon_error_last()->message);
		goto done;
	}
	ropts.intel_root_der = f.root;
	ropts.intel_root_der_len = f.root_len;
	ropts.trust_simulation = a.sim_dir != NULL;
	if (cocoon_verifier_new(&verifier, &ropts) != 0) {
		rc = cocoon_cli_error("%s%s", a.root ? "--root: " : "", cocoon_error_last()->message);
		goto done;
	}
	in.nonce = f.nonce;
	in.nonce_len = f.nonce_len;
	in.check_user_data = a.check_user_data ? 1 : -1;
	in.amd_chain = f.chain;
	in.amd_chain_len = f.chain_len;
	in.amd_crl = f.crl;
	in.amd_crl_len = f.crl_len;
	in.snp_policy = &policy;
	in.tdx_collateral = coll;
	vopts.at = a.at;
	vopts.allow_debug = a.allow_debug;
	if (cocoon_verifier_verify_vtpm_json(&result, &claims, verifier, fmt, (const char *)f.evidence, f.evidence_len,
	                                     &in, &vopts) != 0) {
		rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
		goto done;
	}
	rc = print_result(&result, &claims, a.json);
done:
	cocoon_collateral_free(coll);
	cocoon_verifier_free(verifier);
	files_free(&f);
	return rc;
}
