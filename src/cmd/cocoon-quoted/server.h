/*
 * The AESM socket server. One event-loop thread accepts connections and
 * reads requests (non-blocking, each with a deadline and a size limit);
 * only whole requests reach the bounded pool of worker threads, which run
 * the backend and write the response. A slow or silent client therefore
 * holds a connection slot until its read timeout, never a worker.
 */
#ifndef QUOTED_SERVER_H
#define QUOTED_SERVER_H

#include <stddef.h>
#include <sys/types.h>
#include "backend.h"

typedef struct {
	const char *socket_path;
	mode_t socket_mode;
	int set_gid;
	gid_t socket_gid;
	unsigned workers;
	unsigned max_connections;    /* being read, queued or served */
	size_t max_message;          /* largest request accepted, bytes after the length */
	unsigned read_timeout_ms;    /* connect to whole request */
	unsigned write_timeout_ms;   /* response delivery */
} quoted_server_config;

/*
 * Creates the listening socket at c->socket_path with c->socket_mode and
 * group; replaces a stale socket but never a live one or a non-socket file.
 * 0, or -1 with the reason in err.
 */
int quoted_server_listen(int *fd, const quoted_server_config *c, char *err, size_t err_len);

/*
 * Serves until a signal arrives on sigfd (a signalfd for SIGTERM/SIGINT),
 * then stops accepting, removes the socket file, finishes the requests
 * already read and returns 0; -1 with the reason in err on a setup failure.
 */
int quoted_server_run(const quoted_server_config *c, int listen_fd, int sigfd, quoted_backend *b, char *err,
                      size_t err_len);

#endif
