/*
 * follow.c - followers: a run's frames written to one client; see
 * follow.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "fconn.h"
#include "follow.h"
#include "output.h"
#include "runlog.h"
#include "sse.h"

/* Frames read (and written with one flush) at a time. */
#define BATCH		64
/* The longest wait before looking at the client again. */
#define LOOK_MS		1000
/* While frames flow, look at the client this often. */
#define LOOK_EVERY_MS	200

/* Has the client gone away?  (EOF, or an FCGI_ABORT_REQUEST.) */
static int
client_left(struct fconn *r)
{
	struct pollfd	 p;
	char		 c;
	ssize_t		 n;

	if (fconn_gone(r))
		return 1;
	p.fd = fconn_fd(r);
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if (p.fd < 0 || poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return 1;
	n = recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	/* Any byte after the request's stdin ended is an abort. */
	return n == 0 || n == 1 || (n < 0 && errno != EAGAIN &&
	    errno != EINTR);
}

/* Append "id: n" and the frame to b; 0, or -1 (b left as it was). */
static int
frame(struct buf *b, const char *idl, const struct rl_frame *f)
{
	size_t	 len = b->len;

	if (buf_adds(b, idl) == BUF_OK &&
	    sse_frame(b, f->type, f->data, f->len) == SSE_OK)
		return 0;
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
	return -1;
}

enum fl_status
fl_sse(struct out *o, struct fconn *r, struct runlog *log, uint64_t after,
    const struct config *cfg)
{
	struct rl_frame	 f[BATCH];
	struct buf	*b = &o->frame;
	enum fl_status	 rc = FL_OK;
	long long	 last, now, looked;
	long		 wait;
	size_t		 n, i;
	int		 closed;
	char		 idl[32];

	rl_follow(log);
	last = looked = clock_ms();
	for (;;) {
		now = clock_ms();
		wait = (long)(last + cfg->keepalive_ms - now);
		if (wait > LOOK_MS)
			wait = LOOK_MS;
		if (wait < 0)
			wait = 0;
		rl_read(log, after, f, BATCH, wait, &n, &closed);
		buf_reset(b);
		for (i = 0; i < n; i++) {
			snprintf(idl, sizeof(idl), "id: %llu\n",
			    (unsigned long long)f[i].id);
			if (frame(b, idl, &f[i]) != 0 && b->len > 0) {
				/* The batch is full: send it, then this one. */
				if (out_write(o, b->data, b->len, 0) !=
				    OUT_OK) {
					rc = FL_ERR_GONE;
					goto out;
				}
				buf_reset(b);
				if (frame(b, idl, &f[i]) != 0) {
					rc = FL_ERR_NOMEM;
					goto out;
				}
			}
			after = f[i].id;
		}
		if (n > 0) {
			if (out_write(o, b->data, b->len, 1) != OUT_OK) {
				rc = FL_ERR_GONE;
				goto out;
			}
			last = clock_ms();
		}
		if (closed)
			break;
		if (n == 0 && clock_ms() - last >= cfg->keepalive_ms) {
			if (out_write(o, ": keepalive\n\n", 13, 1) != OUT_OK) {
				rc = FL_ERR_GONE;
				goto out;
			}
			last = clock_ms();
		}
		if ((n == 0 || clock_ms() - looked >= LOOK_EVERY_MS) &&
		    client_left(r)) {
			rc = FL_ERR_GONE;
			goto out;
		}
		if (n > 0 && clock_ms() - looked >= LOOK_EVERY_MS)
			looked = clock_ms();
	}
out:
	rl_unfollow(log);
	return rc;
}

/* The HTTP status of a run that ended with an error frame of code. */
static int
error_status(const char *code)
{
	if (strcmp(code, "upstream_timeout") == 0)
		return 504;
	if (strcmp(code, "shutdown") == 0)
		return 503;
	if (strcmp(code, "cancelled") == 0)
		return 409;
	if (strcmp(code, "internal") == 0)
		return 500;
	return 502;
}

enum fl_status
fl_plain(struct out *o, struct fconn *r, struct runlog *log,
    const struct config *cfg, const char *extra)
{
	struct rl_frame	 f[BATCH];
	struct rl_info	 info;
	struct rl_frame	 res;
	json_object	*root, *v, *body, *err;
	uint64_t	 after = 0;
	long long	 looked;
	size_t		 n;
	int		 closed;

	(void)cfg;
	rl_follow(log);
	looked = clock_ms();
	for (;;) {
		rl_read(log, after, f, BATCH, LOOK_MS, &n, &closed);
		if (n > 0)
			after = f[n - 1].id;
		if (closed)
			break;
		if ((n == 0 || clock_ms() - looked >= LOOK_EVERY_MS) &&
		    client_left(r)) {
			rl_unfollow(log);
			return FL_ERR_GONE;
		}
		if (n > 0 && clock_ms() - looked >= LOOK_EVERY_MS)
			looked = clock_ms();
	}
	rl_unfollow(log);
	rl_info(log, &info);
	root = NULL;
	if (info.result_id != 0 && rl_frame_get(log, info.result_id, &res) == 0)
		root = json_tokener_parse(res.data);
	if (root == NULL) {
		(void)out_error(o, 500, "internal", "the run ended without "
		    "a response", extra);
		return FL_OK;
	}
	if (!json_object_object_get_ex(root, "response", &v))
		v = NULL;
	if (strcmp(res.type, "complete") == 0 && v != NULL) {
		(void)out_json(o, 200, extra, v);
	} else {
		body = json_object_new_object();
		err = json_object_new_object();
		json_object_object_add(err, "code", json_object_get(
		    json_object_object_get_ex(root, "code", &v) ? v : NULL));
		json_object_object_add(err, "message", json_object_get(
		    json_object_object_get_ex(root, "message", &v) ? v :
		    NULL));
		json_object_object_add(body, "error", err);
		json_object_object_add(body, "response", json_object_get(
		    json_object_object_get_ex(root, "response", &v) ? v :
		    NULL));
		(void)out_json(o, error_status(json_object_object_get_ex(root,
		    "code", &v) ? json_object_get_string(v) : ""), extra,
		    body);
		json_object_put(body);
	}
	json_object_put(root);
	return FL_OK;
}
