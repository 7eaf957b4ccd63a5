/*
 * sender.h - webhook delivery (SPEC 0.2 "Webhooks"): a thread that sends
 * the store's outbox to MATCHJOBS_WEBHOOK_URL.
 *
 * The thread opens a store connection of its own and loops: claim the
 * message due first (store_outbox_claim: a lease, so no two senders of
 * any process send one message at once), sign it afresh (webhook.h:
 * webhook-id is the message id, webhook-timestamp the attempt's unix
 * seconds), POST it (up_post, an easy handle of its own: never the
 * runner lanes'), and record the outcome: delivered on a 2xx, else a
 * retry after the schedule's next step or the answer's Retry-After, or
 * dead once the schedule ends.  One attempt at a time; when nothing is
 * due it sleeps until its own next retry, a kick, or MJ_WH_IDLE_MS
 * (so messages other processes added are found).  Store failures are
 * logged at most every MJ_WH_ERRLOG_MS and it goes on.  Each attempt is
 * logged at info (message id, run id, status); the secret, the URL and
 * the body never are.
 *
 * Not here: making messages (the run's end adds one with its final
 * frames, store_append's upd->msg, or store_reap's callback), deciding
 * when webhooks are on (cfg: MATCHJOBS_WEBHOOK_URL).
 *
 * How the process wires it (the integrator's part):
 *  - once the configuration is loaded, the store is configured (a db
 *    path) and webhooks are on (cfg->webhook_url set), in the process
 *    that serves, after any fork and privilege drop (a thread does not
 *    survive fork; the store file must be writable by the user it runs
 *    as): snd_new(cfg, db_path, holder, &s), holder this process's
 *    instance id (the one its own store_open uses, or any id unique to
 *    it);
 *  - when a run's final frames and its outbox message were committed
 *    (store_append returned STORE_OK), and after a store_reap that added
 *    messages: snd_kick(s), from any thread (the first attempt then
 *    leaves at once, well within the SPEC's 10 s);
 *  - at shutdown, after the last run ended (or as late as convenient):
 *    snd_free(s).  An attempt it cuts is recorded as failed and due at
 *    once, for the next sender of any process.
 */
#ifndef MJ_SENDER_H
#define MJ_SENDER_H

struct config;
struct sender;

enum snd_status {
	SND_OK = 0,
	SND_ERR_ARG,		/* webhooks are off (no URL or key in cfg),
				   no db path, a bad holder */
	SND_ERR_NOMEM,
	SND_ERR_THREAD,		/* no thread, eventfd or the like */
	SND__MAX
};

/* A short English message for s; never NULL. */
const char	*snd_strerror(enum snd_status s);

/*
 * Start a sender for the store at db_path (opened in the thread, with
 * holder as its lease holder: 1..MJ_STORE_ID_MAX bytes), posting to
 * cfg->webhook_url signed with cfg->webhook_key, each attempt bounded by
 * cfg->webhook_timeout_ms, over cfg->ca_file's CAs.  What it needs of
 * cfg, db_path and holder is copied: cfg may be freed or reloaded after
 * the call.  up_global_init() must have run.  A store that can't be
 * opened is not an error here: the thread logs it and tries again every
 * MJ_WH_IDLE_MS.  On failure *out is NULL.  Free with snd_free().
 */
enum snd_status	 snd_new(const struct config *cfg, const char *db_path,
		    const char *holder, struct sender **out)
		    __attribute__((warn_unused_result));

/*
 * Wake the sender to look for due messages now.  Never blocks;
 * thread-safe (and async-signal-safe); NULL is fine.
 */
void		 snd_kick(struct sender *s);

/*
 * Stop the sender and free it: returns within about a second (an
 * attempt in flight is cut and recorded as failed, due at once; a store
 * write waits at most MJ_STORE_BUSY_MS).  NULL is fine.  Not
 * concurrently with snd_kick() on the same sender.
 */
void		 snd_free(struct sender *s);

#endif /* MJ_SENDER_H */
