/*
 * runlog.c - a run's numbered frames and the registry of this process's
 * runs.  See runlog.h for the contract.
 *
 * Frames live in individually allocated blocks (header and data in one
 * allocation) reached through a pointer array that grows by doubling;
 * readers copy the frame headers out under the mutex, and the blocks
 * never move, so what a reader got stays valid while it holds a
 * reference.  The registry is a chained hash table keyed by run id.
 *
 * The state, the stop request and the follower count are also atomics,
 * written under the mutex and read without it: the runner looks at
 * every run it holds ten times a second (stop? followed?), the writer
 * at a plain follower's state, and none of them needs the frames.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bounds.h"
#include "clock.h"
#include "runlog.h"

struct runlog {
	pthread_mutex_t	  mu;
	/* What the runner polls, in the mutex's cache line. */
	atomic_int	  stop;		/* rl_request_stop() called */
	atomic_int	  followers;	/* written under mu */
	pthread_cond_t	  cv;
	pthread_cond_t	  end_cv;	/* broadcast once: done appended */
	int		  refs;		/* under mu */
	char		  id[RL_ID_LEN + 1];
	struct rl_frame	**frames;	/* frames[i] has id i + 1 */
	size_t		  n, cap;
	size_t		  bytes;	/* data bytes held */
	_Atomic enum rl_state state;	/* written under mu */
	int		  closed;	/* done appended */
	long long	  ended_ms;	/* clock_ms() at done */
	int		  kept;		/* rl_set_kept() called */
	int		  claimed;	/* rl_set_claimed() called */
	char		 *user_id;	/* owned, set once (rl_set_info) */
	char		 *owner;	/* owned, set once */
	size_t		  total_jobs, done_jobs;
	int64_t		  created_ms, updated_ms;	/* wall clock */
	uint64_t	  result_id;
	void		(*hook)(void *);	/* set once (rl_set_hook) */
	void		 *hook_arg;
	struct rl_watch	 *watch;	/* under mu */
	struct runlog	 *next;		/* registry chain (under its mutex) */
};

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/* The same 64 characters in ASCII order: the time prefix sorts. */
static const char b64sorted[] =
    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

enum rl_status
rl_new_id(char out[RL_ID_LEN + 1])
{
	unsigned char	 r[RL_ID_BYTES];
	uint64_t	 ms = (uint64_t)clock_wall_ms();
	size_t		 got = 0, i, o = 0;
	ssize_t		 k;

	while (got < sizeof(r)) {
		k = getrandom(r + got, sizeof(r) - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return RL_ERR_RANDOM;
		}
		got += (size_t)k;
	}
	/* The time, 6 bits a character, most significant first. */
	for (i = 0; i < RL_ID_TIME; i++)
		out[o++] = b64sorted[ms >> (6 * (RL_ID_TIME - 1 - i)) & 63];
	/* 18 bytes are 6 groups of 3: 24 characters, no padding. */
	for (i = 0; i < sizeof(r); i += 3) {
		unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 |
		    r[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	explicit_bzero(r, sizeof(r));
	return RL_OK;
}

int
rl_id_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0' && i <= RL_ID_LEN; i++)
		if (strchr(b64url, s[i]) == NULL)
			return 0;
	return i == RL_ID_LEN || i == RL_ID_LEN_OLD;
}

enum rl_status
rl_new(const char *id, struct runlog **out)
{
	struct runlog	*l;

	*out = NULL;
	if (!rl_id_valid(id))
		return RL_ERR_ARG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return RL_ERR_NOMEM;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return RL_ERR_NOMEM;
	}
	if (pthread_cond_init(&l->cv, NULL) != 0) {
		pthread_mutex_destroy(&l->mu);
		free(l);
		return RL_ERR_NOMEM;
	}
	if (pthread_cond_init(&l->end_cv, NULL) != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return RL_ERR_NOMEM;
	}
	memcpy(l->id, id, RL_ID_LEN + 1);
	l->refs = 1;
	l->created_ms = l->updated_ms = clock_wall_ms();
	*out = l;
	return RL_OK;
}

struct runlog *
rl_ref(struct runlog *l)
{
	pthread_mutex_lock(&l->mu);
	l->refs++;
	pthread_mutex_unlock(&l->mu);
	return l;
}

void
rl_unref(struct runlog *l)
{
	size_t	 i;
	int	 last;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	last = --l->refs == 0;
	pthread_mutex_unlock(&l->mu);
	if (!last)
		return;
	for (i = 0; i < l->n; i++)
		free(l->frames[i]);
	free(l->frames);
	free(l->user_id);
	free(l->owner);
	pthread_cond_destroy(&l->cv);
	pthread_cond_destroy(&l->end_cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

const char *
rl_id(const struct runlog *l)
{
	return l->id;
}

enum rl_status
rl_append(struct runlog *l, const char *type, const char *data, size_t len,
    enum rl_state final, uint64_t *id)
{
	struct rl_frame	*f;
	struct rl_watch	*w;
	enum rl_status	 rc = RL_OK;

	if (type == NULL || *type == '\0' || data == NULL)
		return RL_ERR_ARG;
	pthread_mutex_lock(&l->mu);
	if (l->closed) {
		rc = RL_ERR_CLOSED;
		goto out;
	}
	/* Room is kept for done, so a full log can still be ended. */
	if (strcmp(type, "done") != 0 &&
	    (l->n + 1 >= MJ_RUNLOG_FRAMES_MAX ||
	    len > MJ_RUNLOG_BYTES_MAX - l->bytes)) {
		rc = RL_ERR_FULL;
		goto out;
	}
	if (l->n == l->cap) {
		size_t		  ncap = l->cap ? l->cap * 2 : 64;
		struct rl_frame	**nf;

		if ((nf = realloc(l->frames, ncap * sizeof(*nf))) == NULL) {
			rc = RL_ERR_NOMEM;
			goto out;
		}
		l->frames = nf;
		l->cap = ncap;
	}
	if ((f = malloc(sizeof(*f) + len + 1)) == NULL) {
		rc = RL_ERR_NOMEM;
		goto out;
	}
	memcpy((char *)(f + 1), data, len);
	((char *)(f + 1))[len] = '\0';
	f->id = (uint64_t)l->n + 1;
	f->type = type;
	f->data = (const char *)(f + 1);
	f->len = len;
	l->frames[l->n++] = f;
	l->bytes += len;
	l->updated_ms = clock_wall_ms();
	if (strcmp(type, "job_complete") == 0)
		l->done_jobs++;
	else if (strcmp(type, "complete") == 0 || strcmp(type, "error") == 0)
		l->result_id = f->id;
	if (strcmp(type, "done") == 0) {
		l->closed = 1;
		atomic_store(&l->state, final == RL_RUNNING ? RL_DONE : final);
		l->ended_ms = clock_ms();
		pthread_cond_broadcast(&l->end_cv);
	}
	if (id != NULL)
		*id = f->id;
	pthread_cond_broadcast(&l->cv);
	for (w = l->watch; w != NULL; w = w->next)
		if (!w->end_only || l->closed)
			w->fn(w->arg);
out:
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* Absolute CLOCK_REALTIME time wait_ms from now, for the condition. */
static void
deadline(struct timespec *ts, long wait_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += wait_ms / 1000;
	ts->tv_nsec += (wait_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void
rl_read(struct runlog *l, uint64_t after, struct rl_frame *out, size_t max,
    long wait_ms, size_t *n, int *closed)
{
	struct timespec	 ts;
	size_t		 k = 0;

	pthread_mutex_lock(&l->mu);
	if (after >= l->n && !l->closed && wait_ms != 0) {
		if (wait_ms > 0)
			deadline(&ts, wait_ms);
		while (after >= l->n && !l->closed)
			if (wait_ms < 0)
				pthread_cond_wait(&l->cv, &l->mu);
			else if (pthread_cond_timedwait(&l->cv, &l->mu,
			    &ts) != 0)
				break;
	}
	while (after + k < l->n && k < max) {
		out[k] = *l->frames[after + k];
		k++;
	}
	*n = k;
	*closed = l->closed && after + k >= l->n;
	pthread_mutex_unlock(&l->mu);
}

int
rl_wait_end(struct runlog *l, long wait_ms)
{
	struct timespec	 ts;
	int		 closed;

	pthread_mutex_lock(&l->mu);
	if (!l->closed && wait_ms != 0) {
		if (wait_ms > 0)
			deadline(&ts, wait_ms);
		while (!l->closed)
			if (wait_ms < 0)
				pthread_cond_wait(&l->end_cv, &l->mu);
			else if (pthread_cond_timedwait(&l->end_cv, &l->mu,
			    &ts) != 0)
				break;
	}
	closed = l->closed;
	pthread_mutex_unlock(&l->mu);
	return closed;
}

#define LOCKED_GET(l, expr) do {					\
	pthread_mutex_lock(&(l)->mu);					\
	v = (expr);							\
	pthread_mutex_unlock(&(l)->mu);					\
} while (0)

enum rl_state
rl_state(struct runlog *l)
{
	return atomic_load(&l->state);
}

uint64_t
rl_last_id(struct runlog *l)
{
	uint64_t	 v;

	LOCKED_GET(l, (uint64_t)l->n);
	return v;
}

int
rl_stop_requested(struct runlog *l)
{
	return atomic_load(&l->stop);
}

int
rl_followers(struct runlog *l)
{
	return atomic_load(&l->followers);
}

void
rl_request_stop(struct runlog *l)
{
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->stop, 1);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (l->hook != NULL)
		l->hook(l->hook_arg);
}

void
rl_set_hook(struct runlog *l, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&l->mu);
	l->hook = fn;
	l->hook_arg = arg;
	pthread_mutex_unlock(&l->mu);
}

void *
rl_hook_arg(struct runlog *l)
{
	void *arg;

	pthread_mutex_lock(&l->mu);
	arg = l->hook_arg;
	pthread_mutex_unlock(&l->mu);
	return arg;
}

enum rl_status
rl_set_info(struct runlog *l, const char *user_id, const char *owner,
    size_t total_jobs)
{
	char	*u, *o;

	u = strdup(user_id != NULL ? user_id : "");
	o = strdup(owner != NULL ? owner : "");
	if (u == NULL || o == NULL) {
		free(u);
		free(o);
		return RL_ERR_NOMEM;
	}
	pthread_mutex_lock(&l->mu);
	free(l->user_id);
	free(l->owner);
	l->user_id = u;
	l->owner = o;
	l->total_jobs = total_jobs;
	pthread_mutex_unlock(&l->mu);
	return RL_OK;
}

void
rl_info(struct runlog *l, struct rl_info *out)
{
	pthread_mutex_lock(&l->mu);
	out->user_id = l->user_id != NULL ? l->user_id : "";
	out->owner = l->owner != NULL ? l->owner : "";
	out->total_jobs = l->total_jobs;
	out->done_jobs = l->done_jobs;
	out->created_ms = l->created_ms;
	out->updated_ms = l->updated_ms;
	out->result_id = l->result_id;
	out->last_id = (uint64_t)l->n;
	out->state = atomic_load(&l->state);
	out->followers = atomic_load(&l->followers);
	out->stop = atomic_load(&l->stop);
	out->kept = l->kept;
	out->claimed = l->claimed;
	pthread_mutex_unlock(&l->mu);
}

int
rl_frame_get(struct runlog *l, uint64_t id, struct rl_frame *out)
{
	int	 rc = -1;

	pthread_mutex_lock(&l->mu);
	if (id >= 1 && id <= (uint64_t)l->n) {
		*out = *l->frames[id - 1];
		rc = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/*
 * The response of a complete frame without parsing it: the engine writes
 * it with json-c as {"type":"complete","response":R} (run_finish), so R
 * is what a parse and a new serialization of the response give.  Found
 * when the data is exactly that prefix, one object R and "}", R's
 * extent checked by its braces outside strings; anything else is left
 * to the parse (returns 0).
 */
int
rl_complete_response(const struct rl_frame *f, const char **r, size_t *rlen)
{
	static const char	 pre[] = "{\"type\":\"complete\","
				    "\"response\":";
	const char		*p;
	size_t			 n, i, depth;
	int			 in_str;

	if (strcmp(f->type, "complete") != 0 || f->len < sizeof(pre) + 2 ||
	    memcmp(f->data, pre, sizeof(pre) - 1) != 0 ||
	    f->data[f->len - 1] != '}')
		return 0;
	p = f->data + sizeof(pre) - 1;
	n = f->len - (sizeof(pre) - 1) - 1;
	if (p[0] != '{')
		return 0;
	depth = 0;
	in_str = 0;
	for (i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = 0;
			continue;
		}
		if (p[i] == '"')
			in_str = 1;
		else if (p[i] == '{' || p[i] == '[')
			depth++;
		else if ((p[i] == '}' || p[i] == ']') && --depth == 0)
			break;
	}
	if (in_str || i + 1 != n)
		return 0;
	*r = p;
	*rlen = n;
	return 1;
}

void
rl_set_kept(struct runlog *l)
{
	pthread_mutex_lock(&l->mu);
	l->kept = 1;
	pthread_mutex_unlock(&l->mu);
}

void
rl_set_claimed(struct runlog *l)
{
	pthread_mutex_lock(&l->mu);
	l->claimed = 1;
	pthread_mutex_unlock(&l->mu);
}

void
rl_watch(struct runlog *l, struct rl_watch *w)
{
	pthread_mutex_lock(&l->mu);
	w->next = l->watch;
	l->watch = w;
	pthread_mutex_unlock(&l->mu);
}

void
rl_unwatch(struct runlog *l, struct rl_watch *w)
{
	struct rl_watch	**pp;

	pthread_mutex_lock(&l->mu);
	for (pp = &l->watch; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&l->mu);
	w->next = NULL;
}

void
rl_follow(struct runlog *l)
{
	pthread_mutex_lock(&l->mu);
	atomic_fetch_add(&l->followers, 1);
	pthread_mutex_unlock(&l->mu);
}

void
rl_unfollow(struct runlog *l)
{
	int	 none;

	pthread_mutex_lock(&l->mu);
	if (atomic_load(&l->followers) > 0)
		atomic_fetch_sub(&l->followers, 1);
	/* An ended run has nothing left to detach: no one to wake. */
	none = atomic_load(&l->followers) == 0 && !l->closed;
	pthread_mutex_unlock(&l->mu);
	if (none && l->hook != NULL)
		l->hook(l->hook_arg);
}

const char *
rl_state_name(enum rl_state s)
{
	static const char *const names[RL_STATE__MAX] = {
		"running", "done", "failed", "cancelled", "interrupted",
	};

	return (unsigned)s < RL_STATE__MAX ? names[s] : "unknown";
}

const char *
rl_strerror(enum rl_status s)
{
	static const char *const msgs[RL__MAX] = {
		"ok",
		"the run has ended",
		"the run's log is full",
		"bad argument",
		"out of memory",
		"no random bytes",
		"the run id is taken",
	};

	return (unsigned)s < RL__MAX ? msgs[s] : "unknown error";
}

/* ---- the registry ---- */

#define RUNS_BUCKETS	1024	/* a power of two; chains stay short */

struct rl_runs {
	pthread_mutex_t	  mu;
	struct runlog	 *bucket[RUNS_BUCKETS];
	size_t		  n;
	long		  grace_ms;
	int64_t		  swept_ms;	/* the last walk, or 0 */
	size_t		  kept_max;	/* MJ_RUNS_KEPT_BYTES unless set */
};

/* rl_runs_sweep() walks every run at most this often. */
#define RUNS_SWEEP_MS	1000

static size_t
bucket_of(const char *id)
{
	size_t	 h = 5381, i;

	/* The ids are random: any mix of their bytes spreads them. */
	for (i = 0; i < RL_ID_LEN; i++)
		h = h * 33 + (unsigned char)id[i];
	return h & (RUNS_BUCKETS - 1);
}

enum rl_status
rl_runs_new(long grace_ms, struct rl_runs **out)
{
	struct rl_runs	*r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return RL_ERR_NOMEM;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return RL_ERR_NOMEM;
	}
	r->grace_ms = grace_ms;
	r->kept_max = MJ_RUNS_KEPT_BYTES;
	*out = r;
	return RL_OK;
}

void
rl_runs_set_budget(struct rl_runs *r, size_t kept_max)
{
	pthread_mutex_lock(&r->mu);
	r->kept_max = kept_max;
	pthread_mutex_unlock(&r->mu);
}

void
rl_runs_free(struct rl_runs *r)
{
	struct runlog	*l, *next;
	size_t		 b;

	if (r == NULL)
		return;
	for (b = 0; b < RUNS_BUCKETS; b++)
		for (l = r->bucket[b]; l != NULL; l = next) {
			next = l->next;
			rl_unref(l);
		}
	pthread_mutex_destroy(&r->mu);
	free(r);
}

enum rl_status
rl_runs_add(struct rl_runs *r, struct runlog *l)
{
	struct runlog	*p;
	size_t		 b = bucket_of(l->id);
	enum rl_status	 rc = RL_OK;

	pthread_mutex_lock(&r->mu);
	for (p = r->bucket[b]; p != NULL; p = p->next)
		if (strcmp(p->id, l->id) == 0) {
			rc = RL_ERR_EXISTS;
			goto out;
		}
	l->next = r->bucket[b];
	r->bucket[b] = rl_ref(l);
	r->n++;
out:
	pthread_mutex_unlock(&r->mu);
	return rc;
}

struct runlog *
rl_runs_get(struct rl_runs *r, const char *id)
{
	struct runlog	*p;

	if (!rl_id_valid(id))
		return NULL;
	pthread_mutex_lock(&r->mu);
	for (p = r->bucket[bucket_of(id)]; p != NULL; p = p->next)
		if (strcmp(p->id, id) == 0) {
			rl_ref(p);
			break;
		}
	pthread_mutex_unlock(&r->mu);
	return p;
}

int
rl_runs_remove(struct rl_runs *r, const char *id)
{
	struct runlog	**pp, *p = NULL;

	if (!rl_id_valid(id))
		return 0;
	pthread_mutex_lock(&r->mu);
	for (pp = &r->bucket[bucket_of(id)]; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0) {
			p = *pp;
			*pp = p->next;
			r->n--;
			break;
		}
	pthread_mutex_unlock(&r->mu);
	rl_unref(p);
	return p != NULL;
}

size_t
rl_runs_sweep(struct rl_runs *r, int64_t now_ms)
{
	struct runlog	**pp, *p, *gone = NULL;
	size_t		 b, k = 0, kept;
	int		 pass, drop;

	pthread_mutex_lock(&r->mu);
	/* A walk over every run: at most once a second. */
	if (r->swept_ms != 0 && now_ms - r->swept_ms < RUNS_SWEEP_MS &&
	    now_ms >= r->swept_ms) {
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	r->swept_ms = now_ms;
	/*
	 * Pass 0 forgets the runs that ended more than grace_ms ago; pass 1,
	 * only while the ended runs still hold more than MJ_RUNS_KEPT_BYTES,
	 * forgets ended runs until they don't (memory stays bounded when
	 * many runs end within one grace period).
	 */
	kept = 0;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && kept <= r->kept_max)
			break;
		for (b = 0; b < RUNS_BUCKETS; b++)
			for (pp = &r->bucket[b]; (p = *pp) != NULL; ) {
				pthread_mutex_lock(&p->mu);
				drop = p->closed && (pass == 1 ||
				    now_ms - p->ended_ms >= r->grace_ms);
				if (pass == 0 && p->closed && !drop)
					kept += p->bytes;
				if (pass == 1 && drop)
					kept -= p->bytes < kept ? p->bytes :
					    kept;
				pthread_mutex_unlock(&p->mu);
				if (!drop) {
					pp = &p->next;
					continue;
				}
				*pp = p->next;
				p->next = gone;
				gone = p;
				r->n--;
				k++;
				if (pass == 1 && kept <= r->kept_max)
					goto out;
			}
	}
out:
	pthread_mutex_unlock(&r->mu);
	/* Frees outside the registry's lock. */
	while ((p = gone) != NULL) {
		gone = p->next;
		rl_unref(p);
	}
	return k;
}

size_t
rl_runs_count(struct rl_runs *r)
{
	size_t	 n;

	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}
