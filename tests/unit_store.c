/*
 * unit_store.c - the SQLite store (src/store.c) on real files in a fresh
 * directory: migrations (fresh, from the previous version, a newer file
 * left untouched, many processes at once), two connections on one file,
 * frames and cursors, list paging, delete, leases (renew, reap, take
 * over), the cache, in-flight claims, the outbox, a read-only
 * connection, a lock held past the busy timeout, use after fork, and a
 * full disk (RLIMIT_FSIZE) that loses nothing committed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"
#include "runlog.h"
#include "store.h"
#include "tap.h"

/* A fixed "now": leases and expiries are computed from it. */
#define T0	((int64_t)1700000000000LL)

static char	 dir[64];

static const char *
path(const char *name)
{
	static char	 p[2][128];
	static int	 k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static struct store *
open_or_die(const char *name, const char *holder)
{
	struct store	*st;
	char		 err[256];

	if (store_open(path(name), holder, &st, err, sizeof(err)) !=
	    STORE_OK) {
		printf("Bail out! store_open %s: %s\n", name, err);
		exit(1);
	}
	return st;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
new_run(struct store *st, const char *id, const char *owner, int64_t now)
{
	struct store_run_new n = {
		.id = id, .owner = owner, .user_id = "u1", .total_jobs = 2,
		.resume = "resume text", .request = "{\"jobs\":[]}",
	};

	if (store_run_create(st, &n, now) != STORE_OK) {
		printf("Bail out! create %s: %s\n", id, store_errmsg(st));
		exit(1);
	}
}

/* Append count token frames numbered from first, as one batch. */
static enum store_status
tokens(struct store *st, const char *id, uint64_t first, size_t count,
    int64_t now)
{
	struct rl_frame	 f[64];
	size_t		 i;

	for (i = 0; i < count && i < 64; i++) {
		f[i].id = first + i;
		f[i].type = "token";
		f[i].data = "{\"type\":\"token\",\"text\":\"x\"}";
		f[i].len = strlen(f[i].data);
	}
	return store_append(st, id, f, i, NULL, now);
}

/* What a store_frames() callback saw. */
struct seen {
	size_t		 n;
	uint64_t	 id[256];
	char		 type[256][16];
	size_t		 len[256];
	int		 good;		/* data[len] was NUL, strlen == len */
	size_t		 stop_at;	/* stop after this many (0: never) */
	char		 last_data[256];
};

static int
see(void *arg, const struct rl_frame *f)
{
	struct seen	*s = arg;

	if (s->n < 256) {
		s->id[s->n] = f->id;
		snprintf(s->type[s->n], sizeof(s->type[0]), "%s", f->type);
		s->len[s->n] = f->len;
		snprintf(s->last_data, sizeof(s->last_data), "%s", f->data);
		if (f->data[f->len] != '\0' || strlen(f->data) != f->len)
			s->good = 0;
	}
	s->n++;
	return s->stop_at != 0 && s->n >= s->stop_at;
}

static struct seen *
frames(struct store *st, const char *id, uint64_t after, size_t max,
    enum store_status *rc)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	s.good = 1;
	*rc = store_frames(st, id, after, max, see, &s, NULL);
	return &s;
}

/* ---- opening and migrations ---- */

static void
test_open(void)
{
	static const char junk[] = "this is not a database, not at all, "
	    "but long enough to have a header of sorts.......\n";
	struct store	*st = NULL;
	enum store_status rc;
	char		 err[256];
	int		 v = -1, n = -1, fd;

	ok(store_open(path("fresh.db"), "h1", &st, err, sizeof(err)) ==
	    STORE_OK && st != NULL, "open creates a fresh file");
	rc = store_version(st, &v, &n);
	ok(rc == STORE_OK && v == store_latest_version() && n == v && v >= 2,
	    "... at the latest version (%d), one migration step each (%d)",
	    v, n);
	ok(store_check(st, err, sizeof(err)) == STORE_OK,
	    "... integrity_check ok");
	store_close(st);
	st = open_or_die("fresh.db", "h2");
	rc = store_version(st, &v, &n);
	ok(rc == STORE_OK && n == v, "reopening applies nothing again "
	    "(%d steps)", n);
	store_close(st);

	ok(store_open(path("fresh.db"), "", &st, err, sizeof(err)) ==
	    STORE_ERR_ARG && st == NULL, "an empty holder: STORE_ERR_ARG");

	fd = open(path("junk.db"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, junk, strlen(junk)) != (ssize_t)strlen(junk))
		abort();
	close(fd);
	ok(store_open(path("junk.db"), "h1", &st, err, sizeof(err)) ==
	    STORE_ERR_CORRUPT && st == NULL && err[0] != '\0',
	    "a file that is no database: STORE_ERR_CORRUPT (%s)", err);
}

static void
test_migrate(void)
{
	struct store_opts o = { .max_version = 1 };
	struct store	*st = NULL;
	struct store_run r = { 0 };
	struct seen	*s;
	enum store_status rc;
	char		*ans = NULL, err[256];
	size_t		 len;
	int		 v = -1, n = -1;

	ok(store_open_opts(path("old.db"), "h1", &o, &st, err, sizeof(err)) ==
	    STORE_OK, "open a file at version 1 (the test hook)");
	ok(store_version(st, &v, &n) == STORE_OK && v == 1 && n == 1,
	    "... it is at version 1");
	new_run(st, "old-run", "alice", T0);
	ok(tokens(st, "old-run", 1, 3, T0) == STORE_OK,
	    "... a run and 3 frames stored at version 1");
	store_close(st);

	st = open_or_die("old.db", "h2");
	rc = store_version(st, &v, &n);
	ok(rc == STORE_OK && v == store_latest_version() && n == v,
	    "reopened: migrated to %d, %d steps in the log", v, n);
	ok(store_run_get(st, "old-run", 1, &r) == STORE_OK &&
	    r.last_id == 3 && strcmp(r.owner, "alice") == 0 &&
	    r.resume != NULL && strcmp(r.resume, "resume text") == 0,
	    "... the run is kept");
	s = frames(st, "old-run", 0, 100, &rc);
	ok(rc == STORE_OK && s->n == 3 && s->id[2] == 3,
	    "... and its frames");
	ok(store_cache_put(st, "k", 1, "a", 1, 60, T0) == STORE_OK &&
	    store_cache_get(st, "k", 1, T0, &ans, &len) == STORE_OK &&
	    len == 1, "... and the version-2 tables work");
	free(ans);
	ok(store_check(st, NULL, 0) == STORE_OK, "... integrity ok");
	store_run_clear(&r);
	store_run_clear(&r);
	store_close(st);
}

static int
read_file(const char *p, char *buf, size_t max, size_t *n)
{
	int	 fd;
	ssize_t	 k;

	*n = 0;
	if ((fd = open(p, O_RDONLY)) < 0)
		return -1;
	while ((k = read(fd, buf + *n, max - *n)) > 0)
		*n += (size_t)k;
	close(fd);
	return k < 0 ? -1 : 0;
}

static void
test_newer(void)
{
	static char	 before[1 << 20], after[1 << 20];
	struct store	*st;
	unsigned char	 v99[4] = { 0, 0, 0, 99 };
	char		 err[256];
	size_t		 n1, n2;
	int		 fd;

	st = open_or_die("newer.db", "h1");
	new_run(st, "r1", "alice", T0);
	store_close(st);	/* the last close checkpoints the WAL */
	/* PRAGMA user_version lives at offset 60 of the header. */
	fd = open(path("newer.db"), O_WRONLY);
	if (fd < 0 || pwrite(fd, v99, 4, 60) != 4)
		abort();
	close(fd);
	if (read_file(path("newer.db"), before, sizeof(before), &n1) != 0)
		abort();
	ok(store_open(path("newer.db"), "h1", &st, err, sizeof(err)) ==
	    STORE_ERR_SCHEMA && st == NULL && strstr(err, "newer") != NULL,
	    "a file at version 99: STORE_ERR_SCHEMA (%s)", err);
	ok(read_file(path("newer.db"), after, sizeof(after), &n2) == 0 &&
	    n1 == n2 && memcmp(before, after, n1) == 0,
	    "... and not a byte of it changed (%zu bytes)", n1);
	ok(access(path("newer.db-wal"), F_OK) != 0,
	    "... no WAL left beside it");
}

/* 8 processes open one fresh file at the same moment. */
static void
test_concurrent_open(void)
{
	struct store	*st;
	struct store_run r = { 0 };
	char		 id[32], holder[32], c, err[256];
	enum store_status rc;
	pid_t		 pid[8];
	int		 p[2], i, status, good = 1, found = 0, v = 0, n = 0;

	if (pipe(p) != 0)
		abort();
	for (i = 0; i < 8; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			abort();
		if (pid[i] == 0) {
			close(p[1]);
			/* Released all at once when the parent closes. */
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			snprintf(holder, sizeof(holder), "child-%d", i);
			snprintf(id, sizeof(id), "run-child-%d", i);
			if (store_open(path("many.db"), holder, &st, err,
			    sizeof(err)) != STORE_OK) {
				fprintf(stderr, "# child %d: %s\n", i, err);
				_exit(10);
			}
			new_run(st, id, "many", T0 + i);
			store_close(st);
			_exit(0);
		}
	}
	close(p[0]);
	close(p[1]);
	for (i = 0; i < 8; i++) {
		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			good = 0;
	}
	ok(good, "8 processes opened one fresh file at once and each "
	    "stored a run");
	st = open_or_die("many.db", "parent");
	rc = store_version(st, &v, &n);
	ok(rc == STORE_OK && v == store_latest_version() && n == v,
	    "... the migration ran once (version %d, %d steps)", v, n);
	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "run-child-%d", i);
		if (store_run_get(st, id, 0, &r) == STORE_OK)
			found++;
	}
	store_run_clear(&r);
	ok(found == 8, "... all 8 runs are there (%d)", found);
	ok(store_check(st, NULL, 0) == STORE_OK, "... integrity_check ok");
	store_close(st);
}

/* ---- runs ---- */

static void
test_two_connections(void)
{
	struct store	*a, *b;
	struct store_run r = { 0 };
	struct store_run_list l = { 0 };
	struct store_update u = { .done_jobs = 1, .state = RL_RUNNING };
	struct rl_frame	 f[3] = {
		{ 1, "status", "{\"type\":\"status\"}", 17 },
		{ 2, "job_start", "{\"type\":\"job_start\"}", 20 },
		{ 3, "token", "{\"type\":\"token\"}", 16 },
	};
	struct seen	*s;
	enum store_status rc;
	int		 stop = -1;

	a = open_or_die("two.db", "ha");
	b = open_or_die("two.db", "hb");
	new_run(a, "run-two", "alice", T0);
	ok(store_append(a, "run-two", f, 3, &u, T0 + 10) == STORE_OK,
	    "a: 3 frames appended");
	ok(store_run_get(b, "run-two", 0, &r) == STORE_OK &&
	    r.last_id == 3 && r.done_jobs == 1 && r.total_jobs == 2 &&
	    r.state == RL_RUNNING && r.created_ms == T0 &&
	    r.updated_ms == T0 + 10 && strcmp(r.owner, "alice") == 0 &&
	    strcmp(r.user_id, "u1") == 0 && strcmp(r.holder, "ha") == 0 &&
	    r.response == NULL && r.resume == NULL && r.request == NULL &&
	    r.lease_until_ms == T0 + MJ_STORE_LEASE_MS,
	    "b reads the run (without its input when not asked; the "
	    "append left its lease alone)");
	s = frames(b, "run-two", 0, 100, &rc);
	ok(rc == STORE_OK && s->n == 3 && s->id[0] == 1 && s->id[2] == 3 &&
	    strcmp(s->type[1], "job_start") == 0 && s->len[1] == 20 &&
	    s->good, "b reads its frames, NUL-terminated, with lengths");
	ok(store_run_list(b, "alice", NULL, 0, &l) == STORE_OK && l.n == 1 &&
	    strcmp(l.v[0].id, "run-two") == 0 && l.next[0] == '\0',
	    "b lists it");
	store_run_list_clear(&l);
	ok(store_run_stopped(a, "run-two", &stop) == STORE_OK && stop == 0,
	    "a: not asked to stop yet");
	ok(store_run_stop(b, "run-two") == STORE_OK &&
	    store_run_stopped(a, "run-two", &stop) == STORE_OK && stop == 1,
	    "b asks it to stop; a sees the flag");
	ok(tokens(b, "run-two", 4, 1, T0) == STORE_ERR_LEASE,
	    "b may not append to a's run: STORE_ERR_LEASE");
	ok(store_run_delete(b, "run-two") == STORE_OK, "b deletes it");
	ok(store_run_get(a, "run-two", 0, &r) == STORE_ERR_NOTFOUND &&
	    r.id == NULL, "a: gone");
	ok(tokens(a, "run-two", 4, 1, T0) == STORE_ERR_NOTFOUND,
	    "a: appending to it: STORE_ERR_NOTFOUND");
	s = frames(a, "run-two", 0, 100, &rc);
	ok(rc == STORE_ERR_NOTFOUND && s->n == 0, "a: its frames are gone");
	ok(store_run_delete(b, "run-two") == STORE_ERR_NOTFOUND &&
	    store_run_stop(b, "run-two") == STORE_ERR_NOTFOUND &&
	    store_run_stopped(b, "run-two", &stop) == STORE_ERR_NOTFOUND,
	    "deleting, stopping it again: STORE_ERR_NOTFOUND");
	store_run_clear(&r);
	store_close(a);
	store_close(b);
}

/*
 * Frames alone (no update): the row is read, not written; the run's last
 * id comes through its frames, for every reader and for the next append.
 */
static void
test_frames_alone(void)
{
	struct store	*a, *b;
	struct store_run r = { 0 };
	struct store_run_list l = { 0 };
	struct store_update u = { .done_jobs = 1, .state = RL_RUNNING };
	struct rl_frame	 f[1] = {
		{ 8, "job_complete", "{\"type\":\"job_complete\"}", 23 },
	};
	size_t		 n = 0;

	a = open_or_die("alone.db", "ha");
	b = open_or_die("alone.db", "hb");
	new_run(a, "run-al", "alice", T0);
	ok(tokens(a, "run-al", 1, 4, T0 + 10) == STORE_OK &&
	    tokens(a, "run-al", 5, 3, T0 + 20) == STORE_OK,
	    "frames 1..7 in two appends of frames alone");
	ok(store_run_get(b, "run-al", 0, &r) == STORE_OK &&
	    r.last_id == 7 && r.updated_ms == T0 && r.done_jobs == 0 &&
	    r.state == RL_RUNNING,
	    "... another connection reads last_id 7; the row was not "
	    "written (updated_ms, done_jobs as created)");
	ok(store_run_list(b, "alice", NULL, 0, &l) == STORE_OK && l.n == 1 &&
	    l.v[0].last_id == 7, "... the list says 7 as well");
	store_run_list_clear(&l);
	ok(tokens(a, "run-al", 7, 1, T0 + 30) == STORE_ERR_ARG &&
	    tokens(a, "run-al", 9, 1, T0 + 30) == STORE_ERR_ARG,
	    "frames alone numbered 7 or 9 (not 8): STORE_ERR_ARG");
	ok(tokens(b, "run-al", 8, 1, T0 + 30) == STORE_ERR_LEASE,
	    "frames alone from another holder: STORE_ERR_LEASE");
	ok(store_append(a, "run-al", f, 1, &u, T0 + 40) == STORE_OK &&
	    store_run_get(b, "run-al", 0, &r) == STORE_OK &&
	    r.last_id == 8 && r.updated_ms == T0 + 40 && r.done_jobs == 1,
	    "an append with an update after them moves the row (8, T0 + 40, "
	    "1 job done)");
	f[0].id = 8;
	ok(store_append(a, "run-al", f, 1, &u, T0 + 50) == STORE_ERR_ARG,
	    "... and refuses frame 8 again");
	ok(tokens(a, "run-al", 9, 2, T0 + 60) == STORE_OK &&
	    store_reap(b, T0 + 60 + MJ_STORE_LEASE_MS, NULL, NULL, &n) ==
	    STORE_OK && n == 1 &&
	    store_run_get(b, "run-al", 0, &r) == STORE_OK &&
	    r.state == RL_INTERRUPTED && r.last_id == 12 && r.result_id == 11,
	    "reaped after frames 9, 10 alone: error 11 and done 12 follow "
	    "them");
	ok(tokens(a, "run-al", 11, 1, T0 + 70) == STORE_ERR_LEASE,
	    "... frames alone after that: STORE_ERR_LEASE");
	new_run(a, "run-al2", "alice", T0);
	ok(store_run_delete(b, "run-al2") == STORE_OK &&
	    tokens(a, "run-al2", 1, 1, T0) == STORE_ERR_NOTFOUND,
	    "frames alone to an erased run: STORE_ERR_NOTFOUND");
	store_run_clear(&r);
	store_close(a);
	store_close(b);
}

/* ---- batches, stops, gone holders (the keeper's calls) ---- */

static void
count_id(void *arg, const char *id)
{
	char *last = arg;

	snprintf(last, 64, "%s", id);
}

static void
test_batch(void)
{
	struct store	*st, *other;
	struct store_run r = { 0 }, r2 = { 0 };
	struct rl_frame	 bad = { 7, "token", "{}", 2 };
	struct rl_frame	 fin[2] = {
		{ 1, "complete", "{\"type\":\"complete\"}", 19 },
		{ 2, "done", "{\"type\":\"done\"}", 15 },
	};
	struct store_msg m = { "wh-b4", "run-b4", "{}", 2, T0 };
	struct store_update u = {
		.done_jobs = 1, .result_id = 1, .state = RL_DONE,
		.response = "{}", .msg = &m,
	};
	struct store_run_new dup = { .id = "run-b1", .owner = "alice",
		.user_id = "u1", .total_jobs = 1 };
	struct store_run_new twice = { .id = "run-b4", .owner = "alice",
		.user_id = "u1", .total_jobs = 1, .frames = fin, .nframes = 2,
		.upd = &u, .updated_ms = T0 };
	char		 seen[64];
	size_t		 n;
	int		 ok1;

	st = open_or_die("batch.db", "host:1:a");
	other = open_or_die("batch.db", "host:2:b");
	ok(store_batch_begin(st) == STORE_OK, "batch: begun");
	new_run(st, "run-b1", "alice", T0);
	new_run(st, "run-b2", "alice", T0);
	ok1 = tokens(st, "run-b1", 1, 5, T0) == STORE_OK;
	ok(ok1 && store_append(st, "run-b2", &bad, 1, NULL, T0) ==
	    STORE_ERR_ARG && tokens(st, "run-b2", 1, 3, T0) == STORE_OK,
	    "batch: a failed append inside does not end the batch");
	ok(store_run_get(other, "run-b1", 0, &r) == STORE_ERR_NOTFOUND,
	    "batch: another connection sees nothing before the commit");
	store_run_clear(&r);
	ok(store_batch_end(st) == STORE_OK, "batch: committed");
	ok(store_run_get(other, "run-b1", 0, &r) == STORE_OK && r.last_id ==
	    5 && store_run_get(other, "run-b2", 0, &r2) == STORE_OK &&
	    r2.last_id == 3, "batch: both runs, all their good frames (5, 3)");
	store_run_clear(&r);
	store_run_clear(&r2);
	ok(store_batch_end(st) != STORE_OK, "batch: ending none is an error");

	/*
	 * No savepoint per call: a call that fails before it writes leaves
	 * the batch as it was; one that fails after its first write rolls
	 * the whole batch back, and the calls after it fail until
	 * store_batch_end() says so.
	 */
	ok(store_batch_begin(st) == STORE_OK, "batch 2: begun");
	new_run(st, "run-b3", "alice", T0);
	ok(store_run_create(st, &dup, T0) == STORE_ERR_EXISTS &&
	    tokens(st, "run-b3", 1, 2, T0) == STORE_OK,
	    "batch 2: a create that fails at its first write (the id "
	    "exists) leaves the batch going");
	ok(store_run_create(st, &twice, T0) == STORE_OK,
	    "batch 2: a run with its webhook message");
	twice.id = "run-b5";
	ok(store_run_create(st, &twice, T0) == STORE_ERR_EXISTS,
	    "batch 2: another with the same message id fails after its row "
	    "was written");
	ok(tokens(st, "run-b3", 3, 1, T0) == STORE_ERR_IO &&
	    store_batch_end(st) == STORE_ERR_IO,
	    "... the batch is rolled back whole: the next call and the end "
	    "say so");
	ok(store_run_get(other, "run-b3", 0, &r) == STORE_ERR_NOTFOUND &&
	    store_run_get(other, "run-b4", 0, &r) == STORE_ERR_NOTFOUND &&
	    store_run_get(other, "run-b5", 0, &r) == STORE_ERR_NOTFOUND &&
	    store_run_get(other, "run-b1", 0, &r) == STORE_OK &&
	    r.last_id == 5, "... none of it is stored, what was before is");
	store_run_clear(&r);
	ok(tokens(st, "run-b1", 6, 1, T0) == STORE_OK &&
	    store_batch_begin(st) == STORE_OK &&
	    tokens(st, "run-b1", 7, 1, T0) == STORE_OK &&
	    store_batch_end(st) == STORE_OK &&
	    store_run_get(other, "run-b1", 0, &r) == STORE_OK &&
	    r.last_id == 7, "... and the connection writes again, in a "
	    "batch and out of one");
	store_run_clear(&r);

	seen[0] = '\0';
	ok(store_run_stop(other, "run-b2") == STORE_OK &&
	    store_stops(st, count_id, seen) == STORE_OK &&
	    strcmp(seen, "run-b2") == 0,
	    "stops: a stop asked through another connection is listed");
	seen[0] = '\0';
	ok(store_stops(other, count_id, seen) == STORE_OK && seen[0] == '\0',
	    "stops: ... to the run's holder only");
	seen[0] = '\0';
	ok(store_holders(other, count_id, seen) == STORE_OK &&
	    strcmp(seen, "host:1:a") == 0,
	    "holders: another connection lists the runs' holder");
	n = 0;
	ok1 = store_holder_gone(other, "host:1:a") == STORE_OK &&
	    store_reap(other, T0 + 1, NULL, NULL, &n) == STORE_OK;
	ok(ok1 && n == 2, "holders: a gone holder's runs are reaped at once "
	    "(%zu)", n);
	ok(store_run_get(other, "run-b1", 0, &r) == STORE_OK &&
	    r.state == RL_INTERRUPTED, "holders: ... interrupted");
	store_run_clear(&r);
	store_close(other);
	store_close(st);
}

static void
test_frames(void)
{
	struct store	*st;
	struct store_run r = { 0 };
	struct rl_frame	 f[2] = {
		{ 102, "token", "{}", 2 },
		{ 101, NULL, "{}", 2 },
	};
	struct seen	*s;
	enum store_status rc;
	uint64_t	 i;
	int		 batches = 1, gapless = 1;

	st = open_or_die("frames.db", "h1");
	new_run(st, "run-f", "alice", T0);
	for (i = 0; i < 10; i++)
		if (tokens(st, "run-f", 1 + i * 10, 10, T0 + (int64_t)i) !=
		    STORE_OK)
			batches = 0;
	ok(batches, "100 frames appended in batches of 10");
	s = frames(st, "run-f", 0, 1000, &rc);
	for (i = 0; i < s->n; i++)
		if (s->id[i] != i + 1)
			gapless = 0;
	ok(rc == STORE_OK && s->n == 100 && gapless,
	    "read after 0: ids 1..100 without gaps (%zu)", s->n);
	s = frames(st, "run-f", 95, 1000, &rc);
	ok(rc == STORE_OK && s->n == 5 && s->id[0] == 96 && s->id[4] == 100,
	    "read after 95: 96..100");
	s = frames(st, "run-f", 10, 7, &rc);
	ok(rc == STORE_OK && s->n == 7 && s->id[0] == 11 && s->id[6] == 17,
	    "read after 10, at most 7: 11..17");
	s = frames(st, "run-f", 100, 1000, &rc);
	ok(rc == STORE_OK && s->n == 0, "read after the last: none, ok");
	memset(s, 0, sizeof(*s));
	s->stop_at = 3;
	s->good = 1;
	ok(store_frames(st, "run-f", 0, 1000, see, s, NULL) == STORE_OK &&
	    s->n == 3, "the callback stops the read");
	ok(store_append(st, "run-f", &f[0], 1, NULL, T0) == STORE_ERR_ARG,
	    "a frame after a gap (102 after 100): STORE_ERR_ARG");
	f[0].id = 101;
	f[1].id = 102;
	ok(store_append(st, "run-f", f, 2, NULL, T0) == STORE_ERR_ARG,
	    "a frame without a type: STORE_ERR_ARG");
	f[1].type = "token";
	f[1].data = "{\"a\0b\"}";
	f[1].len = 7;
	ok(store_append(st, "run-f", f, 2, NULL, T0) == STORE_ERR_ARG,
	    "a frame holding a NUL: STORE_ERR_ARG");
	rc = store_run_get(st, "run-f", 0, &r);
	ok(rc == STORE_OK && r.last_id == 100,
	    "... and neither batch stored anything (last_id %llu)",
	    (unsigned long long)r.last_id);
	s = frames(st, "run-f", 100, 1000, &rc);
	ok(rc == STORE_OK && s->n == 0, "... not even the good first frame");
	store_run_clear(&r);
	store_close(st);
}

static void
test_list(void)
{
	struct store	*st;
	struct store_run_list l = { 0 };
	char		 id[16], seen_ids[30][16], cursor[MJ_STORE_CURSOR_MAX + 1];
	int		 i, pages = 0, total = 0, order = 1, dup = 0, j;
	int64_t		 prev_ms = INT64_MAX;
	char		 prev_id[16] = "~";

	st = open_or_die("list.db", "h1");
	/* Three runs share each created_ms: ties go by id. */
	for (i = 0; i < 25; i++) {
		snprintf(id, sizeof(id), "r%02d", (i * 7) % 25);
		new_run(st, id, "bob", T0 + i / 3);
	}
	new_run(st, "other", "carol", T0 + 100);
	cursor[0] = '\0';
	do {
		if (store_run_list(st, "bob", cursor, 10, &l) != STORE_OK)
			break;
		pages++;
		for (i = 0; i < (int)l.n; i++, total++) {
			if (l.v[i].created_ms > prev_ms ||
			    (l.v[i].created_ms == prev_ms &&
			    strcmp(l.v[i].id, prev_id) >= 0))
				order = 0;
			prev_ms = l.v[i].created_ms;
			snprintf(prev_id, sizeof(prev_id), "%s", l.v[i].id);
			for (j = 0; j < total && total < 30; j++)
				if (strcmp(seen_ids[j], l.v[i].id) == 0)
					dup = 1;
			if (total < 30)
				snprintf(seen_ids[total], 16, "%s", l.v[i].id);
			if (strcmp(l.v[i].owner, "bob") != 0)
				order = 0;
		}
		snprintf(cursor, sizeof(cursor), "%s", l.next);
	} while (cursor[0] != '\0' && pages < 10);
	store_run_list_clear(&l);
	ok(pages == 3 && total == 25 && !dup,
	    "25 runs in pages of 10: 3 pages, each run once (%d, %d)",
	    pages, total);
	ok(order, "... newest first, ties by id (descending), only bob's");
	ok(store_run_list(st, "bob", NULL, 0, &l) == STORE_OK && l.n == 20 &&
	    l.next[0] != '\0', "limit 0: the default page (20)");
	ok(store_run_list(st, "bob", NULL, 100000, &l) == STORE_OK &&
	    l.n == 25 && l.next[0] == '\0',
	    "a huge limit is cut to %d: all 25, no next page",
	    MJ_STORE_LIST_MAX);
	ok(store_run_list(st, "bob", NULL, 25, &l) == STORE_OK && l.n == 25 &&
	    l.next[0] == '\0', "exactly 25 asked: no next page");
	ok(store_run_list(st, "nobody", NULL, 10, &l) == STORE_OK &&
	    l.n == 0 && l.v != NULL, "an owner without runs: an empty page");
	ok(store_run_list(st, "bob", "x", 10, &l) == STORE_ERR_ARG &&
	    store_run_list(st, "bob", "123", 10, &l) == STORE_ERR_ARG &&
	    store_run_list(st, "bob", "123.", 10, &l) == STORE_ERR_ARG &&
	    store_run_list(st, "bob", ".r01", 10, &l) == STORE_ERR_ARG &&
	    store_run_list(st, "bob", "99999999999999999999.r01", 10, &l) ==
	    STORE_ERR_ARG && l.n == 0 && l.v == NULL,
	    "malformed cursors: STORE_ERR_ARG");
	ok(store_run_list(st, "bob", "1.r01", 10, &l) == STORE_OK && l.n == 0,
	    "a cursor before every run: an empty page");
	store_run_list_clear(&l);
	store_run_list_clear(&l);
	store_close(st);
}

static int
one_msg(void *arg, const struct store_run *r, struct store_msg *m)
{
	static char	 id[80], body[160];
	int		*calls = arg;

	(*calls)++;
	snprintf(id, sizeof(id), "wh-%s", r->id);
	snprintf(body, sizeof(body), "{\"type\":\"match.%s\",\"run\":\"%s\"}",
	    rl_state_name(r->state), r->id);
	m->id = id;
	m->run_id = r->id;
	m->body = body;
	m->len = strlen(body);
	m->next_ms = r->updated_ms;
	return 1;
}

static void
test_delete(void)
{
	struct store	*a, *b;
	struct store_msg m = { "wh-del", "run-del", "body", 4, T0 };
	struct store_outmsg om = { 0 };
	struct store_claim c;
	struct seen	*s;
	enum store_status rc;

	a = open_or_die("del.db", "ha");
	b = open_or_die("del.db", "hb");
	new_run(a, "run-del", "alice", T0);
	new_run(b, "run-other", "alice", T0);
	ok(tokens(a, "run-del", 1, 5, T0) == STORE_OK &&
	    store_outbox_add(a, &m, T0) == STORE_OK &&
	    store_claim(a, "key1", 4, "run-del", 0, T0, &c) == STORE_OK &&
	    c.ours, "a run with frames, a message and a claim");
	ok(store_claim(b, "key1", 4, "run-other", 3, T0, &c) == STORE_OK &&
	    !c.ours && strcmp(c.run_id, "run-del") == 0 && c.job == 0,
	    "... the claim holds against another holder");
	ok(store_run_delete(b, "run-del") == STORE_OK, "deleted");
	s = frames(a, "run-del", 0, 100, &rc);
	ok(rc == STORE_ERR_NOTFOUND && s->n == 0, "... its frames are gone");
	ok(store_outbox_get(a, "wh-del", &om) == STORE_ERR_NOTFOUND,
	    "... its message is gone");
	ok(store_claim(b, "key1", 4, "run-other", 3, T0, &c) == STORE_OK &&
	    c.ours, "... its claim is gone");
	store_outmsg_clear(&om);
	store_close(a);
	store_close(b);
}

static void
test_leases(void)
{
	struct store	*a, *b;
	struct store_run r = { 0 };
	struct store_outmsg om = { 0 };
	struct store_claim c;
	struct seen	*s;
	enum store_status rc;
	size_t		 n = 99;
	int		 calls = 0;
	int64_t		 late = T0 + MJ_STORE_LEASE_MS + 1;

	a = open_or_die("lease.db", "ha");
	b = open_or_die("lease.db", "hb");
	new_run(a, "run-dead", "alice", T0);
	new_run(a, "run-renewed", "alice", T0);
	ok(tokens(a, "run-dead", 1, 2, T0) == STORE_OK &&
	    store_claim(a, "kd", 2, "run-dead", 1, T0, &c) == STORE_OK &&
	    c.ours, "a: two running runs, frames and a claim");
	ok(store_reap(b, T0 + 1000, one_msg, &calls, &n) == STORE_OK &&
	    n == 0 && calls == 0, "b reaps before the leases expire: none");
	ok(store_renew(a, T0 + 15000, &n) == STORE_OK && n == 2,
	    "a renews its two runs at +15 s");
	/* run-dead's lease: an empty append renews it, so age it by hand. */
	ok(store_append(a, "run-dead", NULL, 0, NULL, T0) == STORE_OK,
	    "an empty append sets run-dead's lease back to T0 + lease");
	ok(store_reap(b, late, one_msg, &calls, &n) == STORE_OK && n == 1 &&
	    calls == 1, "b reaps after its lease expired: 1 run, 1 message");
	ok(store_run_get(b, "run-dead", 1, &r) == STORE_OK &&
	    r.state == RL_INTERRUPTED && r.last_id == 4 &&
	    r.result_id == 3 && r.resume == NULL && r.request == NULL &&
	    r.updated_ms == late, "... interrupted, result frame 3, "
	    "resume and request erased");
	s = frames(b, "run-dead", 2, 100, &rc);
	ok(rc == STORE_OK && s->n == 2 && s->id[0] == 3 &&
	    strcmp(s->type[0], "error") == 0 && s->id[1] == 4 &&
	    strcmp(s->type[1], "done") == 0,
	    "... frames 3 error and 4 done follow the last one");
	s = frames(b, "run-dead", 2, 1, &rc);
	ok(rc == STORE_OK && strstr(s->last_data,
	    "\"code\":\"interrupted\"") != NULL &&
	    strncmp(s->last_data, "{\"type\":\"error\"", 15) == 0,
	    "... the error frame says interrupted (%s)", s->last_data);
	ok(store_outbox_get(b, "wh-run-dead", &om) == STORE_OK &&
	    om.state == STORE_MSG_PENDING && strstr(om.body,
	    "match.interrupted") != NULL && strcmp(om.run_id, "run-dead") == 0,
	    "... its webhook message is in the outbox");
	ok(store_claim(b, "kd", 2, "run-renewed", 0, T0 + 2, &c) ==
	    STORE_OK && c.ours, "... its claim was dropped");
	ok(tokens(a, "run-dead", 5, 1, late) == STORE_ERR_LEASE,
	    "a can no longer append to it: STORE_ERR_LEASE");
	ok(store_run_get(b, "run-renewed", 1, &r) == STORE_OK &&
	    r.state == RL_RUNNING && r.resume != NULL,
	    "the renewed run goes on, its resume kept");
	ok(store_reap(b, T0 + 15000 + MJ_STORE_LEASE_MS - 1, NULL, NULL, &n) ==
	    STORE_OK && n == 0, "... not reaped at its lease's last ms");

	/* Take over instead of reaping. */
	new_run(a, "run-taken", "alice", T0);
	ok(store_run_take(b, T0 + 1000, &r) == STORE_ERR_NOTFOUND &&
	    r.id == NULL, "b: nothing to take over while leases hold");
	ok(store_run_take(b, late, &r) == STORE_OK &&
	    strcmp(r.id, "run-taken") == 0 && strcmp(r.holder, "hb") == 0 &&
	    r.resume != NULL && strcmp(r.resume, "resume text") == 0 &&
	    r.request != NULL && r.lease_until_ms == late + MJ_STORE_LEASE_MS,
	    "b takes over the expired run, with its resume and request");
	ok(tokens(a, "run-taken", 1, 1, late) == STORE_ERR_LEASE &&
	    tokens(b, "run-taken", 1, 1, late) == STORE_OK,
	    "... a may not append to it any more, b may");
	store_run_clear(&r);
	store_outmsg_clear(&om);
	store_close(a);
	store_close(b);
}

/* A run stored with its frames in its create: whole, or to go on. */
static void
test_whole(void)
{
	struct store	*st;
	struct store_run r = { 0 };
	struct store_outmsg om = { 0 };
	struct store_claim c;
	struct store_msg m = { "wh-whole", "run-whole", "{\"y\":2}", 7, T0 };
	struct store_update u = {
		.done_jobs = 1, .result_id = 2, .state = RL_DONE,
		.response = "{\"results\":[1]}", .msg = &m,
	};
	struct store_update ru = { .done_jobs = 0, .state = RL_RUNNING };
	struct rl_frame	 f[3] = {
		{ 1, "status", "{\"type\":\"status\"}", 17 },
		{ 2, "complete", "{\"type\":\"complete\"}", 19 },
		{ 3, "done", "{\"type\":\"done\"}", 15 },
	};
	struct rl_frame	 gap[2] = {
		{ 1, "status", "{}", 2 }, { 3, "status", "{}", 2 },
	};
	struct store_run_new n = {
		.id = "run-whole", .owner = "alice", .user_id = "u1",
		.total_jobs = 1, .resume = "resume", .request = "{}",
		.frames = f, .nframes = 3, .upd = &u, .updated_ms = T0 + 40,
	};
	struct seen	*sn;
	enum store_status rc;

	st = open_or_die("whole.db", "h1");
	/* A claim the lane made before the row was there. */
	ok(store_claim(st, "W", 1, "run-whole", 0, T0, &c) == STORE_OK &&
	    c.ours, "a claim for a run whose row is not made yet");
	ok(store_run_create(st, &n, T0) == STORE_OK,
	    "a run that ended before its row: created whole");
	ok(store_run_get(st, "run-whole", 1, &r) == STORE_OK &&
	    r.state == RL_DONE && r.last_id == 3 && r.result_id == 2 &&
	    r.done_jobs == 1 && r.created_ms == T0 && r.updated_ms == T0 + 40 &&
	    r.response != NULL && strcmp(r.response, "{\"results\":[1]}") ==
	    0 && r.resume == NULL && r.request == NULL,
	    "... done, its response, no resume or request, created and "
	    "updated when told");
	sn = frames(st, "run-whole", 0, 100, &rc);
	ok(rc == STORE_OK && sn->n == 3 && sn->id[0] == 1 && sn->id[2] == 3 &&
	    strcmp(sn->type[1], "complete") == 0 && sn->good,
	    "... its three frames are there, in order");
	ok(store_outbox_get(st, "wh-whole", &om) == STORE_OK && om.len == 7,
	    "... its webhook message too");
	ok(store_claim(st, "W", 1, "run-other", 0, T0 + 1, &c) == STORE_OK &&
	    c.ours, "... and its claims are gone");
	ok(tokens(st, "run-whole", 4, 1, T0) == STORE_ERR_LEASE,
	    "... appending after its end: STORE_ERR_LEASE");
	ok(store_run_create(st, &n, T0) == STORE_ERR_EXISTS,
	    "creating it again: STORE_ERR_EXISTS");

	n.id = "run-part";
	n.nframes = 1;
	n.upd = &ru;
	ok(store_run_create(st, &n, T0) == STORE_OK &&
	    store_run_get(st, "run-part", 1, &r) == STORE_OK &&
	    r.state == RL_RUNNING && r.last_id == 1 && r.resume != NULL &&
	    r.request != NULL && r.response == NULL,
	    "a running run with its first frame: running, resume kept");
	ok(store_append(st, "run-part", f, 1, NULL, T0 + 1) == STORE_ERR_ARG,
	    "... frame 1 again: STORE_ERR_ARG");
	u.msg = NULL;
	ok(store_append(st, "run-part", f + 1, 2, &u, T0 + 50) == STORE_OK &&
	    store_run_get(st, "run-part", 0, &r) == STORE_OK &&
	    r.state == RL_DONE && r.last_id == 3,
	    "... it goes on from frame 2 to its end");

	n.id = "run-gap";
	n.frames = gap;
	n.nframes = 2;
	ok(store_run_create(st, &n, T0) == STORE_ERR_ARG &&
	    store_run_get(st, "run-gap", 0, &r) == STORE_ERR_NOTFOUND,
	    "frames not numbered 1, 2: STORE_ERR_ARG, no row");
	store_run_clear(&r);
	store_outmsg_clear(&om);
	store_close(st);
}

static void
test_final(void)
{
	struct store	*st;
	struct store_run r = { 0 };
	struct store_outmsg om = { 0 };
	struct store_msg m = { "wh-fin", "run-fin", "{\"x\":1}", 7, T0 + 5 };
	struct store_update u = {
		.done_jobs = 2, .result_id = 2, .state = RL_DONE,
		.response = "{\"results\":[]}", .msg = &m,
	};
	struct rl_frame	 f[2] = {
		{ 1, "complete", "{\"type\":\"complete\"}", 19 },
		{ 2, "done", "{\"type\":\"done\"}", 15 },
	};
	size_t		 n = 9;

	st = open_or_die("final.db", "h1");
	new_run(st, "run-fin", "alice", T0);
	new_run(st, "run-dup", "alice", T0);
	ok(store_outbox_add(st, &m, T0) == STORE_OK,
	    "a message with id wh-fin exists");
	/* A final append whose message clashes: nothing of it stays. */
	m.run_id = "run-dup";
	ok(store_append(st, "run-dup", f, 2, &u, T0 + 5) == STORE_ERR_EXISTS,
	    "a final append whose message id is taken: STORE_ERR_EXISTS");
	ok(store_run_get(st, "run-dup", 1, &r) == STORE_OK &&
	    r.state == RL_RUNNING && r.last_id == 0 && r.response == NULL &&
	    r.resume != NULL && r.request != NULL,
	    "... rolled back whole: no frames, still running, resume kept");
	m.id = "wh-fin2";
	m.run_id = "run-fin";
	ok(store_append(st, "run-fin", f, 2, &u, T0 + 5) == STORE_OK,
	    "complete + done, state done, response and message at once");
	ok(store_run_get(st, "run-fin", 1, &r) == STORE_OK &&
	    r.state == RL_DONE && r.last_id == 2 && r.result_id == 2 &&
	    r.done_jobs == 2 && r.response != NULL &&
	    strcmp(r.response, "{\"results\":[]}") == 0 &&
	    r.resume == NULL && r.request == NULL,
	    "... the run is done, its response kept, resume and request gone");
	ok(store_outbox_get(st, "wh-fin2", &om) == STORE_OK &&
	    om.len == 7 && memcmp(om.body, "{\"x\":1}", 7) == 0 &&
	    om.next_ms == T0 + 5 && om.attempts == 0,
	    "... the message is in the outbox, its bytes as given");
	ok(tokens(st, "run-fin", 3, 1, T0) == STORE_ERR_LEASE,
	    "appending after the end: STORE_ERR_LEASE");
	ok(store_run_stop(st, "run-fin") == STORE_OK &&
	    store_run_get(st, "run-fin", 0, &r) == STORE_OK && r.stop == 0,
	    "stopping an ended run changes nothing");
	ok(store_purge(st, T0, T0, &n) == STORE_OK && n == 0,
	    "purge of runs created before T0: none");
	ok(store_purge(st, T0 + 1, T0, &n) == STORE_OK && n == 1 &&
	    store_run_get(st, "run-fin", 0, &r) == STORE_ERR_NOTFOUND &&
	    store_run_get(st, "run-dup", 0, &r) == STORE_OK,
	    "purge before T0 + 1: the ended run goes, the running one stays");
	ok(store_outbox_get(st, "wh-fin2", &om) == STORE_ERR_NOTFOUND,
	    "... with its messages");
	store_run_clear(&r);
	store_outmsg_clear(&om);
	store_close(st);
}

/* ---- cache, claims, outbox ---- */

static void
test_cache(void)
{
	struct store	*st;
	unsigned char	 k1[32], k2[32];
	char		*ans = NULL;
	size_t		 len = 0, n;

	memset(k1, 0xab, sizeof(k1));
	memset(k2, 0xab, sizeof(k2));
	k2[31] = 0;
	k1[5] = 0;	/* a NUL inside: the key is bytes, not a string */
	st = open_or_die("cache.db", "h1");
	ok(store_cache_get(st, k1, 32, T0, &ans, &len) == STORE_ERR_NOTFOUND &&
	    ans == NULL, "an empty cache: STORE_ERR_NOTFOUND");
	ok(store_cache_put(st, k1, 32, "{\"score\":7}", 11, 10, T0) ==
	    STORE_OK, "put with a ttl of 10 s");
	ok(store_cache_get(st, k1, 32, T0 + 9999, &ans, &len) == STORE_OK &&
	    len == 11 && strcmp(ans, "{\"score\":7}") == 0,
	    "get before it expires: the answer");
	free(ans);
	ok(store_cache_get(st, k2, 32, T0, &ans, &len) == STORE_ERR_NOTFOUND &&
	    store_cache_get(st, k1, 31, T0, &ans, &len) == STORE_ERR_NOTFOUND,
	    "another key, or a prefix of it: not found");
	ok(store_cache_get(st, k1, 32, T0 + 10000, &ans, &len) ==
	    STORE_ERR_NOTFOUND, "get at its expiry: not found");
	ok(store_cache_put(st, k1, 32, "{\"score\":8}", 11, 10, T0 + 20000) ==
	    STORE_OK && store_cache_get(st, k1, 32, T0 + 29000, &ans, &len) ==
	    STORE_OK && strcmp(ans, "{\"score\":8}") == 0,
	    "put again: refreshed, the new answer, a new expiry");
	free(ans);
	ok(store_cache_put(st, k1, 0, "a", 1, 10, T0) == STORE_ERR_ARG &&
	    store_cache_put(st, k1, MJ_STORE_KEY_MAX + 1, "a", 1, 10, T0) ==
	    STORE_ERR_ARG && store_cache_put(st, k1, 32, "a", 1, 0, T0) ==
	    STORE_ERR_ARG, "an empty or long key, a ttl of 0: STORE_ERR_ARG");
	ok(store_purge(st, 0, T0 + 30000, &n) == STORE_OK &&
	    store_cache_put(st, k2, 32, "b", 1, 1, T0) == STORE_OK &&
	    store_cache_get(st, k1, 32, T0, &ans, &len) == STORE_ERR_NOTFOUND,
	    "purge erases expired entries (not found even at an early now)");
	store_close(st);
}

static void
test_claims(void)
{
	struct store	*a, *b;
	struct store_claim c;

	a = open_or_die("claims.db", "ha");
	b = open_or_die("claims.db", "hb");
	new_run(a, "run-a", "alice", T0);
	new_run(b, "run-b", "bob", T0);
	ok(store_claim(a, "K", 1, "run-a", 3, T0, &c) == STORE_OK && c.ours &&
	    strcmp(c.run_id, "run-a") == 0 && c.job == 3,
	    "a claims a free key");
	ok(store_claim(b, "K", 1, "run-b", 0, T0 + 1, &c) == STORE_OK &&
	    !c.ours && strcmp(c.run_id, "run-a") == 0 && c.job == 3,
	    "b claims it: a has it (run-a, job 3)");
	ok(store_claim(a, "K", 1, "run-a", 3, T0 + 2, &c) == STORE_OK &&
	    c.ours, "a claims it again: still ours");
	ok(store_claim(a, "K", 1, "run-a", 4, T0 + 2, &c) == STORE_OK &&
	    c.ours && c.job == 4, "another job of a's own: a's claim is "
	    "stale (a knows its calls in flight), taken over");
	ok(store_claim(b, "K", 1, "run-b", 0, T0 + 2, &c) == STORE_OK &&
	    !c.ours && strcmp(c.run_id, "run-a") == 0 && c.job == 4,
	    "... b sees the new claim");
	ok(store_release(b, "K", 1) == STORE_ERR_NOTFOUND,
	    "b can't release a's claim");
	ok(store_release(a, "K", 1) == STORE_OK &&
	    store_release(a, "K", 1) == STORE_ERR_NOTFOUND,
	    "a releases it (once)");
	ok(store_claim(b, "K", 1, "run-b", 0, T0 + 3, &c) == STORE_OK &&
	    c.ours, "now b gets it");
	ok(store_claim(a, "K", 1, "run-a", 3, T0 + 2 + MJ_STORE_LEASE_MS,
	    &c) == STORE_OK && !c.ours, "at the lease's last ms: still b's");
	ok(store_claim(a, "K", 1, "run-a", 3, T0 + 3 + MJ_STORE_LEASE_MS,
	    &c) == STORE_OK && c.ours, "expired: a takes it over");
	ok(store_claim(a, "K2", 2, "not-yet-made", 0, T0, &c) == STORE_OK &&
	    c.ours, "a claim may come before its run's row (the keeper makes "
	    "rows a moment later)");

	/* Looking without claiming (a lane, before a call it makes). */
	ok(store_claim_peek(b, "K3", 2, T0, &c) == STORE_ERR_NOTFOUND &&
	    !c.ours && c.run_id[0] == '\0', "peek at a free key: none");
	ok(store_claim(a, "K3", 2, "run-a", 7, T0, &c) == STORE_OK && c.ours,
	    "a claims K3");
	ok(store_claim_peek(b, "K3", 2, T0 + 1, &c) == STORE_OK && !c.ours &&
	    strcmp(c.run_id, "run-a") == 0 && c.job == 7,
	    "b peeks: a has it (run-a, job 7)");
	ok(store_claim_peek(a, "K3", 2, T0 + 1, &c) == STORE_ERR_NOTFOUND,
	    "a peeks at its own claim: none of another holder");
	ok(store_claim_peek(b, "K3", 2, T0 + MJ_STORE_LEASE_MS, &c) ==
	    STORE_ERR_NOTFOUND, "b peeks once a's lease has lapsed: none");
	ok(store_claim(b, "K3", 2, "run-b", 0, T0 + 2, &c) == STORE_OK &&
	    !c.ours, "... peeking took nothing: a still has it");
	ok(store_claim_peek(b, "", 0, T0, &c) == STORE_ERR_ARG,
	    "peek with no key: STORE_ERR_ARG");
	store_close(a);
	store_close(b);
}

static void
test_outbox(void)
{
	struct store	*a, *b;
	struct store_msg m1 = { "m1", "run-o", "one", 3, T0 };
	struct store_msg m2 = { "m2", "run-o", "two", 3, T0 + 1000 };
	struct store_msg m3 = { "m3", "run-o", "three", 5, T0 + 10 };
	struct store_outmsg x = { 0 }, y = { 0 };
	int64_t		 t3;

	a = open_or_die("outbox.db", "ha");
	b = open_or_die("outbox.db", "hb");
	new_run(a, "run-o", "alice", T0);
	ok(store_outbox_add(a, &m1, T0) == STORE_OK &&
	    store_outbox_add(b, &m2, T0) == STORE_OK,
	    "two messages, due at T0 and T0 + 1 s");
	ok(store_outbox_add(a, &m1, T0) == STORE_ERR_EXISTS,
	    "the same id again: STORE_ERR_EXISTS");
	ok(store_outbox_claim(a, T0, &x) == STORE_OK &&
	    strcmp(x.id, "m1") == 0 && x.len == 3 &&
	    memcmp(x.body, "one", 3) == 0 &&
	    x.lease_until_ms == T0 + MJ_STORE_OUTBOX_LEASE_MS,
	    "a claims the due one (m1)");
	ok(store_outbox_claim(b, T0, &y) == STORE_ERR_NOTFOUND &&
	    y.id == NULL, "b at the same time: nothing (m1 is a's, m2 not due)");
	ok(store_outbox_claim(b, T0 + 1000, &y) == STORE_OK &&
	    strcmp(y.id, "m2") == 0, "b at T0 + 1 s: m2");
	ok(store_outbox_delivered(b, "m1", 200, T0) == STORE_ERR_LEASE,
	    "b can't mark a's m1: STORE_ERR_LEASE");
	ok(store_outbox_retry(a, "m1", 503, T0 + 5000, T0 + 1) == STORE_OK,
	    "a: m1 failed (503), retry from T0 + 5 s");
	ok(store_outbox_get(b, "m1", &y) == STORE_OK &&
	    y.state == STORE_MSG_PENDING && y.attempts == 1 &&
	    y.last_status == 503 && y.next_ms == T0 + 5000 &&
	    y.lease_until_ms == 0, "... pending, 1 attempt, 503, released");
	ok(store_outbox_claim(b, T0 + 2000, &y) == STORE_ERR_NOTFOUND,
	    "b at T0 + 2 s: nothing due");
	ok(store_outbox_claim(b, T0 + 5000, &y) == STORE_OK &&
	    strcmp(y.id, "m1") == 0 && y.attempts == 1,
	    "b at T0 + 5 s: m1 again, with its attempt count");
	ok(store_outbox_dead(b, "m1", 500, T0 + 5001) == STORE_OK &&
	    store_outbox_get(a, "m1", &y) == STORE_OK &&
	    y.state == STORE_MSG_DEAD && y.attempts == 2,
	    "b gives m1 up: dead after 2 attempts");
	ok(store_outbox_retry(b, "m1", 500, T0, T0) == STORE_ERR_LEASE,
	    "a dead message can't be retried");
	ok(store_outbox_delivered(a, "m2", 200, T0) == STORE_ERR_LEASE &&
	    store_outbox_delivered(b, "m2", 204, T0 + 1001) == STORE_OK &&
	    store_outbox_get(a, "m2", &y) == STORE_OK &&
	    y.state == STORE_MSG_DELIVERED && y.last_status == 204 &&
	    y.attempts == 0, "b delivers m2 (a couldn't mark it)");
	ok(store_outbox_claim(a, T0 + 999999, &x) == STORE_ERR_NOTFOUND,
	    "nothing pending is left");
	ok(store_outbox_add(a, &m3, T0) == STORE_OK &&
	    store_outbox_claim(a, T0 + 10, &x) == STORE_OK &&
	    strcmp(x.id, "m3") == 0, "a claims m3 and dies");
	t3 = T0 + 10 + MJ_STORE_OUTBOX_LEASE_MS;
	ok(store_outbox_claim(b, t3 - 1, &y) == STORE_ERR_NOTFOUND &&
	    store_outbox_claim(b, t3, &y) == STORE_OK &&
	    strcmp(y.id, "m3") == 0, "b gets m3 once a's lease ended");
	ok(store_outbox_delivered(a, "m3", 200, t3) == STORE_ERR_LEASE &&
	    store_outbox_delivered(b, "m3", 200, t3) == STORE_OK,
	    "... a's late report is refused, b's taken");
	ok(store_outbox_delivered(b, "nope", 200, t3) == STORE_ERR_NOTFOUND,
	    "an unknown message: STORE_ERR_NOTFOUND");
	m3.id = "m4";
	m3.run_id = "no-such-run";
	ok(store_outbox_add(a, &m3, T0) == STORE_ERR_NOTFOUND,
	    "a message for a run that doesn't exist: STORE_ERR_NOTFOUND");
	store_outmsg_clear(&x);
	store_outmsg_clear(&y);
	store_outmsg_clear(&y);
	store_close(a);
	store_close(b);
}

/* ---- failures ---- */

static void
test_readonly(void)
{
	struct store_opts o = { .readonly = 1 };
	struct store_opts o1 = { .readonly = 1, .max_version = 1 };
	struct store	*st, *ro = NULL;
	struct store_run r = { 0 };
	struct store_run_new n = { .id = "ro-2", .owner = "alice" };
	struct seen	*s;
	enum store_status rc;
	char		 err[256];

	st = open_or_die("ro.db", "h1");
	new_run(st, "ro-1", "alice", T0);
	ok(tokens(st, "ro-1", 1, 3, T0) == STORE_OK, "a run with 3 frames");
	store_close(st);
	ok(store_open_opts(path("ro.db"), "h1", &o, &ro, err, sizeof(err)) ==
	    STORE_OK, "opened read-only");
	ok(store_run_create(ro, &n, T0) == STORE_ERR_READONLY,
	    "creating a run: STORE_ERR_READONLY (%s)", store_errmsg(ro));
	ok(tokens(ro, "ro-1", 4, 1, T0) == STORE_ERR_READONLY &&
	    store_cache_put(ro, "k", 1, "a", 1, 5, T0) == STORE_ERR_READONLY,
	    "appending, caching: STORE_ERR_READONLY");
	ok(store_run_get(ro, "ro-1", 0, &r) == STORE_OK && r.last_id == 3,
	    "... the run is still readable");
	s = frames(ro, "ro-1", 0, 10, &rc);
	ok(rc == STORE_OK && s->n == 3, "... and its frames");
	store_close(ro);
	ok(store_open_opts(path("ro.db"), "h1", &o1, &ro, err, sizeof(err)) ==
	    STORE_ERR_SCHEMA && ro == NULL,
	    "read-only at another version than expected: STORE_ERR_SCHEMA");
	ok(store_open_opts(path("nonexistent.db"), "h1", &o, &ro, err,
	    sizeof(err)) != STORE_OK && ro == NULL &&
	    access(path("nonexistent.db"), F_OK) != 0,
	    "read-only open of a missing file fails and creates nothing");
	store_run_clear(&r);
}

/*
 * A file this process may not write (its mode 0444, and, as root, in a
 * child that dropped to nobody, since root writes anyway): in a
 * directory it may write, the store opens and reads, and every write is
 * STORE_ERR_READONLY; in one it may not (no WAL index can be made),
 * the open itself fails with STORE_ERR_READONLY.
 */
static void
test_readonly_file(void)
{
	struct store	*st;
	char		 sub[2][128];
	pid_t		 pid;
	int		 i, status = -1, code;

	for (i = 0; i < 2; i++) {
		snprintf(sub[i], sizeof(sub[i]), "%s/ro%d", dir, i);
		if (mkdir(sub[i], 0755) != 0)
			abort();
		st = open_or_die(i == 0 ? "ro0/a.db" : "ro1/a.db", "h1");
		new_run(st, "ro-run", "alice", T0);
		store_close(st);
		if (chmod(path(i == 0 ? "ro0/a.db" : "ro1/a.db"), 0444) != 0)
			abort();
	}
	/* Others may pass through dir, and write in ro0 (not in ro1). */
	if (chmod(dir, 0711) != 0 || chmod(sub[0], 01777) != 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		struct store_run r = { 0 };
		struct store_run_new n = { .id = "ro-new", .owner = "bob" };
		enum store_status rc;

		if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(100);
		code = 0;
		/* The holder of ro-run: its append would write. */
		if (store_open(path("ro0/a.db"), "h1", &st, NULL, 0) !=
		    STORE_OK)
			_exit(1);
		if (store_run_get(st, "ro-run", 0, &r) != STORE_OK)
			code |= 2;
		if (store_run_create(st, &n, T0) != STORE_ERR_READONLY)
			code |= 4;
		if (tokens(st, "ro-run", 1, 1, T0) != STORE_ERR_READONLY)
			code |= 8;
		if (store_run_get(st, "ro-run", 0, &r) != STORE_OK ||
		    r.last_id != 0)
			code |= 16;
		store_run_clear(&r);
		store_close(st);
		rc = store_open(path("ro1/a.db"), "h2", &st, NULL, 0);
		if (rc != STORE_ERR_READONLY || st != NULL)
			code |= 32;
		store_close(st);
		_exit(code);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		status = -1;
	code = status == -1 ? -1 : WEXITSTATUS(status);
	if (code == 100) {
		ok(1, "# SKIP cannot drop root to test a read-only file");
	} else {
		ok(code >= 0 && code != 1, "a process that may not write the "
		    "file opens it (%d)", code);
		ok(code == 0, "... reads it, and every write is "
		    "STORE_ERR_READONLY with nothing changed; with no "
		    "directory to write in, the open is (%d)", code);
	}
	chmod(dir, 0700);
}

struct busy {
	struct store	*other;
	enum store_status rc;
	long long	 ms;
};

/* Inside a's write transaction, b tries to write. */
static int
busy_msg(void *arg, const struct store_run *r, struct store_msg *m)
{
	struct busy	*b = arg;
	struct store_run_new n = { .id = "busy-b", .owner = "bob" };
	long long	 t0 = clock_ms();

	(void)r;
	(void)m;
	b->rc = store_run_create(b->other, &n, T0);
	b->ms = clock_ms() - t0;
	return 0;
}

static void
test_busy(void)
{
	struct store_opts o = { .busy_ms = 100 };
	struct store	*a, *b;
	struct store_run r = { 0 };
	struct busy	 bz = { 0 };
	size_t		 n = 0;

	a = open_or_die("busy.db", "ha");
	if (store_open_opts(path("busy.db"), "hb", &o, &b, NULL, 0) !=
	    STORE_OK)
		abort();
	new_run(a, "busy-a", "alice", T0);
	bz.other = b;
	ok(store_reap(a, T0 + MJ_STORE_LEASE_MS + 1, busy_msg, &bz, &n) ==
	    STORE_OK && n == 1, "a reaps a run, holding the write lock");
	ok(bz.rc == STORE_ERR_BUSY && bz.ms >= 90 && bz.ms < 3000,
	    "... b's write meanwhile: STORE_ERR_BUSY after its %lld ms "
	    "(%s)", bz.ms, store_strerror(bz.rc));
	ok(store_run_get(b, "busy-b", 0, &r) == STORE_ERR_NOTFOUND &&
	    store_run_get(b, "busy-a", 0, &r) == STORE_OK &&
	    r.state == RL_INTERRUPTED, "... b stored nothing; a's reap stands");
	new_run(b, "busy-b", "bob", T0);
	ok(1, "... and b writes once the lock is free");
	store_run_clear(&r);
	store_close(a);
	store_close(b);
}

/*
 * The gate: a no-wait connection (a lane's) that finds the lock taken is
 * counted as waiting until it gets the lock or closes; the long writer
 * sees it (store_gate_wanted) and store_gate_yield() waits for it, at
 * most its max.
 */
static void
test_gate(void)
{
	struct store_gate g;
	struct store_opts lo = { .no_wait = 1 }, ko = { 0 };
	struct store	*lane, *kp, *other;
	long long	 t0, ms;

	memset(&g, 0, sizeof(g));
	lo.gate = ko.gate = &g;
	if (store_open_opts(path("gate.db"), "hg", &ko, &kp, NULL, 0) !=
	    STORE_OK || store_open_opts(path("gate.db"), "hg", &lo, &lane,
	    NULL, 0) != STORE_OK)
		abort();
	other = open_or_die("gate.db", "hx");
	ok(!store_gate_wanted(kp) && store_batch_begin(kp) == STORE_OK,
	    "gate: nobody waits; the keeper's batch takes the lock");
	t0 = clock_ms();
	ok(store_batch_begin(lane) == STORE_ERR_BUSY &&
	    atomic_load(&g.want) == 1 && store_gate_wanted(kp) &&
	    clock_ms() - t0 < 1000,
	    "... a lane's batch: STORE_ERR_BUSY at once, counted as waiting");
	ok(store_batch_begin(lane) == STORE_ERR_BUSY &&
	    atomic_load(&g.want) == 1, "... trying again counts it once");
	t0 = clock_ms();
	store_gate_yield(kp, 30);
	ms = clock_ms() - t0;
	ok(ms >= 29 && atomic_load(&g.want) == 1,
	    "... the keeper yields its max (%lld ms) while the lane waits", ms);
	ok(store_batch_end(kp) == STORE_OK &&
	    store_batch_begin(lane) == STORE_OK &&
	    atomic_load(&g.want) == 0 && !store_gate_wanted(kp),
	    "... once the keeper commits, the lane gets the lock: none waits");
	t0 = clock_ms();
	store_gate_yield(kp, 5000);
	ok(clock_ms() - t0 < 1000, "... and a yield returns at once");
	ok(store_batch_end(lane) == STORE_OK, "... the lane commits");
	ok(!store_gate_wanted(other), "a connection without the gate: "
	    "never sees waiters");
	ok(store_batch_begin(other) == STORE_OK &&
	    store_batch_begin(lane) == STORE_ERR_BUSY &&
	    atomic_load(&g.want) == 1,
	    "another process's lock held: the lane waits again");
	store_gate_leave(lane);
	ok(atomic_load(&g.want) == 0 && !store_gate_wanted(kp),
	    "... until it gives up (store_gate_leave)");
	ok(store_batch_begin(lane) == STORE_ERR_BUSY &&
	    atomic_load(&g.want) == 1, "... and waits once it tries again");
	store_close(lane);
	ok(atomic_load(&g.want) == 0, "... closing it stops its waiting");
	ok(store_batch_end(other) == STORE_OK, "... the other commits");
	store_close(kp);
	store_close(other);
}

static void
test_fork(void)
{
	struct store	*st;
	struct store_run r = { 0 };
	pid_t		 pid;
	int		 status = -1;

	st = open_or_die("fork.db", "h1");
	new_run(st, "fork-1", "alice", T0);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		struct store_run cr = { 0 };
		int code = 0;

		if (store_run_get(st, "fork-1", 0, &cr) != STORE_ERR_FORK)
			code |= 1;
		if (tokens(st, "fork-1", 1, 1, T0) != STORE_ERR_FORK)
			code |= 2;
		store_close(st);	/* leaves the parent's connection */
		_exit(code);
	}
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "in a forked child every call gives STORE_ERR_FORK (%d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ok(tokens(st, "fork-1", 1, 1, T0) == STORE_OK &&
	    store_run_get(st, "fork-1", 0, &r) == STORE_OK && r.last_id == 1 &&
	    store_check(st, NULL, 0) == STORE_OK,
	    "... and the parent's connection still works");
	store_run_clear(&r);
	store_close(st);
}

#define FULL_FRAME	(16 * 1024)

/* A child fills the store under RLIMIT_FSIZE; what it reports. */
struct full_report {
	int		 rc;		/* the failing append's status */
	uint64_t	 committed;	/* frames stored before it */
	char		 msg[200];	/* its message */
};

__attribute__((noreturn))
static void
full_child(int fd)
{
	static char	 data[FULL_FRAME + 1];
	struct full_report rep = { -1, 0, "" };
	struct rl_frame	 f[4];
	struct store	*st;
	struct rlimit	 rl;
	struct stat	 sb;
	enum store_status rc = STORE_OK;
	int		 i, batch;

	memset(&rep, 0, sizeof(rep));	/* padding too: it is written out */
	rep.rc = -1;
	signal(SIGXFSZ, SIG_IGN);
	if (store_open(path("full.db"), "hf", &st, NULL, 0) != STORE_OK)
		_exit(20);
	new_run(st, "run-full", "alice", T0);
	if (stat(path("full.db"), &sb) != 0)
		_exit(21);
	/* The file may grow by 1 MiB (the WAL starts empty). */
	rl.rlim_cur = rl.rlim_max = (rlim_t)sb.st_size + 1024 * 1024;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(22);
	for (i = 0; i < FULL_FRAME; i++)
		data[i] = 'a' + i % 26;
	for (batch = 0; batch < 1000 && rc == STORE_OK; batch++) {
		for (i = 0; i < 4; i++) {
			f[i].id = rep.committed + 1 + (uint64_t)i;
			f[i].type = "token";
			f[i].data = data;
			f[i].len = FULL_FRAME;
		}
		rc = store_append(st, "run-full", f, 4, NULL, T0);
		if (rc == STORE_OK)
			rep.committed += 4;
	}
	rep.rc = rc;
	snprintf(rep.msg, sizeof(rep.msg), "%s", store_errmsg(st));
	if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(23);
	store_close(st);
	_exit(0);
}

static int
full_see(void *arg, const struct rl_frame *f)
{
	size_t	*good = arg;
	size_t	 i;

	if (f->len != FULL_FRAME)
		return 1;
	for (i = 0; i < FULL_FRAME; i += 997)
		if (f->data[i] != 'a' + (char)(i % 26))
			return 1;
	(*good)++;
	return 0;
}

static void
test_full(void)
{
	struct full_report rep = { -1, 0, "" };
	struct store	*st;
	struct store_run r = { 0 };
	enum store_status rc;
	size_t		 good = 0, n, got = 0;
	uint64_t	 after = 0;
	pid_t		 pid;
	int		 p[2], status = -1;
	char		 err[256];

	st = open_or_die("full.db", "hf");
	store_close(st);
	if (pipe(p) != 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(p[0]);
		full_child(p[1]);
	}
	close(p[1]);
	if (read(p[0], &rep, sizeof(rep)) != sizeof(rep))
		rep.rc = -2;
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && rep.rc ==
	    STORE_ERR_FULL && rep.committed > 0,
	    "a child with RLIMIT_FSIZE: appends fail with STORE_ERR_FULL "
	    "after %llu frames (%s)", (unsigned long long)rep.committed,
	    rep.rc >= 0 ? rep.msg : "no report");
	st = open_or_die("full.db", "hf");
	ok(store_check(st, err, sizeof(err)) == STORE_OK,
	    "reopened: integrity_check ok %s", err);
	rc = store_run_get(st, "run-full", 0, &r);
	ok(rc == STORE_OK && r.last_id == rep.committed,
	    "... the run's last_id is the last frame committed (%llu)",
	    (unsigned long long)r.last_id);
	do {
		n = 0;
		if (store_frames(st, "run-full", after, 1000, full_see, &good,
		    &n) != STORE_OK)
			break;
		after += n;
		got += n;
	} while (n > 0 && got < 100000);
	ok(got == rep.committed && good == got,
	    "... every committed frame is there, its bytes intact (%zu)",
	    good);
	ok(tokens(st, "run-full", rep.committed + 1, 2, T0) == STORE_OK,
	    "... and the store takes writes again");
	store_run_clear(&r);
	store_close(st);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mj-store.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_open();
	test_migrate();
	test_newer();
	test_concurrent_open();
	test_two_connections();
	test_frames_alone();
	test_frames();
	test_batch();
	test_list();
	test_delete();
	test_leases();
	test_whole();
	test_final();
	test_cache();
	test_claims();
	test_outbox();
	test_readonly();
	test_readonly_file();
	test_busy();
	test_gate();
	test_fork();
	test_full();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
