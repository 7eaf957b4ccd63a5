/*
 * sender.c - webhook delivery from the store's outbox; see sender.h.
 *
 * One thread per sender, one attempt at a time, blocking in up_post()
 * (which the stop eventfd cuts).  The thread owns its store connection
 * and everything it reads; the rest of the struct is fixed before the
 * thread starts, but for the two eventfds and the stop flag.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "bounds.h"
#include "cfg.h"
#include "clock.h"
#include "log.h"
#include "sender.h"
#include "store.h"
#include "upstream.h"
#include "webhook.h"

/*
 * Retry times a sender remembers, to wake for them: the soonest few
 * (the rest, and other processes' messages, are found by the look every
 * MJ_WH_IDLE_MS).
 */
#define DUE_MAX		8

struct sender {
	char		*url;		/* owned: MATCHJOBS_WEBHOOK_URL */
	char		*ca_file;	/* owned, or NULL */
	char		*db_path;	/* owned */
	char		 holder[MJ_STORE_ID_MAX + 1];
	struct wh_key	 key;		/* wiped by snd_free */
	long		 timeout_ms;	/* one attempt */
	long		 connect_timeout_ms;
	long		 retry_div;	/* the schedule's steps divided by */
	int		 kick;		/* eventfd: snd_kick() */
	int		 stop;		/* eventfd: snd_free(); cuts an attempt */
	atomic_int	 stopping;
	pthread_t	 thread;
	int		 started;	/* thread is joinable */
	/* The thread's own. */
	struct store	*st;		/* NULL until opened */
	int64_t		 due[DUE_MAX];	/* the retries we set, soonest kept */
	size_t		 ndue;
	long long	 errlog_at;	/* clock_ms() of the last logged store
					   failure */
	unsigned long	 errs;		/* store failures not logged since */
};

static const char *const msgs[SND__MAX] = {
	"ok",					/* SND_OK */
	"webhooks are off, or a bad argument",	/* SND_ERR_ARG */
	"out of memory",			/* SND_ERR_NOMEM */
	"cannot start the sender thread",	/* SND_ERR_THREAD */
};

const char *
snd_strerror(enum snd_status s)
{
	return (unsigned)s < SND__MAX ? msgs[s] : "unknown error";
}

/* Sleep up to ms, or until a kick or the stop. */
static void
nap(struct sender *s, int64_t ms)
{
	struct pollfd	 p[2];
	uint64_t	 v;

	p[0].fd = s->kick;
	p[1].fd = s->stop;
	p[0].events = p[1].events = POLLIN;
	if (poll(p, 2, (int)(ms < 0 ? 0 : ms)) > 0 &&
	    (p[0].revents & POLLIN) != 0)
		(void)!read(s->kick, &v, sizeof(v));
}

/* A store failure: logged at most every MJ_WH_ERRLOG_MS. */
static void
store_failed(struct sender *s, const char *what, const char *msg)
{
	long long	 now = clock_ms();
	char		 e[256], more[64];

	if (now - s->errlog_at < MJ_WH_ERRLOG_MS) {
		s->errs++;
		return;
	}
	more[0] = '\0';
	if (s->errs > 0)
		snprintf(more, sizeof(more), " (and %lu more since the last "
		    "such line)", s->errs);
	log_msg(LOG_ERROR, NULL, "webhooks: the store failed (%s): %s%s",
	    what, log_escape(msg, strlen(msg), e, sizeof(e)), more);
	s->errlog_at = now;
	s->errs = 0;
}

/*
 * The wait before the next attempt once failed attempts have failed:
 * wh_next_delay()'s rules, the schedule's step (not a Retry-After)
 * divided by retry_div.
 */
static enum wh_status
retry_wait(const struct sender *s, unsigned failed, const char *ra,
    int64_t now_ms, int64_t *ms)
{
	enum wh_status	 ws;
	uint32_t	 rnd;
	int64_t		 ra_ms;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = UINT32_C(1) << 31;	/* the step itself */
	ws = wh_next_delay(failed, rnd, NULL, 0, now_ms / 1000, ms);
	if (ws != WH_OK)
		return ws;
	*ms /= s->retry_div;
	if (*ra != '\0' && wh_retry_after(ra, strlen(ra), now_ms / 1000,
	    &ra_ms) == WH_OK)
		*ms = ra_ms;
	return WH_OK;
}

/* Remember a retry at t: the soonest DUE_MAX are kept. */
static void
due_add(struct sender *s, int64_t t)
{
	size_t i, late;

	if (s->ndue < DUE_MAX) {
		s->due[s->ndue++] = t;
		return;
	}
	for (late = 0, i = 1; i < s->ndue; i++)
		if (s->due[i] > s->due[late])
			late = i;
	if (t < s->due[late])
		s->due[late] = t;
}

/*
 * How long to sleep at now when nothing is due: until our soonest retry
 * still ahead, at most MJ_WH_IDLE_MS.  Retries already due are
 * forgotten (another sender took them, or they went).
 */
static int64_t
due_wait(struct sender *s, int64_t now)
{
	int64_t	 wait = MJ_WH_IDLE_MS;
	size_t	 i;

	for (i = 0; i < s->ndue; )
		if (s->due[i] <= now)
			s->due[i] = s->due[--s->ndue];
		else {
			if (s->due[i] - now < wait)
				wait = s->due[i] - now;
			i++;
		}
	return wait;
}

/* What one attempt came to, for the store and the log. */
struct outcome {
	enum store_msg_state state;	/* DELIVERED, PENDING (retry), DEAD */
	int		 status;	/* HTTP status, 0: none */
	int64_t		 next_ms;	/* PENDING: due again */
	const char	*why;		/* no answer: why; else "" */
};

/* Record o for message m; log it. */
static void
record(struct sender *s, const struct store_outmsg *m,
    const struct outcome *o, int64_t now)
{
	enum store_status rc;
	char		 id[MJ_STORE_ID_MAX * 4 + 1], run[sizeof(id)];
	char		 st[32];
	unsigned	 n = (unsigned)m->attempts + 1;

	log_escape(m->id, strlen(m->id), id, sizeof(id));
	log_escape(m->run_id, strlen(m->run_id), run, sizeof(run));
	if (o->status != 0)
		snprintf(st, sizeof(st), "HTTP %d", o->status);
	else
		snprintf(st, sizeof(st), "no answer");
	if (o->state == STORE_MSG_DELIVERED) {
		rc = store_outbox_delivered(s->st, m->id, o->status, now);
		log_msg(LOG_INFO, NULL, "webhook %s (run %s): %s, delivered "
		    "(attempt %u)", id, run, st, n);
	} else if (o->state == STORE_MSG_PENDING) {
		rc = store_outbox_retry(s->st, m->id, o->status, o->next_ms,
		    now);
		due_add(s, o->next_ms);
		log_msg(LOG_INFO, NULL, "webhook %s (run %s): %s%s%s "
		    "(attempt %u), again in %lld ms", id, run, st,
		    *o->why != '\0' ? ": " : "", o->why, n,
		    (long long)(o->next_ms - now));
	} else {
		rc = store_outbox_dead(s->st, m->id, o->status, now);
		log_msg(LOG_WARN, NULL, "webhook %s (run %s): %s%s%s "
		    "(attempt %u), given up", id, run, st,
		    *o->why != '\0' ? ": " : "", o->why, n);
	}
	if (rc == STORE_ERR_LEASE || rc == STORE_ERR_NOTFOUND)
		log_msg(LOG_WARN, NULL, "webhook %s (run %s): not recorded: "
		    "%s", id, run, rc == STORE_ERR_LEASE ? "the claim lapsed "
		    "(another sender has it now)" : "the message is gone");
	else if (rc != STORE_OK)
		store_failed(s, "record", store_errmsg(s->st));
}

/* One attempt at message m, claimed by us. */
static void
attempt(struct sender *s, const struct store_outmsg *m)
{
	struct up_post_req	 req;
	struct up_post_res	 res;
	struct outcome		 o;
	enum up_status		 us;
	enum wh_status		 ws;
	char			 sig[WH_SIG_LEN + 1];
	char			 hid[MJ_STORE_ID_MAX + 32], hts[64];
	char			 hsig[WH_SIG_LEN + 32];
	const char		*hdr[4];
	int64_t			 now, wait;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.why = "";
	now = (int64_t)clock_wall_ms();
	ws = wh_sign(&s->key, m->id, now / 1000, m->body, m->len, sig);
	if (ws == WH_ERR_ARG || ws == WH_ERR_TOO_BIG) {
		/* No attempt could ever send it. */
		o.state = STORE_MSG_DEAD;
		o.why = wh_strerror(ws);
		record(s, m, &o, now);
		return;
	}
	if (ws == WH_OK) {
		snprintf(hid, sizeof(hid), "webhook-id: %s", m->id);
		snprintf(hts, sizeof(hts), "webhook-timestamp: %lld",
		    (long long)(now / 1000));
		snprintf(hsig, sizeof(hsig), "webhook-signature: %s", sig);
		hdr[0] = hid;
		hdr[1] = hts;
		hdr[2] = hsig;
		hdr[3] = "Content-Type: application/json";
		memset(&req, 0, sizeof(req));
		req.url = s->url;
		req.ca_file = s->ca_file;
		req.headers = hdr;
		req.nheaders = 4;
		req.body = m->body;
		req.len = m->len;
		req.timeout_ms = s->timeout_ms;
		req.connect_timeout_ms = s->connect_timeout_ms;
		req.cancel_fd = s->stop;
		us = up_post(&req, &res);
	} else {
		us = UP_ERR_NOMEM;
		snprintf(res.error, sizeof(res.error), "%s",
		    wh_strerror(ws));
	}
	now = (int64_t)clock_wall_ms();
	o.status = us == UP_OK ? res.status : 0;
	o.why = res.error;
	if (us == UP_ERR_CANCELLED) {
		/* Cut by snd_free: the next sender tries again at once. */
		o.state = STORE_MSG_PENDING;
		o.next_ms = now;
		o.why = "cut by the sender's stop";
	} else if (us == UP_OK && wh_outcome(o.status) == WH_DELIVERED)
		o.state = STORE_MSG_DELIVERED;
	else if (retry_wait(s, (unsigned)m->attempts + 1, us == UP_OK ?
	    res.retry_after : "", now, &wait) == WH_OK) {
		o.state = STORE_MSG_PENDING;
		o.next_ms = now + wait;
	} else
		o.state = STORE_MSG_DEAD;
	record(s, m, &o, now);
}

static void *
loop(void *arg)
{
	struct sender		*s = arg;
	struct store_outmsg	 m;
	enum store_status	 rc;
	char			 err[256];
	int64_t			 now, wait;

	memset(&m, 0, sizeof(m));
	while (!atomic_load(&s->stopping)) {
		if (s->st == NULL) {
			rc = store_open(s->db_path, s->holder, &s->st, err,
			    sizeof(err));
			if (rc != STORE_OK) {
				store_failed(s, "open", err);
				nap(s, MJ_WH_IDLE_MS);
				continue;
			}
		}
		now = (int64_t)clock_wall_ms();
		rc = store_outbox_claim(s->st, now, &m);
		if (rc == STORE_OK) {
			attempt(s, &m);
			store_outmsg_clear(&m);
			continue;
		}
		wait = MJ_WH_IDLE_MS;
		if (rc != STORE_ERR_NOTFOUND)
			store_failed(s, "claim", store_errmsg(s->st));
		else
			wait = due_wait(s, now);
		nap(s, wait);
	}
	store_close(s->st);
	s->st = NULL;
	return NULL;
}

enum snd_status
snd_new(const struct config *cfg, const char *db_path, const char *holder,
    struct sender **out)
{
	struct sender	*s;
	sigset_t	 all, old;
	size_t		 hl;
	int		 rc;

	*out = NULL;
	hl = holder != NULL ? strlen(holder) : 0;
	if (cfg == NULL || cfg->webhook_url == NULL ||
	    cfg->webhook_key == NULL || cfg->webhook_key->len == 0 ||
	    db_path == NULL || *db_path == '\0' || hl == 0 ||
	    hl > MJ_STORE_ID_MAX)
		return SND_ERR_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SND_ERR_NOMEM;
	s->kick = s->stop = -1;
	atomic_init(&s->stopping, 0);
	s->errlog_at = clock_ms() - MJ_WH_ERRLOG_MS;
	memcpy(s->holder, holder, hl + 1);
	s->key = *cfg->webhook_key;
	s->timeout_ms = cfg->webhook_timeout_ms > 0 ?
	    cfg->webhook_timeout_ms : MJ_WH_TIMEOUT_MS;
	s->connect_timeout_ms = cfg->connect_timeout_ms;
	s->retry_div = cfg->webhook_retry_div > 0 ? cfg->webhook_retry_div :
	    1;
	s->url = strdup(cfg->webhook_url);
	s->db_path = strdup(db_path);
	if (cfg->ca_file != NULL)
		s->ca_file = strdup(cfg->ca_file);
	if (s->url == NULL || s->db_path == NULL ||
	    (cfg->ca_file != NULL && s->ca_file == NULL)) {
		snd_free(s);
		return SND_ERR_NOMEM;
	}
	s->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->kick < 0 || s->stop < 0) {
		snd_free(s);
		return SND_ERR_THREAD;
	}
	/* Signals are the server's: none here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, loop, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snd_free(s);
		return SND_ERR_THREAD;
	}
	s->started = 1;
	*out = s;
	return SND_OK;
}

void
snd_kick(struct sender *s)
{
	uint64_t one = 1;

	if (s != NULL && s->kick >= 0)
		(void)!write(s->kick, &one, sizeof(one));
}

void
snd_free(struct sender *s)
{
	uint64_t one = 1;

	if (s == NULL)
		return;
	if (s->started) {
		atomic_store(&s->stopping, 1);
		(void)!write(s->stop, &one, sizeof(one));
		pthread_join(s->thread, NULL);
	}
	if (s->kick >= 0)
		close(s->kick);
	if (s->stop >= 0)
		close(s->stop);
	wh_key_clear(&s->key);
	free(s->url);
	free(s->ca_file);
	free(s->db_path);
	free(s);
}
