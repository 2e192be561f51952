/* cocoon sim az-snp-vtpm|az-tdx-vtpm: simulated Azure CVM evidence (development and tests). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include "cocoon/vtpm.h"
#include "common/util.h"
#include "sim/sim_dir.h"
#include "sim/vtpm_sim.h"
#include "cli.h"

static const char usage[] =
	"usage: cocoon sim az-snp-vtpm|az-tdx-vtpm --nonce HEX [--measurement HEX] [--hash sha256|sha384|sha512]\n"
	"                              [--vm-id ID] [--no-secure-boot] [--ak-pub PEM] -o FILE DIR\n"
	"\n"
	"Writes az-snp-vtpm evidence (v2 JSON): an HCL report (at most 2048 bytes, so it fits a\n"
	"swtpm NV index) wrapping an SNP report signed by DIR's simulated VCEK, runtime claims\n"
	"with a simulated vTPM AK (DIR/azure/ak-key.pem, made on first use) and user-data = the\n"
	"nonce, and a TPM2 quote by that AK over 24 SHA-256 PCRs with extraData = the nonce.\n"
	"az-tdx-vtpm: the HCL report wraps a TDREPORT, and td_quote is a quote of the same TD\n"
	"body by DIR's simulated TD QE (--measurement sets MRTD).\n"
	"With --ak-pub, FILE gets only the HCL report (binary) for that AK, e.g. a TPM's, to store\n"
	"in NV 0x01400001 (tests use swtpm in place of the Azure vTPM); az-tdx-vtpm then also\n"
	"writes the TD quote to --td-quote-out FILE (what IMDS would answer).\n"
	"Verify with: cocoon verify --format az-snp-vtpm|az-tdx-vtpm --evidence FILE --nonce HEX\n"
	"             --trust-sim DIR\n";

enum { A_NONCE = 256, A_MEASUREMENT, A_HASH, A_VMID, A_NO_SB, A_OUT, A_HELP, A_AK_PUB, A_TDQ_OUT };

static int parse_hash(uint32_t *out, const char *s)
{
	if (!strcmp(s, "sha256"))
		*out = COCOON_HCL_HASH_SHA256;
	else if (!strcmp(s, "sha384"))
		*out = COCOON_HCL_HASH_SHA384;
	else if (!strcmp(s, "sha512"))
		*out = COCOON_HCL_HASH_SHA512;
	else
		return cocoon_cli_error("--hash: expected sha256, sha384 or sha512, got '%s'", s);
	return 0;
}

static int load_ak_pub(EVP_PKEY **out, const char *path)
{
	FILE *f = fopen(path, "rb");

	*out = NULL;
	if (f) {
		*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!*out || !EVP_PKEY_is_a(*out, "RSA"))
		return cocoon_cli_error("--ak-pub %s: not an RSA public key in PEM", path);
	return 0;
}

typedef struct {
	cocoon_sim_vtpm_params p;
	uint8_t *nonce;
	uint8_t measurement[48];
	const char *out, *ak_pub, *td_quote_out, *dir;
	int tdx;
} sim_args;

static int parse_args(sim_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, A_NONCE },   { "measurement", required_argument, NULL, A_MEASUREMENT },
		{ "hash", required_argument, NULL, A_HASH },     { "vm-id", required_argument, NULL, A_VMID },
		{ "no-secure-boot", no_argument, NULL, A_NO_SB }, { "output", required_argument, NULL, A_OUT },
		{ "help", no_argument, NULL, A_HELP },           { "ak-pub", required_argument, NULL, A_AK_PUB },
		{ "td-quote-out", required_argument, NULL, A_TDQ_OUT }, { NULL, 0, NULL, 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case A_NONCE:
			free(a->nonce);
			a->nonce = NULL;
			if (cocoon_hex_decode_alloc(&a->nonce, &a->p.nonce_len, optarg, strlen(optarg)) != 0 ||
			    !a->p.nonce_len || a->p.nonce_len > 64)
				return cocoon_cli_error("--nonce: expected hex of 1..64 bytes");
			a->p.nonce = a->nonce;
			break;
		case A_MEASUREMENT:
			if (cocoon_cli_hex_arg(a->measurement, 48, "--measurement", optarg))
				return COCOON_EXIT_USAGE;
			a->p.measurement = a->measurement;
			break;
		case A_HASH:
			if (parse_hash(&a->p.hash_type, optarg))
				return COCOON_EXIT_USAGE;
			break;
		case A_VMID: a->p.vm_unique_id = optarg; break;
		case A_NO_SB: a->p.secure_boot = 0; break;
		case A_AK_PUB: a->ak_pub = optarg; break;
		case A_TDQ_OUT: a->td_quote_out = optarg; break;
		case 'o':
		case A_OUT: a->out = optarg; break;
		case A_HELP: fputs(usage, stdout); return -1;
		default: return COCOON_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !a->nonce || !a->out) {
		fputs(usage, stderr);
		return cocoon_cli_error("sim %s: --nonce HEX, -o FILE and one DIR are required", argv[0]);
	}
	if (a->ak_pub && a->tdx && !a->td_quote_out)
		return cocoon_cli_error("sim az-tdx-vtpm --ak-pub: --td-quote-out FILE is required (the quote IMDS serves)");
	a->dir = argv[optind];
	return 0;
}

/* --ak-pub: the HCL report alone (and for TDX the TD quote), for a TPM's AK. */
static int write_hcl_only(const sim_args *a)
{
	cocoon_sim_snp_pki *snp = NULL;
	cocoon_sim_pki *intel = NULL;
	EVP_PKEY *ak = NULL;
	uint8_t *hcl = NULL, *tdq = NULL;
	size_t hcl_len = 0, tdq_len = 0;
	int rc;

	if ((rc = load_ak_pub(&ak, a->ak_pub)) != 0)
		return rc;
	if ((a->tdx ? (cocoon_sim_pki_load(&intel, a->dir) != 0 ||
	               cocoon_sim_az_tdx_hcl(&hcl, &hcl_len, &tdq, &tdq_len, intel, ak, &a->p) != 0 ||
	               cocoon_file_write(a->td_quote_out, tdq, tdq_len) != 0)
	            : (cocoon_sim_snp_pki_load(&snp, a->dir) != 0 ||
	               cocoon_sim_az_snp_hcl(&hcl, &hcl_len, snp, ak, &a->p) != 0)) ||
	    cocoon_file_write(a->out, hcl, hcl_len) != 0)
		rc = cocoon_cli_error("sim %s: %s", a->tdx ? "az-tdx-vtpm" : "az-snp-vtpm", cocoon_error_last()->message);
	free(hcl);
	free(tdq);
	EVP_PKEY_free(ak);
	cocoon_sim_snp_pki_free(snp);
	cocoon_sim_pki_free(intel);
	return rc;
}

/* The whole evidence JSON, quoted by DIR's simulated AK. */
static int write_evidence(const sim_args *a)
{
	cocoon_sim_snp_pki *snp = NULL;
	cocoon_sim_pki *intel = NULL;
	EVP_PKEY *ak = NULL;
	char *json = NULL;
	int rc = 0;

	if (cocoon_sim_vtpm_ak(&ak, a->dir) != 0 ||
	    (a->tdx ? (cocoon_sim_pki_load(&intel, a->dir) != 0 || cocoon_sim_az_tdx_evidence(&json, intel, ak, &a->p) != 0)
	            : (cocoon_sim_snp_pki_load(&snp, a->dir) != 0 ||
	               cocoon_sim_az_snp_evidence(&json, snp, ak, &a->p) != 0)) ||
	    cocoon_file_write(a->out, (const uint8_t *)json, strlen(json)) != 0)
		rc = cocoon_cli_error("sim %s: %s", a->tdx ? "az-tdx-vtpm" : "az-snp-vtpm", cocoon_error_last()->message);
	free(json);
	EVP_PKEY_free(ak);
	cocoon_sim_snp_pki_free(snp);
	cocoon_sim_pki_free(intel);
	return rc;
}

int cocoon_cmd_sim_vtpm(int argc, char **argv)
{
	sim_args a = { .p = { .secure_boot = 1 }, .tdx = strcmp(argv[0], "az-tdx-vtpm") == 0 };
	int rc = parse_args(&a, argc, argv);

	if (rc == 0)
		rc = a.ak_pub ? write_hcl_only(&a) : write_evidence(&a);
	free(a.nonce);
	return rc < 0 ? 0 : rc;
}
