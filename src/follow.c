/*
 * follow.c - followers: a run's frames written to one client; see
 * follow.h.
 *
 * Both followers have the same loop: read the frames after the cursor
 * (at most MJ_FOLLOW_BATCH, waiting at most MJ_FOLLOW_WAIT_MS and never
 * past the keep-alive deadline when there are none), write them, and
 * look whether the client left: after a wake without frames, and while
 * frames flow at most every MJ_FOLLOW_LOOK_MS (a poll() per token would
 * cost as much as the token's own send).  The plain follower sleeps until
 * the log closes (rl_wait_end): tokens don't wake it.  The SSE follower
 * writes each batch with one flush; the plain follower only moves its
 * cursor and answers from the run's result frame once the log is
 * closed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bounds.h"
#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "errors.h"
#include "fconn.h"
#include "follow.h"
#include "output.h"
#include "runlog.h"

/* How long to wait in rl_read for a frame due by deadline (clock_ms). */
static long
wait_for(long long deadline)
{
	long long	 d;

	d = deadline - clock_ms();
	if (d < 0)
		return 0;
	return d > MJ_FOLLOW_WAIT_MS ? MJ_FOLLOW_WAIT_MS : (long)d;
}

static enum fl_status
from_out(enum out_status os)
{
	return os == OUT_ERR_NOMEM ? FL_ERR_NOMEM : FL_ERR_GONE;
}

enum fl_status
fl_sse(struct out *o, struct fconn *c, struct runlog *l, uint64_t after,
    const struct config *cfg)
{
	struct rl_frame	 f[MJ_FOLLOW_BATCH];
	long long	 quiet;		/* clock_ms() when bytes last went out */
	long long	 looked;	/* clock_ms() of the last fconn_gone() */
	enum out_status	 os;
	enum fl_status	 rc;
	size_t		 n, i;
	int		 closed, wrote;

	rl_follow(l);
	quiet = looked = clock_ms();
	for (;;) {
		rl_read(l, after, f, MJ_FOLLOW_BATCH,
		    wait_for(quiet + cfg->keepalive_ms), &n, &closed);
		os = OUT_OK;
		wrote = n > 0;
		for (i = 0; i < n && os == OUT_OK; i++)
			os = out_sse_frame(o, f[i].id, f[i].type, f[i].data,
			    f[i].len);
		if (n > 0)
			after = f[n - 1].id;
		else if (!closed && clock_ms() >= quiet + cfg->keepalive_ms) {
			os = out_sse_keepalive(o);
			wrote = 1;
		}
		if (os == OUT_OK && wrote) {
			os = out_flush(o);
			quiet = clock_ms();
		}
		if (os != OUT_OK) {
			rc = from_out(os);
			break;
		}
		if (closed) {
			rc = FL_OK;
			break;
		}
		if (n > 0 && clock_ms() - looked < MJ_FOLLOW_LOOK_MS)
			continue;
		looked = clock_ms();
		if (fconn_gone(c)) {
			rc = FL_ERR_GONE;
			break;
		}
	}
	rl_unfollow(l);
	return rc;
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
	const char	*code;

	buf_init(&h, 4096);
	if (buf_adds(&h, "Cache-Control: no-store\r\n") != BUF_OK ||
	    (extra != NULL && buf_adds(&h, extra) != BUF_OK)) {
		os = OUT_ERR_NOMEM;
		goto out;
	}
	rl_info(l, &in);
	if (in.result_id != 0 && rl_frame_get(l, in.result_id, &f) == 0)
		data = json_tokener_parse(f.data);
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

enum fl_status
fl_plain(struct out *o, struct fconn *c, struct runlog *l,
    const struct config *cfg, const char *extra)
{
	enum out_status	 os;
	enum fl_status	 rc;

	(void)cfg;	/* no keep-alive: nothing is sent before the answer */
	rl_follow(l);
	for (;;) {
		if (rl_wait_end(l, MJ_FOLLOW_WAIT_MS))
			break;
		if (fconn_gone(c)) {
			rc = FL_ERR_GONE;
			goto out;
		}
	}
	os = answer(o, l, extra);
	rc = os == OUT_OK ? FL_OK : from_out(os);
out:
	rl_unfollow(l);
	return rc;
}
