/*
 * engine.c - scoring the jobs of every run; see engine.h.
 *
 * Three things, each with one owner:
 *  - a run (struct run): its input, its log reference, its jobs and the
 *    results so far; owned by the engine's list until it ends, then
 *    freed at the end of the turn (the "reap" list), so that pointers
 *    held during a turn stay valid;
 *  - a job: one element of its run's array, waiting, calling (it is a
 *    subscriber of one call) or done;
 *  - a call (struct call): one model call and its retries, owned by the
 *    engine's list and hash table, with its subscribers: the job that
 *    made it and every identical job that joined it while it was in
 *    flight.  Tokens go to every subscriber; the first subscriber when
 *    the call ends pays for it (its usage), the others are "cached".  A
 *    call nobody subscribes to any more is aborted at once.
 *
 * The answer cache (SPEC "Cache"), when the lane gave us its store
 * connection (eng_set_store): before a job makes or joins a call, its
 * key (up_cache_key) is looked up; a hit streams the stored answer as
 * tokens and ends the job "cached" without a call.  A call whose answer
 * parsed puts the answer text under its key.  Cache-Control: no-cache
 * skips the lookup, not the put.  A store that fails costs the cache,
 * never the job: the job is scored as if there were none, and the
 * failure is logged at most once every MJ_STORE_LOG_MS.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "answer.h"
#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "engine.h"
#include "local.h"
#include "log.h"
#include "request.h"
#include "runlog.h"
#include "runner.h"
#include "store.h"
#include "upstream.h"
#include "utf8.h"

#define LOCAL_MODEL	"local-lexical-1"
/* Deadlines, retries, cancels and detach are looked at this often. */
#define HOUSE_MS	100
/* Buckets of the table of calls in flight (dedup). */
#define CALL_BUCKETS	1024
/* A cached answer streams as tokens of about this many bytes. */
#define CACHE_TOKEN	64

enum job_state {
	JOB_WAITING = 0,	/* not started */
	JOB_CALLING,		/* subscribed to a call */
	JOB_DONE,
	JOB__MAX
};

struct run;
struct call;

/* A cache write the store was too busy for; tried again later. */
struct put {
	unsigned char	 key[UP_KEY_LEN];
	char		*text;
	size_t		 len;
	struct put	*next;
};

struct job {
	struct run	*run;
	size_t		 index;
	enum job_state	 state;
	struct call	*call;		/* JOB_CALLING: the call it follows */
	int		 cached;	/* answered by a call it didn't pay */
};

struct run {
	struct engine		*eng;
	struct runlog		*log;		/* a reference of ours */
	struct run_input	 in;		/* owned */
	struct job		*jobs;		/* owned, in.req.njobs */
	json_object		*matched;	/* owned array of results */
	json_object		*errors;	/* owned array */
	size_t			 next;		/* next job to start */
	size_t			 running;	/* jobs calling */
	size_t			 done;
	size_t			 timeouts;	/* failed jobs that timed out */
	size_t			 cached;	/* jobs answered "cached" */
	long			 prompt_tokens;
	long			 completion_tokens;
	size_t			 estimated;	/* jobs whose usage the server
						   did not send (estimated) */
	long long		 orphan_since;	/* clock_ms when the last
						   follower left, or 0 */
	int			 ended;		/* done appended */
	int			 broken;	/* an append failed */
	struct run		*prev, *next_run; /* e->runs or e->reap */
};

struct call {
	struct up_transfer	*t;		/* owned; NULL between tries */
	uint64_t		 hash;
	struct job		**subs;		/* owned array */
	size_t			 nsubs, cap;
	int			 attempts;	/* model calls made */
	long long		 first_call;	/* clock_ms of the first */
	long long		 retry_at;	/* t == NULL: when to call again */
	unsigned char		 key[UP_KEY_LEN]; /* its cache key, if keyed */
	int			 keyed;		/* put the answer under key */
	enum cfg_format		 key_fmt;	/* the format key was made
						   with (up_format_guess) */
	enum cfg_format		 fmt;		/* the format its transfer
						   asked for */
	int			 probe;		/* it probes its server's
						   formats (up_format_pick) */
	int			 fmt_wait;	/* t == NULL: waits for a probe
						   (or, refused, to ask again) */
	int			 claimed;	/* ours in the store's claims:
						   released when it ends */
	long long		 claim_since;	/* clock_ms its claim waits
						   since (0: none; store_turn
						   writes it once due) */
	int			 claim_new;	/* store_turn: written in this
						   turn's batch */
	/* remote: the identical call of another process, followed through
	 * the store (its run rrun's frames for job rjob) */
	int			 remote;
	char			 rrun[MJ_STORE_ID_MAX + 1];
	size_t			 rjob;
	uint64_t		 rafter;	/* its frames read so far */
	struct buf		 rtext;		/* its tokens so far */
	int			 rstate;	/* 0 going, 1 answered, -1 lost */
	long long		 rsince;	/* clock_ms it began to follow */
	struct call		*hnext;		/* bucket chain */
	struct call		*prev, *next;	/* e->calls */
};

struct engine {
	const struct config	*cfg;
	struct up_formats	*formats;	/* borrowed: the runner's, what
						   each server accepted */
	struct call		*prober;	/* our call that probes, or
						   NULL */
	int			 fmt_kick;	/* start the calls that wait
						   for a format, this turn */
	size_t			 claims_due;	/* calls whose claim waits to be
						   written (claim_since) */
	long long		 claim_next;	/* clock_ms the first of them
						   is due, at the soonest */
	struct up_pool		*pool;		/* owned */
	struct up_params	*params;	/* owned: cfg's request
						   parameters, serialized */
	struct run		*runs;		/* running */
	struct run		*reap;		/* ended this turn */
	size_t			 nruns;
	struct call		*calls;
	struct call		*table[CALL_BUCKETS];
	atomic_int		 poke;		/* eng_wake() was called */
	long long		 last_house;
	unsigned int		 seed;		/* backoff jitter */
	struct buf		 scratch;	/* one token frame */
	struct store		*store;		/* borrowed: the lane's; NULL:
						   no cache */
	long long		 store_warned;	/* clock_ms of the last store
						   warning, or 0 */
	struct put		*puts;		/* cache answers to write */
	size_t			 nputs;
	struct put		*rels;		/* claims to release (keys
						   only, text NULL) */
	size_t			 nrels;
	unsigned long		 store_quiet;	/* failures not logged since */
};

static void	run_stop(struct run *, const char *code, const char *msg,
		    enum rl_state);

/* ---- frames ---- */

/* Append a frame of type (a constant) with data; takes data. */
static void
emit(struct run *r, const char *type, json_object *data)
{
	const char	*s;

	s = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || rl_append(r->log, type, s, strlen(s), RL_RUNNING,
	    NULL) != RL_OK)
		r->broken = 1;
	json_object_put(data);
}

static json_object *
event_new(const char *type)
{
	json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(type));
	return o;
}

static void
status_event(struct run *r, const char *stage, const char *message,
    long index)
{
	json_object *ev;

	ev = event_new("status");
	json_object_object_add(ev, "stage", json_object_new_string(stage));
	json_object_object_add(ev, "message", json_object_new_string(message));
	if (index >= 0)
		json_object_object_add(ev, "index",
		    json_object_new_int64(index));
	emit(r, "status", ev);
}

/*
 * A frame {"type":type,"index":index,"content":s} of type, a constant:
 * "token" or "reasoning".
 */
static void
text_event(struct run *r, const char *type, size_t index, const char *s,
    size_t n)
{
	static const char	 mid[] = ",\"content\":\"";
	struct buf		*b = &r->eng->scratch;
	char			 num[24];
	size_t			 k = sizeof(num);

	/* Every token of every run passes here: no printf. */
	do
		num[--k] = (char)('0' + index % 10);
	while ((index /= 10) > 0);
	buf_reset(b);
	if (buf_adds(b, "{\"type\":\"") != BUF_OK ||
	    buf_adds(b, type) != BUF_OK ||
	    buf_adds(b, "\",\"index\":") != BUF_OK ||
	    buf_add(b, num + k, sizeof(num) - k) != BUF_OK ||
	    buf_add(b, mid, sizeof(mid) - 1) != BUF_OK ||
	    buf_add_json_str(b, s, n) != BUF_OK ||
	    buf_adds(b, "\"}") != BUF_OK ||
	    rl_append(r->log, type, b->data, b->len, RL_RUNNING, NULL) !=
	    RL_OK)
		r->broken = 1;
}

static void
token_event(struct run *r, size_t index, const char *s, size_t n)
{
	text_event(r, "token", index, s, n);
}

/* ---- results ---- */

static const char *const result_keys[] = {
	"index", "jobtitle", "joblink", "jobdata", "score", "summary",
	"matched_skills", "missing_skills", "error", "cached", NULL
};

/* Copy the job's passthrough fields into a result object. */
static void
add_passthrough(json_object *res, const struct req_job *rj)
{
	const char	*const *k;

	json_object_object_foreach(rj->obj, key, val) {
		for (k = result_keys; *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				break;
		if (*k == NULL)
			json_object_object_add(res, key,
			    json_object_get(val));
	}
}

static void
job_start(struct run *r, struct job *j)
{
	json_object *ev;

	ev = event_new("job_start");
	json_object_object_add(ev, "index",
	    json_object_new_int64((int64_t)j->index));
	json_object_object_add(ev, "total",
	    json_object_new_int64((int64_t)r->in.req.njobs));
	json_object_object_add(ev, "jobtitle",
	    json_object_new_string(r->in.req.jobs[j->index].title));
	emit(r, "job_start", ev);
}

/* A job ended: emit job_complete with a result or an error. */
static void
job_end(struct job *j, const struct answer *a, const char *code,
    const char *message, int timed_out)
{
	struct run		*r = j->run;
	const struct req_job	*rj = &r->in.req.jobs[j->index];
	json_object		*res, *err, *ev;

	res = json_object_new_object();
	json_object_object_add(res, "index",
	    json_object_new_int64((int64_t)j->index));
	json_object_object_add(res, "jobtitle",
	    json_object_new_string(rj->title));
	if (a != NULL) {
		json_object_object_add(res, "joblink",
		    json_object_new_string(rj->link));
		json_object_object_add(res, "score",
		    json_object_new_int(a->score));
		json_object_object_add(res, "summary",
		    json_object_new_string(a->summary));
		json_object_object_add(res, "matched_skills",
		    json_object_get(a->matched_skills));
		json_object_object_add(res, "missing_skills",
		    json_object_get(a->missing_skills));
		json_object_object_add(res, "cached",
		    json_object_new_boolean(j->cached));
		if (j->cached)
			r->cached++;
		add_passthrough(res, rj);
		json_object_array_add(r->matched, json_object_get(res));
	} else {
		err = json_object_new_object();
		json_object_object_add(err, "code",
		    json_object_new_string(code));
		json_object_object_add(err, "message",
		    json_object_new_string(message));
		json_object_object_add(res, "error", err);
		add_passthrough(res, rj);
		json_object_array_add(r->errors, json_object_get(res));
		if (timed_out)
			r->timeouts++;
		log_msg(LOG_WARN, r->in.reqid, "job %zu failed: %s", j->index,
		    code);
	}
	ev = event_new("job_complete");
	json_object_object_add(ev, "index",
	    json_object_new_int64((int64_t)j->index));
	json_object_object_add(ev, "result", res);
	emit(r, "job_complete", ev);
	if (j->state == JOB_CALLING)
		r->running--;
	j->state = JOB_DONE;
	j->call = NULL;
	r->done++;
}

/* Parse a finished answer text and end the job with it; 1 if it parsed. */
static int
job_answer(struct job *j, const char *text, size_t len)
{
	struct answer	 a;
	enum ans_status	 st;
	char		 msg[MJ_ERRMSG_MAX];

	memset(&a, 0, sizeof(a));
	st = ans_parse(text, len, &a);
	if (st == ANS_OK) {
		job_end(j, &a, NULL, NULL, 0);
	} else {
		snprintf(msg, sizeof(msg), "the model's answer could not be "
		    "used: %s", ans_strerror(st));
		job_end(j, NULL, "bad_answer", msg, 0);
	}
	answer_free(&a);
	return st == ANS_OK;
}

static int
by_score(const void *a, const void *b)
{
	json_object	*x = *(json_object *const *)a;
	json_object	*y = *(json_object *const *)b;
	json_object	*v;
	int		 sx, sy, ix, iy;

	sx = json_object_object_get_ex(x, "score", &v) ?
	    json_object_get_int(v) : 0;
	sy = json_object_object_get_ex(y, "score", &v) ?
	    json_object_get_int(v) : 0;
	if (sx != sy)
		return sy - sx;
	ix = json_object_object_get_ex(x, "index", &v) ?
	    json_object_get_int(v) : 0;
	iy = json_object_object_get_ex(y, "index", &v) ?
	    json_object_get_int(v) : 0;
	return ix - iy;
}

static json_object *
response_new(struct run *r)
{
	const struct config	*cfg = r->eng->cfg;
	json_object		*o, *u, *w, *x;
	size_t			 i;

	json_object_array_sort(r->matched, by_score);
	json_object_array_sort(r->errors, by_score);
	o = json_object_new_object();
	json_object_object_add(o, "user_id",
	    json_object_new_string(r->in.req.user_id));
	json_object_object_add(o, "engine", json_object_new_string(
	    cfg->local ? "local" : "openai"));
	json_object_object_add(o, "model", json_object_new_string(
	    cfg->local ? LOCAL_MODEL : cfg->model));
	json_object_object_add(o, "total_jobs",
	    json_object_new_int64((int64_t)r->in.req.njobs));
	json_object_object_add(o, "scored_jobs", json_object_new_int64(
	    (int64_t)json_object_array_length(r->matched)));
	json_object_object_add(o, "failed_jobs", json_object_new_int64(
	    (int64_t)json_object_array_length(r->errors)));
	json_object_object_add(o, "matched_jobs",
	    json_object_get(r->matched));
	json_object_object_add(o, "errors", json_object_get(r->errors));
	u = json_object_new_object();
	json_object_object_add(u, "prompt_tokens",
	    json_object_new_int64(r->prompt_tokens));
	json_object_object_add(u, "completion_tokens",
	    json_object_new_int64(r->completion_tokens));
	json_object_object_add(u, "cost_usd", json_object_new_double(
	    ((double)r->prompt_tokens * cfg->price_in +
	    (double)r->completion_tokens * cfg->price_out) / 1e6));
	/* Said only when some counts are estimates (docs/vendors.md). */
	if (r->estimated > 0)
		json_object_object_add(u, "estimated_jobs",
		    json_object_new_int64((int64_t)r->estimated));
	json_object_object_add(o, "usage", u);
	json_object_object_add(o, "elapsed_ms",
	    json_object_new_int64(clock_ms() - r->in.started_ms));
	json_object_object_add(o, "run_id",
	    json_object_new_string(rl_id(r->log)));
	json_object_object_add(o, "cached_jobs",
	    json_object_new_int64((int64_t)r->cached));
	w = json_object_new_array();
	for (i = 0; i < r->in.nwarnings && i < MJ_RUN_WARNINGS_MAX; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "code", json_object_new_string(
		    r->in.warnings[i].code));
		json_object_object_add(x, "message", json_object_new_string(
		    r->in.warnings[i].message));
		json_object_array_add(w, x);
	}
	json_object_object_add(o, "warnings", w);
	return o;
}

/* Append done with the run's final state, and hand the run to reap. */
static void
run_close(struct run *r, enum rl_state state)
{
	static const char done[] = "{\"type\":\"done\"}";
	struct engine	*e = r->eng;

	/* done always fits in the log (runlog.h). */
	if (rl_append(r->log, "done", done, sizeof(done) - 1, state, NULL) !=
	    RL_OK)
		log_msg(LOG_ERROR, r->in.reqid, "run %s: done not appended",
		    rl_id(r->log));
	r->ended = 1;
	/* Unlink from e->runs, onto e->reap. */
	if (r->prev != NULL)
		r->prev->next_run = r->next_run;
	else
		e->runs = r->next_run;
	if (r->next_run != NULL)
		r->next_run->prev = r->prev;
	r->prev = NULL;
	r->next_run = e->reap;
	e->reap = r;
	e->nruns--;
}

/* Every job is done: complete, or error when none could be scored. */
static void
run_finish(struct run *r)
{
	json_object	*resp, *ev;
	size_t		 failed;
	char		 msg[160];

	resp = response_new(r);
	failed = json_object_array_length(r->errors);
	if (failed > 0 && failed == r->in.req.njobs) {
		ev = event_new("error");
		json_object_object_add(ev, "code", json_object_new_string(
		    r->timeouts == failed ? "upstream_timeout" :
		    "upstream_failed"));
		snprintf(msg, sizeof(msg), "no job could be scored: %s",
		    r->timeouts == failed ? "the model timed out" :
		    "the model calls failed (see response.errors)");
		json_object_object_add(ev, "message",
		    json_object_new_string(msg));
		json_object_object_add(ev, "response", resp);
		emit(r, "error", ev);
		run_close(r, RL_FAILED);
	} else {
		/*
		 * json-c writes it {"type":"complete","response":R}: the
		 * plain route and the keeper take R as it is
		 * (runlog.c rl_complete_response).
		 */
		ev = event_new("complete");
		json_object_object_add(ev, "response", resp);
		emit(r, "complete", ev);
		run_close(r, RL_DONE);
	}
}

static void
run_check(struct run *r)
{
	if (!r->ended && r->done >= r->in.req.njobs)
		run_finish(r);
}

static void
run_free(struct run *r)
{
	if (r == NULL)
		return;
	rl_unref(r->log);
	req_free(&r->in.req);
	free(r->in.resume);
	free(r->in.warnings);
	free(r->jobs);
	if (r->matched != NULL)
		json_object_put(r->matched);
	if (r->errors != NULL)
		json_object_put(r->errors);
	free(r);
}

/* ---- calls ---- */

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	/* The length too, so fields can't slide into each other. */
	for (i = 0; i < sizeof(n); i++) {
		h ^= (n >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The hash of what job j puts in its prompt. */
static uint64_t
job_hash(const struct job *j)
{
	const struct run	*r = j->run;
	const struct req_job	*rj = &r->in.req.jobs[j->index];
	uint64_t		 h = 14695981039346656037ULL;

	h = fnv(h, r->in.resume, r->in.resume_len);
	h = fnv(h, rj->title, strlen(rj->title));
	h = fnv(h, rj->link, strlen(rj->link));
	return fnv(h, rj->data, rj->data_len);
}

/* Do a and b put the same bytes in their prompts? */
static int
job_same(const struct job *a, const struct job *b)
{
	const struct req_job	*x = &a->run->in.req.jobs[a->index];
	const struct req_job	*y = &b->run->in.req.jobs[b->index];

	return a->run->in.resume_len == b->run->in.resume_len &&
	    memcmp(a->run->in.resume, b->run->in.resume,
	    a->run->in.resume_len) == 0 &&
	    strcmp(x->title, y->title) == 0 &&
	    strcmp(x->link, y->link) == 0 && x->data_len == y->data_len &&
	    memcmp(x->data, y->data, x->data_len) == 0;
}

static int
call_subscribe(struct call *c, struct job *j)
{
	struct job	**ns;
	size_t		  ncap;

	if (c->nsubs == c->cap) {
		ncap = c->cap ? c->cap * 2 : 2;
		if ((ns = realloc(c->subs, ncap * sizeof(*ns))) == NULL)
			return -1;
		c->subs = ns;
		c->cap = ncap;
	}
	c->subs[c->nsubs++] = j;
	j->call = c;
	j->state = JOB_CALLING;
	j->run->running++;
	return 0;
}

/* Take c out of the table and the list (no new subscriber can join). */
static void
call_unlink(struct engine *e, struct call *c)
{
	struct call	**p;

	for (p = &e->table[c->hash % CALL_BUCKETS]; *p != NULL;
	    p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/*
 * c's probe ends: its server accepted c->fmt (1), refused it (0), or
 * said nothing of it (-1).  The calls of this lane that wait for it
 * are started this turn (other lanes' look again at their next turn).
 */
static void
probe_end(struct engine *e, struct call *c, int accepted)
{
	if (accepted >= 0)
		up_format_learn(e->formats, e->cfg, c->fmt, accepted);
	else if (c->probe)
		up_format_release(e->formats, e->cfg);
	c->probe = 0;
	if (e->prober == c)
		e->prober = NULL;
	e->fmt_kick = 1;
}

/* When c's claim (claim_since != 0) is due to be written. */
static long long
claim_due_at(const struct call *c)
{
	return c->claim_since + MJ_CLAIM_AFTER_MS;
}

/* c's claim waits no more: written, dropped, or c has ended. */
static void
claim_drop(struct engine *e, struct call *c)
{
	c->claim_since = 0;
	e->claims_due--;
}

/*
 * Release the claim of key at the end of this turn (store_turn).  When
 * too many wait, it is left to the keeper, which drops a run's claims
 * when it stores the run's end.
 */
static void
rel_add(struct engine *e, const unsigned char *key)
{
	struct put	*p;

	if (e->nrels >= MJ_CACHE_PUTS_PENDING ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return;
	memcpy(p->key, key, sizeof(p->key));
	p->next = e->rels;
	e->rels = p;
	e->nrels++;
}

static void
call_free(struct engine *e, struct call *c)
{
	if (c->probe)
		probe_end(e, c, -1);
	if (c->claim_since != 0)
		claim_drop(e, c);
	if (c->t != NULL) {
		up_pool_abort(e->pool, c->t);
		up_free(c->t);
	}
	if (c->claimed && e->store != NULL)
		rel_add(e, c->key);
	buf_free(&c->rtext);
	free(c->subs);
	free(c);
}

static int
on_token(void *arg, const char *s, size_t n)
{
	struct call	*c = arg;
	size_t		 i;

	for (i = 0; i < c->nsubs; i++)
		token_event(c->subs[i]->run, c->subs[i]->index, s, n);
	return 0;
}

/* Reasoning text, with MATCHJOBS_STREAM_REASONING=1: to every subscriber. */
static int
on_reasoning(void *arg, const char *s, size_t n)
{
	struct call	*c = arg;
	size_t		 i;

	for (i = 0; i < c->nsubs; i++)
		text_event(c->subs[i]->run, "reasoning", c->subs[i]->index,
		    s, n);
	return 0;
}

/* Every subscriber of c ends with code (c is being ended). */
static void
subs_fail(struct call *c, const char *code, const char *msg, int timed_out)
{
	size_t	 i;

	for (i = 0; i < c->nsubs; i++)
		job_end(c->subs[i], NULL, code, msg, timed_out);
}

static void	call_end(struct engine *, struct call *,
		    const struct up_result *);
static void	fill(struct run *);

/* Make (or make again) the model call of c, for its first subscriber. */
static void
call_start(struct engine *e, struct call *c)
{
	struct job	*j = c->subs[0];
	struct buf	 body;
	long long	 now;
	enum up_pick	 pick;
	int		 rc;

	/*
	 * The format to ask for: while another call finds out what this
	 * server accepts, wait for it (housekeeping calls again).
	 */
	now = clock_ms();
	if (!c->probe) {
		pick = up_format_pick(e->formats, e->cfg, now, &c->fmt);
		if (pick == UP_PICK_WAIT) {
			c->retry_at = now + MJ_FORMAT_WAIT_MS;
			c->fmt_wait = 1;
			return;
		}
		c->probe = pick == UP_PICK_PROBE;
		if (c->probe)
			e->prober = c;
	}
	c->fmt_wait = 0;
	if (c->attempts++ == 0)
		c->first_call = now;
	buf_init(&body, MJ_PROMPT_RESUME_MAX + MJ_PROMPT_JOBDATA_MAX + 65536);
	rc = up_build_body(e->params, c->fmt, j->run->in.resume,
	    j->run->in.resume_len, &j->run->in.req.jobs[j->index], &body);
	if (rc == 0)
		rc = up_new(&c->t, e->cfg, e->pool, body.data, body.len,
		    on_token, c);
	if (rc == 0 && e->cfg->stream_reasoning)
		up_set_reasoning(c->t, on_reasoning);
	buf_free(&body);
	if (rc == 0 && up_pool_add(e->pool, c->t, c) != 0) {
		up_free(c->t);
		rc = -1;
	}
	if (rc != 0) {
		struct up_result r;

		c->t = NULL;
		memset(&r, 0, sizeof(r));
		r.status = UP_ERR_NOMEM;
		r.code = "internal";
		snprintf(r.message, sizeof(r.message), "could not start the "
		    "model call");
		call_end(e, c, &r);
	}
}

/* ---- the answer cache ---- */

static int
cache_on(const struct engine *e)
{
	return e->store != NULL && e->cfg->store_on && e->cfg->cache_ttl_s > 0;
}

/* A store call failed: say so, at most once every MJ_STORE_LOG_MS. */
static void
store_warn(struct engine *e, const char *reqid, const char *what,
    enum store_status st)
{
	long long	 now = clock_ms();

	if (e->store_warned != 0 && now - e->store_warned < MJ_STORE_LOG_MS) {
		e->store_quiet++;
		return;
	}
	log_msg(LOG_WARN, reqid, "cache %s failed: %s (%s); scoring without "
	    "the cache (%lu more failures not logged)", what,
	    store_strerror(st), store_errmsg(e->store), e->store_quiet);
	e->store_warned = now;
	e->store_quiet = 0;
}

/*
 * An answer this lane keeps for a later write under key (the store was
 * busy when it came): a copy into *text, *len.  STORE_ERR_NOTFOUND if
 * none, STORE_ERR_NOMEM.  A request repeated as soon as the first was
 * answered lands in this lane (runs go to the lane their resume hashes
 * to) and finds its answers here.
 */
static enum store_status
puts_find(const struct engine *e, const unsigned char *key, char **text,
    size_t *len)
{
	const struct put *p;

	for (p = e->puts; p != NULL; p = p->next)
		if (memcmp(p->key, key, UP_KEY_LEN) == 0) {
			if ((*text = malloc(p->len + 1)) == NULL)
				return STORE_ERR_NOMEM;
			memcpy(*text, p->text, p->len + 1);
			*len = p->len;
			return STORE_OK;
		}
	return STORE_ERR_NOTFOUND;
}

/*
 * Look job j up under key (this lane's unwritten answers first): on a hit, stream the stored answer as tokens
 * (cut between characters, about CACHE_TOKEN bytes each), end the job
 * "cached" and return 1.  A miss, a store failure or a stored answer
 * that no longer parses returns 0 (the job is scored; its answer will
 * replace the entry).
 */
static int
cache_hit(struct engine *e, struct job *j, const unsigned char *key)
{
	struct run		*r = j->run;
	struct answer		 a;
	enum store_status	 st;
	char			*text;
	size_t			 len, i, k;
	int			 hit = 0;

	st = puts_find(e, key, &text, &len);
	if (st == STORE_ERR_NOTFOUND)
		st = store_cache_get(e->store, key, UP_KEY_LEN, clock_wall_ms(),
		    &text, &len);
	if (st != STORE_OK) {
		if (st != STORE_ERR_NOTFOUND)
			store_warn(e, r->in.reqid, "lookup", st);
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if (ans_parse(text, len, &a) == ANS_OK) {
		for (i = 0; i < len; i = k) {
			k = len - i > CACHE_TOKEN ?
			    i + utf8_cut(text + i, CACHE_TOKEN) : len;
			if (k == i)	/* not UTF-8 there: cut anyway */
				k = i + CACHE_TOKEN;
			token_event(r, j->index, text + i, k - i);
		}
		j->cached = 1;
		job_end(j, &a, NULL, NULL, 0);
		hit = 1;
	}
	answer_free(&a);
	free(text);
	return hit;
}

/* Keep call c's answer text[0..len) under its key (best effort). */
static void
cache_put(struct engine *e, struct call *c, const char *reqid,
    const char *text, size_t len)
{
	struct put	*p;
	struct job	*j;
	unsigned char	 key[UP_KEY_LEN];

	if (!c->keyed || !cache_on(e) || c->nsubs == 0)
		return;
	/*
	 * The key names the format asked for: a call that fell back (or
	 * whose server was learnt meanwhile) got its answer with another
	 * than its key was made with.  c->key stays the claim's.
	 */
	memcpy(key, c->key, sizeof(key));
	j = c->subs[0];
	if (c->fmt != c->key_fmt && up_cache_key(e->params, c->fmt,
	    j->run->in.resume, j->run->in.resume_len,
	    &j->run->in.req.jobs[j->index], key) != 0)
		return;
	/*
	 * Written at the end of the turn with the turn's other answers
	 * (store_turn), or later if the store is busy: cache_hit() finds
	 * it here meanwhile.
	 */
	if (e->nputs >= MJ_CACHE_PUTS_PENDING) {
		store_warn(e, reqid, "write", STORE_ERR_BUSY);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->text = malloc(len + 1)) == NULL) {
		free(p);
		return;
	}
	memcpy(p->key, key, sizeof(p->key));
	memcpy(p->text, text, len);
	p->text[len] = '\0';
	p->len = len;
	p->next = e->puts;
	e->puts = p;
	e->nputs++;
}

/* Free the list *l of n entries. */
static void
puts_free(struct put **l, size_t *n)
{
	struct put	*p;

	while ((p = *l) != NULL) {
		*l = p->next;
		free(p->text);
		free(p);
	}
	*n = 0;
}

/*
 * c ended and its subscribers have their answers: free it, then let
 * their runs start their next jobs (or end).
 */
static void
call_done(struct engine *e, struct call *c)
{
	struct job	**subs;
	size_t		  i, n;

	subs = c->subs;
	n = c->nsubs;
	c->subs = NULL;
	c->nsubs = 0;
	call_free(e, c);
	for (i = 0; i < n; i++) {
		fill(subs[i]->run);
		run_check(subs[i]->run);
	}
	free(subs);
}

/* ---- identical calls of other processes (SPEC "Cache") ---- */

/*
 * Before c's call is made: does another process make the same call now
 * (a live claim of its key in the store)?  Then c follows that call's
 * tokens through the store (remote_poll), j is answered like a cache
 * hit, and 1 is returned.  0: make the call (none, or the store can't
 * say); its own claim is written once the call has lasted
 * MJ_CLAIM_AFTER_MS (store_turn).
 */
static int
claim_peek(struct engine *e, struct call *c, struct job *j)
{
	struct store_claim	 cl;
	enum store_status	 st;

	st = store_claim_peek(e->store, c->key, UP_KEY_LEN, clock_wall_ms(),
	    &cl);
	if (st != STORE_OK) {
		if (st != STORE_ERR_NOTFOUND)
			store_warn(e, j->run->in.reqid, "claim", st);
		return 0;
	}
	c->remote = 1;
	c->rsince = clock_ms();
	snprintf(c->rrun, sizeof(c->rrun), "%s", cl.run_id);
	c->rjob = cl.job;
	j->cached = 1;
	log_msg(LOG_INFO, j->run->in.reqid, "job %zu: the same call is in "
	    "flight for run %s job %zu: following it", j->index, c->rrun,
	    c->rjob);
	return 1;
}

/*
 * Write c's claim (inside store_turn()'s transaction).  A claim another
 * process made since claim_peek() stays theirs: both calls go on, and
 * only ours is ever released.
 */
static void
claim_write(struct engine *e, struct call *c)
{
	struct store_claim	 cl;
	struct job		*j = c->subs[0];
	enum store_status	 st;

	rl_set_claimed(j->run->log);	/* before: the keeper reads it */
	st = store_claim(e->store, c->key, UP_KEY_LEN, rl_id(j->run->log),
	    j->index, clock_wall_ms(), &cl);
	if (st != STORE_OK)
		store_warn(e, j->run->in.reqid, "claim", st);
	else if (cl.ours)
		c->claimed = c->claim_new = 1;
	else
		log_msg(LOG_DEBUG, j->run->in.reqid, "job %zu: run %s makes "
		    "the same call too", j->index, cl.run_id);
}

/* One frame of the run a remote call follows (store_frames' callback). */
static int
remote_frame(void *arg, const struct rl_frame *f)
{
	struct call	*c = arg;
	json_object	*d, *v;
	int		 stop = 0;

	c->rafter = f->id;
	if (strcmp(f->type, "done") == 0) {
		c->rstate = -1;		/* ended without our job's answer */
		return 1;
	}
	if (strcmp(f->type, "token") != 0 &&
	    strcmp(f->type, "job_complete") != 0)
		return 0;
	if ((d = json_tokener_parse(f->data)) == NULL)
		return 0;
	if (json_object_object_get_ex(d, "index", &v) &&
	    (size_t)json_object_get_int64(v) == c->rjob) {
		if (strcmp(f->type, "token") == 0 &&
		    json_object_object_get_ex(d, "content", &v) &&
		    json_object_is_type(v, json_type_string)) {
			if (buf_add(&c->rtext, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v)) == BUF_OK)
				(void)on_token(c, json_object_get_string(v),
				    (size_t)json_object_get_string_len(v));
		} else if (strcmp(f->type, "job_complete") == 0) {
			c->rstate = json_object_object_get_ex(d, "result", &v) &&
			    !json_object_object_get_ex(v, "error", NULL) ?
			    1 : -1;
			stop = 1;
		}
	}
	json_object_put(d);
	return stop;
}

/*
 * Read what the followed call sent since the last look.  Its answer
 * answers every subscriber (none of them pays: the other run did); if it
 * failed or its run ended without it, the subscribers' tokens so far are
 * dropped (a `restart` status) and the call is made here.
 */
static void
remote_poll(struct engine *e, struct call *c)
{
	enum store_status st;
	char		 msg[160];
	size_t		 i, n;

	do {
		st = store_frames(e->store, c->rrun, c->rafter, 256,
		    remote_frame, c, &n);
	} while (st == STORE_OK && c->rstate == 0 && n == 256);
	/* Its row may be on its way (its keeper makes it): wait a moment. */
	if (st == STORE_ERR_NOTFOUND &&
	    clock_ms() - c->rsince >= MJ_STORE_CREATE_GRACE_MS)
		c->rstate = -1;
	else if (st != STORE_OK)
		return;		/* the store is down: look again later */
	if (c->rstate == 0)
		return;
	if (c->rstate < 0) {
		c->remote = 0;
		c->rstate = 0;
		buf_free(&c->rtext);
		for (i = 0; i < c->nsubs; i++) {
			snprintf(msg, sizeof(msg), "Job %zu: the identical "
			    "call it followed was lost; scoring it afresh",
			    c->subs[i]->index);
			status_event(c->subs[i]->run, "restart", msg,
			    (long)c->subs[i]->index);
		}
		call_start(e, c);
		return;
	}
	call_unlink(e, c);
	for (i = 0; i < c->nsubs; i++)
		(void)job_answer(c->subs[i], c->rtext.data != NULL ?
		    c->rtext.data : "", c->rtext.len);
	call_done(e, c);
}

/*
 * Start job j: answer it from the cache, or join an identical call in
 * flight, or make one.
 */
static void
job_call(struct engine *e, struct job *j)
{
	struct call	*c;
	const char	*text;
	uint64_t	 h;
	size_t		 len;
	unsigned char	 key[UP_KEY_LEN];
	enum cfg_format	 fmt;
	int		 keyed;

	fmt = up_format_guess(e->formats, e->cfg);
	keyed = cache_on(e) && up_cache_key(e->params, fmt, j->run->in.resume,
	    j->run->in.resume_len, &j->run->in.req.jobs[j->index], key) == 0;
	if (keyed && !j->run->in.no_cache && cache_hit(e, j, key))
		return;
	h = job_hash(j);
	if (!j->run->in.no_cache)
		for (c = e->table[h % CALL_BUCKETS]; c != NULL; c = c->hnext)
			if (c->hash == h && job_same(c->subs[0], j)) {
				if (call_subscribe(c, j) != 0)
					break;
				j->cached = 1;
				/* The tokens so far, as one. */
				text = NULL;
				len = 0;
				if (c->t != NULL)
					text = up_text(c->t, &len);
				else if (c->remote) {
					text = c->rtext.data;
					len = c->rtext.len;
				}
				if (len > 0)
					token_event(j->run, j->index, text,
					    len);
				return;
			}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    call_subscribe(c, j) != 0) {
		free(c);
		job_end(j, NULL, "internal", "out of memory", 0);
		return;
	}
	c->hash = h;
	if (keyed) {
		memcpy(c->key, key, sizeof(c->key));
		c->keyed = 1;
		c->key_fmt = fmt;
	}
	c->hnext = e->table[h % CALL_BUCKETS];
	e->table[h % CALL_BUCKETS] = c;
	c->next = e->calls;
	if (e->calls != NULL)
		e->calls->prev = c;
	e->calls = c;
	buf_init(&c->rtext, MJ_ANSWER_MAX);
	if (keyed && !j->run->in.no_cache && e->store != NULL) {
		if (claim_peek(e, c, j))
			return;
		c->claim_since = clock_ms();
		if (e->claims_due++ == 0 || claim_due_at(c) < e->claim_next)
			e->claim_next = claim_due_at(c);
	}
	call_start(e, c);
}

/*
 * After a failed call: schedule another if it may help and the bounds
 * allow it.  Returns 1 if c will be called again.
 */
static int
retry_later(struct engine *e, struct call *c, const struct up_result *r)
{
	long long	 now, delay;
	char		 msg[MJ_ERRMSG_MAX + 80];
	size_t		 i;

	if (!r->retryable || c->attempts >= MJ_RETRY_ATTEMPTS)
		return 0;
	if (r->retry_after_ms > MJ_RETRY_AFTER_MAX_MS)
		return 0;
	if (r->retry_after_ms >= 0)
		delay = r->retry_after_ms;
	else {
		delay = (long long)MJ_RETRY_BASE_MS << (c->attempts - 1);
		if (delay > MJ_RETRY_CAP_MS)
			delay = MJ_RETRY_CAP_MS;
		/* Jitter: up to a quarter less, so callers spread out. */
		delay -= delay * (rand_r(&e->seed) % 250) / 1000;
	}
	now = clock_ms();
	if (now + delay - c->first_call > MJ_RETRY_BUDGET_MS)
		return 0;
	c->retry_at = now + delay;
	for (i = 0; i < c->nsubs; i++) {
		snprintf(msg, sizeof(msg), "Job %zu: %s; retrying in %.1f s "
		    "(attempt %d of %d)", c->subs[i]->index, r->message,
		    (double)delay / 1000, c->attempts + 1, MJ_RETRY_ATTEMPTS);
		status_event(c->subs[i]->run, "retry", msg,
		    (long)c->subs[i]->index);
	}
	log_msg(LOG_INFO, c->subs[0]->run->in.reqid, "job %zu: %s, retry "
	    "in %lld ms", c->subs[0]->index, r->code, delay);
	return 1;
}

/*
 * What c's answer says of its server's formats (up_format_learn).  If
 * the server refused the format asked for and MATCHJOBS_RESPONSE_FORMAT
 * is auto, c is asked again at once with the next one (a `retry` status
 * says so; the refused attempt is not one of c's MJ_RETRY_ATTEMPTS) and
 * 1 is returned.
 */
static int
format_later(struct engine *e, struct call *c, const struct up_result *r)
{
	enum cfg_format	 next;
	char		 msg[160];
	size_t		 i;

	if (r->http_status >= 200 && r->http_status <= 299) {
		if (c->probe)
			probe_end(e, c, 1);
		return 0;
	}
	if (!r->format_refused || e->cfg->response_format != CFG_FMT_AUTO ||
	    c->fmt == CFG_FMT_NONE || c->nsubs == 0) {
		if (c->probe)
			probe_end(e, c, -1);
		return 0;
	}
	/* Learnt even if another call probes: a refusal is an answer. */
	up_format_learn(e->formats, e->cfg, c->fmt, 0);
	c->probe = 0;
	probe_end(e, c, -1);
	c->fmt_wait = 1;
	c->attempts--;
	next = (enum cfg_format)(c->fmt + 1);
	for (i = 0; i < c->nsubs; i++) {
		snprintf(msg, sizeof(msg), "Job %zu: the model server refused "
		    "response_format %s; asking again with %s",
		    c->subs[i]->index, up_format_name(c->fmt),
		    next == CFG_FMT_NONE ? "none" : up_format_name(next));
		status_event(c->subs[i]->run, "retry", msg,
		    (long)c->subs[i]->index);
	}
	log_msg(LOG_INFO, c->subs[0]->run->in.reqid, "job %zu: the model "
	    "server refused response_format %s (HTTP %ld); falling back",
	    c->subs[0]->index, up_format_name(c->fmt), r->http_status);
	c->retry_at = clock_ms();
	return 1;
}

/*
 * The call's transfer ended (it is out of the pool) with r: pay, answer
 * or fail every subscriber, or call again later.
 */
static void
call_end(struct engine *e, struct call *c, const struct up_result *r)
{
	struct run	*payer;
	size_t		  i;
	int		  parsed;

	if (c->nsubs > 0) {
		payer = c->subs[0]->run;
		payer->prompt_tokens += r->prompt_tokens;
		payer->completion_tokens += r->completion_tokens;
		if (r->usage_estimated)
			payer->estimated++;
		c->subs[0]->cached = 0;
	}
	if (format_later(e, c, r) || (r->status != UP_OK &&
	    retry_later(e, c, r))) {
		up_free(c->t);
		c->t = NULL;
		return;
	}
	call_unlink(e, c);
	if (r->status == UP_OK) {
		parsed = 0;
		for (i = 0; i < c->nsubs; i++)
			parsed = job_answer(c->subs[i], r->text, r->text_len);
		/* Only an answer that made a result; never a failure. */
		if (parsed && c->nsubs > 0)
			cache_put(e, c, c->subs[0]->run->in.reqid, r->text,
			    r->text_len);
	} else
		subs_fail(c, r->code, r->message, r->status == UP_ERR_TIMEOUT);
	/* The text was the transfer's: free it only now. */
	up_free(c->t);
	c->t = NULL;
	call_done(e, c);
}

/* Take job j out of its call; a call left with nobody is aborted. */
static void
call_leave(struct engine *e, struct job *j)
{
	struct call	*c = j->call;
	size_t		 i;

	for (i = 0; i < c->nsubs; i++)
		if (c->subs[i] == j) {
			memmove(&c->subs[i], &c->subs[i + 1],
			    (c->nsubs - i - 1) * sizeof(*c->subs));
			c->nsubs--;
			break;
		}
	j->call = NULL;
	j->state = JOB_WAITING;
	j->run->running--;
	if (c->nsubs == 0) {
		call_unlink(e, c);
		call_free(e, c);
	}
}

/* ---- the local engine ---- */

/* Score job j with the local engine and stream its answer as tokens. */
static void
job_local(struct run *r, struct job *j)
{
	const struct req_job	*rj = &r->in.req.jobs[j->index];
	struct answer		 a;
	json_object		*o;
	const char		*text;
	size_t			 len, i, k, rlen;

	j->state = JOB_CALLING;
	r->running++;
	job_start(r, j);
	memset(&a, 0, sizeof(a));
	/*
	 * The local engine reads what a model would: the resume cut at
	 * MJ_PROMPT_RESUME_MAX.  It reads it once per job, so a 1 MiB resume
	 * and 50 jobs would tokenise 50 MiB (AUDIT-0.1 L8).
	 */
	rlen = r->in.resume_len;
	if (rlen > MJ_PROMPT_RESUME_MAX)
		rlen = utf8_cut(r->in.resume, MJ_PROMPT_RESUME_MAX);
	if (loc_score(r->in.resume, rlen, rj->title, rj->data, rj->data_len,
	    &a) != LOC_OK) {
		job_end(j, NULL, "internal", "out of memory", 0);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "score", json_object_new_int(a.score));
	json_object_object_add(o, "summary",
	    json_object_new_string(a.summary));
	json_object_object_add(o, "matched_skills",
	    json_object_get(a.matched_skills));
	json_object_object_add(o, "missing_skills",
	    json_object_get(a.missing_skills));
	answer_free(&a);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	/* Tokens end after a space or punctuation, like a model's. */
	for (i = 0; i < len; i = k) {
		k = i + 1;
		while (k < len && k - i < 16 && text[k - 1] != ' ' &&
		    text[k - 1] != ',')
			k++;
		token_event(r, j->index, text + i, k - i);
	}
	job_answer(j, text, len);
	json_object_put(o);
}

/* ---- runs ---- */

/* Start jobs up to the run's concurrency (upstream runs only). */
static void
fill(struct run *r)
{
	struct engine	*e = r->eng;

	if (e->cfg->local)
		return;
	while (!r->ended && !r->broken && r->next < r->in.req.njobs &&
	    r->running < (size_t)e->cfg->concurrency) {
		struct job *j = &r->jobs[r->next++];

		job_start(r, j);
		job_call(e, j);
	}
}

/*
 * End r before its jobs are done: leave every call, then `error` with
 * code and the partial response, then `done` with state.
 */
static void
run_stop(struct run *r, const char *code, const char *msg,
    enum rl_state state)
{
	json_object	*ev;
	size_t		 i;

	if (r->ended)
		return;
	for (i = 0; i < r->in.req.njobs; i++)
		if (r->jobs[i].state == JOB_CALLING &&
		    r->jobs[i].call != NULL)
			call_leave(r->eng, &r->jobs[i]);
	ev = event_new("error");
	json_object_object_add(ev, "code", json_object_new_string(code));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	json_object_object_add(ev, "response", response_new(r));
	emit(r, "error", ev);
	log_msg(LOG_INFO, r->in.reqid, "run %s ended: %s", rl_id(r->log),
	    code);
	run_close(r, state);
}

enum eng_status
eng_add(struct engine *e, struct run_input *in, struct runlog *log)
{
	struct run	*r;
	size_t		 i, n;
	char		 msg[200];

	n = in->req.njobs;
	r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->in = *in;
		memset(in, 0, sizeof(*in));
		r->eng = e;
		r->log = rl_ref(log);
		r->jobs = calloc(n ? n : 1, sizeof(*r->jobs));
		r->matched = json_object_new_array();
		r->errors = json_object_new_array();
	} else {
		req_free(&in->req);
		free(in->resume);
		free(in->warnings);
		memset(in, 0, sizeof(*in));
	}
	if (r == NULL || r->jobs == NULL || r->matched == NULL ||
	    r->errors == NULL) {
		run_free(r);
		return ENG_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		r->jobs[i].run = r;
		r->jobs[i].index = i;
	}
	r->next_run = e->runs;
	if (e->runs != NULL)
		e->runs->prev = r;
	e->runs = r;
	e->nruns++;
	if (e->cfg->local)
		snprintf(msg, sizeof(msg), "Scoring %zu job%s with the local "
		    "lexical engine (no API key configured)", n,
		    n == 1 ? "" : "s");
	else
		snprintf(msg, sizeof(msg), "Scoring %zu job%s with %s, %d at "
		    "a time", n, n == 1 ? "" : "s", e->cfg->model,
		    e->cfg->concurrency);
	status_event(r, "scoring", msg, -1);
	fill(r);
	run_check(r);
	return ENG_OK;
}

/* Start the calls that wait for a format (a probe ended, a refusal). */
static void
format_kick(struct engine *e)
{
	struct call	*c, *cn;

	e->fmt_kick = 0;
	for (c = e->calls; c != NULL; c = cn) {
		cn = c->next;
		if (c->fmt_wait && c->t == NULL && !c->remote &&
		    c->nsubs > 0)
			call_start(e, c);
	}
}

/*
 * The lane's store writes of one turn, in one transaction: the claims of
 * the calls that have lasted MJ_CLAIM_AFTER_MS, the claims of ended
 * calls released, the cache answers kept.  A busy store (the keeper
 * writes) leaves them for the next turn; no call waits for them.  (A
 * call that ends sooner is never claimed: the plain route's fast calls
 * cost the store no claim and no release.)
 */
static void
store_turn(struct engine *e)
{
	enum store_status st;
	struct call	*c;
	struct put	*p;
	long long	 now, next;
	size_t		 k;
	int		 due, failed;

	now = clock_ms();
	due = e->claims_due > 0 && now >= e->claim_next;
	if (!due && e->puts == NULL && e->rels == NULL)
		return;
	st = e->store != NULL ? store_batch_begin(e->store) : STORE_ERR_IO;
	if (st != STORE_OK) {
		if (st != STORE_ERR_BUSY && e->store != NULL)
			store_warn(e, NULL, "write", st);
		if (st != STORE_ERR_BUSY)
			for (c = e->calls; c != NULL && e->claims_due > 0;
			    c = c->next)
				if (c->claim_since != 0)
					claim_drop(e, c);
		/* Answers and releases can wait: the keeper need not. */
		if (e->store != NULL && !due)
			store_gate_leave(e->store);
		if (e->store == NULL) {
			puts_free(&e->puts, &e->nputs);
			puts_free(&e->rels, &e->nrels);
		}
		return;
	}
	next = 0;
	for (c = e->calls; due && c != NULL; c = c->next) {
		if (c->claim_since == 0)
			continue;
		if (now < claim_due_at(c)) {
			if (next == 0 || claim_due_at(c) < next)
				next = claim_due_at(c);
			continue;
		}
		if (!c->remote && c->nsubs > 0)
			claim_write(e, c);
	}
	if (due)
		e->claim_next = next;
	for (p = e->rels; p != NULL; p = p->next)
		if (store_release(e->store, p->key, UP_KEY_LEN) != STORE_OK)
			log_msg(LOG_DEBUG, NULL, "claim release: %s",
			    store_errmsg(e->store));
	for (p = e->puts, k = 0; p != NULL; p = p->next)
		if ((st = store_cache_put(e->store, p->key, UP_KEY_LEN,
		    p->text, p->len, e->cfg->cache_ttl_s, clock_wall_ms())) !=
		    STORE_OK && k++ == 0)
			store_warn(e, NULL, "write", st);
	st = store_batch_end(e->store);
	failed = st != STORE_OK;
	if (failed)
		store_warn(e, NULL, "write", st);
	else
		puts_free(&e->puts, &e->nputs);
	puts_free(&e->rels, &e->nrels);
	for (c = e->calls; due && c != NULL && e->claims_due > 0;
	    c = c->next) {
		if (c->claim_since == 0 || now < claim_due_at(c))
			continue;
		/* Nothing of this batch was kept: not ours after all. */
		if (failed && c->claim_new)
			c->claimed = 0;
		c->claim_new = 0;
		claim_drop(e, c);
	}
}

/* Deadlines, due retries, stop requests and detach. */
static void
housekeeping(struct engine *e, long long now)
{
	struct up_result	 res;
	struct call		*c, *cn;
	struct run		*r, *rn;
	char			 msg[160];

	for (c = e->calls; c != NULL; c = cn) {
		cn = c->next;
		if (c->remote)
			remote_poll(e, c);
		else if (c->t == NULL) {
			if (c->retry_at <= now)
				call_start(e, c);
		} else if (up_deadline(c->t) <= now) {
			up_pool_expire(e->pool, c->t, &res);
			call_end(e, c, &res);
		}
	}
	for (r = e->runs; r != NULL; r = rn) {
		rn = r->next_run;
		if (r->broken) {
			run_stop(r, "internal", "the run's log is full",
			    RL_FAILED);
			continue;
		}
		if (rl_stop_requested(r->log)) {
			run_stop(r, "cancelled", "the run was cancelled",
			    RL_CANCELLED);
			continue;
		}
		if (rl_followers(r->log) > 0) {
			r->orphan_since = 0;
			continue;
		}
		if (r->orphan_since == 0)
			r->orphan_since = now;
		if (now - r->orphan_since >= e->cfg->detach_ms) {
			snprintf(msg, sizeof(msg), "the client went away and "
			    "nobody followed the run for %ld ms",
			    e->cfg->detach_ms);
			run_stop(r, "cancelled", msg, RL_CANCELLED);
		}
	}
}

/* One local job of each local run that has one left. Returns how many. */
static size_t
local_step(struct engine *e)
{
	struct run	*r, *rn;
	size_t		 k = 0;

	for (r = e->runs; r != NULL; r = rn) {
		rn = r->next_run;
		if (r->next < r->in.req.njobs && !r->broken) {
			job_local(r, &r->jobs[r->next++]);
			k++;
		}
		run_check(r);
	}
	return k;
}

void
eng_turn(struct engine *e, long wait_ms)
{
	struct up_transfer	*t;
	struct up_result	 res;
	struct call		*c;
	struct run		*r;
	long long		 now, next;

	if (e->nruns > 0 && wait_ms > HOUSE_MS)
		wait_ms = HOUSE_MS;
	store_turn(e);		/* the store's writes due */
	if (e->claims_due > 0) {
		/* The next claim due, tried again every MJ_CLAIM_RETRY_MS. */
		next = e->claim_next - clock_ms();
		if (next < MJ_CLAIM_RETRY_MS)
			next = MJ_CLAIM_RETRY_MS;
		if (wait_ms > next)
			wait_ms = next;
	}
	up_pool_run(e->pool, wait_ms);
	/* A probe's status line says the server took its format. */
	if ((c = e->prober) != NULL && c->t != NULL &&
	    up_http_status(c->t) >= 200 && up_http_status(c->t) <= 299)
		probe_end(e, c, 1);
	while ((c = up_pool_next(e->pool, &t, &res)) != NULL)
		call_end(e, c, &res);
	if (e->fmt_kick)
		format_kick(e);
	store_turn(e);
	now = clock_ms();
	if (atomic_exchange(&e->poke, 0) || now - e->last_house >= HOUSE_MS) {
		e->last_house = now;
		housekeeping(e, now);
	}
	while ((r = e->reap) != NULL) {
		e->reap = r->next_run;
		run_free(r);
	}
}

void
eng_wake(struct engine *e)
{
	atomic_store(&e->poke, 1);
	up_pool_wakeup(e->pool);
}

void
eng_nudge(struct engine *e)
{
	up_pool_wakeup(e->pool);
}

void
eng_set_store(struct engine *e, struct store *st)
{
	if (e->store != NULL && st != e->store &&
	    (e->puts != NULL || e->rels != NULL)) {
		/* The lane lets its store go: write what it kept, waiting. */
		store_wait(e->store, MJ_STORE_LANE_FLUSH_MS);
		store_turn(e);
	}
	/* Running, the lane never waits for the keeper's lock. */
	store_wait(st, 0);
	e->store = st;
}

int
eng_watch(struct engine *e, int fd)
{
	return up_pool_watch(e->pool, fd);
}

void
eng_shutdown(struct engine *e)
{
	struct run	*r;

	while ((r = e->runs) != NULL)
		run_stop(r, "shutdown", "the server is restarting; please "
		    "try again", RL_INTERRUPTED);
	while ((r = e->reap) != NULL) {
		e->reap = r->next_run;
		run_free(r);
	}
}

size_t
eng_count(const struct engine *e)
{
	return e->nruns;
}

enum eng_status
eng_run_local(const struct config *cfg, struct run_input *in,
    struct runlog *log)
{
	struct engine	 e;
	struct run	*r;
	enum eng_status	 rc;

	memset(&e, 0, sizeof(e));
	e.cfg = cfg;
	buf_init(&e.scratch, MJ_RUNLOG_BYTES_MAX);
	rc = eng_add(&e, in, log);
	/* No pool: a local run has no calls; stop and detach still hold. */
	while (rc == ENG_OK && e.nruns > 0) {
		housekeeping(&e, clock_ms());
		(void)local_step(&e);
	}
	while ((r = e.reap) != NULL) {
		e.reap = r->next_run;
		run_free(r);
	}
	buf_free(&e.scratch);
	return rc;
}

enum eng_status
eng_new(const struct config *cfg, long conns, struct up_formats *formats,
    struct engine **out)
{
	struct engine	*e;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENG_ERR_NOMEM;
	e->cfg = cfg;
	e->formats = formats;
	e->seed = (unsigned int)clock_ms() ^ (unsigned int)(uintptr_t)e;
	buf_init(&e->scratch, MJ_RUNLOG_BYTES_MAX);
	if (up_params_new(cfg, &e->params) != 0 ||
	    up_pool_new(conns, &e->pool) != 0) {
		up_params_free(e->params);
		free(e);
		return ENG_ERR_NOMEM;
	}
	*out = e;
	return ENG_OK;
}

void
eng_free(struct engine *e)
{
	if (e == NULL)
		return;
	eng_shutdown(e);
	up_pool_free(e->pool);
	up_params_free(e->params);
	buf_free(&e->scratch);
	puts_free(&e->puts, &e->nputs);
	puts_free(&e->rels, &e->nrels);
	free(e);
}
