/*
 * gRPC over HTTP/2 on unix sockets, on top of nghttp2 (HTTP/2, HPACK, flow
 * control) and the event loop. This layer only adds what gRPC puts on top of
 * HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): the request headers, the 5-byte
 * message prefix (compressed flag + 4-byte big-endian length) and the
 * grpc-status / grpc-message trailers. Messages are opaque bytes here; the
 * callers encode them with protobuf-c.
 *
 * Server side: unary and server-streaming methods (the device plugin API has
 * no client streaming). Client side: one unary call per connection, which is
 * all Registration.Register needs.
 */
#ifndef COCOON_GRPC_H
#define COCOON_GRPC_H

#include <stddef.h>
#include <stdint.h>
#include "loop.h"

/* grpc-go's default receive limit, which the kubelet keeps for device plugins. */
#define COCOON_GRPC_MAX_MESSAGE ((size_t)4 * 1024 * 1024)

enum {
	COCOON_GRPC_OK = 0,
	COCOON_GRPC_CANCELLED = 1,
	COCOON_GRPC_UNKNOWN = 2,
	COCOON_GRPC_INVALID_ARGUMENT = 3,
	COCOON_GRPC_DEADLINE_EXCEEDED = 4,
	COCOON_GRPC_NOT_FOUND = 5,
	COCOON_GRPC_RESOURCE_EXHAUSTED = 8,
	COCOON_GRPC_FAILED_PRECONDITION = 9,
	COCOON_GRPC_UNIMPLEMENTED = 12,
	COCOON_GRPC_INTERNAL = 13,
	COCOON_GRPC_UNAVAILABLE = 14
};

const char *cocoon_grpc_status_name(int status);

/* Checks that a request body holds exactly one uncompressed message: its
 * payload in *msg, its length in *len. Returns a gRPC status; why says what
 * is wrong when it is not COCOON_GRPC_OK. */
int cocoon_grpc_unframe(const uint8_t **msg, size_t *len, const uint8_t *buf, size_t buf_len, char *why,
                        size_t why_len);

/* A framed, reference-counted message, shareable between streams. */
typedef struct cocoon_grpc_msg cocoon_grpc_msg;
/* A message with room for payload_len bytes (<= COCOON_GRPC_MAX_MESSAGE); one reference. */
int cocoon_grpc_msg_new(cocoon_grpc_msg **out, size_t payload_len);
uint8_t *cocoon_grpc_msg_payload(cocoon_grpc_msg *m);
size_t cocoon_grpc_msg_payload_len(const cocoon_grpc_msg *m);
void cocoon_grpc_msg_unref(cocoon_grpc_msg *m);

typedef struct cocoon_grpc_server cocoon_grpc_server;
typedef struct cocoon_grpc_stream cocoon_grpc_stream;

typedef struct {
	/* A complete request: method is the :path ("/v1beta1.DevicePlugin/Allocate"),
	 * msg the single request message (valid during the call only). The handler
	 * answers with cocoon_grpc_stream_send/_finish, now or later. */
	void (*call)(void *ctx, cocoon_grpc_stream *s, const char *method, const uint8_t *msg, size_t len);
	/* s is going away (finished, reset by the peer, or its connection closed);
	 * called once for every stream given to call. */
	void (*closed)(void *ctx, cocoon_grpc_stream *s);
} cocoon_grpc_handler;

int cocoon_grpc_server_new(cocoon_grpc_server **out, cocoon_loop *l, const cocoon_grpc_handler *h, void *ctx,
                           unsigned max_conns);
/* Serves an accepted socket; takes ownership of fd (closed on error). */
int cocoon_grpc_server_adopt(cocoon_grpc_server *srv, int fd);
unsigned cocoon_grpc_server_conns(const cocoon_grpc_server *srv);
/* Closes every connection (calling closed for their streams) and frees srv. */
void cocoon_grpc_server_free(cocoon_grpc_server *srv);

/* Queues a message on s (takes its own reference). With coalesce, messages
 * queued but not yet started are dropped first: only the newest state matters. */
int cocoon_grpc_stream_send(cocoon_grpc_stream *s, cocoon_grpc_msg *m, int coalesce);
/* Ends the call after the queued messages; message may be NULL. */
void cocoon_grpc_stream_finish(cocoon_grpc_stream *s, int status, const char *message);
/* send + finish(OK). */
int cocoon_grpc_stream_reply(cocoon_grpc_stream *s, cocoon_grpc_msg *m);
void cocoon_grpc_stream_set_user(cocoon_grpc_stream *s, void *user);
void *cocoon_grpc_stream_user(const cocoon_grpc_stream *s);

/* Client: one unary call on a fresh connection to a unix socket. */
typedef struct cocoon_grpc_conn cocoon_grpc_call;
/* status is a gRPC status; msg/len the reply message when status is OK.
 * The call is freed after fn returns; drop the pointer in fn. */
typedef void (*cocoon_grpc_reply_fn)(void *ctx, int status, const char *message, const uint8_t *msg,
                                     size_t len);
int cocoon_grpc_call_start(cocoon_grpc_call **out, cocoon_loop *l, const char *socket_path, const char *method,
                           const uint8_t *msg, size_t len, unsigned timeout_ms, cocoon_grpc_reply_fn fn,
                           void *ctx);
/* Abandons a call in flight; fn is not called. */
void cocoon_grpc_call_cancel(cocoon_grpc_call *c);

#endif
