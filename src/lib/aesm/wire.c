/* AESM framing and deadline-bounded socket I/O. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "common/util.h"
#include "aesm/aesm_int.h"

int64_t cocoon_aesm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to become ready for events; 0 ready, else an error naming the cause. */
static int wait_ready(int fd, short events, int64_t deadline_ms, const char *what, size_t done, size_t n)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline_ms - cocoon_aesm_now_ms();
		if (left <= 0)
			return cocoon_error_set(COCOON_EIO, "aesm: timed out %s %s after %zu of %zu bytes",
			                        events == POLLIN ? "reading" : "writing", what, done, n);
		rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return cocoon_error_set(COCOON_EIO, "aesm: poll: %s", strerror(errno));
	}
}

int cocoon_aesm_read_full(int fd, void *buf, size_t n, int64_t deadline_ms, const char *what)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r;
	int err;

	while (got < n) {
		r = recv(fd, p + got, n - got, MSG_DONTWAIT);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return cocoon_error_set(COCOON_EIO, "aesm: peer closed the connection after %zu of %zu bytes of %s",
			                        got, n, what);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return cocoon_error_set(COCOON_EIO, "aesm: reading %s: %s", what, strerror(errno));
		if ((err = wait_ready(fd, POLLIN, deadline_ms, what, got, n)) != 0)
			return err;
	}
	return 0;
}

int cocoon_aesm_write_full(int fd, const void *buf, size_t n, int64_t deadline_ms, const char *what)
{
	const uint8_t *p = buf;
	size_t put = 0;
	ssize_t w;
	int err;

	while (put < n) {
		/* MSG_NOSIGNAL: a peer that went away must not kill the process with SIGPIPE. */
		w = send(fd, p + put, n - put, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0) {
			put += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return cocoon_error_set(COCOON_EIO, "aesm: writing %s: %s", what, strerror(errno));
		if ((err = wait_ready(fd, POLLOUT, deadline_ms, what, put, n)) != 0)
			return err;
	}
	return 0;
}

void cocoon_aesm_frame_put(uint8_t hdr[COCOON_AESM_FRAME_HEADER], uint32_t len)
{
	cocoon_put_le32(hdr, len);
}

int cocoon_aesm_frame_len(uint32_t *len, const uint8_t hdr[COCOON_AESM_FRAME_HEADER], size_t max)
{
	uint32_t v = cocoon_le32(hdr);

	*len = 0;
	if (v == 0)
		return cocoon_error_set(COCOON_EFORMAT, "aesm: frame length is 0; a message must follow the 4-byte length");
	if (v > max)
		return cocoon_error_set(COCOON_EFORMAT, "aesm: frame length %u exceeds the maximum of %zu bytes", v, max);
	*len = v;
	return 0;
}

int cocoon_aesm_pack_framed(uint8_t **out, size_t *out_len, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf;

	*out = NULL;
	*out_len = 0;
	if (n > UINT32_MAX - COCOON_AESM_FRAME_HEADER)
		return cocoon_error_set(COCOON_EINVAL, "aesm: a %zu-byte message does not fit the 32-bit frame length", n);
	if (!(buf = malloc(COCOON_AESM_FRAME_HEADER + n)))
		return cocoon_error_set(COCOON_ENOMEM, "aesm: out of memory for a %zu-byte message", n);
	if (protobuf_c_message_pack(m, buf + COCOON_AESM_FRAME_HEADER) != n) {
		free(buf);
		return cocoon_error_set(COCOON_EINTERNAL, "aesm: protobuf-c packed a different size than it announced");
	}
	cocoon_aesm_frame_put(buf, (uint32_t)n);
	*out = buf;
	*out_len = COCOON_AESM_FRAME_HEADER + n;
	return 0;
}
