/*
 * storebench.c - the store's cost of the keeper's flushes, alone: the
 * CPU time and the bytes written per token frame when thousands of runs
 * stream at once, without the responder, the network or the scheduler
 * between (bench/run's relay and streams scenarios measure the whole,
 * and move with the machine's load).
 *
 * Usage: storebench [RUNS [FLUSHES [DIR [PLAIN]]]]
 *        (default 1000 runs, 50 flushes, a temporary directory, 20000)
 *
 * Per mode, a fresh file in DIR (default: a temporary directory): RUNS
 * running runs, each made with a 2 KB resume as the keeper makes them;
 * then FLUSHES flushes, each appending one token frame to every run,
 * MJ_STORE_FLUSH_SLICE runs to a transaction (store_batch_begin/end), as
 * the keeper does every MJ_STORE_FLUSH_MS for runs of 10 tokens/s, and a
 * checkpoint every 10 flushes (its MJ_STORE_CHECKPOINT_MS).  The modes:
 *
 *   row      every append moves the run's row (store_append with an
 *            update: last_id, updated_ms, done_jobs), as every flush did
 *            before frames could go alone;
 *   alone    frames alone (update NULL): the row is read, not written;
 *   keeper   frames alone, and the row every 10th flush (the keeper's
 *            MJ_STORE_ROW_MS with MJ_STORE_FLUSH_MS).
 *
 * Prints per mode the thread CPU time per frame (the keeper is one
 * thread), the wall time, and the bytes written to the file and its WAL
 * (/proc/self/io write_bytes, which some file systems leave at 0: the
 * file's and the WAL's sizes are printed too), then the ratios.
 *
 * Then the plain route's store work per request (one job, every request
 * different), on two connections as a lane and the keeper have them:
 * the lane's cache lookup and its look for another process's claim,
 * then the cache answer (16 requests to a lane's transaction: a call
 * that answers within MJ_CLAIM_AFTER_MS is never claimed), and the
 * keeper's final rows with their frames (64 to a transaction), a
 * checkpoint every 1024 requests; PLAIN requests (default 20000) after
 * as many to fill the file.  Prints CPU and bytes written per request,
 * and per part (the lane's reads, its writes, the keeper's rows, the
 * checkpoints).
 *
 * Build from a configured build directory (it links libmj.a):
 *   cc -std=c11 -O2 -I build -iquote src bench/storebench.c \
 *       build/libmj.a $(pkg-config --libs sqlite3 json-c) -pthread \
 *       -o storebench
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "runlog.h"
#include "store.h"

enum mode { M_ROW, M_ALONE, M_KEEPER, M__MAX };
static const char *const names[M__MAX] = { "row", "alone", "keeper" };

static double
now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long
io_written(void)
{
	FILE		*f;
	char		 line[128];
	long long	 v = -1;

	if ((f = fopen("/proc/self/io", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long long
size_of(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

struct result {
	double		 cpu_us, wall_ms;
	long long	 io, db, wal;
};

static void
one(enum mode m, const char *dir, int runs, int flushes, struct result *out)
{
	struct store		*st;
	struct store_run_new	 n;
	struct store_update	 u;
	struct rl_frame		 f;
	char			 path[512], wal[600], err[256], id[32];
	char			 resume[2049];
	static const char	 tok[] = "{\"type\":\"token\",\"job\":0,"
	    "\"text\":\" experience\"}";
	double			 c0, w0;
	long long		 io0;
	int			 i, k, row;

	snprintf(path, sizeof(path), "%s/%s.db", dir, names[m]);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (store_open(path, "bench:1:x", &st, err, sizeof(err)) != STORE_OK)
		errx(1, "open %s: %s", path, err);
	memset(resume, 'r', sizeof(resume) - 1);
	resume[sizeof(resume) - 1] = '\0';
	for (i = 0; i < runs; i++) {
		memset(&n, 0, sizeof(n));
		snprintf(id, sizeof(id), "run%020d", i);
		n.id = id;
		n.owner = "";
		n.user_id = "";
		n.total_jobs = 1;
		n.resume = resume;
		if (store_run_create(st, &n, 1) != STORE_OK)
			errx(1, "create: %s", store_errmsg(st));
	}
	if (store_checkpoint(st, MJ_STORE_BUSY_MS) != STORE_OK)
		errx(1, "checkpoint: %s", store_errmsg(st));
	io0 = io_written();
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	w0 = now_s(CLOCK_MONOTONIC);
	for (k = 0; k < flushes; k++) {
		row = m == M_ROW || (m == M_KEEPER && k % (MJ_STORE_ROW_MS /
		    MJ_STORE_FLUSH_MS) == 0);
		for (i = 0; i < runs; i++) {
			if (i % MJ_STORE_FLUSH_SLICE == 0 &&
			    store_batch_begin(st) != STORE_OK)
				errx(1, "begin: %s", store_errmsg(st));
			snprintf(id, sizeof(id), "run%020d", i);
			f.id = (uint64_t)k + 1;
			f.type = "token";
			f.data = tok;
			f.len = sizeof(tok) - 1;
			memset(&u, 0, sizeof(u));
			u.state = RL_RUNNING;
			if (store_append(st, id, &f, 1, row ? &u : NULL,
			    2 + k) != STORE_OK)
				errx(1, "append: %s", store_errmsg(st));
			if ((i + 1) % MJ_STORE_FLUSH_SLICE == 0 || i + 1 == runs)
				if (store_batch_end(st) != STORE_OK)
					errx(1, "commit: %s",
					    store_errmsg(st));
		}
		if ((k + 1) % (MJ_STORE_CHECKPOINT_MS / MJ_STORE_FLUSH_MS) == 0 &&
		    store_checkpoint(st, 0) != STORE_OK)
			errx(1, "checkpoint: %s", store_errmsg(st));
	}
	out->cpu_us = (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e6 /
	    ((double)runs * flushes);
	out->wall_ms = (now_s(CLOCK_MONOTONIC) - w0) * 1e3;
	out->io = io0 >= 0 ? io_written() - io0 : -1;
	out->db = size_of(path);
	out->wal = size_of(wal);
	store_close(st);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* CPU seconds of this thread's parts of plain_requests(). */
struct parts {
	double	 reads, writes, rows, checkpoints;
};

/* n plain requests' store work, as a lane and the keeper do it. */
static void
plain_requests(struct store *lane, struct store *kp, int n, uint64_t *seed,
    int64_t t, struct parts *pt)
{
	struct store_run_new	 rn;
	struct store_update	 u;
	struct store_claim	 cl;
	struct rl_frame		 f[5];
	unsigned char		 key[64][32];
	char			 id[64][RL_ID_LEN + 1], *ans;
	size_t			 len;
	static const char	 answer[] = "{\"job_id\":\"j1\",\"score\":"
	    "72,\"reasoning\":\"The candidate's experience matches most "
	    "of the requirements; two of the listed skills are missing.\","
	    "\"strengths\":[\"a\",\"b\"],\"gaps\":[\"c\"]}";
	static const char	 tok[] = "{\"type\":\"token\",\"job\":0,"
	    "\"text\":\"{\\\"score\\\": 72}\"}";
	double			 c0;
	int			 i, j, k, g, b;

	for (i = 0; i < n; i += 64) {
		g = n - i < 64 ? n - i : 64;
		/* The lane: lookups, then the answers, 16 a turn. */
		for (b = 0; b < g; b += 16) {
			c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
			for (j = b; j < b + 16 && j < g; j++) {
				uint64_t v[4] = { rnd(seed), rnd(seed),
				    rnd(seed), rnd(seed) };

				memcpy(key[j], v, 32);
				if (rl_new_id(id[j]) != RL_OK)
					errx(1, "rl_new_id");
				if (store_cache_get(lane, key[j], 32, t, &ans,
				    &len) != STORE_ERR_NOTFOUND ||
				    store_claim_peek(lane, key[j], 32, t,
				    &cl) != STORE_ERR_NOTFOUND)
					errx(1, "cache get, peek: %s",
					    store_errmsg(lane));
			}
			pt->reads += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
			if (store_batch_begin(lane) != STORE_OK)
				errx(1, "lane begin: %s", store_errmsg(lane));
			for (j = b; j < b + 16 && j < g; j++)
				if (store_cache_put(lane, key[j], 32, answer,
				    sizeof(answer) - 1, 86400, t) != STORE_OK)
					errx(1, "cache put: %s",
					    store_errmsg(lane));
			if (store_batch_end(lane) != STORE_OK)
				errx(1, "lane commit: %s", store_errmsg(lane));
			pt->writes += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		}
		/* The keeper: their final rows, one transaction. */
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if (store_batch_begin(kp) != STORE_OK)
			errx(1, "keeper begin: %s", store_errmsg(kp));
		for (j = 0; j < g; j++) {
			f[0] = (struct rl_frame){ 1, "status",
			    "{\"type\":\"status\",\"state\":\"accepted\"}", 0 };
			f[1] = (struct rl_frame){ 2, "job_start",
			    "{\"type\":\"job_start\",\"job\":0}", 0 };
			f[2] = (struct rl_frame){ 3, "token", tok, 0 };
			f[3] = (struct rl_frame){ 4, "complete", answer, 0 };
			f[4] = (struct rl_frame){ 5, "done",
			    "{\"type\":\"done\"}", 0 };
			for (k = 0; k < 5; k++)
				f[k].len = strlen(f[k].data);
			memset(&rn, 0, sizeof(rn));
			memset(&u, 0, sizeof(u));
			u.done_jobs = 1;
			u.result_id = 4;
			u.state = RL_DONE;
			u.response = answer;
			rn.id = id[j];
			rn.owner = "";
			rn.user_id = "";
			rn.total_jobs = 1;
			rn.frames = f;
			rn.nframes = 5;
			rn.upd = &u;
			rn.updated_ms = t;
			rn.unclaimed = 1;
			if (store_run_create(kp, &rn, t) != STORE_OK)
				errx(1, "create: %s", store_errmsg(kp));
		}
		if (store_batch_end(kp) != STORE_OK)
			errx(1, "keeper commit: %s", store_errmsg(kp));
		pt->rows += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if ((i / 64) % 16 == 15 && store_checkpoint(kp, 0) != STORE_OK)
			errx(1, "checkpoint: %s", store_errmsg(kp));
		pt->checkpoints += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
}

static void
plain(const char *dir, int n)
{
	struct store	*lane, *kp;
	char		 path[512], err[256];
	uint64_t	 seed = 88172645463325252ULL;
	struct parts	 pt = { 0 };
	double		 c0;
	long long	 io0;

	snprintf(path, sizeof(path), "%s/plain.db", dir);
	if (store_open(path, "bench:1:lane", &lane, err, sizeof(err)) !=
	    STORE_OK || store_open(path, "bench:1:kp", &kp, err,
	    sizeof(err)) != STORE_OK)
		errx(1, "open %s: %s", path, err);
	plain_requests(lane, kp, n, &seed, 1000, &pt);
	if (store_checkpoint(kp, MJ_STORE_BUSY_MS) != STORE_OK)
		errx(1, "checkpoint: %s", store_errmsg(kp));
	memset(&pt, 0, sizeof(pt));
	io0 = io_written();
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	plain_requests(lane, kp, n, &seed, 2000, &pt);
	printf("plain   %7.2f us CPU/request  written %6.0f B/request  file "
	    "%lld KB after %d requests\n",
	    (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e6 / n, io0 >= 0 ?
	    (double)(io_written() - io0) / n : -1.0, size_of(path) / 1024,
	    2 * n);
	printf("plain   us/request: lane reads %.2f, lane writes %.2f, "
	    "keeper rows %.2f, checkpoints %.2f\n", pt.reads * 1e6 / n,
	    pt.writes * 1e6 / n, pt.rows * 1e6 / n, pt.checkpoints * 1e6 / n);
	store_close(lane);
	store_close(kp);
}

int
main(int argc, char *argv[])
{
	struct result	 r[M__MAX];
	char		 tmpl[] = "/tmp/storebench.XXXXXX", cmd[600];
	const char	*dir;
	int		 runs, flushes, m;
	long long	 frames;

	runs = argc > 1 ? atoi(argv[1]) : 1000;
	flushes = argc > 2 ? atoi(argv[2]) : 50;
	if (runs < 1 || flushes < 1)
		errx(1, "usage: storebench [RUNS [FLUSHES [DIR]]]");
	if (argc > 3)
		dir = argv[3];
	else if ((dir = mkdtemp(tmpl)) == NULL)
		err(1, "mkdtemp");
	frames = (long long)runs * flushes;
	printf("storebench: %d runs (2 KB resume each), %d flushes of one "
	    "token frame per run, %d runs a transaction, in %s\n", runs,
	    flushes, MJ_STORE_FLUSH_SLICE, dir);
	for (m = 0; m < M__MAX; m++) {
		one((enum mode)m, dir, runs, flushes, &r[m]);
		printf("%-7s %7.2f us CPU/frame  %8.0f ms wall  %7.0f "
		    "frames/s  written %6.0f B/frame  file %lld KB  wal %lld "
		    "KB\n", names[m], r[m].cpu_us, r[m].wall_ms,
		    (double)frames / (r[m].wall_ms / 1e3), r[m].io >= 0 ?
		    (double)r[m].io / (double)frames : -1.0, r[m].db / 1024,
		    r[m].wal / 1024);
	}
	printf("alone/row CPU %.2f, keeper/row CPU %.2f\n",
	    r[M_ALONE].cpu_us / r[M_ROW].cpu_us,
	    r[M_KEEPER].cpu_us / r[M_ROW].cpu_us);
	plain(dir, argc > 4 ? atoi(argv[4]) : 20000);
	if (argc <= 3) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			warnx("could not remove %s", dir);
	}
	return 0;
}
