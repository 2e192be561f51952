/*
 * A small HTTP/1.1 client for the key broker: one request per connection
 * (Connection: close), over a plain socket or OpenSSL TLS. It exists because
 * cocoon-run is linked -static and libcurl would pull in half a distribution.
 *
 * What it does: http:// and https:// URLs (hostname or IP checked against
 * the certificate), Content-Length and chunked replies, a reply size limit,
 * the kbs-session-id cookie, connect and I/O timeouts. Plain http:// goes
 * only to a loopback host unless the caller allows it (simulated evidence).
 * Network failures are COCOON_EUNAVAILABLE so callers can retry them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "kbs_int.h"
#include "cocoon/kbs.h"

#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_MAX_HEADER (64 * 1024)

typedef struct {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned int timeout_ms;
} http_conn;

int cocoon_kbs_url_parse(cocoon_kbs_url *out, const char *url)
{
	const char *p, *host, *host_end, *port = NULL;
	size_t hl, pl = 0;

	memset(out, 0, sizeof(*out));
	if (!url)
		return cocoon_error_set(COCOON_EINVAL, "URL: none given");
	if (strncmp(url, "https://", 8) == 0)
		out->https = 1, p = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": the scheme must be http:// or https://", url);
	if (memchr(p, '@', strcspn(p, "/?#")))
		return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": user@ is not allowed", url);
	host = p;
	if (*p == '[') {
		if (!(host_end = strchr(p, ']')))
			return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": unterminated [IPv6 address]", url);
		host = p + 1;
		p = host_end + 1;
	} else {
		p += strcspn(p, ":/?#@");
		host_end = p;
	}
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof(out->host))
		return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": empty or overlong host", url);
	memcpy(out->host, host, hl);
	if (*p == ':') {
		port = ++p;
		pl = strspn(p, "0123456789");
		p += pl;
		if (pl == 0 || pl > 5 || atoi(port) < 1 || atoi(port) > 65535)
			return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": bad port", url);
		memcpy(out->port, port, pl);
	} else {
		strcpy(out->port, out->https ? "443" : "80");
	}
	if (*p && *p != '/')
		return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": unexpected '%c' after the host", url, *p);
	if (strlen(p) >= sizeof(out->prefix) || strpbrk(p, "?# \r\n"))
		return cocoon_error_set(COCOON_EINVAL, "URL \"%.128s\": the path may not hold a query, fragment or space",
		                        url);
	strcpy(out->prefix, p);
	/* No trailing slash: routes are appended as "/kbs/v0/...". */
	for (size_t n = strlen(out->prefix); n > 0 && out->prefix[n - 1] == '/'; n--)
		out->prefix[n - 1] = '\0';
	return 0;
}

int cocoon_kbs_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int wait_fd(int fd, short ev, unsigned int timeout_ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, (int)timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: timed out after %u ms", what, timeout_ms);
	if (r < 0)
		return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: poll: %s", what, strerror(errno));
	return 0;
}

static int connect_one(int *fd, const struct addrinfo *ai, unsigned int timeout_ms, const char *where)
{
	int s, e = 0, err;
	socklen_t el = sizeof(e);

	if ((s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) < 0)
		return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: socket: %s", where, strerror(errno));
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			close(s);
			return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: connect: %s", where, strerror(e));
		}
		if ((err = wait_fd(s, POLLOUT, timeout_ms, where)) != 0) {
			close(s);
			return err;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
			close(s);
			return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: connect: %s", where, strerror(e ? e : errno));
		}
	}
	*fd = s;
	return 0;
}

static int tcp_connect(int *fd, const cocoon_kbs_url *u, unsigned int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char where[320];
	int r, err = 0;

	snprintf(where, sizeof(where), "broker %s:%s", u->host, u->port);
	if ((r = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		return cocoon_error_set(COCOON_EUNAVAILABLE, "%s: cannot resolve the host: %s (a static cocoon-run "
		                        "needs /etc/hosts or /etc/resolv.conf for names)", where, gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next)
		if ((err = connect_one(fd, ai, timeout_ms, where)) == 0)
			break;
	freeaddrinfo(res);
	return err;
}

static int tls_start(http_conn *c, const cocoon_kbs_url *u, const char *ca_file)
{
	unsigned char buf[16];
	X509_VERIFY_PARAM *vp;
	int r, e, err;
	long vr;

	if (!(c->ctx = SSL_CTX_new(TLS_client_method())) || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "TLS: cannot create a context");
	if (ca_file ? SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL) != 1
	            : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return cocoon_error_set_openssl(COCOON_EINVAL, "TLS: cannot load the CA bundle %s", ca_file ? ca_file : "(system)");
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (!(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "TLS: cannot create a connection");
	vp = SSL_get0_param(c->ssl);
	if (inet_pton(AF_INET, u->host, buf) == 1 || inet_pton(AF_INET6, u->host, buf) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, u->host) != 1)
			return cocoon_error_set_openssl(COCOON_EINTERNAL, "TLS: cannot set the expected IP");
	} else if (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 || SSL_set1_host(c->ssl, u->host) != 1) {
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "TLS: cannot set the expected host name");
	}
	while ((r = SSL_connect(c->ssl)) != 1) {
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if ((err = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, c->timeout_ms,
			                   "TLS handshake")) != 0)
				return err;
			continue;
		}
		if ((vr = SSL_get_verify_result(c->ssl)) != X509_V_OK)
			return cocoon_error_set(COCOON_EREJECT, "TLS: the broker's certificate for %s is not trusted: %s "
			                        "(check broker.ca / --ca and the host name in the URL)", u->host,
			                        X509_verify_cert_error_string(vr));
		return cocoon_error_set_openssl(COCOON_EUNAVAILABLE, "TLS handshake with %s:%s failed", u->host, u->port);
	}
	return 0;
}

static void conn_close(http_conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Writes all of buf; non-blocking socket, waits up to the timeout per step. */
static int conn_write(http_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int err;
	while (len > 0) {
		ssize_t n;
		if (c->ssl) {
			size_t w = 0;
			if (SSL_write_ex(c->ssl, p, len, &w) == 1) {
				n = (ssize_t)w;
			} else {
				int e = SSL_get_error(c->ssl, 0);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					return cocoon_error_set_openssl(COCOON_EUNAVAILABLE, "broker: TLS write failed");
				if ((err = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, c->timeout_ms,
				                   "broker: sending the request")) != 0)
					return err;
				continue;
			}
		} else if ((n = send(c->fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return cocoon_error_set(COCOON_EUNAVAILABLE, "broker: send: %s", strerror(errno));
			if ((err = wait_fd(c->fd, POLLOUT, c->timeout_ms, "broker: sending the request")) != 0)
				return err;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is available (>0), 0 at EOF, or an error. */
static int conn_read(http_conn *c, uint8_t *buf, size_t cap, size_t *got)
{
	int err;
	*got = 0;
	for (;;) {
		if (c->ssl) {
			if (SSL_read_ex(c->ssl, buf, cap, got) == 1)
				return 0;
			int e = SSL_get_error(c->ssl, 0);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
				return 0; /* EOF without close_notify: the body length decides */
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return cocoon_error_set_openssl(COCOON_EUNAVAILABLE, "broker: TLS read failed");
			if ((err = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, c->timeout_ms,
			                   "broker: waiting for the reply")) != 0)
				return err;
		} else {
			ssize_t n = recv(c->fd, buf, cap, 0);
			if (n >= 0) {
				*got = (size_t)n;
				return 0;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return cocoon_error_set(COCOON_EUNAVAILABLE, "broker: recv: %s", strerror(errno));
			if ((err = wait_fd(c->fd, POLLIN, c->timeout_ms, "broker: waiting for the reply")) != 0)
				return err;
		}
	}
}

static int build_request(char **out, size_t *out_len, const cocoon_kbs_url *u, const char *method, const char *path,
                         const char *const *headers, size_t body_len, const char *content_type)
{
	size_t cap = 1024 + strlen(path) + strlen(u->prefix), n;
	char *r;
	int w;

	for (size_t i = 0; headers && headers[i]; i++) {
		if (strpbrk(headers[i], "\r\n"))
			return cocoon_error_set(COCOON_EINVAL, "HTTP: a request header holds a line break");
		cap += strlen(headers[i]) + 2;
	}
	if (strpbrk(path, "\r\n ") || strpbrk(method, "\r\n "))
		return cocoon_error_set(COCOON_EINVAL, "HTTP: the request path holds a space or line break");
	if (!(r = malloc(cap)))
		return cocoon_error_set(COCOON_ENOMEM, "HTTP: out of memory");
	w = snprintf(r, cap, "%s %s%s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nConnection: close\r\nUser-Agent: cocoon\r\n"
	             "Accept: application/json\r\n", method, u->prefix, path, strchr(u->host, ':') ? "[" : "", u->host,
	             strchr(u->host, ':') ? "]" : "", ":", u->port);
	n = (size_t)w;
	for (size_t i = 0; headers && headers[i]; i++)
		n += (size_t)snprintf(r + n, cap - n, "%s\r\n", headers[i]);
	if (content_type)
		n += (size_t)snprintf(r + n, cap - n, "Content-Type: %s\r\n", content_type);
	if (body_len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
		n += (size_t)snprintf(r + n, cap - n, "Content-Length: %zu\r\n", body_len);
	n += (size_t)snprintf(r + n, cap - n, "\r\n");
	*out = r;
	*out_len = n;
	return 0;
}

static int exchange(cocoon_kbs_http_response *out, http_conn *c, const char *req, size_t req_len,
                    const uint8_t *body, size_t body_len, size_t max)
{
	size_t cap = 16384, len = 0, got, limit = max + HTTP_MAX_HEADER;
	uint8_t *buf = malloc(cap);
	int err, r = 1;

	if (!buf)
		return cocoon_error_set(COCOON_ENOMEM, "HTTP: out of memory");
	if ((err = conn_write(c, req, req_len)) != 0 || (body_len && (err = conn_write(c, body, body_len)) != 0))
		goto done;
	for (;;) {
		if (len + 1 >= cap) {
			uint8_t *nb;
			if (cap >= limit + 1) {
				err = cocoon_error_set(COCOON_EFORMAT, "broker reply: larger than the limit of %zu bytes", max);
				goto done;
			}
			cap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
			if (!(nb = realloc(buf, cap))) {
				err = cocoon_error_set(COCOON_ENOMEM, "HTTP: out of memory");
				goto done;
			}
			buf = nb;
		}
		if ((err = conn_read(c, buf + len, cap - 1 - len, &got)) != 0)
			goto done;
		len += got;
		if ((r = cocoon_kbs_http_parse_response(out, buf, len, max, got == 0)) <= 0) {
			err = r;
			goto done;
		}
		if (got == 0) {
			err = cocoon_error_set(COCOON_EUNAVAILABLE, "broker reply: connection closed before the reply ended");
			goto done;
		}
	}
done:
	if (buf) {
		cocoon_zeroize(buf, cap);
		free(buf);
	}
	return err;
}

int cocoon_kbs_http_request(cocoon_kbs_http_response *out, const cocoon_kbs_http_options *o, const char *method,
                            const char *url, const char *path, const char *const *headers, const uint8_t *body,
                            size_t body_len, const char *content_type)
{
	cocoon_kbs_http_options dflt = COCOON_KBS_HTTP_OPTIONS_INIT;
	http_conn c = { .fd = -1 };
	cocoon_kbs_url u;
	char *req = NULL;
	size_t req_len = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!o)
		o = &dflt;
	if (o->version != COCOON_KBS_HTTP_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "HTTP options: version %u, expected %u", o->version,
		                        COCOON_KBS_HTTP_OPTIONS_VERSION);
	if ((err = cocoon_kbs_url_parse(&u, url)) != 0)
		return err;
	if (!u.https && !o->allow_insecure_http && !cocoon_kbs_host_is_loopback(u.host))
		return cocoon_error_set(COCOON_EINVAL, "broker URL %.128s: plain http:// is allowed only to a loopback "
		                        "address (127.x, localhost, [::1]) or with simulated evidence; use https:// with "
		                        "a CA bundle", url);
	c.timeout_ms = o->timeout_ms ? o->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	if ((err = tcp_connect(&c.fd, &u, c.timeout_ms)) != 0)
		goto done;
	if (u.https && (err = tls_start(&c, &u, o->ca_file)) != 0)
		goto done;
	if ((err = build_request(&req, &req_len, &u, method, path, headers, body_len, content_type)) != 0)
		goto done;
	err = exchange(out, &c, req, req_len, body, body_len, o->max_response ? o->max_response : COCOON_KBS_MAX_BODY);
done:
	if (req) {
		cocoon_zeroize(req, req_len); /* may hold a bearer token */
		free(req);
	}
	conn_close(&c);
	if (err != 0)
		cocoon_kbs_http_response_clear(out);
	return err;
}

void cocoon_kbs_http_response_clear(cocoon_kbs_http_response *r)
{
	if (!r)
		return;
	if (r->body) {
		cocoon_zeroize(r->body, r->body_len);
		free(r->body);
	}
	cocoon_zeroize(r->session_cookie, sizeof(r->session_cookie));
	memset(r, 0, sizeof(*r));
}
