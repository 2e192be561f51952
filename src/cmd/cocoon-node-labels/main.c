/*
 * cocoon-node-labels: writes the node-feature-discovery feature file that
 * labels SGX nodes (FLC, SGX2/EDMM, EPC bytes), SEV-SNP guests and TDX
 * guests. Every detection reads an injectable root (docs/sgx-plugin.md).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/util.h"
#include "x86cpuid.h"
#include "labels.h"
#include "flags.h"
#include "nlog.h"

#define DEFAULT_OUTPUT "/etc/kubernetes/node-feature-discovery/features.d/cocoon"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_CONFIG = 2 };

typedef struct {
	const char *output, *cpuid_file, *dev_root, *sysfs_root, *configfs_root;
	unsigned interval_s;
	int log_level;
} options;

static void usage(const char *argv0)
{
	printf("usage: %s [flags]\n"
	       "Writes node-feature-discovery labels for SGX, SEV-SNP and TDX.\n\n"
	       "  --output FILE          feature file, '-' for stdout (default %s)\n"
	       "  --interval SECONDS     rewrite period; 0 writes once and exits (default 300)\n"
	       "  --cpuid-file FILE      read CPUID from a `cpuid -1 -r` dump\n"
	       "  --dev-root DIR         device nodes (default /dev)\n"
	       "  --sysfs-root DIR       sysfs (default /sys)\n"
	       "  --configfs-root DIR    configfs (default /sys/kernel/config)\n"
	       "  --log-level LEVEL      debug, info, warn or error (default info)\n"
	       "  --help\n",
	       argv0, DEFAULT_OUTPUT);
}

static int parse_args(options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },     { "interval", required_argument, NULL, 'i' },
		{ "cpuid-file", required_argument, NULL, 'c' }, { "dev-root", required_argument, NULL, 'd' },
		{ "sysfs-root", required_argument, NULL, 's' }, { "configfs-root", required_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->output = DEFAULT_OUTPUT;
	o->dev_root = "/dev";
	o->sysfs_root = "/sys";
	o->configfs_root = "/sys/kernel/config";
	o->interval_s = 300;
	o->log_level = COCOON_NLOG_INFO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v;
		int err;
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'c': o->cpuid_file = optarg; break;
		case 'd': o->dev_root = optarg; break;
		case 's': o->sysfs_root = optarg; break;
		case 'f': o->configfs_root = optarg; break;
		case 'i':
			if ((err = cocoon_flag_uint(&v, "--interval", optarg, 0, 86400)) != 0)
				return err;
			o->interval_s = (unsigned)v;
			break;
		case 'l':
			if ((o->log_level = cocoon_nlog_level_parse(optarg)) < 0)
				return cocoon_error_set(COCOON_EINVAL, "--log-level: unknown level '%s'", optarg);
			break;
		case 'h': usage(argv[0]); exit(EXIT_OK);
		default:
			return cocoon_error_set(COCOON_EINVAL, "unknown flag or missing value: '%s' (see --help)",
			                        argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cocoon_error_set(COCOON_EINVAL, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int write_once(const options *o, const cocoon_cpuid *cpuid)
{
	cocoon_labels_env env = { cpuid, o->dev_root, o->sysfs_root, o->configfs_root };
	cocoon_node_features f;
	char *text = NULL;
	int rc;

	if ((rc = cocoon_node_features_probe(&f, &env)) != 0 || (rc = cocoon_node_features_render(&text, &f)) != 0)
		return rc;
	if (strcmp(o->output, "-") == 0) {
		fputs(text, stdout);
		fflush(stdout);
	} else {
		rc = cocoon_node_features_write(o->output, text);
	}
	if (rc == 0)
		nlog_info("node features written", "{s:s,s:b,s:b,s:b,s:I,s:b,s:s?,s:b,s:s?}", "output", o->output,
		          "sgx", cocoon_sgx_present(&f.sgx), "sgx_flc", f.sgx.flc, "sgx2", f.sgx.sgx2, "epc_bytes", (json_int_t)f.sgx.epc_bytes, "sev_snp_guest", f.snp_guest,
		          "sev_snp_source", f.snp_source, "tdx_guest", f.tdx_guest, "tdx_source", f.tdx_source);
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	options o;
	cocoon_cpuid cpuid = { 0 };
	sigset_t set;
	int code = EXIT_CONFIG;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	cocoon_nlog_init("cocoon-node-labels", COCOON_NLOG_INFO);
	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) != 0 || cocoon_cpuid_open(&cpuid, o.cpuid_file) != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	cocoon_nlog_init("cocoon-node-labels", o.log_level);
	for (;;) {
		struct timespec ts = { (time_t)o.interval_s, 0 };
		int rc = write_once(&o, &cpuid);

		if (rc != 0) {
			nlog_error("cannot write the node features", "{s:s,s:i}", "error", cocoon_error_last()->message,
			           "retry_in_seconds", (int)o.interval_s);
			if (o.interval_s == 0) {
				code = EXIT_RUNTIME;
				break;
			}
		}
		code = EXIT_OK;
		if (o.interval_s == 0)
			break;
		if (sigtimedwait(&set, NULL, &ts) > 0) {
			nlog_info("shutting down", NULL);
			break;
		}
	}
done:
	cocoon_cpuid_close(&cpuid);
	return code;
}
