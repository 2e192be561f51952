/* cocoon-attestd: an attestation service with Microsoft Azure Attestation's REST API. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include "common/util.h"
#include "attestd.h"

static const char usage[] =
	"usage: cocoon-attestd [--config FILE] [options]\n"
	"\n"
	"With no options it serves HTTP on 127.0.0.1:8080 for development, keeping its state\n"
	"(signing key, policies, collateral) in ./cocoon-attestd-data/attestd.db.\n"
	"\n"
	"options (each overrides the configuration file):\n"
	"  --config FILE            JSON configuration (docs/attestd.md, deploy/attestd/)\n"
	"  --listen ADDR:PORT       address to serve on (port 0: any free port, logged at start)\n"
	"  --data-dir DIR           directory of the embedded database (default database)\n"
	"  --database URL           sqlite:PATH or postgresql://... (default sqlite:DATA-DIR/attestd.db)\n"
	"  --secret-key FILE        32-byte key sealing secrets in the database (mode 0600)\n"
	"  --issuer URL             token issuer; jku is URL/certs (default: from --listen)\n"
	"  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
	"  --signing-alg ALG        RS256 (default), PS256 or ES256\n"
	"  --admin-token-file FILE  enables the admin APIs (policies, collateral, KBS) with this bearer token\n"
	"  --admin-key FILE         PEM public key (Ed25519 or P-256) verifying admin JWTs (both admin APIs)\n"
	"  --kbs-session-seconds N  key broker session lifetime (default 300)\n"
	"  --insecure-http          serve the key broker (/kbs/v0) over plain HTTP on a non-loopback address\n"
	"  --collateral PATH        import DCAP collateral at start (JSON file or PCS directory); repeatable\n"
	"  --workers N              event-loop threads (default: one per core)\n"
	"  --max-body-bytes N       largest request body (default 1048576); larger gets 413\n"
	"  --allow-debug            accept debug enclaves and guests\n"
	"\n"
	"development and tests only (never from a configuration file):\n"
	"  --trust-sim DIR          trust the simulation root made by 'cocoon sim init DIR'\n"
	"  --test-only-verification-time TIME\n"
	"                           verify at a fixed time (RFC 3339 or Unix seconds); refused unless\n"
	"                           COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 is set\n"
	"\n"
	"exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage or configuration error,\n"
	"            3 storage or signing key error, 4 cannot listen or set up TLS\n";

enum {
	O_CONFIG = 256, O_LISTEN, O_DATA, O_ISSUER, O_TLS_CERT, O_TLS_KEY, O_ALG, O_ADMIN, O_COLL, O_WORKERS,
	O_BODY, O_DEBUG, O_SIM, O_TEST_TIME, O_HELP, O_VERSION, O_DATABASE, O_SECRET_KEY,
	O_ADMIN_KEY, O_KBS_SESSION, O_INSECURE_HTTP
};

static const struct option options[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "data-dir", required_argument, NULL, O_DATA },
	{ "database", required_argument, NULL, O_DATABASE },
	{ "secret-key", required_argument, NULL, O_SECRET_KEY },
	{ "issuer", required_argument, NULL, O_ISSUER },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "signing-alg", required_argument, NULL, O_ALG },
	{ "admin-token-file", required_argument, NULL, O_ADMIN },
	{ "admin-key", required_argument, NULL, O_ADMIN_KEY },
	{ "kbs-session-seconds", required_argument, NULL, O_KBS_SESSION },
	{ "insecure-http", no_argument, NULL, O_INSECURE_HTTP },
	{ "collateral", required_argument, NULL, O_COLL },
	{ "workers", required_argument, NULL, O_WORKERS },
	{ "max-body-bytes", required_argument, NULL, O_BODY },
	{ "allow-debug", no_argument, NULL, O_DEBUG },
	{ "trust-sim", required_argument, NULL, O_SIM },
	{ "test-only-verification-time", required_argument, NULL, O_TEST_TIME },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attestd_log("error", msg, NULL);
	return code;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

static int parse_long(long *out, const char *flag, const char *v, long lo, long hi)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi)
		return fail(ATTESTD_EXIT_USAGE, "%s: expected an integer from %ld to %ld, got '%s'", flag, lo, hi, v);
	*out = n;
	return 0;
}

/* Flags are applied over the file: the file is read first, wherever --config appears. */
static int parse_flags(attestd_config *c, int argc, char **argv)
{
	const char *config = NULL, *test_time = NULL;
	int opt, rc;
	long n;

	for (int pass = 0; pass < 2; pass++) {
		optind = 1;
		while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
			if (opt == '?')
				return ATTESTD_EXIT_USAGE;
			if (opt == O_HELP) {
				fputs(usage, stdout);
				return -1;
			}
			if (opt == O_VERSION) {
				printf("cocoon-attestd %s\n", COCOON_VERSION);
				return -1;
			}
			if (pass == 0) {
				if (opt == O_CONFIG)
					config = optarg;
				continue;
			}
			switch (opt) {
			case O_LISTEN: set_str(&c->listen, optarg); break;
			case O_DATA: set_str(&c->data_dir, optarg); break;
			case O_DATABASE: set_str(&c->database, optarg); break;
			case O_SECRET_KEY: set_str(&c->secret_key_file, optarg); break;
			case O_ISSUER: set_str(&c->issuer, optarg); break;
			case O_TLS_CERT: set_str(&c->tls_cert, optarg); break;
			case O_TLS_KEY: set_str(&c->tls_key, optarg); break;
			case O_ALG: set_str(&c->signing_alg, optarg); break;
			case O_ADMIN: set_str(&c->admin_token_file, optarg); break;
			case O_SIM: set_str(&c->trust_sim_dir, optarg); break;
			case O_TEST_TIME: test_time = optarg; break;
			case O_DEBUG: c->allow_debug = 1; break;
			case O_ADMIN_KEY: set_str(&c->admin_key_file, optarg); break;
			case O_INSECURE_HTTP: c->insecure_http = 1; break;
			case O_KBS_SESSION:
				if ((rc = parse_long(&n, "--kbs-session-seconds", optarg, 1, 86400)) != 0)
					return rc;
				c->kbs_session_seconds = (int)n;
				break;
			case O_COLL:
				if (!c->collateral_files)
					c->collateral_files = json_array();
				json_array_append_new(c->collateral_files, json_string(optarg));
				break;
			case O_WORKERS:
				if ((rc = parse_long(&n, "--workers", optarg, 0, ATTESTD_MAX_WORKERS)) != 0)
					return rc;
				c->workers = (int)n;
				break;
			case O_BODY:
				if ((rc = parse_long(&n, "--max-body-bytes", optarg, 1024, 64L << 20)) != 0)
					return rc;
				c->max_body_bytes = (size_t)n;
				break;
			default: break;
			}
		}
		if (pass == 0 && config && attestd_config_load(c, config) != 0)
			return fail(ATTESTD_EXIT_USAGE, "%s", cocoon_error_last()->message);
	}
	if (optind != argc)
		return fail(ATTESTD_EXIT_USAGE, "unexpected argument '%s' (see --help)", argv[optind]);
	if (test_time) {
		const char *allow = getenv("COCOON_ATTESTD_ALLOW_TEST_OPTIONS");
		if (!allow || strcmp(allow, "1") != 0)
			return fail(ATTESTD_EXIT_USAGE, "--test-only-verification-time is refused: it pins the clock used to "
			            "judge evidence freshness; set COCOON_ATTESTD_ALLOW_TEST_OPTIONS=1 in tests only");
		if (cocoon_time_parse(&c->test_only_verification_time, test_time) != 0)
			return fail(ATTESTD_EXIT_USAGE, "--test-only-verification-time: %s", cocoon_error_last()->message);
	}
	if (attestd_config_check(c) != 0)
		return fail(ATTESTD_EXIT_USAGE, "%s", cocoon_error_last()->message);
	return 0;
}

static int admin_token(attestd_ctx *ctx, const char *path)
{
	uint8_t *tok = NULL;
	size_t len = 0;
	const void *parts[1];
	size_t lens[1];
	int rc = 0;

	if (cocoon_file_read(&tok, &len, path) != 0)
		return fail(ATTESTD_EXIT_USAGE, "admin_token_file: %s", cocoon_error_last()->message);
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
		len--;
	if (len < 16 || memchr(tok, '\n', len)) {
		rc = fail(ATTESTD_EXIT_USAGE, "admin_token_file %s: the token must be one line of at least 16 characters",
		          path);
		goto done;
	}
	parts[0] = tok;
	lens[0] = len;
	if (cocoon_sha256(ctx->admin_token_hash, 1, parts, lens) != 0) {
		rc = fail(ATTESTD_EXIT_RUNTIME, "hashing the admin token failed");
		goto done;
	}
	ctx->has_admin_token = 1;
done:
	cocoon_zeroize(tok, len);
	free(tok);
	return rc;
}

static int tls_setup(attestd_ctx *ctx)
{
	SSL_CTX *t = SSL_CTX_new(TLS_server_method());
	if (!t || !SSL_CTX_set_min_proto_version(t, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(t, ctx->cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t, ctx->cfg->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(t) != 1) {
		unsigned long e = ERR_get_error();
		char buf[256];
		ERR_error_string_n(e, buf, sizeof(buf));
		SSL_CTX_free(t);
		return fail(ATTESTD_EXIT_LISTEN, "TLS: cannot use tls_cert %s / tls_key %s: %s", ctx->cfg->tls_cert,
		            ctx->cfg->tls_key, buf);
	}
	SSL_CTX_set_options(t, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	ctx->tls = t;
	return 0;
}

static int verifiers(attestd_ctx *ctx)
{
	cocoon_verifier_options o = COCOON_VERIFIER_OPTIONS_INIT;
	uint8_t *root = NULL;
	size_t len = 0;
	char *path = NULL;
	int rc = 0;

	if (ctx->cfg->intel_root_file) {
		if (cocoon_file_read(&root, &len, ctx->cfg->intel_root_file) != 0)
			return fail(ATTESTD_EXIT_USAGE, "intel_root: %s", cocoon_error_last()->message);
		o.intel_root_der = root;
		o.intel_root_der_len = len;
	}
	if (cocoon_verifier_new(&ctx->verifier, &o) != 0) {
		rc = fail(ATTESTD_EXIT_USAGE, "verifier: %s", cocoon_error_last()->message);
		goto done;
	}
	free(root);
	root = NULL;
	if (ctx->cfg->trust_sim_dir) {
		cocoon_verifier_options so = COCOON_VERIFIER_OPTIONS_INIT;
		if (!(path = cocoon_sim_path(ctx->cfg->trust_sim_dir, "intel/root.pem")) ||
		    cocoon_file_read(&root, &len, path) != 0) {
			rc = fail(ATTESTD_EXIT_USAGE, "--trust-sim: %s", cocoon_error_last()->message);
			goto done;
		}
		so.intel_root_der = root;
		so.intel_root_der_len = len;
		so.trust_simulation = 1;
		if (cocoon_verifier_new(&ctx->sim_verifier, &so) != 0)
			rc = fail(ATTESTD_EXIT_USAGE, "--trust-sim: %s", cocoon_error_last()->message);
	}
done:
	free(path);
	free(root);
	return rc;
}

/* The issuer when none is configured: the scheme and address we listen on. */
static int default_issuer(attestd_ctx *ctx)
{
	if (ctx->cfg->issuer)
		ctx->issuer = strdup(ctx->cfg->issuer);
	else if (asprintf(&ctx->issuer, "%s://%s", ctx->tls ? "https" : "http", ctx->cfg->listen) < 0)
		ctx->issuer = NULL;
	if (ctx->issuer) {
		size_t n = strlen(ctx->issuer);
		while (n > 0 && ctx->issuer[n - 1] == '/')
			ctx->issuer[--n] = '\0';
	}
	if (!ctx->issuer || asprintf(&ctx->jku, "%s/certs", ctx->issuer) < 0)
		return fail(ATTESTD_EXIT_RUNTIME, "out of memory");
	return 0;
}

static int admin_key(attestd_ctx *ctx, const char *path)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc = 0;

	if (cocoon_file_read(&pem, &len, path) != 0)
		return fail(ATTESTD_EXIT_USAGE, "--admin-key: %s", cocoon_error_last()->message);
	if (cocoon_kbs_admin_key_load(&ctx->admin_key, (const char *)pem, len) != 0)
		rc = fail(ATTESTD_EXIT_USAGE, "--admin-key %s: %s", path, cocoon_error_last()->message);
	free(pem);
	return rc;
}

/* The embedded default database keeps a KEK beside it, so `make run` can hold KBS secrets out of the box. */
static int default_kek(attestd_ctx *ctx)
{
	attestd_config *c = ctx->cfg;
	char *path = NULL;
	uint8_t key[32];
	int rc = 0;

	if (c->secret_key_file || c->database)
		return 0;
	if (asprintf(&path, "%s/kek", c->data_dir) < 0)
		return fail(ATTESTD_EXIT_RUNTIME, "out of memory");
	if (access(path, F_OK) != 0) {
		if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
			rc = fail(ATTESTD_EXIT_STORAGE, "data dir %s: %s", c->data_dir, strerror(errno));
			goto done;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || RAND_bytes(key, sizeof(key)) != 1 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
			if (fd >= 0)
				close(fd);
			rc = fail(ATTESTD_EXIT_STORAGE, "cannot create the key-encryption key %s", path);
			goto done;
		}
		close(fd);
		attestd_logf("warn", "no --secret-key given: generated a key-encryption key in %s (mode 0600); back it "
		             "up with the database, and give every replica the same key with --secret-key", path);
	}
	c->secret_key_file = path;
	path = NULL;
done:
	cocoon_zeroize(key, sizeof(key));
	free(path);
	return rc;
}

/* The broker on plain HTTP is only for loopback unless the operator insists (--insecure-http). */
static void kbs_transport(attestd_ctx *ctx)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), loopback = 0;

	memset(&ss, 0, sizeof(ss));
	if (attestd_listen_parse(&ss, &sslen, ctx->cfg->listen) == 0) {
		if (ss.ss_family == AF_INET)
			loopback = (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
		else if (ss.ss_family == AF_INET6)
			loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	}
	ctx->kbs_enabled = 1;
	if (ctx->tls || loopback)
		return;
	if (ctx->cfg->insecure_http) {
		attestd_logf("warn", "INSECURE: --insecure-http serves the key broker over plain HTTP on %s: secrets are "
		             "only JWE-wrapped and session cookies and tokens travel in clear; use --tls-cert/--tls-key",
		             ctx->cfg->listen);
		return;
	}
	ctx->kbs_enabled = 0;
	attestd_logf("error", "the key broker (/kbs/v0) is OFF: plain HTTP on the non-loopback address %s; configure "
	             "--tls-cert/--tls-key (or, insecurely, --insecure-http)", ctx->cfg->listen);
}

int main(int argc, char **argv)
{
	attestd_config cfg;
	attestd_ctx ctx;
	attestd_env env = { 0 };
	int rc;

	attestd_config_init(&cfg);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	ctx.started = time(NULL);
	if ((rc = parse_flags(&cfg, argc, argv)) != 0) {
		rc = rc < 0 ? 0 : rc;
		goto done;
	}
	if (cfg.test_only_verification_time) {
		char when[32];
		cocoon_time_format(when, sizeof(when), cfg.test_only_verification_time);
		attestd_logf("warn", "TEST-ONLY: evidence and collateral are judged at the pinned time %s, not now; "
		             "never run a service this way", when);
	}
	if (cfg.trust_sim_dir)
		attestd_logf("warn", "DEVELOPMENT ONLY: trusting the simulation root in %s; tokens for simulated "
		             "evidence carry cocoon.simulated=true", cfg.trust_sim_dir);
	if ((rc = verifiers(&ctx)) != 0)
		goto done;
	if (cfg.admin_token_file && (rc = admin_token(&ctx, cfg.admin_token_file)) != 0)
		goto done;
	if (cfg.admin_key_file && (rc = admin_key(&ctx, cfg.admin_key_file)) != 0)
		goto done;
	if ((rc = default_kek(&ctx)) != 0)
		goto done;
	if (cfg.tls_cert && (rc = tls_setup(&ctx)) != 0)
		goto done;
	if ((rc = default_issuer(&ctx)) != 0)
		goto done;
	if (cfg.secret_key_file && cocoon_kek_load(&ctx.kek, cfg.secret_key_file) != 0) {
		rc = fail(ATTESTD_EXIT_STORAGE, "--secret-key: %s", cocoon_error_last()->message);
		goto done;
	}
	if (attestd_database_open(&env.store, &cfg, ctx.kek) != 0 || attestd_cache_new(&env.cache) != 0) {
		rc = fail(ATTESTD_EXIT_STORAGE, "%s", cocoon_error_last()->message);
		goto done;
	}
	env.ctx = &ctx;
	if (attestd_signer_open(&ctx.signer, &cfg, env.store) != 0) {
		rc = fail(ATTESTD_EXIT_STORAGE, "signing key: %s", cocoon_error_last()->message);
		goto done;
	}
	if (attestd_collateral_bootstrap(&env) != 0) {
		rc = fail(ATTESTD_EXIT_USAGE, "%s", cocoon_error_last()->message);
		goto done;
	}
	if (attestd_kbs_key_open(&ctx.kbs_key, env.store) != 0) {
		rc = fail(ATTESTD_EXIT_STORAGE, "key broker signing key: %s", cocoon_error_last()->message);
		goto done;
	}
	kbs_transport(&ctx);
	if ((ctx.has_admin_token || ctx.admin_key) && !ctx.tls)
		attestd_logf("warn", "the admin API is served over plain HTTP: use TLS outside development");
	/* The bootstrap connection and cache are idle once the workers open their
	 * own: release them (and the start-up heap) before serving, so that they
	 * do not count in the idle resident set. */
	env.store->ops->close(env.store);
	env.store = NULL;
	attestd_cache_free(env.cache);
	env.cache = NULL;
	rc = attestd_server_run(&ctx);
done:
	if (env.store)
		env.store->ops->close(env.store);
	attestd_cache_free(env.cache);
	attestd_signer_free(ctx.signer);
	attestd_signer_thread_exit();
	cocoon_kek_free(ctx.kek);
	EVP_PKEY_free(ctx.admin_key);
	EVP_PKEY_free(ctx.kbs_key);
	cocoon_verifier_free(ctx.verifier);
	cocoon_verifier_free(ctx.sim_verifier);
	cocoon_collateral_source_free(ctx.sim_source);
	SSL_CTX_free(ctx.tls);
	free(ctx.issuer);
	free(ctx.jku);
	attestd_config_free(&cfg);
	return rc;
}
