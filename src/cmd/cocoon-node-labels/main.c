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
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/util.h"
#include "x86cpuid.h"
#include "labels.h"
#include "flags.h"
#include "loop.h"
#include "metrics_http.h"
#include "nlog.h"

#define DEFAULT_OUTPUT "/etc/kubernetes/node-feature-discovery/features.d/cocoon"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_CONFIG = 2 };

typedef struct {
	const char *output, *cpuid_file, *dev_root, *sysfs_root, *configfs_root, *metrics_listen;
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
	       "  --metrics-listen HOST:PORT  serve /metrics, /healthz and /readyz over HTTP\n"
	       "                         (default off; needs --interval > 0)\n"
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
		{ "log-level", required_argument, NULL, 'l' },
		{ "metrics-listen", required_argument, NULL, 'm' },  { "help", no_argument, NULL, 'h' },
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
		case 'm': o->metrics_listen = optarg; break;
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
	if (o->metrics_listen && o->interval_s == 0)
		return cocoon_error_set(COCOON_EINVAL, "--metrics-listen needs --interval > 0: a one-shot run has no "
		                                       "endpoint to serve");
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

/* The daemon mode: one write every interval, on the shared loop that also serves /metrics. */
typedef struct {
	const options *o;
	const cocoon_cpuid *cpuid;
	cocoon_loop *loop;
	cocoon_watch sig;
	cocoon_timer tick;
	cocoon_metrics *metrics;
	cocoon_metric *m_runs, *m_failures, *m_last_success;
	cocoon_mhttp *http;
	int ran, last_ok;
} daemon_state;

static void run_once(daemon_state *d)
{
	int rc = write_once(d->o, d->cpuid);

	d->ran = 1;
	d->last_ok = rc == 0;
	cocoon_metric_inc(d->m_runs);
	if (rc == 0) {
		cocoon_metric_set(d->m_last_success, (int64_t)time(NULL));
	} else {
		cocoon_metric_inc(d->m_failures);
		nlog_error("cannot write the node features", "{s:s,s:i}", "error", cocoon_error_last()->message,
		           "retry_in_seconds", (int)d->o->interval_s);
	}
}

static void on_tick(cocoon_timer *t)
{
	daemon_state *d = t->ctx;

	run_once(d);
	cocoon_loop_timer_arm(d->loop, &d->tick, (uint64_t)d->o->interval_s * 1000);
}

static void on_signal(cocoon_watch *w, uint32_t events)
{
	daemon_state *d = w->ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		nlog_info("shutting down", "{s:i}", "signal", (int)si.ssi_signo);
	cocoon_loop_stop(d->loop);
}

/* Live: the loop answers (the writes run on it). Ready: the last write succeeded. */
static int labels_health(void *ctx, int ready, char *why, size_t why_len)
{
	daemon_state *d = ctx;

	if (ready && !d->last_ok) {
		snprintf(why, why_len, "%s", d->ran ? "the last write of the feature file failed (see the log)"
		                                    : "no write yet");
		return 1;
	}
	return 0;
}

static int metrics_setup(daemon_state *d)
{
	cocoon_metrics *m;
	int rc;

	if ((rc = cocoon_metrics_new(&d->metrics)) != 0)
		return rc;
	m = d->metrics;
	d->m_runs = cocoon_metrics_counter(m, "cocoon_node_labels_runs_total", NULL,
	                                   "Probe-and-write runs, successful or not.");
	d->m_failures = cocoon_metrics_counter(m, "cocoon_node_labels_failures_total", NULL,
	                                       "Runs that could not probe or write the feature file.");
	d->m_last_success = cocoon_metrics_gauge(m, "cocoon_node_labels_last_success_timestamp_seconds", NULL,
	                                         "Unix time of the last successful write; 0 before one.");
	if (!d->m_last_success)
		return cocoon_error_set(COCOON_EINTERNAL, "metrics registry full");
	if (!d->o->metrics_listen)
		return 0;
	if ((rc = cocoon_mhttp_start(&d->http, d->loop, d->o->metrics_listen, m, labels_health, d)) != 0)
		return rc;
	nlog_info("metrics listening", "{s:s,s:i}", "address", d->o->metrics_listen, "port",
	          cocoon_mhttp_port(d->http));
	return 0;
}

static int serve(const options *o, const cocoon_cpuid *cpuid, const sigset_t *set)
{
	daemon_state d;
	int code = EXIT_RUNTIME;

	memset(&d, 0, sizeof(d));
	d.o = o;
	d.cpuid = cpuid;
	d.sig.fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	d.sig.fn = on_signal;
	d.sig.ctx = &d;
	d.tick.fn = on_tick;
	d.tick.ctx = &d;
	if (d.sig.fd < 0 || cocoon_loop_new(&d.loop) != 0 || cocoon_loop_watch_add(d.loop, &d.sig, EPOLLIN) != 0) {
		nlog_error("cannot set up the event loop", "{s:s}", "error", strerror(errno));
		goto done;
	}
	if (metrics_setup(&d) != 0) {
		nlog_error("cannot serve metrics", "{s:s}", "error", cocoon_error_last()->message);
		code = cocoon_error_last()->code == COCOON_EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
		goto done;
	}
	cocoon_loop_timer_arm(d.loop, &d.tick, 0);
	code = cocoon_loop_run(d.loop) == 0 ? EXIT_OK : EXIT_RUNTIME;
done:
	if (d.loop)
		cocoon_loop_timer_cancel(d.loop, &d.tick);
	cocoon_mhttp_stop(d.http);
	cocoon_metrics_free(d.metrics);
	if (d.sig.fd >= 0)
		close(d.sig.fd);
	cocoon_loop_free(d.loop);
	return code;
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
	signal(SIGPIPE, SIG_IGN);
	cocoon_nlog_init("cocoon-node-labels", COCOON_NLOG_INFO);
	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) != 0 || cocoon_cpuid_open(&cpuid, o.cpuid_file) != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	cocoon_nlog_init("cocoon-node-labels", o.log_level);
	if (o.interval_s == 0) {
		code = write_once(&o, &cpuid) == 0 ? EXIT_OK : EXIT_RUNTIME;
		if (code != EXIT_OK)
			nlog_error("cannot write the node features", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	code = serve(&o, &cpuid, &set);
done:
	cocoon_cpuid_close(&cpuid);
	return code;
}
