/*
 * cocoon-quoted: the per-node SGX quote helper. Serves Intel's AESM socket
 * protocol (the quote-ex family the DCAP quote library uses when
 * SGX_AESM_ADDR is set) from a simulated QE or Intel's DCAP quote library.
 * See docs/quoted.md.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include "cocoon/aesm.h"
#include "backend.h"
#include "metrics.h"
#include "flags.h"
#include "nlog.h"
#include "server.h"

#ifndef COCOON_VERSION
#define COCOON_VERSION "dev"
#endif

static const char usage[] =
	"usage: cocoon-quoted --backend sim|dcap [options]\n"
	"\n"
	"Serves Intel's AESM socket protocol (InitQuoteEx, GetQuoteSizeEx, GetQuoteEx,\n"
	"SelectAttKeyID, GetSupportedAttKeyIDNum/IDs) so that enclaves with\n"
	"SGX_AESM_ADDR=1 get DCAP quotes out of process.\n"
	"\n"
	"  --backend sim|dcap      sim: the simulated QE of --sim DIR; dcap: Intel's DCAP\n"
	"                          quote library on an SGX node (required)\n"
	"  --sim DIR               simulation directory made by 'cocoon sim init'\n"
	"  --dcap-lib PATH         the DCAP quote library (default libsgx_dcap_ql.so.1)\n"
	"  --socket PATH           default " COCOON_AESM_SOCKET_DEFAULT "\n"
	"  --socket-mode OCTAL     permissions of the socket (default 0660)\n"
	"  --socket-group NAME|ID  group of the socket (default: the daemon's group)\n"
	"  --workers N             quoting threads (default: CPUs, 2..16)\n"
	"  --max-connections N     connections being read, queued or served (default 256)\n"
	"  --max-message BYTES     largest request accepted (default 4096)\n"
	"  --read-timeout-ms N     connect to whole request (default 2000)\n"
	"  --write-timeout-ms N    response delivery (default 2000)\n"
	"  --metrics-listen H:P    serve Prometheus /metrics and /healthz over HTTP\n"
	"  --log-level L           debug, info (default), warn or error\n"
	"  --version, --help\n"
	"\n"
	"Logs are JSON lines on stderr. SIGTERM stops accepting, finishes the requests\n"
	"already read and exits 0. Exit code 2: bad configuration; 1: runtime failure.\n";

enum { O_BACKEND = 256, O_SIM, O_DCAP_LIB, O_SOCKET, O_MODE, O_GROUP, O_WORKERS, O_MAXCONN, O_MAXMSG, O_RTO, O_WTO,
       O_METRICS, O_LOG, O_VERSION, O_HELP };

static int fail_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs and prints a configuration error; returns the exit code for it. */
static int fail_config(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nlog_error("bad configuration", "{s:s}", "error", msg);
	fprintf(stderr, "cocoon-quoted: %s\n", msg);
	return 2;
}

/* An integer flag within [min, max]; 0 or -1. */
static int uint_flag(unsigned long *out, const char *flag, const char *text, unsigned long min, unsigned long max)
{
	if (cocoon_flag_uint(out, flag, text, min, max) != 0) {
		fail_config("%s", cocoon_error_last()->message);
		return -1;
	}
	return 0;
}

static int group_flag(gid_t *out, const char *text)
{
	struct group *g;
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*text && !*end) {
		*out = (gid_t)v;
		return 0;
	}
	if ((g = getgrnam(text)) != NULL) {
		*out = g->gr_gid;
		return 0;
	}
	fail_config("--socket-group %s: no such group (give a name known to this image, or a numeric gid)", text);
	return -1;
}

/* Enough descriptors for every connection plus the daemon's own. */
static int ensure_fd_limit(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return 0;
	}
	fail_config("--max-connections needs %llu open files, more than RLIMIT_NOFILE (%llu) allows; lower it or "
	            "raise the limit", (unsigned long long)need, (unsigned long long)rl.rlim_max);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "sim", required_argument, NULL, O_SIM },
		{ "dcap-lib", required_argument, NULL, O_DCAP_LIB },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "socket-mode", required_argument, NULL, O_MODE },
		{ "socket-group", required_argument, NULL, O_GROUP },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "max-message", required_argument, NULL, O_MAXMSG },
		{ "read-timeout-ms", required_argument, NULL, O_RTO },
		{ "write-timeout-ms", required_argument, NULL, O_WTO },
		{ "metrics-listen", required_argument, NULL, O_METRICS },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	quoted_server_config cfg = { COCOON_AESM_SOCKET_DEFAULT, 0660, 0, 0, 0, 256, 4096, 2000, 2000 };
	const char *backend_name = NULL, *sim_dir = NULL, *dcap_lib = NULL, *metrics_listen = NULL;
	quoted_backend *backend = NULL;
	char err[768], mode_text[8];
	struct stat st, sock_st;
	sigset_t sigs;
	unsigned long v;
	long cpus;
	int c, level, listen_fd = -1, sigfd = -1, rc = 2, metrics_on = 0;
	char *end;

	memset(&sock_st, 0, sizeof(sock_st));
	cocoon_nlog_init("cocoon-quoted", COCOON_NLOG_INFO);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_BACKEND: backend_name = optarg; break;
		case O_SIM: sim_dir = optarg; break;
		case O_DCAP_LIB: dcap_lib = optarg; break;
		case O_SOCKET: cfg.socket_path = optarg; break;
		case O_MODE:
			v = strtoul(optarg, &end, 8);
			if (!*optarg || *end || v > 0777)
				return fail_config("--socket-mode '%s': expected octal permissions such as 0660", optarg);
			cfg.socket_mode = (mode_t)v;
			break;
		case O_GROUP:
			if (group_flag(&cfg.socket_gid, optarg) != 0)
				return 2;
			cfg.set_gid = 1;
			break;
		case O_WORKERS:
			if (uint_flag(&v, "--workers", optarg, 1, 256) != 0)
				return 2;
			cfg.workers = (unsigned)v;
			break;
		case O_MAXCONN:
			if (uint_flag(&v, "--max-connections", optarg, 1, 65536) != 0)
				return 2;
			cfg.max_connections = (unsigned)v;
			break;
		case O_MAXMSG:
			/* The largest quote-ex request (a report plus qe_report_info) is about 1.7 KiB. */
			if (uint_flag(&v, "--max-message", optarg, 2048, 1u << 20) != 0)
				return 2;
			cfg.max_message = v;
			break;
		case O_RTO:
			if (uint_flag(&v, "--read-timeout-ms", optarg, 10, 600000) != 0)
				return 2;
			cfg.read_timeout_ms = (unsigned)v;
			break;
		case O_WTO:
			if (uint_flag(&v, "--write-timeout-ms", optarg, 10, 600000) != 0)
				return 2;
			cfg.write_timeout_ms = (unsigned)v;
			break;
		case O_METRICS: metrics_listen = optarg; break;
		case O_LOG:
			if ((level = cocoon_nlog_level_parse(optarg)) < 0)
				return fail_config("--log-level '%s': expected debug, info, warn or error", optarg);
			cocoon_nlog_set_level(level);
			break;
		case O_VERSION: printf("cocoon-quoted %s\n", COCOON_VERSION); return 0;
		case O_HELP: fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc)
		return fail_config("unexpected argument '%s'", argv[optind]);
	if (!backend_name)
		return fail_config("--backend is required: sim (with --sim DIR) or dcap");
	if (strcmp(backend_name, "sim") == 0) {
		if (!sim_dir)
			return fail_config("--backend sim needs --sim DIR (a directory made by 'cocoon sim init')");
		if (dcap_lib)
			return fail_config("--dcap-lib applies only to --backend dcap");
		if (stat(sim_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return fail_config("--sim %s: not a directory", sim_dir);
	} else if (strcmp(backend_name, "dcap") == 0) {
		if (sim_dir)
			return fail_config("--sim applies only to --backend sim");
	} else {
		return fail_config("--backend '%s': expected sim or dcap", backend_name);
	}
	if (!(cfg.socket_mode & 0200))
		return fail_config("--socket-mode %04o: the owner needs write permission to use the socket",
		                   (unsigned)cfg.socket_mode);
	if (cfg.socket_mode & 0002)
		nlog_warn("the socket is world-writable: any process that can see it can request quotes", NULL);
	if (!cfg.workers) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.workers = cpus < 2 ? 2 : cpus > 16 ? 16 : (unsigned)cpus;
	}
	if (ensure_fd_limit(cfg.max_connections) != 0)
		return 2;

	/* Signals arrive through a signalfd in the event loop; every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 || (sigfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		nlog_error("cannot set up signal handling", "{s:s}", "error", strerror(errno));
		return 1;
	}

	if ((strcmp(backend_name, "sim") == 0
	             ? quoted_backend_sim_open(&backend, sim_dir, err, sizeof(err))
	             : quoted_backend_dcap_open(&backend, dcap_lib ? dcap_lib : "libsgx_dcap_ql.so.1", err,
	                                        sizeof(err))) != 0) {
		nlog_error("cannot start the backend", "{s:s,s:s}", "backend", backend_name, "error", err);
		fprintf(stderr, "cocoon-quoted: %s\n", err);
		rc = 1;
		goto done;
	}
	if (strcmp(backend_name, "sim") == 0)
		nlog_warn("sim backend: quotes chain to the simulation root and verify only with --trust-sim",
		          "{s:s}", "sim", sim_dir);
	metrics_init(backend->name, COCOON_VERSION);
	if (quoted_server_listen(&listen_fd, &cfg, err, sizeof(err)) != 0 || stat(cfg.socket_path, &sock_st) != 0) {
		if (listen_fd >= 0)
			snprintf(err, sizeof(err), "%s vanished after bind: %s", cfg.socket_path, strerror(errno));
		nlog_error("cannot listen", "{s:s}", "error", err);
		fprintf(stderr, "cocoon-quoted: %s\n", err);
		rc = 2;
		goto done;
	}
	if (metrics_listen) {
		if (metrics_http_start(metrics_listen, err, sizeof(err)) != 0) {
			nlog_error("cannot serve metrics", "{s:s}", "error", err);
			fprintf(stderr, "cocoon-quoted: %s\n", err);
			rc = 2;
			goto done;
		}
		metrics_on = 1;
	}
	snprintf(mode_text, sizeof(mode_text), "%04o", (unsigned)cfg.socket_mode);
	nlog_info("listening", "{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:s*}", "version", COCOON_VERSION, "socket",
	          cfg.socket_path, "backend", backend->name, "socket_mode", mode_text, "workers",
	          (int)cfg.workers, "max_connections", (int)cfg.max_connections, "max_message", (int)cfg.max_message,
	          "read_timeout_ms", (int)cfg.read_timeout_ms, "metrics", metrics_listen);
	if (quoted_server_run(&cfg, listen_fd, sigfd, backend, err, sizeof(err)) != 0) {
		nlog_error("server failed", "{s:s}", "error", err);
		rc = 1;
		goto done;
	}
	rc = 0;
	nlog_info("stopped", NULL);
done:
	if (listen_fd >= 0) {
		struct stat now_st;
		/* Remove the socket only while it is still ours (a successor may have replaced it). */
		if (stat(cfg.socket_path, &now_st) == 0 && now_st.st_ino == sock_st.st_ino && now_st.st_dev == sock_st.st_dev)
			unlink(cfg.socket_path);
		close(listen_fd);
	}
	if (metrics_on)
		metrics_http_stop();
	if (sigfd >= 0)
		close(sigfd);
	if (backend)
		backend->free(backend);
	return rc;
}
