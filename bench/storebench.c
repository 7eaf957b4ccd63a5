/*
 * storebench.c - the store's cost of the keeper's flushes, alone: the
 * CPU time and the bytes written per token frame when thousands of runs
 * stream at once, without the responder, the network or the scheduler
 * between (bench/run's relay and streams scenarios measure the whole,
 * and move with the machine's load).
 *
 * Usage: storebench [RUNS [FLUSHES [DIR]]]   (default 1000 runs, 50)
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
 * (/proc/self/io write_bytes is 0 on some file systems: the file sizes
 * and the checkpoints' pages are printed too), then the ratios.
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
	if (store_checkpoint(st, 1) != STORE_OK)
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
	if (argc <= 3) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			warnx("could not remove %s", dir);
	}
	return 0;
}
