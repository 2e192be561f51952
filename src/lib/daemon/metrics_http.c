/* Metrics registry, Prometheus text rendering and the HTTP endpoint; see metrics_http.h. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include "common/util.h"
#include "metrics_http.h"
#include "nlog.h"

#define MAX_CONNS 16
#define CONN_TIMEOUT_MS 5000

typedef struct {
	const char *name, *labels, *help, *type;
	cocoon_metric value;
} metric;

struct cocoon_metrics {
	metric m[COCOON_METRICS_MAX];
	int n;
};

int cocoon_metrics_new(cocoon_metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cocoon_error_set(COCOON_ENOMEM, "metrics: out of memory");
}

void cocoon_metrics_free(cocoon_metrics *m)
{
	free(m);
}

static cocoon_metric *add(cocoon_metrics *m, const char *type, const char *name, const char *labels,
                          const char *help)
{
	metric *e;

	if (!m || m->n >= COCOON_METRICS_MAX)
		return NULL;
	e = &m->m[m->n++];
	e->name = name;
	e->labels = labels;
	e->help = help;
	e->type = type;
	atomic_init(&e->value.v, 0);
	return &e->value;
}

cocoon_metric *cocoon_metrics_counter(cocoon_metrics *m, const char *name, const char *labels, const char *help)
{
	return add(m, "counter", name, labels, help);
}

cocoon_metric *cocoon_metrics_gauge(cocoon_metrics *m, const char *name, const char *labels, const char *help)
{
	return add(m, "gauge", name, labels, help);
}

void cocoon_metric_add(cocoon_metric *c, int64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

void cocoon_metric_set(cocoon_metric *c, int64_t v)
{
	if (c)
		atomic_store_explicit(&c->v, v, memory_order_relaxed);
}

int64_t cocoon_metric_get(const cocoon_metric *c)
{
	return c ? atomic_load_explicit(&((cocoon_metric *)c)->v, memory_order_relaxed) : 0;
}

/* Appends to a growing buffer; *bad records a failure so the caller checks once. */
static void out_printf(char **buf, size_t *len, size_t *cap, int *bad, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void out_printf(char **buf, size_t *len, size_t *cap, int *bad, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			*bad = 1;
			return;
		}
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		char *nb = realloc(*buf, *cap * 2 + (size_t)n);
		if (!nb) {
			*bad = 1;
			return;
		}
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
}

int cocoon_metrics_render(char **out, size_t *len, const cocoon_metrics *m)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int bad = !buf;

	*out = NULL;
	*len = 0;
	for (int i = 0; m && i < m->n && !bad; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(m->m[j].name, m->m[i].name) == 0;
		if (seen)
			continue;
		/* Samples of one name stay together, as the format requires. */
		out_printf(&buf, &n, &cap, &bad, "# HELP %s %s\n# TYPE %s %s\n", m->m[i].name, m->m[i].help,
		           m->m[i].name, m->m[i].type);
		for (int k = i; k < m->n; k++) {
			const metric *e = &m->m[k];
			if (strcmp(e->name, m->m[i].name) != 0)
				continue;
			out_printf(&buf, &n, &cap, &bad, "%s%s%s%s %lld\n", e->name, e->labels ? "{" : "",
			           e->labels ? e->labels : "", e->labels ? "}" : "",
			           (long long)cocoon_metric_get(&e->value));
		}
	}
	if (bad) {
		free(buf);
		return cocoon_error_set(COCOON_ENOMEM, "metrics: out of memory rendering");
	}
	*out = buf;
	*len = n;
	return 0;
}

/* ---- request parsing ---- */

static const char *find_crlf(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static int route_of(const char *t, size_t n)
{
	static const struct {
		const char *path;
		cocoon_mhttp_route route;
	} routes[] = { { "/metrics", COCOON_MHTTP_METRICS },
		       { "/healthz", COCOON_MHTTP_HEALTHZ },
		       { "/readyz", COCOON_MHTTP_READYZ } };
	const char *q = memchr(t, '?', n);

	if (q)
		n = (size_t)(q - t); /* a scraper may add a query; it selects nothing here */
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strlen(routes[i].path) == n && memcmp(routes[i].path, t, n) == 0)
			return routes[i].route;
	return COCOON_MHTTP_NOT_FOUND;
}

/* The head must be printable ASCII, tabs and CRLF: a NUL or bare CR/LF is a smuggling attempt or garbage. */
static int head_bytes_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return 0;
			i++;
		} else if (c == '\n' || c == 0x7f || (c < 0x20 && c != '\t')) {
			return 0;
		}
	}
	return 1;
}

int cocoon_mhttp_parse(cocoon_mhttp_req *req, const char *buf, size_t len)
{
	const char *end = buf + len, *eol, *sp1, *sp2, *head_end = NULL;
	size_t mlen, tlen, vlen;

	memset(req, 0, sizeof(*req));
	for (const char *p = buf; p + 3 < end; p++)
		if (memcmp(p, "\r\n\r\n", 4) == 0) {
			head_end = p + 4;
			break;
		}
	if (!head_end)
		return len >= COCOON_MHTTP_MAX_REQUEST ? 431 : (memchr(buf, 0, len) ? 400 : 1);
	if ((size_t)(head_end - buf) > COCOON_MHTTP_MAX_REQUEST)
		return 431;
	if (!head_bytes_ok(buf, (size_t)(head_end - buf)))
		return 400;
	eol = find_crlf(buf, head_end);
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return 400;
	mlen = (size_t)(sp1 - buf);
	tlen = (size_t)(sp2 - sp1 - 1);
	for (size_t i = 0; i < mlen; i++)
		if (buf[i] < 'A' || buf[i] > 'Z')
			return 400;
	if (tlen == 0 || sp1[1] != '/' || memchr(sp1 + 1, '\t', tlen))
		return 400;
	if (tlen > COCOON_MHTTP_MAX_TARGET)
		return 414;
	vlen = (size_t)(eol - sp2 - 1);
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return vlen >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400;
	if (mlen != 3 || memcmp(buf, "GET", 3) != 0)
		return 405;
	req->route = (cocoon_mhttp_route)route_of(sp1 + 1, tlen);
	req->head_len = (size_t)(head_end - buf);
	return 0;
}

/* ---- the server ---- */

typedef struct conn conn;

struct cocoon_mhttp {
	cocoon_loop *loop;
	cocoon_watch listen;
	cocoon_metrics *reg;
	cocoon_health_fn check;
	void *ctx;
	int port, nconns;
	conn *conns;
};

struct conn {
	cocoon_mhttp *s;
	cocoon_watch w;
	cocoon_timer timer;
	char in[COCOON_MHTTP_MAX_REQUEST];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	size_t drained; /* bytes discarded after the answer, see conn_drain */
	int draining;
	conn *next;
};

static void conn_close(conn *c)
{
	cocoon_mhttp *s = c->s;

	for (conn **pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	s->nconns--;
	cocoon_loop_watch_del(s->loop, &c->w);
	cocoon_loop_timer_cancel(s->loop, &c->timer);
	close(c->w.fd);
	free(c->out);
	free(c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* Builds the whole response in c->out; the body is copied, not owned. */
static int respond(conn *c, int status, const char *ctype, const char *body, size_t blen)
{
	char head[256];
	int hn = snprintf(head, sizeof(head),
	                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	                  status, reason(status), ctype, blen, status == 405 ? "Allow: GET\r\n" : "");

	if (hn < 0 || (size_t)hn >= sizeof(head))
		return -1;
	c->out = malloc((size_t)hn + blen);
	if (!c->out)
		return -1;
	memcpy(c->out, head, (size_t)hn);
	if (blen)
		memcpy(c->out + hn, body, blen);
	c->out_len = (size_t)hn + blen;
	c->out_off = 0;
	return 0;
}

static int respond_text(conn *c, int status, const char *text)
{
	return respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int answer(conn *c, const cocoon_mhttp_req *req)
{
	cocoon_mhttp *s = c->s;
	char why[200], line[256];
	char *body = NULL;
	size_t blen;
	int rc;

	switch (req->route) {
	case COCOON_MHTTP_METRICS:
		if (cocoon_metrics_render(&body, &blen, s->reg) != 0)
			return respond_text(c, 500, "cannot render metrics\n");
		rc = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, blen);
		free(body);
		return rc;
	case COCOON_MHTTP_HEALTHZ:
	case COCOON_MHTTP_READYZ: {
		int ready = req->route == COCOON_MHTTP_READYZ;
		if (!s->check)
			return ready ? respond_text(c, 404, "not found\n") : respond_text(c, 200, "ok\n");
		why[0] = '\0';
		if (s->check(s->ctx, ready, why, sizeof(why)) == 0)
			return respond_text(c, 200, "ok\n");
		snprintf(line, sizeof(line), "%s\n", why[0] ? why : "unhealthy");
		return respond_text(c, 503, line);
	}
	default:
		return respond_text(c, 404, "not found: try /metrics, /healthz or /readyz\n");
	}
}

static void conn_write(conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (cocoon_loop_watch_mod(c->s->loop, &c->w, EPOLLOUT) != 0)
				conn_close(c);
			return;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* Closing with unread request bytes would send a RST that can destroy the
	 * answer in flight (a 431 for an oversized head); half-close and drain. */
	shutdown(c->w.fd, SHUT_WR);
	c->draining = 1;
	if (cocoon_loop_watch_mod(c->s->loop, &c->w, EPOLLIN) != 0)
		conn_close(c);
}

/* Discards what the client still sends until it closes, up to a cap (and the connection timeout). */
static void conn_drain(conn *c)
{
	char scratch[4096];
	ssize_t n = recv(c->w.fd, scratch, sizeof(scratch), 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0 || (c->drained += (size_t)n) > 64 * 1024)
		conn_close(c);
}

static void conn_read(conn *c)
{
	cocoon_mhttp_req req;
	ssize_t n;
	int st;

	n = recv(c->w.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	st = cocoon_mhttp_parse(&req, c->in, c->in_len);
	if (st == 1)
		return;
	if ((st == 0 ? answer(c, &req) : respond_text(c, st, reason(st))) != 0) {
		conn_close(c);
		return;
	}
	if (st != 0)
		nlog_debug("metrics endpoint: bad request", "{s:i}", "status", st);
	conn_write(c);
}

static void on_conn(cocoon_watch *w, uint32_t events)
{
	conn *c = w->ctx;

	if (c->draining)
		conn_drain(c);
	else if (c->out)
		conn_write(c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

static void on_conn_timeout(cocoon_timer *t)
{
	conn_close(t->ctx);
}

static void on_accept(cocoon_watch *w, uint32_t events)
{
	cocoon_mhttp *s = w->ctx;
	conn *c;
	int fd;

	(void)events;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A scraper needs one connection at a time; more is a flood, not a client. */
	if (s->nconns >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->s = s;
	c->w.fd = fd;
	c->w.fn = on_conn;
	c->w.ctx = c;
	c->timer.fn = on_conn_timeout;
	c->timer.ctx = c;
	if (cocoon_loop_watch_add(s->loop, &c->w, EPOLLIN) != 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	cocoon_loop_timer_arm(s->loop, &c->timer, CONN_TIMEOUT_MS);
}

/* HOST:PORT with a numeric host; [v6]:port for IPv6. */
static int split_listen(char *host, size_t hlen, char *port, size_t plen, const char *addr)
{
	const char *colon, *h = addr;
	size_t n;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return cocoon_error_set(COCOON_EINVAL, "metrics address '%.80s': expected [IPv6]:PORT", addr);
		h = addr + 1;
		n = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return cocoon_error_set(COCOON_EINVAL, "metrics address '%.80s': expected HOST:PORT", addr);
		n = (size_t)(colon - addr);
	}
	if (n == 0 || n >= hlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
		return cocoon_error_set(COCOON_EINVAL, "metrics address '%.80s': expected HOST:PORT with a numeric port",
		                        addr);
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

static int bind_listen(int *fd_out, int *port_out, const char *addr)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[8];
	int fd = -1, one = 1, rc, g;

	if ((rc = split_listen(host, sizeof(host), port, sizeof(port), addr)) != 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((g = getaddrinfo(host, port, &hints, &ai)) != 0)
		return cocoon_error_set(COCOON_EINVAL, "metrics address '%.80s': host must be a numeric IP address (%s)",
		                        addr, gai_strerror(g));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		rc = cocoon_error_set(COCOON_EIO, "metrics address %s: cannot listen: %s (is the port in use?)", addr,
		                      strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	                                             ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
done:
	freeaddrinfo(ai);
	return rc;
}

int cocoon_mhttp_start(cocoon_mhttp **out, cocoon_loop *loop, const char *addr, cocoon_metrics *reg,
                       cocoon_health_fn check, void *ctx)
{
	cocoon_mhttp *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "metrics endpoint: out of memory");
	s->loop = loop;
	s->reg = reg;
	s->check = check;
	s->ctx = ctx;
	s->listen.fn = on_accept;
	s->listen.ctx = s;
	s->listen.fd = -1;
	if ((rc = bind_listen(&s->listen.fd, &s->port, addr)) != 0 ||
	    (rc = cocoon_loop_watch_add(loop, &s->listen, EPOLLIN)) != 0) {
		cocoon_mhttp_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

int cocoon_mhttp_port(const cocoon_mhttp *s)
{
	return s ? s->port : 0;
}

void cocoon_mhttp_stop(cocoon_mhttp *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	cocoon_loop_watch_del(s->loop, &s->listen);
	if (s->listen.fd >= 0)
		close(s->listen.fd);
	free(s);
}

static int idle_ok(void *ctx, int ready, char *why, size_t why_len)
{
	(void)ctx;
	(void)ready;
	(void)why;
	(void)why_len;
	return 0;
}

static void idle_signal(cocoon_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		nlog_info("shutting down", "{s:i}", "signal", (int)si.ssi_signo);
	cocoon_loop_stop(w->ctx);
}

int cocoon_mhttp_idle(const char *addr, cocoon_metrics *reg)
{
	cocoon_loop *loop = NULL;
	cocoon_mhttp *http = NULL;
	cocoon_watch sig = { .fd = -1, .fn = idle_signal };
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if ((rc = cocoon_loop_new(&loop)) != 0)
		goto done;
	sig.ctx = loop;
	if ((sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		rc = cocoon_error_set(COCOON_EINTERNAL, "signalfd: %s", strerror(errno));
		goto done;
	}
	if ((rc = cocoon_loop_watch_add(loop, &sig, EPOLLIN)) != 0)
		goto done;
	if (addr) {
		if ((rc = cocoon_mhttp_start(&http, loop, addr, reg, idle_ok, NULL)) != 0)
			goto done;
		nlog_info("metrics listening", "{s:s,s:i}", "address", addr, "port", cocoon_mhttp_port(http));
	}
	rc = cocoon_loop_run(loop);
done:
	cocoon_mhttp_stop(http);
	if (sig.fd >= 0)
		close(sig.fd);
	cocoon_loop_free(loop);
	return rc;
}
