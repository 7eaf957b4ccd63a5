/*
 * output.h - writing the HTTP response to the FastCGI stream.
 *
 * "Headers, then body" is an explicit state: once the first body byte
 * of a stream went out, errors can only be in-band events, never a
 * second status line (out_* return OUT_ERR_STATE instead).  The body of
 * an event stream is a run log's frames (out_sse_frame()), written by a
 * follower (follow.c), which decides when to flush.
 */
#ifndef MJ_OUTPUT_H
#define MJ_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bounds.h"

struct fconn;
struct json_object;

enum out_state {
	OUT_HEAD = 0,		/* nothing sent yet */
	OUT_BODY,		/* headers sent; body may follow */
	OUT_FAILED,		/* a write failed: the client is gone */
	OUT_STATE__MAX
};

enum out_status {
	OUT_OK = 0,
	OUT_ERR_GONE,		/* writing to the client failed */
	OUT_ERR_STATE,		/* headers were already sent */
	OUT_ERR_NOMEM,
	OUT__MAX
};

struct out {
	struct fconn	*os;		/* borrowed request connection */
	enum out_state	 state;
	const char	*cors_origin;	/* echoed origin, or NULL */
	const char	*reqid;		/* X-Request-Id */
	int		 status;	/* HTTP status sent, for the log */
	struct buf	 frame;		/* scratch for one SSE frame */
};

void	out_init(struct out *, struct fconn *, const char *cors_origin,
	    const char *reqid);
void	out_free(struct out *);

/* Send a complete JSON response; extra_headers ends in "\r\n" or NULL. */
enum out_status out_json(struct out *, int status, const char *extra_headers,
	    struct json_object *body);
/*
 * The same with the body already serialized: body[0..len), one JSON
 * value, sent as it is (a newline follows).
 */
enum out_status out_json_raw(struct out *, int status,
	    const char *extra_headers, const char *body, size_t len);
/*
 * Send {"error":{"code":..,"message":..}} with the code's status from the
 * one table of them (errors.h).
 */
enum out_status out_error(struct out *, const char *code,
	    const char *message, const char *extra_headers);
/* Send a response without a body (204, OPTIONS). */
enum out_status out_empty(struct out *, int status, const char *headers);
/*
 * Send the event-stream headers (Content-Type, Cache-Control: no-cache,
 * X-Accel-Buffering: no, then extra_headers: "\r\n"-ended lines, or
 * NULL), flushed; then the body is SSE frames (out_sse_frame()).
 */
enum out_status out_sse_begin(struct out *, const char *extra_headers);
/*
 * Queue one SSE frame (sse_frame(): id 0 writes no id line) after
 * out_sse_begin(); it goes out with the next out_flush() or when the
 * connection's buffer fills.  OUT_ERR_STATE before the headers,
 * OUT_ERR_NOMEM when the frame can't be rendered.
 */
enum out_status out_sse_frame(struct out *, uint64_t id, const char *type,
	    const char *data, size_t len);
/* Queue the comment ": keepalive" (as out_sse_frame()). */
enum out_status out_sse_keepalive(struct out *);
/* Send what is queued now. OUT_ERR_GONE if the client is gone. */
enum out_status out_flush(struct out *);

#endif /* MJ_OUTPUT_H */
