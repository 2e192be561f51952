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

int cocoon_cmd_sim_vtpm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, A_NONCE },   { "measurement", required_argument, NULL, A_MEASUREMENT },
		{ "hash", required_argument, NULL, A_HASH },     { "vm-id", required_argument, NULL, A_VMID },
		{ "no-secure-boot", no_argument, NULL, A_NO_SB }, { "output", required_argument, NULL, A_OUT },
		{ "help", no_argument, NULL, A_HELP },           { "ak-pub", required_argument, NULL, A_AK_PUB },
		{ "td-quote-out", required_argument, NULL, A_TDQ_OUT },
		{ NULL, 0, NULL, 0 }
	};
	cocoon_sim_vtpm_params p = { .secure_boot = 1 };
	cocoon_sim_snp_pki *pki = NULL;
	cocoon_sim_pki *intel = NULL;
	int tdx = strcmp(argv[0], "az-tdx-vtpm") == 0;
	EVP_PKEY *ak = NULL;
	uint8_t *nonce = NULL, measurement[48];
	size_t nonce_len = 0;
	const char *out = NULL, *ak_pub = NULL, *td_quote_out = NULL;
	char *json = NULL;
	uint8_t *hcl = NULL;
	size_t hcl_len = 0;
	int c, rc = COCOON_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case A_NONCE:
			free(nonce);
			nonce = NULL;
			if (cocoon_hex_decode_alloc(&nonce, &nonce_len, optarg, strlen(optarg)) != 0 || !nonce_len ||
			    nonce_len > 64) {
				rc = cocoon_cli_error("--nonce: expected hex of 1..64 bytes");
				goto done;
			}
			break;
		case A_MEASUREMENT:
			if (cocoon_cli_hex_arg(measurement, 48, "--measurement", optarg))
				goto done;
			p.measurement = measurement;
			break;
		case A_HASH:
			if (parse_hash(&p.hash_type, optarg))
				goto done;
			break;
		case A_VMID: p.vm_unique_id = optarg; break;
		case A_NO_SB: p.secure_boot = 0; break;
		case A_AK_PUB: ak_pub = optarg; break;
		case A_TDQ_OUT: td_quote_out = optarg; break;
		case 'o':
		case A_OUT: out = optarg; break;
		case A_HELP: fputs(usage, stdout); rc = 0; goto done;
		default: goto done;
		}
	}
	if (optind + 1 != argc || !nonce || !out) {
		fputs(usage, stderr);
		rc = cocoon_cli_error("sim %s: --nonce HEX, -o FILE and one DIR are required", argv[0]);
		goto done;
	}
	p.nonce = nonce;
	p.nonce_len = nonce_len;
	if (ak_pub && tdx && !td_quote_out) {
		rc = cocoon_cli_error("sim az-tdx-vtpm --ak-pub: --td-quote-out FILE is required (the quote IMDS serves)");
		goto done;
	}
	if (tdx && ak_pub) {
		uint8_t *tdq = NULL;
		size_t tdq_len = 0;
		if ((rc = load_ak_pub(&ak, ak_pub)) != 0)
			goto done;
		if (cocoon_sim_pki_load(&intel, argv[optind]) != 0 ||
		    cocoon_sim_az_tdx_hcl(&hcl, &hcl_len, &tdq, &tdq_len, intel, ak, &p) != 0 ||
		    cocoon_file_write(out, hcl, hcl_len) != 0 || cocoon_file_write(td_quote_out, tdq, tdq_len) != 0) {
			free(tdq);
			rc = cocoon_cli_error("sim az-tdx-vtpm: %s", cocoon_error_last()->message);
			goto done;
		}
		free(tdq);
		rc = 0;
		goto done;
	}
	if (tdx) {
		if (cocoon_sim_pki_load(&intel, argv[optind]) != 0 || cocoon_sim_vtpm_ak(&ak, argv[optind]) != 0 ||
		    cocoon_sim_az_tdx_evidence(&json, intel, ak, &p) != 0 ||
		    cocoon_file_write(out, (const uint8_t *)json, strlen(json)) != 0) {
			rc = cocoon_cli_error("sim az-tdx-vtpm: %s", cocoon_error_last()->message);
			goto done;
		}
		rc = 0;
		goto done;
	}
	if (ak_pub) {
		if ((rc = load_ak_pub(&ak, ak_pub)) != 0)
			goto done;
		if (cocoon_sim_snp_pki_load(&pki, argv[optind]) != 0 ||
		    cocoon_sim_az_snp_hcl(&hcl, &hcl_len, pki, ak, &p) != 0 || cocoon_file_write(out, hcl, hcl_len) != 0) {
			rc = cocoon_cli_error("sim az-snp-vtpm: %s", cocoon_error_last()->message);
			goto done;
		}
		rc = 0;
		goto done;
	}
	if (cocoon_sim_snp_pki_load(&pki, argv[optind]) != 0 || cocoon_sim_vtpm_ak(&ak, argv[optind]) != 0 ||
	    cocoon_sim_az_snp_evidence(&json, pki, ak, &p) != 0 ||
	    cocoon_file_write(out, (const uint8_t *)json, strlen(json)) != 0) {
		rc = cocoon_cli_error("sim az-snp-vtpm: %s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	free(json);
	free(hcl);
	free(nonce);
	EVP_PKEY_free(ak);
	cocoon_sim_snp_pki_free(pki);
	cocoon_sim_pki_free(intel);
	return rc;
}
