/* epoll + timer list event loop; see loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include "common/util.h"
#include "loop.h"

struct cocoon_loop {
	int epfd;
	int stop;
	cocoon_timer *timers;
};

uint64_t cocoon_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cocoon_loop_new(cocoon_loop **out)
{
	cocoon_loop *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return cocoon_error_set(COCOON_ENOMEM, "event loop: out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;
		free(l);
		return cocoon_error_set(COCOON_EINTERNAL, "event loop: epoll_create1: %s", strerror(e));
	}
	*out = l;
	return 0;
}

void cocoon_loop_free(cocoon_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

static int watch_ctl(cocoon_loop *l, cocoon_watch *w, int op, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, op, w->fd, &ev) != 0)
		return cocoon_error_set(COCOON_EINTERNAL, "event loop: epoll_ctl(fd %d): %s", w->fd,
		                        strerror(errno));
	return 0;
}

int cocoon_loop_watch_add(cocoon_loop *l, cocoon_watch *w, uint32_t events)
{
	int rc = watch_ctl(l, w, EPOLL_CTL_ADD, events);

	if (rc == 0)
		w->added = 1;
	return rc;
}

int cocoon_loop_watch_mod(cocoon_loop *l, cocoon_watch *w, uint32_t events)
{
	return watch_ctl(l, w, EPOLL_CTL_MOD, events);
}

void cocoon_loop_watch_del(cocoon_loop *l, cocoon_watch *w)
{
	if (!w->added)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->added = 0;
}

void cocoon_loop_timer_cancel(cocoon_loop *l, cocoon_timer *t)
{
	cocoon_timer **pp;

	if (!t->armed)
		return;
	for (pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = 0;
	t->next = NULL;
}

void cocoon_loop_timer_arm(cocoon_loop *l, cocoon_timer *t, uint64_t ms)
{
	cocoon_loop_timer_cancel(l, t);
	t->due_ms = cocoon_loop_now_ms() + ms;
	t->armed = 1;
	t->next = l->timers;
	l->timers = t;
}

/* Fires every due timer; rescans after each because a callback may re-arm or cancel others. */
static void timers_fire(cocoon_loop *l)
{
	for (;;) {
		uint64_t now = cocoon_loop_now_ms();
		cocoon_timer *t;

		for (t = l->timers; t; t = t->next)
			if (t->due_ms <= now)
				break;
		if (!t)
			return;
		cocoon_loop_timer_cancel(l, t);
		t->fn(t);
		if (l->stop)
			return;
	}
}

static int timers_timeout(cocoon_loop *l)
{
	uint64_t now = cocoon_loop_now_ms(), min = UINT64_MAX;

	for (cocoon_timer *t = l->timers; t; t = t->next)
		if (t->due_ms < min)
			min = t->due_ms;
	if (min == UINT64_MAX)
		return -1;
	if (min <= now)
		return 0;
	return min - now > 60000 ? 60000 : (int)(min - now);
}

void cocoon_loop_stop(cocoon_loop *l)
{
	l->stop = 1;
}

int cocoon_loop_run(cocoon_loop *l)
{
	l->stop = 0;
	while (!l->stop) {
		struct epoll_event ev;
		int n;

		timers_fire(l);
		if (l->stop)
			break;
		/* One event per wait: callbacks may free other watches. */
		n = epoll_wait(l->epfd, &ev, 1, timers_timeout(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cocoon_error_set(COCOON_EINTERNAL, "event loop: epoll_wait: %s", strerror(errno));
		}
		if (n == 1) {
			cocoon_watch *w = ev.data.ptr;
			w->fn(w, ev.events);
		}
	}
	return 0;
}

void cocoon_inotify_drain(int fd, void (*fn)(void *ctx, const struct inotify_event *ev), void *ctx)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
			ssize_t step = (ssize_t)sizeof(*ev) + (ssize_t)ev->len;
			if (step > n - off)
				break;
			fn(ctx, ev);
			off += step;
		}
	}
}
