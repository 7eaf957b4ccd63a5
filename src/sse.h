/*
 * sse.h - write Server-Sent Events frames for the browser.
 *
 * Formats events in the WHATWG "event stream" syntax
 * (html.spec.whatwg.org/multipage/server-sent-events.html §9.2.5):
 *
 *   id: <n>\n
 *   event: <type>\n
 *   data: <line 1>\n
 *   data: <line 2>\n
 *   \n
 *
 * so that a spec-compliant reader (EventSource, or fetch() with a
 * hand-written parser, or sseparse.c) gets back the id, the type and the
 * data with its line breaks turned into "\n".  The id is the frame's
 * number in its run's log (runlog.h): a reader that reconnects sends the
 * last one it got as Last-Event-ID and the stream resumes after it.  No
 * "retry" field is written: the reader's default reconnection delay is
 * kept.  Frames are appended to a struct buf; sending and flushing them
 * is the output layer's job.  Pure: no I/O, no globals.
 */
#ifndef MJ_SSE_H
#define MJ_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum sse_status {
	SSE_OK = 0,
	SSE_ERR_TYPE,		/* event type empty or has CR, LF or ':' */
	SSE_ERR_TEXT,		/* comment text has CR or LF */
	SSE_ERR_TOO_BIG,	/* the frame does not fit in the buffer */
	SSE_ERR_NOMEM,		/* allocation failed */
	SSE__MAX
};

/*
 * Append one frame "id: <id>\nevent: <type>\ndata: <line>\n...\n\n" to
 * out; id 0 writes no id line (a frame outside any run log).  data
 * [0..len) is split on "\n", "\r\n" and "\r" into several data: lines,
 * so no byte of it can break the framing; a reader joins them with
 * "\n".  Each line is written after "data: ", so a line that begins
 * with a space keeps it.  Empty data gives one empty data line.  A
 * JSON-encoded payload (json-c escapes control characters) is always
 * one line.  On error out is left as it was.  Thread-safe for distinct
 * buffers.
 */
enum sse_status sse_frame(struct buf *out, uint64_t id, const char *type,
    const char *data, size_t len)
	__attribute__((warn_unused_result));

/*
 * Append a comment ": <text>\n\n", e.g. a keep-alive.  text must not
 * hold CR or LF (SSE_ERR_TEXT).  On error out is left as it was.
 */
enum sse_status sse_comment(struct buf *out, const char *text)
	__attribute__((warn_unused_result));

/* A short English message for a status. */
const char	*sse_strerror(enum sse_status);

#endif /* MJ_SSE_H */
