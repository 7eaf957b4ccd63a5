/*
 * runs.h - the run routes (SPEC 0.2 "Runs") over this process's runs.
 *
 * GET /api/runs/{id} (the run object), GET /api/runs/{id}/events (its
 * frames after a cursor, then the live ones: a follower, follow.h), POST
 * /api/runs/{id}/cancel, DELETE /api/runs/{id} and GET /api/runs (the
 * runs of the web server's authenticated user, from the store).  A run
 * this process holds is answered from its log in the registry app->runs
 * (runlog.h); any other from the store (store.h) that every process
 * shares: its row, its frames (a follower here reads a mirror log the
 * keeper fills as they come: keeper.h), and a cancel the process running
 * it picks up.  The routes never touch a run's model calls, only its log
 * (rl_request_stop() asks the runner to end it).  With MATCHJOBS_STORE=off
 * there are no run routes (404).  Not here: the match routes.
 */
#ifndef MJ_RUNS_H
#define MJ_RUNS_H

#include <stdint.h>

#include "http.h"

struct fconn;
struct out;
struct runlog;
struct store;

/*
 * Answer one request on a run route (ROUTE_RUN, ROUTE_RUN_EVENTS or
 * ROUTE_RUN_CANCEL, ROUTE_RUNS) through o, whose headers are not sent
 * yet; st is the calling thread's store connection (NULL: none).  id is
 * the {id} path segment as http_route() gave it (checked here);
 * refused: the request's Origin may not use the API (403).  The
 * request's body must have been read.  Returns once the answer is sent,
 * but for .../events with frames to send: then the event-stream headers
 * are sent and *follow is the log (a reference for the caller) to
 * follow from the frame after *after (the caller hands it to the
 * writer: follow.h).  Thread-safe.
 */
void	runs_handle(struct app *, struct fconn *, struct out *o,
	    struct store *st, enum route, const char *method, const char *id,
	    int refused, struct runlog **follow, uint64_t *after);

#endif /* MJ_RUNS_H */
