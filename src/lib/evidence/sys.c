/*
 * The real system-call vtable and the small file helpers every provider
 * uses. Helpers return negative errno values and set no message: the
 * provider knows what the file means and writes the error.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/util.h"
#include "evidence/provider.h"

static int sys_open(void *ctx, const char *path, int flags, unsigned int mode)
{
	int fd;
	(void)ctx;
	do
		fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static int sys_close(void *ctx, int fd)
{
	(void)ctx;
	/* Never retry close: Linux releases the fd even when it reports EINTR. */
	return close(fd) < 0 ? -errno : 0;
}

static ssize_t sys_read(void *ctx, int fd, void *buf, size_t len)
{
	ssize_t n;
	(void)ctx;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t sys_write(void *ctx, int fd, const void *buf, size_t len)
{
	ssize_t n;
	(void)ctx;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int sys_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	/*
	 * No EINTR retry: a guest request interrupted after reaching the
	 * firmware must not be replayed (sev-guest IV reuse); the caller decides.
	 */
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static int sys_mkdir(void *ctx, const char *path, unsigned int mode)
{
	(void)ctx;
	return mkdir(path, (mode_t)mode) < 0 ? -errno : 0;
}

static int sys_rmdir(void *ctx, const char *path)
{
	(void)ctx;
	return rmdir(path) < 0 ? -errno : 0;
}

static void sys_sleep_ms(void *ctx, unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const cocoon_evidence_sys default_sys = {
	NULL, sys_open, sys_close, sys_read, sys_write, sys_ioctl, sys_mkdir, sys_rmdir, sys_sleep_ms,
};

const cocoon_evidence_sys *cocoon_evidence_sys_default(void)
{
	return &default_sys;
}

int ev_read_blob(uint8_t **out, size_t *len, const cocoon_evidence_sys *sys, const char *path, size_t max)
{
	uint8_t *buf = NULL;
	size_t cap = 0, used = 0;
	int fd, err = 0;

	*out = NULL;
	*len = 0;
	if ((fd = sys->open(sys->ctx, path, O_RDONLY, 0)) < 0)
		return fd;
	/* configfs buffers a binary attribute on the first read; read to EOF. */
	for (;;) {
		ssize_t n;
		if (used == cap) {
			/* Capacity never exceeds max + 1: one byte more proves "too big". */
			size_t ncap = cap ? cap * 2 : 8192;
			uint8_t *nb;
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap) {
				err = -EFBIG;
				goto done;
			}
			if (!(nb = realloc(buf, ncap + 1))) {
				err = -ENOMEM;
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		n = sys->read(sys->ctx, fd, buf + used, cap - used);
		if (n < 0) {
			err = (int)n;
			goto done;
		}
		if (n == 0)
			break;
		if ((size_t)n > cap - used) {
			err = -EOVERFLOW;  /* a broken read() implementation */
			goto done;
		}
		used += (size_t)n;
		if (used > max) {
			err = -EFBIG;
			goto done;
		}
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
done:
	free(buf);
	sys->close(sys->ctx, fd);
	return err;
}

int ev_read_text(char *buf, size_t cap, const cocoon_evidence_sys *sys, const char *path)
{
	size_t used = 0;
	int fd, err = 0;

	if (cap == 0)
		return -EINVAL;
	buf[0] = '\0';
	if ((fd = sys->open(sys->ctx, path, O_RDONLY, 0)) < 0)
		return fd;
	while (used < cap - 1) {
		ssize_t n = sys->read(sys->ctx, fd, buf + used, cap - 1 - used);
		if (n < 0) {
			err = (int)n;
			goto done;
		}
		if (n == 0)
			break;
		if ((size_t)n > cap - 1 - used) {
			err = -EOVERFLOW;
			goto done;
		}
		used += (size_t)n;
	}
	if (used == cap - 1) {
		/* More text than any attribute we read may hold. */
		char extra;
		ssize_t n = sys->read(sys->ctx, fd, &extra, 1);
		if (n != 0) {
			err = n < 0 ? (int)n : -EFBIG;
			goto done;
		}
	}
	buf[used] = '\0';
done:
	if (err)
		buf[0] = '\0';
	sys->close(sys->ctx, fd);
	return err;
}

int ev_write_once(const cocoon_evidence_sys *sys, const char *path, const void *data, size_t len)
{
	int fd, err = 0, cerr;
	ssize_t n;

	if ((fd = sys->open(sys->ctx, path, O_WRONLY, 0)) < 0)
		return fd;
	/* configfs text attributes must arrive in a single write(). */
	n = sys->write(sys->ctx, fd, data, len);
	if (n < 0)
		err = (int)n;
	else if ((size_t)n != len)
		err = -EMSGSIZE;
	cerr = sys->close(sys->ctx, fd);
	if (!err && cerr < 0)
		err = cerr;
	return err;
}

const char *ev_errname(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENXIO: return "ENXIO";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case EIO: return "EIO";
	case ENOTTY: return "ENOTTY";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case EFBIG: return "EFBIG";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EFAULT: return "EFAULT";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EMSGSIZE: return "EMSGSIZE";
	case ETXTBSY: return "ETXTBSY";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EROFS: return "EROFS";
	case ENODEV: return "ENODEV";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "E?";
	}
}

int ev_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int ev_dup(uint8_t **out, const uint8_t *data, size_t len)
{
	*out = NULL;
	if (len == 0)
		return 0;
	if (!(*out = malloc(len)))
		return -ENOMEM;
	memcpy(*out, data, len);
	return 0;
}

void ev_detail(cocoon_probe_entry *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(e->detail))
		memcpy(e->detail + sizeof(e->detail) - 4, "...", 4);
}

int ev_error_prefix(int err, const char *prefix)
{
	char msg[sizeof(cocoon_error_last()->message)];

	memcpy(msg, cocoon_error_last()->message, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	return cocoon_error_set(err, "%s%s", prefix, msg);
}
