/* The AESM socket server: an epoll reader thread and a bounded worker pool. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "aesm/aesm_int.h"
#include "common/util.h"
#include "handler.h"
#include "metrics.h"
#include "nlog.h"
#include "server.h"

typedef struct conn {
	int fd;
	uint8_t hdr[COCOON_AESM_FRAME_HEADER];
	size_t hdr_got;
	uint8_t *body;
	uint32_t body_len;
	size_t body_got;
	int64_t deadline_ms;
	int64_t ready_us;           /* when the whole request was in */
	struct conn *prev, *next;   /* the reading list, oldest (earliest deadline) first */
	pid_t pid;
	uid_t uid;
} conn;

typedef struct {
	const quoted_server_config *cfg;
	quoted_backend *backend;
	/* Whole requests waiting for a worker: a ring as large as the connection limit, so it never overflows. */
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	conn **ring;
	size_t head, count, cap;
	int closed;
	atomic_int active;          /* connections accepted and not yet closed */
	atomic_int busy;
	atomic_int paused;          /* the listener is out of epoll until a slot frees */
	int wake_fd;                /* workers poke the loop through this eventfd */
	uint8_t *msg_error;         /* prebuilt framed answers for the reader thread */
	size_t msg_error_len;
	uint8_t *stopped;
	size_t stopped_len;
} server;

/* Markers for the non-connection descriptors in epoll. */
static int tag_listen, tag_signal, tag_wake;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Refusals are logged at info level, at most 20 lines a second, so a hostile client cannot flood the node's logs. */
static int refusal_log_allowed(void)
{
	static atomic_llong window;
	static atomic_int used, suppressed;
	long long sec = now_us() / 1000000;

	if (atomic_exchange(&window, sec) != sec) {
		int n = atomic_exchange(&suppressed, 0);
		atomic_store(&used, 0);
		if (n)
			nlog_warn("refusal log lines suppressed", "{s:i}", "count", n);
	}
	if (atomic_fetch_add(&used, 1) < 20)
		return 1;
	atomic_fetch_add(&suppressed, 1);
	return 0;
}

int quoted_server_listen(int *out, const quoted_server_config *c, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd = -1, probe, e;
	size_t n = strlen(c->socket_path);

	*out = -1;
	if (n == 0 || n >= sizeof(sa.sun_path)) {
		snprintf(err, err_len, "--socket '%s': a unix socket path must be 1..%zu bytes", c->socket_path,
		         sizeof(sa.sun_path) - 1);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, c->socket_path, n + 1);
	if (lstat(c->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_len, "--socket %s exists and is not a socket; refusing to replace it",
			         c->socket_path);
			return -1;
		}
		/* A socket that answers belongs to a running service (aesmd, or another cocoon-quoted). */
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			e = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
			close(probe);
			if (e == 0) {
				snprintf(err, err_len, "--socket %s: another service is listening there (aesmd?); stop it "
				         "or choose another path", c->socket_path);
				return -1;
			}
		}
		if (unlink(c->socket_path) != 0) {
			snprintf(err, err_len, "--socket %s: cannot remove the stale socket: %s", c->socket_path,
			         strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return -1;
	}
	/* Born with the final mode: no window in which the socket is wider open than configured. */
	old_mask = umask((mode_t)(~c->socket_mode & 0777));
	e = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (e != 0) {
		snprintf(err, err_len, "--socket %s: cannot bind: %s (does the directory exist and is it writable?)",
		         c->socket_path, strerror(errno));
		goto fail;
	}
	if (c->set_gid && chown(c->socket_path, (uid_t)-1, c->socket_gid) != 0) {
		snprintf(err, err_len, "--socket-group: cannot give %s to group %u: %s", c->socket_path,
		         (unsigned)c->socket_gid, strerror(errno));
		goto fail;
	}
	if (chmod(c->socket_path, c->socket_mode) != 0) {
		snprintf(err, err_len, "--socket-mode: cannot chmod %s to %04o: %s", c->socket_path,
		         (unsigned)c->socket_mode, strerror(errno));
		goto fail;
	}
	if (listen(fd, c->max_connections > 128 ? (int)c->max_connections : 128) != 0) {
		snprintf(err, err_len, "listen on %s: %s", c->socket_path, strerror(errno));
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	unlink(c->socket_path);
	return -1;
}

static void conn_free(server *s, conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->body);
	free(c);
	metrics_connection_close();
	atomic_fetch_sub(&s->active, 1);
	if (atomic_load(&s->paused)) {
		uint64_t one = 1;
		ssize_t w = write(s->wake_fd, &one, sizeof(one));
		(void)w;
	}
}

/* Best effort: the reader thread never blocks on a client. */
static void send_nowait(int fd, const uint8_t *buf, size_t len)
{
	ssize_t w = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)w;
}

static void queue_push(server *s, conn *c)
{
	pthread_mutex_lock(&s->lock);
	s->ring[(s->head + s->count) % s->cap] = c;
	s->count++;
	metrics_set_gauges((int64_t)s->count, atomic_load(&s->busy));
	pthread_cond_signal(&s->nonempty);
	pthread_mutex_unlock(&s->lock);
}

/* The next whole request, or NULL once the queue is closed and drained. */
static conn *queue_pop(server *s)
{
	conn *c = NULL;

	pthread_mutex_lock(&s->lock);
	while (s->count == 0 && !s->closed)
		pthread_cond_wait(&s->nonempty, &s->lock);
	if (s->count > 0) {
		c = s->ring[s->head];
		s->head = (s->head + 1) % s->cap;
		s->count--;
		atomic_fetch_add(&s->busy, 1);
		metrics_set_gauges((int64_t)s->count, atomic_load(&s->busy));
	}
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void log_outcome(const conn *c, const quoted_outcome *oc, int64_t micros)
{
	int level = oc->status == COCOON_AESM_SUCCESS ? COCOON_NLOG_DEBUG : COCOON_NLOG_INFO;

	if (!cocoon_nlog_enabled(level) || (level == COCOON_NLOG_INFO && !refusal_log_allowed()))
		return;
	cocoon_nlog(level, oc->status == COCOON_AESM_SUCCESS ? "request served" : "request refused",
	            "{s:s,s:s,s:i,s:s*,s:i,s:i,s:I}", "request", quoted_req_type_name(oc->type), "aesm_error",
	            cocoon_aesm_error_name(oc->status), "aesm_error_code", (int)oc->status, "detail", oc->detail, "peer_pid",
	            (int)c->pid, "peer_uid", (int)c->uid, "micros", (json_int_t)micros);
}

static void *worker_main(void *arg)
{
	server *s = arg;
	conn *c;

	while ((c = queue_pop(s)) != NULL) {
		quoted_outcome oc;
		uint8_t *resp = NULL;
		size_t resp_len = 0;
		int64_t deadline;

		if (quoted_handle(&resp, &resp_len, &oc, s->backend, c->body, c->body_len) == 0) {
			deadline = cocoon_aesm_now_ms() + s->cfg->write_timeout_ms;
			if (cocoon_aesm_write_full(c->fd, resp, resp_len, deadline, "the response") != 0) {
				metrics_drop(QDROP_WRITE_FAILED);
				if (refusal_log_allowed())
					nlog_info("response not delivered", "{s:s,s:i}", "reason",
					          cocoon_error_last()->message, "peer_pid", (int)c->pid);
			}
		} else {
			nlog_error("out of memory building a response", "{s:s}", "request",
			           quoted_req_type_name(oc.type));
		}
		metrics_request(oc.type, oc.status, (uint64_t)(now_us() - c->ready_us));
		log_outcome(c, &oc, now_us() - c->ready_us);
		free(resp);
		conn_free(s, c);
		pthread_mutex_lock(&s->lock);
		atomic_fetch_sub(&s->busy, 1);
		metrics_set_gauges((int64_t)s->count, atomic_load(&s->busy));
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static void list_append(conn **head, conn **tail, conn *c)
{
	c->next = NULL;
	c->prev = *tail;
	if (*tail)
		(*tail)->next = c;
	else
		*head = c;
	*tail = c;
}

static void list_remove(conn **head, conn **tail, conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		*tail = c->prev;
	c->prev = c->next = NULL;
}

/* A connection that will never carry a whole request: answer AESM_MSG_ERROR if it still listens, and drop it. */
static void reject(server *s, conn *c, quoted_drop_reason why, const char *detail)
{
	send_nowait(c->fd, s->msg_error, s->msg_error_len);
	metrics_drop(why);
	metrics_request(QREQ_MALFORMED, COCOON_AESM_MSG_ERROR, 0);
	if (refusal_log_allowed())
		nlog_info("request refused", "{s:s,s:s,s:i,s:s,s:i,s:i}", "request", "malformed", "aesm_error",
		          "AESM_MSG_ERROR", "aesm_error_code", COCOON_AESM_MSG_ERROR, "detail", detail, "peer_pid",
		          (int)c->pid, "peer_uid", (int)c->uid);
	conn_free(s, c);
}

/*
 * Reads what the socket has. Returns 1 when the request is whole, 0 to wait
 * for more, -1 when it never will be (*why and detail say why).
 */
static int conn_read(server *s, conn *c, quoted_drop_reason *why, char *detail, size_t detail_len)
{
	ssize_t r;

	for (;;) {
		uint8_t *dst;
		size_t want;

		if (c->hdr_got < sizeof(c->hdr)) {
			dst = c->hdr + c->hdr_got;
			want = sizeof(c->hdr) - c->hdr_got;
		} else {
			dst = c->body + c->body_got;
			want = c->body_len - c->body_got;
		}
		r = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r == 0 && c->hdr_got == 0) {
			*why = QDROP_COUNT; /* connected and left: a probe, not a request */
			return -1;
		}
		if (r <= 0) {
			*why = QDROP_TRUNCATED;
			if (r == 0)
				snprintf(detail, detail_len, "the peer closed after %zu of %zu bytes", c->hdr_got + c->body_got,
				         c->hdr_got < sizeof(c->hdr) ? sizeof(c->hdr) : sizeof(c->hdr) + c->body_len);
			else
				snprintf(detail, detail_len, "recv: %s", strerror(errno));
			return -1;
		}
		if (c->hdr_got < sizeof(c->hdr)) {
			c->hdr_got += (size_t)r;
			if (c->hdr_got < sizeof(c->hdr))
				continue;
			*why = QDROP_OVERSIZE;
			if (cocoon_aesm_frame_len(&c->body_len, c->hdr, s->cfg->max_message) != 0) {
				snprintf(detail, detail_len, "%.150s", cocoon_error_last()->message);
				return -1;
			}
			if (!(c->body = malloc(c->body_len))) {
				snprintf(detail, detail_len, "out of memory for a %u-byte request", c->body_len);
				return -1;
			}
			continue;
		}
		c->body_got += (size_t)r;
		if (c->body_got == c->body_len)
			return 1;
	}
}

static void accept_all(server *s, int listen_fd, int epfd, conn **head, conn **tail)
{
	while (atomic_load(&s->active) < (int)s->cfg->max_connections) {
		struct epoll_event ev;
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		conn *c;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				nlog_warn("out of file descriptors; raise the limit or lower --max-connections",
				          "{s:i}", "open", atomic_load(&s->active));
			return;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->pid = -1;
		c->uid = (uid_t)-1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
			c->pid = cred.pid;
			c->uid = cred.uid;
		}
		c->deadline_ms = cocoon_aesm_now_ms() + s->cfg->read_timeout_ms;
		atomic_fetch_add(&s->active, 1);
		metrics_connection_open();
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			conn_free(s, c);
			continue;
		}
		list_append(head, tail, c);
	}
	/* At the limit: leave further clients in the kernel's backlog until a slot frees. */
	if (!atomic_load(&s->paused)) {
		struct epoll_event ev = { .events = 0, .data.ptr = &tag_listen };
		atomic_store(&s->paused, 1);
		epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
	}
}

static void resume_if_room(server *s, int listen_fd, int epfd)
{
	if (atomic_load(&s->paused) && atomic_load(&s->active) < (int)s->cfg->max_connections) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_listen };
		atomic_store(&s->paused, 0);
		epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
	}
}

static void expire(server *s, conn **head, conn **tail, int64_t now)
{
	char detail[160];

	while (*head && (*head)->deadline_ms <= now) {
		conn *c = *head;
		list_remove(head, tail, c);
		snprintf(detail, sizeof(detail), "no whole request within %u ms (%zu bytes received)",
		         s->cfg->read_timeout_ms, c->hdr_got + c->body_got);
		reject(s, c, QDROP_TIMEOUT, detail);
	}
}

static int loop(server *s, int listen_fd, int sigfd, int epfd)
{
	struct epoll_event evs[64];
	conn *head = NULL, *tail = NULL;
	int stopping = 0;

	while (!stopping) {
		int64_t now = cocoon_aesm_now_ms();
		int timeout = 1000, n;

		if (head) {
			int64_t left = head->deadline_ms - now;
			timeout = left <= 0 ? 0 : left < 1000 ? (int)left : 1000;
		}
		n = epoll_wait(epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			nlog_error("epoll_wait failed", "{s:s}", "error", strerror(errno));
			break;
		}
		metrics_heartbeat();
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &tag_listen) {
				accept_all(s, listen_fd, epfd, &head, &tail);
			} else if (p == &tag_signal) {
				struct signalfd_siginfo si;
				if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					nlog_info("stopping", "{s:s}", "signal", strsignal((int)si.ssi_signo));
				stopping = 1;
			} else if (p == &tag_wake) {
				uint64_t v;
				ssize_t r = read(s->wake_fd, &v, sizeof(v));
				(void)r;
			} else {
				/* The reading list stays in accept order, which is deadline order. */
				conn *c = p;
				quoted_drop_reason why = QDROP_TRUNCATED;
				char detail[160];
				int rc = conn_read(s, c, &why, detail, sizeof(detail));
				if (rc == 0)
					continue;
				list_remove(&head, &tail, c);
				if (rc < 0 && why == QDROP_COUNT) {
					conn_free(s, c);
					continue;
				}
				if (rc < 0) {
					reject(s, c, why, detail);
					continue;
				}
				epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
				c->ready_us = now_us();
				queue_push(s, c);
			}
		}
		expire(s, &head, &tail, cocoon_aesm_now_ms());
		resume_if_room(s, listen_fd, epfd);
	}
	/* Requests still being read will not be served: say so, as AESM_SERVICE_STOPPED. */
	while (head) {
		conn *c = head;
		list_remove(&head, &tail, c);
		send_nowait(c->fd, s->stopped, s->stopped_len);
		conn_free(s, c);
	}
	return 0;
}

int quoted_server_run(const quoted_server_config *c, int listen_fd, int sigfd, quoted_backend *b, char *err,
                      size_t err_len)
{
	server s;
	pthread_t *threads = NULL;
	unsigned started = 0;
	struct epoll_event ev;
	int epfd = -1, rc = -1;

	memset(&s, 0, sizeof(s));
	s.cfg = c;
	s.backend = b;
	s.wake_fd = -1;
	s.cap = c->max_connections;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.nonempty, NULL);
	if (!(s.ring = calloc(s.cap, sizeof(*s.ring))) || !(threads = calloc(c->workers, sizeof(*threads))) ||
	    quoted_error_response(&s.msg_error, &s.msg_error_len, COCOON_AESM_MSG_ERROR) != 0 ||
	    quoted_error_response(&s.stopped, &s.stopped_len, COCOON_AESM_SERVICE_STOPPED) != 0) {
		snprintf(err, err_len, "out of memory setting up the server");
		goto done;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || (s.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, err_len, "epoll/eventfd: %s", strerror(errno));
		goto done;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
		goto epoll_fail;
	ev.data.ptr = &tag_signal;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
		goto epoll_fail;
	ev.data.ptr = &tag_wake;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s.wake_fd, &ev) != 0)
		goto epoll_fail;
	for (; started < c->workers; started++)
		if (pthread_create(&threads[started], NULL, worker_main, &s) != 0) {
			snprintf(err, err_len, "cannot start worker thread %u of %u", started + 1, c->workers);
			goto stop;
		}
	rc = loop(&s, listen_fd, sigfd, epfd);
	goto stop;
epoll_fail:
	snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
	goto done;
stop:
	/* No new connections; whole requests already queued are still answered. */
	epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	pthread_mutex_lock(&s.lock);
	s.closed = 1;
	pthread_cond_broadcast(&s.nonempty);
	pthread_mutex_unlock(&s.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
done:
	if (epfd >= 0)
		close(epfd);
	if (s.wake_fd >= 0)
		close(s.wake_fd);
	free(s.msg_error);
	free(s.stopped);
	free(s.ring);
	free(threads);
	pthread_cond_destroy(&s.nonempty);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
