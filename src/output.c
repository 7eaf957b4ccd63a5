/*
 * output.c - HTTP responses over FastCGI; see output.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fconn.h"
#include "output.h"
#include "sse.h"

/*
 * One SSE frame rendered from a run log's frame: the data of a frame is
 * at most the log's bytes, plus its id and event lines.
 */
#define FRAME_MAX	(MJ_RUNLOG_BYTES_MAX + 256u)

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

void
out_init(struct out *o, struct fconn *os, const char *cors_origin,
    const char *reqid)
{
	memset(o, 0, sizeof(*o));
	o->os = os;
	o->cors_origin = cors_origin;
	o->reqid = reqid;
	buf_init(&o->frame, FRAME_MAX);
	buf_init(&o->tok, FRAME_MAX);
}

void
out_free(struct out *o)
{
	buf_free(&o->frame);
	buf_free(&o->tok);
}

static enum out_status
put(struct out *o, const char *p, size_t n, int flush)
{
	if (o->state == OUT_FAILED)
		return OUT_ERR_GONE;
	if ((n > 0 && fconn_write(o->os, p, n) != FCONN_OK) ||
	    (flush && fconn_flush(o->os) != FCONN_OK)) {
		o->state = OUT_FAILED;
		return OUT_ERR_GONE;
	}
	return OUT_OK;
}

static enum out_status
head(struct out *o, int status, const char *ctype, const char *extra)
{
	struct buf	 h;
	enum out_status	 rc;

	if (o->state != OUT_HEAD)
		return OUT_ERR_STATE;
	buf_init(&h, 8192);
	if (buf_printf(&h, "Status: %d %s\r\n", status, reason(status))
	    != BUF_OK ||
	    (ctype != NULL &&
	    buf_printf(&h, "Content-Type: %s\r\n", ctype) != BUF_OK) ||
	    (o->reqid != NULL &&
	    buf_printf(&h, "X-Request-Id: %s\r\n", o->reqid) != BUF_OK) ||
	    (o->cors_origin != NULL &&
	    buf_printf(&h, "Access-Control-Allow-Origin: %s\r\n"
	    "Access-Control-Expose-Headers: Retry-After, X-Request-Id, "
	    "X-Match-Run\r\n"
	    "Vary: Origin\r\n", o->cors_origin) != BUF_OK) ||
	    (extra != NULL && buf_adds(&h, extra) != BUF_OK) ||
	    buf_adds(&h, "\r\n") != BUF_OK) {
		buf_free(&h);
		return OUT_ERR_NOMEM;
	}
	o->status = status;
	o->state = OUT_BODY;
	rc = put(o, h.data, h.len, 0);
	buf_free(&h);
	return rc;
}

enum out_status
out_json(struct out *o, int status, const char *extra, json_object *body)
{
	const char	*s;
	enum out_status	 rc;

	rc = head(o, status, "application/json",
	    extra != NULL ? extra : "Cache-Control: no-store\r\n");
	if (rc != OUT_OK)
		return rc;
	s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		return OUT_ERR_NOMEM;
	rc = put(o, s, strlen(s), 0);
	if (rc == OUT_OK)
		rc = put(o, "\n", 1, 1);
	return rc;
}

enum out_status
out_error(struct out *o, int status, const char *code, const char *message,
    const char *extra)
{
	json_object	*root, *err;
	enum out_status	 rc;

	root = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message",
	    json_object_new_string(message));
	json_object_object_add(root, "error", err);
	rc = out_json(o, status, extra, root);
	json_object_put(root);
	return rc;
}

enum out_status
out_empty(struct out *o, int status, const char *headers)
{
	enum out_status rc;

	rc = head(o, status, NULL, headers);
	if (rc == OUT_OK)
		rc = put(o, NULL, 0, 1);
	return rc;
}

enum out_status
out_sse_begin(struct out *o, const char *extra)
{
	struct buf	 h;
	enum out_status	 rc;

	buf_init(&h, 4096);
	if (buf_adds(&h, "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n") != BUF_OK ||
	    (extra != NULL && buf_adds(&h, extra) != BUF_OK)) {
		buf_free(&h);
		return OUT_ERR_NOMEM;
	}
	rc = head(o, 200, "text/event-stream", h.data);
	if (rc == OUT_OK)
		rc = put(o, NULL, 0, 1);
	buf_free(&h);
	return rc;
}

enum out_status
out_sse_frame(struct out *o, uint64_t id, const char *type, const char *data,
    size_t len)
{
	if (o->state == OUT_HEAD)
		return OUT_ERR_STATE;
	buf_reset(&o->frame);
	if (sse_frame(&o->frame, id, type, data, len) != SSE_OK)
		return OUT_ERR_NOMEM;
	return put(o, o->frame.data, o->frame.len, 0);
}

enum out_status
out_sse_keepalive(struct out *o)
{
	if (o->state == OUT_HEAD)
		return OUT_ERR_STATE;
	return put(o, ": keepalive\n\n", 13, 0);
}

enum out_status
out_flush(struct out *o)
{
	return put(o, NULL, 0, 1);
}

static int
sse_event(void *arg, const char *type, json_object *data)
{
	struct out	*o = arg;
	const char	*s;

	s = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	buf_reset(&o->frame);
	if (s == NULL || sse_frame(&o->frame, 0, type, s, strlen(s)) != SSE_OK)
		return -1;
	return put(o, o->frame.data, o->frame.len, 1) == OUT_OK ? 0 : -1;
}

static int
sse_token(void *arg, int index, const char *s, size_t n)
{
	struct out *o = arg;

	buf_reset(&o->tok);
	buf_reset(&o->frame);
	if (buf_printf(&o->tok, "{\"type\":\"token\",\"index\":%d,"
	    "\"content\":\"", index) != BUF_OK ||
	    buf_add_json_str(&o->tok, s, n) != BUF_OK ||
	    buf_adds(&o->tok, "\"}") != BUF_OK ||
	    sse_frame(&o->frame, 0, "token", o->tok.data, o->tok.len) != SSE_OK)
		return -1;
	return put(o, o->frame.data, o->frame.len, 1) == OUT_OK ? 0 : -1;
}

static int
sse_keepalive(void *arg)
{
	struct out *o = arg;

	return put(o, ": keepalive\n\n", 13, 1) == OUT_OK ? 0 : -1;
}

void
out_sse_writer(struct out *o, struct eng_writer *w)
{
	w->event = sse_event;
	w->token = sse_token;
	w->keepalive = sse_keepalive;
	w->arg = o;
}

void
out_collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
}

void
out_collect_free(struct collect *c)
{
	if (c->response != NULL)
		json_object_put(c->response);
	c->response = NULL;
}

static int
collect_event(void *arg, const char *type, json_object *data)
{
	struct collect	*c = arg;
	json_object	*v;

	if (strcmp(type, "complete") != 0 && strcmp(type, "error") != 0)
		return 0;
	if (json_object_object_get_ex(data, "response", &v)) {
		out_collect_free(c);
		c->response = json_object_get(v);
	}
	if (strcmp(type, "error") == 0) {
		c->failed = 1;
		if (json_object_object_get_ex(data, "code", &v))
			snprintf(c->code, sizeof(c->code), "%s",
			    json_object_get_string(v));
		if (json_object_object_get_ex(data, "message", &v))
			snprintf(c->message, sizeof(c->message), "%s",
			    json_object_get_string(v));
	}
	return 0;
}

static int
collect_token(void *arg, int index, const char *s, size_t n)
{
	(void)arg;
	(void)index;
	(void)s;
	(void)n;
	return 0;
}

static int
collect_keepalive(void *arg)
{
	(void)arg;
	return 0;
}

void
out_collect_writer(struct collect *c, struct eng_writer *w)
{
	w->event = collect_event;
	w->token = collect_token;
	w->keepalive = collect_keepalive;
	w->arg = c;
}
