/*
 * engine.h - scoring the jobs of every run of the process, on the
 * runner's thread.
 *
 * The engine knows nothing of HTTP or of clients: a run is its input
 * (the parsed request and the resume text) and its log (runlog.h).  The
 * engine appends each event to the log as a frame (status, job_start,
 * token, job_complete, then complete or error, then done); followers
 * (follow.c) turn the log into an SSE stream or a plain answer.  Both
 * routes therefore produce the same match response by construction.
 *
 * With an API key the jobs are scored by model calls in the pool
 * (upstream.h), at most cfg->concurrency at once per run; a job identical
 * to one whose call is in flight (same resume and job fields) joins that
 * call instead of making its own, and is reported "cached": true.
 * Without a key the local lexical engine (local.c) scores them, on the
 * worker thread of the request (eng_run_local: no model call, nothing
 * for the runner to own), and its answer is streamed as tokens the same
 * way.
 *
 * With a store (eng_set_store) the answers are also cached (SPEC
 * "Cache"): a job whose key (up_cache_key) holds an answer streams it
 * as tokens, makes no call and is reported "cached": true; a job that
 * made a call and got an answer that parsed stores it for
 * cfg->cache_ttl_s.  Cache-Control: no-cache (run_input.no_cache) skips
 * the lookup and the joining, and refreshes the entry.
 *
 * Not thread-safe: one thread (a runner lane's) calls everything here but
 * eng_wake() and eng_nudge(), which any thread may call.
 */
#ifndef MJ_ENGINE_H
#define MJ_ENGINE_H

#include <stddef.h>

struct config;
struct engine;
struct run_input;
struct runlog;
struct store;
struct up_formats;

enum eng_status {
	ENG_OK = 0,
	ENG_ERR_NOMEM,
	ENG__MAX
};

/*
 * An engine whose pool opens at most conns connections to the model
 * server (0: no cap).  formats (borrowed, shared by every lane, must
 * outlive the engine) remembers what response_format each server
 * accepted (upstream.h).
 */
enum eng_status	 eng_new(const struct config *, long conns,
		    struct up_formats *formats, struct engine **out)
		    __attribute__((warn_unused_result));
/* Free the engine; every run must have ended (eng_shutdown, eng_count). */
void		 eng_free(struct engine *);

/*
 * Start a run: take in's contents (in is zeroed on every return) and a
 * reference to log, append the `scoring` status and start its first
 * calls.  On ENG_ERR_NOMEM nothing was appended.
 */
enum eng_status	 eng_add(struct engine *, struct run_input *in,
		    struct runlog *log) __attribute__((warn_unused_result));

/*
 * One turn: move the calls on (waiting up to wait_ms for the network or
 * eng_wake()), end the jobs whose calls ended, start the next ones,
 * enforce the first-token and idle deadlines, start retries that are
 * due, and end the runs that were cancelled or that nobody followed for
 * cfg->detach_ms.
 */
void		 eng_turn(struct engine *, long wait_ms);
/*
 * Cache answers in st from now on (NULL: no more): borrowed, the
 * caller's connection, opened on the engine's thread and used by it
 * alone; it must outlive its use here (set NULL before closing it).
 * Store failures never fail a job (engine.c).
 */
void		 eng_set_store(struct engine *, struct store *st);
/*
 * Wake eng_turn() now and have it look at every run (a stop was
 * requested, a follower left).
 */
void		 eng_wake(struct engine *);
/*
 * Wake eng_turn() now, for work its caller queued (a new run): no look
 * at every run, which a burst of new runs would make quadratic.
 */
void		 eng_nudge(struct engine *);
/* Let eng_turn() also wake while fd is readable (the writer's). */
int		 eng_watch(struct engine *, int fd);
/* End every run now with `error` (code "shutdown") and `done`. */
void		 eng_shutdown(struct engine *);
/*
 * Score a local-engine run (cfg->local) to its end on the calling
 * thread: it makes no model call, so it needs neither the runner nor a
 * pool, and runs on every core instead of one.  Takes in as eng_add().
 */
enum eng_status	 eng_run_local(const struct config *, struct run_input *in,
		    struct runlog *log) __attribute__((warn_unused_result));
/* Runs not ended yet. */
size_t		 eng_count(const struct engine *);

#endif /* MJ_ENGINE_H */
