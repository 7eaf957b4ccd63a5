/*
 * runs.h - the run routes (SPEC 0.2 "Runs") over this process's runs.
 *
 * GET /api/runs/{id} (the run object), GET /api/runs/{id}/events (its
 * frames after a cursor, then the live ones: follow.c), POST
 * /api/runs/{id}/cancel and DELETE /api/runs/{id}.  The runs are those
 * of the registry app->runs (runlog.h); the routes never touch a run's
 * model calls, only its log (rl_request_stop() asks the runner to end
 * it).  GET /api/runs, the list of a user's runs, needs the store and is
 * not routed yet.  Not here either: the match routes, which start runs.
 */
#ifndef MJ_RUNS_H
#define MJ_RUNS_H

#include "http.h"

struct fconn;
struct out;

/*
 * Answer one request on a run route (ROUTE_RUN, ROUTE_RUN_EVENTS or
 * ROUTE_RUN_CANCEL) through o, whose headers are not sent yet.  id is
 * the {id} path segment as http_route() gave it (checked here);
 * refused: the request's Origin may not use the API (403).  The
 * request's body must have been read.  Returns once the answer is sent:
 * for .../events, when the run's log is closed or the client left.
 * Thread-safe.
 */
void	runs_handle(struct app *, struct fconn *, struct out *o,
	    enum route, const char *method, const char *id, int refused);

#endif /* MJ_RUNS_H */
