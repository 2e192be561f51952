/*
 * cocoon-epc-reconciler: keeps sgx.intel.com/epc, the node's EPC in bytes, in
 * its status capacity (reconcile.c). It runs beside cocoon-sgx-plugin in the
 * same pod but in its own container, so that only this process holds the
 * service-account token and talks to the API server, and the device plugin
 * links no HTTP client. A kubelet restart (kubelet.sock created in the
 * device-plugin directory, watched read-only) triggers a quick re-check.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "common/util.h"
#include "kube.h"
#include "flags.h"
#include "loop.h"
#include "metrics_http.h"
#include "nlog.h"
#include "reconcile.h"
#include "sgx.h"
#include "x86cpuid.h"

#ifndef COCOON_VERSION
#define COCOON_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_CONFIG = 2 };

typedef struct {
	const char *node_name, *kubeconfig, *api_server, *sa_dir, *plugin_dir, *cpuid_file, *sysfs_root;
	const char *metrics_listen;
	unsigned resync_s;
	int wait_without_sgx, log_level;
} options;

typedef struct {
	cocoon_loop *loop;
	cocoon_epcrec *rec;
	cocoon_watch sig, ino;
	const char *plugin_dir;
	int wd;
	cocoon_timer rewatch;
	cocoon_metrics *metrics;
	cocoon_metric *m_kubelet_restarts;
	cocoon_epcrec_stats stats;
	cocoon_mhttp *http;
	uint64_t started_ms, stall_ms;
} daemon_state;

static void usage(const char *argv0)
{
	printf("usage: %s [flags]\n"
	       "Keeps sgx.intel.com/epc (bytes of EPC) in this node's status capacity.\n\n"
	       "  --node-name NAME          the node to patch (default $NODE_NAME)\n"
	       "  --service-account-dir DIR token and ca.crt (default "
	       "/var/run/secrets/kubernetes.io/serviceaccount)\n"
	       "  --api-server URL          API server URL instead of $KUBERNETES_SERVICE_HOST/PORT\n"
	       "  --kubeconfig FILE         JSON kubeconfig instead of the service account (development)\n"
	       "  --resync-seconds S        period of the check (default 60)\n"
	       "  --plugin-dir DIR          watched for kubelet restarts (default "
	       "/var/lib/kubelet/device-plugins)\n"
	       "  --cpuid-file FILE         read CPUID from a `cpuid -1 -r` dump\n"
	       "  --sysfs-root DIR          sysfs mount for the EPC cross-check (default /sys)\n"
	       "  --wait-without-sgx        stay running (idle) on a node without SGX\n"
	       "  --metrics-listen HOST:PORT serve /metrics, /healthz and /readyz over HTTP (default off)\n"
	       "  --log-level LEVEL         debug, info, warn or error (default info)\n"
	       "  --help, --version\n",
	       argv0);
}

/* Kubernetes node names are DNS subdomains; anything else would also be unsafe in a URL path. */
static int node_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 253 || n[0] == '.' || n[0] == '-' || n[len - 1] == '.' || n[len - 1] == '-')
		return 0;
	return strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789.-") == len;
}

static int parse_args(options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node-name", required_argument, NULL, 'n' },      { "kubeconfig", required_argument, NULL, 'k' },
		{ "api-server", required_argument, NULL, 'a' },     { "service-account-dir", required_argument, NULL, 's' },
		{ "resync-seconds", required_argument, NULL, 'r' }, { "plugin-dir", required_argument, NULL, 'p' },
		{ "cpuid-file", required_argument, NULL, 'c' },     { "sysfs-root", required_argument, NULL, 'y' },
		{ "wait-without-sgx", no_argument, NULL, 'w' },     { "log-level", required_argument, NULL, 'l' },
		{ "metrics-listen", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },                 { "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("NODE_NAME");
	struct stat st;
	int c;

	o->node_name = env && env[0] ? env : NULL;
	o->sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
	o->plugin_dir = "/var/lib/kubelet/device-plugins";
	o->sysfs_root = "/sys";
	o->resync_s = 60;
	o->log_level = COCOON_NLOG_INFO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v;
		int err;
		switch (c) {
		case 'n': o->node_name = optarg; break;
		case 'k': o->kubeconfig = optarg; break;
		case 'a': o->api_server = optarg; break;
		case 's': o->sa_dir = optarg; break;
		case 'p': o->plugin_dir = optarg; break;
		case 'c': o->cpuid_file = optarg; break;
		case 'y': o->sysfs_root = optarg; break;
		case 'w': o->wait_without_sgx = 1; break;
		case 'm': o->metrics_listen = optarg; break;
		case 'r':
			if ((err = cocoon_flag_uint(&v, "--resync-seconds", optarg, 1, 86400)) != 0)
				return err;
			o->resync_s = (unsigned)v;
			break;
		case 'l':
			if ((o->log_level = cocoon_nlog_level_parse(optarg)) < 0)
				return cocoon_error_set(COCOON_EINVAL, "--log-level: unknown level '%s'", optarg);
			break;
		case 'h': usage(argv[0]); exit(EXIT_OK);
		case 'v': printf("cocoon-epc-reconciler %s\n", COCOON_VERSION); exit(EXIT_OK);
		default:
			return cocoon_error_set(COCOON_EINVAL, "unknown flag or missing value: '%s' (see --help)",
			                        argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cocoon_error_set(COCOON_EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->node_name)
		return cocoon_error_set(COCOON_EINVAL,
		                        "the node name is unknown: set NODE_NAME from spec.nodeName or pass --node-name");
	if (!node_name_ok(o->node_name))
		return cocoon_error_set(COCOON_EINVAL, "--node-name '%.64s' is not a valid Kubernetes node name",
		                        o->node_name);
	if (stat(o->sysfs_root, &st) != 0 || !S_ISDIR(st.st_mode))
		return cocoon_error_set(COCOON_EINVAL, "--sysfs-root %s is not a directory", o->sysfs_root);
	return 0;
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

static void watch_dir(daemon_state *d)
{
	d->wd = inotify_add_watch(d->ino.fd, d->plugin_dir,
	                          IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	if (d->wd < 0)
		cocoon_loop_timer_arm(d->loop, &d->rewatch, 5000);
}

static void on_rewatch(cocoon_timer *t)
{
	daemon_state *d = t->ctx;

	watch_dir(d);
	if (d->wd >= 0)
		nlog_info("watching for kubelet restarts", "{s:s}", "directory", d->plugin_dir);
}

static void on_inotify_event(void *ctx, const struct inotify_event *ev)
{
	daemon_state *d = ctx;

	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (ev->wd == d->wd) {
			d->wd = -1;
			cocoon_loop_timer_arm(d->loop, &d->rewatch, 1000);
		}
	} else if (ev->len && strcmp(ev->name, "kubelet.sock") == 0) {
		nlog_info("kubelet restarted; re-checking the EPC capacity soon", NULL);
		cocoon_metric_inc(d->m_kubelet_restarts);
		cocoon_epcrec_kick(d->rec);
	} else if (ev->mask & IN_Q_OVERFLOW) {
		cocoon_epcrec_kick(d->rec);
	}
}

static void on_inotify(cocoon_watch *w, uint32_t events)
{
	(void)events;
	cocoon_inotify_drain(w->fd, on_inotify_event, w->ctx);
}

/*
 * Live: the loop answers and the reconciler thread ended a round recently
 * (a round is bounded by two request timeouts, and the wait between rounds
 * by the resync period). Ready: the last round succeeded.
 */
static int rec_health(void *ctx, int ready, char *why, size_t why_len)
{
	daemon_state *d = ctx;
	uint64_t now = cocoon_loop_now_ms();
	int64_t last = atomic_load(&d->stats.last_round_ms);
	uint64_t since = last ? (uint64_t)last : d->started_ms;

	if (now - since > d->stall_ms) {
		snprintf(why, why_len, "reconciler thread stalled: no round ended for %llu s",
		         (unsigned long long)((now - since) / 1000));
		return 1;
	}
	if (ready && !atomic_load(&d->stats.last_ok)) {
		snprintf(why, why_len, "%s", last ? "the last reconciliation failed (see the log)"
		                                  : "no reconciliation has finished yet");
		return 1;
	}
	return 0;
}

static int metrics_setup(daemon_state *d, const options *o, uint64_t epc_bytes)
{
	cocoon_metrics *m;
	cocoon_metric *bytes;
	int rc;

	if ((rc = cocoon_metrics_new(&d->metrics)) != 0)
		return rc;
	m = d->metrics;
	d->stats.rounds = cocoon_metrics_counter(m, "cocoon_epc_reconciler_reconciliations_total", NULL,
	                                         "Check-and-patch rounds finished, successful or not.");
	d->stats.patches = cocoon_metrics_counter(m, "cocoon_epc_reconciler_patches_total", NULL,
	                                          "PATCHes of the node status that took effect.");
	d->stats.failures = cocoon_metrics_counter(m, "cocoon_epc_reconciler_failures_total", NULL,
	                                           "Rounds that failed (API server unreachable, refused, RBAC).");
	d->stats.last_success = cocoon_metrics_gauge(m, "cocoon_epc_reconciler_last_success_timestamp_seconds", NULL,
	                                             "Unix time of the last successful round; 0 before one.");
	bytes = cocoon_metrics_gauge(m, "cocoon_epc_reconciler_epc_bytes", NULL,
	                             "EPC bytes this node has, the value kept in sgx.intel.com/epc.");
	d->m_kubelet_restarts = cocoon_metrics_counter(m, "cocoon_epc_reconciler_kubelet_restarts_total", NULL,
	                                               "kubelet restarts seen (kubelet.sock created).");
	if (!d->m_kubelet_restarts)
		return cocoon_error_set(COCOON_EINTERNAL, "metrics registry full");
	cocoon_metric_set(bytes, (int64_t)epc_bytes);
	d->started_ms = cocoon_loop_now_ms();
	d->stall_ms = ((uint64_t)o->resync_s + 2 * 15 + 60) * 1000;
	if (!o->metrics_listen)
		return 0;
	if ((rc = cocoon_mhttp_start(&d->http, d->loop, o->metrics_listen, m, rec_health, d)) != 0)
		return rc;
	nlog_info("metrics listening", "{s:s,s:i}", "address", o->metrics_listen, "port", cocoon_mhttp_port(d->http));
	return 0;
}

static int run(const options *o, uint64_t epc_bytes)
{
	daemon_state d;
	cocoon_kube_config kc;
	sigset_t set;
	int rc;

	memset(&d, 0, sizeof(d));
	d.sig.fd = d.ino.fd = d.wd = -1;
	if (o->kubeconfig)
		rc = cocoon_kube_config_from_file(&kc, o->kubeconfig);
	else
		rc = cocoon_kube_config_in_cluster(&kc, o->sa_dir, o->api_server);
	if (rc != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		return EXIT_CONFIG;
	}
	if (o->kubeconfig && o->api_server) {
		char *s = strdup(o->api_server);
		if (!s) {
			cocoon_kube_config_free(&kc);
			return EXIT_RUNTIME;
		}
		free(kc.server);
		kc.server = s;
	}
	nlog_info("reconciling node capacity", "{s:s,s:s,s:I,s:s,s:i}", "resource", "sgx.intel.com/epc", "node",
	          o->node_name, "bytes", (json_int_t)epc_bytes, "api_server", kc.server, "resync_seconds",
	          (int)o->resync_s);
	rc = EXIT_RUNTIME;
	if (cocoon_loop_new(&d.loop) != 0)
		goto done;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	d.sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d.sig.fn = on_signal;
	d.sig.ctx = &d;
	d.ino.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	d.ino.fn = on_inotify;
	d.ino.ctx = &d;
	d.plugin_dir = o->plugin_dir;
	d.rewatch.fn = on_rewatch;
	d.rewatch.ctx = &d;
	if (d.sig.fd < 0 || d.ino.fd < 0 || cocoon_loop_watch_add(d.loop, &d.sig, EPOLLIN) != 0 ||
	    cocoon_loop_watch_add(d.loop, &d.ino, EPOLLIN) != 0) {
		nlog_error("cannot set up signals and inotify", "{s:s}", "error", strerror(errno));
		goto done;
	}
	if (metrics_setup(&d, o, epc_bytes) != 0) {
		nlog_error("cannot serve metrics", "{s:s}", "error", cocoon_error_last()->message);
		rc = cocoon_error_last()->code == COCOON_EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
		goto done;
	}
	watch_dir(&d);
	if (d.wd < 0)
		nlog_warn("cannot watch the device-plugin directory for kubelet restarts; relying on the periodic check",
		          "{s:s,s:s}", "directory", o->plugin_dir, "error", strerror(errno));
	if (cocoon_epcrec_start(&d.rec, &kc, o->node_name, epc_bytes, o->resync_s, &d.stats) != 0) {
		nlog_error("cannot start", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	rc = cocoon_loop_run(d.loop) == 0 ? EXIT_OK : EXIT_RUNTIME;
done:
	cocoon_epcrec_stop(d.rec);
	cocoon_mhttp_stop(d.http);
	cocoon_metrics_free(d.metrics);
	cocoon_kube_config_free(&kc);
	if (d.loop)
		cocoon_loop_timer_cancel(d.loop, &d.rewatch);
	if (d.ino.fd >= 0)
		close(d.ino.fd);
	if (d.sig.fd >= 0)
		close(d.sig.fd);
	cocoon_loop_free(d.loop);
	return rc;
}

/* No SGX, told to wait: /healthz and /readyz answer 200 so probes do not restart an idle pod. */
static int idle(const options *o)
{
	cocoon_metrics *m = NULL;
	int rc;

	if ((rc = cocoon_metrics_new(&m)) == 0) {
		cocoon_metric_set(cocoon_metrics_gauge(m, "cocoon_epc_reconciler_epc_bytes", NULL,
		                                       "EPC bytes this node has, the value kept in sgx.intel.com/epc."),
		                  0);
		rc = cocoon_mhttp_idle(o->metrics_listen, m);
	}
	cocoon_metrics_free(m);
	if (rc != 0) {
		nlog_error("cannot serve metrics", "{s:s}", "error", cocoon_error_last()->message);
		return rc == COCOON_EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	options o;
	cocoon_cpuid cpuid = { 0 };
	cocoon_sgx_info sgx;
	sigset_t set;
	int code = EXIT_CONFIG;

	mallopt(M_ARENA_MAX, 2);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before the reconciler thread exists, so only signalfd/sigwait see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	cocoon_nlog_init("cocoon-epc-reconciler", COCOON_NLOG_INFO);
	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) != 0 || cocoon_cpuid_open(&cpuid, o.cpuid_file) != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	cocoon_nlog_init("cocoon-epc-reconciler", o.log_level);
	if (cocoon_sgx_probe(&sgx, &cpuid, o.sysfs_root) != 0) {
		nlog_error("cannot read the EPC size from sysfs", "{s:s}", "error", cocoon_error_last()->message);
		code = EXIT_RUNTIME;
		goto done;
	}
	if (sgx.mismatch[0])
		nlog_warn("EPC size cross-check", "{s:s}", "detail", sgx.mismatch);
	if (!cocoon_sgx_present(&sgx)) {
		nlog_info("no SGX on this node: nothing to reconcile", "{s:s}", "next",
		          o.wait_without_sgx ? "idling until stopped (--wait-without-sgx)" : "exiting");
		code = o.wait_without_sgx ? idle(&o) : EXIT_OK;
		goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		nlog_error("cannot initialise libcurl", NULL);
		code = EXIT_RUNTIME;
		goto done;
	}
	code = run(&o, sgx.epc_bytes);
	curl_global_cleanup();
done:
	cocoon_cpuid_close(&cpuid);
	return code;
}
