/* cocoon quote: out-of-process SGX quoting through an AESM socket (aesmd or cocoon-quoted). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/aesm.h"
#include "common/util.h"
#include "cli.h"

static const char quote_usage[] =
	"usage: cocoon quote --report FILE [--socket PATH] [--timeout-ms N] -o FILE\n"
	"       cocoon quote --target-info [--socket PATH] [--timeout-ms N] -o FILE\n"
	"\n"
	"--report       quotes a 432-byte SGX report (sgx_report_t) targeted at the QE,\n"
	"               as sgx_qe_get_quote does with SGX_AESM_ADDR set, and writes the quote.\n"
	"--target-info  writes the QE's 512-byte target info (sgx_qe_get_target_info).\n"
	"--socket       the AESM socket (default " COCOON_AESM_SOCKET_DEFAULT ").\n"
	"--timeout-ms   bound on each exchange (default 15000).\n"
	"\n"
	"Exit codes: 0 done, 1 the service refused (its aesm_error_t is printed), 2 usage or I/O error.\n";

enum { Q_REPORT = 256, Q_TARGET, Q_SOCKET, Q_TIMEOUT, Q_OUT, Q_HELP };

static int service_error(const char *what)
{
	const cocoon_error *e = cocoon_error_last();
	fprintf(stderr, "cocoon: %s: %s\n", what, e->message);
	return e->code == COCOON_EREJECT ? COCOON_EXIT_REJECT : COCOON_EXIT_USAGE;
}

int cocoon_cmd_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "report", required_argument, NULL, Q_REPORT }, { "target-info", no_argument, NULL, Q_TARGET },
		{ "socket", required_argument, NULL, Q_SOCKET }, { "timeout-ms", required_argument, NULL, Q_TIMEOUT },
		{ "output", required_argument, NULL, Q_OUT },    { "help", no_argument, NULL, Q_HELP },
		{ NULL, 0, NULL, 0 }
	};
	cocoon_aesm_options ao = COCOON_AESM_OPTIONS_INIT;
	const char *report_path = NULL, *out = NULL;
	uint8_t *report = NULL, *quote = NULL, target[COCOON_SGX_TARGET_INFO_SIZE];
	size_t report_len = 0, quote_len = 0;
	uint32_t status;
	int want_target = 0, c, rc = COCOON_EXIT_USAGE;
	char *end;
	unsigned long v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case Q_REPORT: report_path = optarg; break;
		case Q_TARGET: want_target = 1; break;
		case Q_SOCKET: ao.socket_path = optarg; break;
		case Q_TIMEOUT:
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v < 1 || v > 600000)
				return cocoon_cli_error("--timeout-ms: expected 1..600000, got '%s'", optarg);
			ao.timeout_ms = (unsigned int)v;
			break;
		case 'o':
		case Q_OUT: out = optarg; break;
		case Q_HELP: fputs(quote_usage, stdout); return 0;
		default: return COCOON_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cocoon_cli_error("quote: unexpected argument '%s' (see cocoon quote --help)", argv[optind]);
	if (!!report_path == want_target)
		return cocoon_cli_error("quote: give exactly one of --report FILE and --target-info");
	if (!out)
		return cocoon_cli_error("quote: -o FILE is required");

	if (want_target) {
		if (cocoon_aesm_qe_target_info(target, &status, &ao) != 0)
			return service_error("quote --target-info");
		if (cocoon_file_write(out, target, sizeof(target)) != 0)
			return cocoon_cli_error("%s", cocoon_error_last()->message);
		return 0;
	}
	if (cocoon_file_read(&report, &report_len, report_path) != 0) {
		rc = cocoon_cli_error("--report: %s", cocoon_error_last()->message);
		goto done;
	}
	if (report_len != COCOON_SGX_REPORT_SIZE_FULL) {
		rc = cocoon_cli_error("--report: %s holds %zu bytes; an sgx_report_t is %d (body 384, key ID 32, MAC 16)",
		                      report_path, report_len, COCOON_SGX_REPORT_SIZE_FULL);
		goto done;
	}
	if (cocoon_aesm_quote(&quote, &quote_len, &status, &ao, report) != 0) {
		rc = service_error("quote");
		goto done;
	}
	if (cocoon_file_write(out, quote, quote_len) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	free(report);
	free(quote);
	return rc;
}
