/*
 * output.h - writing the HTTP response to the FastCGI stream.
 *
 * "Headers, then body" is an explicit state: once the first body byte
 * of a stream went out, errors can only be in-band events, never a
 * second status line (out_* return OUT_ERR_STATE instead).  Two engine
 * writers live here: the SSE writer (each event becomes a frame, flushed
 * at once) and the collector of the plain route (keeps the final
 * response or error).
 */
#ifndef MJ_OUTPUT_H
#define MJ_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "engine.h"
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
	struct buf	 tok;		/* scratch for one token's JSON */
};

void	out_init(struct out *, struct fconn *, const char *cors_origin,
	    const char *reqid);
void	out_free(struct out *);

/* Send a complete JSON response; extra_headers ends in "\r\n" or NULL. */
enum out_status out_json(struct out *, int status, const char *extra_headers,
	    struct json_object *body);
/* Send {"error":{"code":..,"message":..}} with status. */
enum out_status out_error(struct out *, int status, const char *code,
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
/* An engine writer that sends SSE frames through o. */
void	out_sse_writer(struct out *o, struct eng_writer *w);

/* What the plain route's writer keeps of the event stream. */
struct collect {
	struct json_object *response;	/* owned: the match response */
	int		 failed;	/* an error event arrived */
	char		 code[64];	/* its code */
	char		 message[MJ_ERRMSG_MAX];
};
void	out_collect_init(struct collect *);
void	out_collect_free(struct collect *);
/* An engine writer that fills c (tokens are dropped). */
void	out_collect_writer(struct collect *c, struct eng_writer *w);

#endif /* MJ_OUTPUT_H */
