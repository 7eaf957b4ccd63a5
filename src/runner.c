/*
 * runner.c - the runner: its lanes; see runner.h.
 *
 * A lane is one thread with its engine (one curl multi handle, its
 * connections, every run and call given to it) and its writer (the
 * clients that follow those runs).  Worker threads hand a run to a lane
 * through the lane's queue under one mutex and wake its thread
 * (eng_nudge: the pool's eventfd).  The thread owns its engine, and with
 * it the pool, every run and every call: nothing else touches them, so
 * none of them needs a lock.  After each turn of the engine, which
 * appended the frames, the lane's writer sends them to the clients.
 *
 * A run goes to the lane its resume hashes to: identical jobs share a
 * resume, so the lane that makes a call is the one where any identical
 * job in flight would join it (dedup stays within a lane).  A follower
 * goes to the lane of its run, where the appends happen, so no append
 * wakes another thread; one whose run has no lane (local-engine runs,
 * scored on their worker) goes to the lane its run id hashes to.
 *
 * With a store and a cache (cfg->store_on, cfg->db, cfg->cache_ttl_s)
 * each lane's thread opens a connection of its own, for its engine's
 * answer cache, before the lane takes any run (runner_new waits for
 * that first try, lane by lane, so the lanes of a process don't race
 * each other to create the file).
 * Its busy timeout is short (MJ_STORE_LANE_BUSY_MS): a lane never waits
 * long for the store.  A store that could not be opened is tried again
 * every MJ_STORE_RETRY_MS; meanwhile the lane scores without a cache.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "runlog.h"
#include "runner.h"
#include "store.h"
#include "upstream.h"
#include "writer.h"

/* The longest a lane sleeps with nothing to do. */
#define IDLE_MS		1000

struct item {
	struct run_input	 in;
	struct runlog		*log;		/* a reference of ours */
	struct item		*next;
};

struct lane {
	struct runner		*r;
	struct engine		*eng;		/* the thread's */
	struct writer		*wr;		/* the thread's */
	struct store		*store;		/* the thread's, or NULL */
	long long		 store_retry;	/* clock_ms: next open try */
	long long		 store_warned;	/* clock_ms: last warning */
	size_t			 index;		/* in r->lanes */
	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* ready was set */
	struct item		*head, *tail;	/* under mu */
	int			 stopping;	/* under mu */
	int			 ready;		/* under mu: store tried */
	atomic_size_t		 active;
};

struct runner {
	const struct config	*cfg;
	const atomic_int	*cut;
	char			 holder[MJ_STORE_ID_MAX + 1]; /* this process
						   in the store; "": no store */
	struct up_formats	*formats;	/* owned: what each server
						   accepted, for every lane */
	struct store_gate	 gate;		/* the lanes' and the keeper's
						   turns at the store */
	size_t			 n;
	struct lane		 lanes[];
};

static void
item_free(struct item *it)
{
	req_free(&it->in.req);
	free(it->in.resume);
	free(it->in.warnings);
	rl_unref(it->log);
	free(it);
}

/*
 * Does a lane need a store connection?  It serves the answer cache of
 * the lane's model calls: none without a store, with the cache off, or
 * on the local engine (its runs never come to a lane).
 */
static int
store_wanted(const struct runner *r)
{
	const struct config *cfg = r->cfg;

	return r->holder[0] != '\0' && cfg->store_on && cfg->db != NULL &&
	    cfg->db[0] != '\0' && cfg->cache_ttl_s > 0 && !cfg->local;
}

/*
 * On the lane's thread: open its store connection and give it to the
 * engine; on failure try again after MJ_STORE_RETRY_MS and say why, at
 * most once every MJ_STORE_LOG_MS.
 */
static void
lane_store_open(struct lane *ln)
{
	const struct config	*cfg = ln->r->cfg;
	struct store_opts	 o;
	enum store_status	 st;
	char			 err[256];
	long long		 now;

	memset(&o, 0, sizeof(o));
	o.busy_ms = MJ_STORE_LANE_BUSY_MS;
	o.no_wait = 1;
	o.gate = &ln->r->gate;
	st = store_open_opts(cfg->db, ln->r->holder, &o, &ln->store, err,
	    sizeof(err));
	now = clock_ms();
	if (st == STORE_OK) {
		eng_set_store(ln->eng, ln->store);
		if (ln->store_warned != 0)
			log_msg(LOG_INFO, NULL, "lane %zu: the store is open "
			    "now", ln->index);
		return;
	}
	ln->store_retry = now + MJ_STORE_RETRY_MS;
	if (ln->store_warned == 0 || now - ln->store_warned >=
	    MJ_STORE_LOG_MS) {
		log_msg(LOG_WARN, NULL, "lane %zu: cannot open the store "
		    "(%s); scoring without the cache", ln->index, err);
		ln->store_warned = now;
	}
}

static void *
loop(void *arg)
{
	struct lane	*ln = arg;
	struct runner	*r = ln->r;
	struct item	*it, *next;
	int		 stopping;

	if (store_wanted(r))
		lane_store_open(ln);
	pthread_mutex_lock(&ln->mu);
	ln->ready = 1;
	pthread_cond_signal(&ln->cv);
	pthread_mutex_unlock(&ln->mu);
	for (;;) {
		if (ln->store == NULL && store_wanted(r) &&
		    clock_ms() >= ln->store_retry)
			lane_store_open(ln);
		pthread_mutex_lock(&ln->mu);
		it = ln->head;
		ln->head = ln->tail = NULL;
		stopping = ln->stopping;
		pthread_mutex_unlock(&ln->mu);
		for (; it != NULL; it = next) {
			next = it->next;
			if (eng_add(ln->eng, &it->in, it->log) != ENG_OK) {
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
			eng_shutdown(ln->eng);
		atomic_store(&ln->active, eng_count(ln->eng));
		wr_turn(ln->wr, clock_ms());
		if (stopping)
			break;
		eng_turn(ln->eng, IDLE_MS);
		atomic_store(&ln->active, eng_count(ln->eng));
		wr_turn(ln->wr, clock_ms());
	}
	eng_set_store(ln->eng, NULL);
	store_close(ln->store);
	ln->store = NULL;
	return NULL;
}

/* Stop lane ln's thread (if it runs) and free what it held. */
static void
lane_free(struct lane *ln)
{
	struct item *it, *next;

	if (ln->started) {
		pthread_mutex_lock(&ln->mu);
		ln->stopping = 1;
		pthread_mutex_unlock(&ln->mu);
		eng_wake(ln->eng);
		pthread_join(ln->thread, NULL);
	}
	for (it = ln->head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	wr_free(ln->wr);
	eng_free(ln->eng);
	pthread_cond_destroy(&ln->cv);
	pthread_mutex_destroy(&ln->mu);
}

static enum rn_status
lane_start(struct runner *r, struct lane *ln, long conns)
{
	sigset_t	 all, old;
	int		 rc;

	ln->r = r;
	if (pthread_mutex_init(&ln->mu, NULL) != 0)
		return RN_ERR_NOMEM;
	if (pthread_cond_init(&ln->cv, NULL) != 0)
		return RN_ERR_NOMEM;
	if (eng_new(r->cfg, conns, r->formats, &ln->eng) != ENG_OK ||
	    wr_new(r->cfg, &ln->wr) != WR_OK ||
	    eng_watch(ln->eng, wr_fd(ln->wr)) != 0)
		return RN_ERR_NOMEM;
	/* Signals are the server's (its accept loop): none here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ln->thread, NULL, loop, ln);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return RN_ERR_THREAD;
	ln->started = 1;
	/* Before any stream: appends on the thread need no wake-up. */
	wr_set_thread(ln->wr, ln->thread);
	/* Its first try at the store, before the next lane's. */
	pthread_mutex_lock(&ln->mu);
	while (!ln->ready)
		pthread_cond_wait(&ln->cv, &ln->mu);
	pthread_mutex_unlock(&ln->mu);
	return RN_OK;
}

enum rn_status
runner_new(const struct config *cfg, const atomic_int *cut,
    const char *holder, struct runner **out)
{
	struct runner	*r;
	enum rn_status	 rc = RN_OK;
	long		 conns;
	size_t		 n, i;

	*out = NULL;
	n = cfg->runners > 0 ? (size_t)cfg->runners : 1;
	if ((r = calloc(1, sizeof(*r) + n * sizeof(r->lanes[0]))) == NULL)
		return RN_ERR_NOMEM;
	r->cfg = cfg;
	r->cut = cut;
	if (holder != NULL)
		snprintf(r->holder, sizeof(r->holder), "%s", holder);
	if (up_formats_new(&r->formats) != 0) {
		free(r);
		return RN_ERR_NOMEM;
	}
	/* The connection cap is the process's: shared out, at least 1. */
	conns = cfg->upstream_conns;
	if (conns > 0)
		conns = conns / (long)n > 0 ? conns / (long)n : 1;
	for (i = 0; i < n && rc == RN_OK; i++) {
		r->lanes[i].index = i;
		rc = lane_start(r, &r->lanes[i], conns);
		r->n = i + 1;
	}
	if (rc != RN_OK) {
		runner_free(r);
		return rc;
	}
	*out = r;
	return RN_OK;
}

struct store_gate *
runner_gate(struct runner *r)
{
	return &r->gate;
}

void
runner_free(struct runner *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		lane_free(&r->lanes[i]);
	up_formats_free(r->formats);
	free(r);
}

/* FNV-1a: which lane a resume or a run id goes to. */
static size_t
lane_of(const struct runner *r, const char *s, size_t n)
{
	uint64_t	 h = 14695981039346656037ULL;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h % r->n);
}

enum rn_status
runner_submit(struct runner *r, struct run_input *in, struct runlog *log)
{
	struct lane	*ln;
	struct item	*it;

	if (r->cfg->local) {
		/* No model call: scored here, to the end, before returning. */
		rl_set_hook(log, NULL, NULL);
		return eng_run_local(r->cfg, in, log) == ENG_OK ? RN_OK :
		    RN_ERR_NOMEM;
	}
	ln = &r->lanes[lane_of(r, in->resume, in->resume_len)];
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		req_free(&in->req);
		free(in->resume);
		free(in->warnings);
		memset(in, 0, sizeof(*in));
		return RN_ERR_NOMEM;
	}
	it->in = *in;
	memset(in, 0, sizeof(*in));
	it->log = rl_ref(log);
	rl_set_hook(log, runner_wake, ln);
	pthread_mutex_lock(&ln->mu);
	if (ln->stopping) {
		pthread_mutex_unlock(&ln->mu);
		item_free(it);
		return RN_ERR_STOPPED;
	}
	if (ln->tail != NULL)
		ln->tail->next = it;
	else
		ln->head = it;
	ln->tail = it;
	pthread_mutex_unlock(&ln->mu);
	eng_nudge(ln->eng);
	return RN_OK;
}

enum rn_status
runner_follow(struct runner *r, struct fl *f, int fd,
    void (*end)(void *, enum fl_status), void *arg)
{
	struct runlog	*log = fl_log(f);
	struct lane	*ln;
	const char	*id;
	size_t		 i;

	ln = NULL;
	for (i = 0; i < r->n; i++)
		if (rl_hook_arg(log) == &r->lanes[i])
			ln = &r->lanes[i];
	if (ln == NULL) {
		id = rl_id(log);
		ln = &r->lanes[lane_of(r, id, strlen(id))];
	}
	return wr_add(ln->wr, f, fd, end, arg) == WR_OK ? RN_OK :
	    RN_ERR_NOMEM;
}

size_t
runner_streams(struct runner *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += wr_count(r->lanes[i].wr);
	return n;
}

void
runner_wake(void *arg)
{
	struct lane *ln = arg;

	eng_wake(ln->eng);
}

size_t
runner_active(struct runner *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += atomic_load(&r->lanes[i].active);
	return n;
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
