/*
 * runner.c - the runner thread; see runner.h.
 *
 * Worker threads hand runs over through a queue under one mutex and wake
 * the thread (eng_wake: libcurl's multi wakeup).  The thread owns the
 * engine, and with it the pool, every run and every call: nothing else
 * touches them, so none of them needs a lock.  It also owns the writer
 * (writer.h): after each turn of the engine, which appended the frames,
 * the writer sends them to the clients that follow.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "runlog.h"
#include "runner.h"
#include "writer.h"

/* The longest the thread sleeps with nothing to do. */
#define IDLE_MS		1000

struct item {
	struct run_input	 in;
	struct runlog		*log;		/* a reference of ours */
	struct item		*next;
};

struct runner {
	const struct config	*cfg;
	const atomic_int	*cut;
	struct engine		*eng;		/* the thread's */
	struct writer		*wr;		/* the thread's */
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	struct item		*head, *tail;	/* under mu */
	int			 stopping;	/* under mu */
	atomic_size_t		 active;
};

static void
item_free(struct item *it)
{
	req_free(&it->in.req);
	free(it->in.resume);
	rl_unref(it->log);
	free(it);
}

static void *
loop(void *arg)
{
	struct runner	*r = arg;
	struct item	*it, *next;
	int		 stopping;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		it = r->head;
		r->head = r->tail = NULL;
		stopping = r->stopping;
		pthread_mutex_unlock(&r->mu);
		for (; it != NULL; it = next) {
			next = it->next;
			if (eng_add(r->eng, &it->in, it->log) != ENG_OK) {
				log_msg(LOG_ERROR, NULL, "run %s: out of memory",
				    rl_id(it->log));
				if (rl_append(it->log, "done",
				    "{\"type\":\"done\"}", 15, RL_FAILED,
				    NULL) != RL_OK)
					log_msg(LOG_ERROR, NULL, "run %s: "
					    "cannot end", rl_id(it->log));
			}
			item_free(it);
		}
		if (stopping || (r->cut != NULL && atomic_load(r->cut)))
			eng_shutdown(r->eng);
		atomic_store(&r->active, eng_count(r->eng));
		wr_turn(r->wr, clock_ms());
		if (stopping)
			break;
		eng_turn(r->eng, IDLE_MS);
		atomic_store(&r->active, eng_count(r->eng));
		wr_turn(r->wr, clock_ms());
	}
	return NULL;
}

enum rn_status
runner_new(const struct config *cfg, const atomic_int *cut,
    struct runner **out)
{
	struct runner	*r;
	sigset_t	 all, old;
	int		 rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return RN_ERR_NOMEM;
	r->cfg = cfg;
	r->cut = cut;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return RN_ERR_NOMEM;
	}
	if (eng_new(cfg, &r->eng) != ENG_OK) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return RN_ERR_NOMEM;
	}
	if (wr_new(cfg, &r->wr) != WR_OK ||
	    eng_watch(r->eng, wr_fd(r->wr)) != 0) {
		wr_free(r->wr);
		eng_free(r->eng);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return RN_ERR_NOMEM;
	}
	/* Signals are the server's (its accept loop): none here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, loop, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		wr_free(r->wr);
		eng_free(r->eng);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return RN_ERR_THREAD;
	}
	/* Before any stream: appends on the thread need no wake-up. */
	wr_set_thread(r->wr, r->thread);
	*out = r;
	return RN_OK;
}

void
runner_free(struct runner *r)
{
	struct item	*it, *next;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_mutex_unlock(&r->mu);
	eng_wake(r->eng);
	pthread_join(r->thread, NULL);
	for (it = r->head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	wr_free(r->wr);
	eng_free(r->eng);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

enum rn_status
runner_submit(struct runner *r, struct run_input *in, struct runlog *log)
{
	struct item	*it;

	if (r->cfg->local) {
		/* No model call: scored here, to the end, before returning. */
		rl_set_hook(log, NULL, NULL);
		return eng_run_local(r->cfg, in, log) == ENG_OK ? RN_OK :
		    RN_ERR_NOMEM;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		req_free(&in->req);
		free(in->resume);
		memset(in, 0, sizeof(*in));
		return RN_ERR_NOMEM;
	}
	it->in = *in;
	memset(in, 0, sizeof(*in));
	it->log = rl_ref(log);
	rl_set_hook(log, runner_wake, r);
	pthread_mutex_lock(&r->mu);
	if (r->stopping) {
		pthread_mutex_unlock(&r->mu);
		item_free(it);
		return RN_ERR_STOPPED;
	}
	if (r->tail != NULL)
		r->tail->next = it;
	else
		r->head = it;
	r->tail = it;
	pthread_mutex_unlock(&r->mu);
	eng_wake(r->eng);
	return RN_OK;
}

enum rn_status
runner_follow(struct runner *r, struct fl *f, int fd,
    void (*end)(void *, enum fl_status), void *arg)
{
	return wr_add(r->wr, f, fd, end, arg) == WR_OK ? RN_OK :
	    RN_ERR_NOMEM;
}

size_t
runner_streams(struct runner *r)
{
	return wr_count(r->wr);
}

void
runner_wake(void *arg)
{
	struct runner *r = arg;

	eng_wake(r->eng);
}

size_t
runner_active(struct runner *r)
{
	return atomic_load(&r->active);
}

const char *
runner_strerror(enum rn_status s)
{
	static const char *const msgs[RN__MAX] = {
		"ok",
		"out of memory",
		"the runner is shutting down",
		"the runner thread could not start",
	};

	return (unsigned)s < RN__MAX ? msgs[s] : "unknown runner status";
}
