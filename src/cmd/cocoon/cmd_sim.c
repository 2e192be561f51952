/* cocoon sim: the simulated TEE (development and tests; never trusted by default). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/cocoon.h"
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/dcap_sim.h"
#include "sim/sim_dir.h"
#include "sim/snp_sim.h"
#include "cli.h"

static const char sim_usage[] =
	"usage: cocoon sim init [--status STATUS] [--days N] [--snp-product NAME] DIR\n"
	"       cocoon sim quote --tee sgx|tdx --report-data HEX [fields] -o FILE DIR\n"
	"       cocoon sim report --report-data HEX [--mrenclave HEX ...] [--target-info FILE] -o FILE DIR\n"
	"       cocoon sim snp-report --report-data HEX [fields] -o FILE [--certs FILE] DIR\n"
	"       cocoon sim az-snp-vtpm|az-tdx-vtpm --nonce HEX [--measurement HEX] [--hash ALG] -o FILE DIR\n"
	"\n"
	"init   creates DIR with a simulation PKI shaped like Intel's (root CA, PCK CA, PCK\n"
	"       leaf with SGX extensions, TCB Signing key, CRLs, QE attestation key) and\n"
	"       current collateral (TCB info v3 for SGX and TDX, QE identity, CRLs), and one\n"
	"       shaped like AMD's in DIR/amd (ARK, ASK, VCEK with the KDS extensions, CRL).\n"
	"       --status sets the simulated platform's TCB status: UpToDate (default),\n"
	"       SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded,\n"
	"       OutOfDate, OutOfDateConfigurationNeeded or Revoked. --days: collateral\n"
	"       lifetime (default 365). --snp-product: Milan (default), Genoa or Turin.\n"
	"quote  writes a DCAP quote signed by the simulated QE. Fields:\n"
	"       SGX: --mrenclave HEX --mrsigner HEX --isv-prod-id N --isv-svn N [--debug]\n"
	"       TDX: --mrtd HEX --rtmr0..--rtmr3 HEX --mr-config-id HEX --mr-owner HEX\n"
	"            --mr-owner-config HEX [--debug]\n"
	"       --quote-version 3 (SGX), 4 (TDX, default) or 5 (TD 1.5 body for TDX)\n"
	"snp-report  writes an SEV-SNP attestation report signed by the simulated VCEK,\n"
	"       and with --certs its extended-report certificate table (VCEK, ASK, ARK).\n"
	"       Fields: --measurement HEX --host-data HEX --family-id HEX --image-id HEX\n"
	"       --policy N (default 0x30000) --vmpl 0..3 --guest-svn N [--debug]\n"
	"       --version 2, 3 (default) or 5\n"
	"az-snp-vtpm, az-tdx-vtpm  write Azure CVM evidence: an HCL report wrapping a simulated\n"
	"       SNP report or TDREPORT (with its TD quote),\n"
	"       runtime claims with a simulated vTPM AK and a TPM2 quote by it (--help for more)\n"
	"\n"
	"Simulated evidence verifies only with: cocoon verify --evidence FILE --trust-sim DIR\n";

static int sim_init(int argc, char **argv)
{
	cocoon_sim_init_options o = COCOON_SIM_INIT_OPTIONS_INIT;
	static const struct option opts[] = { { "status", required_argument, NULL, 's' },
		                              { "days", required_argument, NULL, 'd' },
		                              { "snp-product", required_argument, NULL, 'p' },
		                              { "help", no_argument, NULL, 'h' },
		                              { NULL, 0, NULL, 0 } };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			o.status = optarg;
		else if (c == 'p')
			o.snp_product = optarg;
		else if (c == 'd') {
			char *end;
			long d = strtol(optarg, &end, 10);
			if (*end || d < 1 || d > 36500)
				return cocoon_cli_error("--days: expected 1..36500, got '%s'", optarg);
			o.validity_days = (unsigned)d;
		} else if (c == 'h') {
			fputs(sim_usage, stdout);
			return 0;
		} else
			return COCOON_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cocoon_cli_error("sim init: exactly one DIR is required");
	if (cocoon_sim_init(argv[optind], &o) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	fprintf(stderr, "cocoon: simulation directory %s created (status %s, SNP product %s); simulated evidence is "
	                "trusted only with --trust-sim %s\n",
	        argv[optind], o.status, o.snp_product ? o.snp_product : "Milan", argv[optind]);
	return 0;
}

enum { Q_TEE = 256, Q_RD, Q_MRENCLAVE, Q_MRSIGNER, Q_PROD, Q_SVN, Q_MRTD, Q_RTMR0, Q_RTMR1, Q_RTMR2, Q_RTMR3,
       Q_CONFIG, Q_OWNER, Q_OWNER_CONFIG, Q_DEBUG, Q_VERSION, Q_OUT };

static int sim_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tee", required_argument, NULL, Q_TEE },           { "report-data", required_argument, NULL, Q_RD },
		{ "mrenclave", required_argument, NULL, Q_MRENCLAVE }, { "mrsigner", required_argument, NULL, Q_MRSIGNER },
		{ "isv-prod-id", required_argument, NULL, Q_PROD },  { "isv-svn", required_argument, NULL, Q_SVN },
		{ "mrtd", required_argument, NULL, Q_MRTD },         { "rtmr0", required_argument, NULL, Q_RTMR0 },
		{ "rtmr1", required_argument, NULL, Q_RTMR1 },       { "rtmr2", required_argument, NULL, Q_RTMR2 },
		{ "rtmr3", required_argument, NULL, Q_RTMR3 },       { "mr-config-id", required_argument, NULL, Q_CONFIG },
		{ "mr-owner", required_argument, NULL, Q_OWNER },    { "mr-owner-config", required_argument, NULL, Q_OWNER_CONFIG },
		{ "debug", no_argument, NULL, Q_DEBUG },             { "quote-version", required_argument, NULL, Q_VERSION },
		{ "output", required_argument, NULL, Q_OUT },        { NULL, 0, NULL, 0 }
	};
	cocoon_sim_quote_params qp;
	cocoon_sim_pki *pki = NULL;
	const char *tee = NULL, *out = NULL;
	uint8_t report_data[64] = { 0 }, *quote = NULL;
	size_t quote_len = 0;
	int have_rd = 0, debug = 0, version = 0, c, rc = COCOON_EXIT_USAGE;
	/* Field flags are collected first: the defaults depend on --tee. */
	const char *field[Q_OUT + 1] = { 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case Q_TEE: tee = optarg; break;
		case Q_RD:
			if (cocoon_cli_hex_arg(report_data, 64, "--report-data", optarg))
				return COCOON_EXIT_USAGE;
			have_rd = 1;
			break;
		case Q_DEBUG: debug = 1; break;
		case Q_VERSION: version = atoi(optarg); break;
		case 'o':
		case Q_OUT: out = optarg; break;
		default:
			if (c >= Q_MRENCLAVE && c <= Q_OWNER_CONFIG) {
				field[c] = optarg;
				break;
			}
			return COCOON_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cocoon_cli_error("sim quote: exactly one DIR is required (see cocoon sim --help)");
	if (!tee || (strcmp(tee, "sgx") && strcmp(tee, "tdx")))
		return cocoon_cli_error("sim quote: --tee sgx|tdx is required");
	if (!have_rd)
		return cocoon_cli_error("sim quote: --report-data HEX is required (64 bytes, zero-padded)");
	if (!out)
		return cocoon_cli_error("sim quote: -o FILE is required");
	int is_tdx = strcmp(tee, "tdx") == 0;
	if (!version)
		version = is_tdx ? 4 : 3;
	if ((is_tdx && version != 4 && version != 5) || (!is_tdx && version != 3 && version != 5))
		return cocoon_cli_error("sim quote: --quote-version %d is not a DCAP layout for %s", version, tee);
	if (!is_tdx && (field[Q_MRTD] || field[Q_RTMR0] || field[Q_RTMR1] || field[Q_RTMR2] || field[Q_RTMR3] ||
	                field[Q_CONFIG] || field[Q_OWNER] || field[Q_OWNER_CONFIG]))
		return cocoon_cli_error("sim quote: TDX fields given with --tee sgx");
	if (is_tdx && (field[Q_MRENCLAVE] || field[Q_MRSIGNER] || field[Q_PROD] || field[Q_SVN]))
		return cocoon_cli_error("sim quote: SGX fields given with --tee tdx");

	cocoon_sim_quote_params_init(&qp, version, is_tdx ? (version == 5 ? 3 : 2) : 1);
	if (is_tdx) {
		memcpy(qp.report_data, report_data, 64);
		if ((field[Q_MRTD] && cocoon_cli_hex_arg(qp.mr_td, 48, "--mrtd", field[Q_MRTD])) ||
		    (field[Q_RTMR0] && cocoon_cli_hex_arg(qp.rtmr[0], 48, "--rtmr0", field[Q_RTMR0])) ||
		    (field[Q_RTMR1] && cocoon_cli_hex_arg(qp.rtmr[1], 48, "--rtmr1", field[Q_RTMR1])) ||
		    (field[Q_RTMR2] && cocoon_cli_hex_arg(qp.rtmr[2], 48, "--rtmr2", field[Q_RTMR2])) ||
		    (field[Q_RTMR3] && cocoon_cli_hex_arg(qp.rtmr[3], 48, "--rtmr3", field[Q_RTMR3])) ||
		    (field[Q_CONFIG] && cocoon_cli_hex_arg(qp.mr_config_id, 48, "--mr-config-id", field[Q_CONFIG])) ||
		    (field[Q_OWNER] && cocoon_cli_hex_arg(qp.mr_owner, 48, "--mr-owner", field[Q_OWNER])) ||
		    (field[Q_OWNER_CONFIG] && cocoon_cli_hex_arg(qp.mr_owner_config, 48, "--mr-owner-config", field[Q_OWNER_CONFIG])))
			return COCOON_EXIT_USAGE;
		memcpy(qp.tee_tcb_svn2, qp.tee_tcb_svn, 16);
		if (debug)
			qp.td_attributes[0] |= 0x01;
	} else {
		memcpy(qp.report_data, report_data, 64);
		if ((field[Q_MRENCLAVE] && cocoon_cli_hex_arg(qp.mr_enclave, 32, "--mrenclave", field[Q_MRENCLAVE])) ||
		    (field[Q_MRSIGNER] && cocoon_cli_hex_arg(qp.mr_signer, 32, "--mrsigner", field[Q_MRSIGNER])) ||
		    (field[Q_PROD] && cocoon_cli_u16_arg(&qp.isv_prod_id, "--isv-prod-id", field[Q_PROD])) ||
		    (field[Q_SVN] && cocoon_cli_u16_arg(&qp.isv_svn, "--isv-svn", field[Q_SVN])))
			return COCOON_EXIT_USAGE;
		if (debug)
			qp.attributes[0] |= 0x02;
	}
	if (cocoon_sim_pki_load(&pki, argv[optind]) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_sim_quote(&quote, &quote_len, pki, &qp) != 0 || cocoon_file_write(out, quote, quote_len) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	free(quote);
	cocoon_sim_pki_free(pki);
	return rc;
}

enum { R_RD = 256, R_MEASUREMENT, R_HOST_DATA, R_FAMILY_ID, R_IMAGE_ID, R_POLICY, R_VMPL, R_GUEST_SVN, R_DEBUG,
       R_VERSION, R_OUT, R_CERTS };

/* An unsigned number (decimal or 0x hex) no larger than max. */
static int u64_arg(uint64_t *out, const char *flag, const char *text, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (!*text || *end || text[0] == '-' || errno == ERANGE || v > max)
		return cocoon_cli_error("%s: expected an integer 0..%llu, got '%s'", flag, (unsigned long long)max, text);
	*out = v;
	return 0;
}

/* Applies one field flag to the report parameters. */
static int snp_field(cocoon_sim_snp_report_params *q, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case R_RD: return cocoon_cli_hex_arg(q->report_data, 64, "--report-data", arg);
	case R_MEASUREMENT: return cocoon_cli_hex_arg(q->measurement, 48, "--measurement", arg);
	case R_HOST_DATA: return cocoon_cli_hex_arg(q->host_data, 32, "--host-data", arg);
	case R_FAMILY_ID: return cocoon_cli_hex_arg(q->family_id, 16, "--family-id", arg);
	case R_IMAGE_ID: return cocoon_cli_hex_arg(q->image_id, 16, "--image-id", arg);
	case R_POLICY:
		if (u64_arg(&v, "--policy", arg, UINT64_MAX))
			return COCOON_EXIT_USAGE;
		/* The firmware refuses such a policy at launch: no real report has one. */
		if (!(v & (1ull << 17)) || (v >> 26))
			return cocoon_cli_error("--policy 0x%llx: bit 17 is reserved and must be 1, bits 26..63 must be 0 "
			                        "(e.g. 0x30000)",
			                        (unsigned long long)v);
		q->policy = v;
		return 0;
	case R_VMPL:
		if (u64_arg(&v, "--vmpl", arg, 3))
			return COCOON_EXIT_USAGE;
		q->vmpl = (uint32_t)v;
		return 0;
	case R_GUEST_SVN:
		if (u64_arg(&v, "--guest-svn", arg, UINT32_MAX))
			return COCOON_EXIT_USAGE;
		q->guest_svn = (uint32_t)v;
		return 0;
	default: return COCOON_EXIT_USAGE;
	}
}

static int sim_snp_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report-data", required_argument, NULL, R_RD },     { "measurement", required_argument, NULL, R_MEASUREMENT },
		{ "host-data", required_argument, NULL, R_HOST_DATA }, { "family-id", required_argument, NULL, R_FAMILY_ID },
		{ "image-id", required_argument, NULL, R_IMAGE_ID },   { "policy", required_argument, NULL, R_POLICY },
		{ "vmpl", required_argument, NULL, R_VMPL },           { "guest-svn", required_argument, NULL, R_GUEST_SVN },
		{ "debug", no_argument, NULL, R_DEBUG },               { "version", required_argument, NULL, R_VERSION },
		{ "output", required_argument, NULL, R_OUT },          { "certs", required_argument, NULL, R_CERTS },
		{ NULL, 0, NULL, 0 }
	};
	cocoon_sim_snp_report_params q;
	cocoon_sim_snp_pki *pki = NULL;
	const char *out = NULL, *certs = NULL, *field[R_CERTS + 1] = { 0 };
	uint8_t report[COCOON_SNP_REPORT_SIZE], *table = NULL;
	size_t table_len = 0;
	uint64_t version = 3;
	int debug = 0, c, rc = COCOON_EXIT_USAGE;

	optind = 1;
	/* Field flags are applied after the PKI loads: the defaults come from its VCEK. */
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o' || c == R_OUT)
			out = optarg;
		else if (c == R_CERTS)
			certs = optarg;
		else if (c == R_DEBUG)
			debug = 1;
		else if (c == R_VERSION) {
			if (u64_arg(&version, "--version", optarg, 5))
				return COCOON_EXIT_USAGE;
			if (version != 2 && version != 3 && version != 5)
				return cocoon_cli_error("--version %s: the simulator writes report versions 2, 3 and 5", optarg);
		} else if (c >= R_RD && c <= R_GUEST_SVN)
			field[c] = optarg;
		else
			return COCOON_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cocoon_cli_error("sim snp-report: exactly one DIR is required (see cocoon sim --help)");
	if (!field[R_RD])
		return cocoon_cli_error("sim snp-report: --report-data HEX is required (64 bytes, zero-padded)");
	if (!out)
		return cocoon_cli_error("sim snp-report: -o FILE is required");
	if (cocoon_sim_snp_pki_load(&pki, argv[optind]) != 0 ||
	    cocoon_sim_snp_report_params_init(&q, pki, (uint32_t)version) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	for (int i = R_RD; i <= R_GUEST_SVN; i++)
		if (field[i] && snp_field(&q, i, field[i]) != 0)
			goto done;
	if (debug)
		q.policy |= 1ull << 19;
	if (cocoon_sim_snp_report(report, pki, &q) != 0 || cocoon_file_write(out, report, sizeof(report)) != 0 ||
	    (certs && (cocoon_sim_snp_certtable(&table, &table_len, pki) != 0 ||
	               cocoon_file_write(certs, table, table_len) != 0))) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	free(table);
	cocoon_sim_snp_pki_free(pki);
	return rc;
}

int cocoon_cmd_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(sim_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? COCOON_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "init"))
		return sim_init(argc - 1, argv + 1);
	if (!strcmp(argv[1], "quote"))
		return sim_quote(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cocoon_cmd_sim_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "snp-report"))
		return sim_snp_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "az-snp-vtpm") || !strcmp(argv[1], "az-tdx-vtpm"))
		return cocoon_cmd_sim_vtpm(argc - 1, argv + 1);
	fputs(sim_usage, stderr);
	return cocoon_cli_error("sim: unknown subcommand '%s'", argv[1]);
}
