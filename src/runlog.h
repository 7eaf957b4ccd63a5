/*
 * runlog.h - a run's log: its frames, numbered 1, 2, 3, ..., appended by
 * whoever runs it and read by any number of followers.
 *
 * A run (SPEC 0.2, "Runs") outlives the connection that started it.  Its
 * frames are kept here as (id, event type, data) triples, immutable once
 * appended, so that a follower that starts late, or reconnects with
 * Last-Event-ID, reads exactly what was first sent: the SSE rendering of
 * a frame is a pure function of the triple (sse.c).  The last frame is
 * always `done`; after it the log is closed and its final state fixed.
 *
 * A follower holds a reference (rl_ref/rl_unref), keeps its own cursor
 * (the id of the last frame it has), and calls rl_read(): it returns the
 * frames after the cursor at once, or waits up to a time for new ones.
 * Frames stay valid for as long as the follower holds its reference.
 * The log is bounded (MJ_RUNLOG_* in bounds.h): an append past the bound
 * fails and the runner ends the run.
 *
 * The registry (struct rl_runs) maps run ids to logs for one process, and
 * forgets an ended run after a grace period.  A store shared by processes
 * sits below this interface later: a follower's reads are the same calls
 * whether the frames come from memory or from the store.
 *
 * Thread-safe: one mutex and one condition variable per log, one mutex
 * for the registry.  No globals.
 */
#ifndef MJ_RUNLOG_H
#define MJ_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

/*
 * A run id: RL_ID_TIME characters of the time it was made (ms since 1970,
 * 48 bits, in the unreserved characters' ASCII order, so that ids sort as
 * they were made), then RL_ID_BYTES random bytes in base64url without
 * padding (144 bits, 24 characters).  Sorted ids make the store's indexes
 * by run id (runs, frames) grow at their end: with random ids each new
 * run wrote a page somewhere in each of them, half of the bytes the store
 * wrote per plain request (bench/storebench.c).  Ids made before
 * 2026-12-02 are the 24 random characters alone (RL_ID_LEN_OLD): valid.
 */
#define RL_ID_BYTES	18
#define RL_ID_TIME	8
#define RL_ID_LEN	(RL_ID_TIME + 24)
#define RL_ID_LEN_OLD	24

enum rl_status {
	RL_OK = 0,
	RL_ERR_CLOSED,		/* the log ended (done appended) */
	RL_ERR_FULL,		/* over MJ_RUNLOG_FRAMES_MAX or _BYTES_MAX */
	RL_ERR_ARG,		/* empty type, or a bad id */
	RL_ERR_NOMEM,
	RL_ERR_RANDOM,		/* getrandom() failed */
	RL_ERR_EXISTS,		/* rl_runs_add: the id is taken */
	RL__MAX
};

enum rl_state {
	RL_RUNNING = 0,
	RL_DONE,		/* ended with complete */
	RL_FAILED,		/* ended with an error other than the two below */
	RL_CANCELLED,
	RL_INTERRUPTED,
	RL_STATE__MAX
};

/* One frame, immutable once appended; owned by its log. */
struct rl_frame {
	uint64_t	 id;
	const char	*type;		/* "status", "token", ..., "done" */
	const char	*data;		/* one line of JSON, NUL-terminated */
	size_t		 len;		/* strlen(data) */
};

struct runlog;

/*
 * A fresh run id: RL_ID_LEN URL-safe characters (RFC 3986 unreserved)
 * and a NUL in out; one made later sorts after (strcmp) unless the
 * clock went back.
 */
enum rl_status	 rl_new_id(char out[RL_ID_LEN + 1])
	__attribute__((warn_unused_result));
/* Nonzero if s has the shape of a run id (a cheap check before lookup). */
int		 rl_id_valid(const char *s);

/* A new, empty, running log for id (copied), with one reference. */
enum rl_status	 rl_new(const char *id, struct runlog **out)
	__attribute__((warn_unused_result));
struct runlog	*rl_ref(struct runlog *);
/* Drop a reference; the last one frees the log and its frames. */
void		 rl_unref(struct runlog *);

const char	*rl_id(const struct runlog *);

/*
 * Append a frame: type (a constant string, kept by pointer) and data
 * [0..len) (copied).  *id (may be NULL) gets its number.  Appending
 * "done" closes the log with state final; final is ignored for other
 * types (pass RL_RUNNING).  Wakes every waiting follower.
 */
enum rl_status	 rl_append(struct runlog *, const char *type,
		    const char *data, size_t len, enum rl_state final,
		    uint64_t *id) __attribute__((warn_unused_result));

/*
 * Read up to max frames with ids above after into out[], waiting up to
 * wait_ms (0: don't wait, < 0: until one comes) when there are none yet.
 * *n gets how many; *closed is set when the log is closed and every
 * frame up to done is at or before the cursor the caller reaches once it
 * has taken these (so a follower stops after writing them).  The frames
 * stay valid while the caller holds its reference.
 */
void		 rl_read(struct runlog *, uint64_t after, struct rl_frame *out,
		    size_t max, long wait_ms, size_t *n, int *closed);

/*
 * What a run is, besides its frames: set once by whoever starts the run
 * (rl_set_info, before the log is shared), kept up to date by rl_append.
 */
struct rl_info {
	const char	*user_id;	/* the request's user_id ("" if unset);
					   valid while a reference is held */
	const char	*owner;		/* REMOTE_USER of the request, or "" */
	size_t		 total_jobs;
	size_t		 done_jobs;	/* job_complete frames so far */
	int64_t		 created_ms;	/* wall clock, ms since the epoch */
	int64_t		 updated_ms;	/* wall clock at the last append */
	uint64_t	 result_id;	/* the last complete or error frame (it
					   carries "response"), or 0 */
	uint64_t	 last_id;
	enum rl_state	 state;
	int		 followers;
	int		 stop;		/* rl_request_stop() was called */
	int		 kept;		/* in the store (rl_set_kept) */
	int		 claimed;	/* may hold claims (rl_set_claimed) */
};

/* Copies user_id and owner (NULL: ""). RL_ERR_NOMEM or RL_OK. */
enum rl_status	 rl_set_info(struct runlog *, const char *user_id,
		    const char *owner, size_t total_jobs)
		    __attribute__((warn_unused_result));
void		 rl_info(struct runlog *, struct rl_info *out);
/* The run is in the store (the keeper has its row, or it is a mirror). */
void		 rl_set_kept(struct runlog *);
/*
 * A claim in the store names the run (SPEC "Cache"): its final row must
 * erase what its releases left.  Set before the claim is written.
 */
void		 rl_set_claimed(struct runlog *);
/*
 * Copy frame id (1..last) into *out; 0 if it is there.  The data stays
 * valid while the caller holds its reference.
 */
int		 rl_frame_get(struct runlog *, uint64_t id, struct rl_frame *out);
/*
 * The "response" of a complete frame as the engine writes it, without
 * parsing: 1 and *r, *rlen (pointers into f's data) when the data is
 * exactly {"type":"complete","response":R} with R one object; 0 for
 * anything else, which the caller parses.
 */
int		 rl_complete_response(const struct rl_frame *f, const char **r,
		    size_t *rlen);

/*
 * Wait up to wait_ms (< 0: for ever) for the log to close; appends of
 * other frames don't wake the caller.  Nonzero once it is closed.
 */
int		 rl_wait_end(struct runlog *, long wait_ms);

/* The state, the number of frames so far, and whether the log ended. */
enum rl_state	 rl_state(struct runlog *);
uint64_t	 rl_last_id(struct runlog *);

/*
 * Ask the run to stop (cancel, or nobody follows any more); the runner
 * polls rl_stop_requested() and ends the run with RL_CANCELLED.
 */
void		 rl_request_stop(struct runlog *);
int		 rl_stop_requested(struct runlog *);
/*
 * Called (outside the log's lock) by rl_request_stop() and whenever the
 * follower count of a log still open drops to zero, so the runner wakes
 * at once; set once before the log is shared.
 */
void		 rl_set_hook(struct runlog *, void (*fn)(void *), void *arg);
/* The hook's arg (whoever runs the log), or NULL. */
void		*rl_hook_arg(struct runlog *);

/*
 * Watchers: whoever writes frames to clients without a thread each (the
 * writer, writer.h) is told of appends instead of waiting for them.  fn
 * is called under the log's lock after each append (only after `done`
 * when end_only is set): it must be quick and must not call into this
 * log.  The watcher owns the struct; it stays linked from rl_watch()
 * until rl_unwatch(), after which fn is not called any more.
 */
struct rl_watch {
	void		(*fn)(void *arg);
	void		 *arg;
	int		  end_only;
	struct rl_watch	 *next;		/* the log's list, under its lock */
};
void		 rl_watch(struct runlog *, struct rl_watch *);
void		 rl_unwatch(struct runlog *, struct rl_watch *);

/*
 * Follower counting, for detach: a run whose client went away goes on
 * while someone follows it, or until the detach window passes.
 */
void		 rl_follow(struct runlog *);
void		 rl_unfollow(struct runlog *);
int		 rl_followers(struct runlog *);

const char	*rl_state_name(enum rl_state);
const char	*rl_strerror(enum rl_status);

/* ---- the registry: this process's runs by id ---- */

struct rl_runs;

/* A registry that forgets ended runs grace_ms after their end. */
enum rl_status	 rl_runs_new(long grace_ms, struct rl_runs **out)
	__attribute__((warn_unused_result));
void		 rl_runs_free(struct rl_runs *);
/* Add log (the registry takes a reference of its own). */
enum rl_status	 rl_runs_add(struct rl_runs *, struct runlog *)
	__attribute__((warn_unused_result));
/* The log of id with a new reference for the caller, or NULL. */
struct runlog	*rl_runs_get(struct rl_runs *, const char *id);
/* Forget id now (DELETE); nonzero if it was there. */
int		 rl_runs_remove(struct rl_runs *, const char *id);
/*
 * Forget the runs that ended more than grace_ms before now_ms, and more
 * ended runs while those kept hold more frame bytes than the budget
 * (MJ_RUNS_KEPT_BYTES, or rl_runs_set_budget's).  Walks the registry at
 * most once a second (returns 0 between); returns how many it forgot.
 */
size_t		 rl_runs_sweep(struct rl_runs *, int64_t now_ms);
void		 rl_runs_set_budget(struct rl_runs *, size_t kept_max);
size_t		 rl_runs_count(struct rl_runs *);

#endif /* MJ_RUNLOG_H */
