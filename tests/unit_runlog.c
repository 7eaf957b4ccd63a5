/*
 * unit_runlog.c - the run log and the registry (src/runlog.c): ids,
 * numbering, replay after a cursor, live followers on other threads,
 * reconnects, bounds, expiry.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "clock.h"
#include "runlog.h"
#include "tap.h"

static void
test_ids(void)
{
	char	 id[RL_ID_LEN + 1], first[RL_ID_LEN + 1], bad[RL_ID_LEN + 2];
	int	 i, good = 1, distinct = 1;

	ok(rl_new_id(first) == RL_OK && strlen(first) == RL_ID_LEN &&
	    RL_ID_LEN == 32 && rl_id_valid(first),
	    "a new id has 32 characters and is valid");
	for (i = 0; i < 2000; i++) {
		if (rl_new_id(id) != RL_OK || !rl_id_valid(id) ||
		    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_") != RL_ID_LEN)
			good = 0;
		if (strcmp(id, first) == 0)
			distinct = 0;
	}
	ok(good, "2000 ids: only RFC 3986 unreserved characters");
	ok(distinct, "... none equal to the first");
	ok(RL_ID_BYTES * 8 >= 128, "ids carry at least 128 random bits (%d)",
	    RL_ID_BYTES * 8);
	{
		char	 a[RL_ID_LEN + 1], b[RL_ID_LEN + 1];
		struct timespec ts = { 0, 3 * 1000 * 1000 };
		int	 sorted = 1;

		for (i = 0; i < 5; i++) {
			if (rl_new_id(a) != RL_OK)
				sorted = 0;
			nanosleep(&ts, NULL);
			if (rl_new_id(b) != RL_OK || strcmp(a, b) >= 0)
				sorted = 0;
		}
		ok(sorted, "an id made 3 ms later sorts after (5 pairs)");
	}
	ok(rl_id_valid("AbCdEfGhIjKlMnOpQrStUvWx"),
	    "an id of before (24 random characters) is still valid");
	memcpy(bad, first, sizeof(first));
	bad[5] = '/';
	ok(!rl_id_valid(bad), "a '/' makes an id invalid");
	bad[5] = first[5];
	bad[RL_ID_LEN] = 'A';
	bad[RL_ID_LEN + 1] = '\0';
	ok(!rl_id_valid(bad) && !rl_id_valid("") && !rl_id_valid(NULL) &&
	    !rl_id_valid("short"), "wrong lengths and NULL are invalid");
}

static struct runlog *
fresh(void)
{
	char		 id[RL_ID_LEN + 1];
	struct runlog	*l = NULL;

	if (rl_new_id(id) != RL_OK || rl_new(id, &l) != RL_OK)
		abort();
	return l;
}

static void
test_numbering(void)
{
	struct runlog	*l = fresh();
	struct rl_frame	 f[8];
	uint64_t	 id = 0;
	size_t		 n;
	int		 closed, good = 1;
	char		 d[32];
	unsigned	 i;

	for (i = 1; i <= 5; i++) {
		snprintf(d, sizeof(d), "{\"n\":%u}", i);
		if (rl_append(l, "token", d, strlen(d), RL_RUNNING, &id) !=
		    RL_OK || id != i)
			good = 0;
	}
	ok(good, "frames are numbered 1, 2, 3, ... as appended");
	ok(rl_state(l) == RL_RUNNING && rl_last_id(l) == 5,
	    "running, last id 5");
	rl_read(l, 0, f, 8, 0, &n, &closed);
	ok(n == 5 && f[0].id == 1 && f[4].id == 5 && !closed &&
	    strcmp(f[2].data, "{\"n\":3}") == 0 && f[2].len == 7 &&
	    strcmp(f[2].type, "token") == 0,
	    "read from 0: every frame with its type and data");
	rl_read(l, 3, f, 8, 0, &n, &closed);
	ok(n == 2 && f[0].id == 4 && f[1].id == 5, "read after 3: 4 and 5");
	rl_read(l, 1, f, 2, 0, &n, &closed);
	ok(n == 2 && f[0].id == 2 && f[1].id == 3, "max bounds a read");
	rl_read(l, 5, f, 8, 0, &n, &closed);
	ok(n == 0 && !closed, "at the end, no wait: nothing, not closed");
	ok(rl_append(l, "", "x", 1, RL_RUNNING, NULL) == RL_ERR_ARG,
	    "an empty type is refused");
	ok(rl_append(l, "done", "{}", 2, RL_CANCELLED, &id) == RL_OK &&
	    id == 6 && rl_state(l) == RL_CANCELLED,
	    "done is frame 6 and sets the final state");
	ok(rl_append(l, "token", "x", 1, RL_RUNNING, NULL) == RL_ERR_CLOSED,
	    "nothing is appended after done");
	rl_read(l, 5, f, 8, -1, &n, &closed);
	ok(n == 1 && f[0].id == 6 && closed && strcmp(f[0].type, "done") == 0,
	    "the last read returns done and says closed (no wait)");
	rl_read(l, 6, f, 8, -1, &n, &closed);
	ok(n == 0 && closed, "past done: closed at once, even with wait -1");
	rl_unref(l);
	l = fresh();
	ok(rl_append(l, "done", "{}", 2, RL_RUNNING, NULL) == RL_OK &&
	    rl_state(l) == RL_DONE, "done with RL_RUNNING means state done");
	rl_unref(l);
}

static void
test_wait(void)
{
	struct runlog	*l = fresh();
	struct rl_frame	 f[1];
	size_t		 n;
	int		 closed;
	long long	 t0;

	t0 = clock_ms();
	rl_read(l, 0, f, 1, 60, &n, &closed);
	ok(n == 0 && !closed && clock_ms() - t0 >= 50,
	    "a read on an idle log waits its time, then returns nothing");
	rl_request_stop(l);
	ok(rl_stop_requested(l), "stop requested is seen");
	rl_follow(l);
	rl_follow(l);
	rl_unfollow(l);
	ok(rl_followers(l) == 1, "followers counted");
	rl_unfollow(l);
	rl_unfollow(l);
	ok(rl_followers(l) == 0, "... never below 0");
	rl_unref(l);
}

static void
test_bounds(void)
{
	struct runlog	*l = fresh();
	char		*big;
	size_t		 half = MJ_RUNLOG_BYTES_MAX / 2 + 1;

	if ((big = calloc(1, half)) == NULL)
		abort();
	memset(big, 'a', half);
	ok(rl_append(l, "token", big, half, RL_RUNNING, NULL) == RL_OK,
	    "a frame of half the bound fits");
	ok(rl_append(l, "token", big, half, RL_RUNNING, NULL) == RL_ERR_FULL,
	    "the next one is over MJ_RUNLOG_BYTES_MAX: full");
	ok(rl_append(l, "done", "{}", 2, RL_FAILED, NULL) == RL_OK &&
	    rl_state(l) == RL_FAILED && rl_last_id(l) == 2,
	    "a full log can still be ended with done");
	free(big);
	rl_unref(l);
	ok(strcmp(rl_strerror(RL_ERR_FULL), "the run's log is full") == 0 &&
	    strcmp(rl_state_name(RL_INTERRUPTED), "interrupted") == 0 &&
	    strcmp(rl_state_name(RL_STATE__MAX), "unknown") == 0,
	    "names of errors and states");
}

/* ---- a writer and followers on threads ---- */

#define NFRAMES	3000

struct follower {
	struct rl_runs	*runs;
	char		 id[RL_ID_LEN + 1];
	size_t		 max;		/* frames per read */
	uint64_t	 reconnect;	/* drop the log and look it up again
					   after this many frames (0: never) */
	int		 good;
	uint64_t	 got;
	int		 saw_done;
};

static void *
follow(void *arg)
{
	struct follower	*fo = arg;
	struct rl_frame	 f[16];
	struct runlog	*l;
	uint64_t	 cur = 0;
	size_t		 n, i;
	int		 closed = 0;
	char		 want[32];

	fo->good = 1;
	if ((l = rl_runs_get(fo->runs, fo->id)) == NULL) {
		fo->good = 0;
		return NULL;
	}
	while (!closed) {
		rl_read(l, cur, f, fo->max, 1000, &n, &closed);
		for (i = 0; i < n; i++) {
			if (f[i].id != cur + 1)
				fo->good = 0;
			cur = f[i].id;
			if (strcmp(f[i].type, "done") == 0) {
				fo->saw_done = 1;
				continue;
			}
			snprintf(want, sizeof(want), "{\"i\":%llu}",
			    (unsigned long long)cur);
			if (strcmp(f[i].data, want) != 0)
				fo->good = 0;
		}
		fo->got = cur;
		if (fo->reconnect && cur >= fo->reconnect) {
			/* A client that drops and comes back with
			 * Last-Event-ID = cur. */
			fo->reconnect = 0;
			rl_unref(l);
			if ((l = rl_runs_get(fo->runs, fo->id)) == NULL) {
				fo->good = 0;
				return NULL;
			}
		}
	}
	rl_unref(l);
	return NULL;
}

static void
test_followers(void)
{
	struct rl_runs	*runs;
	struct runlog	*l = fresh();
	struct follower	 fo[5];
	pthread_t	 th[5];
	char		 d[32];
	unsigned	 i;
	int		 good = 1, all = 1;

	ok(rl_runs_new(30000, &runs) == RL_OK && rl_runs_add(runs, l) ==
	    RL_OK, "the run is registered");
	ok(rl_runs_add(runs, l) == RL_ERR_EXISTS, "an id is registered once");
	memset(fo, 0, sizeof(fo));
	for (i = 0; i < 5; i++) {
		fo[i].runs = runs;
		memcpy(fo[i].id, rl_id(l), RL_ID_LEN + 1);
		fo[i].max = i == 0 ? 1 : 16 - i;
		fo[i].reconnect = i == 3 ? NFRAMES / 3 : 0;
	}
	/* Two start before any frame, the others join mid-run. */
	pthread_create(&th[0], NULL, follow, &fo[0]);
	pthread_create(&th[1], NULL, follow, &fo[1]);
	for (i = 1; i <= NFRAMES; i++) {
		snprintf(d, sizeof(d), "{\"i\":%u}", i);
		if (rl_append(l, "token", d, strlen(d), RL_RUNNING, NULL) !=
		    RL_OK)
			good = 0;
		if (i == NFRAMES / 2) {
			pthread_create(&th[2], NULL, follow, &fo[2]);
			pthread_create(&th[3], NULL, follow, &fo[3]);
			pthread_create(&th[4], NULL, follow, &fo[4]);
		}
	}
	if (rl_append(l, "done", "{}", 2, RL_RUNNING, NULL) != RL_OK)
		good = 0;
	for (i = 0; i < 5; i++) {
		pthread_join(th[i], NULL);
		if (!fo[i].good || !fo[i].saw_done || fo[i].got != NFRAMES + 1)
			all = 0;
	}
	ok(good, "the writer appended %d frames and done", NFRAMES);
	ok(all, "5 followers (early, late, one frame per read, one that "
	    "reconnects) each got every frame once, in order, through done");
	/* The registry's reference keeps the log; sweeping respects grace. */
	ok(rl_runs_sweep(runs, clock_ms()) == 0 && rl_runs_count(runs) == 1,
	    "an ended run is kept for its grace period");
	ok(rl_runs_sweep(runs, clock_ms() + 30000) == 1 &&
	    rl_runs_count(runs) == 0 && rl_runs_get(runs, rl_id(l)) == NULL,
	    "... and forgotten after it");
	ok(rl_last_id(l) == NFRAMES + 1, "the caller's reference still reads");
	rl_unref(l);

	/* The byte budget: ended runs over it go before their grace. */
	{
		struct runlog	*e[4];
		char		 big[1000];
		int		 k, in;

		memset(big, 'x', sizeof(big));
		big[0] = '"';
		big[sizeof(big) - 1] = '"';
		rl_runs_set_budget(runs, 2500);
		for (k = 0; k < 4; k++) {
			e[k] = fresh();
			if (rl_runs_add(runs, e[k]) != RL_OK ||
			    rl_append(e[k], "status", big, sizeof(big),
			    RL_RUNNING, NULL) != RL_OK ||
			    rl_append(e[k], "done", "{}", 2, RL_RUNNING,
			    NULL) != RL_OK)
				break;
		}
		ok(rl_runs_sweep(runs, clock_ms()) == 2 &&
		    rl_runs_count(runs) == 2, "over the byte budget (4 ended "
		    "runs of 1 KB, 2.5 KB kept): 2 forgotten before their "
		    "grace");
		for (k = 0, in = 0; k < 4; k++) {
			struct runlog *g = rl_runs_get(runs, rl_id(e[k]));

			in += g != NULL;
			rl_unref(g);
			rl_unref(e[k]);
		}
		ok(in == 2, "... and the other 2 are still found");
		ok(rl_runs_sweep(runs, clock_ms() + 500) == 0,
		    "a second sweep within a second walks nothing");
		rl_runs_set_budget(runs, MJ_RUNS_KEPT_BYTES);
		(void)rl_runs_sweep(runs, clock_ms() + 3600000);
	}

	/* rl_wait_end: the end wakes it, frames don't. */
	{
		struct runlog	*w = fresh();
		long long	 t0;
		int		 r1, r2, r3;

		r1 = rl_wait_end(w, 0);
		if (rl_append(w, "token", "{}", 2, RL_RUNNING, NULL) != RL_OK)
			r1 = -1;
		t0 = clock_ms();
		r2 = rl_wait_end(w, 60);
		ok(r1 == 0 && r2 == 0 && clock_ms() - t0 >= 50,
		    "rl_wait_end on a running log: 0, after its wait");
		if (rl_append(w, "done", "{}", 2, RL_RUNNING, NULL) != RL_OK)
			r3 = -1;
		else
			r3 = rl_wait_end(w, -1);
		ok(r3 == 1, "rl_wait_end once done: 1 at once, even unbounded");
		rl_unref(w);
	}

	l = fresh();
	ok(rl_runs_add(runs, l) == RL_OK && rl_runs_sweep(runs,
	    clock_ms() + 3600000 + 2000) == 0, "a running run is never swept");
	ok(rl_runs_remove(runs, rl_id(l)) == 1 &&
	    rl_runs_remove(runs, rl_id(l)) == 0 &&
	    rl_runs_get(runs, "not-an-id") == NULL,
	    "remove once; unknown and malformed ids are not found");
	ok(rl_append(l, "done", "{}", 2, RL_RUNNING, NULL) == RL_OK,
	    "a removed run's log still works for its holders");
	rl_unref(l);
	/* Free with runs still registered: the registry drops its refs. */
	l = fresh();
	if (rl_runs_add(runs, l) != RL_OK)
		abort();
	rl_unref(l);
	/* Its reference is released here: a leak shows under ASan and
	 * valgrind, which run this test. */
	rl_runs_free(runs);
}

/* The response of a complete frame, found without a parse. */
static void
test_complete_response(void)
{
	static const struct { const char *data; const char *want; } c[] = {
		{ "{\"type\":\"complete\",\"response\":{\"a\":1}}",
		    "{\"a\":1}" },
		{ "{\"type\":\"complete\",\"response\":{\"s\":\"}{\\\"]\","
		    "\"l\":[{}]}}", "{\"s\":\"}{\\\"]\",\"l\":[{}]}" },
		{ "{\"type\":\"complete\",\"response\":{\"a\":1}}}", NULL },
		{ "{\"type\":\"complete\",\"response\":{\"a\":1},\"x\":2}",
		    NULL },
		{ "{\"type\":\"complete\",\"response\":{\"a\":\"1}}", NULL },
		{ "{\"type\":\"complete\",\"response\":[1]}", NULL },
		{ "{\"response\":{\"a\":1},\"type\":\"complete\"}", NULL },
	};
	struct rl_frame	 f;
	const char	*r;
	size_t		 i, n;
	int		 got;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.type = "complete";
		f.data = c[i].data;
		f.len = strlen(c[i].data);
		got = rl_complete_response(&f, &r, &n);
		if (c[i].want != NULL)
			ok(got && n == strlen(c[i].want) &&
			    memcmp(r, c[i].want, n) == 0,
			    "complete response %zu: found, exactly", i);
		else
			ok(!got, "complete response %zu: left to a parse", i);
	}
	f.type = "error";
	f.data = c[0].data;
	f.len = strlen(c[0].data);
	ok(!rl_complete_response(&f, &r, &n),
	    "an error frame: left to a parse");
}

int
main(void)
{
	test_ids();
	test_numbering();
	test_wait();
	test_bounds();
	test_followers();
	test_complete_response();
	return tap_done();
}
