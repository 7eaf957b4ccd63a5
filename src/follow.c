/*
 * follow.c - followers: a run's frames written to one client; see
 * follow.h.
 *
 * A step first sends what the connection's backlog holds; while bytes
 * wait there it reads no frames.  Then the SSE follower reads the frames
 * after its cursor, a batch (MJ_FOLLOW_BATCH) at a time, renders each
 * (out_sse_frame) and flushes the batch with one send; the plain one
 * only looks whether the log is closed, and then answers from the run's
 * result frame.  Once the log is written through, the request ends
 * (fconn_end) and the follower is done when the backlog is empty.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "buf.h"
#include "cfg.h"
#include "errors.h"
#include "fconn.h"
#include "follow.h"
#include "output.h"
#include "runlog.h"

struct fl {
	enum fl_kind		 kind;
	enum fl_status		 st;
	struct out		*o;		/* borrowed */
	struct fconn		*c;		/* borrowed */
	struct runlog		*log;		/* a reference of ours */
	const struct config	*cfg;
	char			*extra;		/* plain: headers, or NULL */
	uint64_t		 after;		/* the last frame written */
	long long		 quiet;		/* when bytes last went out */
	long long		 moved;		/* when the backlog last shrank */
	int			 ending;	/* fconn_end() called */
};

static enum fl_status
from_out(enum out_status os)
{
	return os == OUT_ERR_NOMEM ? FL_ERR_NOMEM : FL_ERR_GONE;
}

int
fl_is_done(enum fl_status st)
{
	return st != FL_MORE && st != FL_BLOCKED;
}

struct fl *
fl_new(enum fl_kind kind, struct out *o, struct fconn *c, struct runlog *log,
    uint64_t after, const char *extra, const struct config *cfg)
{
	struct fl *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (extra != NULL && (f->extra = strdup(extra)) == NULL) {
		free(f);
		return NULL;
	}
	f->kind = kind;
	f->st = FL_MORE;
	f->o = o;
	f->c = c;
	f->log = rl_ref(log);
	f->cfg = cfg;
	f->after = after;
	f->quiet = f->moved = 0;
	rl_follow(log);
	return f;
}

void
fl_free(struct fl *f)
{
	if (f == NULL)
		return;
	rl_unfollow(f->log);
	rl_unref(f->log);
	free(f->extra);
	free(f);
}

/* A string member of o, or dflt. */
static const char *
member_str(json_object *o, const char *key, const char *dflt)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* Answer the plain route from the closed log's result frame. */
static enum out_status
answer(struct out *o, struct runlog *l, const char *extra)
{
	struct rl_info	 in;
	struct rl_frame	 f;
	struct buf	 h;
	json_object	*data = NULL, *resp, *root, *err;
	enum out_status	 os;
	const char	*code, *r;
	size_t		 rlen;

	buf_init(&h, 4096);
	if (buf_adds(&h, "Cache-Control: no-store\r\n") != BUF_OK ||
	    (extra != NULL && buf_adds(&h, extra) != BUF_OK)) {
		os = OUT_ERR_NOMEM;
		goto out;
	}
	rl_info(l, &in);
	if (in.result_id != 0 && rl_frame_get(l, in.result_id, &f) == 0) {
		if (rl_complete_response(&f, &r, &rlen)) {
			os = out_json_raw(o, 200, h.data, r, rlen);
			goto out;
		}
		data = json_tokener_parse(f.data);
	}
	if (data == NULL || !json_object_object_get_ex(data, "response",
	    &resp)) {
		/* The runner could not append its result (the log filled). */
		os = out_error(o, "internal", "the run ended without a "
		    "result", h.data);
		goto out;
	}
	if (strcmp(f.type, "complete") == 0) {
		os = out_json(o, 200, h.data, resp);
		goto out;
	}
	code = member_str(data, "code", "upstream_error");
	root = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(
	    member_str(data, "message", "the run failed")));
	json_object_object_add(root, "error", err);
	json_object_object_add(root, "response", json_object_get(resp));
	os = out_json(o, err_status(code), h.data, root);
	json_object_put(root);
out:
	json_object_put(data);
	buf_free(&h);
	return os;
}

/*
 * The log is written through: end the request.  FL_OK once the bytes
 * left, FL_BLOCKED while they wait.
 */
static enum fl_status
end_request(struct fl *f, long long now)
{
	if (!f->ending) {
		f->ending = 1;
		f->moved = now;
		if (fconn_end(f->c, 0) != FCONN_OK)
			return FL_ERR_GONE;
	}
	return fconn_pending(f->c) > 0 ? FL_BLOCKED : FL_OK;
}

/* Send the backlog.  FL_MORE when it is empty now. */
static enum fl_status
drain(struct fl *f, long long now)
{
	size_t before;

	if ((before = fconn_pending(f->c)) == 0)
		return FL_MORE;
	if (fconn_drain(f->c) != FCONN_OK)
		return FL_ERR_GONE;
	if (fconn_pending(f->c) < before)
		f->moved = now;
	return fconn_pending(f->c) > 0 ? FL_BLOCKED : FL_MORE;
}

static enum fl_status
step_sse(struct fl *f, long long now)
{
	struct rl_frame	 fr[MJ_FOLLOW_BATCH];
	enum out_status	 os;
	size_t		 n, i;
	int		 closed;

	for (;;) {
		rl_read(f->log, f->after, fr, MJ_FOLLOW_BATCH, 0, &n, &closed);
		os = OUT_OK;
		for (i = 0; i < n && os == OUT_OK; i++)
			os = out_sse_frame(f->o, fr[i].id, fr[i].type,
			    fr[i].data, fr[i].len);
		if (n > 0) {
			f->after = fr[n - 1].id;
			if (os == OUT_OK)
				os = out_flush(f->o);
			f->quiet = now;
		}
		if (os != OUT_OK)
			return from_out(os);
		if (closed)
			return end_request(f, now);
		if (fconn_pending(f->c) > 0) {
			f->moved = now;
			return FL_BLOCKED;
		}
		if (n < MJ_FOLLOW_BATCH)
			return FL_MORE;
	}
}

static enum fl_status
step_plain(struct fl *f, long long now)
{
	enum out_status os;

	if (rl_state(f->log) == RL_RUNNING)
		return FL_MORE;
	os = answer(f->o, f->log, f->extra);
	if (os == OUT_ERR_NOMEM && f->o->state == OUT_HEAD)
		os = out_error(f->o, "internal", "out of memory", NULL);
	if (os != OUT_OK)
		return from_out(os);
	return end_request(f, now);
}

enum fl_status
fl_step(struct fl *f, long long now)
{
	enum fl_status st;

	if (fl_is_done(f->st))
		return f->st;
	if (f->quiet == 0)
		f->quiet = f->moved = now;
	st = drain(f, now);
	if (st == FL_MORE)
		st = f->ending ? end_request(f, now) :
		    f->kind == FL_SSE ? step_sse(f, now) : step_plain(f, now);
	return f->st = st;
}

enum fl_status
fl_tick(struct fl *f, long long now)
{
	enum out_status os;

	if (fl_is_done(f->st))
		return f->st;
	if (f->quiet == 0)
		f->quiet = f->moved = now;
	if (f->st == FL_BLOCKED) {
		/* Nothing taken for that long: the client is as good as gone. */
		if (now - f->moved >= f->cfg->client_timeout_ms)
			f->st = FL_ERR_GONE;
		return f->st;
	}
	if (f->kind != FL_SSE || f->ending ||
	    now - f->quiet < f->cfg->keepalive_ms)
		return f->st;
	os = out_sse_keepalive(f->o);
	if (os == OUT_OK)
		os = out_flush(f->o);
	f->quiet = now;
	if (os != OUT_OK)
		return f->st = from_out(os);
	if (fconn_pending(f->c) > 0) {
		f->moved = now;
		f->st = FL_BLOCKED;
	}
	return f->st;
}

enum fl_status
fl_gone(struct fl *f)
{
	if (!fl_is_done(f->st))
		f->st = FL_ERR_GONE;
	return f->st;
}

enum fl_status
fl_status(const struct fl *f)
{
	return f->st;
}

struct runlog *
fl_log(const struct fl *f)
{
	return f->log;
}

enum fl_kind
fl_kind(const struct fl *f)
{
	return f->kind;
}

const char *
fl_strerror(enum fl_status st)
{
	static const char *const msgs[FL__MAX] = {
		"written through",
		"waiting for frames",
		"waiting for the client",
		"the client went away",
		"out of memory",
	};

	return (unsigned)st < FL__MAX ? msgs[st] : "unknown follower status";
}
