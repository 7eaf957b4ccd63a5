/*
 * store.h - the store that every responder process of a deployment shares
 * (SPEC 0.2 "Store"): runs and their frames, the answer cache, in-flight
 * job claims, and the webhook outbox.
 *
 * This is the interface; src/store.c implements it over one SQLite file
 * (WAL mode, many processes at once).  Nothing here names a SQLite type,
 * so a PostgreSQL backend can implement the same functions
 * (docs/internals/store.md says how).  The store keeps what it is given
 * and enforces the invariants that matter across processes: frame ids
 * without gaps, one writer per running run (its lease holder), one
 * sender per webhook message at a time, the resume erased once a run is
 * final.  What to store, and when, is the caller's business: the store
 * builds no JSON except the `error` + `done` frames of a reaped run.
 *
 * Time is always passed in (now_ms: wall clock, ms since the epoch), so
 * every lease and expiry is testable.  A lease taken at now_ms lasts
 * MJ_STORE_LEASE_MS (bounds.h): it holds while now_ms < lease_until_ms,
 * and has expired once now_ms >= lease_until_ms; likewise a cache
 * entry's expiry.
 *
 * A struct store is one connection, for one thread at a time (the caller
 * serialises, or opens one per thread).  It belongs to the process that
 * opened it: never use it across fork(); in another process every call
 * returns STORE_ERR_FORK and store_close() leaves it alone (closing a
 * SQLite connection inherited through fork could drop the parent's WAL).
 * Open a new one in the child instead.
 *
 * Every function returns a status; a failed write changes nothing (its
 * transaction is rolled back) and what was stored before stays intact.
 * store_errmsg() gives the last failure's message.
 */
#ifndef MJ_STORE_H
#define MJ_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "runlog.h"

enum store_status {
	STORE_OK = 0,
	STORE_ERR_NOTFOUND,	/* no such run, message, entry; or none due */
	STORE_ERR_EXISTS,	/* the run or message id is taken */
	STORE_ERR_LEASE,	/* not ours: the run ended or another holder
				   has it (or the message) now */
	STORE_ERR_ARG,		/* a bad argument: too long, frame ids with a
				   gap, a bad cursor */
	STORE_ERR_BUSY,		/* locked by others past MJ_STORE_BUSY_MS */
	STORE_ERR_FULL,		/* disk or file size limit full */
	STORE_ERR_READONLY,	/* the file or connection is read-only */
	STORE_ERR_CORRUPT,	/* not a database, or a damaged one */
	STORE_ERR_SCHEMA,	/* the file's schema is newer than ours (or,
				   read-only, older) */
	STORE_ERR_NOMEM,
	STORE_ERR_FORK,		/* used in a process other than its opener */
	STORE_ERR_IO,		/* an I/O error, or anything else */
	STORE__MAX
};

struct store;

/* ---- opening ---- */

/*
 * Open (creating it if need be) the store at path for this process;
 * holder (1..MJ_STORE_ID_MAX bytes, copied) is this process's instance id,
 * written into the leases it takes.  Brings the schema to the latest
 * version, exactly once however many processes open a file at once.  A
 * file whose schema is newer than this build knows gives
 * STORE_ERR_SCHEMA and is not written to.  On failure *out is NULL and
 * err (if errsz > 0) gets a message.  Free with store_close().
 */
enum store_status store_open(const char *path, const char *holder,
		    struct store **out, char *err, size_t errsz)
		    __attribute__((warn_unused_result));

/* Options of store_open_opts(); all zero is store_open(). */
/*
 * The writers of one file in one process take turns through a gate (the
 * caller's, zeroed, shared by those connections): a connection opened
 * with it that finds the write lock taken at store_batch_begin() says it
 * waits until it gets the lock, and a long writer (the keeper) ends its
 * batch early (store_gate_wanted) and leaves the lock free a moment
 * (store_gate_yield) while anyone waits.  Without it a runner lane, which
 * never waits inside SQLite, could keep missing the short gaps between
 * the keeper's batches and hold its jobs' calls back for long.
 */
struct store_gate {
	atomic_int	 want;		/* connections waiting for the lock */
};

struct store_opts {
	int		 readonly;	/* open read-only: no migration (the
					   file must be at the version); every
					   write gives STORE_ERR_READONLY */
	int		 max_version;	/* tests: migrate no further than this
					   (0: the latest) */
	long		 busy_ms;	/* tests: 0 is MJ_STORE_BUSY_MS */
	int		 no_wait;	/* a write finding the lock taken gives
					   STORE_ERR_BUSY at once (a runner
					   lane's connection) */
	struct store_gate *gate;	/* borrowed, may be NULL: take turns
					   with this process's other writers */
};
enum store_status store_open_opts(const char *path, const char *holder,
		    const struct store_opts *, struct store **out, char *err,
		    size_t errsz) __attribute__((warn_unused_result));
/* Close; NULL is fine.  In a process other than the opener: does nothing. */
void		 store_close(struct store *);
/*
 * How long a write waits for another writer's lock from now on (0: it
 * doesn't: STORE_ERR_BUSY at once).  A runner lane doesn't wait while
 * it runs streams; it waits to write its kept cache answers when it
 * stops.
 */
void		 store_wait(struct store *, long ms);

/* The schema version this build writes. */
int		 store_latest_version(void);
/*
 * The file's schema version, and how many migration steps were ever
 * applied to it (one row each; equal to the version unless a step ran
 * twice).
 */
enum store_status store_version(struct store *, int *version, int *steps)
		    __attribute__((warn_unused_result));
/*
 * A full integrity check: STORE_OK, or STORE_ERR_CORRUPT with the first
 * problem in msg (if msgsz > 0).
 */
enum store_status store_check(struct store *, char *msg, size_t msgsz)
		    __attribute__((warn_unused_result));
/* The last failure's message (never NULL; valid until the next call). */
const char	*store_errmsg(const struct store *);
const char	*store_strerror(enum store_status);

/* ---- runs ---- */

/* What a new run is (every string copied; NULL reads as ""). */
struct store_update;

struct store_run_new {
	const char	*id;		/* 1..MJ_STORE_ID_MAX bytes */
	const char	*owner;		/* REMOTE_USER, or "" */
	const char	*user_id;
	size_t		 total_jobs;
	const char	*resume;	/* kept while running, may be NULL */
	const char	*request;	/* the request's JSON, likewise */
	/*
	 * What the run did before its row was made, stored with it: its
	 * frames 1..nframes (may be none) and, with upd, its jobs done, its
	 * result frame and its state.  A final state makes the row final
	 * at once (no resume, no request, its claims erased, upd->msg
	 * added): a run that ended before the keeper got to it is one
	 * insert, not an insert and an update.
	 */
	const struct rl_frame *frames;
	size_t		 nframes;
	const struct store_update *upd;	/* NULL: running, nothing done */
	int64_t		 updated_ms;	/* 0: now_ms */
	/*
	 * No claim was ever written for it, so a final row has none to
	 * erase (a plain run's calls answer before they are claimed: the
	 * look costs the keeper 3 of its 35 us a run, bench/storebench).
	 */
	int		 unclaimed;
};

/*
 * A stored run; every pointer owned by the struct and freed by
 * store_run_clear().  Zero it before the first use.
 */
struct store_run {
	char		*id;
	char		*owner;
	char		*user_id;
	size_t		 total_jobs;
	size_t		 done_jobs;
	int64_t		 created_ms, updated_ms;
	uint64_t	 last_id;	/* frames are 1..last_id */
	uint64_t	 result_id;	/* the complete/error frame, or 0 */
	enum rl_state	 state;
	int		 stop;		/* store_run_stop() was called */
	char		*holder;	/* who runs it (or ran it) */
	int64_t		 lease_until_ms;
	char		*response;	/* the match response JSON, or NULL */
	char		*resume;	/* NULL unless asked for and running */
	char		*request;	/* likewise */
};
/* Free what run holds and zero it; may be called twice. */
void		 store_run_clear(struct store_run *);

/*
 * A new run, held by this process with a lease until now_ms +
 * MJ_STORE_LEASE_MS, created at now_ms, with the frames and the state
 * n gives (running with no frames when it gives none), in one
 * transaction.  STORE_ERR_EXISTS if the id is taken, STORE_ERR_ARG if
 * the frames are not numbered 1, 2, ...
 */
enum store_status store_run_create(struct store *, const struct store_run_new *,
		    int64_t now_ms) __attribute__((warn_unused_result));

/* A webhook message, to add with store_outbox_add() or store_append(). */
struct store_msg {
	const char	*id;		/* webhook-id, 1..MJ_STORE_ID_MAX bytes */
	const char	*run_id;	/* the run it tells of (must exist) */
	const void	*body;		/* the exact bytes to POST, copied */
	size_t		 len;
	int64_t		 next_ms;	/* first attempt not before */
};

/* What store_append() changes besides adding frames. */
struct store_update {
	size_t		 done_jobs;
	uint64_t	 result_id;	/* 0: unchanged */
	enum rl_state	 state;		/* RL_RUNNING, or the final state */
	const char	*response;	/* NULL: unchanged */
	const struct store_msg *msg;	/* NULL, or a webhook message added
					   in the same transaction */
};

/*
 * Append frames[0..n) (each one's id, type and data[0..len), copied) to
 * run id and apply upd in one transaction: the frames must be numbered
 * last_id + 1, + 2, ... (else STORE_ERR_ARG, nothing stored).  With upd
 * the run's updated_ms becomes now_ms; upd NULL adds the frames alone and
 * leaves the run's row as it was (its last_id is read through its frames:
 * the cheap append, for a running run's tokens).  The lease is renewed
 * only by an append of no frames (store_renew() renews every running
 * run's).
 * When upd->state is final, the resume, the request and the run's
 * in-flight claims are erased in the same transaction.  Only the holder
 * of a running run may append: STORE_ERR_LEASE otherwise (the run ended,
 * was reaped or was taken over), STORE_ERR_NOTFOUND if it is gone.
 */
enum store_status store_append(struct store *, const char *id,
		    const struct rl_frame *frames, size_t n,
		    const struct store_update *upd, int64_t now_ms)
		    __attribute__((warn_unused_result));

/*
 * Call fn(arg, frame) for the frames of run id with ids above after, in
 * order, at most max of them (at most MJ_STORE_READ_MAX); the frame is
 * valid during the call only.  fn returns 0 to go on, nonzero to stop;
 * it must not use this struct store (the read is in progress).
 * *n (may be NULL) gets how many were passed.  STORE_ERR_NOTFOUND if the
 * run doesn't exist.  One consistent snapshot.
 */
/*
 * Copy what the WAL holds into the file as far as readers allow (no
 * connection does it on its own: store_open turns that off); the keeper
 * calls it every MJ_STORE_CHECKPOINT_MS.  wait_ms > 0: also wait up to
 * that long for the writers and readers of the moment, so that the WAL
 * starts over from its beginning (under a steady load it otherwise only
 * grows, and every write past its end costs the kernel a new page);
 * when they take longer, what could be copied is, and the WAL goes on.
 * 0: copy without waiting.
 */
enum store_status store_checkpoint(struct store *, long wait_ms)
		    __attribute__((warn_unused_result));

/*
 * Batches: the calls between these join one transaction, so many runs'
 * frames cost one commit.  store_batch_end() commits.  There is no
 * savepoint per call: a call that fails before its first write leaves
 * the batch as it was (the frames of a run already ended, a row that
 * exists); one that fails after it (a full disk, say) rolls the whole
 * batch back, and every call after it fails with STORE_ERR_IO until
 * store_batch_end(), which returns STORE_ERR_IO too.
 */
enum store_status store_batch_begin(struct store *)
		    __attribute__((warn_unused_result));
enum store_status store_batch_end(struct store *)
		    __attribute__((warn_unused_result));
/* A connection that found the lock taken waits no more (it gave up). */
void		 store_gate_leave(struct store *);
/* Does another writer of the gate wait for the lock (see store_gate)? */
int		 store_gate_wanted(const struct store *);
/* While one does, leave the lock free: return within max_ms. */
void		 store_gate_yield(const struct store *, long max_ms);
/*
 * Call fn(arg, id) for each running run of this holder that someone asked
 * to stop (store_run_stop(), from any process).
 */
enum store_status store_stops(struct store *, void (*fn)(void *, const char *),
		    void *arg) __attribute__((warn_unused_result));

/*
 * Call fn(arg, holder) for each other holder with running runs; and end
 * the lease of a holder known to be gone (its process is dead), so that
 * the next store_reap() ends its runs at once.
 */
enum store_status store_holders(struct store *,
		    void (*fn)(void *, const char *), void *arg)
		    __attribute__((warn_unused_result));
enum store_status store_holder_gone(struct store *, const char *holder)
		    __attribute__((warn_unused_result));

enum store_status store_frames(struct store *, const char *id, uint64_t after,
		    size_t max, int (*fn)(void *, const struct rl_frame *),
		    void *arg, size_t *n) __attribute__((warn_unused_result));

/*
 * Run id into *out (cleared first); with with_input, also its resume and
 * request (NULL once it ended).  STORE_ERR_NOTFOUND if there is none.
 */
enum store_status store_run_get(struct store *, const char *id,
		    int with_input, struct store_run *out)
		    __attribute__((warn_unused_result));

/* A page of runs; zero it before the first use. */
struct store_run_list {
	struct store_run *v;		/* owned, n of them */
	size_t		 n;
	char		 next[MJ_STORE_CURSOR_MAX + 1];	/* the cursor of the
					   next page, or "" if this is the last */
};
void		 store_run_list_clear(struct store_run_list *);
/*
 * The runs of owner, newest first (ties by id, descending), at most limit
 * (0: MJ_STORE_LIST_DEFAULT; above MJ_STORE_LIST_MAX: that), starting
 * after the cursor before (NULL or "": from the newest).  Without
 * response, resume or request.  A cursor is "<created_ms>.<id>", to be
 * passed back as it is (URL-safe when ids are); a malformed one gives
 * STORE_ERR_ARG.  Owner "" lists the runs nobody owns: refusing an
 * anonymous caller is the route's business.
 */
enum store_status store_run_list(struct store *, const char *owner,
		    const char *before, size_t limit, struct store_run_list *out)
		    __attribute__((warn_unused_result));

/*
 * Erase run id and everything of it: frames, outbox messages, claims.
 * STORE_ERR_NOTFOUND if it was not there.  (Stopping it first, if it
 * runs, is the caller's business.)
 */
enum store_status store_run_delete(struct store *, const char *id)
		    __attribute__((warn_unused_result));

/*
 * Ask run id to stop (from any process); no change to a run that ended.
 * store_run_stopped() reads the flag into *stop.  Both:
 * STORE_ERR_NOTFOUND if there is no such run.
 */
enum store_status store_run_stop(struct store *, const char *id)
		    __attribute__((warn_unused_result));
enum store_status store_run_stopped(struct store *, const char *id,
		    int *stop) __attribute__((warn_unused_result));

/*
 * Renew every lease this holder has: its running runs and its in-flight
 * claims, to now_ms + MJ_STORE_LEASE_MS.  *n (may be NULL) gets how many
 * runs.  Call it every MJ_STORE_RENEW_MS.
 */
enum store_status store_renew(struct store *, int64_t now_ms, size_t *n)
		    __attribute__((warn_unused_result));

/*
 * Take over one running run whose lease expired by now_ms (its
 * holder died): it becomes this holder's with a fresh lease, and *out
 * gets it with its resume and request.  STORE_ERR_NOTFOUND if none.
 */
enum store_status store_run_take(struct store *, int64_t now_ms,
		    struct store_run *out) __attribute__((warn_unused_result));

/*
 * End, as RL_INTERRUPTED, every running run whose lease expired by
 * now_ms (whoever held it, this holder too): appends an `error` frame ({"type":"error","code":"interrupted",
 * "message":...}, the run's result) and a `done` frame, erases its resume,
 * request and claims.  If msg is not NULL it is called for each such run
 * (already marked interrupted) inside the transaction: it returns 1 with
 * *m filled (its pointers valid until msg is next called or store_reap
 * returns) to add that webhook message, 0 for none, -1 to give up (the
 * whole reap is rolled back: STORE_ERR_ARG); it must not use this struct
 * store, and it runs while the write lock is held.  *n (may be NULL)
 * gets how many runs ended.
 */
enum store_status store_reap(struct store *, int64_t now_ms,
		    int (*msg)(void *, const struct store_run *,
		    struct store_msg *), void *arg, size_t *n)
		    __attribute__((warn_unused_result));

/*
 * Erase the runs that ended and were created before before_ms (now_ms
 * less MATCHJOBS_RETENTION_DAYS), with everything of theirs, and the
 * cache entries and claims expired at now_ms.  *n (may be NULL) gets how
 * many runs.
 */
enum store_status store_purge(struct store *, int64_t before_ms,
		    int64_t now_ms, size_t *n) __attribute__((warn_unused_result));

/* ---- the answer cache ---- */

/*
 * The answer stored under key[0..klen) (1..MJ_STORE_KEY_MAX bytes; the
 * caller hashes) if it has not expired at now_ms: *answer (malloc'd,
 * NUL-terminated, the caller frees it with free()) and *len.
 * STORE_ERR_NOTFOUND if none.
 */
enum store_status store_cache_get(struct store *, const void *key,
		    size_t klen, int64_t now_ms, char **answer, size_t *len)
		    __attribute__((warn_unused_result));
/* Store (or refresh) answer[0..len) under key until now_ms + ttl_s s. */
enum store_status store_cache_put(struct store *, const void *key,
		    size_t klen, const char *answer, size_t len, long ttl_s,
		    int64_t now_ms) __attribute__((warn_unused_result));

/* ---- in-flight claims: one model call per key across processes ---- */

/* Who makes the call for a key. */
struct store_claim {
	int		 ours;		/* nonzero: we do; else they do: */
	char		 run_id[MJ_STORE_ID_MAX + 1];
	size_t		 job;		/* the job's index in that run */
};
/*
 * Claim key for job (an index) of run_id (whose row need not exist yet:
 * its keeper makes it later), with a lease until now_ms +
 * MJ_STORE_LEASE_MS.  out->ours is set if this
 * holder has it now (it was free, its claim expired, or this holder had
 * it already, for any run: a process knows its own calls in flight, so
 * a claim of its own is stale); otherwise out names the run and job of
 * the other holder that has it.
 */
enum store_status store_claim(struct store *, const void *key, size_t klen,
		    const char *run_id, size_t job, int64_t now_ms,
		    struct store_claim *out) __attribute__((warn_unused_result));
/*
 * Read, without a transaction: does another holder have a live claim of
 * key at now_ms?  STORE_OK with *out naming its run and job (ours 0),
 * STORE_ERR_NOTFOUND if not (free, expired, or this holder's).  A caller
 * that finds none may make its call at once and store_claim() it later
 * (two processes that look at once may then both make theirs).
 */
enum store_status store_claim_peek(struct store *, const void *key,
		    size_t klen, int64_t now_ms, struct store_claim *out)
		    __attribute__((warn_unused_result));
/* Drop this holder's claim of key (STORE_ERR_NOTFOUND if none). */
enum store_status store_release(struct store *, const void *key, size_t klen)
		    __attribute__((warn_unused_result));

/* ---- the webhook outbox ---- */

enum store_msg_state {
	STORE_MSG_PENDING = 0,	/* to send (again) from next_ms */
	STORE_MSG_DELIVERED,
	STORE_MSG_DEAD,		/* the retry schedule ended */
	STORE_MSG__MAX
};

/* A stored message; owned pointers, freed by store_outmsg_clear(). */
struct store_outmsg {
	char		*id;
	char		*run_id;
	void		*body;		/* len bytes (and a NUL) */
	size_t		 len;
	enum store_msg_state state;
	int		 attempts;	/* attempts that failed so far */
	int		 last_status;	/* of the last attempt (0: none) */
	int64_t		 next_ms;
	int64_t		 lease_until_ms;	/* claimed until */
};
void		 store_outmsg_clear(struct store_outmsg *);

/* Add a pending message.  STORE_ERR_EXISTS if its id is taken. */
enum store_status store_outbox_add(struct store *, const struct store_msg *,
		    int64_t now_ms) __attribute__((warn_unused_result));
/*
 * Claim the pending message due first at now_ms that nobody holds (or
 * whose claim expired) for MJ_STORE_OUTBOX_LEASE_MS, into *out (cleared
 * first): no other process gets it meanwhile.  STORE_ERR_NOTFOUND if
 * none is due.
 */
enum store_status store_outbox_claim(struct store *, int64_t now_ms,
		    struct store_outmsg *out) __attribute__((warn_unused_result));
/*
 * After an attempt at a message this holder claimed (else
 * STORE_ERR_LEASE): delivered; failed, to try again from next_ms
 * (attempts + 1); failed for the last time (attempts + 1, dead).  status
 * is the HTTP status (0: none).
 */
enum store_status store_outbox_delivered(struct store *, const char *id,
		    int status, int64_t now_ms)
		    __attribute__((warn_unused_result));
enum store_status store_outbox_retry(struct store *, const char *id,
		    int status, int64_t next_ms, int64_t now_ms)
		    __attribute__((warn_unused_result));
enum store_status store_outbox_dead(struct store *, const char *id,
		    int status, int64_t now_ms)
		    __attribute__((warn_unused_result));
/* Message id into *out (cleared first), whatever its state. */
enum store_status store_outbox_get(struct store *, const char *id,
		    struct store_outmsg *out) __attribute__((warn_unused_result));

#endif /* MJ_STORE_H */
