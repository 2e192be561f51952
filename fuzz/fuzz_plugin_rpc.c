/*
 * libFuzzer target fuzz_plugin_rpc: what the kubelet (or anything that can
 * reach the plugin socket) sends to cocoon-sgx-plugin.
 *
 * Byte 0 picks the resource and the path:
 *   bits 0-1  resource kind (mod 3): epc-mib (5000 devices, IDs of 1 to 3
 *             characters), enclave or provision (110 devices)
 *   bit 2     devices healthy
 *   bit 3     quote helper mounts
 *   bit 4     0: direct. Byte 1 picks the method (mod 6, the sixth is
 *             unknown); the rest is a request body: 5-byte gRPC prefix and
 *             protobuf, through cocoon_grpc_unframe and the RPC handler.
 *             1: HTTP/2. The rest is what a client sends after its
 *             connection preface and SETTINGS, served by the real gRPC
 *             server (nghttp2 callbacks, framing, trailers) over a
 *             socketpair; the handler dispatches like plugin.c's on_call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "common/util.h"
#include "grpc.h"
#include "loop.h"
#include "resource.h"

#define MAX_INPUT ((size_t)64 * 1024)
#define SAFETY_MS 2000

typedef struct {
	cocoon_res res;
	int healthy;
} fz_ctx;

static const char *const methods[] = {
	"/v1beta1.DevicePlugin/GetDevicePluginOptions", "/v1beta1.DevicePlugin/ListAndWatch",
	"/v1beta1.DevicePlugin/GetPreferredAllocation", "/v1beta1.DevicePlugin/Allocate",
	"/v1beta1.DevicePlugin/PreStartContainer",      "/v1beta1.DevicePlugin/Unknown",
};

/* A failed RPC must say why and map to a non-OK gRPC status. */
static void check_result(int rc, const cocoon_grpc_msg *m)
{
	if (rc == 0 && m == NULL)
		abort();
	if (rc != 0 && (m != NULL || cocoon_res_grpc_status(rc) == COCOON_GRPC_OK ||
	                cocoon_error_last()->message[0] == '\0'))
		abort();
}

/* plugin.c's on_call, minus logging: 1 when method was known. */
static int handle(cocoon_grpc_msg **out, int *rc, const fz_ctx *f, const char *method, const uint8_t *msg,
                  size_t len)
{
	*out = NULL;
	if (strcmp(method, methods[0]) == 0)
		*rc = cocoon_res_options(out);
	else if (strcmp(method, methods[1]) == 0)
		*rc = cocoon_res_list(out, &f->res, f->healthy, COCOON_GRPC_MAX_MESSAGE);
	else if (strcmp(method, methods[2]) == 0)
		*rc = cocoon_res_preferred(out, &f->res, msg, len);
	else if (strcmp(method, methods[3]) == 0)
		*rc = cocoon_res_allocate(out, &f->res, f->healthy, msg, len);
	else if (strcmp(method, methods[4]) == 0)
		*rc = cocoon_res_prestart(out, &f->res, msg, len);
	else
		return 0;
	check_result(*rc, *out);
	return 1;
}

static void on_call(void *ctx, cocoon_grpc_stream *s, const char *method, const uint8_t *msg, size_t len)
{
	const fz_ctx *f = ctx;
	cocoon_grpc_msg *m = NULL;
	int rc = 0;

	if (!handle(&m, &rc, f, method, msg, len)) {
		cocoon_grpc_stream_finish(s, COCOON_GRPC_UNIMPLEMENTED, "unknown method");
		return;
	}
	if (rc != 0) {
		cocoon_grpc_stream_finish(s, cocoon_res_grpc_status(rc), cocoon_error_last()->message);
		return;
	}
	/* ListAndWatch stays open, as in the daemon, until the connection ends. */
	if (strcmp(method, methods[1]) == 0) {
		if (cocoon_grpc_stream_send(s, m, 1) != 0)
			cocoon_grpc_stream_finish(s, COCOON_GRPC_INTERNAL, "cannot queue the device list");
	} else if (cocoon_grpc_stream_reply(s, m) != 0) {
		cocoon_grpc_stream_finish(s, COCOON_GRPC_INTERNAL, "cannot queue the reply");
	}
	cocoon_grpc_msg_unref(m);
}

static void on_closed(void *ctx, cocoon_grpc_stream *s)
{
	(void)ctx;
	(void)s;
}

static const cocoon_grpc_handler handler = { on_call, on_closed };

static void run_direct(const fz_ctx *f, const uint8_t *data, size_t size)
{
	const uint8_t *msg = NULL;
	cocoon_grpc_msg *m = NULL;
	size_t len = 0;
	char why[256];
	int rc = 0, st;

	if (size < 1)
		return;
	st = cocoon_grpc_unframe(&msg, &len, data + 1, size - 1, why, sizeof(why));
	if (st != COCOON_GRPC_OK) {
		if (why[0] == '\0')
			abort();
		return;
	}
	if (msg < data + 1 || len > size - 1 || (size_t)(msg - data) + len != size)
		abort();
	handle(&m, &rc, f, methods[data[0] % 6], msg, len);
	cocoon_grpc_msg_unref(m);
}

/* ---- HTTP/2 over a socketpair ---- */

typedef struct {
	cocoon_loop *loop;
	cocoon_watch w;
} peer;

/* Drains the server's answers; the server closing its end ends the run. */
static void peer_io(cocoon_watch *w, uint32_t events)
{
	peer *p = w->ctx;
	uint8_t buf[16384];

	(void)events;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;
	}
	cocoon_loop_watch_del(p->loop, w);
	cocoon_loop_stop(p->loop);
}

static void on_safety(cocoon_timer *t)
{
	cocoon_loop_stop(t->ctx);
}

static void send_all(int fd, const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* buffer full: the server sees a truncated stream, which is fine */
		off += (size_t)n;
	}
}

static void run_http2(fz_ctx *f, const uint8_t *data, size_t size)
{
	/* Client connection preface, then an empty SETTINGS frame. */
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
	cocoon_grpc_server *srv = NULL;
	cocoon_loop *loop = NULL;
	cocoon_timer safety;
	peer p;
	int sv[2] = { -1, -1 };

	memset(&safety, 0, sizeof(safety));
	memset(&p, 0, sizeof(p));
	p.w.fd = -1;
	if (cocoon_loop_new(&loop) != 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (cocoon_grpc_server_new(&srv, loop, &handler, f, 4) != 0 || cocoon_grpc_server_adopt(srv, sv[0]) != 0)
		abort();
	send_all(sv[1], preface, sizeof(preface) - 1);
	send_all(sv[1], data, size);
	shutdown(sv[1], SHUT_WR);
	p.loop = loop;
	p.w.fd = sv[1];
	p.w.fn = peer_io;
	p.w.ctx = &p;
	if (cocoon_loop_watch_add(loop, &p.w, EPOLLIN) != 0)
		abort();
	safety.fn = on_safety;
	safety.ctx = loop;
	cocoon_loop_timer_arm(loop, &safety, SAFETY_MS);
	if (cocoon_loop_run(loop) != 0)
		abort();
	cocoon_loop_timer_cancel(loop, &safety);
	if (p.w.added)
		cocoon_loop_watch_del(loop, &p.w);
	cocoon_grpc_server_free(srv);
	close(sv[1]);
	cocoon_loop_free(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_ctx f;
	uint8_t cfg;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	cfg = data[0];
	cocoon_res_init(&f.res, (cocoon_res_kind)((cfg & 3) % COCOON_RES_COUNT),
	                (cfg & 3) % COCOON_RES_COUNT == COCOON_RES_EPC_MIB ? 5000 : 110);
	f.res.quote_helper = (cfg >> 3) & 1;
	f.healthy = (cfg >> 2) & 1;
	if (cfg & 0x10)
		run_http2(&f, data + 1, size - 1);
	else
		run_direct(&f, data + 1, size - 1);
	return 0;
}
