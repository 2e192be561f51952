/*
 * Parses an HTTP/1.1 reply from the key broker (untrusted bytes): status
 * line, headers, a Content-Length, chunked or read-until-close body, and the
 * kbs-session-id cookie. Kept apart from the socket code so it is fuzzed
 * directly (fuzz/fuzz_kbs_http.c). Every length is bounded by the caller's
 * limit before anything is copied.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kbs_int.h"
#include "cocoon/kbs.h"

#define HTTP_MAX_HEADER (64 * 1024)
#define COOKIE_NAME "kbs-session-id="

static const uint8_t *find_crlf(const uint8_t *p, const uint8_t *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

/* Decimal with no sign, at most 19 digits. */
static int parse_dec(size_t *out, const char *s, size_t n)
{
	size_t v = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

typedef struct {
	int status;
	int chunked;
	int has_length;
	size_t length;
	char cookie[COCOON_KBS_SESSION_COOKIE_MAX];
} http_head;

static int header_line(http_head *h, const char *line, size_t n, size_t max)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t name_len, vl;

	if (!colon)
		return cocoon_error_set(COCOON_EFORMAT, "broker reply: a header line has no ':'");
	name_len = (size_t)(colon - line);
	v = colon + 1;
	vl = n - name_len - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		size_t cl;
		if (parse_dec(&cl, v, vl) != 0 || (h->has_length && cl != h->length))
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: bad or conflicting Content-Length");
		if (cl > max)
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: a body of %zu bytes exceeds the limit of %zu",
			                        cl, max);
		h->has_length = 1;
		h->length = cl;
	} else if (name_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
			return cocoon_error_set(COCOON_EUNSUPPORTED, "broker reply: Transfer-Encoding other than chunked");
		h->chunked = 1;
	} else if (name_len == 10 && strncasecmp(line, "Set-Cookie", 10) == 0 && vl > strlen(COOKIE_NAME) &&
	           strncmp(v, COOKIE_NAME, strlen(COOKIE_NAME)) == 0) {
		const char *c = v + strlen(COOKIE_NAME);
		size_t avail = vl - strlen(COOKIE_NAME), cl = 0;
		while (cl < avail && c[cl] != ';') /* the line is not NUL-terminated */
			cl++;
		if (cl == 0 || cl >= sizeof(h->cookie))
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: an empty or overlong kbs-session-id cookie");
		for (size_t i = 0; i < cl; i++)
			if (c[i] <= ' ' || c[i] >= 0x7f || c[i] == '"' || c[i] == ',' || c[i] == '\\')
				return cocoon_error_set(COCOON_EFORMAT, "broker reply: a bad character in the session cookie");
		memcpy(h->cookie, c, cl);
		h->cookie[cl] = '\0';
	}
	return 0;
}

static int parse_head(http_head *h, const uint8_t *buf, size_t hlen, size_t max)
{
	const uint8_t *p = buf, *end = buf + hlen, *eol;
	size_t code;

	memset(h, 0, sizeof(*h));
	eol = find_crlf(p, end + 2);
	if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    parse_dec(&code, (const char *)p + 9, 3) != 0 || (eol - p > 12 && p[12] != ' ') || code < 100 || code > 599)
		return cocoon_error_set(COCOON_EFORMAT, "broker reply: not an HTTP/1.x status line");
	h->status = (int)code;
	for (p = eol + 2; p < end; p = eol + 2) {
		int err;
		eol = find_crlf(p, end + 2);
		if (memchr(p, '\0', (size_t)(eol - p)))
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: a NUL byte in a header");
		if ((err = header_line(h, (const char *)p, (size_t)(eol - p), max)) != 0)
			return err;
	}
	if (h->chunked && h->has_length)
		return cocoon_error_set(COCOON_EFORMAT, "broker reply: both chunked and Content-Length");
	return 0;
}

/* Walks chunks: 1 while incomplete, 0 complete with *total, <0 on error. Copies into dst when non-NULL. */
static int walk_chunks(size_t *total, uint8_t *dst, const uint8_t *p, const uint8_t *end, size_t max)
{
	size_t sum = 0;
	for (;;) {
		const uint8_t *eol = find_crlf(p, end);
		size_t sz = 0, digits = 0;
		if (!eol)
			return (size_t)(end - p) > 1024 ? cocoon_error_set(COCOON_EFORMAT, "broker reply: overlong chunk line")
			                                 : 1;
		for (; p + digits < eol; digits++) {
			int c = p[digits], d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			if (digits >= 15)
				return cocoon_error_set(COCOON_EFORMAT, "broker reply: overlong chunk size");
			sz = sz * 16 + (size_t)d;
		}
		if (digits == 0 || (p + digits < eol && p[digits] != ';' && p[digits] != ' '))
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: bad chunk size line");
		if (sz > max - sum)
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: a chunked body exceeds the limit of %zu bytes",
			                        max);
		p = eol + 2;
		if (sz == 0) {
			/* Trailers until an empty line. */
			for (;;) {
				if (!(eol = find_crlf(p, end)))
					return 1;
				if (eol == p)
					break;
				p = eol + 2;
			}
			*total = sum;
			return 0;
		}
		if ((size_t)(end - p) < sz + 2)
			return 1;
		if (p[sz] != '\r' || p[sz + 1] != '\n')
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: a chunk is not followed by CRLF");
		if (dst)
			memcpy(dst + sum, p, sz);
		sum += sz;
		p += sz + 2;
	}
}

static int take_body(cocoon_kbs_http_response *out, const uint8_t *p, size_t n, int chunked, size_t max)
{
	size_t total = n;
	if (!(out->body = malloc(n + 1)))
		return cocoon_error_set(COCOON_ENOMEM, "broker reply: out of memory");
	if (chunked)
		walk_chunks(&total, out->body, p, p + n, max);
	else
		memcpy(out->body, p, n);
	out->body[total] = '\0';
	out->body_len = total;
	return 0;
}

int cocoon_kbs_http_parse_response(cocoon_kbs_http_response *out, const uint8_t *buf, size_t len, size_t max,
                                   int at_eof)
{
	const uint8_t *hend = NULL;
	size_t scan = len < HTTP_MAX_HEADER ? len : HTTP_MAX_HEADER, total = 0, blen;
	http_head h;
	int r;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i + 3 < scan; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			hend = buf + i;
			break;
		}
	if (!hend) {
		if (len >= HTTP_MAX_HEADER)
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: headers longer than %d bytes", HTTP_MAX_HEADER);
		return at_eof ? cocoon_error_set(COCOON_EUNAVAILABLE, "broker reply: the connection closed before the "
		                                 "headers ended") : 1;
	}
	if ((r = parse_head(&h, buf, (size_t)(hend - buf), max)) != 0)
		return r;
	blen = len - (size_t)(hend + 4 - buf);
	if (h.status < 200 || h.status == 204 || h.status == 304) {
		blen = 0;
	} else if (h.chunked) {
		if ((r = walk_chunks(&total, NULL, hend + 4, buf + len, max)) != 0)
			return r < 0 ? r : at_eof ? cocoon_error_set(COCOON_EUNAVAILABLE, "broker reply: the connection "
			                                             "closed inside a chunked body") : 1;
	} else if (h.has_length) {
		if (blen < h.length)
			return at_eof ? cocoon_error_set(COCOON_EUNAVAILABLE, "broker reply: the connection closed after %zu "
			                                 "of %zu body bytes", blen, h.length) : 1;
		blen = h.length;
	} else {
		if (blen > max)
			return cocoon_error_set(COCOON_EFORMAT, "broker reply: a body exceeds the limit of %zu bytes", max);
		if (!at_eof)
			return 1;
	}
	if ((r = take_body(out, hend + 4, blen, h.chunked, max)) != 0)
		return r;
	out->status = h.status;
	memcpy(out->session_cookie, h.cookie, sizeof(h.cookie));
	return 0;
}
