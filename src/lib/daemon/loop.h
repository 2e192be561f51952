/*
 * A small single-threaded event loop: epoll for file descriptors plus a list
 * of one-shot millisecond timers. Callbacks run one event at a time, so a
 * callback may close any other watch or timer without leaving stale events
 * behind in a batch.
 */
#ifndef COCOON_LOOP_H
#define COCOON_LOOP_H

#include <stdint.h>

typedef struct cocoon_loop cocoon_loop;
typedef struct cocoon_watch cocoon_watch;
typedef struct cocoon_timer cocoon_timer;

struct cocoon_watch {
	int fd;
	void (*fn)(cocoon_watch *w, uint32_t events);
	void *ctx;
	int added;
};

struct cocoon_timer {
	uint64_t due_ms;
	void (*fn)(cocoon_timer *t);
	void *ctx;
	int armed;
	cocoon_timer *next;
};

int cocoon_loop_new(cocoon_loop **out);
void cocoon_loop_free(cocoon_loop *l);

/* events: EPOLLIN / EPOLLOUT (level-triggered). */
int cocoon_loop_watch_add(cocoon_loop *l, cocoon_watch *w, uint32_t events);
int cocoon_loop_watch_mod(cocoon_loop *l, cocoon_watch *w, uint32_t events);
void cocoon_loop_watch_del(cocoon_loop *l, cocoon_watch *w);

/* (Re)arms t to fire once after ms milliseconds. */
void cocoon_loop_timer_arm(cocoon_loop *l, cocoon_timer *t, uint64_t ms);
void cocoon_loop_timer_cancel(cocoon_loop *l, cocoon_timer *t);

/* Runs until cocoon_loop_stop(); returns 0, or a negative error if epoll fails. */
int cocoon_loop_run(cocoon_loop *l);
void cocoon_loop_stop(cocoon_loop *l);

/* Monotonic milliseconds. */
uint64_t cocoon_loop_now_ms(void);

struct inotify_event;
/*
 * Reads every pending event of an inotify fd (non-blocking) and calls fn for
 * each record; a record whose declared name length runs past what was read
 * ends that batch instead of being read out of bounds.
 */
void cocoon_inotify_drain(int fd, void (*fn)(void *ctx, const struct inotify_event *ev), void *ctx);

#endif
