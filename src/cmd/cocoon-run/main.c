/*
 * cocoon-run: the confidential launcher, usable as an image's entrypoint.
 *
 *   cocoon-run [--config FILE] [-- CMD ARGS...]
 *
 * It loads the launch configuration, collects evidence, fetches the
 * resources, injects them and execs the original command, keeping its PID
 * so signals and the exit code are the app's own. Any failed step exits
 * with the cause's code (docs/run.md) and the app never starts. Built
 * static: it is injected into images whose libc it cannot know.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>
#include "cocoon/evidence.h"
#include "cocoon/kbs.h"
#include "cocoon/run.h"
#include "common/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

static const char usage[] =
	"usage: cocoon-run [--config FILE] [-- CMD ARGS...]\n"
	"       cocoon-run --install DEST   (copy this executable to DEST, mode 0755)\n"
	"\n"
	"Attests, fetches the configured resources, injects them and execs the command\n"
	"(the configuration's \"command\", or CMD when the configuration has none).\n"
	"  --config FILE   launch configuration (default " COCOON_RUN_DEFAULT_CONFIG ")\n"
	"\n"
	"Exit codes (the app never ran): 80 configuration, 81 no TEE evidence, 82 broker\n"
	"unreachable, 83 attestation refused, 84 policy denied, 85 resource missing,\n"
	"86 injection refused (secrets directory not memory-backed), 126/127 command not\n"
	"executable / not found. Otherwise the exit code is the app's. See docs/run.md.\n";

/* One line on stderr naming the cause, then the code; the app has not run. */
static int fail(int code, const char *what)
{
	fprintf(stderr, "cocoon-run: %s (exit %d): %s: %s\n", cocoon_run_exit_name(code), code, what,
	        cocoon_error_last()->message);
	return code;
}

typedef struct {
	const char *config_path;
	char **cmd;
	size_t cmd_len;
} run_args;

static int parse_args(run_args *a, int argc, char **argv)
{
	int i;

	a->config_path = COCOON_RUN_DEFAULT_CONFIG;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			a->config_path = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			exit(0);
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("cocoon-run %s\n", COCOON_VERSION);
			exit(0);
		} else {
			/* One stderr line per failure, as for every other cause. */
			return cocoon_error_set(COCOON_EINVAL, "unknown or incomplete option '%.64s' (see --help)", argv[i]);
		}
	}
	a->cmd = argv + i;
	a->cmd_len = (size_t)(argc - i);
	return 0;
}

/*
 * Proves a TEE is present when there is nothing to fetch (with resources the
 * handshake collects evidence bound to the broker's nonce). The report data
 * is then SHA-256 of the launch configuration, so the evidence names it.
 */
static int collect_evidence(const cocoon_run_config *c, const uint8_t *text, size_t len)
{
	cocoon_evidence_options o = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_evidence ev;
	const void *parts[1] = { text };
	size_t lens[1] = { len };
	int err;

	o.provider = c->provider;
	o.tee = c->tee;
	o.sim_dir = c->sim_dir;
	if ((err = cocoon_sha256(o.report_data, 1, parts, lens)) != 0)
		return err;
	err = cocoon_evidence_collect(&ev, &o);
	cocoon_evidence_free(&ev);
	/* Name the configuration key first: the library's advice speaks of CLI flags. */
	if (err != 0)
		err = cocoon_error_set(err, "evidence.provider \"%s\" in the launch configuration: %s", c->provider,
		                       cocoon_error_last()->message);
	return err;
}

/* The exit code for a client failure (docs/run.md, "Exit codes"). */
static int failure_exit(cocoon_kbs_failure f)
{
	switch (f) {
	case COCOON_KBS_FAIL_CONFIG: return COCOON_RUN_EXIT_CONFIG;
	case COCOON_KBS_FAIL_EVIDENCE: return COCOON_RUN_EXIT_NO_TEE;
	case COCOON_KBS_FAIL_ATTESTATION: return COCOON_RUN_EXIT_ATTESTATION;
	case COCOON_KBS_FAIL_POLICY: return COCOON_RUN_EXIT_POLICY;
	case COCOON_KBS_FAIL_NOT_FOUND: return COCOON_RUN_EXIT_RESOURCE;
	default: return COCOON_RUN_EXIT_BROKER; /* unreachable, or an answer cocoon-run cannot use */
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One resource, retrying an unreachable broker (connect, timeout, 5xx) with
 * backoff until the deadline: pods often start before the broker. Anything
 * else (a refusal, a denial) is final at once.
 */
static int fetch_retrying(uint8_t **out, size_t *len, cocoon_kbs_client *k, const char *path, double deadline,
                          unsigned int *attempt)
{
	unsigned int backoff_ms = 200;
	int err;

	for (;;) {
		double left;
		++*attempt;
		if ((err = cocoon_kbs_client_get_resource(out, len, k, path)) == 0)
			return 0;
		left = deadline - now_s();
		if (cocoon_kbs_client_failure(k) != COCOON_KBS_FAIL_UNREACHABLE ||
		    cocoon_error_last()->code != COCOON_EUNAVAILABLE || left <= 0)
			return err;
		if (backoff_ms > left * 1000)
			backoff_ms = (unsigned int)(left * 1000) + 1;
		fprintf(stderr, "cocoon-run: broker unreachable (attempt %u, %.0f s left): %s; retrying in %u ms\n",
		        *attempt, left, cocoon_error_last()->message, backoff_ms);
		usleep(backoff_ms * 1000u);
		backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
	}
}

/* Fetches every configured resource through one broker session; the caller zeroizes *values. */
static int fetch_resources(cocoon_run_value **values, size_t *n, const cocoon_run_config *c, int *code)
{
	cocoon_kbs_client_options o = COCOON_KBS_CLIENT_OPTIONS_INIT;
	cocoon_kbs_client *k = NULL;
	double deadline = now_s() + c->retry_deadline_s;
	unsigned int attempt = 0;
	int err;

	*values = NULL;
	*n = 0;
	*code = COCOON_RUN_EXIT_CONFIG;
	if (c->n_resources == 0)
		return 0;
	o.url = c->broker_url;
	o.ca_file = c->broker_ca;
	o.tee = c->tee;
	o.provider = c->provider;
	o.sim_dir = c->sim_dir;
	o.init_data = c->init_data;
	if ((err = cocoon_kbs_client_new(&k, &o)) != 0)
		return err;
	if (!(*values = calloc(c->n_resources, sizeof(**values)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < c->n_resources; i++) {
		cocoon_run_value *v = &(*values)[i];
		uint8_t *data = NULL;
		if ((err = fetch_retrying(&data, &v->len, k, c->resources[i].path, deadline, &attempt)) != 0) {
			*code = failure_exit(cocoon_kbs_client_failure(k));
			goto done;
		}
		v->path = c->resources[i].path;
		v->data = data;
		++*n;
	}
done:
	cocoon_kbs_client_free(k);
	return err;
}

static void free_values(cocoon_run_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		cocoon_zeroize((void *)v[i].data, v[i].len);
		free((void *)v[i].data);
	}
	free(v);
}

static int write_files(const cocoon_run_config *c, int dirfd, const cocoon_run_value *v, size_t n)
{
	for (size_t i = 0; i < c->n_resources; i++) {
		const cocoon_run_resource *r = &c->resources[i];
		size_t j;
		int err;
		if (!r->file)
			continue;
		for (j = 0; j < n && strcmp(v[j].path, r->path) != 0; j++)
			;
		if (j == n)
			return cocoon_error_set(COCOON_ENOTFOUND, "resource \"%s\" was not fetched", r->path);
		if ((err = cocoon_run_secret_write(dirfd, r->file, v[j].data, v[j].len, r->mode, r->uid, r->gid)) != 0)
			return err;
	}
	return 0;
}

static int needs_files(const cocoon_run_config *c)
{
	for (size_t i = 0; i < c->n_resources; i++)
		if (c->resources[i].file)
			return 1;
	return 0;
}

/* execvpe with the PATH of the app's environment, not ours; returns only on failure. */
static int exec_command(char **argv, char **envp)
{
	const char *path = DEFAULT_PATH;
	char full[4096];
	int e = ENOENT, seen_eacces = 0;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		e = errno;
	} else {
		for (size_t i = 0; envp[i]; i++)
			if (strncmp(envp[i], "PATH=", 5) == 0)
				path = envp[i] + 5;
		for (const char *p = path; ; ) {
			size_t n = strcspn(p, ":");
			if (snprintf(full, sizeof(full), "%.*s%s%s", (int)n, n ? p : ".", "/", argv[0]) <
			    (int)sizeof(full)) {
				execve(full, argv, envp);
				if (errno == EACCES)
					seen_eacces = 1;
				else if (errno != ENOENT && errno != ENOTDIR) {
					e = errno;
					break;
				}
			}
			if (!p[n])
				break;
			p += n + 1;
		}
		if (seen_eacces && e == ENOENT)
			e = EACCES;
	}
	cocoon_error_set(COCOON_EIO, "%.256s: %s", argv[0], strerror(e));
	return e == ENOENT || e == ENOTDIR ? COCOON_RUN_EXIT_NOT_FOUND : COCOON_RUN_EXIT_EXEC;
}

/* Everything after the configuration is loaded; returns an exit code unless the exec succeeds. */
static int launch(const cocoon_run_config *c, const run_args *a, const uint8_t *text, size_t len)
{
	cocoon_run_value *values = NULL;
	size_t n_values = 0;
	char **argv = NULL, **envp = NULL;
	int dirfd = -1, rc, code;

	/* Cheap local checks first: no point attesting when the secrets cannot land safely. */
	if (needs_files(c) && cocoon_run_secrets_dir_open(&dirfd, c->secrets_dir) != 0)
		return fail(COCOON_RUN_EXIT_INJECT, "secrets directory");
	/* With resources, the handshake collects the evidence (bound to the broker's nonce). */
	if (c->n_resources == 0 && collect_evidence(c, text, len) != 0) {
		rc = fail(COCOON_RUN_EXIT_NO_TEE, "evidence");
		goto done;
	}
	if (fetch_resources(&values, &n_values, c, &code) != 0) {
		rc = fail(code, "resources");
		goto done;
	}
	if (dirfd >= 0 && write_files(c, dirfd, values, n_values) != 0) {
		rc = fail(COCOON_RUN_EXIT_INJECT, "secret files");
		goto done;
	}
	if (cocoon_run_build_exec(&argv, &envp, c, a->cmd, a->cmd_len, environ, values, n_values) != 0) {
		rc = fail(cocoon_error_last()->code == COCOON_ENOTFOUND ? COCOON_RUN_EXIT_RESOURCE : COCOON_RUN_EXIT_CONFIG,
		          "command");
		goto done;
	}
	free_values(values, n_values);
	values = NULL;
	if (dirfd >= 0)
		close(dirfd);
	dirfd = -1;
	fflush(NULL);
	rc = fail(exec_command(argv, envp), "exec");
done:
	free_values(values, n_values);
	cocoon_run_strv_free(argv);
	cocoon_run_strv_free(envp);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/*
 * cocoon-run --install DEST: copies this executable to DEST (mode 0755)
 * through a temporary file renamed over it, so a concurrent reader never
 * sees half a binary. The Kubernetes webhook's init container runs it to
 * put cocoon-run into a shared volume.
 */
static int install_self(const char *dest)
{
	char tmp[4096];
	uint8_t buf[65536];
	int in = -1, out = -1, err = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", dest, (long)getpid()) >= (int)sizeof(tmp))
		return cocoon_error_set(COCOON_EINVAL, "--install: destination path too long");
	if ((in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0) {
		err = cocoon_error_set(COCOON_EIO, "--install: cannot open /proc/self/exe: %s", strerror(errno));
		goto done;
	}
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700)) < 0) {
		err = cocoon_error_set(COCOON_EIO, "--install: cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			err = cocoon_error_set(COCOON_EIO, "--install: copying to %s: %s", tmp, strerror(errno));
			goto done;
		}
	}
	if (fchmod(out, 0755) != 0 || fsync(out) != 0 || close(out) != 0) {
		out = -1;
		err = cocoon_error_set(COCOON_EIO, "--install: finishing %s: %s", tmp, strerror(errno));
		goto done;
	}
	out = -1;
	if (rename(tmp, dest) != 0)
		err = cocoon_error_set(COCOON_EIO, "--install: cannot rename onto %s: %s", dest, strerror(errno));
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err != 0)
		unlink(tmp);
	return err;
}

int main(int argc, char **argv)
{
	cocoon_run_config *c = NULL;
	run_args a = { 0 };
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "--install") == 0) {
		if (argc != 3)
			return cocoon_error_set(COCOON_EINVAL, "usage: cocoon-run --install DEST"),
			       fail(COCOON_RUN_EXIT_CONFIG, "command line");
		return install_self(argv[2]) != 0 ? fail(COCOON_RUN_EXIT_CONFIG, "install") : 0;
	}
	if (parse_args(&a, argc, argv) != 0)
		return fail(COCOON_RUN_EXIT_CONFIG, "command line");
	if (cocoon_file_read(&text, &len, a.config_path) != 0)
		return fail(COCOON_RUN_EXIT_CONFIG, "launch configuration");
	if (cocoon_run_config_parse(&c, (const char *)text, len) != 0) {
		rc = fail(COCOON_RUN_EXIT_CONFIG, a.config_path);
		goto done;
	}
	rc = launch(c, &a, text, len);
done:
	cocoon_run_config_free(c);
	free(text);
	return rc;
}
