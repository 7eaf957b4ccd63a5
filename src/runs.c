/*
 * runs.c - the run routes; see runs.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "fconn.h"
#include "http.h"
#include "log.h"
#include "output.h"
#include "keeper.h"
#include "runlog.h"
#include "runs.h"
#include "store.h"

/* The methods a run route answers, for Allow. */
static const char *
allowed(enum route r)
{
	switch (r) {
	case ROUTE_RUN:
		return "GET, HEAD, DELETE, OPTIONS";
	case ROUTE_RUN_EVENTS:
	case ROUTE_RUNS:
		return "GET, OPTIONS";
	default:
		return "POST, OPTIONS";
	}
}

/* Is method one route r answers (OPTIONS aside)? */
static int
method_ok(enum route r, const char *m)
{
	switch (r) {
	case ROUTE_RUN:
		return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
		    strcmp(m, "DELETE") == 0;
	case ROUTE_RUN_EVENTS:
	case ROUTE_RUNS:
		return strcmp(m, "GET") == 0;
	default:
		return strcmp(m, "POST") == 0;
	}
}

/* A wall-clock time (ms since the epoch) as RFC 3339 UTC with ms. */
static json_object *
rfc3339(int64_t ms)
{
	char		 s[80];	/* room for any int fields */
	struct tm	 tm;
	time_t		 t;

	t = (time_t)(ms / 1000);
	if (ms < 0 || gmtime_r(&t, &tm) == NULL)
		return NULL;
	snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_object_new_string(s);
}

/*
 * The "response" of a closed log's result frame (a new reference), or
 * NULL (JSON null): none while running, nor when the run ended without
 * one.
 */
static json_object *
response_of(struct runlog *l, const struct rl_info *in)
{
	struct rl_frame	 f;
	json_object	*data, *v, *r = NULL;

	if (in->state == RL_RUNNING || in->result_id == 0 ||
	    rl_frame_get(l, in->result_id, &f) != 0)
		return NULL;
	data = json_tokener_parse(f.data);
	if (data != NULL && json_object_object_get_ex(data, "response", &v))
		r = json_object_get(v);
	json_object_put(data);
	return r;
}

/* The run object of SPEC "Runs" (the caller owns it). */
static json_object *
run_object(struct runlog *l)
{
	struct rl_info	 in;
	json_object	*o;

	rl_info(l, &in);
	o = json_object_new_object();
	json_object_object_add(o, "run_id", json_object_new_string(rl_id(l)));
	json_object_object_add(o, "state",
	    json_object_new_string(rl_state_name(in.state)));
	json_object_object_add(o, "created_at", rfc3339(in.created_ms));
	json_object_object_add(o, "updated_at", rfc3339(in.updated_ms));
	json_object_object_add(o, "user_id", in.user_id[0] != '\0' ?
	    json_object_new_string(in.user_id) : NULL);
	json_object_object_add(o, "total_jobs",
	    json_object_new_int64((int64_t)in.total_jobs));
	json_object_object_add(o, "done_jobs",
	    json_object_new_int64((int64_t)in.done_jobs));
	json_object_object_add(o, "response", response_of(l, &in));
	return o;
}

static void
send_run(struct out *o, struct runlog *l)
{
	json_object	*obj;

	obj = run_object(l);
	(void)out_json(o, 200, NULL, obj);
	json_object_put(obj);
}

/*
 * Wait until l is closed, at most ms.  Nonzero if it is.  Wakes on each
 * frame appended (the cancelled run's error and done come soon).
 */
static int
wait_closed(struct runlog *l, long ms)
{
	struct rl_frame	 f[MJ_FOLLOW_BATCH];
	long long	 deadline, left;
	uint64_t	 after;
	size_t		 n;
	int		 closed;

	deadline = clock_ms() + ms;
	after = rl_last_id(l);
	for (;;) {
		left = deadline - clock_ms();
		rl_read(l, after, f, MJ_FOLLOW_BATCH, left > 0 ? (long)left : 0,
		    &n, &closed);
		if (n > 0)
			after = f[n - 1].id;
		if (closed)
			return 1;
		if (left <= 0)
			return 0;
	}
}

/*
 * A frame number (decimal digits, no sign, at most the frames a log can
 * hold) into *out.  0, or -1 if s is not one.
 */
static int
parse_cursor(const char *s, size_t n, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > MJ_RUNLOG_FRAMES_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * The cursor of GET .../events: the Last-Event-ID header (an empty one
 * counts as none: EventSource sends none before its first id), else the
 * first `after` parameter of the query string, else 0.  0, or -1 when
 * the one given is not a frame number.
 */
static int
cursor_of(struct fconn *r, uint64_t *out)
{
	const char	*v, *q, *e;
	size_t		 n;

	*out = 0;
	v = fconn_param(r, "HTTP_LAST_EVENT_ID");
	if (v != NULL && *v != '\0')
		return parse_cursor(v, strlen(v), out);
	q = fconn_param(r, "QUERY_STRING");
	while (q != NULL && *q != '\0') {
		n = strcspn(q, "&");
		e = memchr(q, '=', n);
		if (e != NULL && e - q == 5 && memcmp(q, "after", 5) == 0)
			return parse_cursor(e + 1, n - 6, out);
		if (e == NULL && n == 5 && memcmp(q, "after", 5) == 0)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* Answer what can be answered now; *follow when the frames are to go. */
static void
events(struct fconn *r, struct out *o, struct runlog *l, const char *hdr,
    struct runlog **follow, uint64_t *afterp)
{
	uint64_t	 after;
	struct rl_info	 in;

	if (cursor_of(r, &after) != 0) {
		(void)out_error(o, "bad_request", "Last-Event-ID (or "
		    "after=) must be the number of one of the run's frames",
		    NULL);
		return;
	}
	rl_info(l, &in);
	if (in.state != RL_RUNNING && after >= in.last_id) {
		/* Nothing left to send: stops a browser's EventSource. */
		(void)out_empty(o, 204, hdr);
		return;
	}
	if (out_sse_begin(o, hdr) != OUT_OK)
		return;
	*follow = rl_ref(l);
	*afterp = after;
}

static void
cancel(struct out *o, struct runlog *l)
{
	if (rl_state(l) == RL_RUNNING) {
		rl_request_stop(l);
		if (!wait_closed(l, MJ_RUN_STOP_WAIT_MS)) {
			log_msg(LOG_WARN, o->reqid, "run %s: no end %d ms "
			    "after cancel", rl_id(l), MJ_RUN_STOP_WAIT_MS);
			(void)out_error(o, "stopping", "the run is "
			    "stopping but has not ended yet; ask again",
			    "Retry-After: 1\r\n");
			return;
		}
	}
	send_run(o, l);
}

/* The store failed: 503, the run may well be there. */
static void
store_down(struct out *o, struct store *st, enum store_status rc)
{
	log_msg(LOG_WARN, o->reqid, "store: %s", st != NULL ?
	    store_errmsg(st) : store_strerror(rc));
	(void)out_error(o, "store_unavailable", "the store is not "
	    "answering; try again shortly", "Retry-After: 1\r\n");
}

static void
erase(struct app *app, struct out *o, struct runlog *l, struct store *st)
{
	enum store_status rc;

	if (rl_state(l) == RL_RUNNING) {
		rl_request_stop(l);
		/* Erased either way: followers still get done. */
		if (!wait_closed(l, MJ_RUN_STOP_WAIT_MS))
			log_msg(LOG_WARN, o->reqid, "run %s: no end %d ms "
			    "after delete; erased anyway", rl_id(l),
			    MJ_RUN_STOP_WAIT_MS);
	}
	/*
	 * Out of the registry first: the keeper, which may not have made
	 * the run's row yet, then never makes it.
	 */
	(void)rl_runs_remove(app->runs, rl_id(l));
	if (st != NULL && (rc = store_run_delete(st, rl_id(l))) != STORE_OK &&
	    rc != STORE_ERR_NOTFOUND) {
		store_down(o, st, rc);
		return;
	}
	(void)out_empty(o, 204, NULL);
}


/* ---- runs of other processes: from the store ---- */

/* The run object of a stored run (SPEC "Runs"); with_response: its key. */
static json_object *
stored_object(const struct store_run *r, int with_response)
{
	json_object *o, *resp = NULL;

	o = json_object_new_object();
	json_object_object_add(o, "run_id", json_object_new_string(r->id));
	json_object_object_add(o, "state",
	    json_object_new_string(rl_state_name(r->state)));
	json_object_object_add(o, "created_at", rfc3339(r->created_ms));
	json_object_object_add(o, "updated_at", rfc3339(r->updated_ms));
	json_object_object_add(o, "user_id", r->user_id != NULL &&
	    r->user_id[0] != '\0' ? json_object_new_string(r->user_id) : NULL);
	json_object_object_add(o, "total_jobs",
	    json_object_new_int64((int64_t)r->total_jobs));
	json_object_object_add(o, "done_jobs",
	    json_object_new_int64((int64_t)r->done_jobs));
	if (with_response) {
		if (r->state != RL_RUNNING && r->response != NULL)
			resp = json_tokener_parse(r->response);
		json_object_object_add(o, "response", resp);
	}
	return o;
}

static void
send_stored(struct out *o, const struct store_run *r)
{
	json_object *obj;

	obj = stored_object(r, 1);
	(void)out_json(o, 200, NULL, obj);
	json_object_put(obj);
}

static void
not_found(struct out *o)
{
	(void)out_error(o, "not_found", "no such run: the id is unknown, "
	    "or the run was erased", NULL);
}

/*
 * Stored run id into *r, asked for again every 20 ms for at most ms
 * while it is missing (missing) or still running (!missing).  The last
 * answer: STORE_OK with *r, or why not.
 */
static enum store_status
stored_wait(struct store *st, const char *id, struct store_run *r,
    int missing, long ms)
{
	struct timespec	 ts = { 0, 20 * 1000000L };
	long long	 deadline;
	enum store_status rc;

	deadline = clock_ms() + ms;
	for (;;) {
		store_run_clear(r);
		rc = store_run_get(st, id, 0, r);
		if ((missing ? rc != STORE_ERR_NOTFOUND : rc != STORE_OK ||
		    r->state != RL_RUNNING) || clock_ms() >= deadline)
			return rc;
		nanosleep(&ts, NULL);
	}
}

/* Wait (at most MJ_RUN_STOP_WAIT_MS) until the stored run id ended. */
static enum store_status
stored_end(struct store *st, const char *id, struct store_run *r)
{
	return stored_wait(st, id, r, 0, MJ_RUN_STOP_WAIT_MS);
}

/*
 * Stored run id into *r.  A run whose id another process just handed
 * out may not have its row yet (its keeper makes it within moments):
 * an unknown id is looked for again until MJ_STORE_CREATE_GRACE_MS.
 */
static enum store_status
stored_get(struct store *st, const char *id, struct store_run *r)
{
	return stored_wait(st, id, r, 1, MJ_STORE_CREATE_GRACE_MS);
}

/* A frame read from the store into a fresh mirror log. */
struct fill {
	struct runlog	*log;
	uint64_t	 have;
	int		 bad;
};

static int
fill_frame(void *arg, const struct rl_frame *f)
{
	static const char *const types[] = {
		"status", "job_start", "token", "job_complete", "complete",
		"error", "reasoning",
	};
	struct fill	*fl = arg;
	size_t		 i;

	if (f->id != fl->have + 1 || strcmp(f->type, "done") == 0)
		return 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(f->type, types[i]) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]) ||
	    rl_append(fl->log, types[i], f->data, f->len, RL_RUNNING,
	    NULL) != RL_OK) {
		fl->bad = 1;
		return 1;
	}
	fl->have = f->id;
	return 0;
}

/*
 * A local log for stored run r of another process: its frames so far,
 * then (while it runs) the keeper's.  Registered, so followers here
 * share it.  NULL without memory or when the store fails.
 */
static struct runlog *
mirror(struct app *app, struct store *st, const struct store_run *r)
{
	struct runlog	*l, *had;
	struct fill	 fl;
	enum store_status rc;
	size_t		 n;

	if (rl_new(r->id, &l) != RL_OK)
		return NULL;
	if (rl_set_info(l, r->user_id, r->owner, r->total_jobs) != RL_OK) {
		rl_unref(l);
		return NULL;
	}
	memset(&fl, 0, sizeof(fl));
	fl.log = l;
	do {
		rc = store_frames(st, r->id, fl.have, MJ_STORE_READ_MAX,
		    fill_frame, &fl, &n);
	} while (rc == STORE_OK && !fl.bad && n == MJ_STORE_READ_MAX &&
	    fl.have < r->last_id);
	if (rc != STORE_OK || fl.bad) {
		rl_unref(l);
		return NULL;
	}
	rl_set_kept(l);
	if (r->state != RL_RUNNING && fl.have + 1 == r->last_id &&
	    rl_append(l, "done", "{\"type\":\"done\"}", 15, r->state,
	    NULL) != RL_OK) {
		rl_unref(l);
		return NULL;
	}
	if (rl_runs_add(app->runs, l) != RL_OK) {
		/* Another follower here made it first: share theirs. */
		had = rl_runs_get(app->runs, r->id);
		rl_unref(l);
		return had;
	}
	if (rl_state(l) == RL_RUNNING)
		kp_mirror(app->keeper, l, fl.have);
	return l;
}

/*
 * Was l (ended, kept) erased from the store by another process's
 * DELETE?  A run still running is stopped before it is erased, so only
 * ended ones are looked up.
 */
static int
erased(struct store *st, struct runlog *l)
{
	struct store_run	 run;
	struct rl_info		 in;
	enum store_status	 rc;

	rl_info(l, &in);
	if (in.state == RL_RUNNING || !in.kept)
		return 0;
	memset(&run, 0, sizeof(run));
	rc = store_run_get(st, rl_id(l), 0, &run);
	store_run_clear(&run);
	return rc == STORE_ERR_NOTFOUND;
}

/* GET /api/runs: the authenticated user's runs, newest first. */
static void
list(struct fconn *r, struct out *o, struct store *st)
{
	struct store_run_list	 lst;
	enum store_status	 rc;
	json_object		*root, *arr;
	const char		*user, *q, *e, *before = NULL;
	char			 cur[MJ_STORE_CURSOR_MAX + 1], *end;
	size_t			 i, n, limit = MJ_STORE_LIST_DEFAULT;
	long			 v;

	user = fconn_param(r, "REMOTE_USER");
	if (user == NULL || *user == '\0') {
		(void)out_error(o, "unauthorized", "GET /api/runs lists "
		    "the runs of the user the web server authenticated; "
		    "it authenticated nobody", "WWW-Authenticate: Basic "
		    "realm=\"matchjobs\"\r\n");
		return;
	}
	cur[0] = '\0';
	for (q = fconn_param(r, "QUERY_STRING"); q != NULL && *q != '\0'; ) {
		n = strcspn(q, "&");
		e = memchr(q, '=', n);
		if (e != NULL && e - q == 5 && memcmp(q, "limit", 5) == 0) {
			v = strtol(e + 1, &end, 10);
			if (end != q + n || end == e + 1 || v < 1 ||
			    v > MJ_STORE_LIST_MAX) {
				(void)out_error(o, "bad_request", "limit must "
				    "be a number from 1 to 100", NULL);
				return;
			}
			limit = (size_t)v;
		} else if (e != NULL && e - q == 6 &&
		    memcmp(q, "before", 6) == 0) {
			if ((size_t)(q + n - e - 1) > MJ_STORE_CURSOR_MAX) {
				(void)out_error(o, "bad_request", "before: "
				    "not a cursor of this list", NULL);
				return;
			}
			memcpy(cur, e + 1, (size_t)(q + n - e - 1));
			cur[q + n - e - 1] = '\0';
			before = cur;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	memset(&lst, 0, sizeof(lst));
	rc = store_run_list(st, user, before, limit, &lst);
	if (rc == STORE_ERR_ARG) {
		(void)out_error(o, "bad_request", "before: not a cursor of "
		    "this list", NULL);
		return;
	}
	if (rc != STORE_OK) {
		store_down(o, st, rc);
		return;
	}
	root = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < lst.n; i++)
		json_object_array_add(arr, stored_object(&lst.v[i], 0));
	json_object_object_add(root, "runs", arr);
	json_object_object_add(root, "next_before", lst.next[0] != '\0' ?
	    json_object_new_string(lst.next) : NULL);
	(void)out_json(o, 200, "Cache-Control: no-store\r\n", root);
	json_object_put(root);
	store_run_list_clear(&lst);
}

/* A run route for a run this process doesn't hold: the store's. */
static void
stored_route(struct app *app, struct fconn *r, struct out *o,
    struct store *st, enum route route, const char *method, const char *id,
    struct runlog **follow, uint64_t *after)
{
	struct store_run	 run;
	enum store_status	 rc;
	struct runlog		*l;
	char			 hdr[64];

	memset(&run, 0, sizeof(run));
	rc = stored_get(st, id, &run);
	if (rc == STORE_ERR_NOTFOUND) {
		not_found(o);
		return;
	}
	if (rc != STORE_OK) {
		store_down(o, st, rc);
		return;
	}
	snprintf(hdr, sizeof(hdr), "X-Match-Run: %s\r\n", run.id);
	if (route == ROUTE_RUN_EVENTS) {
		if ((l = mirror(app, st, &run)) == NULL)
			store_down(o, st, STORE_ERR_IO);
		else {
			events(r, o, l, hdr, follow, after);
			rl_unref(l);
		}
	} else if (route == ROUTE_RUN_CANCEL || strcmp(method, "DELETE") == 0) {
		/* The process running it stops it (the keeper's stops). */
		if (run.state == RL_RUNNING &&
		    ((rc = store_run_stop(st, id)) != STORE_OK ||
		    (rc = stored_end(st, id, &run)) != STORE_OK)) {
			if (rc == STORE_ERR_NOTFOUND)
				not_found(o);
			else
				store_down(o, st, rc);
		} else if (route == ROUTE_RUN_CANCEL && run.state == RL_RUNNING)
			(void)out_error(o, "stopping", "the run is stopping "
			    "but has not ended yet; ask again",
			    "Retry-After: 1\r\n");
		else if (route == ROUTE_RUN_CANCEL) {
			store_run_clear(&run);
			if ((rc = store_run_get(st, id, 0, &run)) == STORE_OK)
				send_stored(o, &run);
			else
				store_down(o, st, rc);
		} else if ((rc = store_run_delete(st, id)) == STORE_OK)
			(void)out_empty(o, 204, NULL);
		else if (rc == STORE_ERR_NOTFOUND)
			not_found(o);
		else
			store_down(o, st, rc);
	} else
		send_stored(o, &run);
	store_run_clear(&run);
}

/* OPTIONS: the CORS preflight when CORS is on, else just Allow. */
static void
preflight(struct out *o, enum route r)
{
	char	 h[320];

	if (o->cors_origin == NULL)
		snprintf(h, sizeof(h), "Allow: %s\r\n", allowed(r));
	else
		snprintf(h, sizeof(h), "Allow: %s\r\n"
		    "Access-Control-Allow-Methods: %s\r\n"
		    "Access-Control-Allow-Headers: Content-Type, Accept, "
		    "Last-Event-ID\r\n"
		    "Access-Control-Max-Age: 600\r\n", allowed(r), allowed(r));
	(void)out_empty(o, 204, h);
}

void
runs_handle(struct app *app, struct fconn *r, struct out *o,
    struct store *st, enum route route, const char *method, const char *id,
    int refused, struct runlog **follow, uint64_t *after)
{
	struct runlog	*l = NULL;
	char		 hdr[64], allow[64];

	*follow = NULL;
	*after = 0;
	if (app->keeper == NULL) {
		/* MATCHJOBS_STORE=off keeps nothing (SPEC "Store"). */
		(void)out_error(o, "not_found", "no run routes: this server "
		    "keeps no runs (MATCHJOBS_STORE=off)", NULL);
		return;
	}
	if (strcmp(method, "OPTIONS") == 0) {
		preflight(o, route);
		return;
	}
	snprintf(allow, sizeof(allow), "Allow: %s\r\n", allowed(route));
	if (!method_ok(route, method)) {
		(void)out_error(o, "method_not_allowed", "this run route "
		    "answers other methods (see Allow)", allow);
		return;
	}
	if (refused) {
		(void)out_error(o, "forbidden_origin", "requests from "
		    "this Origin are not allowed; see MATCHJOBS_CORS_ORIGINS",
		    NULL);
		return;
	}
	if (route == ROUTE_RUNS) {
		if (st == NULL)
			store_down(o, NULL, STORE_ERR_IO);
		else
			list(r, o, st);
		return;
	}
	rl_runs_sweep(app->runs, clock_ms());
	if (!rl_id_valid(id)) {
		not_found(o);
		return;
	}
	if ((l = rl_runs_get(app->runs, id)) != NULL && st != NULL &&
	    erased(st, l)) {
		/* DELETE'd through another process: forget it here too. */
		(void)rl_runs_remove(app->runs, id);
		rl_unref(l);
		l = NULL;
	}
	if (l == NULL) {
		if (st == NULL)
			store_down(o, NULL, STORE_ERR_IO);
		else
			stored_route(app, r, o, st, route, method, id, follow,
			    after);
		return;
	}
	snprintf(hdr, sizeof(hdr), "X-Match-Run: %s\r\n", rl_id(l));
	if (route == ROUTE_RUN_EVENTS)
		events(r, o, l, hdr, follow, after);
	else if (route == ROUTE_RUN_CANCEL)
		cancel(o, l);
	else if (strcmp(method, "DELETE") == 0)
		erase(app, o, l, st);
	else
		send_run(o, l);
	rl_unref(l);
}
