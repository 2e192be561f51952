/* cocoon sim report: an app enclave report for the simulated QE (development and tests). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/aesm.h"
#include "common/util.h"
#include "sim/sim_dir.h"
#include "sim/sim_report.h"
#include "cli.h"

static const char sim_report_usage[] =
	"usage: cocoon sim report --report-data HEX [--mrenclave HEX] [--mrsigner HEX]\n"
	"                         [--isv-prod-id N] [--isv-svn N] [--debug]\n"
	"                         [--target-info FILE] -o FILE DIR\n"
	"\n"
	"Writes a 432-byte SGX report (sgx_report_t) of a simulated app enclave, MAC'd\n"
	"with DIR's simulation report key for the simulated QE (or for the enclave whose\n"
	"512-byte target info FILE holds). Quote it with cocoon-quoted --backend sim:\n"
	"  cocoon quote --report FILE -o quote.bin; cocoon verify --evidence quote.bin --trust-sim DIR\n"
	"Hex values are zero-padded on the right (report data 64 bytes, measurements 32).\n";

enum { R_RD = 256, R_MRENCLAVE, R_MRSIGNER, R_PROD, R_SVN, R_DEBUG, R_TARGET, R_OUT, R_HELP };

int cocoon_cmd_sim_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report-data", required_argument, NULL, R_RD },   { "mrenclave", required_argument, NULL, R_MRENCLAVE },
		{ "mrsigner", required_argument, NULL, R_MRSIGNER }, { "isv-prod-id", required_argument, NULL, R_PROD },
		{ "isv-svn", required_argument, NULL, R_SVN },       { "debug", no_argument, NULL, R_DEBUG },
		{ "target-info", required_argument, NULL, R_TARGET }, { "output", required_argument, NULL, R_OUT },
		{ "help", no_argument, NULL, R_HELP },               { NULL, 0, NULL, 0 }
	};
	cocoon_sim_app_identity id;
	cocoon_sim_qe *qe = NULL;
	cocoon_sim_pki *pki = NULL;
	const char *out = NULL, *target_path = NULL;
	uint8_t body[COCOON_SGX_REPORT_BODY_SIZE], report[COCOON_SGX_REPORT_SIZE_FULL];
	uint8_t target[COCOON_SGX_TARGET_INFO_SIZE], root[COCOON_SIM_REPORT_ROOT_SIZE];
	uint8_t *ti_file = NULL;
	size_t ti_len = 0;
	int have_rd = 0, c, rc = COCOON_EXIT_USAGE;

	memset(&id, 0, sizeof(id));
	memset(root, 0, sizeof(root));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case R_RD:
			if (cocoon_cli_hex_arg(id.report_data, 64, "--report-data", optarg))
				return COCOON_EXIT_USAGE;
			have_rd = 1;
			break;
		case R_MRENCLAVE:
			if (cocoon_cli_hex_arg(id.mr_enclave, 32, "--mrenclave", optarg))
				return COCOON_EXIT_USAGE;
			break;
		case R_MRSIGNER:
			if (cocoon_cli_hex_arg(id.mr_signer, 32, "--mrsigner", optarg))
				return COCOON_EXIT_USAGE;
			break;
		case R_PROD:
			if (cocoon_cli_u16_arg(&id.isv_prod_id, "--isv-prod-id", optarg))
				return COCOON_EXIT_USAGE;
			break;
		case R_SVN:
			if (cocoon_cli_u16_arg(&id.isv_svn, "--isv-svn", optarg))
				return COCOON_EXIT_USAGE;
			break;
		case R_DEBUG: id.debug = 1; break;
		case R_TARGET: target_path = optarg; break;
		case 'o':
		case R_OUT: out = optarg; break;
		case R_HELP: fputs(sim_report_usage, stdout); return 0;
		default: return COCOON_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cocoon_cli_error("sim report: exactly one DIR is required (see cocoon sim report --help)");
	if (!have_rd)
		return cocoon_cli_error("sim report: --report-data HEX is required (up to 64 bytes, zero-padded)");
	if (!out)
		return cocoon_cli_error("sim report: -o FILE is required");

	if (cocoon_sim_qe_open(&qe, argv[optind]) != 0 || cocoon_sim_pki_load(&pki, argv[optind]) != 0) {
		rc = cocoon_cli_error("sim report: %s", cocoon_error_last()->message);
		goto done;
	}
	if (target_path) {
		if (cocoon_file_read(&ti_file, &ti_len, target_path) != 0) {
			rc = cocoon_cli_error("--target-info: %s", cocoon_error_last()->message);
			goto done;
		}
		if (ti_len != COCOON_SGX_TARGET_INFO_SIZE) {
			rc = cocoon_cli_error("--target-info: %s holds %zu bytes; an sgx_target_info_t is %d", target_path,
			                      ti_len, COCOON_SGX_TARGET_INFO_SIZE);
			goto done;
		}
		memcpy(target, ti_file, sizeof(target));
	} else {
		cocoon_sim_qe_target_info(target, qe);
	}
	cocoon_sim_app_body(body, pki, &id);
	cocoon_sim_qe_report_root(root, qe);
	if (cocoon_sim_report_create(report, root, target, body) != 0 ||
	    cocoon_file_write(out, report, sizeof(report)) != 0) {
		rc = cocoon_cli_error("sim report: %s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	cocoon_zeroize(root, sizeof(root));
	free(ti_file);
	cocoon_sim_pki_free(pki);
	cocoon_sim_qe_free(qe);
	return rc;
}
