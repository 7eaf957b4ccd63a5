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
#include "runlog.h"
#include "runs.h"

/* The methods a run route answers, for Allow. */
static const char *
allowed(enum route r)
{
	switch (r) {
	case ROUTE_RUN:
		return "GET, HEAD, DELETE, OPTIONS";
	case ROUTE_RUN_EVENTS:
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

static void
erase(struct app *app, struct out *o, struct runlog *l)
{
	if (rl_state(l) == RL_RUNNING) {
		rl_request_stop(l);
		/* Erased either way: followers still get done. */
		if (!wait_closed(l, MJ_RUN_STOP_WAIT_MS))
			log_msg(LOG_WARN, o->reqid, "run %s: no end %d ms "
			    "after delete; erased anyway", rl_id(l),
			    MJ_RUN_STOP_WAIT_MS);
	}
	(void)rl_runs_remove(app->runs, rl_id(l));
	(void)out_empty(o, 204, NULL);
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
    enum route route, const char *method, const char *id, int refused,
    struct runlog **follow, uint64_t *after)
{
	struct runlog	*l = NULL;
	char		 hdr[64], allow[64];

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
	if (app->runs != NULL) {
		rl_runs_sweep(app->runs, clock_ms());
		if (rl_id_valid(id))
			l = rl_runs_get(app->runs, id);
	}
	if (l == NULL) {
		(void)out_error(o, "not_found", "no such run: the id is "
		    "unknown, or the run ended long enough ago to be "
		    "forgotten", NULL);
		return;
	}
	snprintf(hdr, sizeof(hdr), "X-Match-Run: %s\r\n", rl_id(l));
	*follow = NULL;
	*after = 0;
	if (route == ROUTE_RUN_EVENTS)
		events(r, o, l, hdr, follow, after);
	else if (route == ROUTE_RUN_CANCEL)
		cancel(o, l);
	else if (strcmp(method, "DELETE") == 0)
		erase(app, o, l);
	else
		send_run(o, l);
	rl_unref(l);
}
