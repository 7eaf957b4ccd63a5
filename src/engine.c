/*
 * engine.c - scoring all jobs of a request; see engine.h.
 *
 * One request, one thread, one libcurl multi handle.  The loop starts
 * up to `concurrency` transfers, waits in curl_multi_poll() on their
 * sockets and on the client's FastCGI socket (so a client that leaves
 * while the model is still thinking is noticed at once), enforces the
 * first-token and idle deadlines, sends keepalives, and finishes each
 * job as its transfer ends.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "answer.h"
#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "engine.h"
#include "local.h"
#include "log.h"
#include "request.h"
#include "upstream.h"
#include "utf8.h"

#define LOCAL_MODEL	"local-lexical-1"
/* Longest wait in one poll, so a shutdown or clock step is seen. */
#define POLL_MAX_MS	1000

enum job_state {
	JOB_WAITING = 0,	/* not started */
	JOB_RUNNING,		/* a model call is in flight */
	JOB_RETRY,		/* waiting to call the model again */
	JOB_DONE,
	JOB__MAX
};

struct job {
	struct engine		*eng;
	size_t			 index;
	enum job_state		 state;
	struct up_transfer	*t;	/* owned while running */
	int			 attempts;	/* model calls made */
	long long		 first_call;	/* clock_ms of the first */
	long long		 retry_at;	/* JOB_RETRY: when */
};

struct engine {
	const struct eng_request *rq;
	const struct eng_writer	*w;
	struct job		*jobs;		/* owned, rq->njobs */
	CURLM			*multi;		/* see own_multi */
	int			 own_multi;	/* multi made here, freed here */
	json_object		*matched;	/* owned array of results */
	json_object		*errors;	/* owned array */
	size_t			 next;		/* next job to start */
	size_t			 running;
	size_t			 done;
	size_t			 timeouts;	/* failed jobs that timed out */
	long			 prompt_tokens;
	long			 completion_tokens;
	int			 client_gone;
	int			 cut;		/* shutdown: stop now */
	int			 watch_client;	/* client fd still polled */
	long long		 last_write;	/* clock_ms of the last event */
	size_t			 retrying;	/* jobs in JOB_RETRY */
	unsigned int		 seed;		/* backoff jitter */
};

int
eng_status_event(const struct eng_writer *w, const char *stage,
    const char *message)
{
	json_object	*o;
	int		 rc;

	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("status"));
	json_object_object_add(o, "stage", json_object_new_string(stage));
	json_object_object_add(o, "message", json_object_new_string(message));
	rc = w->event(w->arg, "status", o);
	json_object_put(o);
	return rc;
}

/* Send an event and take ownership of data. */
static void
emit(struct engine *e, const char *type, json_object *data)
{
	if (!e->client_gone && e->w->event(e->w->arg, type, data) != 0)
		e->client_gone = 1;
	e->last_write = clock_ms();
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

static int
on_token(void *arg, const char *s, size_t n)
{
	struct job	*j = arg;
	struct engine	*e = j->eng;

	if (e->client_gone)
		return -1;
	if (e->w->token(e->w->arg, (int)j->index, s, n) != 0) {
		e->client_gone = 1;
		return -1;
	}
	e->last_write = clock_ms();
	return 0;
}

static const char *const result_keys[] = {
	"index", "jobtitle", "joblink", "jobdata", "score", "summary",
	"matched_skills", "missing_skills", "error", NULL
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
job_start(struct engine *e, struct job *j)
{
	json_object *ev;

	ev = event_new("job_start");
	json_object_object_add(ev, "index",
	    json_object_new_int64((int64_t)j->index));
	json_object_object_add(ev, "total",
	    json_object_new_int64((int64_t)e->rq->njobs));
	json_object_object_add(ev, "jobtitle",
	    json_object_new_string(e->rq->jobs[j->index].title));
	emit(e, "job_start", ev);
}

/* A job ended: emit job_complete with a result or an error. */
static void
job_end(struct engine *e, struct job *j, const struct answer *a,
    const char *code, const char *message, int timed_out)
{
	const struct req_job	*rj = &e->rq->jobs[j->index];
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
		add_passthrough(res, rj);
		json_object_array_add(e->matched, json_object_get(res));
	} else {
		err = json_object_new_object();
		json_object_object_add(err, "code",
		    json_object_new_string(code));
		json_object_object_add(err, "message",
		    json_object_new_string(message));
		json_object_object_add(res, "error", err);
		add_passthrough(res, rj);
		json_object_array_add(e->errors, json_object_get(res));
		if (timed_out)
			e->timeouts++;
		log_msg(LOG_WARN, e->rq->reqid, "job %zu failed: %s", j->index,
		    code);
	}
	ev = event_new("job_complete");
	json_object_object_add(ev, "index",
	    json_object_new_int64((int64_t)j->index));
	json_object_object_add(ev, "result", res);
	emit(e, "job_complete", ev);
	j->state = JOB_DONE;
	e->done++;
}

/* Parse a finished answer text and end the job with it. */
static void
job_answer(struct engine *e, struct job *j, const char *text, size_t len)
{
	struct answer	 a;
	enum ans_status	 st;
	char		 msg[MJ_ERRMSG_MAX];

	memset(&a, 0, sizeof(a));
	st = ans_parse(text, len, &a);
	if (st == ANS_OK) {
		job_end(e, j, &a, NULL, NULL, 0);
	} else {
		snprintf(msg, sizeof(msg), "the model's answer could not be "
		    "used: %s", ans_strerror(st));
		job_end(e, j, NULL, "bad_answer", msg, 0);
	}
	answer_free(&a);
}

/* Local engine: score, then stream the answer text as tokens. */
static void
job_local(struct engine *e, struct job *j)
{
	const struct req_job	*rj = &e->rq->jobs[j->index];
	struct answer		 a;
	json_object		*o;
	const char		*text;
	size_t			 len, i, k, rlen;

	j->state = JOB_RUNNING;
	job_start(e, j);
	memset(&a, 0, sizeof(a));
	/*
	 * The local engine reads what a model would: the resume cut at
	 * MJ_PROMPT_RESUME_MAX.  It reads it once per job, so a 1 MiB resume
	 * and 50 jobs would tokenise 50 MiB (AUDIT-0.1 L8).
	 */
	rlen = e->rq->resume_len;
	if (rlen > MJ_PROMPT_RESUME_MAX)
		rlen = utf8_cut(e->rq->resume, MJ_PROMPT_RESUME_MAX);
	if (loc_score(e->rq->resume, rlen, rj->title, rj->data,
	    rj->data_len, &a) != LOC_OK) {
		job_end(e, j, NULL, "internal", "out of memory", 0);
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
	for (i = 0; i < len && !e->client_gone; i = k) {
		k = i + 1;
		while (k < len && k - i < 16 && text[k - 1] != ' ' &&
		    text[k - 1] != ',')
			k++;
		on_token(j, text + i, k - i);
	}
	if (!e->client_gone)
		job_answer(e, j, text, len);
	json_object_put(o);
}

/* Make one model call for job j. */
static int
job_call(struct engine *e, struct job *j)
{
	struct buf	 body;
	int		 rc;

	j->state = JOB_RUNNING;
	if (j->attempts++ == 0)
		j->first_call = clock_ms();
	buf_init(&body, MJ_PROMPT_RESUME_MAX + MJ_PROMPT_JOBDATA_MAX + 65536);
	rc = up_build_body(e->rq->cfg, e->rq->resume, e->rq->resume_len,
	    &e->rq->jobs[j->index], &body);
	if (rc == 0)
		rc = up_new(&j->t, e->rq->cfg, e->rq->share, body.data,
		    body.len, on_token, j);
	buf_free(&body);
	if (rc == 0) {
		/* The multi loop finds the job from the handle. */
		curl_easy_setopt(up_easy(j->t), CURLOPT_PRIVATE, j);
		if (curl_multi_add_handle(e->multi, up_easy(j->t)) !=
		    CURLM_OK)
			rc = -1;
	}
	if (rc != 0) {
		up_free(j->t);
		j->t = NULL;
		job_end(e, j, NULL, "internal", "could not start the "
		    "model call", 0);
		return -1;
	}
	e->running++;
	return 0;
}

/*
 * Start calls up to the concurrency limit: jobs whose retry is due
 * first, then jobs not started yet.
 */
static void
fill(struct engine *e, long long now)
{
	struct job	*j;
	size_t		 i;

	for (i = 0; i < e->rq->njobs && e->retrying > 0; i++) {
		j = &e->jobs[i];
		if (e->running >= (size_t)e->rq->cfg->concurrency ||
		    e->client_gone)
			return;
		if (j->state == JOB_RETRY && j->retry_at <= now) {
			e->retrying--;
			(void)job_call(e, j);
		}
	}
	while (e->next < e->rq->njobs && !e->client_gone &&
	    e->running < (size_t)e->rq->cfg->concurrency) {
		j = &e->jobs[e->next++];
		job_start(e, j);
		(void)job_call(e, j);
	}
}

/*
 * After a failed call: schedule another if it may help and the bounds
 * allow it.  Returns 1 if the job will be retried.
 */
static int
retry_later(struct engine *e, struct job *j, const struct up_result *r)
{
	json_object	*ev;
	long long	 now, delay;
	char		 msg[MJ_ERRMSG_MAX + 80];

	if (!r->retryable || j->attempts >= MJ_RETRY_ATTEMPTS)
		return 0;
	if (r->retry_after_ms > MJ_RETRY_AFTER_MAX_MS)
		return 0;
	if (r->retry_after_ms >= 0)
		delay = r->retry_after_ms;
	else {
		delay = (long long)MJ_RETRY_BASE_MS << (j->attempts - 1);
		if (delay > MJ_RETRY_CAP_MS)
			delay = MJ_RETRY_CAP_MS;
		/* Jitter: up to a quarter less, so callers spread out. */
		delay -= delay * (rand_r(&e->seed) % 250) / 1000;
	}
	now = clock_ms();
	if (now + delay - j->first_call > MJ_RETRY_BUDGET_MS)
		return 0;
	j->state = JOB_RETRY;
	j->retry_at = now + delay;
	e->retrying++;
	snprintf(msg, sizeof(msg), "Job %zu: %s; retrying in %.1f s "
	    "(attempt %d of %d)", j->index, r->message, (double)delay / 1000,
	    j->attempts + 1, MJ_RETRY_ATTEMPTS);
	ev = event_new("status");
	json_object_object_add(ev, "stage", json_object_new_string("retry"));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	json_object_object_add(ev, "index",
	    json_object_new_int64((int64_t)j->index));
	emit(e, "status", ev);
	log_msg(LOG_INFO, e->rq->reqid, "job %zu: %s, retry in %lld ms",
	    j->index, r->code, delay);
	return 1;
}

static void
job_finish(struct engine *e, struct job *j, CURLcode cc)
{
	struct up_result r;

	curl_multi_remove_handle(e->multi, up_easy(j->t));
	e->running--;
	up_finish(j->t, cc, &r);
	e->prompt_tokens += r.prompt_tokens;
	e->completion_tokens += r.completion_tokens;
	if (e->client_gone) {
		j->state = JOB_DONE;
		e->done++;
	} else if (r.status == UP_OK)
		job_answer(e, j, r.text, r.text_len);
	else if (!retry_later(e, j, &r))
		job_end(e, j, NULL, r.code, r.message,
		    r.status == UP_ERR_TIMEOUT);
	up_free(j->t);
	j->t = NULL;
}

/* Has the client gone away?  Called when its fd polled readable. */
static int
client_left(int fd)
{
	struct pollfd	 p;
	char		 c;
	ssize_t		 n;

	p.fd = fd;
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return 1;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	/*
	 * EOF: gone.  Data after the request's stdin ended can only be an
	 * FCGI_ABORT_REQUEST (no server multiplexes): gone too.
	 */
	return n == 0 || n == 1 || (n < 0 && errno != EAGAIN &&
	    errno != EINTR);
}

static void
run_upstream(struct engine *e)
{
	struct curl_waitfd	 wfd;
	CURLMsg			*msg;
	struct job		*j;
	long long		 now, wake, d;
	long			 ct;
	int			 still, left, nfd;
	size_t			 i;

	fill(e, clock_ms());
	while (e->done < e->rq->njobs && !e->client_gone) {
		if (e->rq->cut != NULL && atomic_load(e->rq->cut)) {
			e->cut = 1;
			break;
		}
		curl_multi_perform(e->multi, &still);
		for (;;) {
			msg = curl_multi_info_read(e->multi, &left);
			if (msg == NULL)
				break;
			if (msg->msg != CURLMSG_DONE)
				continue;
			j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&j);
			if (j != NULL && j->t != NULL)
				job_finish(e, j, msg->data.result);
		}
		now = clock_ms();
		wake = now + POLL_MAX_MS;
		for (i = 0; i < e->rq->njobs; i++) {
			j = &e->jobs[i];
			if (j->t == NULL)
				continue;
			d = up_deadline(j->t);
			if (d <= now) {
				up_timeout(j->t);
				job_finish(e, j, CURLE_OPERATION_TIMEDOUT);
				continue;
			}
			if (d < wake)
				wake = d;
		}
		fill(e, now);
		for (i = 0; i < e->rq->njobs && e->retrying > 0; i++)
			if (e->jobs[i].state == JOB_RETRY &&
			    e->jobs[i].retry_at < wake)
				wake = e->jobs[i].retry_at;
		if (e->done >= e->rq->njobs || e->client_gone)
			break;
		if (now - e->last_write >= e->rq->cfg->keepalive_ms) {
			if (e->w->keepalive(e->w->arg) != 0)
				e->client_gone = 1;
			e->last_write = now;
		}
		d = e->last_write + e->rq->cfg->keepalive_ms;
		if (d < wake)
			wake = d;
		if (curl_multi_timeout(e->multi, &ct) == CURLM_OK && ct >= 0 &&
		    now + ct < wake)
			wake = now + ct;
		nfd = 0;
		if (e->watch_client) {
			wfd.fd = e->rq->client_fd;
			wfd.events = CURL_WAIT_POLLIN;
			wfd.revents = 0;
			nfd = 1;
		}
		curl_multi_poll(e->multi, nfd ? &wfd : NULL, (unsigned)nfd,
		    (int)(wake > now ? wake - now : 0), NULL);
		if (nfd && (wfd.revents & CURL_WAIT_POLLIN)) {
			if (client_left(e->rq->client_fd))
				e->client_gone = 1;
			else
				e->watch_client = 0;
		}
	}
	if (e->client_gone || e->cut) {
		/* Abort every call of this request at once. */
		for (i = 0; i < e->rq->njobs; i++) {
			j = &e->jobs[i];
			if (j->t == NULL)
				continue;
			curl_multi_remove_handle(e->multi, up_easy(j->t));
			up_free(j->t);
			j->t = NULL;
		}
		e->running = 0;
	}
}

static void
run_local(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->rq->njobs && !e->client_gone; i++) {
		if (e->rq->client_fd >= 0 && client_left(e->rq->client_fd))
			e->client_gone = 1;
		else
			job_local(e, &e->jobs[i]);
	}
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
response_new(struct engine *e)
{
	json_object	*r, *u;
	size_t		 scored, failed;

	scored = json_object_array_length(e->matched);
	failed = json_object_array_length(e->errors);
	json_object_array_sort(e->matched, by_score);
	json_object_array_sort(e->errors, by_score);
	r = json_object_new_object();
	json_object_object_add(r, "user_id",
	    json_object_new_string(e->rq->user_id));
	json_object_object_add(r, "engine", json_object_new_string(
	    e->rq->cfg->local ? "local" : "openai"));
	json_object_object_add(r, "model", json_object_new_string(
	    e->rq->cfg->local ? LOCAL_MODEL : e->rq->cfg->model));
	json_object_object_add(r, "total_jobs",
	    json_object_new_int64((int64_t)e->rq->njobs));
	json_object_object_add(r, "scored_jobs",
	    json_object_new_int64((int64_t)scored));
	json_object_object_add(r, "failed_jobs",
	    json_object_new_int64((int64_t)failed));
	json_object_object_add(r, "matched_jobs",
	    json_object_get(e->matched));
	json_object_object_add(r, "errors", json_object_get(e->errors));
	u = json_object_new_object();
	json_object_object_add(u, "prompt_tokens",
	    json_object_new_int64(e->prompt_tokens));
	json_object_object_add(u, "completion_tokens",
	    json_object_new_int64(e->completion_tokens));
	json_object_object_add(r, "usage", u);
	json_object_object_add(r, "elapsed_ms",
	    json_object_new_int64(clock_ms() - e->rq->started_ms));
	return r;
}

static void
finish(struct engine *e)
{
	json_object	*resp, *ev;
	size_t		 failed;
	char		 msg[160];

	resp = response_new(e);
	failed = json_object_array_length(e->errors);
	if (e->cut) {
		ev = event_new("error");
		json_object_object_add(ev, "code",
		    json_object_new_string("shutdown"));
		json_object_object_add(ev, "message", json_object_new_string(
		    "the server is restarting; please try again"));
		json_object_object_add(ev, "response", resp);
		emit(e, "error", ev);
	} else if (failed > 0 && failed == e->rq->njobs) {
		ev = event_new("error");
		json_object_object_add(ev, "code", json_object_new_string(
		    e->timeouts == failed ? "upstream_timeout" :
		    "upstream_failed"));
		snprintf(msg, sizeof(msg), "no job could be scored: %s",
		    e->timeouts == failed ? "the model timed out" :
		    "the model calls failed (see response.errors)");
		json_object_object_add(ev, "message",
		    json_object_new_string(msg));
		json_object_object_add(ev, "response", resp);
		emit(e, "error", ev);
	} else {
		ev = event_new("complete");
		json_object_object_add(ev, "response", resp);
		emit(e, "complete", ev);
	}
	emit(e, "done", event_new("done"));
}

enum eng_status
eng_run(const struct eng_request *rq, const struct eng_writer *w)
{
	struct engine	 e;
	enum eng_status	 rc;
	size_t		 i;
	char		 msg[200];

	memset(&e, 0, sizeof(e));
	e.rq = rq;
	e.w = w;
	e.watch_client = rq->client_fd >= 0;
	e.last_write = clock_ms();
	e.seed = (unsigned int)e.last_write ^ (unsigned int)(uintptr_t)&e;
	e.jobs = calloc(rq->njobs ? rq->njobs : 1, sizeof(*e.jobs));
	e.matched = json_object_new_array();
	e.errors = json_object_new_array();
	rc = ENG_ERR_NOMEM;
	if (e.jobs == NULL || e.matched == NULL || e.errors == NULL)
		goto out;
	for (i = 0; i < rq->njobs; i++) {
		e.jobs[i].eng = &e;
		e.jobs[i].index = i;
	}
	if (rq->cfg->local)
		snprintf(msg, sizeof(msg), "Scoring %zu job%s with the local "
		    "lexical engine (no API key configured)", rq->njobs,
		    rq->njobs == 1 ? "" : "s");
	else
		snprintf(msg, sizeof(msg), "Scoring %zu job%s with %s, %d at "
		    "a time", rq->njobs, rq->njobs == 1 ? "" : "s",
		    rq->cfg->model, rq->cfg->concurrency);
	if (eng_status_event(w, "scoring", msg) != 0)
		e.client_gone = 1;
	if (rq->cfg->local) {
		run_local(&e);
	} else {
		e.multi = rq->multi;
		if (e.multi == NULL) {
			e.multi = curl_multi_init();
			e.own_multi = 1;
		}
		if (e.multi == NULL)
			goto out;
		run_upstream(&e);
	}
	if (!e.client_gone)
		finish(&e);
	rc = e.client_gone ? ENG_ERR_CLIENT_GONE : ENG_OK;
out:
	if (e.multi != NULL && e.own_multi)
		curl_multi_cleanup(e.multi);
	free(e.jobs);
	if (e.matched != NULL)
		json_object_put(e.matched);
	if (e.errors != NULL)
		json_object_put(e.errors);
	return rc;
}
