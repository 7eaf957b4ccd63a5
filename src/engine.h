/*
 * engine.h - scores every job of one request and reports the work as
 * events through a writer.
 *
 * The engine knows nothing of HTTP: it calls the writer for each event
 * (status, job_start, token, job_complete, complete or error, done) and
 * the route layer decides what the writer does with them.  The stream
 * route's writer sends each one as an SSE frame at once; the plain
 * route's writer keeps only the final response.  Both routes therefore
 * produce the same match response by construction.
 *
 * With an API key the jobs are scored by upstream calls driven by one
 * libcurl multi handle, at most `concurrency` at once; without one, by
 * the local lexical engine (local.c), whose answer is streamed as tokens
 * the same way.
 */
#ifndef MJ_ENGINE_H
#define MJ_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>

struct config;
struct json_object;
struct req_job;
struct up_share;

/* Where events go.  Every callback returns 0, or -1: client gone. */
struct eng_writer {
	/* One event; data (borrowed) is its JSON object with "type". */
	int	(*event)(void *arg, const char *type,
		    struct json_object *data);
	/* One token event for job index: content s[0..n). */
	int	(*token)(void *arg, int index, const char *s, size_t n);
	/* Nothing was written for a while: keep the connection alive. */
	int	(*keepalive)(void *arg);
	void	*arg;
};

struct eng_request {
	const struct config	*cfg;
	struct up_share		*share;
	const char		*reqid;		/* for logs */
	const char		*user_id;
	const char		*resume;	/* resume text */
	size_t			 resume_len;
	const struct req_job	*jobs;
	size_t			 njobs;
	int			 client_fd;	/* FastCGI fd, or -1 */
	const atomic_int	*cut;		/* set: shut down now, or NULL */
	void			*multi;		/* CURLM to use (borrowed; left
						   empty), or NULL: own one */
	long long		 started_ms;	/* clock_ms() at arrival */
};

enum eng_status {
	ENG_OK = 0,		/* complete (or error) and done were sent */
	ENG_ERR_CLIENT_GONE,	/* the client left; transfers aborted */
	ENG_ERR_NOMEM,
	ENG__MAX
};

/*
 * Score all jobs of rq, writing events to w, ending with `complete` (at
 * least one job scored, or no job failed) or `error` (every job failed;
 * its data carries "code", "message" and the "response"; or the server
 * is shutting down: code "shutdown"), then `done`.
 * Blocks until done or the client is gone.  Thread-safe: all state is
 * in rq and the call.
 */
enum eng_status	 eng_run(const struct eng_request *rq,
		    const struct eng_writer *w);

/* Emit a status event {"type":"status","stage":..,"message":..}. */
int		 eng_status_event(const struct eng_writer *w,
		    const char *stage, const char *message);

#endif /* MJ_ENGINE_H */
