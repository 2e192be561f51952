/*
 * HTTP GET for the collateral client over libcurl: HTTPS with the system
 * CA store (or a given CA file), bounded body size, retries with
 * exponential backoff and jitter on 429, 5xx and transport errors
 * (honouring Retry-After), a deadline over all attempts, and a limit on
 * concurrent requests per host because AMD KDS rate-limits hard. This file
 * is the only one that links libcurl into libcocoon; static binaries that do
 * not fetch (cocoon-run) never pull it in.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include "cocoon/common.h"
#include "common/util.h"
#include "collateral/http.h"

#define BODY_MAX ((size_t)32 << 20)
#define HEADERS_MAX ((size_t)256 << 10)
#define HOSTS_MAX 32

typedef struct {
	char host[256];
	int active;
} host_slot;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_err;
static pthread_mutex_t hosts_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hosts_cv = PTHREAD_COND_INITIALIZER;
static host_slot hosts[HOSTS_MAX];

static void curl_init_once(void)
{
	curl_init_err = curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK;
}

/* The host of a URL (between "://" and the next '/', '?' or end). */
static void url_host(char out[256], const char *url)
{
	const char *p = strstr(url, "://"), *e;
	size_t n;

	p = p ? p + 3 : url;
	e = p + strcspn(p, "/?#");
	n = (size_t)(e - p) < 255 ? (size_t)(e - p) : 255;
	memcpy(out, p, n);
	out[n] = '\0';
}

static host_slot *host_acquire(const char *host, int limit)
{
	host_slot *s = NULL;

	pthread_mutex_lock(&hosts_mu);
	for (;;) {
		host_slot *free_slot = NULL;
		s = NULL;
		for (int i = 0; i < HOSTS_MAX && !s; i++) {
			if (hosts[i].active && strcmp(hosts[i].host, host) == 0)
				s = &hosts[i];
			else if (!hosts[i].active && !free_slot)
				free_slot = &hosts[i];
		}
		if (!s && free_slot) {
			s = free_slot;
			snprintf(s->host, sizeof(s->host), "%s", host);
		}
		if (s && s->active < limit)
			break;
		pthread_cond_wait(&hosts_cv, &hosts_mu);
	}
	s->active++;
	pthread_mutex_unlock(&hosts_mu);
	return s;
}

static void host_release(host_slot *s)
{
	pthread_mutex_lock(&hosts_mu);
	s->active--;
	pthread_cond_broadcast(&hosts_cv);
	pthread_mutex_unlock(&hosts_mu);
}

typedef struct {
	uint8_t *p;
	size_t len, cap, max;
	int overflow;
} growbuf;

static int grow_append(growbuf *b, const void *data, size_t n)
{
	if (n > b->max - b->len) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return -1;
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	return grow_append(ud, data, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	growbuf *b = ud;

	/* A new status line starts the headers of the next response (after 100 Continue). */
	if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		b->len = 0;
	return grow_append(b, data, size * n) == 0 ? size * n : 0;
}

int coll_http_header(const char **value, size_t *value_len, const char *headers, size_t len, const char *name)
{
	size_t nlen = strlen(name), pos = 0;

	*value = NULL;
	*value_len = 0;
	while (pos < len) {
		const char *line = headers + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;
		pos += l + (nl ? 1 : 0);
		if (l && line[l - 1] == '\r')
			l--;
		if (l > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			size_t s = nlen + 1;
			while (s < l && (line[s] == ' ' || line[s] == '\t'))
				s++;
			while (l > s && (line[l - 1] == ' ' || line[l - 1] == '\t'))
				l--;
			*value = line + s;
			*value_len = l - s;
			return 0;
		}
	}
	return COCOON_ENOTFOUND;
}

long coll_http_retry_after(const char *headers, size_t len)
{
	const char *v;
	size_t vl;
	long secs = 0;

	if (coll_http_header(&v, &vl, headers, len, "Retry-After") != 0 || vl == 0 || vl > 9)
		return -1;
	for (size_t i = 0; i < vl; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;  /* the HTTP-date form: fall back to our own backoff */
		secs = secs * 10 + (v[i] - '0');
	}
	return secs;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Full jitter over [wait/2, wait]: concurrent clients that failed together do not retry together. */
static long jitter(long wait)
{
	uint32_t r = 0;

	if (wait <= 1 || RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return wait;
	return wait / 2 + (long)(r % (uint32_t)(wait / 2 + 1));
}

static CURLcode attempt(CURL *h, const char *url, const coll_http_opts *o, long timeout, growbuf *body,
                        growbuf *hdrs, char errbuf[CURL_ERROR_SIZE])
{
	curl_easy_reset(h);
	errbuf[0] = '\0';
	body->len = hdrs->len = 0;
	body->overflow = hdrs->overflow = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cocoon-collateral/1");
	if (o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	return curl_easy_perform(h);
}

static int finish(coll_http_resp *out, growbuf *body, growbuf *hdrs)
{
	out->body = body->p ? body->p : calloc(1, 1);
	out->body_len = body->len;
	out->headers = hdrs->p ? (char *)hdrs->p : calloc(1, 1);
	out->headers_len = hdrs->len;
	body->p = hdrs->p = NULL;
	if (!out->body || !out->headers) {
		coll_http_resp_clear(out);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	return 0;
}

int coll_http_get(coll_http_resp *out, const char *url, const coll_http_opts *o)
{
	growbuf body = { .max = BODY_MAX }, hdrs = { .max = HEADERS_MAX };
	char errbuf[CURL_ERROR_SIZE], host[256];
	long start = now_ms(), wait = o->backoff_ms;
	host_slot *slot;
	CURL *h = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_err || !(h = curl_easy_init()))
		return cocoon_error_set(COCOON_EINTERNAL, "GET %s: libcurl failed to initialise", url);
	url_host(host, url);
	for (int n = 1;; n++) {
		long left = o->deadline_ms - (now_ms() - start), retry_after, next;
		CURLcode rc;
		char what[CURL_ERROR_SIZE + 64];

		out->attempts = n;
		slot = host_acquire(host, o->per_host);
		rc = attempt(h, url, o, left < o->timeout_ms ? (left > 1 ? left : 1) : o->timeout_ms, &body, &hdrs, errbuf);
		host_release(slot);
		out->status = 0;
		if (rc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		if (rc == CURLE_OK && out->status == 200) {
			err = finish(out, &body, &hdrs);
			goto done;
		}
		if (rc == CURLE_WRITE_ERROR && body.overflow) {
			err = cocoon_error_set(COCOON_EFORMAT, "GET %s: the response exceeds %zu bytes", url, BODY_MAX);
			goto done;
		}
		if (rc != CURLE_OK)
			snprintf(what, sizeof(what), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else
			snprintf(what, sizeof(what), "HTTP status %ld", out->status);
		if (rc == CURLE_OK && out->status == 404) {
			err = cocoon_error_set(COCOON_ENOTFOUND, "GET %s: HTTP status 404 (not found)", url);
			goto done;
		}
		/* Certificate errors are not transient: retrying them would only hide the misconfiguration. */
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CONNECT_ERROR ||
		    (rc == CURLE_OK && out->status != 429 && out->status < 500)) {
			err = cocoon_error_set(rc == CURLE_OK ? COCOON_EIO : COCOON_EUNAVAILABLE, "GET %s: %s", url, what);
			goto done;
		}
		retry_after = rc == CURLE_OK ? coll_http_retry_after(hdrs.p ? (char *)hdrs.p : "", hdrs.len) : -1;
		next = retry_after >= 0 ? retry_after * 1000 : jitter(wait);
		if (next > o->max_backoff_ms)
			next = o->max_backoff_ms;
		if (n >= o->max_attempts || now_ms() - start + next >= o->deadline_ms) {
			err = cocoon_error_set(COCOON_EUNAVAILABLE, "GET %s: %s after %d attempt%s in %ld ms; try again later",
			                       url, what, n, n == 1 ? "" : "s", now_ms() - start);
			goto done;
		}
		sleep_ms(next);
		wait = wait * 2 > o->max_backoff_ms ? o->max_backoff_ms : wait * 2;
	}
done:
	free(body.p);
	free(hdrs.p);
	curl_easy_cleanup(h);
	return err;
}

void coll_http_resp_clear(coll_http_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}
