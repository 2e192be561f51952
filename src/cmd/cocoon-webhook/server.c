/*
 * The HTTPS server: one libevent loop (admission traffic is a few reviews a
 * second, and two replicas give availability), TLS through OpenSSL with the
 * certificate re-read when its files change, /mutate for AdmissionReviews,
 * /healthz and Prometheus /metrics. All policy is in webhook_review().
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "server.h"

typedef struct {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int ok;
} file_id;

typedef struct {
	const webhook_server_opts *o;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *reload_ev, *sigterm_ev, *sigint_ev;
	SSL_CTX *tls;
	file_id cert_id, key_id;
	/* metrics: one thread, so plain counters */
	unsigned long long reviews[WEBHOOK_OUTCOME_COUNT], codes[6], reloads_ok, reloads_failed;
	double review_seconds;
	unsigned long long review_count;
	long long not_after;
} server;

/* ---- TLS ---- */

static void file_stat(file_id *id, const char *path)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0)
		return;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->ok = 1;
}

static int file_same(const file_id *a, const file_id *b)
{
	return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static SSL_CTX *tls_load(const webhook_server_opts *o, long long *not_after, char *why, size_t why_len)
{
	SSL_CTX *t = SSL_CTX_new(TLS_server_method());
	const ASN1_TIME *na;
	struct tm tm;

	ERR_clear_error();
	if (!t || !SSL_CTX_set_min_proto_version(t, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(t, o->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t, o->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(t) != 1) {
		char err[256] = "unknown error";
		unsigned long e = ERR_peek_last_error();
		if (e)
			ERR_error_string_n(e, err, sizeof(err));
		snprintf(why, why_len, "cannot use --tls-cert %s with --tls-key %s: %s (both PEM, the key matching the "
		         "first certificate)", o->tls_cert, o->tls_key, err);
		ERR_clear_error();
		SSL_CTX_free(t);
		return NULL;
	}
	SSL_CTX_set_options(t, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	na = X509_get0_notAfter(SSL_CTX_get0_certificate(t));
	*not_after = na && ASN1_TIME_to_tm(na, &tm) == 1 ? (long long)timegm(&tm) : 0;
	return t;
}

/* Checks the certificate files; a change that does not load keeps the old certificate and says so. */
static void on_reload_tick(evutil_socket_t fd, short what, void *arg)
{
	server *s = arg;
	file_id c, k;
	SSL_CTX *t;
	char why[512];
	long long na = 0;
	(void)fd;
	(void)what;

	file_stat(&c, s->o->tls_cert);
	file_stat(&k, s->o->tls_key);
	if (file_same(&c, &s->cert_id) && file_same(&k, &s->key_id))
		return;
	s->cert_id = c;
	s->key_id = k;
	if (!(t = tls_load(s->o, &na, why, sizeof(why)))) {
		s->reloads_failed++;
		webhook_logf("error", "TLS reload failed, still serving the previous certificate: %s", why);
		return;
	}
	SSL_CTX_free(s->tls); /* connections in flight hold their own reference */
	s->tls = t;
	s->not_after = na;
	s->reloads_ok++;
	webhook_logf("info", "TLS certificate reloaded from %s (not after %lld)", s->o->tls_cert, na);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	server *s = arg;
	SSL *ssl = SSL_new(s->tls);
	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* ---- metrics ---- */

static const char *const OUTCOME_NAMES[WEBHOOK_OUTCOME_COUNT] = { "bad_request", "untouched", "mutated", "denied",
	                                                          "error" };

static char *metrics(const server *s)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	if (!f)
		return NULL;
	fputs("# HELP cocoon_webhook_reviews_total AdmissionReviews answered, by outcome.\n"
	      "# TYPE cocoon_webhook_reviews_total counter\n", f);
	for (int i = 0; i < WEBHOOK_OUTCOME_COUNT; i++)
		fprintf(f, "cocoon_webhook_reviews_total{outcome=\"%s\"} %llu\n", OUTCOME_NAMES[i], s->reviews[i]);
	fputs("# HELP cocoon_webhook_http_responses_total HTTP responses, by status class.\n"
	      "# TYPE cocoon_webhook_http_responses_total counter\n", f);
	for (int i = 1; i <= 5; i++)
		fprintf(f, "cocoon_webhook_http_responses_total{code=\"%dxx\"} %llu\n", i, s->codes[i]);
	fprintf(f, "# HELP cocoon_webhook_review_seconds Time spent deciding reviews.\n"
	        "# TYPE cocoon_webhook_review_seconds summary\n"
	        "cocoon_webhook_review_seconds_sum %.6f\ncocoon_webhook_review_seconds_count %llu\n",
	        s->review_seconds, s->review_count);
	fprintf(f, "# HELP cocoon_webhook_tls_reloads_total Certificate reloads after the files changed.\n"
	        "# TYPE cocoon_webhook_tls_reloads_total counter\n"
	        "cocoon_webhook_tls_reloads_total{result=\"ok\"} %llu\n"
	        "cocoon_webhook_tls_reloads_total{result=\"failed\"} %llu\n", s->reloads_ok, s->reloads_failed);
	fprintf(f, "# HELP cocoon_webhook_tls_cert_not_after_seconds Expiry of the served certificate (Unix time).\n"
	        "# TYPE cocoon_webhook_tls_cert_not_after_seconds gauge\n"
	        "cocoon_webhook_tls_cert_not_after_seconds %lld\n", s->not_after);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- requests ---- */

static void send_text(struct evhttp_request *req, server *s, int status, const char *type, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (status >= 100 && status < 600)
		s->codes[status / 100]++;
	if (!out || evhttp_add_header(h, "Content-Type", type) != 0 || evhttp_add_header(h, "Cache-Control", "no-store") ||
	    evbuffer_add(out, body, strlen(body)) != 0) {
		evhttp_send_error(req, 500, NULL);
	} else {
		evhttp_send_reply(req, status, NULL, out);
	}
	if (out)
		evbuffer_free(out);
}

static double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_review(struct evhttp_request *req, server *s)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	webhook_reply r;
	double t0 = now_seconds();
	json_t *f;

	webhook_review(&r, s->o->policy, body, len);
	s->review_seconds += now_seconds() - t0;
	s->review_count++;
	s->reviews[r.outcome]++;
	send_text(req, s, r.body ? r.status : 500, r.type ? r.type : "text/plain",
	          r.body ? r.body : "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	                            "\"message\":\"the webhook ran out of memory\",\"code\":500}");
	/* The outcome and reason only: a pod spec may carry secrets in its env. */
	f = json_pack("{s:s,s:i,s:s}", "outcome", OUTCOME_NAMES[r.outcome], "status", r.body ? r.status : 500,
	              "reason", r.reason);
	webhook_log(r.outcome == WEBHOOK_OUTCOME_ERROR ? "error" : r.outcome == WEBHOOK_OUTCOME_UNTOUCHED ||
	            r.outcome == WEBHOOK_OUTCOME_MUTATED ? "info" : "warn", "review", f);
	json_decref(f);
	free(r.body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	server *s = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char *m;

	if (!path)
		return send_text(req, s, 400, "text/plain", "no path\n");
	if (strcmp(path, "/mutate") == 0) {
		if (cmd != EVHTTP_REQ_POST)
			return send_text(req, s, 405, "text/plain", "/mutate takes POST with an AdmissionReview v1\n");
		return on_review(req, s);
	}
	if (cmd != EVHTTP_REQ_GET)
		return send_text(req, s, 405, "text/plain", "only GET here\n");
	if (strcmp(path, "/healthz") == 0)
		return send_text(req, s, 200, "text/plain", "ok\n");
	if (strcmp(path, "/metrics") == 0) {
		if (!(m = metrics(s)))
			return send_text(req, s, 500, "text/plain", "out of memory\n");
		send_text(req, s, 200, "text/plain; version=0.0.4", m);
		free(m);
		return;
	}
	send_text(req, s, 404, "text/plain", "not found: the webhook serves /mutate, /healthz and /metrics\n");
}

/* ---- lifecycle ---- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	server *s = arg;
	struct timeval grace = { s->o->drain_seconds, 0 };
	(void)what;
	webhook_logf("info", "received %s: finishing reviews in flight (at most %d s)", sig == SIGTERM ? "SIGTERM"
	             : "SIGINT", s->o->drain_seconds);
	if (s->bound) {
		evhttp_del_accept_socket(s->http, s->bound);
		s->bound = NULL;
	}
	event_base_loopexit(s->base, &grace);
}

static int listen_on(server *s)
{
	char host[128], port[8];
	const char *colon = strrchr(s->o->listen, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t n;
	json_t *f;

	if (!colon || (n = (size_t)(colon - s->o->listen)) == 0 || n >= sizeof(host) || strlen(colon + 1) >= sizeof(port)) {
		webhook_logf("error", "--listen %s is not ADDR:PORT (numeric, e.g. 0.0.0.0:8443 or [::]:8443)", s->o->listen);
		return -1;
	}
	memcpy(host, s->o->listen, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	strcpy(port, colon + 1);
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
		webhook_logf("error", "--listen %s is not ADDR:PORT (numeric, e.g. 0.0.0.0:8443 or [::]:8443)", s->o->listen);
		return -1;
	}
	s->bound = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)atoi(port));
	freeaddrinfo(ai);
	if (!s->bound) {
		webhook_logf("error", "cannot listen on %s: %s (is another process using the port?)", s->o->listen,
		             strerror(errno));
		return -1;
	}
	{
		/* Accepted sockets inherit it: without it Nagle and delayed ACKs hold each TLS reply ~40 ms. */
		int one = 1;
		if (setsockopt(evhttp_bound_socket_get_fd(s->bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
			webhook_logf("warn", "TCP_NODELAY: %s", strerror(errno));
	}
	if (getsockname(evhttp_bound_socket_get_fd(s->bound), (struct sockaddr *)&ss, &sl) == 0) {
		int p = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                       : ((struct sockaddr_in *)&ss)->sin_port);
		f = json_pack("{s:s,s:i}", "address", host, "port", p);
		webhook_log("info", "listening", f);
		json_decref(f);
	}
	return 0;
}

static int setup(server *s)
{
	struct timeval tick = { s->o->reload_seconds, 0 };
	char why[512];

	file_stat(&s->cert_id, s->o->tls_cert);
	file_stat(&s->key_id, s->o->tls_key);
	if (!(s->tls = tls_load(s->o, &s->not_after, why, sizeof(why)))) {
		webhook_logf("error", "%s", why);
		return WEBHOOK_EXIT_LISTEN;
	}
	if (!(s->base = event_base_new()) || !(s->http = evhttp_new(s->base)) ||
	    !(s->reload_ev = event_new(s->base, -1, EV_PERSIST, on_reload_tick, s)) ||
	    event_add(s->reload_ev, &tick) != 0 || !(s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s)) ||
	    !(s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s)) || event_add(s->sigterm_ev, NULL) != 0 ||
	    event_add(s->sigint_ev, NULL) != 0) {
		webhook_logf("error", "libevent setup failed");
		return WEBHOOK_EXIT_RUNTIME;
	}
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->o->max_body_bytes);
	evhttp_set_max_headers_size(s->http, 16 * 1024);
	evhttp_set_timeout(s->http, 10);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(s->http, on_request, s);
	evhttp_set_bevcb(s->http, tls_bev, s);
	return listen_on(s) == 0 ? WEBHOOK_EXIT_OK : WEBHOOK_EXIT_LISTEN;
}

int webhook_server_run(const webhook_server_opts *o)
{
	server s = { .o = o };
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((rc = setup(&s)) == WEBHOOK_EXIT_OK) {
		if (event_base_dispatch(s.base) < 0) {
			webhook_logf("error", "the event loop failed");
			rc = WEBHOOK_EXIT_RUNTIME;
		} else {
			webhook_logf("info", "stopped");
		}
	}
	if (s.http)
		evhttp_free(s.http);
	if (s.reload_ev)
		event_free(s.reload_ev);
	if (s.sigterm_ev)
		event_free(s.sigterm_ev);
	if (s.sigint_ev)
		event_free(s.sigint_ev);
	if (s.base)
		event_base_free(s.base);
	SSL_CTX_free(s.tls);
	return rc;
}
