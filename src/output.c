/*
 * output.c - HTTP responses over FastCGI; see output.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fconn.h"
#include "errors.h"
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
}

void
out_free(struct out *o)
{
	buf_free(&o->frame);
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
out_json_raw(struct out *o, int status, const char *extra, const char *body,
    size_t len)
{
	enum out_status	 rc;

	rc = head(o, status, "application/json",
	    extra != NULL ? extra : "Cache-Control: no-store\r\n");
	if (rc == OUT_OK)
		rc = put(o, body, len, 0);
	if (rc == OUT_OK)
		rc = put(o, "\n", 1, 1);
	return rc;
}

enum out_status
out_json(struct out *o, int status, const char *extra, json_object *body)
{
	const char	*s;

	if (o->state != OUT_HEAD)
		return OUT_ERR_STATE;
	s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		return OUT_ERR_NOMEM;
	return out_json_raw(o, status, extra, s, strlen(s));
}

enum out_status
out_error(struct out *o, const char *code, const char *message,
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
	rc = out_json(o, err_status(code), extra, root);
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
	buf_reset(&o->frame);
	if (sse_comment(&o->frame, "keepalive") != SSE_OK)
		return OUT_ERR_NOMEM;
	return put(o, o->frame.data, o->frame.len, 0);
}

enum out_status
out_flush(struct out *o)
{
	return put(o, NULL, 0, 1);
}
