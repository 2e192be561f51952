/*
 * The HTTP(S) server: one libevent loop per worker thread, each with its own
 * SO_REUSEPORT listening socket, store connection and caches, so requests
 * on different cores share nothing but the (thread-safe) verifier and
 * lock-free counters. The main thread only waits for signals and drains.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include "common/util.h"
#include "attestd.h"

#define QUIET_MS 300            /* drain: no request for this long means no request is in flight */

struct attestd_worker {
	attestd_ctx *ctx;
	int id;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	evutil_socket_t fd;
	struct event *stop_ev, *drain_ev;
	attestd_env env;
	pthread_t thread;
	int started;
	struct timespec last_request;
	time_t drain_deadline;
};

static double since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* ---- admin authentication ---- */

int attestd_admin_check(attestd_ctx *ctx, const char *auth, char *why, size_t why_len)
{
	uint8_t d[32];
	const void *parts[1];
	size_t lens[1];

	if (!ctx->admin_key && !ctx->has_admin_token) {
		snprintf(why, why_len, "the admin API is disabled: configure --admin-key (admin JWTs) or admin_token_file");
		return -1;
	}
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		snprintf(why, why_len, "the admin API needs 'Authorization: Bearer <admin JWT or token>'");
		return -1;
	}
	if (ctx->admin_key) {
		cocoon_kbs_admin_options o = COCOON_KBS_ADMIN_OPTIONS_INIT;
		if (cocoon_kbs_admin_verify(NULL, auth, ctx->admin_key, &o) == 0)
			return 0;
		snprintf(why, why_len, "the admin JWT is not valid: %s", cocoon_error_last()->message);
		if (!ctx->has_admin_token)
			return -1;
	}
	/* Hashing first makes the comparison independent of the presented token's length. */
	parts[0] = auth + 7;
	lens[0] = strlen(auth + 7);
	if (cocoon_sha256(d, 1, parts, lens) != 0 || CRYPTO_memcmp(d, ctx->admin_token_hash, 32) != 0) {
		if (!ctx->admin_key)
			snprintf(why, why_len, "the admin bearer token is not valid");
		return -1;
	}
	return 0;
}

static int admin_ok(attestd_reply *r, attestd_ctx *ctx, const char *auth)
{
	char why[512];
	if (attestd_admin_check(ctx, auth, why, sizeof(why)) == 0)
		return 1;
	attestd_reply_error(r, 401, "Unauthorized", "%s", why);
	return 0;
}

/* ---- fixed documents ---- */

static void reply_text(attestd_reply *r, int status, const char *type, char *body)
{
	r->status = status;
	r->content_type = type;
	r->body = body;
}

static void openid(attestd_reply *r, attestd_ctx *ctx)
{
	attestd_reply_json(r, 200, json_pack("{s:s,s:s,s:[s],s:[s,s],s:[s,s,s,s,s,s,s,s,s]}", "issuer", ctx->issuer,
	                                     "jwks_uri", ctx->jku, "id_token_signing_alg_values_supported",
	                                     attestd_signer_alg(ctx->signer), "response_types_supported", "token", "none",
	                                     "claims_supported", "iss", "iat", "exp", "nbf", "jti", "nonce", "x-ms-ver",
	                                     "x-ms-attestation-type", "x-ms-policy-hash"));
}

/* ---- routing ---- */

static const char *query_param(struct evkeyvalq *q, const char *name)
{
	return evhttp_find_header(q, name);
}

static void route(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd, const char *auth, const char *cookie,
                  const char *path, const char *body, size_t len, struct evkeyvalq *query)
{
	attestd_ctx *ctx = env->ctx;
	const char *api = query_param(query, "api-version");

	if (strncmp(path, "/kbs/", 5) == 0)
		return attestd_kbs_route(r, env, cmd, auth, cookie, path, body, len);

	if (strncmp(path, "/attest/", 8) == 0) {
		if (cmd != EVHTTP_REQ_POST)
			return attestd_reply_error(r, 405, "MethodNotAllowed", "%s takes POST", path);
		if (atomic_load(&ctx->draining))
			return attestd_reply_error(r, 503, "ServiceUnavailable", "the service is shutting down");
		return attestd_handle_attest(r, env, path + 8, api, body, len);
	}
	if (strcmp(path, "/certs") == 0 || strcmp(path, "/certs/") == 0) {
		if (cmd != EVHTTP_REQ_GET)
			return attestd_reply_error(r, 405, "MethodNotAllowed", "/certs takes GET");
		reply_text(r, 200, "application/json", strdup(attestd_signer_jwks(ctx->signer)));
		return;
	}
	if (strcmp(path, "/.well-known/openid-configuration") == 0)
		return openid(r, ctx);
	if (strcmp(path, "/healthz") == 0) {
		reply_text(r, 200, "text/plain", strdup("ok\n"));
		return;
	}
	if (strcmp(path, "/readyz") == 0) {
		int ready = atomic_load(&ctx->ready) && !atomic_load(&ctx->draining);
		reply_text(r, ready ? 200 : 503, "text/plain", strdup(ready ? "ready\n" : "not ready\n"));
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		reply_text(r, 200, "text/plain; version=0.0.4", attestd_metrics_render(ctx->verifier, ctx->sim_verifier));
		return;
	}
	if (strncmp(path, "/policies/", 10) == 0) {
		char type[64];
		size_t n = strlen(path + 10);
		int reset = n > 6 && strcmp(path + 10 + n - 6, ":reset") == 0;
		if (reset)
			n -= 6;
		if (n == 0 || n >= sizeof(type))
			return attestd_reply_error(r, 404, "NotFound", "no such policy path");
		memcpy(type, path + 10, n);
		type[n] = '\0';
		if (api && !attestd_api_version_ok(api))
			return attestd_reply_error(r, 400, "InvalidApiVersionParameter", "api-version '%.40s' is not "
			                           "supported", api);
		if (!admin_ok(r, ctx, auth))
			return;
		if ((reset && cmd != EVHTTP_REQ_POST) || (!reset && cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_PUT))
			return attestd_reply_error(r, 405, "MethodNotAllowed", "policies take GET and PUT; :reset takes POST");
		return attestd_handle_policy(r, env, cmd == EVHTTP_REQ_GET ? "GET" : "PUT", type, reset, body, len);
	}
	if (strncmp(path, "/admin/collateral/", 18) == 0) {
		if (!admin_ok(r, ctx, auth))
			return;
		if (cmd != EVHTTP_REQ_POST)
			return attestd_reply_error(r, 405, "MethodNotAllowed", "collateral import takes POST");
		return attestd_handle_collateral(r, env, path + 18, body, len);
	}
	attestd_reply_error(r, 404, "NotFound", "no such endpoint: %.200s", path);
}

/* Everything after the transport: the query string, the path checks and the handlers (no I/O, so it is fuzzed). */
void attestd_route(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd, const char *auth,
                   const char *cookie, const char *path, const char *query_str, const char *body, size_t len)
{
	struct evkeyvalq query = { 0 };

	/* A stale error from an earlier request must not turn this one's 500 into a 503 (reply.c). */
	cocoon_error_clear();
	if (query_str && evhttp_parse_query_str(query_str, &query) != 0)
		attestd_reply_error(r, 400, "InvalidParameter", "the query string is malformed");
	else if (!path || !*path)
		attestd_reply_error(r, 404, "NotFound", "no path");
	else if (len && !body)
		attestd_reply_error(r, 500, "InternalError", "out of memory reading the body");
	else
		route(r, env, cmd, auth, cookie, path, body, len, &query);
	if (!r->body)
		attestd_reply_error(r, 500, "InternalError", "no reply was produced");
	evhttp_clear_headers(&query);
}

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	attestd_worker *w = arg;
	attestd_reply r = { 0 };
	struct timespec start;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *out = evbuffer_new();
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &start);
	w->last_request = start;
	r.verdict = -1;
	attestd_env_refresh(&w->env);
	attestd_route(&r, &w->env, evhttp_request_get_command(req),
	              evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"),
	              evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie"), path, q, body, len);
	if (out) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Content-Type", r.content_type ? r.content_type : "application/json");
		evhttp_add_header(h, "Cache-Control", "no-store");
		if (r.status == 401)
			evhttp_add_header(h, "WWW-Authenticate", "Bearer");
		if (r.set_cookie)
			evhttp_add_header(h, "Set-Cookie", r.set_cookie);
		if (r.status >= 400 && r.body) {
			json_t *e = json_loads(r.body, 0, NULL);
			const char *code = json_string_value(json_object_get(json_object_get(e, "error"), "code"));
			if (code)
				evhttp_add_header(h, "x-ms-error-code", code);
			json_decref(e);
		}
		evbuffer_add(out, r.body, strlen(r.body));
		evhttp_send_reply(req, r.status, NULL, out);
		evbuffer_free(out);
	} else {
		evhttp_send_error(req, 500, NULL);
	}
	secs = since(&start);
	attestd_metrics_observe(secs);
	if (r.status >= 100 && r.status < 600)
		atomic_fetch_add(&attestd_m.requests[r.status / 100], 1);
	/* Access log: path without the query, status, outcome; never bodies, tokens or evidence. */
	if (!(r.status == 200 && path && (!strcmp(path, "/metrics") || !strcmp(path, "/healthz") ||
	                                  !strcmp(path, "/readyz")))) {
		json_t *f = json_pack("{s:s,s:s,s:i,s:f,s:i}", "method", method_name(evhttp_request_get_command(req)),
		                      "path", path ? path : "", "status", r.status, "ms", (double)(long)(secs * 1e6) / 1000.0, "worker", w->id);
		if (f && r.tee_label)
			json_object_set_new(f, "type", json_string(r.tee_label));
		if (f && r.log_detail)
			json_object_set_new(f, "detail", json_string(r.log_detail));
		attestd_log(r.status >= 500 ? "error" : r.status >= 400 ? "warn" : "info", "request", f);
		json_decref(f);
	}
	free(r.body);
	free(r.log_detail);
	free(r.set_cookie);
}

/* ---- TLS ---- */

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* ---- drain ---- */

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	attestd_worker *w = arg;
	(void)fd;
	(void)what;
	if (since(&w->last_request) * 1000.0 >= QUIET_MS || time(NULL) >= w->drain_deadline)
		event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	attestd_worker *w = arg;
	struct timeval tick = { 0, 50 * 1000 };
	(void)fd;
	(void)what;
	/* Stop accepting; keep serving what is already in progress until quiet or the deadline. */
	if (w->bound) {
		evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
	}
	w->drain_deadline = time(NULL) + w->ctx->cfg->drain_timeout_seconds;
	if (!(w->drain_ev = event_new(w->base, -1, EV_PERSIST, on_drain_tick, w)) || event_add(w->drain_ev, &tick) != 0)
		event_base_loopexit(w->base, NULL);
}

static void *worker_main(void *arg)
{
	attestd_worker *w = arg;
	if (event_base_dispatch(w->base) < 0)
		attestd_logf("error", "worker %d: event loop failed", w->id);
	attestd_policy_thread_exit();
	attestd_signer_thread_exit();
	return NULL;
}

/* ---- sockets ---- */

static int listen_socket(evutil_socket_t *out, struct sockaddr_storage *ss, int sslen, const char *text)
{
	int one = 1;
	evutil_socket_t fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cocoon_error_set(COCOON_EIO, "listen %s: socket: %m", text);
	/* Accepted sockets inherit TCP_NODELAY: without it Nagle and delayed ACKs hold each
	 * TLS reply for ~40 ms on a kept-alive connection (the webhook measured 87 vs 2341 req/s). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)ss, (socklen_t)sslen) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return cocoon_error_set(COCOON_EIO, "listen %s: %m (is another process using the port?)", text);
	}
	*out = fd;
	return 0;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT", numeric only: port 0 is allowed (the kernel picks one). */
int attestd_listen_parse(struct sockaddr_storage *ss, int *sslen, const char *text)
{
	char host[128];
	const char *colon = strrchr(text, ':');
	struct addrinfo hints = { 0 }, *ai = NULL;
	size_t n;

	if (!colon || colon == text || !colon[1] || strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	n = (size_t)(colon - text);
	if (text[0] == '[' && n >= 2 && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	if (n >= sizeof(host) || atoi(colon + 1) > 65535)
		return -1;
	memcpy(host, text, n);
	host[n] = '\0';
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = (int)ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int make_workers(attestd_worker *ws, int n, attestd_ctx *ctx)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), err;

	memset(&ss, 0, sizeof(ss));
	if (attestd_listen_parse(&ss, &sslen, ctx->cfg->listen) != 0)
		return cocoon_error_set(COCOON_EINVAL, "listen '%s' is not ADDR:PORT with a numeric address and a port "
		                        "0..65535 (IPv6: [ADDR]:PORT)", ctx->cfg->listen);
	for (int i = 0; i < n; i++) {
		attestd_worker *w = &ws[i];
		w->ctx = ctx;
		w->id = i;
		w->fd = -1;
		w->env.ctx = ctx;
		if ((err = listen_socket(&w->fd, &ss, sslen, ctx->cfg->listen)) != 0)
			return err;
		if (i == 0) {
			/* Port 0 picks a free port once; the other workers join it. */
			socklen_t l = sizeof(ss);
			getsockname(w->fd, (struct sockaddr *)&ss, &l);
		}
		if (!(w->base = event_base_new()) || !(w->http = evhttp_new(w->base)) ||
		    !(w->stop_ev = event_new(w->base, -1, 0, on_stop, w)) ||
		    !(w->bound = evhttp_accept_socket_with_handle(w->http, w->fd)))
			return cocoon_error_set(COCOON_EINTERNAL, "libevent setup failed for worker %d", i);
		w->fd = -1; /* owned by the bound socket now */
		if ((err = attestd_database_open(&w->env.store, ctx->cfg, ctx->kek)) ||
		    (err = attestd_cache_new(&w->env.cache)))
			return err;
		evhttp_set_max_body_size(w->http, (ev_ssize_t)ctx->cfg->max_body_bytes);
		evhttp_set_max_headers_size(w->http, 16 * 1024);
		evhttp_set_timeout(w->http, ctx->cfg->request_timeout_seconds);
		evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		                                       EVHTTP_REQ_DELETE);
		evhttp_set_gencb(w->http, on_request, w);
		if (ctx->tls)
			evhttp_set_bevcb(w->http, tls_bev, ctx->tls);
		clock_gettime(CLOCK_MONOTONIC, &w->last_request);
	}
	{
		char host[128];
		int port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                          : ((struct sockaddr_in *)&ss)->sin_port);
		json_t *f;
		evutil_inet_ntop(ss.ss_family, ss.ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
		                                                        : (void *)&((struct sockaddr_in *)&ss)->sin_addr,
		                 host, sizeof(host));
		if (!ctx->cfg->issuer) {
			/* The issuer names the real port when port 0 was asked for. */
			char *iss = NULL, *jku = NULL;
			if (asprintf(&iss, ss.ss_family == AF_INET6 ? "%s://[%s]:%d" : "%s://%s:%d",
			             ctx->tls ? "https" : "http", host, port) >= 0 &&
			    asprintf(&jku, "%s/certs", iss) >= 0) {
				free(ctx->issuer);
				free(ctx->jku);
				ctx->issuer = iss;
				ctx->jku = jku;
			} else {
				free(iss);
			}
		}
		f = json_pack("{s:s,s:i,s:s,s:i,s:s,s:s}", "address", host, "port", port, "scheme",
		              ctx->tls ? "https" : "http", "workers", n, "issuer", ctx->issuer, "alg",
		              attestd_signer_alg(ctx->signer));
		attestd_log("info", "listening", f);
		json_decref(f);
	}
	return 0;
}

static void free_workers(attestd_worker *ws, int n)
{
	for (int i = 0; i < n; i++) {
		attestd_worker *w = &ws[i];
		if (w->http)
			evhttp_free(w->http);
		if (w->fd >= 0)
			close(w->fd);
		if (w->stop_ev)
			event_free(w->stop_ev);
		if (w->drain_ev)
			event_free(w->drain_ev);
		if (w->base)
			event_base_free(w->base);
		if (w->env.store)
			w->env.store->ops->close(w->env.store);
		attestd_cache_free(w->env.cache);
	}
}

int attestd_server_run(attestd_ctx *ctx)
{
	int n = ctx->cfg->workers > 0 ? ctx->cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	attestd_worker *ws;
	sigset_t set;
	int sig = 0, rc = ATTESTD_EXIT_OK;

	if (n < 1)
		n = 1;
	if (n > ATTESTD_MAX_WORKERS)
		n = ATTESTD_MAX_WORKERS;
	if (evthread_use_pthreads() != 0) {
		attestd_logf("error", "libevent threading support is unavailable");
		return ATTESTD_EXIT_RUNTIME;
	}
	/* Signals go to the main thread only: block them before the workers start. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!(ws = calloc((size_t)n, sizeof(*ws)))) {
		attestd_logf("error", "out of memory");
		return ATTESTD_EXIT_RUNTIME;
	}
	if (make_workers(ws, n, ctx) != 0) {
		attestd_logf("error", "%s", cocoon_error_last()->message);
		free_workers(ws, n);
		free(ws);
		return ATTESTD_EXIT_LISTEN;
	}
	for (int i = 0; i < n; i++) {
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			attestd_logf("error", "cannot start worker thread %d", i);
			rc = ATTESTD_EXIT_RUNTIME;
			break;
		}
		ws[i].started = 1;
	}
	/* Start-up (key generation, collateral import, per-worker SQLite) leaves
	 * freed heap behind; hand it back before idling. */
	malloc_trim(0);
	atomic_store(&ctx->ready, 1);
	if (rc == ATTESTD_EXIT_OK) {
		while (sigwait(&set, &sig) != 0)
			;
		attestd_logf("info", "received %s: draining in-flight requests (at most %d s)",
		             sig == SIGTERM ? "SIGTERM" : "SIGINT", ctx->cfg->drain_timeout_seconds);
	}
	atomic_store(&ctx->draining, 1);
	for (int i = 0; i < n; i++)
		if (ws[i].started)
			event_active(ws[i].stop_ev, EV_TIMEOUT, 0);
	for (int i = 0; i < n; i++)
		if (ws[i].started)
			pthread_join(ws[i].thread, NULL);
	free_workers(ws, n);
	free(ws);
	attestd_logf("info", "stopped");
	return rc;
}
