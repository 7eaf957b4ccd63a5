/*
 * writer.c - the writer; see writer.h.
 *
 * Streams are on three lists.  `all` is the writer thread's own.  The
 * queue (streams added, not started yet) and the dirty list (streams
 * whose log has new frames) are under one mutex, pushed to by wr_add()
 * and by the logs' hooks, and emptied one stream at a time by
 * wr_turn(), so a hook may push again while a turn runs.  A stream that
 * ends is unwatched at once (no hook pushes it after that) and freed at
 * the end of the turn, after it is taken off the dirty list it may
 * still be on.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bounds.h"
#include "follow.h"
#include "log.h"
#include "runlog.h"
#include "writer.h"

/* Events read from epoll in one go. */
#define WR_EVENTS	256
/* Always watched: the client leaving. */
#define WR_WATCH	(EPOLLIN | EPOLLRDHUP)

struct wstream {
	struct writer	*w;
	struct fl	*fl;
	int		 fd;
	struct rl_watch	 watch;
	wr_end_fn	 end;
	void		*arg;
	uint32_t	 events;	/* as registered with epoll */
	int		 dirty;		/* on w->dirty (under w->mu) */
	int		 dead;		/* ended; freed at the turn's end */
	struct wstream	*qnext;		/* w->queue (under w->mu) */
	struct wstream	*dnext;		/* w->dirty (under w->mu) */
	struct wstream	*prev, *next;	/* w->all, or w->dead */
};

struct writer {
	const struct config	*cfg;
	int			 ep;
	int			 wake;		/* eventfd in ep */
	pthread_t		 thread;	/* set once, before streams */
	int			 have_thread;
	pthread_mutex_t		 mu;
	struct wstream		*queue;		/* under mu */
	struct wstream		*dirty;		/* under mu */
	struct wstream		*all;		/* the writer's thread only */
	struct wstream		*dead;		/* the writer's thread only */
	long long		 last_tick;
	size_t			 count;		/* under mu */
};

static void
wake(struct writer *w)
{
	uint64_t one = 1;

	/* A full counter is a wake already pending. */
	(void)!write(w->wake, &one, sizeof(one));
}

/* The log's hook: new frames (called under the log's lock). */
static void
hook(void *arg)
{
	struct wstream	*s = arg;
	struct writer	*w = s->w;
	int		 push;

	pthread_mutex_lock(&w->mu);
	push = !s->dirty;
	if (push) {
		s->dirty = 1;
		s->dnext = w->dirty;
		w->dirty = s;
	}
	pthread_mutex_unlock(&w->mu);
	if (push && !(w->have_thread && pthread_equal(pthread_self(),
	    w->thread)))
		wake(w);
}

enum wr_status
wr_new(const struct config *cfg, struct writer **out)
{
	struct writer		*w;
	struct epoll_event	 ev;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return WR_ERR_NOMEM;
	w->cfg = cfg;
	w->wake = -1;
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev) != 0)
		goto fail;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		goto fail;
	*out = w;
	return WR_OK;
fail:
	if (w->ep >= 0)
		close(w->ep);
	if (w->wake >= 0)
		close(w->wake);
	free(w);
	return WR_ERR_SYS;
}

void
wr_set_thread(struct writer *w, pthread_t t)
{
	w->thread = t;
	w->have_thread = 1;
}

int
wr_fd(const struct writer *w)
{
	return w->ep;
}

size_t
wr_count(struct writer *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->count;
	pthread_mutex_unlock(&w->mu);
	return n;
}

enum wr_status
wr_add(struct writer *w, struct fl *f, int fd, wr_end_fn end, void *arg)
{
	struct wstream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return WR_ERR_NOMEM;
	s->w = w;
	s->fl = f;
	s->fd = fd;
	s->end = end;
	s->arg = arg;
	pthread_mutex_lock(&w->mu);
	s->qnext = w->queue;
	w->queue = s;
	w->count++;
	pthread_mutex_unlock(&w->mu);
	wake(w);
	return WR_OK;
}

/* The stream ended: no more hooks; freed at the end of the turn. */
static void
retire(struct writer *w, struct wstream *s)
{
	if (s->dead)
		return;
	s->dead = 1;
	rl_unwatch(fl_log(s->fl), &s->watch);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		w->all = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = NULL;
	s->next = w->dead;
	w->dead = s;
}

/* After the follower moved: end it, or watch what it waits for. */
static void
update(struct writer *w, struct wstream *s)
{
	struct epoll_event	 ev;
	enum fl_status		 st;
	uint32_t		 want;

	st = fl_status(s->fl);
	if (fl_is_done(st)) {
		retire(w, s);
		return;
	}
	want = WR_WATCH | (st == FL_BLOCKED ? EPOLLOUT : 0);
	if (want == s->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = s;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, s->fd, &ev) != 0) {
		log_msg(LOG_WARN, NULL, "writer: epoll: %s", strerror(errno));
		(void)fl_gone(s->fl);
		retire(w, s);
		return;
	}
	s->events = want;
}

/* A stream taken from the queue: watch it, write what is there. */
static void
start(struct writer *w, struct wstream *s, long long now)
{
	struct epoll_event ev;

	s->next = w->all;
	if (w->all != NULL)
		w->all->prev = s;
	w->all = s;
	s->watch.fn = hook;
	s->watch.arg = s;
	s->watch.end_only = fl_kind(s->fl) == FL_PLAIN;
	rl_watch(fl_log(s->fl), &s->watch);
	memset(&ev, 0, sizeof(ev));
	ev.events = WR_WATCH;
	ev.data.ptr = s;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
		log_msg(LOG_WARN, NULL, "writer: epoll: %s", strerror(errno));
		(void)fl_gone(s->fl);
		retire(w, s);
		return;
	}
	s->events = WR_WATCH;
	(void)fl_step(s->fl, now);
	update(w, s);
}

/* Free what ended; their owners end the requests. */
static void
reap(struct writer *w)
{
	struct wstream	*s, **pp;
	enum fl_status	 st;
	size_t		 n;

	if (w->dead == NULL)
		return;
	n = 0;
	pthread_mutex_lock(&w->mu);
	for (pp = &w->dirty; *pp != NULL; )
		if ((*pp)->dead)
			*pp = (*pp)->dnext;
		else
			pp = &(*pp)->dnext;
	for (s = w->dead; s != NULL; s = s->next)
		n++;
	w->count -= n;
	pthread_mutex_unlock(&w->mu);
	while ((s = w->dead) != NULL) {
		w->dead = s->next;
		if (s->events != 0)
			(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, s->fd, NULL);
		/* Uncounted before the owner hears of the end (it may look). */
		st = fl_status(s->fl);
		fl_free(s->fl);
		s->end(s->arg, st);
		free(s);
	}
}

void
wr_turn(struct writer *w, long long now)
{
	struct epoll_event	 ev[WR_EVENTS];
	struct wstream		*s, *next;
	uint64_t		 v;
	int			 n, i;

	pthread_mutex_lock(&w->mu);
	s = w->queue;
	w->queue = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; s != NULL; s = next) {
		next = s->qnext;
		start(w, s, now);
	}

	n = epoll_wait(w->ep, ev, WR_EVENTS, 0);
	for (i = 0; i < n; i++) {
		if ((s = ev[i].data.ptr) == NULL) {
			while (read(w->wake, &v, sizeof(v)) > 0)
				;
			continue;
		}
		if (s->dead)
			continue;
		/* After stdin, bytes can only be an abort; or EOF. */
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
		    EPOLLERR))
			(void)fl_gone(s->fl);
		else
			(void)fl_step(s->fl, now);
		update(w, s);
	}

	for (;;) {
		pthread_mutex_lock(&w->mu);
		if ((s = w->dirty) != NULL) {
			w->dirty = s->dnext;
			s->dirty = 0;
		}
		pthread_mutex_unlock(&w->mu);
		if (s == NULL)
			break;
		if (s->dead)
			continue;
		(void)fl_step(s->fl, now);
		update(w, s);
	}

	if (now - w->last_tick >= MJ_WRITER_TICK_MS) {
		w->last_tick = now;
		for (s = w->all; s != NULL; s = next) {
			next = s->next;
			(void)fl_tick(s->fl, now);
			update(w, s);
		}
	}
	reap(w);
}

void
wr_free(struct writer *w)
{
	struct wstream *s, *next;

	if (w == NULL)
		return;
	while (w->all != NULL) {
		(void)fl_gone(w->all->fl);
		retire(w, w->all);
	}
	reap(w);
	for (s = w->queue; s != NULL; s = next) {
		next = s->qnext;
		(void)fl_gone(s->fl);
		fl_free(s->fl);
		s->end(s->arg, FL_ERR_GONE);
		free(s);
	}
	close(w->wake);
	close(w->ep);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

const char *
wr_strerror(enum wr_status st)
{
	static const char *const msgs[WR__MAX] = {
		"ok",
		"out of memory",
		"epoll or eventfd failed",
	};

	return (unsigned)st < WR__MAX ? msgs[st] : "unknown writer status";
}
