/*
 * cocoon evidence --provider vtpm: Azure CVM evidence through the vTPM
 * (cocoon_vtpm_collect), written as az-snp-vtpm v2 JSON. Kept apart from
 * cmd_evidence.c, which calls it from one spot, because the nonce is used
 * as given (no padding to 64 bytes) and the output is JSON, not a report.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/vtpm.h"
#include "common/util.h"
#include "cli.h"

static const char usage[] =
	"usage: cocoon evidence --provider vtpm --report-data HEX [--vcek FILE | --imds-url URL]\n"
	"                       [--imds-tdquote-url URL]\n"
	"                       [--tcti CONF] [--refresh-delay-ms N] -o FILE\n"
	"\n"
	"Azure confidential VM (az-snp-vtpm): writes HEX (1..64 bytes, used as given) to vTPM NV\n"
	"0x01400002, waits for the paravisor to refresh the HCL report (default 3000 ms), reads\n"
	"it from NV 0x01400001, quotes SHA-256 PCRs 0..23 with the AK at 0x81000003 (nonce = HEX)\n"
	"and writes v2 evidence JSON. The VCEK comes from --vcek FILE, else from Azure IMDS THIM\n"
	"(--imds-url URL, default " COCOON_VTPM_IMDS_THIM_URL ").\n"
	"az-tdx-vtpm (the HCL report holds a TDREPORT): the TD quote comes from IMDS\n"
	"(--imds-tdquote-url URL, default " COCOON_VTPM_IMDS_TDQUOTE_URL ").\n"
	"--tcti: tpm2-tss TCTI (default device:/dev/tpmrm0; tests: swtpm:host=...,port=...).\n"
	"Exit codes: 0 evidence written, 2 usage error, 3 no evidence (the vTPM failed).\n";

int cocoon_cli_wants_vtpm_evidence(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--provider=vtpm") == 0 ||
		    (strcmp(argv[i], "--provider") == 0 && i + 1 < argc && strcmp(argv[i + 1], "vtpm") == 0))
			return 1;
	}
	return 0;
}

enum { V_PROVIDER = 256, V_RD, V_VCEK, V_TCTI, V_DELAY, V_OUT, V_HELP, V_IMDS, V_IMDS_TDQ };

int cocoon_cmd_evidence_vtpm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, V_PROVIDER }, { "report-data", required_argument, NULL, V_RD },
		{ "vcek", required_argument, NULL, V_VCEK },         { "tcti", required_argument, NULL, V_TCTI },
		{ "refresh-delay-ms", required_argument, NULL, V_DELAY }, { "output", required_argument, NULL, V_OUT },
		{ "help", no_argument, NULL, V_HELP },               { "imds-url", required_argument, NULL, V_IMDS },
		{ "imds-tdquote-url", required_argument, NULL, V_IMDS_TDQ },
		{ NULL, 0, NULL, 0 }
	};
	cocoon_vtpm_collect_options o = COCOON_VTPM_COLLECT_OPTIONS_INIT;
	cocoon_vtpm_evidence *ev = NULL;
	uint8_t *rd = NULL, *vcek = NULL;
	size_t rd_len = 0, vcek_len = 0;
	const char *out = NULL, *vcek_path = NULL;
	char *json = NULL, *end;
	int c, rc = COCOON_EXIT_USAGE;
	long delay;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case V_PROVIDER: break;
		case V_RD:
			free(rd);
			rd = NULL;
			if (cocoon_hex_decode_alloc(&rd, &rd_len, optarg, strlen(optarg)) != 0 || !rd_len || rd_len > 64) {
				rc = cocoon_cli_error("--report-data: expected hex of 1..64 bytes");
				goto done;
			}
			break;
		case V_VCEK: vcek_path = optarg; break;
		case V_TCTI: o.tcti = optarg; break;
		case V_IMDS: o.imds_thim_url = optarg; break;
		case V_IMDS_TDQ: o.imds_tdquote_url = optarg; break;
		case V_DELAY:
			delay = strtol(optarg, &end, 10);
			if (*end || delay < 0 || delay > 60000) {
				rc = cocoon_cli_error("--refresh-delay-ms: expected 0..60000, got '%s'", optarg);
				goto done;
			}
			o.refresh_delay_ms = (unsigned)delay;
			break;
		case 'o':
		case V_OUT: out = optarg; break;
		case V_HELP: fputs(usage, stdout); rc = 0; goto done;
		default: fputs(usage, stderr); goto done;
		}
	}
	if (optind < argc || !rd || !out) {
		fputs(usage, stderr);
		rc = cocoon_cli_error("evidence --provider vtpm: --report-data HEX and -o FILE are required");
		goto done;
	}
	if (vcek_path && cocoon_file_read(&vcek, &vcek_len, vcek_path) != 0) {
		rc = cocoon_cli_error("--vcek: %s", cocoon_error_last()->message);
		goto done;
	}
	/* tpm2-tss logs each failing command on stderr; our message names it and its response code. */
	setenv("TSS2_LOG", "esys+none,marshal+none,tcti+none", 0);
	o.report_data = rd;
	o.report_data_len = rd_len;
	o.vcek = vcek;
	o.vcek_len = vcek_len;
	if (cocoon_vtpm_collect(&ev, &o) != 0 || cocoon_vtpm_evidence_to_json(&json, ev) != 0) {
		fprintf(stderr, "cocoon: %s\n", cocoon_error_last()->message);
		rc = COCOON_EXIT_NO_EVIDENCE;
		goto done;
	}
	if (cocoon_file_write(out, (const uint8_t *)json, strlen(json)) != 0) {
		rc = cocoon_cli_error("-o: %s", cocoon_error_last()->message);
		goto done;
	}
	rc = 0;
done:
	free(json);
	free(rd);
	free(vcek);
	cocoon_vtpm_evidence_free(ev);
	return rc;
}
