/*
 * unit_follow.c - TAP tests for the followers (follow.c) and the writer
 * that drives them (writer.c).
 *
 * Each case fills a run log by hand (before or while the follower runs,
 * from a producer thread), and serves one real FastCGI request over a
 * socketpair: the test writes BEGIN_REQUEST, PARAMS and an empty STDIN
 * as a web server would, a reader thread collects what the follower
 * sends and decodes its STDOUT records.  The follower is handed to a
 * real writer turning on a thread of its own, as the runner's does
 * (follow_sync() waits for the writer to end it).  The producer waits
 * for conditions (the follower counted, bytes seen), never for fixed
 * times.
 */
#include "config.h"

#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "clock.h"
#include "fcgi.h"
#include "fconn.h"
#include "follow.h"
#include "output.h"
#include "runlog.h"
#include "tap.h"
#include "writer.h"

#define RAW_MAX		(16u * 1024 * 1024)
#define WAIT_MS		5000	/* the longest a condition may take */

/* Keep-alives far apart (exact streams), and every 100 ms. */
static struct config cfg, cfg_ka;

/* The web server's end of the connection. */
struct peer {
	int		 fd;
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct buf	 raw;		/* every byte read, under mu */
	int		 eof;		/* under mu */
	int		 hold;		/* don't read yet (under mu) */
};

static void
record(struct buf *b, unsigned type, const void *p, size_t n)
{
	unsigned char	 h[FCGI_HEADER_LEN];

	fcgi_header(h, type, 1, n, 0);
	if (buf_add(b, (const char *)h, sizeof(h)) != BUF_OK ||
	    (n > 0 && buf_add(b, p, n) != BUF_OK))
		abort();
}

static void *
reader(void *arg)
{
	struct peer	*p = arg;
	char		 chunk[8192];
	ssize_t		 n;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->hold)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		n = read(p->fd, chunk, sizeof(chunk));
		pthread_mutex_lock(&p->mu);
		if (n <= 0 || buf_add(&p->raw, chunk, (size_t)n) != BUF_OK)
			p->eof = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (n <= 0)
			return NULL;
	}
}

/* The STDOUT content in raw[0..len), into out (reset first). */
static void
decode(const unsigned char *raw, size_t len, struct buf *out)
{
	size_t	 i, cl, pl;

	buf_reset(out);
	for (i = 0; i + FCGI_HEADER_LEN <= len; i += FCGI_HEADER_LEN + cl + pl) {
		cl = (size_t)raw[i + 4] << 8 | raw[i + 5];
		pl = raw[i + 6];
		if (i + FCGI_HEADER_LEN + cl + pl > len)
			break;
		if (raw[i + 1] == FCGI_STDOUT && cl > 0 &&
		    buf_add(out, (const char *)raw + i + FCGI_HEADER_LEN, cl)
		    != BUF_OK)
			abort();
	}
}

/* Wait until the decoded stdout holds s.  Nonzero if it came. */
static int
peer_wait(struct peer *p, const char *s)
{
	struct buf	 out;
	long long	 end = clock_ms() + WAIT_MS;
	struct timespec	 ts;
	int		 found = 0;

	buf_init(&out, RAW_MAX);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		decode((unsigned char *)p->raw.data, p->raw.len, &out);
		found = out.data != NULL && strstr(out.data, s) != NULL;
		if (found || p->eof || clock_ms() > end)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	buf_free(&out);
	return found;
}

/*
 * Send the web server's side of a request: params, empty stdin; the
 * peer reads what comes back once hold is 0 (peer_release()).
 */
static struct fconn *
begin_held(struct peer *p, int hold)
{
	static const char	 pair[] = "\x0e\x03REQUEST_METHODGET";
	unsigned char		 br[8] = { 0, FCGI_RESPONDER, 0 };
	struct fconn		*c;
	struct buf		 b;
	char			 tmp[16];
	size_t			 got;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	buf_init(&b, 4096);
	record(&b, FCGI_BEGIN_REQUEST, br, sizeof(br));
	record(&b, FCGI_PARAMS, pair, sizeof(pair) - 1);
	record(&b, FCGI_PARAMS, NULL, 0);
	record(&b, FCGI_STDIN, NULL, 0);
	if (write(sv[1], b.data, b.len) != (ssize_t)b.len)
		abort();
	buf_free(&b);
	c = fconn_new(sv[0], 1);
	if (c == NULL || fconn_begin(c, clock_ms() + WAIT_MS) != FCONN_OK ||
	    fconn_read(c, tmp, sizeof(tmp), clock_ms() + WAIT_MS, &got) !=
	    FCONN_OK || got != 0)
		abort();
	memset(p, 0, sizeof(*p));
	p->fd = sv[1];
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	buf_init(&p->raw, RAW_MAX);
	p->hold = hold;
	if (pthread_create(&p->th, NULL, reader, p) != 0)
		abort();
	return c;
}

static struct fconn *
begin(struct peer *p)
{
	return begin_held(p, 0);
}

static void
peer_release(struct peer *p)
{
	pthread_mutex_lock(&p->mu);
	p->hold = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Close the connection (the follower ended the request, or the client
 * left), wait for the reader; out gets the stdout.
 */
static void
finish(struct peer *p, struct fconn *c, struct buf *out)
{
	fconn_free(c);
	pthread_join(p->th, NULL);
	close(p->fd);
	buf_init(out, RAW_MAX);
	decode((unsigned char *)p->raw.data, p->raw.len, out);
	if (out->data == NULL && buf_adds(out, "") != BUF_OK)
		abort();
	buf_free(&p->raw);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* The writer, turning on a thread of its own as on the runner's. */
static struct writer	*wr;
static pthread_t	 wr_th;
static atomic_int	 wr_stop;

static void *
wr_loop(void *arg)
{
	struct pollfd pf;

	(void)arg;
	while (!atomic_load(&wr_stop)) {
		pf.fd = wr_fd(wr);
		pf.events = POLLIN;
		(void)poll(&pf, 1, 50);
		wr_turn(wr, clock_ms());
	}
	return NULL;
}

static void
wr_start(void)
{
	if (wr_new(&cfg, &wr) != WR_OK ||
	    pthread_create(&wr_th, NULL, wr_loop, NULL) != 0)
		abort();
	wr_set_thread(wr, wr_th);
}

static void
wr_stop_all(void)
{
	atomic_store(&wr_stop, 1);
	pthread_join(wr_th, NULL);
	wr_free(wr);
}

/* One stream's end, as its owner sees it. */
struct ending {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 ended;
	int		 calls;
	enum fl_status	 st;
};

static void
on_end(void *arg, enum fl_status st)
{
	struct ending *e = arg;

	pthread_mutex_lock(&e->mu);
	e->ended = 1;
	e->calls++;
	e->st = st;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void
ending_init(struct ending *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
}

/* Wait for the end (at most ms); its status, or FL__MAX if none came. */
static enum fl_status
ending_wait(struct ending *e, long ms)
{
	long long	 end = clock_ms() + ms;
	struct timespec	 ts;
	enum fl_status	 st;

	pthread_mutex_lock(&e->mu);
	while (!e->ended && clock_ms() < end) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
	st = e->ended ? e->st : FL__MAX;
	pthread_mutex_unlock(&e->mu);
	return st;
}

static void
ending_free(struct ending *e)
{
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
}

/* Hand a follower of l to the writer and wait for its end. */
static enum fl_status
follow_sync(enum fl_kind kind, struct out *o, struct fconn *c,
    struct runlog *l, uint64_t after, const char *extra,
    const struct config *cf)
{
	struct ending	 e;
	struct fl	*f;
	enum fl_status	 st;

	ending_init(&e);
	if ((f = fl_new(kind, o, c, l, after, extra, cf)) == NULL ||
	    fconn_nonblock(c) != FCONN_OK ||
	    wr_add(wr, f, fconn_fd(c), on_end, &e) != WR_OK)
		abort();
	st = ending_wait(&e, 4 * WAIT_MS);
	ending_free(&e);
	return st;
}

static void
add(struct runlog *l, const char *type, const char *data,
    enum rl_state final)
{
	if (rl_append(l, type, data, strlen(data), final, NULL) != RL_OK)
		abort();
}

static struct runlog *
newlog(void)
{
	struct runlog	*l;
	char		 id[RL_ID_LEN + 1];

	if (rl_new_id(id) != RL_OK || rl_new(id, &l) != RL_OK)
		abort();
	return l;
}

/* What fl_sse must write for frame id of type with data. */
static void
expect(struct buf *b, unsigned id, const char *type, const char *data)
{
	if (buf_printf(b, "id: %u\nevent: %s\ndata: %s\n\n", id, type, data)
	    != BUF_OK)
		abort();
}

/* A log of n frames: accepted, n - 3 tokens, complete, done. */
static struct runlog *
filled(unsigned n, struct buf *want)
{
	struct runlog	*l = newlog();
	char		 d[128];
	unsigned	 i;

	for (i = 1; i <= n; i++) {
		if (i == 1)
			snprintf(d, sizeof(d), "{\"type\":\"status\","
			    "\"stage\":\"accepted\",\"run_id\":\"%s\"}",
			    rl_id(l));
		else if (i == n)
			snprintf(d, sizeof(d), "{\"type\":\"done\"}");
		else if (i == n - 1)
			snprintf(d, sizeof(d), "{\"type\":\"complete\","
			    "\"response\":{\"matches\":[]}}");
		else
			snprintf(d, sizeof(d), "{\"type\":\"token\","
			    "\"index\":0,\"content\":\"t%u\"}", i);
		add(l, i == 1 ? "status" : i == n ? "done" : i == n - 1 ?
		    "complete" : "token", d, i == n ? RL_DONE : RL_RUNNING);
		if (want != NULL)
			expect(want, i, i == 1 ? "status" : i == n ? "done" :
			    i == n - 1 ? "complete" : "token", d);
	}
	return l;
}


/* The body of a response: what follows the blank line after headers. */
static const char *
body_of(const struct buf *out)
{
	const char	*p;

	p = strstr(out->data, "\r\n\r\n");
	return p != NULL ? p + 4 : "";
}

/* fl_sse over l after a cursor (no extra header); stdout into out. */
static enum fl_status
replay(struct runlog *l, uint64_t after, struct buf *out)
{
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	enum fl_status	 rc;

	c = begin(&p);
	out_init(&o, c, NULL, "t-replay");
	(void)out_sse_begin(&o, NULL);
	rc = follow_sync(FL_SSE, &o, c, l, after, NULL, &cfg);
	out_free(&o);
	finish(&p, c, out);
	return rc;
}

static void
test_sse_replay(void)
{
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	struct runlog	*l;
	struct buf	 want, out;
	enum fl_status	 rc;
	const char	*b;
	size_t		 k;

	/* 200 frames: more than three batches, read in one go. */
	buf_init(&want, RAW_MAX);
	l = filled(200, &want);
	c = begin(&p);
	out_init(&o, c, NULL, "t-1");
	ok(out_sse_begin(&o, "X-Match-Run: abc\r\n") == OUT_OK,
	    "sse: headers sent");
	rc = follow_sync(FL_SSE, &o, c, l, 0, NULL, &cfg);
	ok(rc == FL_OK, "sse: a closed log is written through done");
	ok(rl_followers(l) == 0, "sse: the follower uncounted at its end");
	out_free(&o);
	finish(&p, c, &out);
	ok(strncmp(out.data, "Status: 200 OK\r\n", 16) == 0 &&
	    strstr(out.data, "Content-Type: text/event-stream\r\n") != NULL &&
	    strstr(out.data, "Cache-Control: no-cache\r\n") != NULL &&
	    strstr(out.data, "X-Accel-Buffering: no\r\n") != NULL &&
	    strstr(out.data, "\r\nX-Match-Run: abc\r\n") != NULL,
	    "sse: the stream's headers and the extra one");
	b = body_of(&out);
	ok(strcmp(b, want.data) == 0, "sse: 200 frames, ids 1..200, byte for "
	    "byte (%zu bytes, want %zu)", strlen(b), want.len);
	buf_free(&out);

	/* After a cursor: exactly the frames above it. */
	rc = replay(l, 197, &out);
	k = 0;
	for (b = want.data; k < 197; b = strstr(b, "\n\n") + 2)
		k++;
	ok(rc == FL_OK && strcmp(body_of(&out), b) == 0,
	    "sse: after 197, frames 198..200 only");
	ok(strstr(out.data, "X-Match-Run") == NULL,
	    "sse: no extra header when NULL");
	buf_free(&out);

	/* A cursor at done: nothing, at once. */
	rc = replay(l, 200, &out);
	ok(rc == FL_OK && *body_of(&out) == '\0',
	    "sse: after done, an empty body");
	buf_free(&out);
	buf_free(&want);
	rl_unref(l);
}

struct producer {
	pthread_t	 th;
	struct runlog	*l;
	struct peer	*p;
	int		 mode;		/* see produce() */
	int		 ok;		/* every condition came */
	int		 followers;	/* rl_followers() while following */
};

enum { LIVE, KEEPALIVE, ABORT, HANGUP };

/* Wait until someone follows l. */
static int
followed(struct runlog *l)
{
	long long	 end = clock_ms() + WAIT_MS;
	struct timespec	 ts = { 0, 1000000 };

	while (rl_followers(l) == 0 && clock_ms() < end)
		nanosleep(&ts, NULL);
	return rl_followers(l);
}

/* Wait until nobody follows l.  Nonzero if so. */
static int
unfollowed(struct runlog *l)
{
	long long	 end = clock_ms() + WAIT_MS;
	struct timespec	 ts = { 0, 1000000 };

	while (rl_followers(l) != 0 && clock_ms() < end)
		nanosleep(&ts, NULL);
	return rl_followers(l) == 0;
}

static void *
produce(void *arg)
{
	struct producer	*pr = arg;
	unsigned char	 abort_rec[FCGI_HEADER_LEN];
	char		 d[64];
	int		 i;

	fcgi_header(abort_rec, FCGI_ABORT_REQUEST, 1, 0, 0);
	pr->ok = 1;
	pr->followers = followed(pr->l);
	switch (pr->mode) {
	case LIVE:
		/* Each frame once the last one reached the client. */
		for (i = 2; i <= 20; i++) {
			snprintf(d, sizeof(d), "{\"type\":\"token\","
			    "\"index\":0,\"content\":\"x%d\"}", i);
			add(pr->l, "token", d, RL_RUNNING);
			snprintf(d, sizeof(d), "id: %d\n", i);
			pr->ok &= peer_wait(pr->p, d);
		}
		add(pr->l, "done", "{\"type\":\"done\"}", RL_DONE);
		break;
	case KEEPALIVE:
		pr->ok &= peer_wait(pr->p, ": keepalive\n\n");
		add(pr->l, "done", "{\"type\":\"done\"}", RL_DONE);
		break;
	case ABORT:
		/* FCGI_ABORT_REQUEST: the web server gives up. */
		pr->ok &= write(pr->p->fd, abort_rec, sizeof(abort_rec)) ==
		    (ssize_t)sizeof(abort_rec);
		break;
	case HANGUP:
		pr->ok &= shutdown(pr->p->fd, SHUT_WR) == 0;
		break;
	}
	if (pr->mode == ABORT || pr->mode == HANGUP) {
		/* A follower that missed it: end the log (the test fails). */
		if (!unfollowed(pr->l))
			add(pr->l, "done", "{\"type\":\"done\"}", RL_DONE);
	}
	return NULL;
}

/* Follow l with fl_sse while a producer does mode; stdout into out. */
static enum fl_status
follow_with(struct runlog *l, int mode, struct producer *pr,
    struct buf *out, long long *ms)
{
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	enum fl_status	 rc;
	long long	 t0;

	c = begin(&p);
	out_init(&o, c, NULL, "t-live");
	(void)out_sse_begin(&o, NULL);
	memset(pr, 0, sizeof(*pr));
	pr->l = l;
	pr->p = &p;
	pr->mode = mode;
	if (pthread_create(&pr->th, NULL, produce, pr) != 0)
		abort();
	t0 = clock_ms();
	rc = follow_sync(FL_SSE, &o, c, l, 0, NULL,
	    mode == KEEPALIVE ? &cfg_ka : &cfg);
	*ms = clock_ms() - t0;
	pthread_join(pr->th, NULL);
	out_free(&o);
	finish(&p, c, out);
	return rc;
}

static void
test_sse_live(void)
{
	struct producer	 pr;
	struct runlog	*l;
	struct buf	 out, want;
	enum fl_status	 rc;
	long long	 ms;
	char		 d[64];
	int		 i;

	l = newlog();
	add(l, "status", "{\"type\":\"status\",\"stage\":\"accepted\"}",
	    RL_RUNNING);
	rc = follow_with(l, LIVE, &pr, &out, &ms);
	buf_init(&want, RAW_MAX);
	expect(&want, 1, "status", "{\"type\":\"status\",\"stage\":"
	    "\"accepted\"}");
	for (i = 2; i <= 20; i++) {
		snprintf(d, sizeof(d), "{\"type\":\"token\",\"index\":0,"
		    "\"content\":\"x%d\"}", i);
		expect(&want, (unsigned)i, "token", d);
	}
	expect(&want, 21, "done", "{\"type\":\"done\"}");
	ok(rc == FL_OK && pr.ok, "live: each frame reached the client as it "
	    "was appended");
	ok(pr.followers == 1, "live: counted as a follower while following");
	ok(strcmp(body_of(&out), want.data) == 0, "live: frames 1..21 in "
	    "order, no gap");
	ok(rl_followers(l) == 0, "live: uncounted after done");
	buf_free(&out);
	buf_free(&want);
	rl_unref(l);

	/* Keep-alive after keepalive_ms without a frame. */
	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	rc = follow_with(l, KEEPALIVE, &pr, &out, &ms);
	ok(rc == FL_OK && pr.ok && strstr(body_of(&out), "\n\n: keepalive\n\n"
	    "id: 2\nevent: done\n") != NULL,
	    "keepalive: a comment between frames when the log is quiet");
	buf_free(&out);
	rl_unref(l);
}

static void
test_sse_gone(void)
{
	struct producer	 pr;
	struct runlog	*l;
	struct buf	 out;
	enum fl_status	 rc;
	long long	 ms;

	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	rc = follow_with(l, ABORT, &pr, &out, &ms);
	ok(rc == FL_ERR_GONE && pr.ok, "gone: FCGI_ABORT_REQUEST ends the "
	    "follower");
	ok(ms <= 1000, "gone: noticed in %lld ms (keep-alive far off: the "
	    "writer sees the socket)", ms);
	ok(rl_followers(l) == 0 && rl_state(l) == RL_RUNNING &&
	    !rl_stop_requested(l), "gone: uncounted; the run goes on");
	buf_free(&out);

	rc = follow_with(l, HANGUP, &pr, &out, &ms);
	ok(rc == FL_ERR_GONE && pr.ok, "gone: the web server hanging up ends "
	    "the follower (%lld ms)", ms);
	buf_free(&out);
	rl_unref(l);
}

/* fl_plain over a closed log; out gets the whole stdout. */
static enum fl_status
plain(struct runlog *l, struct buf *out)
{
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	enum fl_status	 rc;

	c = begin(&p);
	out_init(&o, c, NULL, "t-plain");
	rc = follow_sync(FL_PLAIN, &o, c, l, 0, "X-Match-Run: r1\r\n", &cfg);
	out_free(&o);
	finish(&p, c, out);
	return rc;
}

static void
test_plain(void)
{
	static const struct {
		const char	*code;
		const char	*status;
		enum rl_state	 final;
	} errs[] = {
		{ "cancelled", "Status: 409 Conflict\r\n", RL_CANCELLED },
		{ "upstream_timeout", "Status: 504 ", RL_FAILED },
		{ "shutdown", "Status: 503 ", RL_FAILED },
		{ "upstream_error", "Status: 502 ", RL_FAILED },
		{ "interrupted", "Status: 503 ", RL_INTERRUPTED },
	};
	struct runlog	*l;
	struct buf	 out;
	char		 d[256], w[256];
	size_t		 i;

	l = filled(5, NULL);
	ok(plain(l, &out) == FL_OK &&
	    strncmp(out.data, "Status: 200 OK\r\n", 16) == 0 &&
	    strstr(out.data, "Content-Type: application/json\r\n") != NULL &&
	    strstr(out.data, "Cache-Control: no-store\r\n") != NULL &&
	    strstr(out.data, "\r\nX-Match-Run: r1\r\n") != NULL &&
	    strcmp(body_of(&out), "{\"matches\":[]}\n") == 0,
	    "plain: complete -> 200, the response, X-Match-Run");
	buf_free(&out);
	rl_unref(l);

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		l = newlog();
		add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
		snprintf(d, sizeof(d), "{\"type\":\"error\",\"code\":\"%s\","
		    "\"message\":\"m %s\",\"response\":{\"matches\":[1]}}",
		    errs[i].code, errs[i].code);
		add(l, "error", d, RL_RUNNING);
		add(l, "done", "{\"type\":\"done\"}", errs[i].final);
		snprintf(w, sizeof(w), "{\"error\":{\"code\":\"%s\","
		    "\"message\":\"m %s\"},\"response\":{\"matches\":[1]}}\n",
		    errs[i].code, errs[i].code);
		ok(plain(l, &out) == FL_OK &&
		    strncmp(out.data, errs[i].status,
		    strlen(errs[i].status)) == 0 &&
		    strstr(out.data, "X-Match-Run: r1\r\n") != NULL &&
		    strcmp(body_of(&out), w) == 0,
		    "plain: error %s -> %.3s, error and response",
		    errs[i].code, errs[i].status + 8);
		buf_free(&out);
		rl_unref(l);
	}

	/* Ended without a result (the log filled): 500, not a hang. */
	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	add(l, "done", "{\"type\":\"done\"}", RL_FAILED);
	ok(plain(l, &out) == FL_OK &&
	    strncmp(out.data, "Status: 500 ", 12) == 0 &&
	    strstr(body_of(&out), "\"internal\"") != NULL,
	    "plain: no result frame -> 500 internal");
	buf_free(&out);
	rl_unref(l);
}

/* The body the plain route sent for the complete frame before: parsed. */
static char *
parsed_answer(const char *frame)
{
	json_object	*d, *r;
	char		*s;

	if ((d = json_tokener_parse(frame)) == NULL ||
	    !json_object_object_get_ex(d, "response", &r) ||
	    (s = malloc(strlen(frame) + 2)) == NULL)
		abort();
	snprintf(s, strlen(frame) + 2, "%s\n", json_object_to_json_string_ext(
	    r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(d);
	return s;
}

/* The plain answer of a log holding one complete frame data. */
static void
answer_of(const char *data, struct buf *out)
{
	struct runlog	*l;

	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	add(l, "complete", data, RL_RUNNING);
	add(l, "done", "{\"type\":\"done\"}", RL_DONE);
	if (plain(l, out) != FL_OK)
		abort();
	rl_unref(l);
}

/*
 * The plain route sends the response of a complete frame as the engine
 * wrote it, without parsing it: the same bytes a parse and a new
 * serialization gave, for text with quotes, backslashes, braces in
 * strings, controls, UTF-8, numbers and nesting; a frame of another
 * shape is still parsed.
 */
static void
test_plain_raw(void)
{
	json_object	*ev, *resp, *m, *x, *a, *b;
	struct buf	 out;
	char		*want, *deep;
	const char	*frame;
	size_t		 i;
	int		 same;

	/* As run_finish builds it. */
	resp = json_object_new_object();
	a = json_object_new_array();
	m = json_object_new_object();
	json_object_object_add(m, "index", json_object_new_int64(0));
	json_object_object_add(m, "jobtitle", json_object_new_string(
	    "D\xc3\xa9v \"q\" \\ / </x> }{][ \x01\x1f\x7f \t\n"));
	json_object_object_add(m, "score", json_object_new_int64(87));
	json_object_object_add(m, "summary", json_object_new_string(
	    "ends in a backslash \\"));
	x = json_object_new_object();
	b = json_object_new_array();
	json_object_array_add(b, json_object_new_double(2.5));
	json_object_array_add(b, NULL);
	json_object_array_add(b, json_object_new_string("\"}"));
	json_object_object_add(x, "deep", b);
	json_object_object_add(m, "extra", x);
	json_object_object_add(m, "cached", json_object_new_boolean(0));
	json_object_array_add(a, m);
	json_object_object_add(resp, "matches", a);
	json_object_object_add(resp, "errors", json_object_new_array());
	ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string("complete"));
	json_object_object_add(ev, "response", resp);
	frame = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	want = parsed_answer(frame);
	answer_of(frame, &out);
	ok(strcmp(body_of(&out), want) == 0, "plain raw: the response as "
	    "the parse and serialization gave it, byte for byte");
	free(want);
	buf_free(&out);
	json_object_put(ev);

	/* Other shapes: the parse decides. */
	answer_of("{\"type\":\"complete\",\"response\":{\"a\":\"}\"},"
	    "\"x\":2}", &out);
	same = strcmp(body_of(&out), "{\"a\":\"}\"}\n") == 0;
	buf_free(&out);
	answer_of("{\"type\": \"complete\", \"response\": {\"a\": 1}}", &out);
	same += strcmp(body_of(&out), "{\"a\":1}\n") == 0;
	buf_free(&out);
	answer_of("{\"type\":\"complete\",\"response\":{\"a\":\"\\\"}\"}}",
	    &out);
	same += strcmp(body_of(&out), "{\"a\":\"\\\"}\"}\n") == 0;
	buf_free(&out);
	ok(same == 3, "plain raw: a member after the response, spaces, an "
	    "escaped quote before a brace: the response alone (%d of 3)",
	    same);

	/*
	 * Nested deeper than json_tokener_parse() goes: sent as it is, so
	 * the frame was not parsed.
	 */
	if ((deep = malloc(200)) == NULL)
		abort();
	i = (size_t)snprintf(deep, 200, "{\"type\":\"complete\","
	    "\"response\":{\"a\":");
	memset(deep + i, '[', 40);
	memset(deep + i + 40, ']', 40);
	memcpy(deep + i + 80, "}}", 3);
	answer_of(deep, &out);
	deep[i + 81] = '\0';
	ok(strncmp(out.data, "Status: 200 ", 12) == 0 &&
	    strncmp(body_of(&out), deep + i - 5, 86) == 0,
	    "plain raw: the response is not parsed (40 levels deep, 200)");
	buf_free(&out);
	free(deep);
}

static void *
plain_producer(void *arg)
{
	struct runlog	*l = arg;

	if (followed(l) == 1) {
		add(l, "complete", "{\"type\":\"complete\",\"response\":"
		    "{\"late\":true}}", RL_RUNNING);
		add(l, "done", "{\"type\":\"done\"}", RL_DONE);
	}
	return NULL;
}

static void
test_plain_live(void)
{
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	struct runlog	*l;
	struct buf	 out;
	pthread_t	 th;
	enum fl_status	 rc;
	unsigned char	 abort_rec[FCGI_HEADER_LEN];

	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	if (pthread_create(&th, NULL, plain_producer, l) != 0)
		abort();
	rc = plain(l, &out);
	pthread_join(th, NULL);
	ok(rc == FL_OK && strcmp(body_of(&out), "{\"late\":true}\n") == 0,
	    "plain: waits for done, then answers");
	buf_free(&out);
	rl_unref(l);

	/* The client leaves before the end: no answer, run untouched. */
	l = newlog();
	add(l, "status", "{\"type\":\"status\"}", RL_RUNNING);
	c = begin(&p);
	out_init(&o, c, NULL, "t-plain-gone");
	fcgi_header(abort_rec, FCGI_ABORT_REQUEST, 1, 0, 0);
	if (write(p.fd, abort_rec, sizeof(abort_rec)) != sizeof(abort_rec))
		abort();
	rc = follow_sync(FL_PLAIN, &o, c, l, 0, NULL, &cfg);
	ok(rc == FL_ERR_GONE && o.state == OUT_HEAD &&
	    rl_followers(l) == 0 && !rl_stop_requested(l),
	    "plain: an abort ends the follower, nothing sent");
	out_free(&o);
	finish(&p, c, &out);
	buf_free(&out);
	rl_unref(l);
}


/*
 * A client that reads nothing for a while: the follower waits for it
 * (the stream stays whole and in order once it reads), and one that
 * reads nothing past client_timeout_ms is dropped.
 */
static void
test_slow_client(void)
{
	struct config	 slow;
	struct peer	 p;
	struct fconn	*c;
	struct out	 o;
	struct runlog	*l;
	struct ending	 e;
	struct fl	*f;
	struct buf	 want, out;
	char		*big;
	enum fl_status	 st;
	long long	 t0, ms;
	unsigned	 i;

	/* 2 MiB of frames, far more than a socket buffer holds. */
	big = malloc(32 * 1024 + 64);
	if (big == NULL)
		abort();
	memset(big, 'a', 32 * 1024);
	big[32 * 1024] = '\0';
	l = newlog();
	buf_init(&want, RAW_MAX);
	for (i = 1; i <= 64; i++) {
		char *d;

		if (asprintf(&d, "{\"type\":\"token\",\"index\":0,"
		    "\"content\":\"%u%s\"}", i, big) < 0)
			abort();
		add(l, "token", d, RL_RUNNING);
		expect(&want, i, "token", d);
		free(d);
	}
	add(l, "done", "{\"type\":\"done\"}", RL_DONE);
	expect(&want, 65, "done", "{\"type\":\"done\"}");

	c = begin_held(&p, 1);
	out_init(&o, c, NULL, "t-slow");
	(void)out_sse_begin(&o, NULL);
	ending_init(&e);
	if ((f = fl_new(FL_SSE, &o, c, l, 0, NULL, &cfg)) == NULL ||
	    fconn_nonblock(c) != FCONN_OK ||
	    wr_add(wr, f, fconn_fd(c), on_end, &e) != WR_OK)
		abort();
	st = ending_wait(&e, 300);
	ok(st == FL__MAX, "slow: a client that doesn't read holds the "
	    "stream open (no end yet)");
	peer_release(&p);
	st = ending_wait(&e, 4 * WAIT_MS);
	ok(st == FL_OK && e.calls == 1, "slow: once it reads, the stream "
	    "ends written through (%s), its owner told once",
	    st < FL__MAX ? fl_strerror(st) : "no end");
	ending_free(&e);
	out_free(&o);
	finish(&p, c, &out);
	ok(strcmp(body_of(&out), want.data) == 0, "slow: all 65 frames, "
	    "2 MiB, whole and in order (%zu bytes, want %zu)",
	    strlen(body_of(&out)), want.len);
	buf_free(&out);

	/* Nothing read for client_timeout_ms: dropped. */
	slow = cfg;
	slow.client_timeout_ms = 300;
	c = begin_held(&p, 1);
	out_init(&o, c, NULL, "t-stall");
	(void)out_sse_begin(&o, NULL);
	t0 = clock_ms();
	st = follow_sync(FL_SSE, &o, c, l, 0, NULL, &slow);
	ms = clock_ms() - t0;
	ok(st == FL_ERR_GONE && ms >= 300 && ms < 300 + 2 * MJ_WRITER_TICK_MS +
	    1000, "stall: a client that reads nothing for 300 ms is dropped "
	    "(%lld ms)", ms);
	ok(rl_followers(l) == 0, "stall: uncounted");
	peer_release(&p);
	out_free(&o);
	finish(&p, c, &out);
	buf_free(&out);
	buf_free(&want);
	free(big);
	rl_unref(l);
}

/* Many streams on one writer, their logs growing together. */
#define MANY	24
#define TOKENS	60

static void
test_many(void)
{
	struct peer	 p[MANY];
	struct fconn	*c[MANY];
	struct out	 o[MANY];
	struct runlog	*l[MANY];
	struct ending	 e[MANY];
	struct buf	 want[MANY], out;
	struct fl	*f;
	char		 d[128];
	int		 i, k, good, ended;

	for (i = 0; i < MANY; i++) {
		l[i] = newlog();
		buf_init(&want[i], RAW_MAX);
		c[i] = begin(&p[i]);
		out_init(&o[i], c[i], NULL, "t-many");
		(void)out_sse_begin(&o[i], NULL);
		ending_init(&e[i]);
		if ((f = fl_new(FL_SSE, &o[i], c[i], l[i], 0, NULL,
		    &cfg)) == NULL || fconn_nonblock(c[i]) != FCONN_OK ||
		    wr_add(wr, f, fconn_fd(c[i]), on_end, &e[i]) != WR_OK)
			abort();
	}
	for (k = 1; k <= TOKENS; k++)
		for (i = 0; i < MANY; i++) {
			snprintf(d, sizeof(d), "{\"type\":\"token\","
			    "\"index\":%d,\"content\":\"s%dt%d\"}", i, i, k);
			add(l[i], "token", d, RL_RUNNING);
			expect(&want[i], (unsigned)k, "token", d);
		}
	for (i = 0; i < MANY; i++) {
		add(l[i], "done", "{\"type\":\"done\"}", RL_DONE);
		expect(&want[i], TOKENS + 1, "done", "{\"type\":\"done\"}");
	}
	good = ended = 0;
	for (i = 0; i < MANY; i++) {
		ended += ending_wait(&e[i], 4 * WAIT_MS) == FL_OK;
		ending_free(&e[i]);
		out_free(&o[i]);
		finish(&p[i], c[i], &out);
		good += strcmp(body_of(&out), want[i].data) == 0;
		buf_free(&out);
		buf_free(&want[i]);
		rl_unref(l[i]);
	}
	ok(ended == MANY, "many: %d of %d streams ended written through",
	    ended, MANY);
	ok(good == MANY, "many: %d of %d got their own %d frames exactly",
	    good, MANY, TOKENS + 1);
	ok(wr_count(wr) == 0, "many: the writer holds none after");
}

int
main(void)
{
	cfg.keepalive_ms = 600000;
	cfg.client_timeout_ms = 600000;
	cfg_ka = cfg;
	cfg_ka.keepalive_ms = 100;
	wr_start();
	test_sse_replay();
	test_sse_live();
	test_sse_gone();
	test_plain();
	test_plain_raw();
	test_plain_live();
	test_slow_client();
	test_many();
	wr_stop_all();
	return tap_done();
}
