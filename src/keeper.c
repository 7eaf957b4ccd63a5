/*
 * keeper.c - the keeper; see keeper.h.
 *
 * One thread, one store connection.  Runs to create come on a queue
 * (their starters wait on a condition variable until the batch that
 * holds them is committed); runs with new frames on a dirty list, pushed
 * by their logs' watch hooks at most once per flush (an atomic flag), so
 * a token costs its lane an atomic exchange, not a lock.  Both under one
 * mutex.  Everything else (the tracked runs, the mirrors, the store) is
 * the thread's own.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "keeper.h"
#include "log.h"
#include "runlog.h"
#include "store.h"
#include "webhook.h"

/* Frames read from a log, or from the store for a mirror, at once. */
#define KP_BATCH	256

struct kp_run {
	struct keeper	*kp;
	struct runlog	*log;		/* a reference of ours */
	struct rl_watch	 watch;
	struct rl_watch	 endw;		/* done appended: flush now */
	atomic_int	 dirty;		/* on kp->dirty, or about to be */
	char		*resume;	/* until the row is created */
	uint64_t	 stored;	/* frames 1..stored are in the store */
	size_t		 row_done;	/* done_jobs as the row has it */
	uint64_t	 row_result;	/* result_id likewise */
	long long	 row_ms;	/* clock_ms of the row's last write */
	int		 resync;	/* stored unsure: ask the store */
	int		 state;		/* 0 queued, 1 kept, -1 not yet */
	long long	 born;		/* clock_ms of kp_track() */
	int		 gone;		/* done stored, or given up: free */
	struct kp_run	*qnext;		/* kp->queue (under mu) */
	struct kp_run	*dnext;		/* kp->dirty (under mu) */
	struct kp_run	*fnext;		/* the flush's list (the thread's) */
	int		 flushing;	/* on it, its turn still to come */
	struct kp_run	*next;		/* kp->runs (the thread's) */
};

struct kp_mirror {
	struct runlog	*log;		/* a reference of ours */
	uint64_t	 have;
	struct kp_mirror *next;
};

struct keeper {
	const struct config	*cfg;
	struct rl_runs		*runs;
	struct store_gate	*gate;		/* borrowed, may be NULL */
	char			 holder[MJ_STORE_ID_MAX + 1];
	void			(*on_final)(void *);
	void			*final_arg;
	pthread_t		 thread;
	int			 joined;	/* kp_stop() ended it */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* the thread: work */
	struct kp_run		*queue;		/* under mu */
	struct kp_run		*dirty;		/* under mu */
	struct kp_mirror	*new_mirrors;	/* under mu */
	int			 stopping;	/* under mu */
	int			 urgent;	/* under mu: a run ended */
	char			 err[200];	/* under mu: why degraded */
	int			 degraded;	/* under mu */
	/* the thread's */
	struct store		*st;
	struct kp_run		*list;
	struct kp_run		*retry;		/* rows not made yet */
	long long		 last_flush;
	long long		 next_retry;
	struct kp_mirror	*mirrors;
	long long		 next_open, next_stops, next_renew;
	long long		 next_reap, next_purge, logged_ms;
	long long		 next_checkpoint;
	long long		 next_create;	/* a queued run's row due, or 0 */
	int			 have_key;	/* webhooks on: messages made */
};

/* A store call failed: degraded, logged at most once a minute. */
static void
failed(struct keeper *kp, enum store_status rc, const char *what)
{
	long long now = clock_ms();

	pthread_mutex_lock(&kp->mu);
	snprintf(kp->err, sizeof(kp->err), "%s: %s", what,
	    kp->st != NULL ? store_errmsg(kp->st) : store_strerror(rc));
	kp->degraded = 1;
	pthread_mutex_unlock(&kp->mu);
	if (kp->logged_ms == 0 || now - kp->logged_ms >= MJ_STORE_LOG_MS) {
		kp->logged_ms = now;
		log_msg(LOG_ERROR, NULL, "store %s: %s: %s (runs go on; "
		    "retrying)", kp->cfg->db, what, kp->st != NULL ?
		    store_errmsg(kp->st) : store_strerror(rc));
	}
}

static void
healthy(struct keeper *kp)
{
	pthread_mutex_lock(&kp->mu);
	if (kp->degraded)
		log_msg(LOG_INFO, NULL, "store %s: working again",
		    kp->cfg->db);
	kp->degraded = 0;
	kp->err[0] = '\0';
	pthread_mutex_unlock(&kp->mu);
}

/* The log's hook: new frames (under the log's lock, on its appender). */
static void
hook(void *arg)
{
	struct kp_run	*r = arg;
	struct keeper	*kp = r->kp;

	if (atomic_exchange(&r->dirty, 1))
		return;
	pthread_mutex_lock(&kp->mu);
	r->dnext = kp->dirty;
	kp->dirty = r;
	pthread_mutex_unlock(&kp->mu);
}

/* A run ended: flush at once (a plain answer is being sent). */
static void
end_hook(void *arg)
{
	struct kp_run	*r = arg;

	hook(r);
	pthread_mutex_lock(&r->kp->mu);
	r->kp->urgent = 1;
	pthread_cond_signal(&r->kp->cv);
	pthread_mutex_unlock(&r->kp->mu);
}

/* Known frame types as constants (a log keeps types by pointer). */
static const char *
type_const(const char *t)
{
	static const char *const types[] = {
		"status", "job_start", "token", "job_complete", "complete",
		"done", "error", "reasoning",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return types[i];
	return NULL;
}

/* The "response" member of a result frame's data, as JSON text. */
static char *
response_text(const struct rl_frame *f)
{
	json_object	*d, *v;
	const char	*s;
	char		*out = NULL;
	size_t		 n;

	/* The engine's own complete frame: its bytes, as the plain route. */
	if (rl_complete_response(f, &s, &n))
		return strndup(s, n);
	if ((d = json_tokener_parse(f->data)) == NULL)
		return NULL;
	if (json_object_object_get_ex(d, "response", &v) &&
	    (s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
		out = strdup(s);
	json_object_put(d);
	return out;
}

/* The webhook message of a run that ended (caller frees *body). */
static int
message(struct keeper *kp, const char *run_id, const char *user_id,
    enum rl_state state, const char *response, struct store_msg *m,
    char id[WH_ID_LEN + 1], char **body)
{
	struct wh_event	 ev;
	size_t		 len;

	*body = NULL;
	if (!kp->have_key || wh_new_id(id) != WH_OK)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.state = rl_state_name(state);
	ev.time_ms = clock_wall_ms();
	ev.run_id = run_id;
	ev.user_id = user_id;
	ev.response = response;
	ev.response_len = response != NULL ? strlen(response) : 0;
	if (wh_body(&ev, body, &len) != WH_OK)
		return -1;
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->run_id = run_id;
	m->body = *body;
	m->len = len;
	m->next_ms = clock_wall_ms();
	return 0;
}

/*
 * What goes with frames f[0..n) of l, the last ones of its run if closed:
 * its jobs done, its result frame and, once it ended, its state, its
 * response and its webhook message.  *resp and *body are the caller's to
 * free.
 */
static void
update_of(struct keeper *kp, struct runlog *l, const struct rl_frame *f,
    size_t n, int closed, struct store_update *u, struct store_msg *m,
    char mid[WH_ID_LEN + 1], char **resp, char **body)
{
	struct rl_info	 in;
	struct rl_frame	 res;

	rl_info(l, &in);
	memset(u, 0, sizeof(*u));
	u->done_jobs = in.done_jobs;
	u->result_id = in.result_id <= f[n - 1].id ? in.result_id : 0;
	u->state = RL_RUNNING;
	*resp = *body = NULL;
	if (!closed)
		return;
	u->state = in.state;
	if (in.result_id != 0 && rl_frame_get(l, in.result_id, &res) == 0)
		*resp = response_text(&res);
	u->response = *resp;
	if (message(kp, rl_id(l), in.user_id, in.state, *resp, m, mid,
	    body) == 0)
		u->msg = m;
}

/* Put r's new frames in the store (inside the batch).  0, or -1. */
static int
flush_run(struct keeper *kp, struct runlog *l, struct kp_run *r,
    long long now, int *sent)
{
	struct rl_frame		 f[KP_BATCH];
	struct store_update	 u;
	struct store_msg	 m;
	enum store_status	 rc;
	char			*resp, *body, mid[WH_ID_LEN + 1];
	struct store_run	 run;
	size_t			 n;
	int			 closed, row;

	if (r->resync) {
		/* After a failed batch: what made it is the store's word. */
		memset(&run, 0, sizeof(run));
		rc = store_run_get(kp->st, rl_id(l), 0, &run);
		if (rc != STORE_OK && rc != STORE_ERR_NOTFOUND) {
			failed(kp, rc, "reading a run");
			return -1;
		}
		r->stored = rc == STORE_OK ? run.last_id : 0;
		r->gone = rc == STORE_ERR_NOTFOUND ||
		    (rc == STORE_OK && run.state != RL_RUNNING);
		store_run_clear(&run);
		r->resync = 0;
		r->row_ms = 0;	/* what the row has: unknown, write it */
		if (r->gone)
			return 0;
	}
	for (;;) {
		rl_read(l, r->stored, f, KP_BATCH, 0, &n, &closed);
		if (n == 0)
			return 0;
		update_of(kp, l, f, n, closed, &u, &m, mid, &resp, &body);
		/* Tokens alone: the frames go in, the row stays (bounds.h). */
		row = closed || u.done_jobs != r->row_done ||
		    (u.result_id != 0 && u.result_id != r->row_result) ||
		    now - r->row_ms >= MJ_STORE_ROW_MS;
		rc = store_append(kp->st, rl_id(l), f, n, row ? &u : NULL,
		    clock_wall_ms());
		free(resp);
		free(body);
		if (rc == STORE_OK && row) {
			r->row_done = u.done_jobs;
			r->row_result = u.result_id;
			r->row_ms = now;
		}
		if (rc == STORE_ERR_LEASE || rc == STORE_ERR_NOTFOUND) {
			/* Erased (DELETE), or no longer ours: let it go. */
			r->gone = 1;
			return 0;
		}
		if (rc != STORE_OK) {
			failed(kp, rc, "saving frames");
			return -1;
		}
		r->stored = f[n - 1].id;
		if (closed) {
			r->gone = 1;
			*sent |= u.msg != NULL;
			return 0;
		}
	}
}

/* Open the store if it isn't; 0 when it is. */
static int
opened(struct keeper *kp, long long now)
{
	struct store_opts o;
	char		 err[256];
	enum store_status rc;

	if (kp->st != NULL)
		return 0;
	if (now < kp->next_open)
		return -1;
	kp->next_open = now + MJ_STORE_RETRY_MS;
	memset(&o, 0, sizeof(o));
	o.gate = kp->gate;
	rc = store_open_opts(kp->cfg->db, kp->holder, &o, &kp->st, err,
	    sizeof(err));
	if (rc != STORE_OK) {
		kp->st = NULL;
		pthread_mutex_lock(&kp->mu);
		snprintf(kp->err, sizeof(kp->err), "open: %.180s", err);
		kp->degraded = 1;
		pthread_mutex_unlock(&kp->mu);
		if (kp->logged_ms == 0 || now - kp->logged_ms >=
		    MJ_STORE_LOG_MS) {
			kp->logged_ms = now;
			log_msg(LOG_ERROR, NULL, "store: %s (runs go on, not "
			    "kept; retrying)", err);
		}
		return -1;
	}
	healthy(kp);
	return 0;
}

/*
 * Was run l erased (DELETE) before its row was made?  An erased run
 * leaves the registry; a run ends before it is erased.
 */
static int
erased(struct keeper *kp, struct runlog *l)
{
	struct runlog	*x;

	if (rl_state(l) == RL_RUNNING)
		return 0;
	if ((x = rl_runs_get(kp->runs, rl_id(l))) != NULL)
		rl_unref(x);
	return x != l;
}

/*
 * Create the queued runs' rows, in one transaction, each with its frames
 * so far: a run that has ended is stored whole (gone), one still running
 * goes on from there through the flushes.
 */
static void
create(struct keeper *kp, struct kp_run *q, long long now, int *sent)
{
	struct rl_frame		 f[KP_BATCH];
	struct store_run_new	 n;
	struct store_update	 u;
	struct store_msg	 m;
	struct rl_info		 in;
	struct kp_run		*r;
	enum store_status	 rc;
	char			*resp, *body, mid[WH_ID_LEN + 1];
	size_t			 nf, k;
	int			 ok, closed, msgs = 0;

	ok = opened(kp, now) == 0;
	rc = ok ? store_batch_begin(kp->st) : STORE_ERR_IO;
	for (r = q, k = 0; ok && rc == STORE_OK && r != NULL;
	    r = r->qnext, k++) {
		if (k % MJ_STORE_YIELD_RUNS == MJ_STORE_YIELD_RUNS - 1)
			sched_yield();	/* bounds.h */
		if (erased(kp, r->log)) {
			r->gone = 1;	/* no row: freed once admitted */
			continue;
		}
		rl_info(r->log, &in);
		rl_read(r->log, 0, f, KP_BATCH, 0, &nf, &closed);
		memset(&n, 0, sizeof(n));
		n.id = rl_id(r->log);
		n.owner = in.owner;
		n.user_id = in.user_id;
		n.total_jobs = in.total_jobs;
		n.unclaimed = !in.claimed;
		n.resume = in.state == RL_RUNNING ? r->resume : NULL;
		resp = body = NULL;
		if (nf > 0) {
			update_of(kp, r->log, f, nf, closed, &u, &m, mid,
			    &resp, &body);
			n.frames = f;
			n.nframes = nf;
			n.upd = &u;
			n.updated_ms = clock_wall_ms();
		}
		rc = store_run_create(kp->st, &n, in.created_ms);
		free(resp);
		free(body);
		if (rc == STORE_ERR_EXISTS) {
			/* A retry of one made: how far, the store says. */
			r->resync = 1;
			rc = STORE_OK;
		} else if (rc == STORE_OK) {
			r->stored = nf;
			r->row_done = nf > 0 ? u.done_jobs : 0;
			r->row_result = nf > 0 ? u.result_id : 0;
			r->row_ms = now;
			if (closed) {
				r->gone = 1;
				msgs |= nf > 0 && u.msg != NULL;
			}
		}
	}
	if (ok && rc == STORE_OK)
		rc = store_batch_end(kp->st);
	else if (ok && store_batch_end(kp->st) != STORE_OK)
		rc = STORE_ERR_IO;	/* ended either way: nothing kept */
	if (ok && rc != STORE_OK)
		failed(kp, rc, "creating runs");
	if (ok)
		store_gate_yield(kp->st, MJ_STORE_GATE_MS);
	ok = ok && rc == STORE_OK;
	if (ok)
		healthy(kp);
	*sent |= ok && msgs;
	pthread_mutex_lock(&kp->mu);
	for (r = q; r != NULL; r = r->qnext)
		r->state = ok ? 1 : -1;
	pthread_mutex_unlock(&kp->mu);
	for (r = q; r != NULL; r = r->qnext)
		if (ok) {
			free(r->resume);
			r->resume = NULL;
		} else {
			/* Nothing was kept: all of it again, next time. */
			r->stored = 0;
			r->gone = 0;
			r->resync = 0;
		}
}

/* Take r off the dirty list (its flag says whether it is on it). */
static void
undirty(struct keeper *kp, struct kp_run *r)
{
	struct kp_run **pp;

	pthread_mutex_lock(&kp->mu);
	if (atomic_load(&r->dirty))
		for (pp = &kp->dirty; *pp != NULL; pp = &(*pp)->dnext)
			if (*pp == r) {
				*pp = r->dnext;
				break;
			}
	pthread_mutex_unlock(&kp->mu);
}

static void
run_free(struct keeper *kp, struct kp_run *r)
{
	rl_unwatch(r->log, &r->watch);
	rl_unwatch(r->log, &r->endw);
	undirty(kp, r);
	rl_unref(r->log);
	free(r->resume);
	free(r);
}

static void	admit(struct keeper *, long long, int);

/*
 * Every dirty run's new frames, MJ_STORE_FLUSH_SLICE runs to a
 * transaction; runs waiting for their rows are admitted between slices,
 * so a start never waits for a whole flush of thousands of streams.
 *
 * d, taken off kp->dirty, is walked by fnext: each run's dirty flag stays
 * set until its turn, so no hook relinks its dnext meanwhile, and a frame
 * appended after its turn pushes it again for the next flush.  (Cleared
 * all at once, a run appended to during the flush was pushed on
 * kp->dirty through the very link the flush walked, and the runs after
 * it were neither flushed nor dirty any more: plain runs that had ended
 * stayed `running` in the store with no frames.)
 */
static void
flush(struct keeper *kp, struct kp_run *d, long long now)
{
	struct kp_run	*r, *slice, **pp;
	enum store_status rc;
	long long	 t0, yielded = 0;
	int		 sent = 0, bad = 0, k;

	for (r = d; r != NULL; r = r->dnext) {
		r->fnext = r->dnext;
		r->flushing = 1;
	}
	for (slice = d; slice != NULL && opened(kp, now) == 0; ) {
		if ((rc = store_batch_begin(kp->st)) != STORE_OK) {
			failed(kp, rc, "saving frames");
			bad = 1;
			break;
		}
		/*
		 * A lane waiting for the lock ends the slice early, as long
		 * as this flush has not given lanes its share already.
		 */
		t0 = clock_ms();
		for (r = slice, k = 0; r != NULL && k < MJ_STORE_FLUSH_SLICE &&
		    !(yielded < MJ_STORE_GATE_BUDGET_MS &&
		    store_gate_wanted(kp->st) &&
		    clock_ms() - t0 >= MJ_STORE_SLICE_MIN_MS); r = r->fnext,
		    k++) {
			r->flushing = 0;
			atomic_store(&r->dirty, 0);
			if (r->state == 1 && !r->gone &&
			    flush_run(kp, r->log, r, now, &sent) != 0)
				bad = 1;
			if (k % MJ_STORE_YIELD_RUNS == MJ_STORE_YIELD_RUNS - 1)
				sched_yield();	/* bounds.h */
		}
		if ((rc = store_batch_end(kp->st)) != STORE_OK) {
			failed(kp, rc, "saving frames");
			/* Some or none of it is stored: ask before retrying. */
			for (; slice != r; slice = slice->fnext) {
				slice->gone = 0;
				slice->resync = 1;
			}
			bad = 1;
		}
		slice = r;
		if (yielded < MJ_STORE_GATE_BUDGET_MS) {
			t0 = clock_ms();
			store_gate_yield(kp->st, MJ_STORE_GATE_MS);
			yielded += clock_ms() - t0;
		}
		admit(kp, now, 0);
	}
	if (d != NULL && !bad && kp->st != NULL)
		healthy(kp);
	if (sent && kp->on_final != NULL)
		kp->on_final(kp->final_arg);
	/* What is not stored yet stays dirty: tried again next time. */
	for (r = d; r != NULL; r = r->fnext) {
		if (r->flushing) {	/* the store failed before its turn */
			r->flushing = 0;
			atomic_store(&r->dirty, 0);
		}
		if (!r->gone && r->state == 1 &&
		    (r->resync || r->stored < rl_last_id(r->log)))
			hook(r);
	}
	for (pp = &kp->list; *pp != NULL; ) {
		r = *pp;
		if (r->gone) {
			*pp = r->next;
			run_free(kp, r);
		} else
			pp = &r->next;
	}
}

static void
stop_one(void *arg, const char *id)
{
	struct keeper	*kp = arg;
	struct runlog	*l;

	if ((l = rl_runs_get(kp->runs, id)) == NULL)
		return;
	if (rl_state(l) == RL_RUNNING && !rl_stop_requested(l)) {
		log_msg(LOG_INFO, NULL, "run %s: stop asked through the store",
		    id);
		rl_request_stop(l);
	}
	rl_unref(l);
}

/* The webhook message of a run reaped here (store_reap's callback). */
static int
reap_msg(void *arg, const struct store_run *run, struct store_msg *m)
{
	struct keeper	*kp = arg;
	static char	 id[WH_ID_LEN + 1];
	static char	*body;

	/* The store copies the message before the next call. */
	free(body);
	body = NULL;
	return message(kp, run->id, run->user_id, RL_INTERRUPTED,
	    run->response, m, id, &body) == 0;
}

static int
mirror_frame(void *arg, const struct rl_frame *f)
{
	struct kp_mirror	*m = arg;
	const char		*t;

	if (f->id != m->have + 1 || (t = type_const(f->type)) == NULL)
		return -1;
	/* The state comes with done: read it in the caller. */
	if (strcmp(t, "done") == 0)
		return 1;
	if (rl_append(m->log, t, f->data, f->len, RL_RUNNING, NULL) != RL_OK)
		return -1;
	m->have = f->id;
	return 0;
}

/* A mirrored run was erased: its followers get error and done. */
static enum rl_status
end_mirror(struct runlog *l)
{
	static const char err[] = "{\"type\":\"error\",\"code\":"
	    "\"cancelled\",\"message\":\"the run was erased\"}";
	enum rl_status rc;

	rc = rl_append(l, "error", err, sizeof(err) - 1, RL_RUNNING, NULL);
	if (rc == RL_OK)
		rc = rl_append(l, "done", "{\"type\":\"done\"}", 15,
		    RL_CANCELLED, NULL);
	return rc;
}

/* Bring a mirror up to the store; nonzero once it is closed. */
static int
mirror_pull(struct keeper *kp, struct kp_mirror *m)
{
	struct store_run	 run;
	enum store_status	 rc;
	size_t			 n;

	if (rl_state(m->log) != RL_RUNNING)
		return 1;
	do {
		rc = store_frames(kp->st, rl_id(m->log), m->have, KP_BATCH,
		    mirror_frame, m, &n);
	} while (rc == STORE_OK && n == KP_BATCH);
	if (rc == STORE_ERR_NOTFOUND) {
		/* Erased meanwhile: end the mirror for its followers. */
		if (end_mirror(m->log) != RL_OK)
			log_msg(LOG_WARN, NULL, "run %s: cannot end its mirror",
			    rl_id(m->log));
		return 1;
	}
	if (rc != STORE_OK) {
		failed(kp, rc, "reading a run");
		return 0;
	}
	memset(&run, 0, sizeof(run));
	if (store_run_get(kp->st, rl_id(m->log), 0, &run) != STORE_OK)
		return 0;
	if (run.state != RL_RUNNING && run.last_id == m->have + 1) {
		if (rl_append(m->log, "done", "{\"type\":\"done\"}", 15,
		    run.state, NULL) != RL_OK)
			log_msg(LOG_WARN, NULL, "run %s: cannot end its mirror",
			    rl_id(m->log));
		m->have++;
	}
	store_run_clear(&run);
	return rl_state(m->log) != RL_RUNNING;
}

static void
mirrors(struct keeper *kp)
{
	struct kp_mirror **pp, *m;

	for (pp = &kp->mirrors; *pp != NULL; ) {
		m = *pp;
		if (mirror_pull(kp, m)) {
			*pp = m->next;
			rl_unref(m->log);
			free(m);
		} else
			pp = &m->next;
	}
}

/*
 * A holder of this host ("host:pid:random", main.c) whose process is
 * gone: its runs need not wait for its lease to lapse.  Another pid that
 * is alive, or another host, is left to the lease.
 */
struct dead {
	struct keeper	*kp;
	char		 v[8][MJ_STORE_ID_MAX + 1];
	size_t		 n;
};

static void
holder_seen(void *arg, const char *h)
{
	struct dead	*d = arg;
	const char	*me = d->kp->holder, *c1, *c2, *m1;
	char		*end;
	long		 pid;

	c1 = strchr(h, ':');
	m1 = strchr(me, ':');
	if (c1 == NULL || m1 == NULL || c1 - h != m1 - me ||
	    memcmp(h, me, (size_t)(c1 - h)) != 0 || d->n == 8)
		return;
	pid = strtol(c1 + 1, &end, 10);
	if ((c2 = end) == NULL || *c2 != ':' || pid <= 0)
		return;
	/* Our pid but not us (a restart), or a pid with no process. */
	if (pid == (long)getpid() ||
	    (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		snprintf(d->v[d->n++], sizeof(d->v[0]), "%s", h);
}

static void
bury(struct keeper *kp)
{
	struct dead	 d;
	size_t		 i;

	memset(&d, 0, sizeof(d));
	d.kp = kp;
	if (store_holders(kp->st, holder_seen, &d) != STORE_OK)
		return;
	for (i = 0; i < d.n; i++)
		if (store_holder_gone(kp->st, d.v[i]) == STORE_OK)
			log_msg(LOG_INFO, NULL, "store: process %s is gone; "
			    "ending its runs", d.v[i]);
}

/* Leases, stops, the dead, the old: what is due now. */
static void
chores(struct keeper *kp, long long now)
{
	enum store_status	 rc;
	long long		 wall = clock_wall_ms();
	size_t			 n;

	if (now >= kp->next_stops) {
		kp->next_stops = now + MJ_STORE_STOPS_MS;
		if ((rc = store_stops(kp->st, stop_one, kp)) != STORE_OK)
			failed(kp, rc, "reading stop requests");
	}
	if (now >= kp->next_checkpoint) {
		kp->next_checkpoint = now + MJ_STORE_CHECKPOINT_MS;
		rc = store_checkpoint(kp->st, MJ_STORE_CHECKPOINT_WAIT_MS);
		if (rc != STORE_OK)
			failed(kp, rc, "checkpointing");
	}
	if (now >= kp->next_renew) {
		kp->next_renew = now + MJ_STORE_RENEW_MS;
		if ((rc = store_renew(kp->st, wall, &n)) != STORE_OK)
			failed(kp, rc, "renewing leases");
	}
	if (now >= kp->next_reap) {
		kp->next_reap = now + MJ_STORE_REAP_MS;
		bury(kp);
		rc = store_reap(kp->st, wall, kp->have_key ? reap_msg :
		    NULL, kp, &n);
		if (rc != STORE_OK)
			failed(kp, rc, "ending the runs of stopped processes");
		else if (n > 0) {
			log_msg(LOG_WARN, NULL, "store: %zu run%s of a stopped "
			    "process ended interrupted", n, n == 1 ? "" : "s");
			if (kp->have_key && kp->on_final != NULL)
				kp->on_final(kp->final_arg);
		}
	}
	if (now >= kp->next_purge && kp->cfg->retention_days > 0) {
		kp->next_purge = now + MJ_STORE_PURGE_MS;
		rc = store_purge(kp->st, wall -
		    (int64_t)kp->cfg->retention_days * 86400000LL, wall, &n);
		if (rc != STORE_OK)
			failed(kp, rc, "purging old runs");
		else if (n > 0)
			log_msg(LOG_INFO, NULL, "store: %zu run%s older than "
			    "%ld days erased", n, n == 1 ? "" : "s",
			    kp->cfg->retention_days);
	}
}

/*
 * Make the rows of the runs queued that are due (MJ_STORE_CREATE_AFTER_MS
 * old, or ended; all of them when all is set), and of those due a retry.
 */
static void
admit(struct keeper *kp, long long now, int all)
{
	struct kp_run	*q, *r, *next, *due = NULL, *later = NULL, *last;
	int		 sent = 0;

	pthread_mutex_lock(&kp->mu);
	q = kp->queue;
	kp->queue = NULL;
	pthread_mutex_unlock(&kp->mu);
	kp->next_create = 0;
	for (r = q; r != NULL; r = next) {
		next = r->qnext;
		if (all || now - r->born >= MJ_STORE_CREATE_AFTER_MS ||
		    rl_state(r->log) != RL_RUNNING) {
			r->qnext = due;
			due = r;
			continue;
		}
		r->qnext = later;
		later = r;
		if (kp->next_create == 0 ||
		    r->born + MJ_STORE_CREATE_AFTER_MS < kp->next_create)
			kp->next_create = r->born + MJ_STORE_CREATE_AFTER_MS;
	}
	if (later != NULL) {
		for (last = later; last->qnext != NULL; last = last->qnext)
			;
		pthread_mutex_lock(&kp->mu);
		last->qnext = kp->queue;
		kp->queue = later;
		pthread_mutex_unlock(&kp->mu);
	}
	/* Rows that could not be made are tried again, now and then. */
	if (kp->retry != NULL && (all || now >= kp->next_retry)) {
		for (r = kp->retry; r->qnext != NULL; r = r->qnext)
			;
		r->qnext = due;
		due = kp->retry;
		kp->retry = NULL;
	}
	if (due == NULL)
		return;
	create(kp, due, now, &sent);
	for (r = due; r != NULL; r = next) {
		next = r->qnext;
		if (r->state != 1) {
			/* Its frames stay in its log meanwhile. */
			r->qnext = kp->retry;
			kp->retry = r;
			kp->next_retry = now + MJ_STORE_RETRY_MS;
			continue;
		}
		rl_set_kept(r->log);
		if (r->gone) {		/* stored whole, or erased */
			run_free(kp, r);
			continue;
		}
		r->next = kp->list;
		kp->list = r;
		rl_watch(r->log, &r->watch);
		rl_watch(r->log, &r->endw);
		hook(r);
	}
	if (sent && kp->on_final != NULL)
		kp->on_final(kp->final_arg);
}

static void *
loop(void *arg)
{
	struct keeper		*kp = arg;
	struct kp_run		*d;
	struct kp_mirror	*m, *mnext;
	struct timespec		 ts;
	long long		 now, wait;
	int			 stopping;

	for (;;) {
		pthread_mutex_lock(&kp->mu);
		now = clock_ms();
		wait = kp->last_flush + (kp->urgent ? MJ_STORE_URGENT_MS :
		    MJ_STORE_FLUSH_MS) - now;
		if (kp->next_create != 0 && kp->next_create - now < wait)
			wait = kp->next_create - now;
		if (!kp->stopping && wait > 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)wait * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&kp->cv, &kp->mu, &ts);
		}
		stopping = kp->stopping;
		pthread_mutex_unlock(&kp->mu);
		now = clock_ms();
		admit(kp, now, stopping);
		/*
		 * Frames go every MJ_STORE_FLUSH_MS, or soon after a run's end
		 * (MJ_STORE_URGENT_MS after the last flush: under load each
		 * flush carries the ends of many runs).
		 */
		pthread_mutex_lock(&kp->mu);
		d = NULL;
		if ((kp->urgent && now - kp->last_flush >= MJ_STORE_URGENT_MS) ||
		    stopping || now - kp->last_flush >= MJ_STORE_FLUSH_MS) {
			d = kp->dirty;
			kp->dirty = NULL;
			kp->urgent = 0;
			kp->last_flush = now;
		}
		m = kp->new_mirrors;
		kp->new_mirrors = NULL;
		pthread_mutex_unlock(&kp->mu);
		flush(kp, d, now);
		for (; m != NULL; m = mnext) {
			mnext = m->next;
			m->next = kp->mirrors;
			kp->mirrors = m;
		}
		if (opened(kp, now) == 0) {
			mirrors(kp);
			chores(kp, now);
		}
		if (stopping)
			break;
	}
	return NULL;
}

enum kp_status
kp_new(const struct config *cfg, const char *holder, struct store_gate *gate,
    struct rl_runs *runs, void (*on_final)(void *), void *arg,
    struct keeper **out)
{
	struct keeper	*kp;
	sigset_t	 all, old;
	char		*dir, *slash;
	int		 rc;

	*out = NULL;
	if ((kp = calloc(1, sizeof(*kp))) == NULL)
		return KP_ERR_NOMEM;
	kp->cfg = cfg;
	kp->runs = runs;
	kp->gate = gate;
	snprintf(kp->holder, sizeof(kp->holder), "%s", holder);
	kp->on_final = on_final;
	kp->final_arg = arg;
	/* The sender signs; the keeper only makes the messages. */
	kp->have_key = cfg->webhook_url != NULL;
	/* The state directory of a fresh install: made on first use. */
	if ((dir = strdup(cfg->db)) != NULL &&
	    (slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			log_msg(LOG_WARN, NULL, "store: cannot make %s: %s",
			    dir, strerror(errno));
	}
	free(dir);
	pthread_mutex_init(&kp->mu, NULL);
	pthread_cond_init(&kp->cv, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&kp->thread, NULL, loop, kp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&kp->cv);
		pthread_mutex_destroy(&kp->mu);
		free(kp);
		return KP_ERR_THREAD;
	}
	*out = kp;
	return KP_OK;
}

void
kp_stop(struct keeper *kp)
{
	if (kp == NULL || kp->joined)
		return;
	pthread_mutex_lock(&kp->mu);
	kp->stopping = 1;
	pthread_cond_signal(&kp->cv);
	pthread_mutex_unlock(&kp->mu);
	pthread_join(kp->thread, NULL);
	kp->joined = 1;
}

void
kp_free(struct keeper *kp)
{
	struct kp_run		*r;
	struct kp_mirror	*m;

	if (kp == NULL)
		return;
	kp_stop(kp);
	while ((r = kp->list) != NULL) {
		kp->list = r->next;
		run_free(kp, r);
	}
	while ((r = kp->retry) != NULL) {
		kp->retry = r->qnext;
		run_free(kp, r);
	}
	while ((r = kp->queue) != NULL) {	/* tracked after the end */
		kp->queue = r->qnext;
		run_free(kp, r);
	}
	while ((m = kp->mirrors) != NULL) {
		kp->mirrors = m->next;
		rl_unref(m->log);
		free(m);
	}
	while ((m = kp->new_mirrors) != NULL) {
		kp->new_mirrors = m->next;
		rl_unref(m->log);
		free(m);
	}
	store_close(kp->st);
	pthread_cond_destroy(&kp->cv);
	pthread_mutex_destroy(&kp->mu);
	free(kp);
}

enum kp_status
kp_track(struct keeper *kp, struct runlog *log, const char *resume)
{
	struct kp_run *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (resume != NULL && (r->resume = strdup(resume)) == NULL)) {
		free(r);
		return KP_ERR_NOMEM;
	}
	r->kp = kp;
	r->log = rl_ref(log);
	r->watch.fn = hook;
	r->watch.arg = r;
	r->endw.fn = end_hook;
	r->endw.arg = r;
	r->endw.end_only = 1;
	r->born = clock_ms();
	/*
	 * The keeper makes its row once it is MJ_STORE_CREATE_AFTER_MS old
	 * or has ended, at its next wake (within MJ_STORE_FLUSH_MS), with
	 * those of every run due meanwhile; nobody waits for it (a thread
	 * per start would, in a burst).  A run that ended by then is stored
	 * whole and without its resume, which is kept only while a run
	 * runs.
	 */
	pthread_mutex_lock(&kp->mu);
	r->qnext = kp->queue;
	kp->queue = r;
	pthread_mutex_unlock(&kp->mu);
	return KP_OK;
}

void
kp_mirror(struct keeper *kp, struct runlog *log, uint64_t have)
{
	struct kp_mirror *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->log = rl_ref(log);
	m->have = have;
	pthread_mutex_lock(&kp->mu);
	m->next = kp->new_mirrors;
	kp->new_mirrors = m;
	pthread_cond_signal(&kp->cv);
	pthread_mutex_unlock(&kp->mu);
}

int
kp_degraded(struct keeper *kp, char *msg, size_t msgsz)
{
	int d;

	pthread_mutex_lock(&kp->mu);
	d = kp->degraded;
	if (msg != NULL && msgsz > 0)
		snprintf(msg, msgsz, "%s", kp->err);
	pthread_mutex_unlock(&kp->mu);
	return d;
}

const char *
kp_strerror(enum kp_status s)
{
	static const char *const msgs[KP__MAX] = {
		"ok",
		"out of memory",
		"the store failed",
		"the keeper thread could not start",
	};

	return (unsigned)s < KP__MAX ? msgs[s] : "unknown keeper status";
}
