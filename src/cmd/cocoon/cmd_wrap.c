/* cocoon wrap: make a confidential image out of an OCI image layout (adds cocoon-run; docs/run.md). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cocoon/oci.h"
#include "cocoon/run.h"
#include "common/util.h"
#include "cli.h"

static const char wrap_usage[] =
	"usage: cocoon wrap --image DIR:TAG --tag NEWTAG --config launch.json [--run-binary PATH]\n"
	"\n"
	"Adds one layer with " COCOON_OCI_RUN_PATH " and " COCOON_OCI_LAUNCH_PATH " to the image\n"
	"TAG of the OCI image layout DIR, sets the entrypoint to cocoon-run and tags the\n"
	"result NEWTAG in the same layout. The original entrypoint and cmd become the launch\n"
	"configuration's \"command\" (unless it has one) and the labels " COCOON_OCI_LABEL_ENTRYPOINT "\n"
	"and " COCOON_OCI_LABEL_CMD ". The other layers are not touched.\n"
	"\n"
	"  --image DIR:TAG      the OCI image layout and the tag to wrap\n"
	"  --tag NEWTAG         the tag of the wrapped image (replaced if it exists)\n"
	"  --config FILE        launch configuration (docs/run.md); checked before it is embedded\n"
	"  --run-binary PATH    the static cocoon-run to embed (default: cocoon-run next to cocoon)\n"
	"  --mtime SECONDS      layer timestamps (default $SOURCE_DATE_EPOCH, else 0)\n"
	"\n"
	"Exit codes: 0 wrapped, 2 usage, input or layout error.\n";

enum { W_IMAGE = 256, W_TAG, W_CONFIG, W_RUN, W_MTIME, W_HELP };

static const struct option wrap_options[] = {
	{ "image", required_argument, NULL, W_IMAGE }, { "tag", required_argument, NULL, W_TAG },
	{ "config", required_argument, NULL, W_CONFIG }, { "run-binary", required_argument, NULL, W_RUN },
	{ "mtime", required_argument, NULL, W_MTIME }, { "help", no_argument, NULL, W_HELP },
	{ NULL, 0, NULL, 0 }
};

/* cocoon-run installed next to this cocoon binary. */
static int default_run_binary(char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);
	char *slash;
	if (n <= 0 || (size_t)n >= cap - 16)
		return -1;
	out[n] = '\0';
	if (!(slash = strrchr(out, '/')))
		return -1;
	strcpy(slash + 1, "cocoon-run");
	return access(out, R_OK) == 0 ? 0 : -1;
}

static int parse_mtime(time_t *out, const char *text, const char *what)
{
	char *end;
	long long v;
	if (!text || !*text)
		return 0;
	v = strtoll(text, &end, 10);
	if (*end || v < 0)
		return cocoon_cli_error("%s: expected seconds since 1970, got '%.32s'", what, text);
	*out = (time_t)v;
	return 0;
}

int cocoon_cmd_wrap(int argc, char **argv)
{
	cocoon_oci_wrap_options o = COCOON_OCI_WRAP_OPTIONS_INIT;
	cocoon_oci_wrap_result r;
	char *image = NULL, *colon, run_path[PATH_MAX];
	const char *config = NULL, *run = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	int c, rc = COCOON_EXIT_USAGE;

	if (parse_mtime(&o.mtime, getenv("SOURCE_DATE_EPOCH"), "SOURCE_DATE_EPOCH") != 0)
		return COCOON_EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", wrap_options, NULL)) != -1) {
		switch (c) {
		case W_IMAGE: image = optarg; break;
		case W_TAG: o.to_tag = optarg; break;
		case W_CONFIG: config = optarg; break;
		case W_RUN: run = optarg; break;
		case W_MTIME: if (parse_mtime(&o.mtime, optarg, "--mtime") != 0) return COCOON_EXIT_USAGE; break;
		case W_HELP: fputs(wrap_usage, stdout); return 0;
		default: fputs(wrap_usage, stderr); return COCOON_EXIT_USAGE;
		}
	}
	if (optind < argc || !image || !o.to_tag || !config) {
		fputs(wrap_usage, stderr);
		return cocoon_cli_error("wrap: --image DIR:TAG, --tag and --config are required");
	}
	if (!(colon = strrchr(image, ':')) || colon == image || !colon[1])
		return cocoon_cli_error("wrap: --image must be DIR:TAG, got '%.128s'", image);
	if (!run) {
		if (default_run_binary(run_path, sizeof(run_path)) != 0)
			return cocoon_cli_error("wrap: no cocoon-run next to this cocoon; pass --run-binary PATH");
		run = run_path;
	}
	*colon = '\0';
	o.layout = image;
	o.from_tag = colon + 1;
	o.run_binary = run;
	if (cocoon_file_read(&text, &len, config) != 0) {
		rc = cocoon_cli_error("wrap: %s", cocoon_error_last()->message);
		goto done;
	}
	o.launch_config = (const char *)text;
	o.launch_config_len = len;
	if (cocoon_oci_wrap(&r, &o) != 0) {
		rc = cocoon_cli_error("wrap: %s", cocoon_error_last()->message);
		goto done;
	}
	printf("wrapped %s:%s as %s:%s\n  manifest %s\n  config   %s\n  layer    %s (%llu bytes, diff_id %s)\n"
	       "  command  %s\n",
	       o.layout, o.from_tag, o.layout, o.to_tag, r.manifest_digest, r.config_digest, r.layer_digest,
	       (unsigned long long)r.layer_size, r.layer_diff_id,
	       r.command_from_image ? "the image's Entrypoint + Cmd" : "the launch configuration's");
	rc = 0;
done:
	*colon = ':';
	free(text);
	return rc;
}
