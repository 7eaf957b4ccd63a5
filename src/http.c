/*
 * http.c - one request from route to answer; see http.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "docx.h"
#include "errors.h"
#include "fconn.h"
#include "follow.h"
#include "hidden.h"
#include "http.h"
#include "bounds.h"
#include "log.h"
#include "multipart.h"
#include "output.h"
#include "pdf.h"
#include "request.h"
#include "runlog.h"
#include "runner.h"
#include "runs.h"
#include "keeper.h"
#include "store.h"
#include "utf8.h"

/*
 * Bytes read from stdin at a time.  On the worker's stack, whose touched
 * pages stay resident for the thread's life: keep it small (fconn
 * buffers the records anyway).
 */
#define READ_CHUNK	4096
/* After a 413, read and drop at most this much before answering. */
#define DRAIN_MAX	(64u * 1024 * 1024)
#define PATH_MAX_LEN	4096

static const char *const route_paths[ROUTE__MAX] = {
	NULL,				/* ROUTE_NONE */
	"/api/match-jobs",		/* ROUTE_MATCH */
	"/api/match-jobs/stream",	/* ROUTE_STREAM */
	"/api/health",			/* ROUTE_HEALTH */
	NULL,				/* ROUTE_RUN: run_route_of() */
	NULL,				/* ROUTE_RUN_EVENTS */
	NULL,				/* ROUTE_RUN_CANCEL */
	"/api/runs",			/* ROUTE_RUNS */
};

struct http_worker {
	struct app	*app;
	struct store	*st;		/* this thread's connection, or NULL */
	long long	 retry_ms;	/* when to try opening it again */
};

struct http_worker *
http_worker_new(struct app *app)
{
	struct http_worker *w;

	if ((w = calloc(1, sizeof(*w))) != NULL)
		w->app = app;
	return w;
}

void
http_worker_free(struct http_worker *w)
{
	if (w == NULL)
		return;
	store_close(w->st);
	free(w);
}

/*
 * The worker thread's store connection (for the run routes' reads),
 * opened on first use; NULL with the store off or failing.
 */
static struct store *
worker_store(struct http_worker *w)
{
	char		 err[256];
	long long	 now;

	if (w == NULL || w->app->keeper == NULL)
		return NULL;
	if (w->st != NULL)
		return w->st;
	now = clock_ms();
	if (now < w->retry_ms)
		return NULL;
	w->retry_ms = now + MJ_STORE_RETRY_MS;
	if (store_open(w->app->cfg->db, w->app->holder, &w->st, err,
	    sizeof(err)) != STORE_OK) {
		w->st = NULL;
		log_msg(LOG_WARN, NULL, "store: %s", err);
	}
	return w->st;
}

/* The route whose path ends p[0..n), at a segment boundary. */
static enum route
route_of(const char *p, size_t n)
{
	size_t	 l;
	int	 i;

	if (n > 1 && p[n - 1] == '/')
		n--;
	for (i = ROUTE__MAX - 1; i > ROUTE_NONE; i--) {
		if (route_paths[i] == NULL)
			continue;
		l = strlen(route_paths[i]);
		if (n >= l && memcmp(p + n - l, route_paths[i], l) == 0)
			return (enum route)i;
	}
	return ROUTE_NONE;
}

/* Does p[0..n) end with the NUL-terminated s? */
static int
ends_with(const char *p, size_t n, const char *s)
{
	size_t	 l = strlen(s);

	return n >= l && memcmp(p + n - l, s, l) == 0;
}

/*
 * The run route whose path ends p[0..n): ".../api/runs/{id}" or
 * ".../api/runs/{id}/events" or ".../api/runs/{id}/cancel", {id} one
 * non-empty segment (a trailing slash is allowed, as for the others).
 * id gets the segment, or "" when it can't be a run id for its length.
 */
static enum route
run_route_of(const char *p, size_t n, char id[RL_ID_LEN + 1])
{
	const char	*seg, *s;
	enum route	 r = ROUTE_RUN;
	size_t		 end, len;

	if (n > 1 && p[n - 1] == '/')
		n--;
	s = memrchr(p, '/', n);
	if (s == NULL)
		return ROUTE_NONE;
	end = n;
	/* ".../{id}/events": the id is the segment before. */
	if (ends_with(p, n, "/events") || ends_with(p, n, "/cancel")) {
		seg = memrchr(p, '/', (size_t)(s - p));
		if (seg != NULL && seg + 1 < s &&
		    ends_with(p, (size_t)(seg + 1 - p), "/api/runs/")) {
			r = ends_with(p, n, "/events") ? ROUTE_RUN_EVENTS :
			    ROUTE_RUN_CANCEL;
			end = (size_t)(s - p);
			s = seg;
		}
	}
	len = end - (size_t)(s + 1 - p);
	if (len == 0 || !ends_with(p, (size_t)(s + 1 - p), "/api/runs/"))
		return ROUTE_NONE;
	if (len > RL_ID_LEN)
		len = 0;
	memcpy(id, s + 1, len);
	id[len] = '\0';
	return r;
}

/* The route, old or run, whose path ends p[0..n). */
static enum route
path_route(const char *p, size_t n, char id[RL_ID_LEN + 1])
{
	enum route	 r;

	r = route_of(p, n);
	if (r == ROUTE_NONE)
		r = run_route_of(p, n, id);
	return r;
}

enum route
http_route(const char *sn, const char *pi, const char *du, const char *ru,
    char id[RL_ID_LEN + 1])
{
	char		 both[PATH_MAX_LEN];
	enum route	 r;
	size_t		 n;

	id[0] = '\0';
	if (pi != NULL && *pi != '\0') {
		r = path_route(pi, strlen(pi), id);
		if (r != ROUTE_NONE)
			return r;
	}
	if (sn != NULL && *sn != '\0') {
		n = (size_t)snprintf(both, sizeof(both), "%s%s", sn,
		    pi != NULL ? pi : "");
		if (n < sizeof(both)) {
			r = path_route(both, n, id);
			if (r != ROUTE_NONE)
				return r;
		}
	}
	if (du != NULL && *du != '\0') {
		r = path_route(du, strlen(du), id);
		if (r != ROUTE_NONE)
			return r;
	}
	if (ru != NULL && *ru != '\0')
		return path_route(ru, strcspn(ru, "?#"), id);
	return ROUTE_NONE;
}

/* The parts of a request body we keep. */
struct form {
	int		 multipart;
	struct mp_parser *mp;		/* owned; 16 KiB, so on the heap
					   and only for forms */
	struct buf	 json;		/* JSON document */
	struct buf	 pdf;		/* the resume file's bytes (pdf_file
					   or resume_file) */
	struct buf	 resume;	/* resume_text field */
	int		 have_json, have_pdf, have_resume;
	struct buf	*target;	/* current part's buffer, or NULL */
	const char	*target_name;
	/* The first fault, answered once the body is drained. */
	int		 err_status;
	const char	*err_code;
	char		 err_msg[256];
};

static void
form_init(struct form *f, const struct config *cfg)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->json, MJ_JSON_MAX);
	buf_init(&f->pdf, cfg->body_max);
	buf_init(&f->resume, MJ_MP_FIELD_MAX);
}

static void
form_free(struct form *f)
{
	free(f->mp);
	f->mp = NULL;
	buf_free(&f->json);
	buf_free(&f->pdf);
	buf_free(&f->resume);
}

__attribute__((format(printf, 3, 4)))
static void
form_fail(struct form *f, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (f->err_status != 0)
		return;
	f->err_status = err_status(code);
	f->err_code = code;
	va_start(ap, fmt);
	vsnprintf(f->err_msg, sizeof(f->err_msg), fmt, ap);
	va_end(ap);
}

static int
part_begin(void *arg, const char *name, const char *filename,
    const char *ctype)
{
	struct form	*f = arg;
	int		*have;

	(void)filename;
	(void)ctype;
	f->target = NULL;
	have = NULL;
	if (strcmp(name, "json_body") == 0) {
		f->target = &f->json;
		have = &f->have_json;
	} else if (strcmp(name, "pdf_file") == 0 ||
	    strcmp(name, "resume_file") == 0) {
		/* Two names for the one file field, whatever the file is. */
		f->target = &f->pdf;
		have = &f->have_pdf;
	} else if (strcmp(name, "resume_text") == 0) {
		f->target = &f->resume;
		have = &f->have_resume;
	}
	if (have == NULL)
		return 0;	/* unknown fields are ignored */
	if (*have) {
		form_fail(f, "bad_request", "the form has more than one "
		    "%s field", f->target == &f->pdf ?
		    "resume file (pdf_file or resume_file)" : name);
		return 1;
	}
	*have = 1;
	f->target_name = f->target == &f->json ? "json_body" :
	    f->target == &f->pdf ? "pdf_file" : "resume_text";
	return 0;
}

static int
part_data(void *arg, const char *p, size_t n)
{
	struct form		*f = arg;
	enum buf_status		 st;

	if (f->target == NULL)
		return 0;
	st = buf_add(f->target, p, n);
	if (st == BUF_OK)
		return 0;
	if (st == BUF_TOO_BIG)
		form_fail(f, "too_large", "the %s field is larger than "
		    "%zu bytes", f->target_name, f->target->max);
	else
		form_fail(f, "internal", "out of memory");
	return 1;
}

static int
part_end(void *arg)
{
	struct form *f = arg;

	f->target = NULL;
	return 0;
}

/* The media type of a Content-Type value, compared case-blind. */
static int
is_type(const char *ct, const char *type)
{
	size_t n;

	n = strlen(type);
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, type, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Read the body into f under the size limit.  Reads to EOF whatever
 * CONTENT_LENGTH says (it may be missing or empty).  Returns 0, or the
 * HTTP status of the fault recorded in f.
 */
static int
read_body(struct fconn *r, const struct config *cfg, const char *ctype,
    struct form *f)
{
	static const struct mp_callbacks cb = {
		part_begin, part_data, part_end
	};
	char			 boundary[MJ_MP_BOUNDARY_MAX + 1];
	char			 chunk[READ_CHUNK];
	const char		*cl;
	char			*end;
	unsigned long long	 total, declared;
	enum mp_status		 ms;
	enum fconn_status	 rs;
	long long		 deadline;
	size_t			 n;
	int			 parsing;

	if (ctype == NULL || *ctype == '\0') {
		form_fail(f, "unsupported_media_type", "send "
		    "multipart/form-data or application/json (no "
		    "Content-Type was given)");
		return f->err_status;
	}
	if (is_type(ctype, "multipart/form-data")) {
		f->multipart = 1;
		ms = mp_boundary(ctype, boundary, sizeof(boundary));
		if (ms != MP_OK) {
			form_fail(f, "bad_request", "%s",
			    mp_strerror(ms));
			return f->err_status;
		}
		f->mp = malloc(sizeof(*f->mp));
		if (f->mp == NULL) {
			form_fail(f, "internal", "out of memory");
			return f->err_status;
		}
		mp_init(f->mp, boundary, &cb, f);
	} else if (!is_type(ctype, "application/json")) {
		form_fail(f, "unsupported_media_type", "send "
		    "multipart/form-data or application/json");
		return f->err_status;
	}

	cl = fconn_param(r, "CONTENT_LENGTH");
	if (cl != NULL && *cl != '\0') {
		declared = strtoull(cl, &end, 10);
		if (*end == '\0' && declared > cfg->body_max)
			form_fail(f, "too_large", "the request body is "
			    "larger than the limit of %zu bytes",
			    cfg->body_max);
	}
	parsing = f->err_status == 0;
	total = 0;
	deadline = clock_ms() + cfg->body_deadline_ms;
	for (;;) {
		/* Returns after each socket read: the deadline holds. */
		rs = fconn_read(r, chunk, sizeof(chunk), deadline, &n);
		if (rs != FCONN_OK || n == 0)
			break;
		if (clock_ms() > deadline) {
			form_fail(f, "timeout", "the request body took "
			    "longer than %ld ms to arrive",
			    cfg->body_deadline_ms);
			return f->err_status;
		}
		total += n;
		/* While parsing, total <= body_max, which may be above it. */
		if (!parsing && total > DRAIN_MAX)
			break;
		if (!parsing)
			continue;
		if (total > cfg->body_max) {
			form_fail(f, "too_large", "the request body is "
			    "larger than the limit of %zu bytes",
			    cfg->body_max);
			parsing = 0;
			continue;
		}
		if (f->multipart) {
			ms = mp_feed(f->mp, chunk, n);
			if (ms != MP_OK) {
				form_fail(f, "bad_request",
				    "malformed multipart body: %s",
				    mp_strerror(ms));
				parsing = 0;
			}
		} else if (buf_add(&f->json, chunk, n) != BUF_OK) {
			form_fail(f, "too_large", "the JSON body is "
			    "larger than %zu bytes", f->json.max);
			parsing = 0;
		}
	}
	if (rs == FCONN_TIMEOUT)
		form_fail(f, "timeout", "the request body took longer "
		    "than %ld ms to arrive", cfg->body_deadline_ms);
	if (f->err_status != 0)
		return f->err_status;
	if (rs != FCONN_OK) {
		if (rs == FCONN_STALLED)
			form_fail(f, "timeout", "the request body stalled "
			    "for more than %ld ms", cfg->client_timeout_ms);
		else
			form_fail(f, "bad_request", "the request body "
			    "could not be read");
		return f->err_status;
	}
	if (f->multipart) {
		ms = mp_finish(f->mp);
		if (ms != MP_OK) {
			form_fail(f, "bad_request", "malformed multipart "
			    "body: %s", mp_strerror(ms));
			return f->err_status;
		}
		if (!f->have_json) {
			form_fail(f, "bad_request", "the form has no "
			    "json_body field");
			return f->err_status;
		}
	} else if (total == 0) {
		form_fail(f, "bad_request", "the request body is empty");
		return f->err_status;
	}
	return 0;
}

/* Only whitespace and controls (which the prompt drops) in s[0..n)? */
static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]) &&
		    !iscntrl((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Make text valid UTF-8 in place: every byte that does not start a
 * well-formed sequence becomes U+FFFD (AUDIT-0.1 L4, for PDF text, which
 * is not the client's to fix).  Returns 0, or -1 without memory.
 */
static int
make_valid(struct buf *text)
{
	char	*fixed;
	size_t	 n, max;

	if (text->len == 0 || utf8_check(text->data, text->len) == text->len)
		return 0;
	fixed = malloc(text->len * 3);
	if (fixed == NULL)
		return -1;
	n = utf8_repair(text->data, text->len, fixed);
	max = text->max;
	buf_free(text);
	buf_init(text, max * 3);
	if (buf_add(text, fixed, n) != BUF_OK) {
		free(fixed);
		return -1;
	}
	free(fixed);
	return 0;
}

/*
 * The hidden_text warning for what a PDF or a DOCX hid (SPEC
 * "Scoring"): the count and the excerpt, quoted with its quotes and
 * backslashes escaped, control characters as spaces, cut at its first
 * bad byte (the child's answer is not trusted to be UTF-8).
 */
static void
hidden_warning(const struct hidden *hid, struct run_warning *w)
{
	char	 q[2 * MJ_HIDDEN_EXCERPT_MAX + 1];
	size_t	 i, n, k, shown;

	n = utf8_check(hid->excerpt, hid->excerpt_len);
	for (i = k = shown = 0; i < n; i++) {
		/* Characters quoted: lead bytes other than spaces. */
		if (((unsigned char)hid->excerpt[i] & 0xc0) != 0x80 &&
		    hid->excerpt[i] != ' ')
			shown++;
		if (hid->excerpt[i] == '"' || hid->excerpt[i] == '\\')
			q[k++] = '\\';
		q[k++] = (unsigned char)hid->excerpt[i] < 0x20 ||
		    hid->excerpt[i] == 0x7f ? ' ' : hid->excerpt[i];
	}
	q[k] = '\0';
	snprintf(w->code, sizeof(w->code), "hidden_text");
	snprintf(w->message, sizeof(w->message), "%zu character%s of text "
	    "a reader can't see (hidden, invisible, white, smaller than 1 pt "
	    "or outside the page) %s left out of the prompt; excerpt: "
	    "\"%s%s\"",
	    hid->chars, hid->chars == 1 ? "" : "s",
	    hid->chars == 1 ? "was" : "were", q,
	    shown < hid->chars ? "..." : "");
}

/*
 * Is o an origin as browsers send it (RFC 6454 §6.1): scheme "://" host
 * [":" port], the host a name, an IPv4 address or a bracketed IPv6
 * address, and nothing else (no path, no controls, no spaces)?  Only
 * such a value is ever echoed in Access-Control-Allow-Origin.
 */
static int
origin_valid(const char *o)
{
	const char	*p = o;
	size_t		 n;

	if (strlen(o) > MJ_ORIGIN_MAX || !isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return 0;
	p += 3;
	if (*p == '[') {
		n = strspn(p + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || p[1 + n] != ']')
			return 0;
		p += n + 2;
	} else {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (n == 0)
			return 0;
		p += n;
	}
	if (*p == ':') {
		n = strspn(p + 1, "0123456789");
		if (n == 0 || n > 5)
			return 0;
		p += n + 1;
	}
	return *p == '\0';
}

/* The length of the host part of "host[:port]" (IPv6 in brackets). */
static size_t
host_len(const char *h)
{
	const char *e;

	if (*h == '[') {
		e = strchr(h, ']');
		return e != NULL ? (size_t)(e - h) + 1 : strlen(h);
	}
	return strcspn(h, ":");
}

/*
 * Is the valid origin o the server's own, given the Host the web server
 * passes?  The host names must be equal; the ports only when host has
 * one: Debian's nginx fastcgi_params sends HTTP_HOST as $host, which
 * drops the port.
 */
static int
same_origin(const char *o, const char *host)
{
	const char	*h;
	size_t		 n;

	if (host == NULL || *host == '\0')
		return 0;
	h = strstr(o, "://") + 3;
	n = host_len(h);
	if (host_len(host) != n || strncasecmp(h, host, n) != 0)
		return 0;
	return host[n] == '\0' || strcmp(h + n, host + n) == 0;
}

/*
 * The CORS decision for a request from origin (NULL: no Origin header),
 * with the Host it was sent to.  Returns the value to send as
 * Access-Control-Allow-Origin (NULL for none) and sets *refuse when the
 * request comes from a site that may not use the API: an Origin that is
 * neither same-origin (see same_origin()) nor allowed by
 * MATCHJOBS_CORS_ORIGINS.  "*" allows everyone and sends a literal "*";
 * a listed origin is echoed only if origin_valid() (AUDIT-0.1 L2).
 */
static const char *
cors_decide(const struct config *cfg, const char *origin, const char *host,
    int *refuse)
{
	*refuse = 0;
	if (cfg->cors_origins != NULL && strcmp(cfg->cors_origins, "*") == 0)
		return "*";
	if (origin == NULL || *origin == '\0')
		return NULL;
	if (origin_valid(origin) && cfg_cors_allows(cfg, origin))
		return origin;
	if (origin_valid(origin) && same_origin(origin, host))
		return NULL;
	*refuse = 1;
	return NULL;
}

static void
health(struct app *app, struct out *o)
{
	json_object	*h;
	char		 why[200];

	h = json_object_new_object();
	json_object_object_add(h, "status", json_object_new_string("ok"));
	json_object_object_add(h, "engine", json_object_new_string(
	    app->cfg->local ? "local" : "openai"));
	json_object_object_add(h, "model", json_object_new_string(
	    app->cfg->local ? "local-lexical-1" : app->cfg->model));
	json_object_object_add(h, "version", json_object_new_string(VERSION));
	json_object_object_add(h, "active_requests",
	    json_object_new_int(atomic_load(&app->active)));
	json_object_object_add(h, "uptime_ms",
	    json_object_new_int64(clock_ms() - app->started_ms));
	/* The store: off, ok, or degraded (runs go on, not kept). */
	if (app->keeper == NULL)
		json_object_object_add(h, "store",
		    json_object_new_string("off"));
	else if (kp_degraded(app->keeper, why, sizeof(why))) {
		json_object_object_add(h, "status",
		    json_object_new_string("degraded"));
		json_object_object_add(h, "store",
		    json_object_new_string("degraded"));
		json_object_object_add(h, "store_error",
		    json_object_new_string(why));
	} else
		json_object_object_add(h, "store",
		    json_object_new_string("ok"));
	(void)out_json(o, 200, "Cache-Control: no-store\r\n", h);
	json_object_put(h);
}

static int
wants_stream(struct fconn *r)
{
	const char *a;

	a = fconn_param(r, "HTTP_ACCEPT");
	return a != NULL && strstr(a, "text/event-stream") != NULL;
}

static void	drain(struct fconn *, long long);

/* Append a status frame {stage, message[, run_id]} to log. */
static int
status_frame(struct runlog *log, const char *stage, const char *message,
    const char *run_id)
{
	json_object	*o;
	const char	*s;
	int		 rc;

	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("status"));
	json_object_object_add(o, "stage", json_object_new_string(stage));
	json_object_object_add(o, "message", json_object_new_string(message));
	if (run_id != NULL)
		json_object_object_add(o, "run_id",
		    json_object_new_string(run_id));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = s != NULL && rl_append(log, "status", s, strlen(s), RL_RUNNING,
	    NULL) == RL_OK ? 0 : -1;
	json_object_put(o);
	return rc;
}

/*
 * Make the run of a validated request: its log (registered, with the
 * `accepted` and `resume` frames), followed once by the caller, handed
 * to the runner with rq (moved) and a copy of the resume.  Returns 0 and
 * *out (a reference for the caller, who must rl_unfollow and rl_unref
 * it), or -1 with nothing started.
 */
static int
start_run(struct app *app, struct fconn *r, struct req *rq,
    const char *resume, size_t resume_len, const char *resume_msg,
    const struct run_warning *warn, size_t nwarn,
    const char *reqid, long long t0, struct runlog **out)
{
	struct run_input	 in;
	struct runlog		*log;
	char			 id[RL_ID_LEN + 1], msg[160];
	const char		*cc;
	enum rn_status		 rs;

	*out = NULL;
	(void)rl_runs_sweep(app->runs, clock_ms());
	if (rl_new_id(id) != RL_OK || rl_new(id, &log) != RL_OK)
		return -1;
	snprintf(msg, sizeof(msg), "Run %s accepted: %zu job%s", id,
	    rq->njobs, rq->njobs == 1 ? "" : "s");
	memset(&in, 0, sizeof(in));
	if (rl_set_info(log, rq->user_id, fconn_param(r, "REMOTE_USER"),
	    rq->njobs) != RL_OK ||
	    status_frame(log, "accepted", msg, id) != 0 ||
	    status_frame(log, "resume", resume_msg, NULL) != 0 ||
	    (in.resume = malloc(resume_len + 1)) == NULL ||
	    rl_runs_add(app->runs, log) != RL_OK) {
		free(in.resume);
		rl_unref(log);
		return -1;
	}
	memcpy(in.resume, resume, resume_len);
	in.resume[resume_len] = '\0';
	in.resume_len = resume_len;
	if (nwarn > MJ_RUN_WARNINGS_MAX)
		nwarn = MJ_RUN_WARNINGS_MAX;
	if (nwarn > 0 && (in.warnings = calloc(nwarn,
	    sizeof(*in.warnings))) != NULL) {
		memcpy(in.warnings, warn, nwarn * sizeof(*warn));
		in.nwarnings = nwarn;
	} else if (nwarn > 0)
		log_msg(LOG_WARN, reqid, "run %s: out of memory for its "
		    "warnings", id);
	/* Kept before it runs: another process may follow it at once. */
	if (app->keeper != NULL &&
	    kp_track(app->keeper, log, in.resume) != KP_OK)
		log_msg(LOG_WARN, reqid, "run %s: not kept in the store", id);
	/* After the copy: the resume may be the document's. */
	in.req = *rq;
	memset(rq, 0, sizeof(*rq));
	snprintf(in.reqid, sizeof(in.reqid), "%s", reqid);
	in.started_ms = t0;
	/* Cache-Control: no-cache scores afresh (SPEC "Cache"). */
	cc = fconn_param(r, "HTTP_CACHE_CONTROL");
	in.no_cache = cc != NULL && strstr(cc, "no-cache") != NULL;
	rl_follow(log);
	rs = runner_submit(app->runner, &in, log);
	if (rs != RN_OK) {
		log_msg(LOG_ERROR, reqid, "run %s: %s", id,
		    runner_strerror(rs));
		rl_unfollow(log);
		(void)rl_runs_remove(app->runs, id);
		rl_unref(log);
		return -1;
	}
	log_msg(LOG_INFO, reqid, "run %s started", id);
	*out = log;
	return 0;
}

/*
 * One request from accept to its last byte, with one owner (http_handle)
 * and one teardown (hreq_free), as slowcgi keeps its requests: whatever
 * a step made is freed there, however far the request got.
 */
struct hreq {
	struct app	*app;
	struct fconn	*r;		/* the server's connection, borrowed */
	struct out	 o;
	char		 reqid[32];
	char		 run_id[RL_ID_LEN + 1];	/* from the path */
	const char	*method;	/* the connection's params, borrowed */
	const char	*uri;
	const char	*cors;		/* Access-Control-Allow-Origin, or NULL */
	enum route	 route;
	long long	 t0;		/* clock_ms() at arrival */
	long long	 dl;		/* the body's deadline */
	int		 refused;	/* an Origin that may not use the API */
	int		 stream;	/* answer as an event stream */
	int		 counted;	/* in app->active */
	struct form	 f;		/* the body */
	struct req	 rq;		/* the parsed document */
	struct buf	 text;		/* resume text read from the file */
	enum { FILE_PDF, FILE_DOCX, FILE_TEXT } kind; /* what the file was */
	int		 pages;		/* of that PDF */
	struct hidden	 hid;		/* what the file hid */
	struct run_warning warn[MJ_RUN_WARNINGS_MAX]; /* for the response */
	size_t		 nwarn;
	struct runlog	*log;		/* the run once started (a reference,
					   followed once) */
};

static void
hreq_init(struct hreq *h, struct app *app, struct fconn *r)
{
	memset(h, 0, sizeof(*h));
	h->app = app;
	h->r = r;
	h->t0 = clock_ms();
	h->dl = h->t0 + app->cfg->body_deadline_ms;
	form_init(&h->f, app->cfg);
	buf_init(&h->text, MJ_RESUME_TEXT_MAX);
}

static void
hreq_free(struct hreq *h)
{
	if (h->log != NULL) {
		rl_unfollow(h->log);
		rl_unref(h->log);
		h->log = NULL;
	}
	if (h->counted)
		atomic_fetch_sub(&h->app->active, 1);
	h->counted = 0;
	buf_free(&h->text);
	req_free(&h->rq);
	form_free(&h->f);
	out_free(&h->o);
}

/*
 * Read the resume file (pdf_file or resume_file) into h->text, knowing
 * it by its content, never its name: a PDF or a DOCX in the child
 * (pdf.h), else UTF-8 text without NULs as it is.  Returns 0, or -1 once
 * the error was answered.
 */
static int
read_file(struct hreq *h)
{
	const struct config	*cfg = h->app->cfg;
	struct form		*f = &h->f;
	struct pdf_limits	 pl;
	enum pdf_status		 ps;
	const char		*data = f->pdf.data;
	size_t			 len = f->pdf.len;

	if (len > 0 && !pdf_magic(data, len) && !docx_magic(data, len)) {
		h->kind = FILE_TEXT;
		if (utf8_check(data, len) != len ||
		    memchr(data, '\0', len) != NULL) {
			log_msg(LOG_INFO, h->reqid, "resume file rejected: "
			    "not a PDF, a DOCX or UTF-8 text");
			/* The one code of unreadable resume files. */
			(void)out_error(&h->o, "unreadable_pdf", "The "
			    "uploaded file is not a PDF. Word documents "
			    "(.docx) and UTF-8 text files are read too.",
			    NULL);
			return -1;
		}
		if (len > MJ_RESUME_TEXT_MAX)
			len = utf8_cut(data, MJ_RESUME_TEXT_MAX);
		if (buf_add(&h->text, data, len) != BUF_OK) {
			(void)out_error(&h->o, "internal", "out of memory",
			    NULL);
			return -1;
		}
		buf_free(&f->pdf);
		return 0;
	}
	h->kind = len > 0 && docx_magic(data, len) ? FILE_DOCX : FILE_PDF;
	memset(&pl, 0, sizeof(pl));
	pl.pages_max = cfg->pdf_pages_max;
	pl.text_max = MJ_RESUME_TEXT_MAX;
	pl.wall_ms = cfg->pdf_timeout_ms;
	pl.cpu_s = MJ_PDF_CPU_S;
	pl.as_bytes = MJ_PDF_AS_BYTES;
	pl.children_max = cfg->pdf_children_max;
	pl.exe = cfg->self_exe;
	pl.zygote = atomic_load(&h->app->zygote);
	ps = len == 0 ? PDF_ERR_NOT_PDF :
	    pdf_extract(data, len, &pl, &h->text, &h->pages, &h->hid);
	/* Streams last minutes: don't hold megabytes of PDF. */
	buf_free(&f->pdf);
	if (ps == PDF_ERR_BUSY || ps == PDF_ERR_SANDBOX) {
		/* Not the file's fault: 503, try again or send text. */
		log_msg(LOG_WARN, h->reqid, "pdf refused: %d", (int)ps);
		(void)out_error(&h->o, ps == PDF_ERR_BUSY ?
		    "overloaded" : "pdf_unavailable", pdf_strerror(ps),
		    "Retry-After: 5\r\n");
		return -1;
	}
	if (ps != PDF_OK) {
		log_msg(LOG_INFO, h->reqid, "%s rejected: %d",
		    h->kind == FILE_DOCX ? "docx" : "pdf", (int)ps);
		(void)out_error(&h->o, ps == PDF_ERR_INTERNAL ? "internal" :
		    "unreadable_pdf", pdf_strerror(ps), NULL);
		return -1;
	}
	if (make_valid(&h->text) != 0) {
		(void)out_error(&h->o, "internal", "out of memory", NULL);
		return -1;
	}
	return 0;
}

/*
 * Read and check the body, parse the document and read the resume (from
 * the PDF, the resume_text field or the document).  Returns 0 with
 * *resume (borrowed from h) and msg saying what was read, or -1 once the
 * error was answered.
 */
static int
prepare(struct hreq *h, const char **resume, size_t *resume_len, char *msg,
    size_t msgsz)
{
	const struct config	*cfg = h->app->cfg;
	struct form		*f = &h->f;
	struct req_limits	 lim;
	enum req_status		 rs;
	size_t			 n;

	if (read_body(h->r, cfg, fconn_param(h->r, "CONTENT_TYPE"), f) != 0) {
		(void)out_error(&h->o, f->err_code, f->err_msg, NULL);
		return -1;
	}
	req_limits_default(&lim);
	lim.jobs_max = cfg->jobs_max;
	rs = req_parse(f->json.data != NULL ? f->json.data : "", f->json.len,
	    &lim, &h->rq, msg, msgsz);
	if (rs != REQ_OK) {
		(void)out_error(&h->o, rs == REQ_ERR_NOMEM ? "internal" :
		    "bad_request", msg, NULL);
		return -1;
	}
	/* The parsed document owns its strings: the raw bytes can go. */
	buf_free(&f->json);
	/* The form field is text too (SPEC "Request formats", AUDIT L4). */
	if (f->have_resume && f->resume.len > 0 &&
	    utf8_check(f->resume.data, f->resume.len) != f->resume.len) {
		snprintf(msg, msgsz, "resume_text is not valid UTF-8 (byte %zu "
		    "of the field)", utf8_check(f->resume.data,
		    f->resume.len));
		(void)out_error(&h->o, "bad_request", msg, NULL);
		return -1;
	}
	if (f->have_pdf) {
		if (read_file(h) != 0)
			return -1;
		*resume = h->text.data;
		*resume_len = h->text.len;
		if (h->hid.chars > 0 && h->nwarn < MJ_RUN_WARNINGS_MAX)
			hidden_warning(&h->hid, &h->warn[h->nwarn++]);
	} else if (f->have_resume) {
		*resume = f->resume.data != NULL ? f->resume.data : "";
		*resume_len = f->resume.len;
	} else {
		*resume = h->rq.resume_text;
		*resume_len = h->rq.resume_len;
	}
	if (f->have_pdf && (*resume == NULL || blank(*resume, *resume_len))) {
		/* A PDF or DOCX without text failed in the child. */
		(void)out_error(&h->o, "unreadable_pdf", "The uploaded text "
		    "file is empty. Upload a resume with text.", NULL);
		return -1;
	}
	if (*resume == NULL || blank(*resume, *resume_len)) {
		(void)out_error(&h->o, "bad_request", *resume == NULL ?
		    "no resume: send a pdf_file or a resume_text" :
		    "the resume_text is empty", NULL);
		return -1;
	}
	if (f->have_pdf && h->kind == FILE_DOCX)
		snprintf(msg, msgsz, "Resume read: %zu characters from a Word "
		    "document", *resume_len);
	else if (f->have_pdf && h->kind == FILE_TEXT)
		snprintf(msg, msgsz, "Resume read: %zu characters of text "
		    "from the file", *resume_len);
	else if (f->have_pdf && h->pages > cfg->pdf_pages_max)
		snprintf(msg, msgsz, "Resume read: %zu characters from the "
		    "first %d of %d pages of PDF", *resume_len,
		    cfg->pdf_pages_max, h->pages);
	else if (f->have_pdf)
		snprintf(msg, msgsz, "Resume read: %zu characters from %d "
		    "page%s of PDF", *resume_len, h->pages,
		    h->pages == 1 ? "" : "s");
	else
		snprintf(msg, msgsz, "Resume read: %zu characters of text",
		    *resume_len);
	if (h->hid.chars > 0) {
		n = strlen(msg);
		snprintf(msg + n, msgsz - n, "; %zu hidden character%s left "
		    "out (hidden, invisible, white, microscopic or off-page "
		    "text)",
		    h->hid.chars,
		    h->hid.chars == 1 ? "" : "s");
	}
	return 0;
}

/* The log line of a request that ended. */
static void
access_log(struct hreq *h)
{
	char esc[256], mesc[64];

	log_msg(LOG_INFO, h->reqid, "%s %s %d%s %lldms",
	    log_escape(h->method, strlen(h->method), mesc, sizeof(mesc)),
	    log_escape(h->uri != NULL ? h->uri : "-",
	    h->uri != NULL ? strlen(h->uri) : 1, esc, sizeof(esc)),
	    h->o.status, h->o.state == OUT_FAILED ? " (client gone)" : "",
	    clock_ms() - h->t0);
}

/* The client left before its run ended. */
static void
client_left(struct hreq *h)
{
	h->o.state = OUT_FAILED;
	if (h->log != NULL)
		log_msg(LOG_INFO, h->reqid, "client went away; run %s goes "
		    "on for %ld ms unless followed", rl_id(h->log),
		    h->app->cfg->detach_ms);
}

/*
 * The writer ended h's stream (on the runner's thread): h and its
 * connection are ours to end and free.
 */
static void
hreq_end(void *arg, enum fl_status st)
{
	struct hreq	*h = arg;
	struct app	*app = h->app;

	if (st == FL_ERR_GONE)
		client_left(h);
	else if (st == FL_ERR_NOMEM)
		log_msg(LOG_ERROR, h->reqid, "stream cut: out of memory");
	access_log(h);
	hreq_free(h);
	fconn_free(h->r);
	free(h);
	atomic_fetch_sub(&app->held, 1);
}

/*
 * Hand h's connection to the runner's writer: a follower of log from
 * after (kind, extra headers for the plain answer).  0 when it took h
 * (then h is the writer's: the caller must not touch it again), -1 with
 * nothing taken.
 */
static int
hand_off(struct hreq *h, enum fl_kind kind, struct runlog *log,
    uint64_t after, const char *extra)
{
	struct app	*app = h->app;
	struct fl	*f;

	if ((f = fl_new(kind, &h->o, h->r, log, after, extra,
	    app->cfg)) == NULL)
		return -1;
	if (fconn_nonblock(h->r) != FCONN_OK) {
		fl_free(f);
		client_left(h);
		return -1;
	}
	atomic_fetch_add(&app->held, 1);
	if (runner_follow(app->runner, f, fconn_fd(h->r), hreq_end, h) !=
	    RN_OK) {
		atomic_fetch_sub(&app->held, 1);
		fl_free(f);
		return -1;
	}
	/* From here h is the writer's: it may be freed already. */
	return 0;
}

/*
 * A POST to a match route: prepare, start the run, follow it.  1 when h
 * went to the writer with the connection (h may be gone already), else
 * 0: the caller ends the request.
 */
static int
match(struct hreq *h)
{
	const char		*resume;
	size_t			 resume_len;
	char			 msg[MJ_ERRMSG_MAX], hdr[64];

	if (h->refused) {
		/*
		 * Decided before the body is read: another site's page may
		 * not spend the operator's quota (AUDIT-0.1 L2).  The body
		 * is then dropped unparsed, as for a 405.
		 */
		(void)out_error(&h->o, "forbidden_origin", "requests from "
		    "this Origin are not allowed; see MATCHJOBS_CORS_ORIGINS",
		    NULL);
		drain(h->r, h->dl);
		return 0;
	}
	if (prepare(h, &resume, &resume_len, msg, sizeof(msg)) != 0)
		return 0;
	/* An FCGI_ABORT_REQUEST read along with the body: no model call. */
	if (fconn_gone(h->r)) {
		log_msg(LOG_INFO, h->reqid, "client went away before scoring");
		h->o.state = OUT_FAILED;
		return 0;
	}
	if (start_run(h->app, h->r, &h->rq, resume, resume_len, msg,
	    h->warn, h->nwarn, h->reqid, h->t0, &h->log) != 0) {
		(void)out_error(&h->o, "overloaded", "the run could not be "
		    "started; try again shortly", "Retry-After: 5\r\n");
		return 0;
	}
	/* The resume is the run's now: don't hold a second copy. */
	buf_free(&h->text);
	buf_free(&h->f.resume);
	snprintf(hdr, sizeof(hdr), "X-Match-Run: %s\r\n", rl_id(h->log));
	if (h->stream && out_sse_begin(&h->o, hdr) != OUT_OK) {
		client_left(h);
		return 0;
	}
	if (hand_off(h, h->stream ? FL_SSE : FL_PLAIN, h->log, 0,
	    h->stream ? NULL : hdr) == 0)
		return 1;
	if (h->o.state == OUT_HEAD)
		(void)out_error(&h->o, "internal", "out of memory", NULL);
	return 0;
}

/* Read and drop the body: at most DRAIN_MAX bytes, until deadline. */
static void
drain(struct fconn *r, long long deadline)
{
	char		 chunk[READ_CHUNK];
	unsigned long	 total;
	size_t		 n;

	for (total = 0; total < DRAIN_MAX; total += n)
		if (fconn_read(r, chunk, sizeof(chunk), deadline, &n) !=
		    FCONN_OK || n == 0)
			break;
}

/*
 * Count one more long request (a match or a follower; the caller takes
 * it off again).  Nonzero if it is within MATCHJOBS_MAX_REQUESTS.
 */
static int
admitted(struct app *app)
{
	return atomic_fetch_add(&app->active, 1) < app->cfg->requests_max;
}

static void
busy(struct out *o)
{
	(void)out_error(o, "overloaded", "the server is busy; try "
	    "again shortly", "Retry-After: 5\r\n");
}

int
http_handle(struct app *app, struct http_worker *wk, struct fconn *r)
{
	struct hreq	*h;
	struct runlog	*follow;
	uint64_t	 after;

	/* Bound every blocking read and write on the client connection. */
	fconn_timeouts(r, app->cfg->client_timeout_ms);
	if ((h = malloc(sizeof(*h))) == NULL) {
		log_msg(LOG_ERROR, NULL, "request dropped: out of memory");
		return 0;
	}
	hreq_init(h, app, r);
	snprintf(h->reqid, sizeof(h->reqid), "%lx-%lu",
	    (unsigned long)getpid(), atomic_fetch_add(&app->seq, 1) + 1);
	h->method = fconn_param(r, "REQUEST_METHOD");
	if (h->method == NULL)
		h->method = "GET";
	h->uri = fconn_param(r, "REQUEST_URI");
	h->cors = cors_decide(app->cfg, fconn_param(r, "HTTP_ORIGIN"),
	    fconn_param(r, "HTTP_HOST"), &h->refused);
	out_init(&h->o, r, h->cors, h->reqid);
	h->route = http_route(fconn_param(r, "SCRIPT_NAME"),
	    fconn_param(r, "PATH_INFO"),
	    fconn_param(r, "DOCUMENT_URI"), h->uri, h->run_id);

	if (h->route == ROUTE_NONE) {
		drain(r, h->dl);
		(void)out_error(&h->o, "not_found", "no such route; try "
		    "POST /api/match-jobs, POST /api/match-jobs/stream, "
		    "GET /api/health, GET or DELETE /api/runs/{id}, "
		    "GET /api/runs/{id}/events or POST /api/runs/{id}/cancel",
		    NULL);
	} else if (h->route == ROUTE_HEALTH) {
		drain(r, h->dl);
		if (strcmp(h->method, "GET") == 0 ||
		    strcmp(h->method, "HEAD") == 0)
			health(app, &h->o);
		else
			(void)out_error(&h->o, "method_not_allowed",
			    "use GET", "Allow: GET, HEAD\r\n");
	} else if (h->route == ROUTE_RUN || h->route == ROUTE_RUN_EVENTS ||
	    h->route == ROUTE_RUN_CANCEL || h->route == ROUTE_RUNS) {
		drain(r, h->dl);
		/* A follower counts as long as a stream does. */
		h->counted = h->route == ROUTE_RUN_EVENTS &&
		    strcmp(h->method, "GET") == 0;
		follow = NULL;
		if (h->counted && !admitted(app))
			busy(&h->o);
		else
			runs_handle(app, r, &h->o, worker_store(wk), h->route,
			    h->method, h->run_id, h->refused, &follow, &after);
		if (follow != NULL) {
			if (hand_off(h, FL_SSE, follow, after, NULL) == 0) {
				rl_unref(follow);
				return 1;
			}
			rl_unref(follow);
		}
	} else if (strcmp(h->method, "OPTIONS") == 0) {
		drain(r, h->dl);
		(void)out_empty(&h->o, 204, h->cors != NULL ?
		    "Allow: POST, OPTIONS\r\n"
		    "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
		    "Access-Control-Allow-Headers: Content-Type, Accept\r\n"
		    "Access-Control-Max-Age: 600\r\n" :
		    "Allow: POST, OPTIONS\r\n");
	} else if (strcmp(h->method, "POST") != 0) {
		drain(r, h->dl);
		(void)out_error(&h->o, "method_not_allowed", "use POST",
		    "Allow: POST, OPTIONS\r\n");
	} else {
		h->counted = 1;
		h->stream = h->route == ROUTE_STREAM || wants_stream(r);
		if (!admitted(app)) {
			drain(r, h->dl);
			busy(&h->o);
		} else {
			if (match(h))
				return 1;
		}
	}
	access_log(h);
	hreq_free(h);
	free(h);
	return 0;
}

int
http_held(struct app *app)
{
	return atomic_load(&app->held);
}

void
http_ready(struct app *app)
{
	struct pdf_zygote *z;

	if (!app->cfg->pdf_zygote)
		return;
	if (pdf_zygote_start(&z, app->cfg->self_exe) != PDF_OK) {
		log_msg(LOG_WARN, NULL, "no PDF zygote; PDF children will "
		    "be exec'd");
		return;
	}
	atomic_store(&app->zygote, z);
}

void
http_cut(struct app *app)
{
	atomic_store(&app->cut, 1);
}
