/*
 * follow.h - followers: a run's frames written to one client, without a
 * thread of its own.
 *
 * A follower reads a run's log (runlog.h) after a cursor and writes what
 * it reads to one FastCGI connection that is non-blocking by now
 * (fconn_nonblock()); it never touches the run itself.  The writer
 * (writer.h) drives it from one thread for every client: fl_step() when
 * the log has new frames or the socket is writable again, fl_tick()
 * about once a second, fl_gone() when the connection reads EOF or an
 * FCGI_ABORT_REQUEST.  Each returns what the follower waits for next.
 * A follower counts itself with rl_follow()/rl_unfollow() from fl_new()
 * to fl_free(), so the runner can tell a run nobody follows (detach).
 *
 *  - FL_SSE: the stream routes and GET /api/runs/{id}/events.  Each frame
 *    with an id above `after` becomes an SSE frame "id: <n>\nevent:
 *    <type>\ndata: <data>\n\n", a batch of them flushed at once, through
 *    `done`; ": keepalive" after cfg->keepalive_ms without a frame.  The
 *    caller has sent the headers (out_sse_begin).
 *  - FL_PLAIN: the plain route.  Waits for `done`, then answers with the
 *    run's final frame: `complete` -> 200 and its "response"; `error` ->
 *    its code's status (errors.h: upstream_timeout 504, shutdown 503,
 *    cancelled 409, others 502) with {"error":{code,message},
 *    "response": ...}.  extra_headers (e.g. "X-Match-Run: ...\r\n") go
 *    with the answer.
 *
 * While the client reads slower than frames come, the follower reads no
 * more of them (the log keeps them), so what waits in the connection's
 * backlog is at most one batch; a client that takes nothing for
 * cfg->client_timeout_ms is dropped.  Once written through, the follower
 * ends the request (fconn_end()) and says FL_OK when those bytes left.
 */
#ifndef MJ_FOLLOW_H
#define MJ_FOLLOW_H

#include <stdint.h>

struct config;
struct fconn;
struct out;
struct runlog;

enum fl_kind {
	FL_SSE = 0,
	FL_PLAIN
};

enum fl_status {
	FL_OK = 0,		/* written through done, the request ended */
	FL_MORE,		/* waiting for frames */
	FL_BLOCKED,		/* waiting for the client to read */
	FL_ERR_GONE,		/* the client went away, or stalled */
	FL_ERR_NOMEM,
	FL__MAX
};

struct fl;

/*
 * A follower of log (it takes a reference) writing to c through o (both
 * borrowed until fl_free()).  NULL without memory.
 */
struct fl	*fl_new(enum fl_kind, struct out *o, struct fconn *c,
		    struct runlog *log, uint64_t after,
		    const char *extra_headers, const struct config *);
/* Stop following (rl_unfollow) and free. f may be NULL. */
void		 fl_free(struct fl *f);

/* Write what can be written now; now is clock_ms(). */
enum fl_status	 fl_step(struct fl *f, long long now);
/* Keep-alives and the stall timeout; call about once a second. */
enum fl_status	 fl_tick(struct fl *f, long long now);
/* The client left: FL_ERR_GONE from now on (unless it ended already). */
enum fl_status	 fl_gone(struct fl *f);
/* What the follower last said. */
enum fl_status	 fl_status(const struct fl *f);
struct runlog	*fl_log(const struct fl *f);
enum fl_kind	 fl_kind(const struct fl *f);
int		 fl_is_done(enum fl_status);

const char	*fl_strerror(enum fl_status);

#endif /* MJ_FOLLOW_H */
