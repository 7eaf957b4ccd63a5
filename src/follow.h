/*
 * follow.h - followers: a run's frames written to one client.
 *
 * A follower reads a run's log (runlog.h) after a cursor and writes what
 * it reads; it never touches the run itself.  It counts itself with
 * rl_follow()/rl_unfollow() for as long as it writes, so the runner can
 * tell a run nobody follows (detach).  A follower notices its client
 * leaving while it waits (the FastCGI connection reads EOF or an
 * FCGI_ABORT_REQUEST) within a second, and when a write fails.
 *
 *  - fl_sse(): the stream routes and GET /api/runs/{id}/events.  Each
 *    frame with an id above `after` becomes an SSE frame
 *    "id: <n>\nevent: <type>\ndata: <data>\n\n", flushed at once, through
 *    `done`; ": keepalive" after cfg->keepalive_ms without a frame.
 *    The caller has sent the headers (out_sse_begin).
 *  - fl_plain(): the plain route.  Waits for `done`, then answers with
 *    the run's final frame: `complete` -> 200 and its "response";
 *    `error` -> its code's status (upstream_timeout 504, shutdown 503,
 *    cancelled 409, others 502) with {"error":{code,message},
 *    "response": ...}.  extra_headers (e.g. "X-Match-Run: ...\r\n") go
 *    with the answer.
 */
#ifndef MJ_FOLLOW_H
#define MJ_FOLLOW_H

#include <stdint.h>

struct config;
struct fconn;
struct out;
struct runlog;

enum fl_status {
	FL_OK = 0,		/* written through done */
	FL_ERR_GONE,		/* the client went away first */
	FL_ERR_NOMEM,
	FL__MAX
};

enum fl_status	 fl_sse(struct out *, struct fconn *, struct runlog *,
		    uint64_t after, const struct config *);
enum fl_status	 fl_plain(struct out *, struct fconn *, struct runlog *,
		    const struct config *, const char *extra_headers);

#endif /* MJ_FOLLOW_H */
