/* cocoon evidence: collect TEE evidence for 64 bytes of report data, or list the providers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cocoon/cocoon.h"
#include "cocoon/evidence.h"
#include "common/util.h"
#include "cli.h"

static const char evidence_usage[] =
	"usage: cocoon evidence --report-data HEX [--provider NAME] [--tee sgx|tdx|snp] [--sim DIR]\n"
	"                       [--vmpl N] [--no-certs] -o FILE [--certs FILE] [--json]\n"
	"       cocoon evidence --probe [--tee sgx|tdx|snp] [--sim DIR] [--json]\n"
	"\n"
	"  --report-data HEX       up to 64 bytes (128 hex digits), zero-padded; usually a hash\n"
	"                          binding a key or nonce to the evidence\n"
	"  --provider NAME         auto (default), configfs-tsm, sev-guest, gramine, tdx-guest, sim;\n"
	"                          auto-detection never picks tdx-guest or sim;\n"
	"                          vtpm: Azure CVM evidence (see --provider vtpm --help)\n"
	"  --tee sgx|tdx|snp       the evidence must be for this TEE; sim produces it (default sgx)\n"
	"  --sim DIR               the sim provider's directory (made by 'cocoon sim init')\n"
	"  --vmpl N                SNP: request the report at VMPL 0..3\n"
	"  --no-certs              SNP: skip the certificate table\n"
	"  -o, --output FILE       where the evidence goes (quote, SNP report or TDREPORT)\n"
	"  --certs FILE            where the SNP certificate table goes (empty when there is none)\n"
	"  --probe                 list every provider, its state and what it would produce\n"
	"  --json                  print one JSON object on stdout\n"
	"\n"
	"Paths, for tests and unusual hosts:\n"
	"  --configfs-root DIR (/sys/kernel/config), --sev-guest PATH (/dev/sev-guest),\n"
	"  --tdx-guest PATH (/dev/tdx_guest), --attestation-root DIR (/dev/attestation)\n"
	"\n"
	"Exit codes: 0 evidence written (--probe: auto-detection found a provider), 2 usage or\n"
	"input error, 3 no evidence: no provider is available or the provider failed\n"
	"(--probe: auto-detection found none).\n";

enum { E_RD = 256, E_PROVIDER, E_TEE, E_SIM, E_VMPL, E_NO_CERTS, E_OUT, E_CERTS, E_PROBE, E_JSON, E_HELP,
       E_CONFIGFS, E_SEV, E_TDX, E_ATTESTATION };

static const struct option evidence_options[] = {
	{ "report-data", required_argument, NULL, E_RD },   { "provider", required_argument, NULL, E_PROVIDER },
	{ "tee", required_argument, NULL, E_TEE },          { "sim", required_argument, NULL, E_SIM },
	{ "vmpl", required_argument, NULL, E_VMPL },        { "no-certs", no_argument, NULL, E_NO_CERTS },
	{ "output", required_argument, NULL, E_OUT },       { "certs", required_argument, NULL, E_CERTS },
	{ "probe", no_argument, NULL, E_PROBE },            { "json", no_argument, NULL, E_JSON },
	{ "help", no_argument, NULL, E_HELP },              { "configfs-root", required_argument, NULL, E_CONFIGFS },
	{ "sev-guest", required_argument, NULL, E_SEV },    { "tdx-guest", required_argument, NULL, E_TDX },
	{ "attestation-root", required_argument, NULL, E_ATTESTATION },
	{ NULL, 0, NULL, 0 }
};

static int tee_arg(cocoon_tee *out, const char *text)
{
	if (strcmp(text, "sgx") == 0)
		*out = COCOON_TEE_SGX;
	else if (strcmp(text, "tdx") == 0)
		*out = COCOON_TEE_TDX;
	else if (strcmp(text, "snp") == 0)
		*out = COCOON_TEE_SNP;
	else
		return cocoon_cli_error("--tee: expected sgx, tdx or snp, got '%.32s'", text);
	return 0;
}

static int print_json(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text)
		return cocoon_cli_error("out of memory writing JSON");
	printf("%s\n", text);
	free(text);
	return 0;
}

static int probe(const cocoon_evidence_options *o, int json_out)
{
	cocoon_probe_report r;
	json_t *list, *root;
	int rc;

	if (cocoon_evidence_probe(&r, o) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	rc = r.selected >= 0 ? 0 : COCOON_EXIT_NO_EVIDENCE;
	if (!json_out) {
		printf("%-13s %-10s %-5s %-4s %-12s %s\n", "PROVIDER", "STATE", "AUTO", "TEE", "FORMAT", "DETAIL");
		for (size_t i = 0; i < r.count; i++) {
			const cocoon_probe_entry *e = &r.entries[i];
			printf("%-13s %-10s %-5s %-4s %-12s %s\n", e->name, cocoon_probe_state_name(e->state),
			       e->auto_detect ? "yes" : "no", e->tee ? cocoon_tee_name(e->tee) : "-",
			       cocoon_evidence_format_name(e->format), e->detail);
		}
		if (r.selected >= 0)
			printf("auto-detection uses: %s\n", r.entries[r.selected].name);
		else
			printf("auto-detection finds no provider%s%s\n", o->tee ? " for " : "",
			       o->tee ? cocoon_tee_name(o->tee) : "");
		return rc;
	}
	list = json_array();
	for (size_t i = 0; i < r.count && list; i++) {
		const cocoon_probe_entry *e = &r.entries[i];
		json_array_append_new(list, json_pack("{s:s,s:s,s:b,s:s?,s:s,s:s}", "name", e->name, "state",
		                                      cocoon_probe_state_name(e->state), "auto_detect", e->auto_detect,
		                                      "tee", e->tee ? cocoon_tee_name(e->tee) : NULL, "format",
		                                      cocoon_evidence_format_name(e->format), "detail", e->detail));
	}
	root = json_pack("{s:s?,s:o}", "selected", r.selected >= 0 ? r.entries[r.selected].name : NULL, "providers",
	                 list ? list : json_null());
	if (print_json(root) != 0)
		rc = COCOON_EXIT_USAGE;
	json_decref(root);
	return rc;
}

static int collect(const cocoon_evidence_options *o, const char *out, const char *certs, int json_out)
{
	cocoon_evidence ev;
	json_t *summary;
	int rc = 0;

	if (cocoon_evidence_collect(&ev, o) != 0) {
		/* Bad options are usage errors; everything else means no evidence. */
		rc = cocoon_error_last()->code == COCOON_EINVAL ? COCOON_EXIT_USAGE : COCOON_EXIT_NO_EVIDENCE;
		cocoon_cli_error("%s", cocoon_error_last()->message);
		return rc;
	}
	if (cocoon_file_write(out, ev.evidence, ev.evidence_len) != 0 ||
	    (certs && cocoon_file_write(certs, ev.aux, ev.aux_len) != 0)) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	fprintf(stderr, "cocoon: %s: %zu-byte %s %s written to %s", ev.provider, ev.evidence_len,
	        cocoon_tee_name(ev.tee), cocoon_evidence_format_name(ev.format), out);
	if (certs)
		fprintf(stderr, "; %s to %s", ev.aux_len ? "certificate table" : "no certificate table (empty file)", certs);
	fputc('\n', stderr);
	if (json_out) {
		summary = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s?,s:I}", "provider", ev.provider, "tee",
		                    cocoon_tee_name(ev.tee), "format", cocoon_evidence_format_name(ev.format), "evidence",
		                    out, "evidence_len", (json_int_t)ev.evidence_len, "certs", certs, "certs_len",
		                    (json_int_t)ev.aux_len);
		if (print_json(summary) != 0)
			rc = COCOON_EXIT_USAGE;
		json_decref(summary);
	}
done:
	cocoon_evidence_free(&ev);
	return rc;
}

int cocoon_cmd_evidence(int argc, char **argv)
{
	cocoon_evidence_options o = COCOON_EVIDENCE_OPTIONS_INIT;
	const char *rd = NULL, *out = NULL, *certs = NULL;
	int do_probe = 0, json_out = 0, c;

	if (cocoon_cli_wants_vtpm_evidence(argc, argv))
		return cocoon_cmd_evidence_vtpm(argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", evidence_options, NULL)) != -1) {
		switch (c) {
		case E_RD: rd = optarg; break;
		case E_PROVIDER: o.provider = optarg; break;
		case E_TEE:
			if (tee_arg(&o.tee, optarg) != 0)
				return COCOON_EXIT_USAGE;
			break;
		case E_SIM: o.sim_dir = optarg; break;
		case E_VMPL:
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '3')
				return cocoon_cli_error("--vmpl: expected 0..3, got '%.32s'", optarg);
			o.snp_vmpl = optarg[0] - '0';
			break;
		case E_NO_CERTS: o.no_aux = 1; break;
		case 'o':
		case E_OUT: out = optarg; break;
		case E_CERTS: certs = optarg; break;
		case E_PROBE: do_probe = 1; break;
		case E_JSON: json_out = 1; break;
		case E_HELP: fputs(evidence_usage, stdout); return 0;
		case E_CONFIGFS: o.configfs_root = optarg; break;
		case E_SEV: o.sev_guest_path = optarg; break;
		case E_TDX: o.tdx_guest_path = optarg; break;
		case E_ATTESTATION: o.attestation_root = optarg; break;
		default: fputs(evidence_usage, stderr); return COCOON_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cocoon_cli_error("evidence: unexpected argument '%s' (see --help)", argv[optind]);
	if (do_probe) {
		if (rd || out || certs)
			return cocoon_cli_error("evidence: --probe collects nothing; drop --report-data, -o and --certs");
		return probe(&o, json_out);
	}
	if (!rd)
		return cocoon_cli_error("evidence: --report-data HEX is required (or --probe)");
	if (!out)
		return cocoon_cli_error("evidence: -o FILE is required");
	if (cocoon_evidence_report_data_from_hex(o.report_data, rd) != 0)
		return cocoon_cli_error("--report-data: %s", cocoon_error_last()->message);
	return collect(&o, out, certs, json_out);
}
