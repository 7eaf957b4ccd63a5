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
/* Send the event-stream headers (and extra, ending in "\r\n", or NULL). */
enum out_status out_sse_begin(struct out *, const char *extra_headers);
/* Send body bytes (after out_sse_begin); flush: send them now. */
enum out_status out_write(struct out *, const char *p, size_t n, int flush);

#endif /* MJ_OUTPUT_H */
