/*
 * keeper.h - the keeper: this process's runs, kept in the store.
 *
 * The run log (runlog.h) is where a run's frames live while it runs;
 * the keeper puts them in the store (store.h) that every process of a
 * deployment shares, on a thread of its own with its own connection, so
 * no model call or stream ever waits for the disk:
 *  - kp_track(): a run starts.  Its row is created (with the resume
 *    text, kept while it runs) on the keeper's thread at its next flush
 *    (within MJ_STORE_FLUSH_MS, at once when a run ends), in one
 *    transaction with every run started meanwhile; the caller doesn't
 *    wait for it (in a burst, a thread per start would).  A run that
 *    ended by then never stores its resume.
 *  - every MJ_STORE_FLUSH_MS the frames appended since go to the store,
 *    every run's in one transaction; the final frames carry the state,
 *    the response and, with webhooks on, the run's webhook message.
 *  - runs asked to stop from another process (store_run_stop) are
 *    stopped here (rl_request_stop), within MJ_STORE_STOPS_MS;
 *  - the leases of this process's runs are renewed, runs of processes
 *    that died are ended `interrupted` (store_reap), old runs purged.
 *  - kp_mirror(): a run of another process that someone here follows
 *    gets a local log, filled from the store as its frames come, so
 *    followers read it like any other.
 * When the store fails (disk full, read-only, locked) the runs go on and
 * their streams reach their clients; what could not be written is tried
 * again at the next flush, the failure is logged at most once a minute,
 * and kp_degraded() says so (health).
 */
#ifndef MJ_KEEPER_H
#define MJ_KEEPER_H

#include <stddef.h>
#include <stdint.h>

struct store_gate;

struct config;
struct keeper;
struct rl_runs;
struct runlog;

enum kp_status {
	KP_OK = 0,
	KP_ERR_NOMEM,
	KP_ERR_STORE,		/* the store failed (see the log) */
	KP_ERR_THREAD,
	KP__MAX
};

/*
 * Start the keeper on cfg->db with this process's holder id; runs is
 * the registry (stops and mirrors find their logs there); gate (may be
 * NULL) the one the runner's lanes take turns at (runner_gate).  on_final
 * (may be NULL) is called on the keeper's thread after a run's webhook
 * message was committed.  A store that can't be opened is not fatal:
 * the keeper retries, health says degraded.
 */
enum kp_status	 kp_new(const struct config *, const char *holder,
		    struct store_gate *gate, struct rl_runs *runs,
		    void (*on_final)(void *), void *arg,
		    struct keeper **out) __attribute__((warn_unused_result));
/*
 * Flush what is left, then stop the thread (on the way out: a run that
 * appends later is not stored).  kp_free() does it if it was not done.
 */
void		 kp_stop(struct keeper *);
/* kp_stop(), then free. */
void		 kp_free(struct keeper *);

/*
 * Keep log (a started run: its info set, its first frames appended) in
 * the store, from now on (its row is made on the keeper's thread; while
 * the store fails, later).  resume: kept while the run runs.
 */
enum kp_status	 kp_track(struct keeper *, struct runlog *log,
		    const char *resume) __attribute__((warn_unused_result));

/*
 * Fill log (a fresh mirror of a run of another process, registered)
 * from the store as its frames come, until it is closed.
 */
void		 kp_mirror(struct keeper *, struct runlog *log,
		    uint64_t have);

/* Nonzero while the store fails; msg gets why. */
int		 kp_degraded(struct keeper *, char *msg, size_t msgsz);

const char	*kp_strerror(enum kp_status);

#endif /* MJ_KEEPER_H */
