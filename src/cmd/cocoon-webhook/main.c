/*
 * cocoon-webhook: flags, their checks, then the server. Bad flags stop the
 * daemon at start with exit code 2 and a message naming the flag, so a
 * misconfigured Deployment crash-loops visibly instead of admitting pods.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

static const char USAGE[] =
	"usage: cocoon-webhook --tls-cert FILE --tls-key FILE --image REF [options]\n"
	"Mutating admission webhook (AdmissionReview admission.k8s.io/v1) that wraps pods labelled\n"
	"cocoon.io/confidential=\"true\" in cocoon-run. Serves POST /mutate, GET /healthz, GET /metrics over HTTPS.\n"
	"  --listen ADDR:PORT          numeric address (default 0.0.0.0:8443; port 0 picks one, logged)\n"
	"  --tls-cert FILE             PEM certificate chain; re-read when the file changes\n"
	"  --tls-key FILE              PEM private key; re-read when the file changes\n"
	"  --reload-seconds N          how often the certificate files are checked (default 10, 1..3600)\n"
	"  --image REF                 cocoon image for the init container that installs cocoon-run\n"
	"  --image-pull-policy P       Always, IfNotPresent or Never (default: the cluster's)\n"
	"  --install-command PATH      cocoon-run inside the image (default /usr/local/bin/cocoon-run)\n"
	"  --mount-dir PATH            where cocoon-run and its config appear in app containers (default /cocoon)\n"
	"  --secrets-dir PATH          cocoon-run's secrets directory; no hostPath may cover it\n"
	"                              (default /run/cocoon/secrets)\n"
	"  --epc-resource NAME         extended resource for cocoon.io/sgx-epc-mib\n"
	"                              (default kubernetes.azure.com/sgx_epc_mem_in_MiB)\n"
	"  --quote-helper-dir PATH     node directory of the quote helper's socket (default /var/run/aesmd)\n"
	"  --quote-helper-gid N        group of that socket, added to the pod (default 5791)\n"
	"  --default-configmap NAME    launch config for pods that name none (default: deny them)\n"
	"  --max-body-bytes N          larger requests get 413 (default 3145728, 1024..67108864)\n"
	"  --drain-seconds N           after SIGTERM, time for reviews in flight (default 2, 0..60)\n"
	"  --version, --help\n"
	"Exit codes: 0 stopped by a signal, 1 runtime failure, 2 bad flags, 3 cannot listen or load TLS.\n";

enum { O_LISTEN = 256, O_CERT, O_KEY, O_RELOAD, O_IMAGE, O_PULL, O_INSTALL, O_MOUNT, O_SECRETS, O_EPC, O_QH_DIR,
       O_QH_GID, O_DEFAULT_CM, O_MAX_BODY, O_DRAIN, O_VERSION, O_HELP };

static const struct option LONG_OPTS[] = {
	{ "listen", required_argument, NULL, O_LISTEN }, { "tls-cert", required_argument, NULL, O_CERT },
	{ "tls-key", required_argument, NULL, O_KEY }, { "reload-seconds", required_argument, NULL, O_RELOAD },
	{ "image", required_argument, NULL, O_IMAGE }, { "image-pull-policy", required_argument, NULL, O_PULL },
	{ "install-command", required_argument, NULL, O_INSTALL }, { "mount-dir", required_argument, NULL, O_MOUNT },
	{ "secrets-dir", required_argument, NULL, O_SECRETS }, { "epc-resource", required_argument, NULL, O_EPC },
	{ "quote-helper-dir", required_argument, NULL, O_QH_DIR },
	{ "quote-helper-gid", required_argument, NULL, O_QH_GID },
	{ "default-configmap", required_argument, NULL, O_DEFAULT_CM },
	{ "max-body-bytes", required_argument, NULL, O_MAX_BODY }, { "drain-seconds", required_argument, NULL, O_DRAIN },
	{ "version", no_argument, NULL, O_VERSION }, { "help", no_argument, NULL, O_HELP }, { NULL, 0, NULL, 0 }
};

/* A decimal in [lo, hi]; anything else is a usage error naming the flag. */
static int parse_int(long long *out, const char *flag, const char *s, long long lo, long long hi)
{
	char *end;
	long long v;
	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12 || (v = strtoll(s, &end, 10)) < lo ||
	    v > hi) {
		fprintf(stderr, "cocoon-webhook: --%s must be a whole number from %lld to %lld, not '%s'\n", flag, lo, hi,
		        s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

static int absolute(const char *flag, const char *p, char *why, size_t n)
{
	if (p && p[0] == '/' && strlen(p) < 256 && !strstr(p, "/../") && !strpbrk(p, " \t\n"))
		return 0;
	snprintf(why, n, "--%s must be an absolute path without spaces or '..' (got '%s')", flag, p ? p : "");
	return -1;
}

int webhook_config_check(const webhook_config *c, char *why, size_t n)
{
	if (!c->image || !*c->image || strpbrk(c->image, " \t\n\"'"))
		return snprintf(why, n, "--image is required: the cocoon image reference (registry/name:tag or @digest)"),
		       -1;
	if (c->image_pull_policy && strcmp(c->image_pull_policy, "Always") != 0 &&
	    strcmp(c->image_pull_policy, "IfNotPresent") != 0 && strcmp(c->image_pull_policy, "Never") != 0)
		return snprintf(why, n, "--image-pull-policy must be Always, IfNotPresent or Never, not '%s'",
		                c->image_pull_policy), -1;
	if (absolute("install-command", c->install_command, why, n) || absolute("mount-dir", c->mount_dir, why, n) ||
	    absolute("secrets-dir", c->secrets_dir, why, n) || absolute("quote-helper-dir", c->aesmd_dir, why, n))
		return -1;
	if (strcmp(c->mount_dir, "/") == 0)
		return snprintf(why, n, "--mount-dir must not be /"), -1;
	if (!c->epc_resource || !strchr(c->epc_resource, '/') || strpbrk(c->epc_resource, " \t\n~"))
		return snprintf(why, n, "--epc-resource must be a domain-qualified resource name such as "
		                "kubernetes.azure.com/sgx_epc_mem_in_MiB"), -1;
	if (c->default_configmap && (!*c->default_configmap || strlen(c->default_configmap) > 253))
		return snprintf(why, n, "--default-configmap must be a ConfigMap name"), -1;
	return 0;
}

static int parse_flags(int argc, char **argv, webhook_server_opts *o, webhook_config *c)
{
	long long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "", LONG_OPTS, NULL)) != -1) {
		switch (opt) {
		case O_LISTEN: o->listen = optarg; break;
		case O_CERT: o->tls_cert = optarg; break;
		case O_KEY: o->tls_key = optarg; break;
		case O_RELOAD:
			if (parse_int(&v, "reload-seconds", optarg, 1, 3600))
				return -1;
			o->reload_seconds = (int)v;
			break;
		case O_IMAGE: c->image = optarg; break;
		case O_PULL: c->image_pull_policy = optarg; break;
		case O_INSTALL: c->install_command = optarg; break;
		case O_MOUNT: c->mount_dir = optarg; break;
		case O_SECRETS: c->secrets_dir = optarg; break;
		case O_EPC: c->epc_resource = optarg; break;
		case O_QH_DIR: c->aesmd_dir = optarg; break;
		case O_QH_GID:
			if (parse_int(&v, "quote-helper-gid", optarg, 1, 2147483647))
				return -1;
			c->aesmd_gid = v;
			break;
		case O_DEFAULT_CM: c->default_configmap = optarg; break;
		case O_MAX_BODY:
			if (parse_int(&v, "max-body-bytes", optarg, 1024, 64 << 20))
				return -1;
			o->max_body_bytes = (size_t)v;
			break;
		case O_DRAIN:
			if (parse_int(&v, "drain-seconds", optarg, 0, 60))
				return -1;
			o->drain_seconds = (int)v;
			break;
		case O_VERSION: printf("cocoon-webhook %s\n", COCOON_VERSION); exit(0);
		case O_HELP: fputs(USAGE, stdout); exit(0);
		default: fputs(USAGE, stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cocoon-webhook: unexpected argument '%s'\n%s", argv[optind], USAGE);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	webhook_config cfg = WEBHOOK_CONFIG_INIT;
	webhook_server_opts o = { .listen = "0.0.0.0:8443", .max_body_bytes = 3 << 20, .reload_seconds = 10,
		                  .drain_seconds = 2, .policy = &cfg };
	char why[512];

	if (parse_flags(argc, argv, &o, &cfg) != 0)
		return WEBHOOK_EXIT_USAGE;
	if (!o.tls_cert || !o.tls_key) {
		fprintf(stderr, "cocoon-webhook: --tls-cert and --tls-key are required: the API server only calls "
		        "webhooks over HTTPS\n");
		return WEBHOOK_EXIT_USAGE;
	}
	if (webhook_config_check(&cfg, why, sizeof(why)) != 0) {
		fprintf(stderr, "cocoon-webhook: %s\n", why);
		return WEBHOOK_EXIT_USAGE;
	}
	return webhook_server_run(&o);
}
