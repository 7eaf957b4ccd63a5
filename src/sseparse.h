/*
 * sseparse.h - incremental parser for a text/event-stream body.
 *
 * Reads the upstream model's streaming response (an OpenAI-compatible
 * chat.completions stream) and hands each complete event to a callback.
 * It implements the WHATWG HTML "event stream" grammar and its
 * interpretation, html.spec.whatwg.org/multipage/server-sent-events.html
 * §9.2.5 (parsing an event stream) and §9.2.6 (interpreting it):
 *
 *   stream        = [ bom ] *event
 *   event         = *( comment / field ) end-of-line
 *   comment       = colon *any-char end-of-line
 *   field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
 *   end-of-line   = ( cr lf / cr / lf )
 *
 * Lines end in CRLF, LF or CR, and a CR that ends one feed followed by
 * an LF that starts the next is one line end.  A leading UTF-8 BOM is
 * skipped.  "data" lines accumulate, joined with "\n"; "event" sets the
 * type (default "message"); "id", "retry" and unknown fields are
 * ignored, since this is not an EventSource and never reconnects.  A
 * blank line dispatches the event if at least one data line was seen.
 * An event not ended by a blank line when the stream ends is discarded,
 * as the spec says.
 *
 * Differences from a browser: bytes are passed through undecoded (no
 * U+FFFD replacement of invalid UTF-8); the caller parses the data as
 * JSON, which rejects what it must.  Input may be split anywhere,
 * including inside a line ending or a UTF-8 sequence.
 *
 * It is not a writer; sse.h writes frames for the browser.  Pure: no
 * I/O, no globals; one struct ssep per stream, owned by the caller.
 */
#ifndef MJ_SSEPARSE_H
#define MJ_SSEPARSE_H

#include <stddef.h>

#include "buf.h"

/*
 * A line may be this much longer than max_event, so a single "data: "
 * line can carry a full max_event bytes of data.
 */
#define SSEP_LINE_SLACK		64

enum ssep_status {
	SSEP_OK = 0,
	SSEP_ERR_TOO_BIG,	/* a line or an event's data over the max */
	SSEP_ERR_NOMEM,		/* allocation failed */
	SSEP_ERR_CALLBACK,	/* the event callback asked to stop */
	SSEP__MAX
};

struct ssep {
	struct buf	 line;	/* bytes of the unfinished line */
	struct buf	 data;	/* data lines of this event, "\n"-joined */
	struct buf	 event;	/* value of the last "event" field */
	int		 has_data; /* a data line was seen in this event */
	int		 last_cr; /* last byte seen was a CR line end */
	int		 bom;	/* BOM bytes matched; 3 once past it */
	enum ssep_status err;	/* sticky: first error seen */
};

/*
 * Called once per dispatched event.  event is the type ("message" when
 * no event field was given), data[0..len) the joined data lines, also
 * NUL-terminated (it may hold NULs of its own).  Both are borrowed and
 * valid only during the call.  Return 0 to go on, nonzero to stop the
 * parser with SSEP_ERR_CALLBACK.
 */
typedef int (*ssep_event_fn)(void *arg, const char *event,
    const char *data, size_t len);

/*
 * Set up a parser whose events carry at most max_event bytes of data
 * and whose lines are at most max_event + SSEP_LINE_SLACK bytes long.
 * Never fails; allocation happens on demand in ssep_feed().
 */
void		 ssep_init(struct ssep *, size_t max_event);

/* Release what the parser holds; safe on a zeroed struct and twice. */
void		 ssep_free(struct ssep *);

/*
 * Feed n bytes of the stream, calling fn(arg, ...) for each event they
 * complete.  Returns SSEP_OK, or the error that stopped parsing; errors
 * are sticky, so every later call returns the same one without reading
 * its input.  Thread-safe for distinct parsers.
 */
enum ssep_status ssep_feed(struct ssep *, const char *p, size_t n,
    ssep_event_fn fn, void *arg)
	__attribute__((warn_unused_result));

/*
 * Nonzero if input is pending that no event has consumed yet: an
 * unfinished line or data lines not yet followed by a blank line.  At
 * the end of the stream this means the last event was cut off.
 */
int		 ssep_pending(const struct ssep *);

/* A short English message for a status. */
const char	*ssep_strerror(enum ssep_status);

#endif /* MJ_SSEPARSE_H */
