/* gRPC on nghttp2: connections, streams, framing and status; see grpc.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <nghttp2/nghttp2.h>
#include "common/util.h"
#include "grpc.h"

#define PREFIX_LEN 5
#define MAX_STATUS_MESSAGE 512
#define READ_CHUNK 16384
/* A single Register reply is an Empty message; anything large is hostile. */
#define MAX_CLIENT_REPLY ((size_t)64 * 1024)

struct cocoon_grpc_msg {
	unsigned refs;
	size_t len; /* prefix + payload */
	uint8_t data[];
};

typedef struct outq {
	cocoon_grpc_msg *m;
	size_t off;
	struct outq *next;
} outq;

typedef struct cocoon_grpc_conn conn;

struct cocoon_grpc_stream {
	conn *c;
	int32_t id;
	char method[128];
	int post, path_ok, ctype_ok, called;
	uint8_t *body;
	size_t body_len, body_cap;
	int overflow;
	int responded, finishing, deferred;
	int status;
	char status_msg[MAX_STATUS_MESSAGE];
	outq *q_head, *q_tail;
	void *user;
	cocoon_grpc_stream *prev, *next;
};

struct cocoon_grpc_server {
	cocoon_loop *loop;
	cocoon_grpc_handler h;
	void *ctx;
	unsigned nconns, max_conns;
	conn *conns;
};

struct cocoon_grpc_conn {
	cocoon_watch w;
	cocoon_loop *loop;
	nghttp2_session *ng;
	cocoon_timer flush_timer;
	uint8_t *wbuf;
	size_t wlen, woff;
	int dead, in_io, want_out;
	/* server connections */
	cocoon_grpc_server *srv;
	cocoon_grpc_stream *streams;
	conn *prev, *next;
	/* client calls */
	int is_client, done;
	int32_t stream_id;
	cocoon_grpc_reply_fn fn;
	void *fn_ctx;
	cocoon_timer deadline;
	uint8_t *req;
	size_t req_len, req_off;
	int http_status, grpc_status;
	char grpc_message[MAX_STATUS_MESSAGE];
	uint8_t *resp;
	size_t resp_len;
	int resp_overflow;
};

const char *cocoon_grpc_status_name(int status)
{
	switch (status) {
	case COCOON_GRPC_OK: return "OK";
	case COCOON_GRPC_CANCELLED: return "CANCELLED";
	case COCOON_GRPC_UNKNOWN: return "UNKNOWN";
	case COCOON_GRPC_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case COCOON_GRPC_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
	case COCOON_GRPC_NOT_FOUND: return "NOT_FOUND";
	case COCOON_GRPC_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
	case COCOON_GRPC_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
	case COCOON_GRPC_UNIMPLEMENTED: return "UNIMPLEMENTED";
	case COCOON_GRPC_INTERNAL: return "INTERNAL";
	case COCOON_GRPC_UNAVAILABLE: return "UNAVAILABLE";
	default: return "OTHER";
	}
}

/* ---- messages ---- */

int cocoon_grpc_msg_new(cocoon_grpc_msg **out, size_t payload_len)
{
	cocoon_grpc_msg *m;

	*out = NULL;
	if (payload_len > COCOON_GRPC_MAX_MESSAGE)
		return cocoon_error_set(COCOON_EINVAL, "gRPC message of %zu bytes exceeds the %zu-byte limit",
		                        payload_len, COCOON_GRPC_MAX_MESSAGE);
	m = malloc(sizeof(*m) + PREFIX_LEN + payload_len);
	if (!m)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory for a %zu-byte gRPC message", payload_len);
	m->refs = 1;
	m->len = PREFIX_LEN + payload_len;
	m->data[0] = 0; /* never compressed */
	m->data[1] = (uint8_t)(payload_len >> 24);
	m->data[2] = (uint8_t)(payload_len >> 16);
	m->data[3] = (uint8_t)(payload_len >> 8);
	m->data[4] = (uint8_t)payload_len;
	*out = m;
	return 0;
}

uint8_t *cocoon_grpc_msg_payload(cocoon_grpc_msg *m) { return m->data + PREFIX_LEN; }
size_t cocoon_grpc_msg_payload_len(const cocoon_grpc_msg *m) { return m->len - PREFIX_LEN; }

void cocoon_grpc_msg_unref(cocoon_grpc_msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int cocoon_grpc_unframe(const uint8_t **msg, size_t *len, const uint8_t *buf, size_t buf_len, char *why,
                        size_t why_len)
{
	uint32_t n;

	if (buf_len < PREFIX_LEN) {
		snprintf(why, why_len, "the body has %zu bytes, less than the 5-byte gRPC message prefix",
		         buf_len);
		return COCOON_GRPC_INVALID_ARGUMENT;
	}
	if (buf[0] == 1) {
		snprintf(why, why_len, "compressed messages are not supported; send them uncompressed");
		return COCOON_GRPC_UNIMPLEMENTED;
	}
	if (buf[0] != 0) {
		snprintf(why, why_len, "invalid compressed-flag byte 0x%02x at offset 0", buf[0]);
		return COCOON_GRPC_INVALID_ARGUMENT;
	}
	n = be32(buf + 1);
	if ((size_t)n != buf_len - PREFIX_LEN) {
		snprintf(why, why_len,
		         "expected exactly one message: the prefix announces %u bytes but %zu follow it", n,
		         buf_len - PREFIX_LEN);
		return COCOON_GRPC_INVALID_ARGUMENT;
	}
	*msg = buf + PREFIX_LEN;
	*len = n;
	return COCOON_GRPC_OK;
}

/* grpc-message is percent-encoded outside printable ASCII (PROTOCOL-HTTP2.md). */
static void pct_encode(char *out, size_t out_len, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < out_len; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch >= 0x20 && ch <= 0x7e && ch != '%') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

static void pct_decode(char *out, size_t out_len, const uint8_t *in, size_t in_len)
{
	size_t o = 0;

	for (size_t i = 0; i < in_len && o + 1 < out_len; i++) {
		int hi, lo;
		if (in[i] == '%' && i + 2 < in_len && (hi = hexval((char)in[i + 1])) >= 0 &&
		    (lo = hexval((char)in[i + 2])) >= 0) {
			char ch = (char)((hi << 4) | lo);
			out[o++] = (ch >= 0x20 && ch <= 0x7e) ? ch : '?';
			i += 2;
		} else {
			out[o++] = (in[i] >= 0x20 && in[i] <= 0x7e) ? (char)in[i] : '?';
		}
	}
	out[o] = '\0';
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

static int hdr_is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int ctype_is_grpc(const uint8_t *v, size_t len)
{
	static const char base[] = "application/grpc";
	size_t n = sizeof(base) - 1;

	if (len < n || memcmp(v, base, n) != 0)
		return 0;
	return len == n || v[n] == '+' || v[n] == ';';
}

/* ---- connection plumbing ---- */

static void conn_flush(conn *c);
static void conn_kill(conn *c, const char *why);
static void stream_free(cocoon_grpc_stream *s);

static void conn_free(conn *c)
{
	if (c->ng)
		nghttp2_session_del(c->ng);
	if (c->w.fd >= 0)
		close(c->w.fd);
	cocoon_loop_timer_cancel(c->loop, &c->flush_timer);
	cocoon_loop_timer_cancel(c->loop, &c->deadline);
	free(c->wbuf);
	free(c->req);
	free(c->resp);
	free(c);
}

static void call_done(conn *c, int status, const char *message, const uint8_t *msg, size_t len)
{
	if (c->done)
		return;
	c->done = 1;
	c->fn(c->fn_ctx, status, message, msg, len);
}

/* Stops all traffic on c; memory is released by whoever owns the current entry point. */
static void conn_kill(conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	cocoon_loop_watch_del(c->loop, &c->w);
	cocoon_loop_timer_cancel(c->loop, &c->flush_timer);
	cocoon_loop_timer_cancel(c->loop, &c->deadline);
	if (c->is_client) {
		char buf[256];
		snprintf(buf, sizeof(buf), "connection closed before the reply: %s", why);
		call_done(c, COCOON_GRPC_UNAVAILABLE, buf, NULL, 0);
		return;
	}
	while (c->streams)
		stream_free(c->streams);
	if (c->srv) {
		if (c->prev)
			c->prev->next = c->next;
		else
			c->srv->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->srv->nconns--;
		c->srv = NULL;
	}
}

static void conn_set_out(conn *c, int on)
{
	if (c->dead || c->want_out == on)
		return;
	c->want_out = on;
	cocoon_loop_watch_mod(c->loop, &c->w, EPOLLIN | (on ? EPOLLOUT : 0));
}

/* Writes what nghttp2 has to send; keeps the unsent tail for EPOLLOUT. */
static void conn_flush(conn *c)
{
	while (!c->dead && c->woff < c->wlen) {
		ssize_t n = send(c->w.fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n > 0) {
			c->woff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_set_out(c, 1);
			return;
		} else {
			conn_kill(c, strerror(errno));
			return;
		}
	}
	free(c->wbuf);
	c->wbuf = NULL;
	c->wlen = c->woff = 0;
	while (!c->dead) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->ng, &data);
		size_t off = 0;

		if (n < 0) {
			conn_kill(c, nghttp2_strerror((int)n));
			return;
		}
		if (n == 0 || c->dead)
			break;
		while (off < (size_t)n) {
			ssize_t w = send(c->w.fd, data + off, (size_t)n - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += (size_t)w;
			} else if (w < 0 && errno == EINTR) {
				continue;
			} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				c->wlen = (size_t)n - off;
				c->wbuf = malloc(c->wlen);
				if (!c->wbuf) {
					conn_kill(c, "out of memory");
					return;
				}
				memcpy(c->wbuf, data + off, c->wlen);
				c->woff = 0;
				conn_set_out(c, 1);
				return;
			} else {
				conn_kill(c, strerror(errno));
				return;
			}
		}
	}
	if (c->dead)
		return;
	conn_set_out(c, 0);
	if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
		conn_kill(c, "session finished");
}

static void conn_io(cocoon_watch *w, uint32_t events)
{
	conn *c = w->ctx;
	uint8_t buf[READ_CHUNK];

	c->in_io = 1;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		/* Bounded so one busy peer cannot starve the others. */
		for (int i = 0; i < 64 && !c->dead; i++) {
			ssize_t n = recv(c->w.fd, buf, sizeof(buf), 0);
			if (n > 0) {
				ssize_t rv = nghttp2_session_mem_recv(c->ng, buf, (size_t)n);
				if (rv < 0) {
					conn_kill(c, nghttp2_strerror((int)rv));
					break;
				}
				if ((size_t)n < sizeof(buf))
					break;
			} else if (n == 0) {
				conn_kill(c, "peer closed the connection");
			} else if (errno == EINTR) {
				continue;
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				break;
			} else {
				conn_kill(c, strerror(errno));
			}
		}
	}
	if (!c->dead)
		conn_flush(c);
	c->in_io = 0;
	if (c->dead)
		conn_free(c);
}

static void conn_flush_timer(cocoon_timer *t)
{
	conn *c = t->ctx;

	conn_flush(c);
	if (c->dead)
		conn_free(c);
}

/* Sends made outside the connection's own I/O callback are flushed from the
 * loop, so a caller iterating its own lists never sees a connection die under it. */
static void conn_schedule_flush(conn *c)
{
	if (!c->dead && !c->in_io && !c->flush_timer.armed)
		cocoon_loop_timer_arm(c->loop, &c->flush_timer, 0);
}

static int conn_init(conn **out, cocoon_loop *l, int fd)
{
	conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c) {
		close(fd);
		return cocoon_error_set(COCOON_ENOMEM, "gRPC: out of memory for a connection");
	}
	c->loop = l;
	c->w.fd = fd;
	c->w.fn = conn_io;
	c->w.ctx = c;
	c->flush_timer.fn = conn_flush_timer;
	c->flush_timer.ctx = c;
	*out = c;
	return 0;
}

/* ---- server streams ---- */

static void stream_free(cocoon_grpc_stream *s)
{
	conn *c = s->c;

	if (s->called && c->srv && c->srv->h.closed)
		c->srv->h.closed(c->srv->ctx, s);
	if (c->ng && !c->dead)
		nghttp2_session_set_stream_user_data(c->ng, s->id, NULL);
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	while (s->q_head) {
		outq *o = s->q_head;
		s->q_head = o->next;
		cocoon_grpc_msg_unref(o->m);
		free(o);
	}
	free(s->body);
	free(s);
}

static ssize_t stream_read(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
                           uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	cocoon_grpc_stream *s = source->ptr;
	size_t n = 0;

	(void)user_data;
	while (n < length && s->q_head) {
		outq *o = s->q_head;
		size_t take = o->m->len - o->off;
		if (take > length - n)
			take = length - n;
		memcpy(buf + n, o->m->data + o->off, take);
		o->off += take;
		n += take;
		if (o->off == o->m->len) {
			s->q_head = o->next;
			if (!s->q_head)
				s->q_tail = NULL;
			cocoon_grpc_msg_unref(o->m);
			free(o);
		}
	}
	if (!s->q_head && s->finishing) {
		char code[16], pct[3 * MAX_STATUS_MESSAGE + 1];

		snprintf(code, sizeof(code), "%d", s->status);
		pct_encode(pct, sizeof(pct), s->status_msg);
		nghttp2_nv nva[2] = { NV("grpc-status", code), NV("grpc-message", pct) };
		*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(ng, stream_id, nva, pct[0] ? 2 : 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return (ssize_t)n;
	}
	if (n == 0) {
		s->deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)n;
}

static int stream_respond(cocoon_grpc_stream *s)
{
	nghttp2_nv nva[] = { NV(":status", "200"), NV("content-type", "application/grpc"),
	                     NV("grpc-accept-encoding", "identity") };
	nghttp2_data_provider prd;

	if (s->responded)
		return 0;
	prd.source.ptr = s;
	prd.read_callback = stream_read;
	if (nghttp2_submit_response(s->c->ng, s->id, nva, sizeof(nva) / sizeof(nva[0]), &prd) != 0)
		return cocoon_error_set(COCOON_EINTERNAL, "gRPC: cannot submit response headers");
	s->responded = 1;
	return 0;
}

int cocoon_grpc_stream_send(cocoon_grpc_stream *s, cocoon_grpc_msg *m, int coalesce)
{
	conn *c = s->c;
	outq *o;

	if (c->dead || s->finishing)
		return cocoon_error_set(COCOON_EINVAL, "gRPC: stream %d is finishing or closed", s->id);
	if (coalesce) {
		outq **pp = &s->q_head;
		s->q_tail = NULL;
		while (*pp) {
			if ((*pp)->off == 0) {
				outq *d = *pp;
				*pp = d->next;
				cocoon_grpc_msg_unref(d->m);
				free(d);
			} else {
				s->q_tail = *pp;
				pp = &(*pp)->next;
			}
		}
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return cocoon_error_set(COCOON_ENOMEM, "gRPC: out of memory queueing a message");
	m->refs++;
	o->m = m;
	if (s->q_tail)
		s->q_tail->next = o;
	else
		s->q_head = o;
	s->q_tail = o;
	if (!s->responded) {
		if (stream_respond(s) != 0)
			return COCOON_EINTERNAL;
	} else if (s->deferred) {
		s->deferred = 0;
		nghttp2_session_resume_data(c->ng, s->id);
	}
	conn_schedule_flush(c);
	return 0;
}

void cocoon_grpc_stream_finish(cocoon_grpc_stream *s, int status, const char *message)
{
	conn *c = s->c;

	if (c->dead || s->finishing)
		return;
	s->finishing = 1;
	s->status = status;
	snprintf(s->status_msg, sizeof(s->status_msg), "%s", message ? message : "");
	if (!s->responded) {
		/* Trailers-Only: one HEADERS frame with END_STREAM. */
		char code[16], pct[3 * MAX_STATUS_MESSAGE + 1];

		snprintf(code, sizeof(code), "%d", status);
		pct_encode(pct, sizeof(pct), s->status_msg);
		nghttp2_nv nva[] = { NV(":status", "200"), NV("content-type", "application/grpc"),
		                     NV("grpc-status", code), NV("grpc-message", pct) };
		s->responded = 1;
		if (nghttp2_submit_response(c->ng, s->id, nva, pct[0] ? 4 : 3, NULL) != 0)
			nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
	} else if (s->deferred) {
		s->deferred = 0;
		nghttp2_session_resume_data(c->ng, s->id);
	}
	conn_schedule_flush(c);
}

int cocoon_grpc_stream_reply(cocoon_grpc_stream *s, cocoon_grpc_msg *m)
{
	int rc = cocoon_grpc_stream_send(s, m, 0);

	if (rc == 0)
		cocoon_grpc_stream_finish(s, COCOON_GRPC_OK, NULL);
	return rc;
}

void cocoon_grpc_stream_set_user(cocoon_grpc_stream *s, void *user) { s->user = user; }
void *cocoon_grpc_stream_user(const cocoon_grpc_stream *s) { return s->user; }

static void stream_dispatch(cocoon_grpc_stream *s)
{
	cocoon_grpc_server *srv = s->c->srv;
	const uint8_t *msg = NULL;
	size_t len = 0;
	char why[256];
	int st;

	s->called = 1;
	if (!s->ctype_ok) {
		nghttp2_nv nva[] = { NV(":status", "415") };
		s->finishing = s->responded = 1;
		nghttp2_submit_response(s->c->ng, s->id, nva, 1, NULL);
		return;
	}
	if (!s->post || !s->path_ok) {
		cocoon_grpc_stream_finish(s, COCOON_GRPC_UNIMPLEMENTED,
		                          "only POST to a known /service/method path is served");
		return;
	}
	if (s->overflow) {
		snprintf(why, sizeof(why), "request larger than the %zu-byte limit", COCOON_GRPC_MAX_MESSAGE);
		cocoon_grpc_stream_finish(s, COCOON_GRPC_RESOURCE_EXHAUSTED, why);
		return;
	}
	st = cocoon_grpc_unframe(&msg, &len, s->body, s->body_len, why, sizeof(why));
	if (st != COCOON_GRPC_OK) {
		cocoon_grpc_stream_finish(s, st, why);
		return;
	}
	srv->h.call(srv->ctx, s, s->method, msg, len);
	/* The handler copied what it needs; don't keep a 4 MiB request around. */
	free(s->body);
	s->body = NULL;
	s->body_len = s->body_cap = 0;
}

static int srv_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user_data)
{
	conn *c = user_data;
	cocoon_grpc_stream *s;

	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s->c = c;
	s->id = frame->hd.stream_id;
	s->next = c->streams;
	if (c->streams)
		c->streams->prev = s;
	c->streams = s;
	nghttp2_session_set_stream_user_data(ng, s->id, s);
	return 0;
}

static int srv_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                         const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	conn *c = user_data;
	cocoon_grpc_stream *s;

	(void)flags;
	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (!s)
		return 0;
	if (hdr_is(name, namelen, ":path")) {
		s->path_ok = valuelen > 1 && valuelen < sizeof(s->method) && value[0] == '/' &&
		             memchr(value, '\0', valuelen) == NULL;
		if (s->path_ok) {
			memcpy(s->method, value, valuelen);
			s->method[valuelen] = '\0';
		}
	} else if (hdr_is(name, namelen, ":method")) {
		s->post = hdr_is(value, valuelen, "POST");
	} else if (hdr_is(name, namelen, "content-type")) {
		s->ctype_ok = ctype_is_grpc(value, valuelen);
	}
	return 0;
}

static int srv_on_data(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                       void *user_data)
{
	conn *c = user_data;
	cocoon_grpc_stream *s;
	size_t limit = COCOON_GRPC_MAX_MESSAGE + PREFIX_LEN;

	(void)flags;
	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s = nghttp2_session_get_stream_user_data(ng, stream_id);
	if (!s || s->overflow || s->called)
		return 0;
	if (len > limit - s->body_len) {
		/* Keep reading (flow control must go on) but drop the bytes. */
		s->overflow = 1;
		free(s->body);
		s->body = NULL;
		s->body_len = s->body_cap = 0;
		return 0;
	}
	if (s->body_len + len > s->body_cap) {
		size_t cap = s->body_cap ? s->body_cap : 1024;
		uint8_t *nb;
		while (cap < s->body_len + len)
			cap = cap > limit / 2 ? limit : cap * 2;
		nb = realloc(s->body, cap);
		if (!nb)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		s->body = nb;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, data, len);
	s->body_len += len;
	return 0;
}

static int srv_on_frame(nghttp2_session *ng, const nghttp2_frame *frame, void *user_data)
{
	conn *c = user_data;
	cocoon_grpc_stream *s;

	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (s && !s->called)
		stream_dispatch(s);
	return 0;
}

static int srv_on_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *user_data)
{
	conn *c = user_data;
	cocoon_grpc_stream *s = nghttp2_session_get_stream_user_data(ng, stream_id);

	(void)error_code;
	if (s && !c->dead)
		stream_free(s);
	return 0;
}

int cocoon_grpc_server_new(cocoon_grpc_server **out, cocoon_loop *l, const cocoon_grpc_handler *h, void *ctx,
                           unsigned max_conns)
{
	cocoon_grpc_server *srv = calloc(1, sizeof(*srv));

	*out = NULL;
	if (!srv)
		return cocoon_error_set(COCOON_ENOMEM, "gRPC: out of memory for a server");
	srv->loop = l;
	srv->h = *h;
	srv->ctx = ctx;
	srv->max_conns = max_conns;
	*out = srv;
	return 0;
}

unsigned cocoon_grpc_server_conns(const cocoon_grpc_server *srv) { return srv->nconns; }

int cocoon_grpc_server_adopt(cocoon_grpc_server *srv, int fd)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 16 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384 },
	};
	conn *c = NULL;
	int rc;

	if (srv->nconns >= srv->max_conns) {
		close(fd);
		return cocoon_error_set(COCOON_EINVAL, "gRPC: connection limit of %u reached; refusing a new one",
		                        srv->max_conns);
	}
	if ((rc = conn_init(&c, srv->loop, fd)) != 0)
		return rc;
	rc = COCOON_EINTERNAL;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		goto done;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, srv_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, srv_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, srv_on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, srv_on_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, srv_on_close);
	if (nghttp2_session_server_new(&c->ng, cbs, c) != 0)
		goto done;
	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0 ||
	    nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, 1 << 20) != 0)
		goto done;
	if (cocoon_loop_watch_add(srv->loop, &c->w, EPOLLIN) != 0)
		goto done;
	c->srv = srv;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	conn_schedule_flush(c);
	rc = 0;
done:
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0) {
		conn_free(c);
		return cocoon_error_set(rc, "gRPC: cannot set up an HTTP/2 server session");
	}
	return 0;
}

void cocoon_grpc_server_free(cocoon_grpc_server *srv)
{
	if (!srv)
		return;
	while (srv->conns) {
		conn *c = srv->conns;
		conn_kill(c, "server shutting down");
		conn_free(c);
	}
	free(srv);
}

/* ---- client calls ---- */

static ssize_t call_read(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	conn *c = source->ptr;
	size_t n = c->req_len - c->req_off;

	(void)ng;
	(void)stream_id;
	(void)user_data;
	if (n > length)
		n = length;
	memcpy(buf, c->req + c->req_off, n);
	c->req_off += n;
	if (c->req_off == c->req_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int call_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                          const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	conn *c = user_data;
	char num[16];

	(void)ng;
	(void)flags;
	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (frame->hd.stream_id != c->stream_id)
		return 0;
	if (hdr_is(name, namelen, ":status") || hdr_is(name, namelen, "grpc-status")) {
		long v;
		char *end;
		if (valuelen == 0 || valuelen >= sizeof(num))
			return 0;
		memcpy(num, value, valuelen);
		num[valuelen] = '\0';
		v = strtol(num, &end, 10);
		if (*end != '\0' || v < 0 || v > 999)
			return 0;
		if (name[0] == ':')
			c->http_status = (int)v;
		else
			c->grpc_status = (int)v;
	} else if (hdr_is(name, namelen, "grpc-message")) {
		pct_decode(c->grpc_message, sizeof(c->grpc_message), value, valuelen);
	}
	return 0;
}

static int call_on_data(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                        void *user_data)
{
	conn *c = user_data;
	uint8_t *nb;

	(void)ng;
	(void)flags;
	if (c->dead)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (stream_id != c->stream_id || c->resp_overflow)
		return 0;
	if (len > MAX_CLIENT_REPLY - c->resp_len) {
		c->resp_overflow = 1;
		return 0;
	}
	nb = realloc(c->resp, c->resp_len + len);
	if (!nb)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->resp = nb;
	memcpy(c->resp + c->resp_len, data, len);
	c->resp_len += len;
	return 0;
}

static int call_on_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *user_data)
{
	conn *c = user_data;
	const uint8_t *msg = NULL;
	size_t len = 0;
	char why[256];

	(void)ng;
	if (c->dead || stream_id != c->stream_id)
		return 0;
	if (c->grpc_status < 0) {
		snprintf(why, sizeof(why), "no grpc-status in the reply (HTTP status %d, HTTP/2 error %u)",
		         c->http_status, error_code);
		call_done(c, c->http_status == 200 ? COCOON_GRPC_INTERNAL : COCOON_GRPC_UNAVAILABLE, why, NULL, 0);
	} else if (c->grpc_status != COCOON_GRPC_OK) {
		call_done(c, c->grpc_status, c->grpc_message, NULL, 0);
	} else if (c->resp_overflow) {
		call_done(c, COCOON_GRPC_RESOURCE_EXHAUSTED, "reply larger than expected", NULL, 0);
	} else {
		int st = cocoon_grpc_unframe(&msg, &len, c->resp, c->resp_len, why, sizeof(why));
		call_done(c, st, st == COCOON_GRPC_OK ? NULL : why, msg, len);
	}
	conn_kill(c, "call complete");
	return 0;
}

static void call_deadline(cocoon_timer *t)
{
	conn *c = t->ctx;

	call_done(c, COCOON_GRPC_DEADLINE_EXCEEDED, "no reply before the deadline", NULL, 0);
	conn_kill(c, "deadline");
	conn_free(c);
}

int cocoon_grpc_call_start(cocoon_grpc_call **out, cocoon_loop *l, const char *socket_path, const char *method,
                           const uint8_t *msg, size_t len, unsigned timeout_ms, cocoon_grpc_reply_fn fn,
                           void *ctx)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
	nghttp2_nv nva[] = { NV(":method", "POST"), NV(":scheme", "http"), NV(":path", method),
	                     NV(":authority", "localhost"), NV("te", "trailers"),
	                     NV("content-type", "application/grpc"), NV("user-agent", "cocoon-grpc/1") };
	nghttp2_data_provider prd;
	struct sockaddr_un sa;
	conn *c = NULL;
	int fd, rc;

	*out = NULL;
	if (len > COCOON_GRPC_MAX_MESSAGE)
		return cocoon_error_set(COCOON_EINVAL, "gRPC: request of %zu bytes is too large", len);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return cocoon_error_set(COCOON_EINVAL, "socket path '%s' is longer than %zu bytes", socket_path,
		                        sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, socket_path, strlen(socket_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cocoon_error_set(COCOON_EIO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return cocoon_error_set(COCOON_EIO, "cannot connect to %s: %s", socket_path, strerror(e));
	}
	if ((rc = conn_init(&c, l, fd)) != 0)
		return rc;
	c->is_client = 1;
	c->fn = fn;
	c->fn_ctx = ctx;
	c->grpc_status = -1;
	c->deadline.fn = call_deadline;
	c->deadline.ctx = c;
	rc = COCOON_ENOMEM;
	c->req_len = PREFIX_LEN + len;
	c->req = malloc(c->req_len);
	if (!c->req)
		goto done;
	c->req[0] = 0;
	c->req[1] = (uint8_t)(len >> 24);
	c->req[2] = (uint8_t)(len >> 16);
	c->req[3] = (uint8_t)(len >> 8);
	c->req[4] = (uint8_t)len;
	if (len)
		memcpy(c->req + PREFIX_LEN, msg, len);
	rc = COCOON_EINTERNAL;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		goto done;
	nghttp2_session_callbacks_set_on_header_callback(cbs, call_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, call_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, call_on_close);
	if (nghttp2_session_client_new(&c->ng, cbs, c) != 0 ||
	    nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 1) != 0)
		goto done;
	prd.source.ptr = c;
	prd.read_callback = call_read;
	c->stream_id = nghttp2_submit_request(c->ng, NULL, nva, sizeof(nva) / sizeof(nva[0]), &prd, NULL);
	if (c->stream_id < 0)
		goto done;
	if (cocoon_loop_watch_add(l, &c->w, EPOLLIN) != 0)
		goto done;
	cocoon_loop_timer_arm(l, &c->deadline, timeout_ms);
	conn_schedule_flush(c);
	rc = 0;
done:
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0) {
		c->done = 1;
		conn_kill(c, "setup failed");
		conn_free(c);
		return cocoon_error_set(rc, "gRPC: cannot start a call to %s on %s", method, socket_path);
	}
	*out = c;
	return 0;
}

void cocoon_grpc_call_cancel(cocoon_grpc_call *c)
{
	if (!c)
		return;
	c->done = 1;
	conn_kill(c, "cancelled");
	conn_free(c);
}
