/*
 * http.h - routes, request bodies and answers for one FastCGI request.
 *
 * http_handle() is the whole life of a request: find the route from the
 * CGI variables, check method and content type, read the body under the
 * size limit (multipart through multipart.c, JSON as is), validate it
 * (request.c), read the resume (pdf.c), then start the run (runner.h)
 * and hand the connection to the runner's writer with a follower of the
 * run (follow.h): as an SSE stream or as the plain answer.
 * Errors before the run starts are plain HTTP answers with a JSON body;
 * after, they are `error` frames of the run.
 */
#ifndef MJ_HTTP_H
#define MJ_HTTP_H

#include <stdatomic.h>

#include "runlog.h"

struct config;
struct fconn;
struct http_worker;
struct keeper;
struct sender;
struct pdf_zygote;
struct rl_runs;
struct runner;

enum route {
	ROUTE_NONE = 0,		/* unknown path: 404 */
	ROUTE_MATCH,		/* /api/match-jobs */
	ROUTE_STREAM,		/* /api/match-jobs/stream */
	ROUTE_HEALTH,		/* /api/health */
	ROUTE_RUN,		/* /api/runs/{id} */
	ROUTE_RUN_EVENTS,	/* /api/runs/{id}/events */
	ROUTE_RUN_CANCEL,	/* /api/runs/{id}/cancel */
	ROUTE_RUNS,		/* /api/runs: the user's runs */
	ROUTE__MAX
};

/* What every request shares: read-only config and counters. */
struct app {
	const struct config	*cfg;
	atomic_int		 active;	/* match requests and run
						   followers in flight */
	atomic_int		 held;		/* of them, the writer's */
	atomic_ulong		 seq;		/* request counter, for ids */
	atomic_int		 cut;		/* shutting down: end now */
	struct pdf_zygote *_Atomic zygote;	/* PDF children, or NULL:
						   set once by http_ready */
	long long		 started_ms;	/* process start */
	struct runner		*runner;	/* every model call */
	struct rl_runs		*runs;		/* this process's runs */
	struct keeper		*keeper;	/* the store's writer, or NULL:
						   MATCHJOBS_STORE=off */
	char			 holder[64];	/* this process in the store */
	struct sender		*sender;	/* webhook delivery, or NULL */
};

/*
 * The route named by the CGI variables (any may be NULL or ""), tried
 * in order PATH_INFO, SCRIPT_NAME+PATH_INFO, DOCUMENT_URI, REQUEST_URI;
 * the route is matched as a path suffix, so any mount prefix works.
 * For the run routes, run_id gets the {id} segment as it is ("" when it
 * is longer than a run id); the caller checks it (rl_id_valid()).  It is
 * "" for every other route.
 */
enum route	 http_route(const char *script_name, const char *path_info,
		    const char *document_uri, const char *request_uri,
		    char run_id[RL_ID_LEN + 1]);

/*
 * What one worker thread keeps between requests: nothing any more (the
 * model calls are the runner's); kept so the server's worker hooks stay.
 */
struct http_worker *http_worker_new(struct app *);
void		 http_worker_free(struct http_worker *);

/*
 * Serve one accepted request.  0: it ended, the caller ends the
 * connection; 1: the connection went to the runner's writer with its
 * stream, which ends and frees it (the caller must not touch it).
 * w may be NULL.
 */
int		 http_handle(struct app *, struct http_worker *w,
		    struct fconn *);
/* Requests the writer holds (for the shutdown's grace period). */
int		 http_held(struct app *);
/*
 * The server accepts requests: start what can come after the first one
 * (the PDF zygote, so a fresh process answers sooner; spawned by mod_fcgid
 * on demand, startup time is request latency).
 */
void		 http_ready(struct app *);
/* End the requests in flight (shutdown grace period over). */
void		 http_cut(struct app *);

#endif /* MJ_HTTP_H */
