/* cocoon inspect: decode every field of a quote or SNP report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/cocoon.h"
#include "common/util.h"
#include "cli.h"

static const char inspect_usage[] = "usage: cocoon inspect FILE [--json]\n"
				    "Decodes a DCAP quote (SGX v3, TDX v4/v5) or an SEV-SNP report.\n";

int cocoon_cmd_inspect(int argc, char **argv)
{
	const char *path = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char *out = NULL;
	int json = 0, rc = COCOON_EXIT_USAGE, err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(inspect_usage, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1])
			return cocoon_cli_error("inspect: unknown option '%s'", argv[i]);
		else if (path)
			return cocoon_cli_error("inspect: only one FILE, got '%s' and '%s'", path, argv[i]);
		else
			path = argv[i];
	}
	if (!path) {
		fputs(inspect_usage, stderr);
		return cocoon_cli_error("inspect: FILE is required");
	}
	if (cocoon_file_read(&data, &len, path) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_snp_report_looks_like(data, len))
		err = json ? cocoon_snp_report_inspect_json(&out, data, len) : cocoon_snp_report_inspect_text(&out, data, len);
	else
		err = json ? cocoon_quote_inspect_json(&out, data, len) : cocoon_quote_inspect_text(&out, data, len);
	if (err) {
		rc = cocoon_cli_error("%s: %s", path, cocoon_error_last()->message);
		goto done;
	}
	fputs(out, stdout);
	if (len && out[strlen(out) - 1] != '\n')
		fputc('\n', stdout);
	rc = 0;
done:
	free(out);
	free(data);
	return rc;
}
