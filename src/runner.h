/*
 * runner.h - the runner: every model call of the process, on a few
 * threads (lanes: MATCHJOBS_RUNNERS, one per core by default).
 *
 * A worker thread that accepted a match request validates it, reads the
 * resume, creates the run's log (runlog.h), appends the `accepted` frame
 * and hands the run to the runner with runner_submit(), then its client
 * connection with runner_follow(): a follower (follow.h) that the
 * runner's writer (writer.h) drives on the runner's thread, so the
 * worker goes back to accepting.  The run goes on if its connection
 * goes away.
 *
 * Each lane's thread drives one libcurl multi handle (through upstream.c,
 * the only module that knows libcurl): one CA store, one connection pool
 * (the process's MATCHJOBS_UPSTREAM_CONNS shared out between the lanes),
 * HTTP/2 multiplexing to servers that offer it.  It scores the jobs of
 * the runs given to it (engine.c), appends their frames to the run's
 * log, and ends each run with `complete` or `error`, then `done`; its
 * writer sends the frames to the clients that follow.  A run goes to the
 * lane its resume hashes to, so identical jobs meet in one lane.  It
 * also:
 *  - dedups: a job identical to one already in flight (same model, prompt
 *    version, resume and job fields) follows that call instead of making
 *    its own (SPEC "Cache"); it is reported "cached": true;
 *  - cancels: rl_request_stop() on a log (POST .../cancel, DELETE) wakes
 *    the runner, which aborts the run's calls and ends it `cancelled`;
 *  - detaches: a run with no follower goes on for cfg->detach_ms, then is
 *    cancelled the same way (0: at once);
 *  - shuts down: once *cut is set, every run ends with `error` (code
 *    `shutdown`) and `done`.
 */
#ifndef MJ_RUNNER_H
#define MJ_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>

#include "bounds.h"
#include "follow.h"
#include "request.h"

struct config;
struct runlog;
struct runner;
struct store_gate;

enum rn_status {
	RN_OK = 0,
	RN_ERR_NOMEM,
	RN_ERR_STOPPED,		/* the runner is shutting down */
	RN_ERR_THREAD,		/* the runner thread could not start */
	RN__MAX
};

/* One of the match response's `warnings`. */
struct run_warning {
	char	 code[32];
	char	 message[MJ_WARNING_MAX];
};

/* What a run is made of; runner_submit() takes it over. */
struct run_input {
	struct req	 req;		/* the parsed request: user_id, jobs */
	char		*resume;	/* malloc'd resume text (NUL-ended) */
	size_t		 resume_len;
	char		 reqid[32];	/* for logs */
	long long	 started_ms;	/* clock_ms() at the request's arrival */
	int		 no_cache;	/* Cache-Control: no-cache: no cache
					   lookup, no dedup (the answer
					   still refreshes the cache) */
	struct run_warning *warnings;	/* malloc'd, nwarnings of them
					   (at most MJ_RUN_WARNINGS_MAX), or
					   NULL: most runs have none */
	size_t		 nwarnings;
};

/*
 * Start cfg->runners lanes (at least one). cut (may be NULL) is the
 * shutdown flag.  holder (copied; NULL: no store) is this process's id
 * in the store, for the lanes' own connections (the answer cache).
 */
enum rn_status	 runner_new(const struct config *, const atomic_int *cut,
		    const char *holder, struct runner **out)
		    __attribute__((warn_unused_result));
/* Stop the lanes: runs still going end as after a shutdown. */
void		 runner_free(struct runner *);
/* The gate its lanes' store connections take turns at (store.h), for
 * the keeper's: it lives as long as the runner. */
struct store_gate *runner_gate(struct runner *);

/*
 * Score in's jobs, appending frames to log (which must hold `accepted`
 * and whatever else the route wrote first) until `done`.  A local-engine
 * run (no API key) is scored on the calling thread before this returns:
 * it makes no model call.  Takes in's
 * contents on every return (in is zeroed); on an error nothing was
 * appended and the caller ends the log itself.
 */
enum rn_status	 runner_submit(struct runner *, struct run_input *in,
		    struct runlog *log) __attribute__((warn_unused_result));

/*
 * Hand follower f, writing to the non-blocking socket fd, to the writer
 * of the lane that runs f's log: on RN_OK it owns f and calls end(arg,
 * status) once, on that lane's thread, when the stream ends.  On an
 * error nothing was taken.
 */
enum rn_status	 runner_follow(struct runner *, struct fl *f, int fd,
		    void (*end)(void *, enum fl_status), void *arg)
		    __attribute__((warn_unused_result));
/* Streams the writer holds. */
size_t		 runner_streams(struct runner *);

/* Wake a lane (a log's hook, arg the lane: stop requested, no follower
 * left). */
void		 runner_wake(void *runner);

/* Runs in flight, for health and tests. */
size_t		 runner_active(struct runner *);

const char	*runner_strerror(enum rn_status);

#endif /* MJ_RUNNER_H */
